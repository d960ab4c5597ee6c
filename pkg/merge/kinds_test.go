package merge

import (
	"strings"
	"testing"
	"time"

	"github.com/rustci/rustci-perf/pkg/latency"
	"github.com/rustci/rustci-perf/pkg/report"
	"github.com/rustci/rustci-perf/pkg/threshold"
)

// mixed is one machine's report of scenario "latency", reads and writes,
// with the thresholds a run of it judges per kind, and one interval.
func mixed(t *testing.T, start time.Time, reads, writes []time.Duration) *report.Report {
	t.Helper()
	all := latency.NewRecorder()
	kind := func(name string, lat []time.Duration) report.Operation {
		rec := latency.NewRecorder()
		for _, d := range lat {
			rec.Record(d)
			all.Record(d)
		}
		enc, err := rec.Encode()
		if err != nil {
			t.Fatal(err)
		}
		return report.Operation{Name: name, Ops: int64(len(lat)), ThroughputOpsPerSec: float64(len(lat)),
			Latency: report.LatencyOf(rec.Summary()), Histogram: enc}
	}
	ops := []report.Operation{kind("read", reads), kind("write", writes)}
	enc, err := all.Encode()
	if err != nil {
		t.Fatal(err)
	}
	var ths []report.Threshold
	for _, expr := range []string{"read.p99/read.p50<20", "write.p99/write.p50<2", "write.throughput>150"} {
		th, err := threshold.Parse(expr)
		if err != nil {
			t.Fatal(err)
		}
		ths = append(ths, report.Threshold{Expr: expr, Op: string(th.Op), Limit: th.Limit, Pass: true})
	}
	return &report.Report{
		Schema: report.Schema, StartedAt: start, FinishedAt: start.Add(10 * time.Second), Passed: true,
		Scenarios: []report.Scenario{{
			Name: "latency", Group: "cache", Status: report.StatusPassed, Passed: true, Mode: "closed-loop", Concurrency: 2,
			Ops: all.Count(), DurationNS: int64(time.Second), ThroughputOpsPerSec: float64(all.Count()),
			Latency: report.LatencyOf(all.Summary()), Histogram: enc, Operations: ops,
			IntervalNS: int64(time.Second), Intervals: []report.Interval{{DurationNS: int64(time.Second), Ops: all.Count(), Histogram: enc}},
			Counters: map[string]int64{}, Metrics: map[string]float64{}, Thresholds: ths,
		}},
	}
}

func spread(n int, from, step time.Duration) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = from + time.Duration(i)*step
	}
	return out
}

// TestMergeKinds: each kind's operations, errors and throughput add up,
// its histogram is the union of the sources', and the thresholds naming a
// kind are judged again on the merged kind: two machines whose writes are
// each tight (write.p99/write.p50 about 1.1), one ten times slower, miss
// write.p99/write.p50<2 together; each of their 100 writes a second misses
// write.throughput>150 alone and holds it by the sum. The sources'
// intervals are left out, and said so.
func TestMergeKinds(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	aw := spread(100, time.Millisecond, time.Microsecond)       // 1ms..1.1ms
	bw := spread(100, 10*time.Millisecond, 10*time.Microsecond) // 10ms..11ms
	ar, br := spread(900, time.Microsecond, time.Microsecond), spread(800, time.Microsecond, time.Microsecond)
	m, err := Reports([]Input{{"a.json", mixed(t, t0, ar, aw)}, {"b.json", mixed(t, t0, br, bw)}}, report.Tool{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	s := m.Scenarios[0]
	if len(s.Operations) != 2 || s.Operations[0].Name != "read" || s.Operations[1].Name != "write" {
		t.Fatalf("operations %+v; want read, then write", s.Operations)
	}
	w := s.Operations[1]
	union := latency.NewRecorder()
	for _, d := range append(aw, bw...) {
		union.Record(d)
	}
	if w.Ops != 200 || w.ThroughputOpsPerSec != 200 || w.Latency.Count != 200 || w.Latency.P99 != int64(union.Percentile(99)) || w.Latency.P50 != int64(union.Percentile(50)) {
		t.Errorf("write: %+v; want 200 ops at 200/s, the union's p50 %s and p99 %s", w, union.Percentile(50), union.Percentile(99))
	}
	if h, err := latency.Decode(w.Histogram); err != nil || h.Count() != 200 || h.Percentile(99.9) != union.Percentile(99.9) {
		t.Errorf("write histogram: %v; want the union's 200 values", err)
	}
	if r := s.Operations[0]; r.Ops != 1700 || r.ThroughputOpsPerSec != 1700 {
		t.Errorf("read: ops %d, throughput %g; want 1700, 1700", r.Ops, r.ThroughputOpsPerSec)
	}
	pass := map[string]bool{}
	for _, th := range s.Thresholds {
		pass[th.Expr] = th.Pass
		if th.Actual == nil {
			t.Errorf("%s: no actual value; want the merged kind's", th.Expr)
		}
	}
	want := map[string]bool{"read.p99/read.p50<20": true, "write.p99/write.p50<2": false, "write.throughput>150": true}
	for expr, ok := range want {
		if p, judged := pass[expr]; !judged || p != ok {
			t.Errorf("%s: judged %t, pass %t; want pass %t on the merged kinds", expr, judged, p, ok)
		}
	}
	if s.Passed || s.Status != report.StatusFailed {
		t.Errorf("merged scenario passed %t, status %s; want failed on write.p99/write.p50<2", s.Passed, s.Status)
	}
	if len(s.Intervals) != 0 || !strings.Contains(strings.Join(s.Notes, "\n"), "intervals are left out") {
		t.Errorf("intervals %d, notes %q; want none, and a note saying why", len(s.Intervals), s.Notes)
	}
}
