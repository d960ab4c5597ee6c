package livemetrics

import (
	"math"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/rustci/rustci-perf/pkg/config"
	"github.com/rustci/rustci-perf/pkg/harness"
	"github.com/rustci/rustci-perf/pkg/latency"
	"github.com/rustci/rustci-perf/pkg/report"
	"github.com/rustci/rustci-perf/pkg/scenarios"
)

func TestNativeIndex(t *testing.T) {
	for _, tt := range []struct {
		v    float64
		want int
	}{
		{1, 0},                   // 2^0 is the upper edge of bucket 0
		{1.0001, 1},              // just above it
		{2, 16},                  // 2^(16/16)
		{0.5, -16},               // 2^(-16/16)
		{math.Exp2(3.0 / 16), 3}, // an edge belongs to the bucket below
		{math.Exp2(2.5 / 16), 3}, // inside bucket 3
		{1e-6, -318},             // 1µs: log2 = -19.93, times 16 = -318.9
		{100e-9, -372},           // 100ns
	} {
		if got := nativeIndex(tt.v); got != tt.want {
			t.Errorf("nativeIndex(%g) = %d; want %d", tt.v, got, tt.want)
		}
	}
}

// TestDist: a distribution built from a Recorder counts every value
// once, in the native bucket and the classic one it falls in, with the
// sum in seconds.
func TestDist(t *testing.T) {
	r := latency.NewRecorder()
	for range 10 {
		r.Record(200 * time.Nanosecond)
	}
	for range 5 {
		r.Record(3 * time.Millisecond)
	}
	r.Record(20 * time.Second) // above every classic bound
	d := newDist()
	d.add(r)
	if d.count != 16 {
		t.Errorf("count %d; want 16", d.count)
	}
	if want := 10*200e-9 + 5*3e-3 + 20; math.Abs(d.sum-want)/want > 0.001 {
		t.Errorf("sum %gs; want %gs within 0.1%%", d.sum, want)
	}
	if got := d.native[nativeIndex(200e-9)]; got != 10 {
		t.Errorf("native bucket of 200ns holds %d; want 10", got)
	}
	classic := map[float64]uint64{}
	for i, b := range ClassicBounds {
		classic[b] = d.classic[i]
	}
	if classic[250e-9] != 10 || classic[5e-3] != 5 || d.classic[len(ClassicBounds)] != 1 {
		t.Errorf("classic buckets %v, above %d; want 10 in le=250ns, 5 in le=5ms, 1 above", classic, d.classic[len(ClassicBounds)])
	}
	var m dto.Metric
	mt, err := d.metric(latencyF.desc, time.Unix(0, 0), "s", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := mt.Write(&m); err != nil {
		t.Fatal(err)
	}
	h := m.GetHistogram()
	if h.GetSampleCount() != 16 || h.GetSchema() != Schema || len(h.GetBucket()) != len(ClassicBounds) || len(h.GetPositiveSpan()) == 0 {
		t.Errorf("histogram: count %d, schema %d, %d classic buckets, %d spans; want 16, %d, %d, some",
			h.GetSampleCount(), h.GetSchema(), len(h.GetBucket()), len(h.GetPositiveSpan()), Schema, len(ClassicBounds))
	}
	var native int64
	var delta int64
	for _, dl := range h.GetPositiveDelta() {
		delta += dl
		native += delta
	}
	if native != 16 {
		t.Errorf("native buckets hold %d; want 16", native)
	}
}

// gather scrapes e's registry into families by name.
func gather(t *testing.T, e *Exporter) map[string]*dto.MetricFamily {
	t.Helper()
	fs, err := e.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, f := range fs {
		out[f.GetName()] = f
	}
	return out
}

// get is the value of family name's series with the given label values,
// in the family's label order; NaN when there is none.
func get(fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	f := fams[name]
	if f == nil {
		return math.NaN()
	}
	for _, m := range f.GetMetric() {
		ok := len(m.GetLabel()) == len(labels)
		for _, lp := range m.GetLabel() {
			// Labels come sorted by name; compare as sets.
			found := false
			for _, v := range labels {
				found = found || lp.GetValue() == v
			}
			ok = ok && found
		}
		if !ok {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	return math.NaN()
}

// progress is a tick's Progress over rec, errs and counters.
func progress(elapsed, through time.Duration, rec *latency.Recorder, errs int64, counters ...harness.Counter) harness.Progress {
	return harness.Progress{Elapsed: elapsed, Through: through, Latency: rec, Errors: errs, Ops: rec.Count() + errs, Counters: counters}
}

func record(r *latency.Recorder, n int, d time.Duration) *latency.Recorder {
	for range n {
		r.Record(d)
	}
	return r
}

// TestExporterLifecycle follows a scenario of two runs through the
// Exporter: pending, running with ticks, a second run whose ticks start
// again from nothing, and finished with the report's figures; counters
// never decrease, and a histogram's count is the operations counter.
func TestExporterLifecycle(t *testing.T) {
	e, err := New(Options{RunID: "abc", Version: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	e.Plan([]string{"cache-read", "limiter"})
	fams := gather(t, e)
	if get(fams, "rustci_perf_scenario_status", "cache-read", "pending") != 1 || get(fams, "rustci_perf_scenario_status", "limiter", "pending") != 1 {
		t.Error("planned scenarios are not pending before they start")
	}
	if get(fams, "rustci_perf_run_info", "abc", "v1") != 1 {
		t.Error("no run_info{run=abc,version=v1}")
	}

	tick := e.Started("cache-read", config.Settings{Params: config.Params{Count: 2, Rate: 1000}})
	rec := latency.NewRecorder()
	hits := func(n int64) harness.Counter { return harness.Counter{Name: "l1_hits", Value: n} }
	tick(progress(200*time.Millisecond, 100*time.Millisecond, record(rec, 100, time.Microsecond), 1, hits(100)))
	fams = gather(t, e)
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"rustci_perf_scenario_status", []string{"cache-read", "running"}, 1},
		{"rustci_perf_scenario_runs", []string{"cache-read"}, 2},
		{"rustci_perf_operations_total", []string{"cache-read", ""}, 100},
		{"rustci_perf_latency_seconds", []string{"cache-read", ""}, 100},
		{"rustci_perf_errors_total", []string{"cache-read", ""}, 1},
		{"rustci_perf_rate_operations_per_second", []string{"cache-read"}, 1000}, // 100 in 100ms
		{"rustci_perf_target_rate_operations_per_second", []string{"cache-read"}, 1000},
		{"rustci_perf_cache_hits_total", []string{"cache-read", "l1"}, 100},
	} {
		if got := get(fams, c.name, c.labels...); got != c.want {
			t.Errorf("first run: %s%v = %g; want %g", c.name, c.labels, got, c.want)
		}
	}

	// Run 2 starts from nothing; what run 1 published stays.
	e.Run("cache-read", 2, 2)
	rec2 := record(latency.NewRecorder(), 30, time.Millisecond)
	tick(progress(100*time.Millisecond, 100*time.Millisecond, rec2, 0, hits(30)))
	fams = gather(t, e)
	if got := get(fams, "rustci_perf_operations_total", "cache-read", ""); got != 130 {
		t.Errorf("second run: operations_total %g; want 130, both runs'", got)
	}
	if got := get(fams, "rustci_perf_cache_hits_total", "cache-read", "l1"); got != 130 {
		t.Errorf("second run: cache_hits_total %g; want 130", got)
	}
	if got := get(fams, "rustci_perf_scenario_run", "cache-read"); got != 2 {
		t.Errorf("scenario_run %g; want 2", got)
	}

	// Finished: the report's histogram holds late hand-overs too.
	final := record(record(latency.NewRecorder(), 105, time.Microsecond), 30, time.Millisecond)
	enc, err := final.Encode()
	if err != nil {
		t.Fatal(err)
	}
	e.Finished(&report.Scenario{Name: "cache-read", Status: report.StatusPassed, Histogram: enc, Errors: 1, Counters: map[string]int64{"l1_hits": 135, "l1_misses": 0}}, nil)
	fams = gather(t, e)
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"rustci_perf_scenario_status", []string{"cache-read", "passed"}, 1},
		{"rustci_perf_scenario_status", []string{"cache-read", "running"}, 0},
		{"rustci_perf_operations_total", []string{"cache-read", ""}, 135},
		{"rustci_perf_latency_seconds", []string{"cache-read", ""}, 135},
		{"rustci_perf_errors_total", []string{"cache-read", ""}, 1},
		{"rustci_perf_rate_operations_per_second", []string{"cache-read"}, 0},
		{"rustci_perf_cache_hits_total", []string{"cache-read", "l1"}, 135},
		{"rustci_perf_cache_misses_total", []string{"cache-read", "l1"}, 0},
	} {
		if got := get(fams, c.name, c.labels...); got != c.want {
			t.Errorf("finished: %s%v = %g; want %g", c.name, c.labels, got, c.want)
		}
	}
}

// TestExporterKinds: a scenario that mixes kinds publishes each kind's
// figures under its name, and a capacity search's steps (ticks that start
// again with no Run) add up.
func TestExporterKinds(t *testing.T) {
	e, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	sc, _ := scenarios.Lookup("latency")
	tick := e.Started("latency", config.Settings{})
	step := func(reads, writes int) {
		r, w := record(latency.NewRecorder(), reads, time.Microsecond), record(latency.NewRecorder(), writes, time.Microsecond)
		all := latency.NewRecorder()
		all.Merge(r)
		all.Merge(w)
		p := progress(300*time.Millisecond, 200*time.Millisecond, all, 0)
		p.Kinds = []harness.KindProgress{{Name: sc.Kinds[0], Latency: r}, {Name: sc.Kinds[1], Latency: w}}
		tick(p)
	}
	step(90, 10)
	step(45, 5) // at the same point: no new interval folded
	fams := gather(t, e)
	if r, w := get(fams, "rustci_perf_operations_total", "latency", "read"), get(fams, "rustci_perf_operations_total", "latency", "write"); r != 90 || w != 10 {
		t.Errorf("reads %g, writes %g; want 90 and 10 (a tick that did not fold a new interval changes nothing)", r, w)
	}
	// The next step of a search: its elapsed starts again.
	r, w := record(latency.NewRecorder(), 45, time.Microsecond), record(latency.NewRecorder(), 5, time.Microsecond)
	all := latency.NewRecorder()
	all.Merge(r)
	all.Merge(w)
	p := progress(100*time.Millisecond, 100*time.Millisecond, all, 0)
	p.Kinds = []harness.KindProgress{{Name: "read", Latency: r}, {Name: "write", Latency: w}}
	tick(p)
	fams = gather(t, e)
	if r, w := get(fams, "rustci_perf_operations_total", "latency", "read"), get(fams, "rustci_perf_operations_total", "latency", "write"); r != 135 || w != 15 {
		t.Errorf("after a second step: reads %g, writes %g; want 135 and 15", r, w)
	}
	if got := get(fams, "rustci_perf_latency_seconds", "latency", "read"); got != 135 {
		t.Errorf("read histogram count %g; want 135", got)
	}
	// The report of a search holds one step: fewer than were published,
	// so what was published stands.
	enc, _ := record(latency.NewRecorder(), 45, time.Microsecond).Encode()
	e.Finished(&report.Scenario{Name: "latency", Status: report.StatusPassed, Operations: []report.Operation{{Name: "read", Ops: 45, Histogram: enc}}}, nil)
	fams = gather(t, e)
	if got := get(fams, "rustci_perf_operations_total", "latency", "read"); got != 135 {
		t.Errorf("finished: reads %g; want 135, never fewer than published", got)
	}
}

// TestTickAllocatesNothing: the tick the collector calls copies into
// memory made beforehand.
func TestTickAllocatesNothing(t *testing.T) {
	e, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	tick := e.Started("cache-read", config.Settings{})
	rec := record(latency.NewRecorder(), 1000, time.Microsecond)
	counters := []harness.Counter{{Name: "l1_hits", Value: 1}, {Name: "l1_misses"}}
	tick(progress(time.Second, 100*time.Millisecond, rec, 0, counters...)) // the first tick makes the counters' entries
	i := 1
	allocs := testing.AllocsPerRun(100, func() {
		i++
		counters[0].Value = int64(i)
		tick(progress(time.Duration(i)*time.Second, time.Duration(i)*100*time.Millisecond, rec, 0, counters...))
	})
	if allocs != 0 {
		t.Errorf("a tick allocates %g times; want none", allocs)
	}
}
