// A capacity search (run --find-max-rate): each scenario's highest
// open-loop rate at which its objectives hold, found by package capacity
// over open-loop runs of the scenario.

package engine

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/rustci/rustci-perf/pkg/capacity"
	"github.com/rustci/rustci-perf/pkg/metric"
	"github.com/rustci/rustci-perf/pkg/report"
	"github.com/rustci/rustci-perf/pkg/scenarios"
	"github.com/rustci/rustci-perf/pkg/threshold"
)

// Capacity asks the engine to find each selected scenario's capacity
// instead of running it once: the highest open-loop rate at which every
// objective holds and the achieved rate is within 1% of the target.
type Capacity struct {
	// SLOs are the objectives, in the threshold language ("p99<1ms",
	// "cache-read:hit_rate>0.99"): an unscoped one applies to every
	// selected scenario, and each must have its figures.
	SLOs []string
	// Budget bounds the whole search, every scenario's: each scenario
	// gets an even share of what is left when it starts.
	Budget time.Duration
}

// generatorCheck is the objective every open-loop run is held to: the
// generator, not the component, must not fall behind (the default
// threshold of an open-loop run, and the last objective of every step of
// a capacity search).
const generatorCheck = "achieved_rate_ratio>0.99"

// answers are the figures a capacity search gives, which only a search
// can judge.
var answers = []string{metric.MaxRate.Name, metric.FirstFailingRate.Name}

// namesAnswer reports whether t reads a capacity search's answer.
func namesAnswer(t threshold.Threshold) bool {
	for _, m := range t.Metrics() {
		for _, a := range answers {
			if m.Name == a {
				return true
			}
		}
	}
	return false
}

// planCapacity checks a capacity search of the plan's scenarios and gives
// each its objectives: what a search cannot change (a rate, stages or
// repeated runs set by a file), objectives that do not parse or name a
// figure a scenario lacks, and a budget too short for a closed-loop
// estimate and one step of each scenario are errors of the plan.
func (p *Plan) planCapacity(c *Capacity) error {
	if c.Budget <= 0 {
		return fmt.Errorf("--budget %s: want more than 0", c.Budget)
	}
	runnable := 0
	var longest time.Duration
	for i := range p.items {
		it := &p.items[i]
		s := it.settings
		switch {
		case s.Rate > 0 || len(s.Stages) > 0:
			return fmt.Errorf("--find-max-rate: %s has an open-loop rate or stages set (--rate, --stages, or rate: or stages: in a config file): the search sets the rate itself", it.sc.Name)
		case s.Count > 1:
			return fmt.Errorf("--find-max-rate: %s is set to run %d times (--count, or count: in a config file): a search runs each step once", it.sc.Name, s.Count)
		case s.Duration <= 0:
			// A phase of a count of operations lasts as long as the
			// component takes: no budget bounds it, and at a high rate
			// it is too short for a stable p99 (memory's 1000 items
			// last about a millisecond).
			return fmt.Errorf("--find-max-rate: %s sizes its measured phase by operations (%d: --ops, or ops: in a config file): a search needs steps of a known length: give --duration", it.sc.Name, s.Ops)
		}
		if it.sc.Unmet == nil || it.sc.Unmet(s) == "" {
			runnable++
			longest = max(longest, stepLength(it))
		}
		it.slos = nil
	}
	for _, expr := range c.SLOs {
		if err := p.addSLO(expr); err != nil {
			return err
		}
	}
	if need := 2 * longest * time.Duration(runnable); runnable > 0 && c.Budget < need {
		return fmt.Errorf("--budget %s: too short to search %s: each needs at least a closed-loop estimate and one step, %s each (warmup and measured phase); give at least %s",
			c.Budget, plural(runnable, "scenario"), longest, need)
	}
	return nil
}

