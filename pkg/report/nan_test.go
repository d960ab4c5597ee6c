package report_test

import (
	"bytes"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/rustci/rustci-perf/internal/reportcheck"
	"github.com/rustci/rustci-perf/pkg/latency"
	"github.com/rustci/rustci-perf/pkg/metric"
	"github.com/rustci/rustci-perf/pkg/report"
)

// notComputable is a report whose every figure that may be n/a is: a
// scenario with no successful operation (only errors), metrics NaN and
// infinite, a threshold on them, repeated runs whose stats are n/a, and a
// comparison that left a figure out.
func notComputable(t testing.TB) *report.Report {
	t.Helper()
	empty, err := latency.NewRecorder().Encode()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	na := metric.NA
	return &report.Report{
		Schema: report.Schema, ToolVersion: "v0.1.0", StartedAt: start, FinishedAt: start.Add(time.Second),
		Environment: report.Environment{GoVersion: "go1.26.8", OS: "linux", Arch: "amd64", GOMAXPROCS: 2, NumCPU: 2},
		Scenarios: []report.Scenario{{
			Name: "cache-l2", Group: "cache", Status: report.StatusFailed, Mode: "open-loop", TargetRateOpsPerSec: 0.1, Concurrency: 4,
			Errors: 40, DurationNS: 0, Histogram: empty, HistogramUncorrected: empty,
			LatencyUncorrected: &report.Latency{},
			// What the phase cost, where no CPU time or peak is measured:
			// nothing per operation of none.
			Counters: map[string]int64{"hits": 0, "misses": 0, "items_stored": 0, "heap_bytes": -248,
				"alloc_bytes": 0, "allocs": 0, "gc_cycles": 0, "gc_pause_total": 0},
			Metrics: metric.Values{"hit_rate": na, "heap_bytes_per_item": math.Inf(1), "allocs_per_op": math.Inf(-1), "achieved_rate_ratio": na,
				"cpu_per_op": na, "alloc_bytes_per_op": na, "peak_rss_bytes": na, "heap_live_bytes": 4096, "goroutines": 3},
			Thresholds: []report.Threshold{
				{Expr: "hit_rate>0.99", Metric: "hit_rate", Op: ">", Limit: 0.99, Actual: report.Float(na)},
				{Expr: "achieved_rate_ratio>0.99", Metric: "achieved_rate_ratio", Op: ">", Limit: 0.99, Actual: report.Float(math.Inf(1))},
				{Expr: "p99<1ms", Metric: "p99", Op: "<", Limit: 1e6, Unit: "ns"},
			},
			Notes: []string{"hit_rate is n/a: hits + misses is 0", "40 operations failed"},
			Repeat: &report.Repeat{Count: 2, Judge: "median",
				Stats: map[string]report.Stat{
					"throughput": {Median: 0, Min: 0, Max: 0, CV: 0},
					"hit_rate":   {Median: na, Min: na, Max: na, CV: na},
					"p99":        {Median: 5, Min: 0, Max: 10, CV: na},
				},
				Runs: []report.Run{
					{Errors: 20, Counters: map[string]int64{}, Metrics: metric.Values{"hit_rate": na, "cpu_per_op": na}},
					{Errors: 20, Counters: map[string]int64{}, Metrics: metric.Values{"hit_rate": na, "cpu_per_op": na}},
				}},
		}},
		Comparison: &report.Comparison{Base: "base.json", New: "new.json", Alpha: 0.05, MinEffect: 0.05,
			Scenarios: []report.ScenarioChange{{Name: "cache-l2", BaseRuns: 1, NewRuns: 2, Changes: []report.Change{},
				Notes: []string{"hit_rate not compared: n/a in the new report"}}}},
	}
}

