package trend

import (
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

var simulate = flag.Bool("simulate", false, "TestSimulate: the full sizes the package doc's rates come from (about a minute)")

// noises are the run-to-run noises of the simulations: a run's value is
// the level times 1 + noise.
var noises = []struct {
	name  string
	noise func(*rand.Rand) float64
}{
	// 3% Gaussian, like a throughput's
	{"gaussian 3%", func(r *rand.Rand) float64 { return 0.03 * r.NormFloat64() }},
	// log-normal, σ 0.2 of the log: heavy-tailed, skewed up, like a p99's
	{"log-normal", func(r *rand.Rand) float64 { return math.Exp(0.2*r.NormFloat64()) - 1 }},
	// 3% Gaussian, 1 run in 20 an outlier at 2.5-4x (a noisy neighbour)
	{"outliers", func(r *rand.Rand) float64 {
		if r.IntN(20) == 0 {
			return 1.5 + 1.5*r.Float64()
		}
		return 0.03 * r.NormFloat64()
	}},
}

// history is n runs of p99 around 1ms, the level times step from run at
// on (no step when at is 0).
func history(r *rand.Rand, name string, n int, noise func(*rand.Rand) float64, at int, step float64) Series {
	s := Series{Scenario: name, Metric: "p99"}
	t0 := time.Date(2026, 1, 1, 2, 0, 0, 0, time.UTC)
	for i := range n {
		level := 1e6
		if at > 0 && i >= at {
			level *= step
		}
		s.Points = append(s.Points, Point{RunID: int64(i + 1), At: t0.Add(time.Duration(i) * 24 * time.Hour),
			Commit: fmt.Sprintf("c%03d", i), Branch: "main", Value: level * (1 + noise(r))})
	}
	return s
}

// invocations runs trend over series series of runs runs, times times:
// the share of invocations that alerted on a noise series, and the share
// whose series 0, with a step at at (none when at is 0), alerted with its
// regression starting within one run of at.
func invocations(t *testing.T, times, series, runs int, noise func(*rand.Rand) float64, at int, step float64) (falseAlarm, power float64) {
	t.Helper()
	alarms, found := 0, 0
	for i := range times {
		r := rand.New(rand.NewPCG(uint64(i), 42))
		var in []Series
		for k := range series {
			if k == 0 && at > 0 {
				in = append(in, history(r, fmt.Sprintf("s%02d", k), runs, func(r *rand.Rand) float64 { return 0.03 * r.NormFloat64() }, at, step))
				continue
			}
			in = append(in, history(r, fmt.Sprintf("s%02d", k), runs, noise, 0, 1))
		}
		res, err := Analyze(in, Options{})
		if err != nil {
			t.Fatal(err)
		}
		alarmed := false
		for k, s := range res.Series {
			switch {
			case k == 0 && at > 0:
				if g := s.Regressed; s.Status == Alert && math.Abs(float64(g.Index-at)) <= 1 {
					found++
				}
			case s.Status == Alert:
				alarmed = true
			}
		}
		if alarmed {
			alarms++
		}
	}
	return float64(alarms) / float64(times), float64(found) / float64(times)
}

// TestSimulate measures the whole invocation's false alarm rate over 27
// series (9 scenarios x 3 figures) of 30 runs of pure noise, and the power
// to find a step. The default sizes are small enough for -race; the
// package doc's rates come from -simulate (1000 invocations each). Each
// rate must be within a binomial bound (3 standard deviations) of the
// stated one: false alarms of the 5% bound, power of 90%.
func TestSimulate(t *testing.T) {
	times := 60
	if *simulate {
		times = 1000
	} else if testing.Short() {
		times = 20
	}
	bound := func(p float64) float64 { return 3 * math.Sqrt(p*(1-p)/float64(times)) }
	for _, nz := range noises {
		t.Run("noise/"+nz.name, func(t *testing.T) {
			fa, _ := invocations(t, times, 27, 30, nz.noise, 0, 1)
			t.Logf("%s: %d invocations over 27 series of 30 runs: false alarm in %.1f%%", nz.name, times, 100*fa)
			if fa > Defaults.FalseAlarm+bound(Defaults.FalseAlarm) {
				t.Errorf("false alarms in %.1f%% of invocations; want at most %.1f%%", 100*fa, 100*Defaults.FalseAlarm)
			}
		})
	}
	for _, tc := range []struct {
		name      string
		runs, at  int
		step, min float64
	}{
		// 15 runs, then 15 runs 10% slower, 3% noise
		{"10% at 15+15", 30, 15, 1.10, 0.9},
		// the regression in the last 5 runs of 30
		{"10% at 25+5", 30, 25, 1.10, 0.9},
		// a 5% step, at the minimum effect: stated, not asserted
		{"5% at 15+15", 30, 15, 1.05, 0},
	} {
		t.Run("step/"+tc.name, func(t *testing.T) {
			fa, power := invocations(t, times, 27, tc.runs, noises[0].noise, tc.at, tc.step)
			t.Logf("%s, 3%% Gaussian, among 27 series: found and alerted in %.1f%% of %d (false alarm on the 26 others in %.1f%%)", tc.name, 100*power, times, 100*fa)
			if power < tc.min-bound(tc.min) {
				t.Errorf("power %.1f%%; want at least %.0f%%", 100*power, 100*tc.min)
			}
		})
	}
}
