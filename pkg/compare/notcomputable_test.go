package compare

import (
	"bytes"
	"strings"
	"testing"

	"github.com/rustci/rustci-perf/pkg/metric"
	"github.com/rustci/rustci-perf/pkg/report"
	"github.com/rustci/rustci-perf/schema"
)

// TestNotComputableLeftOut: a figure that is n/a in a run on either side
// is not compared (a verdict on nothing would be noise), and a note says
// so; the comparison is written as JSON.
func TestNotComputableLeftOut(t *testing.T) {
	for _, tt := range []struct {
		name     string
		base, nw *report.Report
		note     string
	}{
		{"new", synthetic([]float64{1000, 1000, 1000, 1000}, same), synthetic([]float64{1000, 1000, 1000, 1000}, same), "hit_rate not compared: n/a in the new report"},
		{"base", synthetic([]float64{1000}, same), synthetic([]float64{1000}, same), "hit_rate not compared: n/a in the baseline"},
	} {
		side := tt.nw
		if tt.name == "base" {
			side = tt.base
		}
		s := &side.Scenarios[0]
		s.Metrics["hit_rate"] = metric.NA
		if s.Repeat != nil {
			s.Repeat.Runs[2].Metrics = metric.Values{"hit_rate": metric.NA}
		}
		c, err := Reports(Side{"base.json", tt.base}, Side{"new.json", tt.nw}, Defaults)
		if err != nil {
			t.Fatal(err)
		}
		for _, ch := range c.Scenarios[0].Changes {
			if ch.Metric == "hit_rate" {
				t.Errorf("%s: hit_rate compared: %+v", tt.name, ch)
			}
		}
		if notes := strings.Join(c.Scenarios[0].Notes, "\n"); !strings.Contains(notes, tt.note) {
			t.Errorf("%s: notes lack %q:\n%s", tt.name, tt.note, notes)
		}
		var b bytes.Buffer
		if err := report.ComparisonJSON(&b, c); err != nil {
			t.Fatal(err)
		}
		if err := schema.ValidateComparison(b.Bytes()); err != nil {
			t.Errorf("%s: %#v", tt.name, err)
		}
	}
}

// TestBetterFromTheCatalogue: the catalogue's direction is compare's.
func TestBetterFromTheCatalogue(t *testing.T) {
	for _, d := range metric.All() {
		if got := better(d.Name); got != d.Better {
			t.Errorf("better(%q) = %q; the catalogue says %q", d.Name, got, d.Better)
		}
	}
}
