package scenarios

import (
	"testing"

	"github.com/rustci/rustci-perf/internal/reportcheck"
	"github.com/rustci/rustci-perf/pkg/cost"
	"github.com/rustci/rustci-perf/pkg/harness"
)

// TestAddCost: the harness's cost of a phase becomes the catalogue's
// figures: totals as counters, per operation run (failed ones too) as
// metrics; what a system does not measure is n/a with a note, as is a
// figure per operation of a phase that ran none; a peak since the process
// started says so.
func TestAddCost(t *testing.T) {
	u := cost.Usage{User: 300, System: 100, CPU: true, AllocBytes: 6400, Allocs: 100, GCCycles: 2, GCPause: 5000,
		PeakRSS: 1 << 20, Peak: cost.PeakStretch, HeapLive: 4096, Goroutines: 7}
	out := &Outcome{Result: &harness.Result{Ops: 90, Errors: 10, Cost: &u}}
	addCost(out)
	for name, want := range map[string]int64{"cpu_user": 300, "cpu_system": 100, "alloc_bytes": 6400, "allocs": 100, "gc_cycles": 2, "gc_pause_total": 5000} {
		if got, ok := out.Counters[name]; !ok || got != want {
			t.Errorf("counter %s = %d (present %t); want %d", name, got, ok, want)
		}
	}
	for name, want := range map[string]float64{"cpu_per_op": 4, "alloc_bytes_per_op": 64, "allocs_per_op": 1, "peak_rss_bytes": 1 << 20, "heap_live_bytes": 4096, "goroutines": 7} {
		if got, ok := out.Metrics[name]; !ok || got != want {
			t.Errorf("metric %s = %g (present %t); want %g", name, got, ok, want)
		}
	}
	if len(out.Notes) > 0 {
		t.Errorf("notes %q; want none", out.Notes)
	}

	// No CPU time, a peak since the process started, no operation.
	u = cost.Usage{PeakRSS: 1 << 20, Peak: cost.PeakProcess}
	out = &Outcome{Result: &harness.Result{Cost: &u}}
	addCost(out)
	reportcheck.NotComputable(t, out.Metrics, out.Notes, []string{"cpu_per_op", "alloc_bytes_per_op", "allocs_per_op"},
		"cpu_per_op is n/a: the process's CPU time is not measured", "alloc_bytes_per_op is n/a: ops + errors is 0",
		"peak_rss_bytes is the process's high-water mark since it started")

	// A run stopped before measuring has no cost.
	out = &Outcome{Result: &harness.Result{Interrupted: true}}
	addCost(out)
	if len(out.Counters)+len(out.Metrics) > 0 {
		t.Errorf("counters %v, metrics %v for a run that measured nothing; want none", out.Counters, out.Metrics)
	}
}
