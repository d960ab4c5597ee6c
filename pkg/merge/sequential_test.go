package merge

import (
	"strings"
	"testing"
	"time"

	"github.com/rustci/rustci-perf/internal/reportcheck"
	"github.com/rustci/rustci-perf/pkg/latency"
	"github.com/rustci/rustci-perf/pkg/metric"
	"github.com/rustci/rustci-perf/pkg/report"
)

// runOf is one run of an open-loop cache-read at 100/s: its latencies
// (the uncorrected view half of each), hits and misses, how long it took,
// its achieved_rate_ratio, one interval, and tiers l1 and l3 (l3 timed).
func runOf(t *testing.T, lat []time.Duration, hits, misses int64, took time.Duration, ratio float64) report.Scenario {
	t.Helper()
	s := part(t, time.Time{}, lat, hits, misses, "1s").Scenarios[0]
	s.DurationNS, s.ThroughputOpsPerSec = int64(took), float64(len(lat))/took.Seconds()
	s.Mode, s.TargetRateOpsPerSec = "open-loop", 100
	s.Metrics["achieved_rate_ratio"] = ratio
	u := latency.NewRecorder()
	for _, d := range lat {
		u.Record(d / 2)
	}
	enc, err := u.Encode()
	if err != nil {
		t.Fatal(err)
	}
	ul := report.LatencyOf(u.Summary())
	s.HistogramUncorrected, s.LatencyUncorrected = enc, &ul
	s.IntervalNS = int64(took)
	s.Intervals = []report.Interval{{DurationNS: int64(took), Ops: s.Ops, ThroughputOpsPerSec: s.ThroughputOpsPerSec,
		P50NS: s.Latency.P50, P99NS: s.Latency.P99, MaxNS: s.Latency.Max, Histogram: s.Histogram}}
	l3 := s.Latency
	s.Tiers = []report.Tier{{Name: "l1"}, {Name: "l3", Latency: &l3}}
	s.Status, s.Passed, s.Thresholds = "", false, []report.Threshold{}
	return s
}

