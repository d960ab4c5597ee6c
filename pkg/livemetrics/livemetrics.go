// Package livemetrics exposes a run as Prometheus metrics while it runs:
// per scenario, the operations done, the errors, the latency as a
// histogram (native, and classic buckets for a Prometheus without native
// histograms), the current and target rates, the phase of the run, and
// the cache's and the limiter's counters.
//
// The model, from the workers to a scrape:
//
//  1. Workers record into their own HdrHistograms and hand them to the
//     harness's collector goroutine at each interval's end (package
//     harness); nothing here runs on a worker's goroutine, and the hot
//     loop is what it was.
//  2. Every harness.TickEvery, the collector calls the tick the Exporter
//     returned from Started (it is an engine.Progress) with the
//     latencies and errors it has folded so far (harness.Progress). The
//     tick copies them, under the Exporter's mutex, into histograms the
//     Exporter made when the scenario started: a copy only when a new
//     interval was folded, and no allocation, so the collector's
//     goroutine stays as quiet as it was (scenarios add their
//     component's counters to the same call).
//  3. A scrape (Collect) takes the mutex, turns those copies into
//     Prometheus histograms, counters and gauges, and lets go: the
//     buckets are built on the scraper's goroutine, from the copy, never
//     from what the collector is merging.
//  4. When a scenario finishes, its figures are frozen: histograms from
//     the report's own (every operation, late hand-overs included),
//     counters from the report's, each never below what was published
//     live, so counters only grow; its copies are dropped.
//
// What is published lags the workers by one to two intervals (the
// collector folds an interval once every worker has moved past it); the
// operations counter and the histogram's count always agree, since they
// are one figure. Families are prefixed rustci_perf_, in base units
// (seconds), counters end in _total; the Catalogue lists them.
package livemetrics

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rustci/rustci-perf/pkg/config"
	"github.com/rustci/rustci-perf/pkg/engine"
	"github.com/rustci/rustci-perf/pkg/harness"
	"github.com/rustci/rustci-perf/pkg/latency"
	"github.com/rustci/rustci-perf/pkg/report"
	"github.com/rustci/rustci-perf/pkg/scenarios"
)

// Statuses are the phases a scenario goes through, as the
// rustci_perf_scenario_status state set names them: pending until it
// starts, running, then the report's status.
var Statuses = []string{"pending", "running", report.StatusPassed, report.StatusFailed, report.StatusError, report.StatusSkipped, report.StatusInterrupted}

// Options configure an Exporter.
type Options struct {
	// Scenarios are those the run may run, for the kinds of operation
	// each mixes; nil: the built-in ones.
	Scenarios scenarios.Catalog
	// RunID, when not empty, labels rustci_perf_run_info, and Version
	// with it.
	RunID, Version string
	// Now is the wall clock, for the histograms' created timestamps;
	// nil: time.Now.
	Now func() time.Time
}

// Exporter is an engine.Progress that keeps what a run has done so far
// as Prometheus metrics, in a registry of its own (Registry).
type Exporter struct {
	cat       scenarios.Catalog
	runID     string
	version   string
	now       func() time.Time
	reg       *prometheus.Registry
	mu        sync.Mutex
	scenarios []*scenario // in plan order, then in the order they started
}

var (
	_ engine.Progress       = (*Exporter)(nil)
	_ engine.SearchProgress = (*Exporter)(nil)
	_ prometheus.Collector  = (*collector)(nil)
)

// New returns an Exporter with its metrics registered in a new registry.
func New(o Options) (*Exporter, error) {
	e := &Exporter{cat: o.Scenarios, runID: o.RunID, version: o.Version, now: o.Now, reg: prometheus.NewRegistry()}
	if e.cat == nil {
		e.cat = scenarios.All()
	}
	if e.now == nil {
		e.now = time.Now
	}
	if err := e.reg.Register(&collector{e: e}); err != nil {
		return nil, fmt.Errorf("live metrics: %w", err)
	}
	return e, nil
}