// stepLength is how long one run of it is expected to take: its warmup and
// measured phase (setting the component up is not known before it runs).
func stepLength(it *item) time.Duration {
	return it.settings.Warmup.Duration + it.settings.Duration
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// addSLO parses an objective and gives it to the scenarios it applies to:
// those of its scope, or every one when unscoped, each of which must have
// its figures.
func (p *Plan) addSLO(expr string) error {
	t, err := threshold.Parse(expr)
	if err != nil {
		return fmt.Errorf("--slo: %w", err)
	}
	if t.Window.Set() {
		return fmt.Errorf("--slo %q: a window is not judged in a capacity search, whose steps are judged over their whole measured phase: give the window to --threshold", expr)
	}
	if namesAnswer(t) {
		return fmt.Errorf("--slo %q: %s is the search's answer, not a figure of a step: judge it with --threshold", expr, metricNames(t))
	}
	in, err := p.scoped(fmt.Sprintf("--slo %q", expr), t)
	if err != nil {
		return err
	}
	for _, it := range in {
		if err := checkMetrics(t, it.sc); err != nil {
			if t.Scope == "" && p.anyHas(t) {
				return fmt.Errorf("--slo: %w; an objective without a scope applies to every scenario searched: scope it (SCENARIO:%s)", err, expr)
			}
			return fmt.Errorf("--slo: %w", err)
		}
		it.slos = append(it.slos, t)
	}
	if len(in) == 0 {
		return fmt.Errorf("--slo %q: scope %q selects none of the scenarios being run (%s)", expr, t.Scope, strings.Join(p.Names(), ", "))
	}
	return nil
}

// anyHas reports whether a planned scenario has every figure t reads.
func (p *Plan) anyHas(t threshold.Threshold) bool {
	for _, it := range p.items {
		if checkMetrics(t, it.sc) == nil {
			return true
		}
	}
	return false
}

// search runs it's capacity search within budget. It returns the
// outcome whose figures the scenario reports (the step at the answer;
// with none, the lowest rate tried; with no step, the closed-loop
// estimate), the search's report, and whether the context ended it.
func (p *Plan) search(ctx context.Context, it item, budget time.Duration) (*scenarios.Outcome, *report.Capacity, bool, error) {
	check, err := threshold.Parse(generatorCheck)
	if err != nil {
		return nil, nil, false, err
	}
	slos := append(append([]threshold.Threshold(nil), it.slos...), check)
	rep := &report.Capacity{BudgetNS: int64(budget), Precision: capacity.Defaults.Precision, Steps: []report.CapacityStep{}}
	for _, t := range slos {
		rep.SLO = append(rep.SLO, t.Expr)
	}
	var estimate, best, lowest *scenarios.Outcome
	var bestRate, lowestRate float64
	var wall, measured time.Duration
	cfg := capacity.Config{
		Budget: budget,
		Expect: stepLength(&it),
		Estimate: func(ctx context.Context) (float64, error) {
			out, err := it.sc.Run(ctx, it.settings)
			if err != nil {
				return 0, err
			}
			if out.Interrupted {
				return 0, context.Cause(ctx)
			}
			estimate = out
			return out.Throughput(), nil
		},
		Measure: func(ctx context.Context, target float64) (capacity.Outcome, error) {
			s := it.settings
			s.Rate = target
			start := time.Now()
			out, err := it.sc.Run(ctx, s)
			if err != nil {
				return capacity.Outcome{}, err
			}
			if out.Interrupted {
				return capacity.Outcome{}, context.Cause(ctx)
			}
			openLoop(out, s)
			st := stepOf(out, target, slos)
			st.WallNS = int64(time.Since(start))
			wall, measured = wall+time.Duration(st.WallNS), measured+out.Duration
			rep.Steps = append(rep.Steps, st)
			if st.Held && target > bestRate {
				best, bestRate = out, target
			}
			if lowest == nil || target < lowestRate {
				lowest, lowestRate = out, target
			}
			return capacity.Outcome{Achieved: st.AchievedRateOpsPerSec, Held: st.Held}, nil
		},
		Observe: func(st capacity.Step) {
			rs := &rep.Steps[len(rep.Steps)-1]
			rs.Phase = string(st.Phase)
			if sp, ok := p.progress.(SearchProgress); ok {
				sp.Step(it.sc.Name, len(rep.Steps), *rs)
			}
		},
		// Under 100 operations a step cannot tell a rate (metric.AchievedRateRatio).
		Min: minRate(&it),
		Max: 1e9,
	}
	a, err := capacity.Search(ctx, cfg)
	if err != nil {
		return nil, nil, false, err
	}
	rep.ElapsedNS, rep.EstimateOpsPerSec = int64(a.Elapsed), a.Estimate
	if !metric.Valid(a.Estimate) {
		rep.EstimateOpsPerSec = 0
	}
	rep.MaxRate, rep.FirstFailingRate = report.Float(a.MaxRate), report.Float(a.FirstFailing)
	rep.Stop, rep.Converged = string(a.Stop), a.Converged()

	out, what := best, fmt.Sprintf("the figures are those of the step at max_rate, %s", report.Throughput(bestRate))
	switch {
	case out == nil && lowest != nil:
		out, what = lowest, fmt.Sprintf("no rate held: the figures are those of the lowest rate tried, %s", report.Throughput(lowestRate))
	case out == nil && estimate != nil:
		out, what = estimate, "no step ran: the figures are those of the closed-loop estimate"
	case out == nil:
		if a.Stop == capacity.Interrupted {
			return nil, rep, true, nil
		}
		return nil, nil, false, fmt.Errorf("capacity search: the budget left for it, %s, is shorter than one run of the scenario (%s): give a larger --budget", budget, stepLength(&it))
	}
	if out.Metrics == nil {
		out.Metrics = map[string]float64{}
	}
	out.Metrics[metric.MaxRate.Name], out.Metrics[metric.FirstFailingRate.Name] = a.MaxRate, a.FirstFailing
	out.Notes = append(out.Notes, "capacity search: "+what)
	out.Notes = append(out.Notes, stopNotes(a, rep)...)
	if n := len(rep.Steps); n > 0 {
		out.Notes = append(out.Notes, fmt.Sprintf("capacity search: each step set the component up afresh; a step took %s on average, %s of it measuring (the rest: setup, filling and warmup)",
			report.Duration(float64(wall)/float64(n)), report.Duration(float64(measured)/float64(n))))
	}
	return out, rep, a.Stop == capacity.Interrupted, nil
}

// SearchProgress, when a Progress has it too, is told each step of a
// capacity search as it ends: the scenario, the step's number (from 1)
// and its figures.
type SearchProgress interface {
	Step(name string, n int, st report.CapacityStep)
}

// minRate is the lowest rate at which a step of it can tell whether the
// generator kept up: MinRateOps operations in its measured phase, when
// that is sized by time.
func minRate(it *item) float64 {
	if d := it.settings.Duration; d > 0 {
		return metric.MinRateOps / d.Seconds()
	}
	return 0
}

// stepOf is the report of one step: its figures and each objective
// judged on it, as thresholds are.
func stepOf(out *scenarios.Outcome, target float64, slos []threshold.Threshold) report.CapacityStep {
	st := report.CapacityStep{
		TargetRateOpsPerSec: target, Ops: out.Ops, Errors: out.Errors, DurationNS: int64(out.Duration),
		Latency: report.LatencyOf(out.Latency.Summary()), SLO: []report.Threshold{}, Held: true,
	}
	// The rate achieved: what achieved_rate_ratio says of the target, or
	// when a run is too short to tell, the operations over its time.
	if r := out.Metrics[metric.AchievedRate.Name]; metric.Valid(r) {
		st.AchievedRateOpsPerSec = r * target
	} else if out.Duration > 0 {
		st.AchievedRateOpsPerSec = float64(out.Ops+out.Errors) / out.Duration.Seconds()
	}
	src := source(out)
	for _, t := range slos {
		o := threshold.Eval(t, src)
		st.SLO = append(st.SLO, thresholdOf(t, o))
		st.Held = st.Held && o.Pass
	}
	return st
}

// stopNotes say what a search's stop means for its answer, and why a
// figure of it is n/a when one is.
func stopNotes(a capacity.Answer, rep *report.Capacity) []string {
	rate := report.Throughput
	budget := report.Duration(float64(rep.BudgetNS))
	var notes []string
	switch {
	case !math.IsNaN(a.MaxRate):
	case a.Stop == capacity.NoneHeld && len(a.Steps) == 0:
		notes = append(notes, "max_rate is n/a: the closed-loop estimate measured no successful operation, so there is no rate to search from; a threshold on it fails")
	case a.Stop == capacity.NoneHeld:
		notes = append(notes, fmt.Sprintf("max_rate is n/a: no rate held, down to %s (1/%.0f of the closed-loop throughput, or the lowest rate a step can tell); a threshold on it fails",
			rate(a.FirstFailing), 1/capacity.Defaults.Floor))
	case a.Stop == capacity.Budget:
		notes = append(notes, fmt.Sprintf("max_rate is n/a: the budget (%s) ran out before any rate held; a threshold on it fails", budget))
	default:
		notes = append(notes, "max_rate is n/a: the search was interrupted before any rate held")
	}
	switch {
	case !math.IsNaN(a.FirstFailing):
	case a.Stop == capacity.Ceiling:
		notes = append(notes, fmt.Sprintf("first_failing_rate is n/a: every rate tried held, up to %s (%.0fx the closed-loop throughput, or the generator's limit): max_rate is a lower bound",
			rate(a.MaxRate), capacity.Defaults.Ceiling))
	case a.Stop == capacity.Budget && !math.IsNaN(a.MaxRate):
		notes = append(notes, fmt.Sprintf("first_failing_rate is n/a: the budget (%s) ran out before any rate failed: max_rate is a lower bound", budget))
	case a.Stop == capacity.Interrupted && !math.IsNaN(a.MaxRate):
		notes = append(notes, "first_failing_rate is n/a: the search was interrupted before any rate failed")
	case math.IsNaN(a.MaxRate) && len(a.Steps) > 0:
		notes = append(notes, "first_failing_rate is n/a: no rate failed")
	case math.IsNaN(a.MaxRate):
		notes = append(notes, "first_failing_rate is n/a: no step ran")
	}
	if a.Stop == capacity.Budget && !math.IsNaN(a.MaxRate) && !math.IsNaN(a.FirstFailing) {
		notes = append(notes, fmt.Sprintf("capacity search: not converged: the budget (%s) ran out with the capacity between %s and %s, %.1f%% apart (the search stops at %.0f%%)",
			budget, rate(a.MaxRate), rate(a.FirstFailing), 100*(a.FirstFailing/a.MaxRate-1), 100*rep.Precision))
	}
	return notes
}

// errNoSearch is the error of a threshold on a search's answer in a run
// that does not search.
var errNoSearch = errors.New("is the answer of a capacity search: give --find-max-rate")
