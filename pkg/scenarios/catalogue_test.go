package scenarios

import (
	"strings"
	"testing"

	"github.com/rustci/rustci-perf/pkg/metric"
)

// TestMetricsInTheCatalogue: every figure a scenario declares (and so
// reports, TestEveryScenarioReportsItsMetrics) is defined in the metric
// catalogue, with its direction, and every figure of the catalogue is
// reported by some scenario.
func TestMetricsInTheCatalogue(t *testing.T) {
	reported := map[string]bool{}
	for _, name := range Common {
		if d, ok := metric.Lookup(name); !ok || !d.Every {
			t.Errorf("common metric %q: not in the catalogue as one every scenario has (%+v, %t)", name, d, ok)
		}
		reported[name] = true
	}
	for _, sc := range All() {
		for _, name := range sc.Metrics {
			d, ok := metric.Lookup(name)
			switch {
			case !ok:
				t.Errorf("%s: metric %q is not in the catalogue", sc.Name, name)
				continue
			case d.Source == metric.Measured || d.Every:
				t.Errorf("%s: metric %q is one every scenario has, not its own", sc.Name, name)
			}
			// What a name says went wrong is better lower (or, when
			// signed, nearer 0): no direction compare once guessed from
			// names is lost.
			for _, bad := range []string{"error", "timeout", "violation", "dropped", "rejected", "skipped", "degraded"} {
				if strings.Contains(name, bad) && d.Better != metric.Lower && (d.Better != metric.Zero || !d.Signed) {
					t.Errorf("%s: %s counts what went wrong, but is better %q", sc.Name, name, d.Better)
				}
			}
			reported[name] = true
		}
	}
	for _, d := range metric.All() {
		if !reported[d.Name] {
			t.Errorf("%s is in the catalogue, but no scenario reports it", d.Name)
		}
	}
}