// Registry is the registry the Exporter's metrics are in, and only they.
func (e *Exporter) Registry() *prometheus.Registry { return e.reg }

// scenario is what is published of one scenario. Its fields are guarded
// by the Exporter's mutex.
type scenario struct {
	name   string
	status string
	// run is the run under way (from 1), of runs.
	run, runs int
	// target is the open-loop target rate now, 0 in a closed loop;
	// stages, when set, make it vary.
	target float64
	stages harness.Stages
	// created is when the scenario started, the counters' and
	// histograms' start.
	created time.Time
	elapsed time.Duration
	// rate is the successful operations per second over the last
	// intervals folded; through and ok are where it was last computed.
	rate    float64
	through time.Duration
	ok      int64
	// kinds are the scenario's kinds of operation, one unnamed when it
	// does not mix them.
	kinds []*kind
	// counters are the scenario's counters (l1_hits, allowed) of the
	// runs before this one, and live those of this run so far.
	counters, live map[string]int64
	finished       bool
}

// kind is one kind of operation's latencies and errors.
type kind struct {
	name string
	// cur is a copy of the running run's latencies folded so far, errs
	// its errors; prev and prevErrs those of the runs before it. Nil
	// once the scenario finished, when final holds them all.
	cur, prev      *latency.Recorder
	errs, prevErrs int64
	final          *dist
	finalErrs      int64
}

// count is the successful operations published of k.
func (k *kind) count() int64 {
	if k.final != nil {
		return int64(k.final.count)
	}
	return k.cur.Count() + k.prev.Count()
}

// errors is the failed operations published of k.
func (k *kind) errors() int64 {
	if k.final != nil {
		return k.finalErrs
	}
	return k.errs + k.prevErrs
}

// Plan names the scenarios a run will run, in order, so that each is
// published as pending before it starts.
func (e *Exporter) Plan(names []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, n := range names {
		if e.find(n) == nil {
			e.scenarios = append(e.scenarios, &scenario{name: n, status: "pending", runs: 1})
		}
	}
}

// find returns the scenario named, nil when there is none; e.mu is held.
func (e *Exporter) find(name string) *scenario {
	for _, s := range e.scenarios {
		if s.name == name {
			return s
		}
	}
	return nil
}

// Started publishes scenario name as running and returns the tick that
// keeps its figures. It allocates, here on the engine's goroutine, every
// histogram the tick will copy into.
func (e *Exporter) Started(name string, st config.Settings) func(harness.Progress) {
	var names []string
	if sc, ok := e.cat.Lookup(name); ok {
		names = sc.Kinds
	}
	if len(names) == 0 {
		names = []string{""}
	}
	s := &scenario{name: name, status: "running", run: 1, runs: max(1, st.Count), target: st.Rate, stages: st.Stages,
		created: e.now(), counters: map[string]int64{}, live: map[string]int64{}}
	for _, n := range names {
		s.kinds = append(s.kinds, &kind{name: n, cur: latency.NewRecorder(), prev: latency.NewRecorder()})
	}
	if len(st.Stages) > 0 {
		s.target = st.Stages.RateAt(0)
	}
	e.mu.Lock()
	if i := slices.IndexFunc(e.scenarios, func(o *scenario) bool { return o.name == name }); i >= 0 {
		e.scenarios[i] = s
	} else {
		e.scenarios = append(e.scenarios, s)
	}
	e.mu.Unlock()
	return func(p harness.Progress) { e.tick(s, p) }
}

