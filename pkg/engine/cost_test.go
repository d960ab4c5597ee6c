package engine

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"strings"
	"testing"

	"github.com/rustci/rustci-perf/internal/reportcheck"
	"github.com/rustci/rustci-perf/pkg/config"
	"github.com/rustci/rustci-perf/pkg/harness"
	"github.com/rustci/rustci-perf/pkg/metric"
	"github.com/rustci/rustci-perf/pkg/report"
	"github.com/rustci/rustci-perf/pkg/scenarios"
)

// costly is a scenario of one worker whose every operation calls op.
func costly(name string, op func()) *scenarios.Scenario {
	return scenarios.New(name, "test", "", nil, func(ctx context.Context, s config.Settings) (*scenarios.Outcome, error) {
		res, err := harness.Run(ctx, harness.Config{Workers: 1, Ops: s.Ops, WarmupOps: 10}, func(int) harness.Op {
			return func(int) (harness.Kind, error) { op(); return 0, nil }
		})
		if err != nil {
			return nil, err
		}
		return &scenarios.Outcome{Result: res}, nil
	})
}

var sink []byte

// allocating allocates size bytes, one object, per operation.
func allocating(size int) *scenarios.Scenario {
	return costly("allocating", func() { sink = make([]byte, size) })
}

// TestWhatAnOperationCosts: every scenario reports what its operations
// cost, its own as well as the built-in ones. An operation that allocates
// 256 bytes costs that (within 5%: the harness's collector and meter, and
// the runtime, allocate a little beside it) and one allocation; one that
// forces a collection costs at least a GC cycle; CPU time per operation
// is more than nothing, and the CPU time in all is at most every CPU of
// the machine for the whole phase (no speed is asserted).
func TestWhatAnOperationCosts(t *testing.T) {
	const size, ops = 256, 20000
	run := func(sc *scenarios.Scenario, ops int) report.Scenario {
		t.Helper()
		p := &Plan{items: []item{{sc: sc, settings: config.Settings{Params: config.Params{Ops: ops, Concurrency: 1}}}}}
		s := p.Run(context.Background()).Scenarios[0]
		if s.Status != report.StatusPassed {
			t.Fatalf("%s: status %s: %s", sc.Name, s.Status, s.Error)
		}
		return s
	}

	s := run(allocating(size), ops)
	if v := s.Metrics["alloc_bytes_per_op"]; v < size*0.98 || v > size*1.05 {
		t.Errorf("alloc_bytes_per_op %g for operations of %d bytes; want %g to %g", v, size, size*0.98, size*1.05)
	}
	if v := s.Metrics["allocs_per_op"]; v < 0.98 || v > 1.05 {
		t.Errorf("allocs_per_op %g for operations of one allocation; want 0.98 to 1.05", v)
	}
	if runtime.GOOS == "linux" || runtime.GOOS == "darwin" {
		cpu := s.Counters["cpu_user"] + s.Counters["cpu_system"]
		bound := s.DurationNS*int64(runtime.NumCPU()) + 5e6 // the meter's reads at either end, microsecond rounding
		if v := s.Metrics["cpu_per_op"]; !(v > 0) || cpu > bound {
			t.Errorf("cpu_per_op %g, CPU time %dns in all over %dns on %d CPUs; want more than 0, at most %d",
				v, cpu, s.DurationNS, runtime.NumCPU(), bound)
		}
		if s.Metrics["peak_rss_bytes"] < float64(s.Metrics["heap_live_bytes"]) {
			t.Errorf("peak_rss_bytes %g under heap_live_bytes %g", s.Metrics["peak_rss_bytes"], s.Metrics["heap_live_bytes"])
		}
	}

	const collections = 20
	s = run(costly("collecting", runtime.GC), collections)
	if n := s.Counters["gc_cycles"]; n < collections || s.Counters["gc_pause_total"] <= 0 {
		t.Errorf("gc_cycles %d, gc_pause_total %dns for %d operations that each force a collection; want at least %d, more than 0",
			n, s.Counters["gc_pause_total"], collections, collections)
	}
}

