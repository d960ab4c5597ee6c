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
		"cpu_per_op": true, "gc_pause_total": true, "cpu_user": true, // CPU and GC times
		"throughput": false, "errors": false, "hit_rate": false, "heap_bytes": false, "l1_hits": false, "unknown": false,
		"alloc_bytes_per_op": false, "peak_rss_bytes": false, "allocs_per_op": false, // bytes, counts
	} {
		m := Metric{Name: name}
		if got := m.IsLatency(); got != want {
			t.Errorf("Metric{%q}.IsLatency() = %t; want %t", name, got, want)
		}
	}
	for _, expr := range []string{"duration<5s", "read.stdev<1ms", "p(99.95)<2ms", "cpu_per_op<2µs", "gc_pause_total<5ms", "alloc_bytes_per_op<64"} {
		if _, err := Parse(expr); err != nil {
			t.Errorf("Parse(%q): %v", expr, err)
		}
	}
	for _, expr := range []string{"duration<5", "throughput>1000ms", "heap_bytes<1ms", "alloc_bytes_per_op<64B"} {
		if _, err := Parse(expr); err == nil {
			t.Errorf("Parse(%q): no error; want one about the unit", expr)
		}
	}
	// a CPU time is read as the nanoseconds it is in, a latency as ms
	for expr, want := range map[string]string{
		"cpu_per_op<2000": "cpu_per_op is a time: give the limit a unit (ns, us, ms, s), as in cpu_per_op<2000ns",
		"p99<10":          "p99 is a latency: give the limit a unit (ns, us, ms, s), as in p99<10ms",
	} {
		if _, err := Parse(expr); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) = %v; want an error saying %q", expr, err, want)
		}
	}
}

func TestKindMetricsFromTheCatalogue(t *testing.T) {
	const want = "ops errors throughput min mean stdev max"
	if got := KindMetrics(); strings.Join(got, " ") != want {
		t.Errorf("KindMetrics() = %v; want %s", got, want)
	}
}