// TestNotComputableInEveryFormat: a report whose figures cannot be computed
// is written in every format, n/a where a number would be, null in JSON,
// which validates and reads back with the figures still n/a.
func TestNotComputableInEveryFormat(t *testing.T) {
	out := reportcheck.Every(t, notComputable(t))
	for _, format := range []string{"text", "markdown", "junit", "html"} {
		if !strings.Contains(string(out[format]), "n/a") {
			t.Errorf("%s shows no n/a:\n%s", format, out[format])
		}
	}
	for _, format := range []string{"text", "markdown", "html"} {
		if !strings.Contains(string(out[format]), "cost: cpu n/a (user n/a") && !strings.Contains(string(out[format]), "| cache-l2 | n/a |") {
			t.Errorf("%s shows no n/a for cpu_per_op:\n%s", format, out[format])
		}
	}
	if strings.Contains(string(out["gobench"]), "CacheL2") {
		t.Errorf("gobench has a line for a scenario with no successful operation:\n%s", out["gobench"])
	}
	r := reportcheck.Output(t, "json", out["json"])
	if r == nil {
		t.FailNow()
	}
	s := r.Scenarios[0]
	for _, k := range []string{"hit_rate", "heap_bytes_per_item", "allocs_per_op", "achieved_rate_ratio", "cpu_per_op", "peak_rss_bytes"} {
		if v, ok := s.Metrics[k]; !ok || metric.Valid(v) {
			t.Errorf("metric %s read back as %g (present %t); want n/a", k, v, ok)
		}
	}
	if st := s.Repeat.Stats["p99"]; st.Median != 5 || metric.Valid(st.CV) {
		t.Errorf("p99 stat read back as %+v; want median 5, CV n/a", st)
	}
	for _, want := range []string{`"hit_rate": null`, `"cv": null`, `"actual": null`} {
		if !strings.Contains(string(out["json"]), want) {
			t.Errorf("json lacks %s", want)
		}
	}
}

// TestFiguresNeverWriteNaN: whatever mix of numbers, NaN and infinities
// the figures that may be n/a hold, every format writes the report.
func TestFiguresNeverWriteNaN(t *testing.T) {
	pick := []float64{0, -1, 0.5, 1e300, -1e-300, math.NaN(), math.Inf(1), math.Inf(-1)}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 30; i++ {
		r := notComputable(t)
		s := &r.Scenarios[0]
		any := func() float64 { return pick[rng.IntN(len(pick))] }
		for k := range s.Metrics {
			s.Metrics[k] = any()
			// A share (hit_rate) the run writes is in [0, 1] or n/a, and
			// reading refuses one outside.
			if d, _ := metric.Lookup(k); d.Share && metric.Valid(s.Metrics[k]) {
				s.Metrics[k] = math.Min(math.Abs(s.Metrics[k]), 1)
			}
		}
		s.Metrics["extra"] = any()
		for k := range s.Repeat.Stats {
			s.Repeat.Stats[k] = report.Stat{Median: any(), Min: any(), Max: any(), CV: math.Abs(any())} // a CV is never negative
		}
		for j := range s.Thresholds {
			s.Thresholds[j].Actual = report.Float(any())
		}
		if rng.IntN(2) == 0 {
			// some successful operations this time
			rec := latency.NewRecorder()
			rec.Record(time.Duration(rng.IntN(1e6)) + 1)
			s.Histogram, _ = rec.Encode()
			s.Ops, s.Latency = 1, report.LatencyOf(rec.Summary())
			s.DurationNS, s.ThroughputOpsPerSec = 1, 1e9
			// as the run writes it: the uncorrected view and the run it
			// was in count it too
			s.HistogramUncorrected, s.LatencyUncorrected = s.Histogram, &s.Latency
			run := &s.Repeat.Runs[0]
			run.Ops, run.Latency, run.Histogram = 1, s.Latency, s.Histogram
		}
		reportcheck.Every(t, r)
		if t.Failed() {
			var b bytes.Buffer
			_ = report.Text(&b, r)
			t.Fatalf("case %d:\n%s", i, b.String())
		}
	}
}
