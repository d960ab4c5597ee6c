package metric

import (
	"math"
	"slices"
	"testing"
)

func TestLookup(t *testing.T) {
	tests := []struct {
		name               string
		ok                 bool
		source             Source
		unit, better, tier string
	}{
		{"throughput", true, Measured, OpsPerSec, Higher, ""},
		{"duration", true, Measured, NS, "", ""},
		{"mean", true, Measured, NS, Lower, ""},
		// every form of a percentile is the catalogue's percentile
		{"p50", true, Measured, NS, Lower, ""},
		{"p99.9", true, Measured, NS, Lower, ""},
		{"p999", true, Measured, NS, Lower, ""},
		{"p(99.95)", true, Measured, NS, Lower, ""},
		// a kind of operation's figure is its base's
		{"read.p99", true, Measured, NS, Lower, ""},
		{"write.ops", true, Measured, "", "", ""},
		{"read.throughput", true, Measured, OpsPerSec, Higher, ""},
		// a kind of operation has no duration, no counters, no metrics
		{"read.duration", false, 0, "", "", ""},
		{"read.hit_rate", false, 0, "", "", ""},
		{"read.l1_hits", false, 0, "", "", ""},
		// a tier's counter, defined once for every tier
		{"l1_hits", true, Counted, "", "", "l1"},
		{"l2_errors", true, Counted, "", Lower, "l2"},
		{"l3_degraded", true, Counted, "", Lower, "l3"},
		{"l1_sets_dropped", true, Counted, "", Lower, "l1"},
		{"l4_hits", false, 0, "", "", ""},
		// scenarios' counters and derived figures
		{"hits", true, Counted, "", "", ""},
		{"redis_errors", true, Counted, "", Lower, ""},
		{"heap_bytes", true, Counted, Bytes, "", ""},
		{"hit_rate", true, Derived, "", Higher, ""},
		{"l1_hit_rate", true, Derived, "", Higher, ""},
		{"achieved_rate_ratio", true, Derived, "", Higher, ""},
		// what the measured phase cost: totals counted, per operation derived
		{"cpu_user", true, Counted, NS, "", ""},
		{"gc_pause_total", true, Counted, NS, "", ""},
		{"alloc_bytes", true, Counted, Bytes, "", ""},
		{"cpu_per_op", true, Derived, NS, Lower, ""},
		{"alloc_bytes_per_op", true, Derived, Bytes, Lower, ""},
		{"allocs_per_op", true, Derived, "", Lower, ""},
		{"peak_rss_bytes", true, Derived, Bytes, Lower, ""},
		{"goroutines", true, Derived, "", "", ""},
		{"read.cpu_per_op", false, 0, "", "", ""}, // the process's, not a kind's
		// not figures
		{"hit_ratio", false, 0, "", "", ""},
		{"p", false, 0, "", "", ""},
		{"p(99", false, 0, "", "", ""},
		{"p9.9.9", false, 0, "", "", ""},
		{"pq", false, 0, "", "", ""},
		{"Read.p99", false, 0, "", "", ""},
		{"", false, 0, "", "", ""},
	}
	for _, tt := range tests {
		d, ok := Lookup(tt.name)
		if ok != tt.ok || d.Source != tt.source || d.Unit != tt.unit || d.Better != tt.better || d.Tier != tt.tier {
			t.Errorf("Lookup(%q) = (source %d, unit %q, better %q, tier %q), %t; want (%d, %q, %q, %q), %t",
				tt.name, d.Source, d.Unit, d.Better, d.Tier, ok, tt.source, tt.unit, tt.better, tt.tier, tt.ok)
		}
		if ok && d.Name != tt.name {
			t.Errorf("Lookup(%q) is named %q", tt.name, d.Name)
		}
	}
}

// TestCatalogueHolds: each figure is named once, with a meaning, a source
// and a direction the formats know, and a derived figure's counters are
// figures of the catalogue too.
func TestCatalogueHolds(t *testing.T) {
	seen := map[string]bool{}
	for _, d := range append(All(), Percentile) {
		if seen[d.Name] {
			t.Errorf("%s is defined twice", d.Name)
		}
		seen[d.Name] = true
		if d.Doc == "" || d.Source == 0 {
			t.Errorf("%s: no doc or no source: %+v", d.Name, d)
		}
		if !slices.Contains([]string{"", NS, OpsPerSec, Bytes}, d.Unit) {
			t.Errorf("%s: unit %q", d.Name, d.Unit)
		}
		if d.Derivable() != (len(d.Num) > 0) || (d.Derivable() && d.Source != Derived) {
			t.Errorf("%s: counters %v / %v, source %d: only a derived figure is the ratio of counters", d.Name, d.Num, d.Den, d.Source)
		}
		if d.PerKind && d.Source != Measured {
			t.Errorf("%s: each kind of operation has only measured figures", d.Name)
		}
		if d.Share && d.Signed {
			t.Errorf("%s: a share is never negative", d.Name)
		}
		for _, c := range append(slices.Clone(d.Num), d.Den...) {
			cd, ok := Lookup(c)
			if slices.Equal(d.Den, perOp) && slices.Contains(perOp, c) {
				continue // the operations run, which Counts puts beside the counters
			}
			if !ok || cd.Source != Counted {
				t.Errorf("%s is the ratio of %s, which is not a counter of the catalogue", d.Name, c)
			}
			if cd.Signed && !d.Signed {
				t.Errorf("%s is a ratio of %s, a difference, so it can be negative: Signed", d.Name, c)
			}
		}
	}
}

func TestRemergeable(t *testing.T) {
	for name, want := range map[string]bool{
		"hit_rate": true, "l1_hit_rate": true, "fallback_rate": true, "heap_bytes_per_item": true, // from summed counters
		"cpu_per_op": true, "alloc_bytes_per_op": true, "allocs_per_op": true, // from summed counters and operations
		"achieved_rate_ratio": true,                                                // weighted by target
		"admission_error":     false, "peak_rss_bytes": false, "goroutines": false, // sums cannot give them back
	} {
		if d, ok := Lookup(name); !ok || d.Remergeable() != want {
			t.Errorf("Lookup(%q).Remergeable() = %t (found %t); want %t", name, d.Remergeable(), ok, want)
		}
	}
}

func TestBounds(t *testing.T) {
	for name, want := range map[string][2]float64{
		"hit_rate":        {0, 1},
		"p99":             {0, inf},
		"read.p99":        {0, inf},
		"l1_errors":       {0, inf},
		"heap_bytes":      {-inf, inf},
		"admission_error": {-inf, inf},
		"unknown":         {0, inf},
	} {
		if lo, hi := Bounds(name); lo != want[0] || hi != want[1] {
			t.Errorf("Bounds(%q) = %g, %g; want %g, %g", name, lo, hi, want[0], want[1])
		}
	}
}

var inf = math.Inf(1)