// TestCostThresholds: a threshold can name each figure of what an
// operation cost, is judged on it, and shows in every format: each here
// is made to fail, so that the formats that list only missed thresholds
// (Markdown, JUnit) list it too.
func TestCostThresholds(t *testing.T) {
	var exprs []string
	for _, d := range metric.CostFigures() {
		if d.Unit == metric.NS {
			exprs = append(exprs, d.Name+">1000000s") // a latency's limit takes a unit
		} else {
			exprs = append(exprs, d.Name+">1e15")
		}
	}
	p := &Plan{items: []item{{sc: allocating(64), settings: config.Settings{Params: config.Params{Ops: 2000, Concurrency: 1}},
		thresholds: thresholds(t, exprs...)}}}
	r := p.Run(context.Background())
	s := r.Scenarios[0]
	if s.Status != report.StatusFailed || len(s.Thresholds) != len(exprs) {
		t.Fatalf("status %s, %d thresholds; want failed, %d", s.Status, len(s.Thresholds), len(exprs))
	}
	for _, th := range s.Thresholds {
		want := metric.NA
		if v, ok := s.Counters[th.Metric]; ok {
			want = float64(v)
		} else if v, ok := s.Metrics[th.Metric]; ok {
			want = v
		}
		if th.Pass || th.Actual == nil || *th.Actual != want {
			t.Errorf("%s: pass %t, actual %v; want missed, on the figure (%g)", th.Expr, th.Pass, th.Actual, want)
		}
		if d, _ := metric.Lookup(th.Metric); (th.Unit == "ns") != (d.Unit == metric.NS) {
			t.Errorf("%s: unit %q; want the catalogue's", th.Expr, th.Unit)
		}
	}
	out := reportcheck.Every(t, r)
	for format, b := range out {
		if format == "gobench" || format == "csv" {
			continue // no thresholds: their figures are below
		}
		for _, expr := range exprs {
			// XML and HTML escape ">", and so does Go's JSON.
			shown := false
			for _, gt := range []string{">", "&gt;", `\u003e`} {
				shown = shown || strings.Contains(string(b), strings.ReplaceAll(expr, ">", gt))
			}
			if !shown {
				t.Errorf("%s does not show %s", format, expr)
			}
		}
	}
	for _, col := range []string{"cpu-ns/op", "B/op", "allocs/op"} {
		if runtime.GOOS != "linux" && runtime.GOOS != "darwin" && col == "cpu-ns/op" {
			continue
		}
		if !strings.Contains(string(out["gobench"]), " "+col) {
			t.Errorf("gobench has no %s:\n%s", col, out["gobench"])
		}
	}
	for _, d := range metric.CostFigures() {
		if !strings.Contains(string(out["csv"]), "\nallocating,,"+d.Name+",") {
			t.Errorf("csv has no row of %s:\n%s", d.Name, out["csv"])
		}
	}
}

// TestCostOfRepeatedRuns: with --count, what an operation cost is all the
// runs' CPU time and allocations over all their operations, derived again
// from the summed counters, and the peak resident set the median of the
// runs'.
func TestCostOfRepeatedRuns(t *testing.T) {
	p := &Plan{items: []item{{sc: allocating(128), settings: config.Settings{Params: config.Params{Ops: 3000, Concurrency: 1, Count: 3}}}}}
	s := p.Run(context.Background()).Scenarios[0]
	if s.Repeat == nil || len(s.Repeat.Runs) != 3 {
		t.Fatalf("repeat %+v; want 3 runs", s.Repeat)
	}
	n := float64(s.Ops + s.Errors)
	for name, want := range map[string]float64{
		"alloc_bytes_per_op": float64(s.Counters["alloc_bytes"]) / n,
		"allocs_per_op":      float64(s.Counters["allocs"]) / n,
	} {
		if got := s.Metrics[name]; math.Abs(got-want) > 1e-9*want {
			t.Errorf("%s %g; want the summed counter over the %g operations, %g", name, got, n, want)
		}
	}
	var peaks []float64
	for _, run := range s.Repeat.Runs {
		peaks = append(peaks, run.Metrics["peak_rss_bytes"])
	}
	if st, ok := s.Repeat.Stats["peak_rss_bytes"]; !ok || st.Median != s.Metrics["peak_rss_bytes"] {
		t.Errorf("peak_rss_bytes %g, runs' %v (stat %+v); want their median", s.Metrics["peak_rss_bytes"], peaks, st)
	}
	if !strings.Contains(fmt.Sprint(s.Notes), "peak_rss_bytes") {
		t.Errorf("notes %q; want one saying peak_rss_bytes is the median of the runs'", s.Notes)
	}
}
