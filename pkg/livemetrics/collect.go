// The metric families, and a scrape.

package livemetrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rustci/rustci-perf/pkg/metric"
)

// Prefix starts every family's name.
const Prefix = "rustci_perf_"

// Family describes one metric family the Exporter exposes.
type Family struct {
	// Name is the family's full name; a histogram's series add _bucket,
	// _count and _sum to it.
	Name   string
	Type   prometheus.ValueType // prometheus.CounterValue, GaugeValue, or UntypedValue for a histogram
	Help   string
	Labels []string
	desc   *prometheus.Desc
	// counter, for the families that publish a scenario's counter, is
	// its name in the report with the tier (l1_hits), or without it.
	counter string
	tiered  bool
}

// Histogram says whether f is a histogram.
func (f Family) Histogram() bool { return f.Name == latencyF.Name }

// limiterCounters are the limiter's counters, as the report names them.
var limiterCounters = []string{"allowed", "denied", "fallback", "redis_ok", "redis_errors", "timeouts", "switches"}

// counterNote says when a component's counter is published.
const counterNote = " (measured phase only; live every 200ms while the scenario runs, exact once it finished)"

// The families every scenario has.
var (
	runInfo    = &Family{Name: Prefix + "run_info", Type: prometheus.GaugeValue, Help: "1, labelled with the run's id (run; the Pushgateway groups pushes by it as run_id) and rustci-perf's version.", Labels: []string{"run", "version"}}
	status     = &Family{Name: Prefix + "scenario_status", Type: prometheus.GaugeValue, Help: "1 for the scenario's current status, 0 for the others: pending, running, then the report's (passed, failed, error, skipped, interrupted).", Labels: []string{"scenario", "status"}}
	run        = &Family{Name: Prefix + "scenario_run", Type: prometheus.GaugeValue, Help: "The run of the scenario under way, from 1 (--count); the last once it finished.", Labels: []string{"scenario"}}
	runs       = &Family{Name: Prefix + "scenario_runs", Type: prometheus.GaugeValue, Help: "How many runs of the scenario are planned (--count).", Labels: []string{"scenario"}}
	elapsed    = &Family{Name: Prefix + "scenario_elapsed_seconds", Type: prometheus.GaugeValue, Help: "Time since the measured phase of the scenario's run under way began.", Labels: []string{"scenario"}}
	operations = &Family{Name: Prefix + "operations_total", Type: prometheus.CounterValue, Help: "Measured operations that succeeded, as the report's ops (warmup excluded), by kind in a scenario that mixes kinds; equal to the latency histogram's count. Lags the workers by one to two intervals while the scenario runs.", Labels: []string{"scenario", "kind"}}
	errorsF    = &Family{Name: Prefix + "errors_total", Type: prometheus.CounterValue, Help: "Measured operations that failed, as the report's errors; not in operations_total or the latency histogram.", Labels: []string{"scenario", "kind"}}
	latencyF   = &Family{Name: Prefix + "latency_seconds", Type: prometheus.UntypedValue, Help: "Latency of the successful measured operations (from when each was due, in an open loop), from the workers' HdrHistograms: native buckets (schema 4) and classic ones.", Labels: []string{"scenario", "kind"}}
	rate       = &Family{Name: Prefix + "rate_operations_per_second", Type: prometheus.GaugeValue, Help: "Successful operations per second over the last interval the workers handed over; 0 when the scenario is not running.", Labels: []string{"scenario"}}
	target     = &Family{Name: Prefix + "target_rate_operations_per_second", Type: prometheus.GaugeValue, Help: "The open-loop target rate now (--rate, or --stages' ramp at this point); 0 in a closed loop or when the scenario is not running.", Labels: []string{"scenario"}}
)

// families are every family, in the order a scrape writes them: those
// every scenario has, then each cache tier counter (from the metric
// catalogue, which defines and documents them) and each limiter counter.
var families = func() []*Family {
	fs := []*Family{runInfo, status, run, runs, elapsed, operations, errorsF, latencyF, rate, target}
	for _, d := range metric.TierCounters() {
		if d.Name == "degraded" {
			continue // a state at the end of the run, not a count
		}
		fs = append(fs, &Family{Name: Prefix + "cache_" + d.Name + "_total", Type: prometheus.CounterValue,
			Help: "Cache tier counter: " + d.Doc + counterNote + ".", Labels: []string{"scenario", "tier"}, counter: d.Name, tiered: true})
	}
	for _, n := range limiterCounters {
		d, _ := metric.Lookup(n)
		fs = append(fs, &Family{Name: Prefix + "limiter_" + n + "_total", Type: prometheus.CounterValue,
			Help: "Rate limiter counter: " + d.Doc + counterNote + ".", Labels: []string{"scenario"}, counter: n})
	}
	for _, f := range fs {
		f.desc = prometheus.NewDesc(f.Name, f.Help, f.Labels, nil)
	}
	return fs
}()

// Families returns every family the Exporter exposes, in the order a
// scrape writes them.
func Families() []Family {
	out := make([]Family, len(families))
	for i, f := range families {
		out[i] = *f
	}
	return out
}

// collector is the Exporter as a prometheus.Collector.
type collector struct{ e *Exporter }

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, f := range families {
		ch <- f.desc
	}
}

// Collect writes every family from the Exporter's copies, under its
// mutex: a running scenario's histograms are built here, on the
// scraper's goroutine.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	e := c.e
	e.mu.Lock()
	defer e.mu.Unlock()
	send := func(f *Family, v float64, labels ...string) {
		m, err := prometheus.NewConstMetric(f.desc, f.Type, v, labels...)
		if err != nil {
			m = prometheus.NewInvalidMetric(f.desc, err)
		}
		ch <- m
	}
	if e.runID != "" {
		send(runInfo, 1, e.runID, e.version)
	}
	for _, s := range e.scenarios {
		for _, st := range Statuses {
			v := 0.0
			if st == s.status {
				v = 1
			}
			send(status, v, s.name, st)
		}
		send(run, float64(s.run), s.name)
		send(runs, float64(s.runs), s.name)
		send(elapsed, s.elapsed.Seconds(), s.name)
		if s.status == "pending" || s.status == "skipped" {
			continue
		}
		for _, k := range s.kinds {
			send(operations, float64(k.count()), s.name, k.name)
			send(errorsF, float64(k.errors()), s.name, k.name)
			d := k.final
			if d == nil {
				d = newDist()
				d.add(k.prev)
				d.add(k.cur)
			}
			m, err := d.metric(latencyF.desc, s.created, s.name, k.name)
			if err != nil {
				m = prometheus.NewInvalidMetric(latencyF.desc, err)
			}
			ch <- m
		}
		send(rate, s.rate, s.name)
		send(target, s.target, s.name)
		for _, f := range families {
			if f.counter == "" {
				continue
			}
			if !f.tiered {
				if v, ok := s.counter(f.counter); ok {
					send(f, float64(v), s.name)
				}
				continue
			}
			for _, t := range metric.Tiers {
				if v, ok := s.counter(t + "_" + f.counter); ok {
					send(f, float64(v), s.name, t)
				}
			}
		}
	}
}

// counter is the scenario's counter named: the runs' before this one and
// this one's so far; ok is false when it has none of that name.
func (s *scenario) counter(name string) (int64, bool) {
	v, ok := s.counters[name]
	l, live := s.live[name]
	return v + l, ok || live
}
