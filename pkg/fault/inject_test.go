package fault

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

func mustParse(t testing.TB, s string) Spec {
	t.Helper()
	sp, err := Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return sp
}

// within reports whether n successes of trials lie within 5 standard
// deviations of the binomial's mean at p: a bound no correct draw misses.
func within(n, trials int, p float64) bool {
	mean, sd := float64(trials)*p, math.Sqrt(float64(trials)*p*(1-p))
	return math.Abs(float64(n)-mean) <= 5*sd+1
}

func TestDraw(t *testing.T) {
	const trials = 100_000
	for _, tt := range []struct {
		spec             string
		delayed, failing float64 // shares expected
		lo, hi           time.Duration
	}{
		// every call 2ms later, none fails
		{"l2:latency=2ms", 1, 0, 2 * time.Millisecond, 2 * time.Millisecond},
		// every call between 1ms and 5ms later
		{"l2:latency=uniform:1ms-5ms", 1, 0, time.Millisecond, 5 * time.Millisecond},
		// one call in a hundred 50ms later
		{"l2:latency=p=0.01:50ms", 0.01, 0, 50 * time.Millisecond, 50 * time.Millisecond},
		// one call in ten fails, with no delay
		{"l2:error=0.1", 0, 0.1, 0, 0},
		// every call fails
		{"l2:error=1", 0, 1, 0, 0},
		// half the calls are delayed, independently one in five fails
		{"l2:latency=p=0.5:uniform:1us-2us,error=0.2", 0.5, 0.2, time.Microsecond, 2 * time.Microsecond},
	} {
		sp := mustParse(t, tt.spec)
		r := rand.New(rand.NewPCG(1, 2))
		delayed, failing := 0, 0
		var sum time.Duration
		for range trials {
			d, fail := sp.draw(r)
			if d > 0 {
				delayed++
				sum += d
				if d < tt.lo || d > tt.hi {
					t.Fatalf("%s: drew a delay of %s; want %s to %s", tt.spec, d, tt.lo, tt.hi)
				}
			}
			if fail {
				failing++
			}
		}
		if !within(delayed, trials, tt.delayed) || !within(failing, trials, tt.failing) {
			t.Errorf("%s: %d of %d calls delayed, %d failing; want shares %g, %g", tt.spec, delayed, trials, failing, tt.delayed, tt.failing)
		}
		if delayed > 0 {
			mean, want := sum/time.Duration(delayed), (tt.lo+tt.hi)/2
			if d := mean - want; d > (tt.hi-tt.lo)/50 || -d > (tt.hi-tt.lo)/50 {
				t.Errorf("%s: mean delay %s; want about %s", tt.spec, mean, want)
			}
		}
	}
}

func TestStalled(t *testing.T) {
	s := time.Second
	stalls := []Stall{{For: 2 * s, At: 5 * s}, {For: s, At: 7 * s}, {For: s, At: 20 * s}}
	for _, tt := range []struct {
		now, want time.Duration
	}{
		{0, 0},         // before any stall
		{5 * s, 3 * s}, // at the start of the first: until it ends, and the one it runs into (5s-7s, 7s-8s)
		{6 * s, 2 * s}, // inside the first
		{7 * s, s},     // inside the second: the first has ended
		{8 * s, 0},     // just after: answered at once
		{20500 * time.Millisecond, 500 * time.Millisecond},
		{21 * s, 0},
	} {
		if got := stalled(stalls, tt.now); got != tt.want {
			t.Errorf("stalled(%v, %s) = %s; want %s", stalls, tt.now, got, tt.want)
		}
	}
}

// noTimer is a context with a deadline that nothing enforces, as
// redisconn's: Done never closes.
type noTimer struct {
	context.Context
	at time.Time
}

func (c noTimer) Deadline() (time.Time, bool) { return c.at, true }

// TestDoEndsAtTheDeadline: a call in an hour-long stall fails at its own
// deadline, with an error that is context.DeadlineExceeded, whether or not
// a timer closes its context; a call whose context is cancelled stops
// with that. Before Arm, nothing is injected.
func TestDoEndsAtTheDeadline(t *testing.T) {
	in := New(mustParse(t, "l2:stall=1h@0s,error=1"), 1)
	if err := in.Do(context.Background()); err != nil {
		t.Fatalf("Do before Arm = %v; want nil: nothing injected yet", err)
	}
	in.Arm()
	for _, tt := range []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		want error
	}{
		{"deadline with a timer", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 20*time.Millisecond)
		}, context.DeadlineExceeded},
		{"deadline without a timer", func() (context.Context, context.CancelFunc) {
			return noTimer{context.Background(), time.Now().Add(20 * time.Millisecond)}, func() {}
		}, context.DeadlineExceeded},
		{"deadline already past", func() (context.Context, context.CancelFunc) {
			return noTimer{context.Background(), time.Now().Add(-time.Second)}, func() {}
		}, context.DeadlineExceeded},
		{"cancelled", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx, cancel
		}, context.Canceled},
	} {
		ctx, cancel := tt.ctx()
		start := time.Now()
		err := in.Do(ctx)
		cancel()
		if !errors.Is(err, tt.want) || time.Since(start) > time.Minute {
			t.Errorf("%s: Do in an hour-long stall = %v after %s; want %v, long before the stall ends", tt.name, err, time.Since(start), tt.want)
		}
	}
	// After its stall, a call goes on to the error rate.
	in = New(mustParse(t, "l2:stall=1ms@0s,error=1"), 1)
	in.Arm()
	if err := in.Do(context.Background()); !errors.Is(err, ErrInjected) {
		t.Errorf("Do after a 1ms stall with error=1 = %v; want ErrInjected", err)
	}
}

// TestWorkerStreams: a worker's draws are the same from one injector to
// another of the same seed, and differ from another worker's.
func TestWorkerStreams(t *testing.T) {
	sp := mustParse(t, "l2:error=0.5")
	seq := func(seed uint64, w int) []bool {
		in := New(sp, 99)
		in.Arm()
		ctx := Worker(context.Background(), seed, w)
		out := make([]bool, 64)
		for i := range out {
			out[i] = in.Do(ctx) != nil
		}
		return out
	}
	a, b, other := seq(7, 0), seq(7, 0), seq(7, 1)
	same, differ := true, false
	for i := range a {
		same = same && a[i] == b[i]
		differ = differ || a[i] != other[i]
	}
	if !same || !differ {
		t.Errorf("worker 0 twice: %v, %v; worker 1: %v; want the first two equal, the third not", a, b, other)
	}
}

// TestWaitNeverShort: a wait lasts at least what it was asked, on either
// side of the timer's share (fineWait), and an injected latency delays
// the call by at least that.
func TestWaitNeverShort(t *testing.T) {
	for _, d := range []time.Duration{0, 10 * time.Microsecond, 300 * time.Microsecond, fineWait + time.Millisecond} {
		start := time.Now()
		if err := wait(context.Background(), d); err != nil || time.Since(start) < d {
			t.Errorf("wait(%s) = %v after %s; want nil, no sooner", d, err, time.Since(start))
		}
	}
	in := New(mustParse(t, "l2:latency=uniform:200us-400us"), 1)
	in.Arm()
	for range 20 {
		start := time.Now()
		if err := in.Do(context.Background()); err != nil || time.Since(start) < 200*time.Microsecond {
			t.Errorf("Do with 200µs-400µs of latency = %v after %s; want nil, no sooner than 200µs", err, time.Since(start))
		}
	}
}
