// Package engine is the run engine: it turns a selection of scenarios, a
// configuration and command-line thresholds into a validated Plan, runs
// it, and judges the results into a report.Report.
//
// The model, step by step:
//
//  1. NewPlan checks everything a user can get wrong before anything runs:
//     unknown names, bad settings, thresholds that do not parse, name an
//     unknown scope, or a metric no selected scenario reports. The
//     scenarios are the built-in ones, or a program's own
//     (Options.Scenarios).
//  2. Plan.Run runs each scenario its settings' Count times, each run on a
//     component set up afresh, and merges the runs (repeat.go).
//  3. Thresholds are judged on the runs: one run's value, or the median,
//     the worst or each of several (repeat.go).
//
// The engine draws nothing: a Progress, when given, is told as each
// scenario starts and ends and how its measured phase goes, and the
// program that runs the plan shows it.
package engine

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/rustci/rustci-perf/pkg/config"
	"github.com/rustci/rustci-perf/pkg/harness"
	"github.com/rustci/rustci-perf/pkg/latency"
	"github.com/rustci/rustci-perf/pkg/metric"
	"github.com/rustci/rustci-perf/pkg/profile"
	"github.com/rustci/rustci-perf/pkg/report"
	"github.com/rustci/rustci-perf/pkg/scenarios"
	"github.com/rustci/rustci-perf/pkg/threshold"
)

// Options describe a run.
type Options struct {
	// Names are scenario or group names, as typed.
	Names []string
	// Config is the loaded configuration (config.Load).
	Config *config.Config
	// Flags override the configuration for every selected scenario.
	Flags config.Params
	// Thresholds are added to the configured ones ("cache-read:p99<2ms").
	Thresholds []string
	// Version is written into the report.
	Version string
	// Progress, when not nil, is told how the run goes, as it goes.
	Progress Progress
	// Require makes a selected scenario that would be skipped (cache-l2
	// with no Redis URL) an error of the plan.
	Require bool
	// Profile, when not nil, profiles each scenario's measured phase.
	Profile *profile.Dir
	// Scenarios are those Names select from and "all" runs: the built-in
	// ones (scenarios.All) when nil, or a program's own. Config must know
	// their names (config.Load's known).
	Scenarios scenarios.Catalog
}

// Plan is a validated run: scenarios in order, each with its settings and
// thresholds.
type Plan struct {
	catalog  scenarios.Catalog
	items    []item
	version  string
	progress Progress
}

type item struct {
	sc         *scenarios.Scenario
	settings   config.Settings
	thresholds []threshold.Threshold
	// notes say which default thresholds are not judged, and why.
	notes []string
}

// cannotApply says why a default threshold t does not apply to a run with
// settings s ("" when it does). An open-loop run applies the load its
// target says, so a default throughput floor the target cannot clear (with
// the 1% the rate check allows) would fail however healthy the component:
// the achieved rate is judged against the target instead. Thresholds a
// user wrote are always judged.
func cannotApply(t threshold.Threshold, s config.Settings) string {
	if s.UserThresholds || t.Right != nil || t.Left.Name != "throughput" || (t.Op != threshold.GT && t.Op != threshold.GE) {
		return ""
	}
	target := s.Rate
	if len(s.Stages) > 0 {
		target = s.Stages.Count() / s.Stages.Total().Seconds()
	}
	if target <= 0 || 0.99*target > t.Limit {
		return ""
	}
	return fmt.Sprintf("default threshold %s not judged: the open-loop target, %g ops/s, is not above it; achieved_rate_ratio>0.99 judges the rate against the target instead", t.Expr, target)
}

