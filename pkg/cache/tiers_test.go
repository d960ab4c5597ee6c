package cache

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rustci/rustci-perf/pkg/redisconn"

	"github.com/rustci/rustci-perf/internal/redistest"
	"github.com/rustci/rustci-perf/internal/wait"
)

// newL2 connects to url. Unless cfg says otherwise, calls may take 2s: the
// product's 50ms is tight for a machine running the race detector on
// every package at once, and only the timeout tests are about timeouts.
func newL2(t *testing.T, url string, cfg L2Config) *L2 {
	t.Helper()
	cfg.URL = url
	if cfg.Timeout == 0 {
		cfg.Timeout = 2 * time.Second
	}
	if cfg.Prefix == "" {
		cfg.Prefix = "test:" + t.Name() + ":"
	}
	l2, err := NewL2(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return l2
}

func newL3(t *testing.T, dir string) *L3 {
	t.Helper()
	l3, err := NewL3(L3Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return l3
}

// stack is L1 + L2 on the server at url + L3 in a temporary directory.
func stack(t *testing.T, url string, opts Options) (*Manager, *L1, *L2, *L3) {
	t.Helper()
	l1, l2, l3 := newL1(t), newL2(t, url, L2Config{}), newL3(t, "")
	m, err := New(opts, l1, l2, l3)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m, l1, l2, l3
}

func TestThreeTiersReadThroughAndPromote(t *testing.T) {
	srv := redistest.Start(t)
	var mu sync.Mutex
	observed := map[string]int{}
	m, l1, l2, l3 := stack(t, srv.URL(), Options{Observe: func(tier string, d time.Duration, err error) {
		mu.Lock()
		defer mu.Unlock()
		if d > 0 && err == nil {
			observed[tier]++
		}
	}})
	ctx := context.Background()

	// Only L3 has the item: a Get finds it there and promotes it into L2
	// and L1 with the time it has left.
	if err := l3.Set(ctx, "k", []byte("v3"), time.Hour); err != nil {
		t.Fatal(err)
	}
	got, ok, err := m.Get(ctx, "k")
	if err != nil || !ok || string(got) != "v3" {
		t.Fatalf("Get = %q, %t, %v; want v3 from L3", got, ok, err)
	}
	m.Wait()
	if it, ok, _ := l2.Get(ctx, "k"); !ok || string(it.Value) != "v3" || it.TTL <= 59*time.Minute || it.TTL > time.Hour {
		t.Errorf("L2 after promotion = %+v, %t; want v3 with about 1h left", it, ok)
	}
	if it, ok, _ := l1.Get(ctx, "k"); !ok || string(it.Value) != "v3" {
		t.Errorf("L1 after promotion = %+v, %t; want v3", it, ok)
	}
	st := m.Stats()
	if st[2].Hits != 1 || st[1].Misses != 1 || st[1].Promotions != 1 || st[0].Promotions != 1 {
		t.Errorf("stats: l3 hits %d, l2 misses %d, promotions l2 %d l1 %d; want 1 each", st[2].Hits, st[1].Misses, st[1].Promotions, st[0].Promotions)
	}
	mu.Lock()
	if observed["l2"] == 0 || observed["l3"] == 0 || observed["l1"] != 0 {
		t.Errorf("observed calls %v; want l2's and l3's, not l1's (in process: not timed)", observed)
	}
	mu.Unlock()

	// Write-through and delete everywhere.
	if err := m.Set(ctx, "w", []byte("all"), time.Hour); err != nil {
		t.Fatal(err)
	}
	m.Wait()
	for _, tier := range []Tier{l1, l2, l3} {
		if it, ok, err := tier.Get(ctx, "w"); !ok || err != nil || string(it.Value) != "all" {
			t.Errorf("%s after Set = %q, %t, %v; want all", tier.Name(), it.Value, ok, err)
		}
	}
	if err := m.Delete(ctx, "w"); err != nil {
		t.Fatal(err)
	}
	for _, tier := range []Tier{l1, l2, l3} {
		if _, ok, _ := tier.Get(ctx, "w"); ok {
			t.Errorf("%s still holds a deleted key", tier.Name())
		}
	}
}

func TestTTLInEveryTier(t *testing.T) {
	srv := redistest.Start(t)
	_, l1, l2, l3 := stack(t, srv.URL(), Options{})
	ctx := context.Background()
	for _, tier := range []Tier{l1, l2, l3} {
		if err := tier.Set(ctx, "short", []byte("v"), 30*time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
	l1.Wait()
	// Wait, with a deadline, until no tier serves the item any more.
	for _, tier := range []Tier{l1, l2, l3} {
		wait.Until(t, 5*time.Second, tier.Name()+" to stop serving an item with a 30ms TTL", func() bool {
			_, ok, err := tier.Get(ctx, "short")
			if err != nil {
				t.Fatal(err)
			}
			return !ok
		})
	}
}

func TestL3ExpiryOnAFakeClock(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	l3, err := NewL3(L3Config{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer l3.Close()
	ctx := context.Background()
	l3.Set(ctx, "k", []byte("v"), time.Minute)
	now = now.Add(59 * time.Second)
	if it, ok, _ := l3.Get(ctx, "k"); !ok || it.TTL != time.Second {
		t.Errorf("at 59s: %+v, %t; want served with 1s left", it, ok)
	}
	now = now.Add(time.Second)
	if _, ok, _ := l3.Get(ctx, "k"); ok {
		t.Error("at 60s: served; want expired")
	}
	now = now.Add(-time.Hour) // even if the clock goes back, the entry is gone
	if _, ok, _ := l3.Get(ctx, "k"); ok {
		t.Error("an expired entry was served again: it should have been deleted when read")
	}
}

func TestL3SurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	l3 := newL3(t, dir)
	for i := 0; i < 100; i++ {
		if err := l3.Set(ctx, fmt.Sprint("k", i), []byte(fmt.Sprint("v", i)), 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := l3.Close(); err != nil {
		t.Fatal(err)
	}
	l3 = newL3(t, dir)
	defer l3.Close()
	for i := 0; i < 100; i++ {
		it, ok, err := l3.Get(ctx, fmt.Sprint("k", i))
		if err != nil || !ok || string(it.Value) != fmt.Sprint("v", i) {
			t.Fatalf("after reopening, k%d = %q, %t, %v", i, it.Value, ok, err)
		}
	}
}

func TestSingleflightLoadsOnce(t *testing.T) {
	srv := redistest.Start(t)
	m, _, _, _ := stack(t, srv.URL(), Options{})
	release := make(chan struct{})
	var loads atomic.Int32
	load := func(context.Context) ([]byte, error) {
		loads.Add(1)
		<-release
		return []byte("loaded"), nil
	}
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := m.GetOrLoad(context.Background(), "hot", time.Minute, load)
			if err == nil && string(v) != "loaded" {
				err = fmt.Errorf("got %q", v)
			}
			errs <- err
		}()
	}
	// Release the load once it has started; the others are then either
	// waiting on it or will find the value in a tier.
	wait.Until(t, 5*time.Second, "the load to start", func() bool { return loads.Load() > 0 })
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := loads.Load(); n != 1 {
		t.Errorf("100 concurrent misses made %d loads; want 1", n)
	}
}

// TestInvalidationAcrossManagers: two processes' managers on one Redis. An
// overwrite or delete by one drops the key from the other's L1 within the
// publish latency, not the TTL.
func TestInvalidationAcrossManagers(t *testing.T) {
	srv := redistest.Start(t)
	prefix := "inv:"
	mk := func() (*Manager, *L1) {
		l1 := newL1(t)
		m, err := New(Options{Invalidate: true}, l1, newL2(t, srv.URL(), L2Config{Prefix: prefix}))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close() })
		return m, l1
	}
	a, _ := mk()
	ctx := context.Background()
	if err := a.Set(ctx, "k", []byte("old"), time.Hour); err != nil {
		t.Fatal(err)
	}
	// b subscribes after that write: its invalidation, delivered late,
	// would drop from b's L1 the item b is about to promote into it.
	b, bL1 := mk()
	if v, ok, _ := b.Get(ctx, "k"); !ok || string(v) != "old" {
		t.Fatalf("b reads %q, %t; want old (from L2)", v, ok)
	}
	b.Wait()
	if _, ok, _ := bL1.Get(ctx, "k"); !ok {
		t.Fatal("b's L1 did not get the promoted item")
	}
	start := time.Now()
	if err := a.Set(ctx, "k", []byte("new"), time.Hour); err != nil {
		t.Fatal(err)
	}
	for {
		v, ok, _ := b.Get(ctx, "k")
		if ok && string(v) == "new" {
			break
		}
		if time.Since(start) > 5*time.Second {
			t.Fatalf("b still reads %q 5s after a's overwrite; want new within the publish latency", v)
		}
		time.Sleep(time.Millisecond)
	}
	t.Logf("stale window after an overwrite: %s", time.Since(start))
	if err := a.Delete(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	wait.Until(t, 5*time.Second, "b to stop serving a key a deleted", func() bool {
		_, ok, _ := b.Get(ctx, "k")
		return !ok
	})
}

// TestRedisDiesAndComesBack kills redis-server in the middle of concurrent
// reads and writes: no operation fails while L1 and L3 can serve, errors are
// counted, the breaker opens; after a restart L2 is used again within the
// backoff.
func TestRedisDiesAndComesBack(t *testing.T) {
	srv := redistest.Start(t)
	m, _, _, _ := stack(t, srv.URL(), Options{BreakerBackoff: 100 * time.Millisecond})
	ctx := context.Background()
	// Writes and reads fail the test on any error or wrong value.
	var ops atomic.Int64
	stop := wait.Background(t, 4, func(w, i int) error {
		ops.Add(1)
		k := fmt.Sprintf("w%d:%d", w, i%100)
		if i%2 == 0 {
			return m.Set(ctx, k, []byte(k), time.Minute)
		}
		v, ok, err := m.Get(ctx, k)
		if err == nil && ok && !bytes.Equal(v, []byte(k)) {
			err = fmt.Errorf("read %q for %s", v, k)
		}
		return err
	})
	waitFor := func(what string, cond func() bool) { t.Helper(); wait.Until(t, 10*time.Second, what, cond) }
	l2 := func() TierStats { return m.Stats()[1] }
	waitFor("L2 in use", func() bool { return l2().Hits+l2().Sets > 100 })
	srv.Stop()
	waitFor("the L2 breaker to open", func() bool { return l2().Degraded })
	errsAtOpen := l2().Errors
	before := ops.Load()
	waitFor("operations to go on without L2", func() bool { return ops.Load() > before+1000 })
	srv.Restart()
	waitFor("the L2 breaker to close again", func() bool { return !l2().Degraded })
	sets := l2().Sets
	waitFor("L2 to take writes again", func() bool { return l2().Sets > sets+100 })
	stop()
	if errsAtOpen == 0 || l2().Skipped == 0 {
		t.Errorf("errors %d, skipped %d; want both counted", errsAtOpen, l2().Skipped)
	}
}

// TestDeadRedisCostsLittle: a Redis that refuses connections, or accepts
// them and never answers, costs each call the L2 timeout at most (not
// go-redis's default dial retries, 800ms when refused, or its 3s reads,
// nor twice the timeout), and once the breaker opens, nothing.
func TestDeadRedisCostsLittle(t *testing.T) {
	t.Run("refused", func(t *testing.T) { deadRedis(t, redistest.Refused(t)) })
	t.Run("silent", func(t *testing.T) { deadRedis(t, redistest.Silent(t)) })
}

func deadRedis(t *testing.T, addr string) {
	const timeout = redistest.DeadTimeout
	l2 := newL2(t, "redis://"+addr, L2Config{Config: redisconn.Config{Timeout: timeout}})
	m, err := New(Options{BreakerFailures: 3, BreakerBackoff: time.Hour}, newL1(t), l2)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx := context.Background()
	for i := 0; i < 6; i++ {
		start := time.Now()
		if err := m.Set(ctx, "k", []byte("v"), 0); err != nil {
			t.Fatalf("Set %d failed although L1 took it: %v", i, err)
		}
		if d := time.Since(start); d > redistest.CallBound(timeout) {
			t.Errorf("Set %d took %s against a dead Redis; want the %s timeout at most (bound %s)", i, d, timeout, redistest.CallBound(timeout))
		}
	}
	if st := m.Stats()[1]; !st.Degraded || st.Errors != 3 || st.Skipped != 3 {
		t.Errorf("l2 stats %+v; want degraded after 3 errors, then 3 skipped", st)
	}
}

// TestL2CallBound: every call of L2 to a Redis that accepts connections and
// never answers fails within its timeout. An L2 Get (GET and PTTL in one
// pipeline) and Set (SET and PUBLISH) took twice the timeout before the
// timeout bounded a call as a whole.
func TestL2CallBound(t *testing.T) {
	const timeout = redistest.DeadTimeout
	l2 := newL2(t, "redis://"+redistest.Silent(t), L2Config{Config: redisconn.Config{Timeout: timeout}})
	defer l2.Close()
	ctx := context.Background()
	for _, c := range []struct {
		name string
		do   func() error
	}{
		{"Get", func() error { _, _, err := l2.Get(ctx, "k"); return err }},
		{"GetValue", func() error { _, _, err := l2.GetValue(ctx, "k"); return err }},
		{"Set", func() error { return l2.Set(ctx, "k", []byte("v"), time.Minute) }},
		{"Delete", func() error { return l2.Delete(ctx, "k") }},
	} {
		start := time.Now()
		err := c.do()
		if d := time.Since(start); err == nil || d > redistest.CallBound(timeout) {
			t.Errorf("%s: %v after %s; want an error within the %s timeout (bound %s)", c.name, err, d, timeout, redistest.CallBound(timeout))
		}
	}
}

func TestL2URLs(t *testing.T) {
	tests := []struct {
		url, want string
	}{
		{"http://x", "want redis://"},
		{"redis://", "want redis://"},
		{"redis://:s3cret@127.0.0.1:1/notadb", "invalid"},
		{"::", "unparsable"},
	}
	for _, tt := range tests {
		_, err := NewL2(L2Config{Config: redisconn.Config{URL: tt.url}})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewL2(%q) error = %v; want %q", tt.url, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("NewL2(%q) error shows the password: %v", tt.url, err)
		}
	}
	l2, err := NewL2(L2Config{Config: redisconn.Config{URL: "redis://user:s3cret@127.0.0.1:1/2"}})
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	if strings.Contains(l2.String(), "s3cret") || !strings.Contains(l2.String(), "127.0.0.1:1/2") {
		t.Errorf("String() = %q; want the address without the password", l2.String())
	}
	if !errors.Is(l2.Set(context.Background(), "k", nil, -1), errNegativeTTL) {
		t.Error("negative TTL accepted")
	}
}

// TestClusterReadThrough runs the read-through, promotion, TTL and delete
// path against a real three-master Redis Cluster.
func TestClusterReadThrough(t *testing.T) {
	cl := redistest.StartCluster(t, 3)
	l1, l3 := newL1(t), newL3(t, "")
	l2 := newL2(t, cl.URL(), L2Config{})
	m, err := New(Options{Invalidate: true}, l1, l2, l3)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx := context.Background()
	// Enough keys to land on every master's slots.
	for i := 0; i < 300; i++ {
		k := fmt.Sprint("key", i)
		if err := l3.Set(ctx, k, []byte(k), time.Hour); err != nil {
			t.Fatal(err)
		}
		if v, ok, err := m.Get(ctx, k); err != nil || !ok || string(v) != k {
			t.Fatalf("Get(%s) = %q, %t, %v", k, v, ok, err)
		}
	}
	for i := 0; i < 300; i++ {
		k := fmt.Sprint("key", i)
		it, ok, err := l2.Get(ctx, k)
		if err != nil || !ok || string(it.Value) != k || it.TTL <= 59*time.Minute {
			t.Fatalf("cluster L2 after promotion: %s = %+v, %t, %v; want it with about 1h left", k, it, ok, err)
		}
	}
	if err := m.Delete(ctx, "key7"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := m.Get(ctx, "key7"); ok {
		t.Error("a deleted key is still served")
	}
	if st := m.Stats()[1]; st.Errors != 0 || st.Promotions != 300 {
		t.Errorf("cluster L2 stats %+v; want no errors, 300 promotions", st)
	}
}

// TestSentinel reaches the master through a real Redis Sentinel.
func TestSentinel(t *testing.T) {
	master := redistest.Start(t)
	sentinel := redistest.StartSentinel(t, master, "primary")
	l2 := newL2(t, "redis://"+sentinel.Addr, L2Config{Config: redisconn.Config{SentinelMaster: "primary"}})
	m, err := New(Options{}, newL1(t), l2)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx := context.Background()
	if err := m.Set(ctx, "k", []byte("via sentinel"), time.Minute); err != nil {
		t.Fatal(err)
	}
	it, ok, err := l2.Get(ctx, "k")
	if err != nil || !ok || string(it.Value) != "via sentinel" {
		t.Fatalf("L2 Get through the sentinel = %q, %t, %v", it.Value, ok, err)
	}
	if st := m.Stats()[1]; st.Errors != 0 || st.Sets != 1 {
		t.Errorf("l2 stats %+v; want one set, no errors", st)
	}
}

// TestTLS reaches a TLS-only redis-server through rediss://, trusting its
// CA from a file, and refuses it without that CA.
func TestTLS(t *testing.T) {
	srv, ca := redistest.StartTLS(t, "--requirepass", "tls-secret")
	url := "rediss://:tls-secret@" + srv.Addr
	l2 := newL2(t, url, L2Config{Config: redisconn.Config{CAFile: ca}})
	defer l2.Close()
	ctx := context.Background()
	if err := l2.Set(ctx, "k", []byte("over tls"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if it, ok, err := l2.Get(ctx, "k"); err != nil || !ok || string(it.Value) != "over tls" {
		t.Fatalf("Get over TLS = %q, %t, %v", it.Value, ok, err)
	}
	untrusting := newL2(t, url, L2Config{})
	defer untrusting.Close()
	if err := untrusting.Set(ctx, "k", []byte("x"), 0); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("without the CA: error %v; want a certificate error", err)
	}
	if _, err := NewL2(L2Config{Config: redisconn.Config{URL: "redis://" + srv.Addr, CAFile: ca}}); err == nil {
		t.Error("a CA file with a plain redis:// URL was accepted")
	}
}

// TestInvalidationSurvivesAnOutage: managers started while Redis is down
// subscribe once it is back, so a stale L1 entry is still dropped.
func TestInvalidationSurvivesAnOutage(t *testing.T) {
	srv := redistest.Start(t)
	srv.Stop()
	mk := func() (*Manager, *L1) {
		l1 := newL1(t)
		m, err := New(Options{Invalidate: true, BreakerBackoff: 50 * time.Millisecond}, l1, newL2(t, srv.URL(), L2Config{Config: redisconn.Config{Timeout: 200 * time.Millisecond}, Prefix: "outage:"}))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close() })
		return m, l1
	}
	a, _ := mk()
	b, _ := mk()
	srv.Restart()
	ctx := context.Background()
	// Once both are subscribed again, an overwrite by a reaches b's L1.
	wait.Until(t, 15*time.Second, "b to see a's overwrite through invalidation", func() bool {
		if err := a.Set(ctx, "k", []byte("v1"), time.Hour); err != nil {
			return false
		}
		b.Get(ctx, "k") // promotes v1 into b's L1 (from L2 once its breaker lets it)
		b.Wait()
		if err := a.Set(ctx, "k", []byte("v2"), time.Hour); err != nil {
			return false
		}
		deadline := time.Now().Add(200 * time.Millisecond)
		for time.Now().Before(deadline) {
			if v, ok, _ := b.Get(ctx, "k"); ok && string(v) == "v2" {
				return true
			}
			time.Sleep(5 * time.Millisecond)
		}
		return false
	})
}
