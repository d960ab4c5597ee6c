package capacity

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// fakeClock is a clock that moves only when a step says it took time.
type fakeClock struct{ t time.Duration }

func (c *fakeClock) now() time.Duration { return c.t }

// system is a synthetic system under test: a closed-loop throughput, and
// whether a rate holds and what it achieves, each step taking a fixed time
// on a fake clock.
type system struct {
	clock    *fakeClock
	estimate float64
	judge    func(rate float64) Outcome
	// each is how long the estimate and every step take.
	each time.Duration
}

func (s *system) config(budget time.Duration) Config {
	if s.clock == nil {
		s.clock = &fakeClock{}
	}
	if s.each == 0 {
		s.each = 1200 * time.Millisecond
	}
	return Config{
		Estimate: func(context.Context) (float64, error) { s.clock.t += s.each; return s.estimate, nil },
		Measure: func(_ context.Context, r float64) (Outcome, error) {
			s.clock.t += s.each
			return s.judge(r), nil
		},
		Budget: budget,
		Clock:  s.clock.now,
	}
}

// queue is the system an M/M/c queue is, judged on "pP<limit" and an
// achieved rate within 1% of the target: a generator that keeps up below
// capacity and achieves the capacity above it.
func queue(m mmc, p float64, limit time.Duration) *system {
	return &system{estimate: m.capacity(), judge: func(r float64) Outcome {
		achieved := min(r, m.capacity())
		return Outcome{Achieved: achieved, Held: m.percentile(r, p) < limit && achieved/r > 0.99}
	}}
}

func TestModel(t *testing.T) {
	// M/M/1: the sojourn time is exponential with rate μ - λ, so its p99
	// is ln(100)/(μ - λ).
	m := mmc{c: 1, s: time.Millisecond}
	for _, lambda := range []float64{100, 500, 900} {
		want := math.Log(100) / (1000 - lambda)
		if got := m.percentile(lambda, 99).Seconds(); math.Abs(got-want) > 1e-9 {
			t.Errorf("M/M/1 at %g/s: p99 %gs; want %gs", lambda, got, want)
		}
	}
	// Erlang C for c=2, a=1 (λ = μ): 1/3.
	if got := (mmc{c: 2, s: time.Millisecond}).erlangC(1000); math.Abs(got-1.0/3) > 1e-12 {
		t.Errorf("Erlang C(2, 1) = %g; want 1/3", got)
	}
}

