package merge

import (
	"strings"
	"testing"
	"time"

	"github.com/rustci/rustci-perf/internal/reportcheck"
	"github.com/rustci/rustci-perf/pkg/report"
)

// costOf is a run of lat with what it cost: cpu CPU time, bytes allocated,
// a peak resident set, and the figures per operation derived from them.
func costOf(t *testing.T, lat []time.Duration, cpu, bytes int64, peak float64) report.Scenario {
	t.Helper()
	s := runOf(t, lat, int64(len(lat)), 0, time.Second, 1)
	n := float64(len(lat))
	s.Counters["cpu_user"], s.Counters["cpu_system"], s.Counters["alloc_bytes"], s.Counters["allocs"] = cpu, 0, bytes, 0
	s.Metrics["cpu_per_op"], s.Metrics["alloc_bytes_per_op"], s.Metrics["allocs_per_op"] = float64(cpu)/n, float64(bytes)/n, 0
	s.Metrics["peak_rss_bytes"] = peak
	return s
}

// TestMergeCost: what runs or machines cost per operation is their CPU
// time and allocations summed over their operations summed (not the mean
// of their figures per operation: 100 operations at 1µs and 300 at 3µs
// cost 2.5µs each); the peak resident set is the runs' median one after
// another, and left out, with a note, of machines at the same time.
func TestMergeCost(t *testing.T) {
	a := costOf(t, spread(100, time.Microsecond, time.Microsecond), 100_000, 6400, 1<<20)
	b := costOf(t, spread(300, time.Microsecond, time.Microsecond), 900_000, 0, 3<<20)
	for _, mode := range []Mode{Sequential, Concurrent} {
		s, err := Scenario(mode, []report.Scenario{a, b}, []string{"a", "b"})
		if err != nil {
			t.Fatal(err)
		}
		for k, want := range map[string]float64{"cpu_per_op": 2500, "alloc_bytes_per_op": 16, "allocs_per_op": 0} {
			if got, ok := s.Metrics[k]; !ok || got != want {
				t.Errorf("%s: %s = %g (present %t); want %g", mode.parts(), k, got, ok, want)
			}
		}
		peak, kept := s.Metrics["peak_rss_bytes"]
		switch {
		case mode == Sequential && (!kept || peak != 2<<20):
			t.Errorf("runs: peak_rss_bytes %g (present %t); want the median, %d", peak, kept, 2<<20)
		case mode == Concurrent && kept:
			t.Errorf("reports: peak_rss_bytes %g kept; want it left out", peak)
		case mode == Concurrent && !leftOut(s.Notes, "peak_rss_bytes"):
			t.Errorf("reports: no note says peak_rss_bytes is left out:\n%s", strings.Join(s.Notes, "\n"))
		}
		s.Status, s.Passed = report.StatusPassed, true
		if s.Repeat != nil {
			s.Repeat.Judge = "median" // the caller's, as the engine's
		}
		reportcheck.Every(t, &report.Report{Schema: report.Schema, Passed: true, Scenarios: []report.Scenario{s}})
	}
}

// leftOut reports whether a note names figure among those left out.
func leftOut(notes []string, figure string) bool {
	for _, n := range notes {
		if list, ok := strings.CutPrefix(n, "left out, as sums cannot give them back: "); ok && strings.Contains(", "+list+",", ", "+figure+",") {
			return true
		}
	}
	return false
}
