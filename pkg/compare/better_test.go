package compare

import "testing"

// TestBetterOfCounters: compare reads a counter's direction from the
// metric catalogue, not from its name; a figure the catalogue lacks has
// none.
func TestBetterOfCounters(t *testing.T) {
	for name, want := range map[string]string{
		"l1_errors":            "lower", // a tier's counter, defined once for every tier
		"l3_skipped":           "lower",
		"l1_sets_dropped":      "lower",
		"redis_errors":         "lower",
		"timeouts":             "lower",
		"integrity_violations": "lower",
		"errors/op":            "lower", // per operation, as the count
		"l1_evictions":         "",      // depends on the workload: not judged
		"hits":                 "",
		"read.p99":             "lower", // a kind's percentile, as the percentile
		"read.throughput":      "higher",
		"p(99.95)":             "lower",
		"my_errors":            "", // not in the catalogue: no guess from the name
	} {
		if got := better(name); got != want {
			t.Errorf("better(%q) = %q; want %q", name, got, want)
		}
	}
}
