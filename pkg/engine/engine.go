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
//     component set up afresh (repeat.go).
//  3. Each run becomes a report.Scenario; several are merged one after
//     another by package merge (merge.Sequential: durations add,
//     histograms merge exactly, each run is kept in Repeat), the same
//     merge that combines machines' reports (scenario.go).
//  4. Thresholds are judged on the runs: one run's value, or the median,
//     the worst or each of several (repeat.go).
//
// The engine draws nothing: a Progress, when given, is told as each
// scenario starts and ends and how its measured phase goes, and the
// program that runs the plan shows it.
package engine

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/rustci/rustci-perf/pkg/canary"
	"github.com/rustci/rustci-perf/pkg/config"
	"github.com/rustci/rustci-perf/pkg/fault"
	"github.com/rustci/rustci-perf/pkg/profile"
	"github.com/rustci/rustci-perf/pkg/report"
	"github.com/rustci/rustci-perf/pkg/scenarios"
	"github.com/rustci/rustci-perf/pkg/threshold"
)

// Options describe a run.
type Options struct {
	// Names are scenario or group names, as typed.
	Names []string
	// Config is the configuration: files and the command line, in
	// layers (config.New).
	Config *config.Config
	// Thresholds are added to the configured ones ("cache-read:p99<2ms").
	Thresholds []string
	// Provenance is written into the report: its tool's version is the
	// report's tool_version ("dev" when nil).
	Provenance *report.Provenance
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
	// Capacity, when not nil, searches each scenario's capacity instead
	// of running it once (capacity.go).
	Capacity *Capacity
	// Canary measures the machine's speed (package canary) before the
	// first scenario and after the last, into the report's environment:
	// for a history, whose trends tell a change of the machine from one
	// of the code by it. It costs about 2 × 150ms.
	Canary bool
}

// Plan is a validated run: scenarios in order, each with its settings and
// thresholds.
type Plan struct {
	catalog  scenarios.Catalog
	items    []item
	prov     *report.Provenance
	canary   bool
	progress Progress
	capacity *Capacity
	// injected are the faults injected, as the report lists them.
	injected []string
}

type item struct {
	sc         *scenarios.Scenario
	settings   config.Settings
	thresholds []threshold.Threshold
	// notes say which default thresholds are not judged, and why.
	notes []string
	// slos are the objectives of a capacity search, and budget the
	// scenario's share of its budget, given as it starts.
	slos   []threshold.Threshold
	budget time.Duration
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
	p := &Plan{catalog: cat, prov: o.Provenance, canary: o.Canary, progress: o.Progress, capacity: o.Capacity, injected: fault.Strings(o.Config.Inject)}
	byName := map[string]*item{}
	for _, sc := range cat {
		s, err := o.Config.Settings(sc.Name)
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
			if namesAnswer(t) && o.Capacity == nil {
				// A file's threshold on a search's answer waits for a
				// run that searches (--find-max-rate).
				it.notes = append(it.notes, fmt.Sprintf("threshold %s not judged: %s %s", t.Expr, metricNames(t), errNoSearch))
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
		if it.settings.Interval, err = intervalFor(sc.Name, it.settings, it.thresholds); err != nil {
			return nil, fmt.Errorf("config: scenarios.%s.thresholds: %w", sc.Name, err)
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
	if o.Capacity != nil {
		if err := p.planCapacity(o.Capacity); err != nil {
			return nil, err
		}
	}
	for _, expr := range o.Thresholds {
		if err := p.addThreshold(expr); err != nil {
			return nil, err
		}
	}
	// The command line's thresholds may window what the files' did not.
	for i := range p.items {
		it := &p.items[i]
		if it.settings.Interval, err = intervalFor(it.sc.Name, it.settings, it.thresholds); err != nil {
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
	if namesAnswer(t) && p.capacity == nil {
		return fmt.Errorf("threshold %q: %s %s", expr, metricNames(t), errNoSearch)
	}
	in, err := p.scoped(fmt.Sprintf("threshold %q", expr), t)
	if err != nil {
		return err
	}
	matched := 0
	for _, it := range in {
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

// scoped returns the planned items t's scope selects: every one when it
// has none, else those it names, by name, group or all. A scope that names
// no scenario or group of the catalog is an error; what says what t is
// (threshold "p99<1ms").
func (p *Plan) scoped(what string, t threshold.Threshold) ([]*item, error) {
	if t.Scope != "" {
		_, isScenario := p.catalog.Lookup(t.Scope)
		if _, isGroup := p.catalog.Groups()[t.Scope]; !isScenario && !isGroup {
			return nil, fmt.Errorf("%s: unknown scope %q (scenarios: %s; groups: %s)", what, t.Scope,
				strings.Join(p.catalog.Names(), ", "), strings.Join(p.catalog.GroupNames(), ", "))
		}
	}
	var in []*item
	for i := range p.items {
		it := &p.items[i]
		if t.Scope == "" || t.Scope == it.sc.Name || t.Scope == it.sc.Group || t.Scope == "all" {
			in = append(in, it)
		}
	}
	return in, nil
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
		ToolVersion: "dev",
		Provenance:  p.prov,
		StartedAt:   time.Now(),
		Environment: Environment(),
		Injected:    p.injected,
		Scenarios:   []report.Scenario{},
	}
	if p.prov != nil {
		r.ToolVersion = p.prov.Tool.Version
	}
	if p.canary {
		r.Environment.Canary = &report.Canary{Workload: canary.Workload, BeforeOpsPerSec: canary.Measure(ctx)}
	}
	prog := p.observer()
	for i, it := range p.items {
		if ctx.Err() != nil {
			r.Interrupted = true
			break
		}
		if p.capacity != nil {
			it.budget = p.share(i, time.Since(r.StartedAt))
		}
		it.settings.Tick = prog.Started(it.sc.Name, it.settings)
		s, pe := p.runOne(ctx, it)
		prog.Finished(&s, pe)
		if s.Status == report.StatusInterrupted {
			r.Interrupted = true
		}
		r.Scenarios = append(r.Scenarios, s)
	}
	if p.canary && !r.Interrupted {
		r.Environment.Canary.AfterOpsPerSec = canary.Measure(ctx)
	}
	r.FinishedAt = time.Now()
	r.Passed = !r.Interrupted
	for _, s := range r.Scenarios {
		// A skipped scenario neither passes nor fails the run.
		r.Passed = r.Passed && (s.Passed || s.Status == report.StatusSkipped)
	}
	return r
}

// share is the budget of the capacity search of item i, elapsed into the
// run: an even share of what is left among it and the items after it
// that will run (a skipped one takes none).
func (p *Plan) share(i int, elapsed time.Duration) time.Duration {
	left := 0
	for _, it := range p.items[i:] {
		if it.sc.Unmet == nil || it.sc.Unmet(it.settings) == "" {
			left++
		}
	}
	return max(0, p.capacity.Budget-elapsed) / time.Duration(max(left, 1))
}

// observer is the plan's Progress, silent when it was given none.
func (p *Plan) observer() Progress {
	if p.progress == nil {
		return silent{}
	}
	return p.progress
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
