package limiter_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rustci/rustci-perf/internal/redistest"
	"github.com/rustci/rustci-perf/internal/wait"
	"github.com/rustci/rustci-perf/pkg/harness"
	"github.com/rustci/rustci-perf/pkg/limiter"
	"github.com/rustci/rustci-perf/pkg/redisconn"
)

// newRedis connects a limiter to the Redis at addr. Calls may take timeout
// (0: 2s, for a machine running every package's tests at once).
func newRedis(t *testing.T, addr string, timeout time.Duration, o limiter.RedisOptions, ps ...limiter.Policy) *limiter.Redis {
	t.Helper()
	if timeout == 0 {
		timeout = 2 * time.Second
	}
	c, _, err := redisconn.New(redisconn.Config{URL: "redis://" + addr, Timeout: timeout, PoolSize: 16})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	l, err := limiter.NewRedis(c, o, ps...)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// hammer has workers check key under policy for d and returns how many
// were allowed, with bounds on the time between the first and last
// decision (see harness.Result).
func hammer(t *testing.T, ls []limiter.Limiter, policy, key string, workers int, d time.Duration) (allowed int64, res *harness.Result) {
	t.Helper()
	var n atomic.Int64
	res, err := harness.Run(context.Background(), harness.Config{Workers: workers, Duration: d}, func(w int) harness.Op {
		l := ls[w%len(ls)]
		return func(int) (harness.Kind, error) {
			r, err := l.AllowN(context.Background(), policy, key, 1)
			n.Add(int64(r.Allowed))
			return 0, err
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors != 0 {
		t.Fatalf("%d checks returned errors; first: %v", res.Errors, res.FirstError)
	}
	return n.Load(), res
}

// within checks that allowed is what GCRA admits: burst + rate x elapsed,
// the elapsed time bounded by res, one admission of slack each way.
func within(t *testing.T, p limiter.Policy, allowed int64, res *harness.Result) {
	t.Helper()
	e := p.Emission()
	lo := int64(p.Burst) + int64(res.Inner/e) - 1
	hi := int64(p.Burst) + int64(res.Duration/e) + 1
	if allowed < lo || allowed > hi {
		t.Errorf("admitted %d; GCRA admits %d to %d (burst %d + %s..%s at one per %s)", allowed, lo, hi, p.Burst, res.Inner, res.Duration, e)
	}
}

var hundredPerSec = limiter.Policy{Name: "p", Rate: 100, Burst: 20, Period: time.Second}

func TestRedisAdmissionCounts(t *testing.T) {
	srv := redistest.Start(t)
	l := newRedis(t, srv.Addr, 0, limiter.RedisOptions{}, hundredPerSec)
	allowed, res := hammer(t, []limiter.Limiter{l}, "p", "k", 8, 500*time.Millisecond)
	within(t, hundredPerSec, allowed, res)
	if st := l.Stats()["p"]; st.Fallback != 0 || st.RedisErrors != 0 || int64(st.Allowed) != allowed {
		t.Errorf("stats %+v; want every decision from Redis, %d allowed", st, allowed)
	}
}

// TestTwoInstancesShareTheLimit: two limiters with their own clients on one
// Redis admit, together, what one limit admits.
func TestTwoInstancesShareTheLimit(t *testing.T) {
	srv := redistest.Start(t)
	a := newRedis(t, srv.Addr, 0, limiter.RedisOptions{}, hundredPerSec)
	b := newRedis(t, srv.Addr, 0, limiter.RedisOptions{}, hundredPerSec)
	allowed, res := hammer(t, []limiter.Limiter{a, b}, "p", "shared", 8, 500*time.Millisecond)
	within(t, hundredPerSec, allowed, res)
	if sa, sb := a.Stats()["p"].Allowed, b.Stats()["p"].Allowed; sa == 0 || sb == 0 {
		t.Errorf("allowed by a %d, by b %d: want both to have taken part", sa, sb)
	}
}

// TestRedisDiesAndComesBack: checks never fail while Redis is down; the
// fallback decides and is counted, the breaker opens; after a restart the
// decisions go back to Redis within the backoff.
func TestRedisDiesAndComesBack(t *testing.T) {
	srv := redistest.Start(t)
	l := newRedis(t, srv.Addr, 0, limiter.RedisOptions{BreakerBackoff: 100 * time.Millisecond}, hundredPerSec)
	// Checks fail the test if any returns an error, Redis up or down.
	stop := wait.Background(t, 4, func(_, i int) error {
		_, err := l.Allow(context.Background(), "p", fmt.Sprint("k", i%10))
		return err
	})
	waitFor := func(what string, cond func() bool) { t.Helper(); wait.Until(t, 10*time.Second, what, cond) }
	st := func() limiter.PolicyStats { return l.Stats()["p"] }
	waitFor("decisions from Redis", func() bool { return st().Allowed+st().Denied > 200 })
	srv.Stop()
	waitFor("the breaker to open", func() bool { return l.Degraded() })
	fb := st().Fallback
	waitFor("the fallback to decide", func() bool { return st().Fallback > fb+1000 })
	srv.Restart()
	waitFor("the breaker to close", func() bool { return !l.Degraded() })
	fb = st().Fallback
	decided := st().Allowed + st().Denied
	waitFor("decisions from Redis again", func() bool { return st().Allowed+st().Denied > decided+200 })
	stop()
	if got := st().Fallback - fb; got > 10 {
		t.Errorf("%d fallback decisions after the breaker closed; want (almost) none", got)
	}
	if s := st(); s.RedisErrors == 0 || l.Switches() == 0 || l.Transitions() < 2 {
		t.Errorf("errors %d, switches %d, transitions %d; want all counted", s.RedisErrors, l.Switches(), l.Transitions())
	}
}

// TestDeadRedisCostsTheTimeout: a Redis that accepts connections and never
// answers costs a check the timeout at most (and a margin for a loaded
// machine), and after the breaker opens, nothing like it.
func TestDeadRedisCostsTheTimeout(t *testing.T) {
	const timeout = redistest.DeadTimeout
	l := newRedis(t, redistest.Silent(t), timeout, limiter.RedisOptions{BreakerFailures: 3, BreakerBackoff: time.Hour}, hundredPerSec)
	for i := 0; i < 3; i++ {
		start := time.Now()
		r, err := l.Allow(context.Background(), "p", "k")
		if err != nil || r.Allowed != 1 {
			t.Fatalf("check %d = %+v, %v; want allowed by the fallback", i, r, err)
		}
		if d := time.Since(start); d > redistest.CallBound(timeout) {
			t.Errorf("check %d took %s; want the %s timeout at most (bound %s)", i, d, timeout, redistest.CallBound(timeout))
		}
	}
	if !l.Degraded() {
		t.Fatal("breaker closed after 3 timeouts")
	}
	start := time.Now()
	for i := 0; i < 1000; i++ {
		if _, err := l.Allow(context.Background(), "p", "k"); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d > timeout {
		t.Errorf("1000 checks with the breaker open took %s; want far less than one timeout (%s)", d, timeout)
	}
	if st := l.Stats()["p"]; st.Timeouts != 3 || st.Fallback != 1003 {
		t.Errorf("stats %+v; want 3 timeouts, 1003 fallback decisions", st)
	}
}

func TestFailureModes(t *testing.T) {
	addr := redistest.Refused(t)
	mk := func(mode string, share float64) limiter.Limiter {
		clock := func() time.Duration { return time.Hour } // fallback time stands still
		p := limiter.Policy{Name: "p", Rate: 10, Burst: 10, Period: time.Second, OnFailure: mode}
		return newRedis(t, addr, 0, limiter.RedisOptions{FallbackShare: share, Clock: clock}, p)
	}
	count := func(l limiter.Limiter) (n int) {
		for i := 0; i < 20; i++ {
			r, err := l.AllowN(context.Background(), "p", "k", 1)
			if err != nil {
				t.Fatal(err)
			}
			n += r.Allowed
		}
		return n
	}
	tests := []struct {
		mode  string
		share float64
		want  int
	}{
		{"", 1, 10},                // fallback: the burst, from memory
		{limiter.Fallback, 0.5, 5}, // at half share: half the burst
		{limiter.FailOpen, 1, 20},  // everything
		{limiter.FailClosed, 1, 0}, // nothing
	}
	for _, tt := range tests {
		if got := count(mk(tt.mode, tt.share)); got != tt.want {
			t.Errorf("mode %q share %g: %d of 20 allowed with Redis down; want %d", tt.mode, tt.share, got, tt.want)
		}
	}
	bad := limiter.Policy{Name: "x", Rate: 1, Burst: 1, Period: time.Second, OnFailure: "retry"}
	if err := mk("", 1).SetPolicy(bad); err == nil {
		t.Error("an unknown failure mode was accepted")
	}
	if _, err := limiter.NewRedis(nil, limiter.RedisOptions{FallbackShare: 1.5}); err == nil {
		t.Error("fallback share 1.5 accepted")
	}
}

// TestRedisPoliciesChangeWhileChecking: under -race, policies replaced and
// removed while checks run; checks fail only with ErrUnknownPolicy.
func TestRedisPoliciesChangeWhileChecking(t *testing.T) {
	srv := redistest.Start(t)
	l := newRedis(t, srv.Addr, 0, limiter.RedisOptions{}, hundredPerSec)
	var checks atomic.Int64
	stop := wait.Background(t, 4, func(_, i int) error {
		checks.Add(1)
		if _, err := l.Allow(context.Background(), "p", fmt.Sprint(i%8)); err != nil && !errors.Is(err, limiter.ErrUnknownPolicy) {
			return err
		}
		return nil
	})
	for i := 0; checks.Load() < 2000; i++ {
		switch i % 3 {
		case 0:
			_ = l.SetPolicy(limiter.Policy{Name: "p", Rate: 10 + i%100, Burst: 5, Period: time.Second})
		case 1:
			l.RemovePolicy("p")
		case 2:
			_ = l.SetPolicy(hundredPerSec)
		}
	}
	stop()
}

// TestRedisClusterAdmission runs the admission count against a real
// three-master Redis Cluster: each key's GCRA lives on its slot's master.
func TestRedisClusterAdmission(t *testing.T) {
	cl := redistest.StartCluster(t, 3)
	c, _, err := redisconn.New(redisconn.Config{URL: cl.URL(), Timeout: 2 * time.Second, PoolSize: 16})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	l, err := limiter.NewRedis(c, limiter.RedisOptions{}, hundredPerSec)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"a", "b", "c", "d"} { // spread over slots
		allowed, res := hammer(t, []limiter.Limiter{l}, "p", key, 4, 200*time.Millisecond)
		within(t, hundredPerSec, allowed, res)
	}
	if st := l.Stats()["p"]; st.Fallback != 0 || st.RedisErrors != 0 {
		t.Errorf("stats %+v; want every decision from the cluster", st)
	}
}
