package scenarios

import (
	"context"
	"fmt"
	"time"

	"github.com/rustci/rustci-perf/pkg/config"
	"github.com/rustci/rustci-perf/pkg/harness"
	"github.com/rustci/rustci-perf/pkg/limiter"
)

var limiterScenario = &Scenario{
	Name:    "limiter",
	Group:   "limiter",
	Summary: "checks on one key; allowed must match GCRA: burst + rate x elapsed",
	Metrics: []string{"allowed", "denied", "admission_expected_min", "admission_expected_max", "admission_error"},
	run:     runLimiter,
}

// limiterPolicy is the name of the policy the scenario checks against.
const limiterPolicy = "scenario"

func runLimiter(ctx context.Context, s config.Settings) (*Outcome, error) {
	pol := limiter.Policy{
		Name:   limiterPolicy,
		Rate:   s.Limiter.Policy.Rate,
		Burst:  s.Limiter.Policy.Burst,
		Period: time.Duration(s.Limiter.Policy.Period),
	}
	lim, err := limiter.NewMemory(nil, pol)
	if err != nil {
		return nil, err
	}
	tallies := make([]tally, s.Concurrency)
	hc := plan(s)
	hc.BeforeMeasure = func() {
		// Warmup emptied the bucket; removing and adding the policy
		// drops its key state, so measuring starts from a full burst.
		lim.RemovePolicy(pol.Name)
		_ = lim.SetPolicy(pol) // validated by NewMemory
		clear(tallies)
	}
	res, err := harness.Run(ctx, hc, func(w int) harness.Op {
		t := &tallies[w]
		return func(int) error {
			r, err := lim.AllowN(ctx, limiterPolicy, "key", 1)
			if err != nil {
				return err
			}
			if r.Allowed > 0 {
				t.allowed++
			} else {
				t.denied++
			}
			return nil
		}
	})
	if err != nil {
		return nil, err
	}
	total := sum(tallies)
	out := outcome(res)
	// The limiter keeps its own statistics; they must agree with what the
	// checks were told, or one of the two is wrong.
	if st := lim.Stats()[pol.Name]; int64(st.Allowed) != total.allowed || int64(st.Denied) != total.denied {
		out.Notes = append(out.Notes, fmt.Sprintf("the limiter's statistics (%d allowed, %d denied) disagree with its answers (%d, %d)",
			st.Allowed, st.Denied, total.allowed, total.denied))
	}
	stall := 2 * time.Duration(res.Latency.Summary().Max)
	lo, hi := admissionBounds(pol, res.Inner, res.Duration, stall, total.allowed+total.denied)
	out.Component = fmt.Sprintf("limiter: in-memory GCRA, policy %d/%s burst %d", pol.Rate, pol.Period, pol.Burst)
	out.Counters["allowed"] = total.allowed
	out.Counters["denied"] = total.denied
	out.Counters["admission_expected_min"] = lo
	out.Counters["admission_expected_max"] = hi
	out.Metrics["admission_error"] = float64(total.allowed - min(max(total.allowed, lo), hi))
	out.Notes = append(out.Notes, fmt.Sprintf(
		"GCRA admits burst + rate x elapsed: %d + %s / %s; over the measured window, %d to %d within one emission interval; allowed %d",
		pol.Burst, res.Duration.Round(time.Microsecond), pol.Emission(), lo, hi, total.allowed))
	if absorbed := pol.Emission() * time.Duration(pol.Burst-1); stall >= absorbed {
		out.Notes = append(out.Notes, fmt.Sprintf(
			"the slowest check took %s, so checks may have paused for up to %s, longer than the burst absorbs (%s): admissions missed then are not the limiter's, so the lower bound is the burst alone",
			(stall/2).Round(time.Microsecond), stall.Round(time.Microsecond), absorbed))
	}
	return out, nil
}

// admissionBounds returns the fewest and most admissions GCRA may make,
// given bounds on the time between the first and the last decision: inner
// (shortest) and outer (longest). A full bucket admits burst at once, then
// one per emission interval; one interval of slack each way allows for the
// edges. Neither bound exceeds the checks made.
//
// The lower bound assumes checks never paused for as long as the burst
// absorbs ((burst-1) emission intervals: a pause that long lets the bucket
// refill past full, and those admissions are lost to the pause, not denied
// by the limiter). stall bounds the longest pause between two decisions of
// one worker (twice its slowest operation); when it is that long, the lower
// bound falls back to what any GCRA admits in an instant: the burst.
func admissionBounds(p limiter.Policy, inner, outer, stall time.Duration, checks int64) (lo, hi int64) {
	e := p.Emission()
	lo = int64(p.Burst) + int64(inner/e) - 1
	if stall >= e*time.Duration(p.Burst-1) {
		lo = int64(p.Burst)
	}
	hi = int64(p.Burst) + int64(outer/e) + 1
	return max(0, min(lo, checks)), min(hi, checks)
}