// TestSequential: runs one after another merge into all their operations
// over all their time. 900 fast reads in 1s, then 100 slow ones in 4s:
// the histogram (and the uncorrected one) is the union's, durations add
// (5s) and throughput is 1000 over them (200/s, not the 500/s of the mean
// of 900/s and 100/s, nor the 1000/s concurrent machines would add up
// to); hit_rate is derived again from the summed counters (910 of 1000:
// pooled, not 0.95, the median of 0.9 and 1); a figure counters cannot give
// back is the median of the runs'; workers and target are each run's;
// the intervals follow one another, each marked with its run; each run is
// kept in Repeat; the tiers are kept, without the latency of l3's calls,
// which a note says.
func TestSequential(t *testing.T) {
	var fast, slow []time.Duration
	union, unionU := latency.NewRecorder(), latency.NewRecorder()
	for i := 1; i <= 900; i++ {
		fast = append(fast, time.Duration(i)*time.Microsecond)
	}
	for i := 1; i <= 100; i++ {
		slow = append(slow, time.Duration(i)*time.Millisecond)
	}
	for _, d := range append(append([]time.Duration(nil), fast...), slow...) {
		union.Record(d)
		unionU.Record(d / 2)
	}
	runs := []report.Scenario{runOf(t, fast, 810, 90, time.Second, 0.9), runOf(t, slow, 100, 0, 4*time.Second, 0.7)}
	s, err := Scenario(Sequential, runs, []string{"run 1", "run 2"})
	if err != nil {
		t.Fatal(err)
	}
	if want := report.LatencyOf(union.Summary()); s.Latency != want {
		t.Errorf("latency %+v; want the union's %+v", s.Latency, want)
	}
	if want := report.LatencyOf(unionU.Summary()); s.LatencyUncorrected == nil || *s.LatencyUncorrected != want {
		t.Errorf("uncorrected latency %+v; want the union's %+v", s.LatencyUncorrected, want)
	}
	if h, err := latency.Decode(s.Histogram); err != nil || h.Count() != 1000 || h.Percentile(99.9) != union.Percentile(99.9) {
		t.Errorf("histogram: %v; want the union's 1000 values", err)
	}
	if s.Ops != 1000 || s.DurationNS != int64(5*time.Second) || s.ThroughputOpsPerSec != 200 || s.Concurrency != 4 || s.TargetRateOpsPerSec != 100 {
		t.Errorf("ops %d, duration %s, throughput %g, workers %d, target %g; want 1000, 5s, 200, 4, 100",
			s.Ops, time.Duration(s.DurationNS), s.ThroughputOpsPerSec, s.Concurrency, s.TargetRateOpsPerSec)
	}
	for k, want := range map[string]float64{"hit_rate": 0.91, "achieved_rate_ratio": 0.8, "admission_error": 0} {
		if got := s.Metrics[k]; got < want-1e-9 || got > want+1e-9 {
			t.Errorf("%s = %g; want %g", k, got, want)
		}
	}
	if len(s.Intervals) != 2 || s.Intervals[0].Run != 0 || s.Intervals[1].Run != 1 || s.IntervalNS != int64(time.Second) {
		t.Errorf("intervals %+v (every %d); want each run's, marked", s.Intervals, s.IntervalNS)
	}
	r := s.Repeat
	if r == nil || r.Count != 2 || len(r.Runs) != 2 || r.Runs[1].Ops != 100 || r.Runs[1].Histogram != runs[1].Histogram {
		t.Fatalf("repeat %+v; want both runs", r)
	}
	if st := r.Stats["throughput"]; st.Min != 25 || st.Max != 900 || st.Median != 462.5 {
		t.Errorf("throughput spread %+v; want 25 to 900, median 462.5", st)
	}
	if len(s.Tiers) != 2 || s.Tiers[1] != (report.Tier{Name: "l3"}) {
		t.Errorf("tiers %+v; want l1 and l3, without latency", s.Tiers)
	}
	notes := strings.Join(s.Notes, "\n")
	for _, want := range []string{"2 runs, one after another", "hit_rate derived again from the summed counters", "achieved_rate_ratio, admission_error the median of the runs'", "the latency of l3's own calls is left out"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
	s.Status, s.Passed = report.StatusPassed, true
	s.Repeat.Judge = "median"
	at := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	reportcheck.Every(t, &report.Report{Schema: report.Schema, StartedAt: at, FinishedAt: at.Add(5 * time.Second), Passed: true, Scenarios: []report.Scenario{s}})
}

// TestConcurrentKeepsWhatMerges: machines at the same time add their
// throughputs and workers; their uncorrected views merge too; their tiers
// are kept, without the latency of their own calls.
func TestConcurrentKeepsWhatMerges(t *testing.T) {
	lat := []time.Duration{time.Millisecond, 2 * time.Millisecond}
	a, b := runOf(t, lat, 2, 0, time.Second, 1), runOf(t, lat, 1, 1, time.Second, 0.5)
	s, err := Scenario(Concurrent, []report.Scenario{a, b}, []string{"a.json", "b.json"})
	if err != nil {
		t.Fatal(err)
	}
	if s.ThroughputOpsPerSec != 4 || s.DurationNS != int64(time.Second) || s.Concurrency != 8 || s.TargetRateOpsPerSec != 200 || s.Repeat != nil || len(s.Intervals) != 0 {
		t.Errorf("throughput %g, duration %s, workers %d, target %g, repeat %v, %d intervals; want 4, 1s, 8, 200, none, none",
			s.ThroughputOpsPerSec, time.Duration(s.DurationNS), s.Concurrency, s.TargetRateOpsPerSec, s.Repeat, len(s.Intervals))
	}
	if s.LatencyUncorrected == nil || s.LatencyUncorrected.Count != 4 || s.HistogramUncorrected == "" {
		t.Errorf("uncorrected %+v; want the four values", s.LatencyUncorrected)
	}
	if v := s.Metrics["achieved_rate_ratio"]; v != 0.75 || !metric.Valid(s.Metrics["hit_rate"]) {
		t.Errorf("achieved_rate_ratio %g, hit_rate %g; want 0.75, 0.75", v, s.Metrics["hit_rate"])
	}
	if _, ok := s.Metrics["admission_error"]; ok {
		t.Error("a metric sums cannot give back was kept")
	}
	if len(s.Tiers) != 2 || s.Tiers[1].Latency != nil {
		t.Errorf("tiers %+v; want l1 and l3, without latency", s.Tiers)
	}
}
func TestStatOf(t *testing.T) {
	for _, tt := range []struct {
		vals []float64
		want report.Stat
	}{
		{[]float64{1, 2, 3}, report.Stat{Median: 2, Min: 1, Max: 3, CV: 0.408248290463863}},
		// every run 0: no spread
		{[]float64{0, 0, 0}, report.Stat{}},
		// a mean of 0 with spread: no relative spread exists
		{[]float64{-1, 0, 1}, report.Stat{Median: 0, Min: -1, Max: 1, CV: metric.NA}},
		// n/a in one run: n/a throughout
		{[]float64{1, metric.NA, 3}, report.Stat{Median: metric.NA, Min: metric.NA, Max: metric.NA, CV: metric.NA}},
	} {
		got := statOf(tt.vals)
		same := func(a, b float64) bool {
			return a == b || !metric.Valid(a) && !metric.Valid(b) || (a-b < 1e-12 && b-a < 1e-12)
		}
		if !same(got.Median, tt.want.Median) || !same(got.Min, tt.want.Min) || !same(got.Max, tt.want.Max) || !same(got.CV, tt.want.CV) {
			t.Errorf("statOf(%v) = %+v; want %+v", tt.vals, got, tt.want)
		}
	}
}
