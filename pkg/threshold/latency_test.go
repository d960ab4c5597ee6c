package threshold

import (
	"strings"
	"testing"
)

// TestIsLatencyFromTheUnit: a metric is a latency, whose limit takes a
// unit, when the metric catalogue has it in nanoseconds.
func TestIsLatencyFromTheUnit(t *testing.T) {
	for name, want := range map[string]bool{
		"p99": true, "p99.9": true, "mean": true, "stdev": true, "duration": true, "read.max": true,
		"throughput": false, "errors": false, "hit_rate": false, "heap_bytes": false, "l1_hits": false, "unknown": false,
	} {
		m := Metric{Name: name}
		if got := m.IsLatency(); got != want {
			t.Errorf("Metric{%q}.IsLatency() = %t; want %t", name, got, want)
		}
	}
	for _, expr := range []string{"duration<5s", "read.stdev<1ms", "p(99.95)<2ms"} {
		if _, err := Parse(expr); err != nil {
			t.Errorf("Parse(%q): %v", expr, err)
		}
	}
	for _, expr := range []string{"duration<5", "throughput>1000ms", "heap_bytes<1ms"} {
		if _, err := Parse(expr); err == nil {
			t.Errorf("Parse(%q): no error; want one about the unit", expr)
		}
	}
}

func TestKindMetricsFromTheCatalogue(t *testing.T) {
	const want = "ops errors throughput min mean stdev max"
	if got := KindMetrics(); strings.Join(got, " ") != want {
		t.Errorf("KindMetrics() = %v; want %s", got, want)
	}
}
