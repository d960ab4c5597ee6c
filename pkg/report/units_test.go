package report

import (
	"bytes"
	"testing"

	"golang.org/x/perf/benchfmt"
)

// TestGoBenchUnits: benchstat learns from the gobench output which way
// each figure is better, as the metric catalogue has it.
func TestGoBenchUnits(t *testing.T) {
	var b bytes.Buffer
	if err := GoBench(&b, fixture()); err != nil {
		t.Fatal(err)
	}
	rd := benchfmt.NewReader(&b, "report")
	for rd.Scan() {
	}
	if err := rd.Err(); err != nil {
		t.Fatal(err)
	}
	for unit, want := range map[string]int{"ops/s": 1, "ns/op": -1, "mean-ns": -1, "p50-ns": -1, "p99-ns": -1, "p999-ns": -1, "cpu-ns/op": -1, "B/op": -1, "allocs/op": -1} {
		if got := rd.Units().GetBetter(unit); got != want {
			t.Errorf("benchstat's better for %s = %d; want %d", unit, got, want)
		}
	}
}

// TestActualInItsUnit: a threshold's actual value is written in its
// figure's unit, a kind of operation's throughput too.
func TestActualInItsUnit(t *testing.T) {
	v := 1234.5
	for _, tt := range []struct {
		metric, unit, want string
	}{
		{"throughput", "", "1234 ops/s"},
		{"read.throughput", "", "1234 ops/s"},
		{"p99", "ns", "1.23µs"},
		{"hit_rate", "", "1234.5"},
		{"gc_pause_total", "ns", "1.23µs"},
		{"cpu_per_op", "ns", "1.23µs"},
		{"alloc_bytes_per_op", "", "1234.5"},
		{"p99/p50", "", "1234.5"},
	} {
		if got := actual(Threshold{Metric: tt.metric, Unit: tt.unit, Actual: &v}); got != tt.want {
			t.Errorf("actual(%s = %g) = %q; want %q", tt.metric, v, got, tt.want)
		}
	}
}
