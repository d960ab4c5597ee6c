package engine

import (
	"bytes"
	"context"
	"math"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/perf/benchfmt"

	"github.com/rustci/rustci-perf/pkg/config"
	"github.com/rustci/rustci-perf/pkg/report"
)

// TestGoBenchOfARealRun: benchstat's reader takes the gobench output of a
// real run, and finds on each line what the report holds: ns/op the run's
// measured wall time over its operations, as go test -bench writes it for
// b.RunParallel (not the mean latency, which is mean-ns, and differs with
// two workers), ops/s, the latencies, and what an operation cost (B/op is
// alloc_bytes_per_op, allocs/op allocs_per_op): memory, which measures
// its allocations, has them on each run's line. A kind of operation's line
// (latency mixes reads and writes) has its latencies and ops/s, neither
// ns/op nor the cost.
func TestGoBenchOfARealRun(t *testing.T) {
	p, err := NewPlan(Options{
		Names: []string{"memory", "latency"},
		Config: withFlags(t, func(l *config.Layer) {
			l.Defaults.Ops, l.Defaults.Concurrency, l.Defaults.Count = 600, 2, 2
			l.Set("defaults.ops", "--ops")
			l.Set("defaults.concurrency", "--concurrency")
			l.Set("defaults.count", "--count")
		}),
	})
	if err != nil {
		t.Fatal(err)
	}
	r := p.Run(context.Background())
	var b bytes.Buffer
	if err := report.GoBench(&b, r); err != nil {
		t.Fatal(err)
	}
	// What each line should say, by benchmark name, in benchstat's units
	// (it tidies ns into seconds), one map per line in order.
	want := map[string][]map[string]float64{}
	for _, s := range r.Scenarios {
		if s.Status != report.StatusPassed && s.Status != report.StatusFailed {
			t.Fatalf("%s: status %s: %s", s.Name, s.Status, s.Error)
		}
		if s.Repeat == nil || len(s.Repeat.Runs) != 2 {
			t.Fatalf("%s: repeat %+v; want 2 runs", s.Name, s.Repeat)
		}
		name := map[string]string{"memory": "Memory", "latency": "Latency"}[s.Name] + "-" + strconv.Itoa(r.Environment.GOMAXPROCS)
		for _, run := range s.Repeat.Runs {
			w := map[string]float64{
				"sec/op":    float64(run.DurationNS) / float64(run.Ops) / 1e9,
				"ops/s":     run.ThroughputOpsPerSec,
				"mean-sec":  run.Latency.Mean / 1e9,
				"p50-sec":   float64(run.Latency.P50) / 1e9,
				"p99-sec":   float64(run.Latency.P99) / 1e9,
				"p999-sec":  float64(run.Latency.P999) / 1e9,
				"B/op":      run.Metrics["alloc_bytes_per_op"],
				"allocs/op": run.Metrics["allocs_per_op"],
			}
			if v, ok := run.Metrics["cpu_per_op"]; ok && !math.IsNaN(v) {
				w["cpu-sec/op"] = v / 1e9
			}
			want[name] = append(want[name], w)
		}
		if s.Name == "memory" && !(s.Metrics["alloc_bytes_per_op"] > 0 && s.Metrics["allocs_per_op"] > 0) {
			t.Errorf("memory: alloc_bytes_per_op %g, allocs_per_op %g; want both measured", s.Metrics["alloc_bytes_per_op"], s.Metrics["allocs_per_op"])
		}
	}
	seen := map[string]int{}
	rd := benchfmt.NewReader(&b, "gobench")
	for rd.Scan() {
		res, ok := rd.Result().(*benchfmt.Result)
		if !ok {
			continue
		}
		name := string(res.Name)
		units := map[string]float64{}
		for _, v := range res.Values {
			units[v.Unit] = v.Value
		}
		if strings.Contains(name, "/op=") {
			for _, u := range []string{"sec/op", "B/op", "allocs/op", "cpu-sec/op"} {
				if _, ok := units[u]; ok {
					t.Errorf("%s has %s: a kind shares the wall time and the cost", name, u)
				}
			}
			for _, u := range []string{"ops/s", "mean-sec", "p50-sec", "p99-sec"} {
				if _, ok := units[u]; !ok {
					t.Errorf("%s lacks %s", name, u)
				}
			}
			continue
		}
		i := seen[name]
		seen[name]++
		if i >= len(want[name]) {
			t.Errorf("%s: line %d; want %d lines", name, i+1, len(want[name]))
			continue
		}
		w := want[name][i]
		for u, wv := range w {
			got, ok := units[u]
			// As written: two decimals, or four significant digits under 1.
			tol := math.Max(math.Abs(wv)*1e-3, 0.005)
			if strings.HasSuffix(u, "sec") || strings.HasSuffix(u, "sec/op") {
				tol = math.Max(math.Abs(wv)*1e-3, 0.005e-9)
			}
			if !ok || math.Abs(got-wv) > tol {
				t.Errorf("%s run %d: %s = %g (present %t); want %g", name, i+1, u, got, ok, wv)
			}
		}
		if len(units) != len(w) {
			t.Errorf("%s run %d: units %v; want %v", name, i+1, units, w)
		}
		// With two workers ns/op is the wall time's, not the latency's.
		if units["sec/op"] == units["mean-sec"] {
			t.Errorf("%s run %d: ns/op is the mean latency (%g s)", name, i+1, units["mean-sec"])
		}
	}
	if err := rd.Err(); err != nil {
		t.Fatal(err)
	}
	for name, lines := range want {
		if seen[name] != len(lines) {
			t.Errorf("%s: %d lines; want one per run, %d", name, seen[name], len(lines))
		}
	}
}