// NewPlan validates o. Its errors are the user's: each names the bad value.
func NewPlan(o Options) (*Plan, error) {
	cat := o.Scenarios
	if cat == nil {
		cat = scenarios.All()
	}
	if len(o.Names) == 0 {
		return nil, fmt.Errorf("no scenario named (scenarios: %s; groups: %s)",
			strings.Join(cat.Names(), ", "), strings.Join(cat.GroupNames(), ", "))
	}
	selected, err := cat.Select(o.Names)
	if err != nil {
		return nil, err
	}
	// Configured thresholds are checked for every scenario, selected or
	// not, so a typo in a config file fails every run, not just some.
	p := &Plan{catalog: cat, version: o.Version, progress: o.Progress}
	byName := map[string]*item{}
	for _, sc := range cat {
		s, err := o.Config.Settings(sc.Name, o.Flags)
		if err != nil {
			return nil, err
		}
		if o.Profile != nil {
			s.Observe = o.Profile.Observe(sc.Name)
		}
		it := &item{sc: sc, settings: s}
		if s.Rate > 0 || len(s.Stages) > 0 {
			// The generator's self-check: in open loop a run where the
			// load generator, not the component, fell behind fails.
			s.Thresholds = append(s.Thresholds, "achieved_rate_ratio>0.99")
		}
		for _, expr := range s.Thresholds {
			t, err := threshold.Parse(expr)
			if err != nil {
				return nil, fmt.Errorf("config: scenarios.%s.thresholds: %w", sc.Name, err)
			}
			if why := cannotApply(t, s); why != "" {
				it.notes = append(it.notes, why)
				continue
			}
			if t.Scope != "" && t.Scope != sc.Name && t.Scope != sc.Group {
				return nil, fmt.Errorf("config: scenarios.%s.thresholds: %q: scope %q is not this scenario", sc.Name, expr, t.Scope)
			}
			if err := checkMetrics(t, sc); err != nil {
				return nil, fmt.Errorf("config: scenarios.%s.thresholds: %w", sc.Name, err)
			}
			it.thresholds = append(it.thresholds, t)
		}
		byName[sc.Name] = it
	}
	for _, sc := range selected {
		it := byName[sc.Name]
		if sc.Unmet != nil && o.Require {
			if why := sc.Unmet(it.settings); why != "" {
				return nil, fmt.Errorf("%s cannot run: %s, and --require is set", sc.Name, why)
			}
		}
		p.items = append(p.items, *it)
	}
	for _, expr := range o.Thresholds {
		if err := p.addThreshold(expr); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// addThreshold parses a command-line threshold and gives it to the selected
// scenarios it applies to: those of its scope, or, unscoped, every selected
// scenario that reports its metric.
func (p *Plan) addThreshold(expr string) error {
	t, err := threshold.Parse(expr)
	if err != nil {
		return err
	}
	groups := p.catalog.Groups()
	if t.Scope != "" {
		_, isScenario := p.catalog.Lookup(t.Scope)
		if _, isGroup := groups[t.Scope]; !isScenario && !isGroup {
			return fmt.Errorf("threshold %q: unknown scope %q (scenarios: %s; groups: %s)", expr, t.Scope,
				strings.Join(p.catalog.Names(), ", "), strings.Join(p.catalog.GroupNames(), ", "))
		}
	}
	matched := 0
	for i := range p.items {
		it := &p.items[i]
		if t.Scope != "" && t.Scope != it.sc.Name && t.Scope != it.sc.Group && t.Scope != "all" {
			continue
		}
		err := checkMetrics(t, it.sc)
		if err != nil && t.Scope != "" {
			return err
		}
		if err == nil {
			it.thresholds = append(it.thresholds, t)
			matched++
		}
	}
	if matched > 0 {
		return nil
	}
	if t.Scope != "" {
		return fmt.Errorf("threshold %q: scope %q selects none of the scenarios being run (%s)", expr, t.Scope, strings.Join(p.Names(), ", "))
	}
	return fmt.Errorf("threshold %q: no scenario being run (%s) reports %s", expr, strings.Join(p.Names(), ", "), metricNames(t))
}

// checkMetrics reports a metric of t that sc does not report.
func checkMetrics(t threshold.Threshold, sc *scenarios.Scenario) error {
	for _, m := range t.Metrics() {
		if m.Kind != "" && !sc.HasKind(m.Kind) {
			kinds := "it has one kind of operation"
			if len(sc.Kinds) > 0 {
				kinds = "its kinds: " + strings.Join(sc.Kinds, ", ")
			}
			return fmt.Errorf("threshold %q: scenario %s has no kind of operation %q (%s)", t.Expr, sc.Name, m.Kind, kinds)
		}
		if m.Kind != "" {
			continue // every kind has the latency figures, ops, errors and throughput
		}
		if m.Percentile == 0 && !sc.HasMetric(m.Name) {
			known := append(append([]string(nil), scenarios.Common...), sc.Metrics...)
			return fmt.Errorf("threshold %q: scenario %s has no metric %q (metrics: %s, and percentiles such as p99 or p(99.9))",
				t.Expr, sc.Name, m.Name, strings.Join(known, ", "))
		}
	}
	return nil
}

func metricNames(t threshold.Threshold) string {
	var out []string
	for _, m := range t.Metrics() {
		out = append(out, m.Name)
	}
	return strings.Join(out, " and ")
}

// Names returns the planned scenarios' names, in run order.
func (p *Plan) Names() []string {
	out := make([]string, len(p.items))
	for i, it := range p.items {
		out[i] = it.sc.Name
	}
	return out
}

// Run runs the plan. It always returns a report: a scenario that fails to
// run is recorded as an error and the next one runs; when ctx ends, the
// scenario under way is recorded as interrupted and no other starts.
func (p *Plan) Run(ctx context.Context) *report.Report {
	r := &report.Report{
		Schema:      report.Schema,
		ToolVersion: p.version,
		StartedAt:   time.Now(),
		Environment: Environment(),
		Scenarios:   []report.Scenario{},
	}
	prog := p.observer()
	for _, it := range p.items {
		if ctx.Err() != nil {
			r.Interrupted = true
			break
		}
		it.settings.Tick = prog.Started(it.sc.Name, it.settings)
		s, pe := p.runOne(ctx, it)
		prog.Finished(&s, pe)
		if s.Status == report.StatusInterrupted {
			r.Interrupted = true
		}
		r.Scenarios = append(r.Scenarios, s)
	}
	r.FinishedAt = time.Now()
	r.Passed = !r.Interrupted
	for _, s := range r.Scenarios {
		// A skipped scenario neither passes nor fails the run.
		r.Passed = r.Passed && (s.Passed || s.Status == report.StatusSkipped)
	}
	return r
}

// observer is the plan's Progress, silent when it was given none.
func (p *Plan) observer() Progress {
	if p.progress == nil {
		return silent{}
	}
	return p.progress
}

// runOne runs one planned scenario into its report, and returns the panic
// that made it an error, if one did.
func (p *Plan) runOne(ctx context.Context, it item) (report.Scenario, *harness.PanicError) {
	s := report.Scenario{
		Name:        it.sc.Name,
		Group:       it.sc.Group,
		Mode:        "closed-loop",
		Concurrency: it.settings.Concurrency,
		Counters:    map[string]int64{},
		Metrics:     map[string]float64{},
		Thresholds:  []report.Threshold{},
	}
	if it.sc.Unmet != nil {
		if why := it.sc.Unmet(it.settings); why != "" {
			s.Status, s.Reason = report.StatusSkipped, why
			return s, nil
		}
	}
	outs, interrupted, err := p.runs(ctx, it)
	if err != nil {
		s.Status, s.Error = report.StatusError, err.Error()
		var pe *harness.PanicError
		errors.As(err, &pe)
		return s, pe
	}
	if len(outs) == 0 {
		s.Status = report.StatusInterrupted
		s.Notes = append(s.Notes, "interrupted while setting up: nothing was measured")
		return s, nil
	}
	out := outs[0]
	if len(outs) > 1 {
		s.Repeat = repeatOf(outs, judgeOf(it.settings))
		out = merge(outs)
	}
	s.Component = out.Component
	s.Ops, s.Errors, s.WarmupOps = out.Ops, out.Errors, out.WarmupOps
	s.DurationNS = int64(out.Duration)
	s.ThroughputOpsPerSec = out.Throughput()
	s.Latency = latencyOf(out)
	s.Operations = operationsOf(out)
	s.IntervalNS, s.Intervals = int64(outs[0].IntervalLength), intervalsOf(outs)
	s.Precision = precisionOf(outs)
	if enc, err := out.Latency.Encode(); err == nil {
		s.Histogram = enc
	} else {
		s.Notes = append(s.Notes, fmt.Sprintf("the histogram could not be encoded: %v", err))
	}
	if out.Rate > 0 {
		if enc, err := out.Uncorrected.Encode(); err == nil {
			s.HistogramUncorrected = enc
		}
		s.Mode, s.TargetRateOpsPerSec = "open-loop", out.Rate
		u := report.LatencyOf(out.Uncorrected.Summary())
		s.LatencyUncorrected = &u
	}
	for k, v := range out.Counters {
		s.Counters[k] = v
	}
	for k, v := range out.Metrics {
		s.Metrics[k] = v
	}
	s.Notes = append(append(append([]string(nil), out.Notes...), naNotes(s.Metrics, out.Notes)...), it.notes...)
	if n := precisionNote(s.Precision, outs[0].IntervalLength); n != "" {
		s.Notes = append(s.Notes, n)
	}
	for _, t := range out.Tiers {
		s.Tiers = append(s.Tiers, tierOf(t.Name, out.TierLatency[t.Name]))
	}
	if out.Errors > 0 {
		s.Notes = append(s.Notes, fmt.Sprintf("%d operations failed and are not in ops, throughput or latency; the first: %v", out.Errors, out.FirstError))
	}
	if interrupted {
		s.Status = report.StatusInterrupted
		note := "interrupted: figures cover the operations that ran; thresholds were not judged"
		if n := it.settings.Count; n > 1 {
			note += fmt.Sprintf(" (%d of %d runs)", len(outs), n)
		}
		s.Notes = append(s.Notes, note)
		return s, nil
	}
	s.Passed = true
	for _, t := range it.thresholds {
		o := judge(t, outs, judgeOf(it.settings))
		rt := report.Threshold{Expr: t.Expr, Metric: metricNames(t), Op: string(t.Op), Limit: t.Limit, Actual: report.Float(o.Actual), Pass: o.Pass}
		if t.Right != nil {
			rt.Metric = t.Left.Name + "/" + t.Right.Name
		}
		if t.IsLatency() {
			rt.Unit = "ns"
		}
		s.Thresholds = append(s.Thresholds, rt)
		s.Passed = s.Passed && o.Pass
	}
	s.Status = report.StatusFailed
	if s.Passed {
		s.Status = report.StatusPassed
	}
	return s, nil
}

// tierOf is a tier's report: its name and the latency of its own calls
// (its counts are in the scenario's counters already).
func tierOf(name string, lat *latency.Summary) report.Tier {
	rt := report.Tier{Name: name}
	if lat != nil {
		l := report.LatencyOf(*lat)
		rt.Latency = &l
	}
	return rt
}

func latencyOf(out *scenarios.Outcome) report.Latency { return report.LatencyOf(out.Latency.Summary()) }

// source gives thresholds the figures of one outcome. Latency figures do
// not exist when no operation succeeded; a metric that is n/a fails.
func source(out *scenarios.Outcome) threshold.Source {
	l := out.Latency.Summary()
	return threshold.Figures{
		Ops: float64(out.Ops), Errors: float64(out.Errors), Throughput: out.Throughput(), Duration: float64(out.Duration),
		Min: float64(l.Min), Mean: l.Mean, Stdev: l.Stdev, Max: float64(l.Max),
		Latencies:  out.Latency.Count() > 0,
		Percentile: func(p float64) float64 { return float64(out.Latency.Percentile(p)) },
		Metrics:    out.Metrics, Counters: out.Counters,
		Kinds: kindFigures(out),
	}.Source()
}

// scheduled is how long an open-loop run's measured phase is scheduled to
// last: its stages, its duration, or its operations at the rate (the j-th
// is due at j/rate, and each has an interval: ops/rate in all).
func scheduled(s config.Settings) time.Duration {
	switch {
	case len(s.Stages) > 0:
		return s.Stages.Total()
	case s.Duration > 0:
		return s.Duration
	case s.Rate > 0:
		return time.Duration(float64(s.Ops) / s.Rate * float64(time.Second))
	}
	return 0
}

// openLoop adds an open-loop outcome's achieved_rate_ratio to its metrics
// (metric.AchievedRateRatio: over the scheduled window, n/a for a run too
// short to tell), with a note when it is n/a; it does nothing in closed
// loop. Each run of a repeated scenario gets its own, so the scenario's is
// the median of the runs', as for every metric.
func openLoop(out *scenarios.Outcome, s config.Settings) {
	if out.Rate <= 0 {
		return
	}
	if out.Metrics == nil {
		out.Metrics = map[string]float64{}
	}
	v, why := metric.AchievedRateRatio(out.Ops+out.Errors, scheduled(s), out.Duration, out.Rate)
	if out.Interrupted {
		v, why = metric.NA, "achieved_rate_ratio is n/a: the run was interrupted before its schedule's end"
	}
	out.Metrics[metric.AchievedRate.Name] = v
	if why != "" {
		out.Notes = append(out.Notes, why)
	}
	if n, m := out.Ops+out.Errors, out.Scheduled; !out.Interrupted && n < m {
		out.Notes = append(out.Notes, fmt.Sprintf("the generator fell behind: issued %d of %d scheduled operations in %s (%.4g%%); the measured phase ended on time, without the rest",
			n, m, scheduled(s), 100*float64(n)/float64(m)))
	}
}

// naNotes are notes for the metrics that are n/a and that no note names,
// so that every n/a in a report says it is one.
func naNotes(metrics map[string]float64, notes []string) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(metrics)) {
		if metric.Valid(metrics[k]) {
			continue
		}
		named := false
		for _, n := range notes {
			named = named || strings.Contains(n, k+" is n/a")
		}
		if !named {
			out = append(out, k+" is n/a: it could not be computed; a threshold on it fails")
		}
	}
	return out
}

// Environment describes this machine.
func Environment() report.Environment {
	host, _ := os.Hostname()
	return report.Environment{
		GoVersion:  runtime.Version(),
		OS:         runtime.GOOS,
		Arch:       runtime.GOARCH,
		GOMAXPROCS: runtime.GOMAXPROCS(0),
		NumCPU:     runtime.NumCPU(),
		CPUModel:   cpuModel(),
		Hostname:   host,
	}
}

// cpuModel reads the first "model name" of /proc/cpuinfo; "" elsewhere.
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
