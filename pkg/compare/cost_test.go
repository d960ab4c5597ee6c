package compare

import (
	"strings"
	"testing"

	"github.com/rustci/rustci-perf/pkg/report"
)

// withCost gives each run of r's scenario the figures per operation of
// what its measured phase cost, fig[name][run], and the scenario the
// first run's.
func withCost(r *report.Report, fig map[string][]float64) *report.Report {
	s := &r.Scenarios[0]
	for name, vals := range fig {
		s.Metrics[name] = vals[0]
		for j := range s.Repeat.Runs {
			s.Repeat.Runs[j].Metrics[name] = vals[j]
		}
	}
	return r
}

// TestCostCompared: what an operation costs is compared as every metric
// is, in the catalogue's unit and direction: CPU time per operation
// doubled, and one allocation more per operation, are regressions, even
// where the U test alone decides; bytes per operation five times as many
// but still under a byte is the process's background, not the
// operation's, and says so.
func TestCostCompared(t *testing.T) {
	base := withCost(synthetic(baseTPS, same), map[string][]float64{
		"cpu_per_op":         {100, 101, 99, 100, 102},
		"allocs_per_op":      {2, 2, 2, 2, 2},
		"alloc_bytes_per_op": {0.010, 0.012, 0.011, 0.009, 0.010},
	})
	nw := withCost(synthetic(baseTPS, same), map[string][]float64{
		"cpu_per_op":         {200, 201, 199, 202, 198},
		"allocs_per_op":      {3, 3, 3, 3, 3},
		"alloc_bytes_per_op": {0.050, 0.052, 0.049, 0.051, 0.050},
	})
	c, err := Reports(Side{Name: "base", Report: base}, Side{Name: "new", Report: nw}, Defaults)
	if err != nil {
		t.Fatal(err)
	}
	got := verdicts(c)
	for name, want := range map[string]struct{ unit, verdict string }{
		"cpu_per_op":         {"ns", report.Regression},
		"allocs_per_op":      {"", report.Regression},
		"alloc_bytes_per_op": {"bytes", report.NoChange},
	} {
		ch, ok := got[name]
		if !ok || ch.Unit != want.unit || ch.Verdict != want.verdict {
			t.Errorf("%s: unit %q, verdict %q (compared %t; %s); want %q, %q", name, ch.Unit, ch.Verdict, ok, ch.Note, want.unit, want.verdict)
		}
	}
	if n := got["alloc_bytes_per_op"].Note; !strings.Contains(n, "under 16 bytes per operation: the process's background") {
		t.Errorf("alloc_bytes_per_op note %q; want the floor said", n)
	}
	writesFinite(t, c)
}