// tick keeps what p tells of s's run. It runs on the harness's collector
// goroutine: it copies into histograms made beforehand and writes map
// entries that exist after the first tick, so it allocates nothing after
// that.
func (e *Exporter) tick(s *scenario, p harness.Progress) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if p.Elapsed < s.elapsed || p.Through < s.through {
		// A new run began (--count, a capacity search's next step):
		// what the last one published stays, under prev.
		s.endRun()
	}
	s.elapsed = p.Elapsed
	if len(s.stages) > 0 {
		s.target = s.stages.RateAt(p.Elapsed)
	}
	for _, c := range p.Counters {
		// A counter read live may dip for a moment (L1's hits less
		// its expired reads): what was published stands.
		if v, ok := s.live[c.Name]; !ok || c.Value > v {
			s.live[c.Name] = c.Value
		}
	}
	if p.Through == s.through || p.Latency == nil {
		return
	}
	// A new interval was folded: copy the totals, and the rate over what
	// it added.
	switch {
	case len(p.Kinds) == len(s.kinds) && len(s.kinds) > 1:
		for i, k := range s.kinds {
			k.cur.Reset()
			k.cur.Merge(p.Kinds[i].Latency)
			k.errs = p.Kinds[i].Errors
		}
	default:
		// One kind, or kinds the catalogue did not name: all of them as
		// the first.
		k := s.kinds[0]
		k.cur.Reset()
		k.cur.Merge(p.Latency)
		k.errs = p.Errors
	}
	ok := p.Latency.Count()
	s.rate = float64(ok-s.ok) / (p.Through - s.through).Seconds()
	s.ok, s.through = ok, p.Through
}

// endRun moves what the run under way published to prev, so that a new
// run starts from nothing; e.mu is held.
func (s *scenario) endRun() {
	for _, k := range s.kinds {
		if k.cur == nil {
			continue
		}
		k.prev.Merge(k.cur)
		k.cur.Reset()
		k.prevErrs += k.errs
		k.errs = 0
	}
	for n, v := range s.live {
		s.counters[n] += v
		s.live[n] = 0
	}
	s.elapsed, s.through, s.ok, s.rate = 0, 0, 0, 0
}

// Run publishes that run i of n of scenario name begins.
func (e *Exporter) Run(name string, i, n int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if s := e.find(name); s != nil && !s.finished {
		if i > 1 {
			s.endRun()
		}
		s.run, s.runs = i, n
	}
}

// Step is told each step of a capacity search; each step's run is
// published as it goes, its ticks telling a new run apart.
func (e *Exporter) Step(string, int, report.CapacityStep) {}

// Finished freezes what is published of the scenario rep reports: the
// report's histograms and counters, which hold every operation, each
// unless it holds fewer than were published live (a capacity search
// reports one step of the many that ran), and its status.
func (e *Exporter) Finished(rep *report.Scenario, _ *harness.PanicError) {
	finals := map[string]*dist{"": decode(rep.Histogram)}
	errs := map[string]int64{"": rep.Errors}
	for _, o := range rep.Operations {
		finals[o.Name], errs[o.Name] = decode(o.Histogram), o.Errors
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.find(rep.Name)
	if s == nil {
		s = &scenario{name: rep.Name, runs: 1, created: e.now(), counters: map[string]int64{}, live: map[string]int64{}}
		e.scenarios = append(e.scenarios, s)
	}
	if s.finished {
		return
	}
	s.endRun()
	for _, k := range s.kinds {
		live := newDist()
		live.add(k.prev)
		if f := finals[k.name]; f != nil && f.count >= live.count {
			live = f
		}
		k.final, k.finalErrs = live, max(k.prevErrs, errs[k.name])
		k.cur, k.prev = nil, nil
	}
	for n, v := range rep.Counters {
		if published, ok := s.counters[n]; !ok || v > published {
			s.counters[n] = v
		}
	}
	s.status, s.finished, s.rate, s.target = rep.Status, true, 0, 0
}

// decode is the distribution of an encoded report histogram; nil when
// there is none, or it does not decode.
func decode(enc string) *dist {
	if enc == "" {
		return nil
	}
	r, err := latency.Decode(enc)
	if err != nil {
		return nil
	}
	d := newDist()
	d.add(r)
	return d
}