// TestFindsTheModelsCapacity: on M/M/c queues of known service time and
// servers, the search's answer is the rate at which the model's
// percentile crosses the objective, within the search's precision (2%):
// never above it (every step that held was under it), and the first rate
// that failed is at most 2% above the answer.
func TestFindsTheModelsCapacity(t *testing.T) {
	for _, tt := range []struct {
		m     mmc
		p     float64
		limit time.Duration
	}{
		{mmc{c: 1, s: time.Millisecond}, 99, 20 * time.Millisecond},        // one server, a loose objective: near capacity (1000/s)
		{mmc{c: 4, s: time.Millisecond}, 99, 5 * time.Millisecond},         // 4 servers
		{mmc{c: 8, s: 100 * time.Microsecond}, 99, 600 * time.Microsecond}, // an objective near the service time's own p99 (461µs): far below capacity
		{mmc{c: 16, s: 2 * time.Millisecond}, 99.9, 20 * time.Millisecond},
		{mmc{c: 2, s: time.Millisecond}, 50, 2 * time.Millisecond},
	} {
		want := tt.m.crossing(tt.p, tt.limit)
		sys := queue(tt.m, tt.p, tt.limit)
		a, err := Search(context.Background(), sys.config(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if a.Stop != Converged || !a.Converged() {
			t.Errorf("M/M/%d S=%s p%g<%s: stop %s; want converged", tt.m.c, tt.m.s, tt.p, tt.limit, a.Stop)
		}
		if a.MaxRate > want || a.MaxRate < want/(1+Defaults.Precision) {
			t.Errorf("M/M/%d S=%s p%g<%s: max rate %.1f/s; want within 2%% under the model's %.1f/s (capacity %g/s)",
				tt.m.c, tt.m.s, tt.p, tt.limit, a.MaxRate, want, tt.m.capacity())
		}
		if !(a.FirstFailing >= want) || a.FirstFailing > a.MaxRate*(1+Defaults.Precision) {
			t.Errorf("M/M/%d: first failing %.1f/s; want at or above the model's %.1f/s, within 2%% of %.1f/s", tt.m.c, a.FirstFailing, want, a.MaxRate)
		}
		checkSteps(t, a)
		t.Logf("M/M/%d S=%s p%g<%s: capacity %.0f/s, the model crosses at %.1f/s, found %.1f/s (first failing %.1f/s) in %d steps",
			tt.m.c, tt.m.s, tt.p, tt.limit, tt.m.capacity(), want, a.MaxRate, a.FirstFailing, len(a.Steps))
	}
}

// TestGeneratorBound: with an objective the latency always meets, the
// answer is what the system can take at all, its capacity c/S: above it
// the achieved rate falls more than 1% short of the target.
func TestGeneratorBound(t *testing.T) {
	const c, s = 4, 2 * time.Millisecond
	capacity := c / s.Seconds()
	sys := &system{estimate: capacity, judge: func(r float64) Outcome {
		achieved := min(r, capacity)
		return Outcome{Achieved: achieved, Held: achieved/r > 0.99}
	}}
	a, err := Search(context.Background(), sys.config(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(a.MaxRate-capacity)/capacity > Defaults.Precision || a.Stop != Converged {
		t.Errorf("max rate %.1f/s (%s); want within 2%% of c/S = %g/s, converged", a.MaxRate, a.Stop, capacity)
	}
}

// TestBudget: no step starts that would end past the budget, the
// estimate's time counted; the search says it stopped for the budget.
func TestBudget(t *testing.T) {
	m := mmc{c: 4, s: time.Millisecond}
	for _, tt := range []struct {
		budget, each time.Duration
		steps        int
	}{
		{5 * time.Second, time.Second, 4},                     // estimate + 4 steps end at 5s exactly
		{5*time.Second - 1, time.Second, 3},                   // a nanosecond short: one step fewer
		{3500 * time.Millisecond, 1200 * time.Millisecond, 1}, // estimate + 1 step = 2.4s; a second would end at 3.6s
	} {
		sys := queue(m, 99, 5*time.Millisecond)
		sys.each = tt.each
		a, err := Search(context.Background(), sys.config(tt.budget))
		if err != nil {
			t.Fatal(err)
		}
		if a.Stop != Budget || a.Converged() {
			t.Errorf("budget %s: stop %s; want budget", tt.budget, a.Stop)
		}
		if len(a.Steps) != tt.steps {
			t.Errorf("budget %s, %s a step: %d steps; want %d", tt.budget, tt.each, len(a.Steps), tt.steps)
		}
		if a.Elapsed > tt.budget {
			t.Errorf("budget %s: took %s", tt.budget, a.Elapsed)
		}
		for i, st := range a.Steps {
			if end := st.Start + st.Took; end > tt.budget {
				t.Errorf("budget %s: step %d ended at %s", tt.budget, i, end)
			}
		}
	}
}

// TestBudgetUsesTheLongestStep: a step is assumed as long as the longest
// so far, so one step that took longer makes the search stop earlier
// rather than overrun.
func TestBudgetUsesTheLongestStep(t *testing.T) {
	clock := &fakeClock{}
	n := 0
	c := Config{
		Estimate: func(context.Context) (float64, error) { clock.t += time.Second; return 1000, nil },
		Measure: func(_ context.Context, r float64) (Outcome, error) {
			n++
			clock.t += time.Second
			if n == 2 {
				clock.t += 2 * time.Second // a slow setup: 3s
			}
			return Outcome{Achieved: r, Held: true}, nil
		},
		Budget: 7 * time.Second,
		Clock:  clock.now,
	}
	a, err := Search(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	// estimate 1s, step 1 ends at 2s, step 2 at 5s; a third, taken as
	// 3s long, would end at 8s.
	if len(a.Steps) != 2 || a.Stop != Budget || a.Elapsed != 5*time.Second {
		t.Errorf("%d steps, stop %s, elapsed %s; want 2, budget, 5s", len(a.Steps), a.Stop, a.Elapsed)
	}
}

// TestExpect: a budget shorter than the step expected runs nothing.
func TestExpect(t *testing.T) {
	sys := queue(mmc{c: 1, s: time.Millisecond}, 99, time.Second)
	c := sys.config(time.Second)
	c.Expect = 1200 * time.Millisecond
	a, err := Search(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if a.Stop != Budget || len(a.Steps) != 0 || a.Estimate != 0 || !math.IsNaN(a.MaxRate) {
		t.Errorf("answer %+v; want the budget stop before the estimate", a)
	}
}

func TestEnds(t *testing.T) {
	never := func(r float64) Outcome { return Outcome{Achieved: r} }
	always := func(r float64) Outcome { return Outcome{Achieved: r, Held: true} }
	for _, tt := range []struct {
		name     string
		estimate float64
		judge    func(float64) Outcome
		stop     Stop
		maxRate  float64 // NaN: n/a
		failing  float64
	}{
		// Nothing holds: the targets halve from 500 down to the floor,
		// 1000/64; the answer is n/a, the lowest rate tried failed.
		{"none held", 1000, never, NoneHeld, math.NaN(), 1000.0 / 64},
		// Everything holds: up to the ceiling, 4x the estimate; the
		// answer is a lower bound, nothing failed.
		{"ceiling", 1000, always, Ceiling, 4000, math.NaN()},
		// Closed loop did nothing: no rate to start from.
		{"no estimate", 0, always, NoneHeld, math.NaN(), math.NaN()},
		// Only low rates hold: descend, then bisect.
		{"descend", 1000, func(r float64) Outcome { return Outcome{Achieved: r, Held: r < 100} }, Converged, 100, 100},
	} {
		sys := &system{estimate: tt.estimate, judge: tt.judge}
		a, err := Search(context.Background(), sys.config(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		near := func(a, b float64) bool { return (math.IsNaN(a) && math.IsNaN(b)) || math.Abs(a-b) <= 0.021*b }
		if a.Stop != tt.stop || !near(a.MaxRate, tt.maxRate) || !near(a.FirstFailing, tt.failing) {
			t.Errorf("%s: stop %s, max rate %g, first failing %g; want %s, %g, %g", tt.name, a.Stop, a.MaxRate, a.FirstFailing, tt.stop, tt.maxRate, tt.failing)
		}
		checkSteps(t, a)
	}
}

// TestNoisy: on a system whose steps hold or fail at random near its
// capacity, the steps still keep the search's invariants.
func TestNoisy(t *testing.T) {
	for seed := range uint64(50) {
		rng := rand.New(rand.NewPCG(seed, 1))
		sys := &system{estimate: 1000, judge: func(r float64) Outcome {
			// Holds below 700, fails above 900, a coin in between.
			held := r < 700 || (r < 900 && rng.IntN(2) == 0)
			return Outcome{Achieved: r, Held: held}
		}}
		a, err := Search(context.Background(), sys.config(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if a.Stop != Converged || a.MaxRate < 700/(1+Defaults.Precision) || a.MaxRate >= 900 {
			t.Errorf("seed %d: stop %s, max rate %g; want converged within [686, 900)", seed, a.Stop, a.MaxRate)
		}
		checkSteps(t, a)
	}
}

// checkSteps checks a search's invariants: the answer is the highest
// target that held and the first failing one the lowest that failed,
// every held target at most the answer and every failed one above it;
// the climb's targets rise, the descent's fall, and each bisection step
// is strictly inside the bracket of the steps before it.
func checkSteps(t *testing.T, a Answer) {
	t.Helper()
	lo, hi := math.NaN(), math.NaN()
	var last Step
	for i, st := range a.Steps {
		if i > 0 && st.Phase == last.Phase {
			switch st.Phase {
			case Climb:
				if st.Target <= last.Target {
					t.Errorf("step %d climbs from %g to %g", i, last.Target, st.Target)
				}
			case Descend:
				if st.Target >= last.Target {
					t.Errorf("step %d descends from %g to %g", i, last.Target, st.Target)
				}
			}
		}
		if st.Phase == Bisect && !(st.Target > lo && st.Target < hi) {
			t.Errorf("step %d bisects at %g, outside (%g, %g)", i, st.Target, lo, hi)
		}
		if st.Held && !(st.Target <= lo) {
			lo = st.Target
		}
		if !st.Held && !(st.Target >= hi) {
			hi = st.Target
		}
		last = st
	}
	if !same(lo, a.MaxRate) || !same(hi, a.FirstFailing) {
		t.Errorf("answer %g, first failing %g; the steps say %g, %g", a.MaxRate, a.FirstFailing, lo, hi)
	}
	for i, st := range a.Steps {
		if st.Held && st.Target > a.MaxRate || !st.Held && !(st.Target > a.MaxRate) && !math.IsNaN(a.MaxRate) {
			t.Errorf("step %d at %g (held %t) is on the wrong side of the answer %g", i, st.Target, st.Held, a.MaxRate)
		}
	}
}

func same(a, b float64) bool { return a == b || (math.IsNaN(a) && math.IsNaN(b)) }

func TestInterruptedAndErrors(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	var observed []Step
	c := Config{
		Estimate: func(context.Context) (float64, error) { return 1000, nil },
		Measure: func(ctx context.Context, r float64) (Outcome, error) {
			switch n++; n {
			case 3:
				cancel() // the third step measured, then the context ended
			case 4:
				t.Error("a step started after the context ended")
			}
			return Outcome{Achieved: r, Held: true}, nil
		},
		Observe: func(st Step) { observed = append(observed, st) },
		Budget:  time.Hour,
	}
	a, err := Search(ctx, c)
	if err != nil || a.Stop != Interrupted || len(a.Steps) != 3 || len(observed) != 3 || observed[2] != a.Steps[2] {
		t.Errorf("interrupted: err %v, stop %s, %d steps, %d observed; want nil, interrupted, the 3 steps done, each observed", err, a.Stop, len(a.Steps), len(observed))
	}

	// A measurement the context cut short is not a step, and its error
	// is the interruption's, not the search's.
	ctx, cancel = context.WithCancel(context.Background())
	c.Measure = func(ctx context.Context, r float64) (Outcome, error) {
		cancel()
		return Outcome{}, ctx.Err()
	}
	if a, err := Search(ctx, c); err != nil || a.Stop != Interrupted || len(a.Steps) != 0 {
		t.Errorf("cut short: err %v, stop %s, %d steps; want nil, interrupted, none", err, a.Stop, len(a.Steps))
	}

	boom := errors.New("l3: disk full")
	c.Measure = func(context.Context, float64) (Outcome, error) { return Outcome{}, boom }
	if _, err := Search(context.Background(), c); !errors.Is(err, boom) {
		t.Errorf("measure error: %v; want %v", err, boom)
	}
	c.Estimate = func(context.Context) (float64, error) { return 0, boom }
	if _, err := Search(context.Background(), c); !errors.Is(err, boom) {
		t.Errorf("estimate error: %v; want %v", err, boom)
	}
	for _, bad := range []Config{
		{Budget: time.Second},                      // no functions
		{Measure: c.Measure, Estimate: c.Estimate}, // no budget
		{Measure: c.Measure, Estimate: c.Estimate, Budget: time.Second, Growth: 0.5},
		{Measure: c.Measure, Estimate: c.Estimate, Budget: time.Second, Min: 10, Max: 5},
	} {
		if _, err := Search(context.Background(), bad); err == nil {
			t.Errorf("Search(%+v) = nil error; want one", bad)
		}
	}
}
