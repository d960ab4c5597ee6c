package merge

import (
	"strings"
	"testing"
	"time"

	"github.com/rustci/rustci-perf/internal/reportcheck"
	"github.com/rustci/rustci-perf/pkg/metric"
	"github.com/rustci/rustci-perf/pkg/report"
)

// TestMergeNotComputable: figures the sums give nothing to divide by, or
// that a source could not compute, are n/a in the merge, with a note; the
// thresholds on them fail; the merged report is written in every format.
func TestMergeNotComputable(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	lat := []time.Duration{time.Millisecond, 2 * time.Millisecond}
	a, b := part(t, t0, lat, 0, 0, "1s"), part(t, t0, lat, 0, 0, "1s") // every read failed: hit_rate n/a
	for i, r := range []struct {
		ratio float64
		items int64
	}{{1, 0}, {metric.NA, 0}} {
		s := &[]*report.Report{a, b}[i].Scenarios[0]
		s.Mode, s.TargetRateOpsPerSec = "open-loop", 1000
		s.Metrics["achieved_rate_ratio"] = r.ratio
		s.Metrics["heap_bytes_per_item"] = metric.NA
		s.Counters["heap_bytes"], s.Counters["items_stored"] = -124, r.items
		s.Thresholds = append(s.Thresholds, report.Threshold{Expr: "achieved_rate_ratio>0.99"}, report.Threshold{Expr: "heap_bytes_per_item<1024"})
	}
	m, err := Reports([]Input{{"a.json", a}, {"b.json", b}}, report.Tool{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	s := m.Scenarios[0]
	reportcheck.NotComputable(t, s.Metrics, s.Notes, []string{"hit_rate", "achieved_rate_ratio", "heap_bytes_per_item"},
		"hit_rate is n/a: hits + misses is 0", "achieved_rate_ratio is n/a: it is n/a in source 2", "heap_bytes_per_item is n/a: items_stored is 0")
	for _, th := range s.Thresholds {
		if strings.HasPrefix(th.Expr, "p99") {
			continue
		}
		if th.Pass || th.Actual != nil {
			t.Errorf("%s: pass %t, actual %v; want n/a, failed", th.Expr, th.Pass, th.Actual)
		}
	}
	if s.Passed || m.Passed {
		t.Error("a merge with n/a thresholds passed")
	}
	reportcheck.Every(t, m)
}

// TestMergeDerivesAgain: with counts to divide by, the catalogue's figures
// come from the sums, and achieved_rate_ratio is what the sources achieved
// together over their targets together.
func TestMergeDerivesAgain(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	lat := []time.Duration{time.Millisecond}
	a, b := part(t, t0, lat, 9, 1, "1s"), part(t, t0, lat, 1, 9, "1s")
	for i, r := range []struct {
		target, ratio float64
		heap, items   int64
	}{{100, 1, 1000, 10}, {900, 0.5, 3000, 10}} {
		s := &[]*report.Report{a, b}[i].Scenarios[0]
		s.Mode, s.TargetRateOpsPerSec = "open-loop", r.target
		s.Metrics["achieved_rate_ratio"] = r.ratio
		s.Metrics["heap_bytes_per_item"] = float64(r.heap) / float64(r.items)
		s.Counters["heap_bytes"], s.Counters["items_stored"] = r.heap, r.items
	}
	m, err := Reports([]Input{{"a.json", a}, {"b.json", b}}, report.Tool{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	s := m.Scenarios[0]
	// hits 10 of 20; 100 + 450 of 1000; 4000 bytes over 20 items
	for k, want := range map[string]float64{"hit_rate": 0.5, "achieved_rate_ratio": 0.55, "heap_bytes_per_item": 200} {
		if got := s.Metrics[k]; got < want-1e-9 || got > want+1e-9 {
			t.Errorf("merged %s = %g; want %g", k, got, want)
		}
	}
	reportcheck.Every(t, m)
}

// TestMergeWindowedNotComputable: a merge of machines keeps none of their
// intervals, so a threshold judged per window, which held on each
// machine, has no window in the merge: it fails as n/a, with a note, and
// the merged report is written in every format.
func TestMergeWindowedNotComputable(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	lat := []time.Duration{time.Millisecond, 2 * time.Millisecond}
	a, b := part(t, t0, lat, 2, 0, "1s"), part(t, t0, lat, 2, 0, "2s")
	for _, r := range []*report.Report{a, b} {
		held := 1.0e6
		r.Scenarios[0].Thresholds = append(r.Scenarios[0].Thresholds, report.Threshold{
			Expr: "p99[1s, 90%]<10ms", Metric: "p99", Op: "<", Limit: 1e7, Unit: "ns", Actual: &held, Pass: true,
			Windows: &report.Windows{LengthNS: 1e9, SharePct: 90, Held: 1, Total: 1, Worst: &report.WindowAt{}},
		})
	}
	m, err := Reports([]Input{{"a.json", a}, {"b.json", b}}, report.Tool{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	s := m.Scenarios[0]
	var got *report.Threshold
	for i := range s.Thresholds {
		if s.Thresholds[i].Expr == "p99[1s, 90%]<10ms" {
			got = &s.Thresholds[i]
		}
	}
	if got == nil {
		t.Fatalf("the windowed threshold is not in the merge: %+v", s.Thresholds)
	}
	if got.Pass || got.Actual != nil || got.Windows == nil || got.Windows.Total != 0 || got.Windows.Worst != nil || got.Windows.LengthNS != 1e9 || got.Windows.SharePct != 90 {
		t.Errorf("merged %s: pass %t, actual %v, windows %+v; want n/a, failed, no window of 1s", got.Expr, got.Pass, got.Actual, got.Windows)
	}
	if notes := strings.Join(s.Notes, "\n"); !strings.Contains(notes, "p99[1s, 90%]<10ms is n/a: a merge of machines keeps none of their intervals") {
		t.Errorf("no note says why the windowed threshold is n/a:\n%s", notes)
	}
	if s.Passed || s.Status != report.StatusFailed || m.Passed {
		t.Errorf("a merge with a windowed threshold n/a: status %s, passed %t/%t; want failed", s.Status, s.Passed, m.Passed)
	}
	reportcheck.Every(t, m)
}
