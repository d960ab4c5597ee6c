package report

import "testing"

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
		{"p99/p50", "", "1234.5"},
	} {
		if got := actual(Threshold{Metric: tt.metric, Unit: tt.unit, Actual: &v}); got != tt.want {
			t.Errorf("actual(%s = %g) = %q; want %q", tt.metric, v, got, tt.want)
		}
	}
}
