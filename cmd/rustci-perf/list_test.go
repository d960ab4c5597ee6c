package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/rustci/rustci-perf/pkg/metric"
)

// TestListMetricsFromTheCatalogue: list prints every figure of the metric
// catalogue once, with its unit and direction, the counters every tier
// has once for all tiers, and no line too long to read.
func TestListMetricsFromTheCatalogue(t *testing.T) {
	var b bytes.Buffer
	listMetrics(&b)
	out := b.String()
	row := func(name string, d metric.Def) *regexp.Regexp {
		or := func(s string) string {
			if s == "" {
				return "-"
			}
			return regexp.QuoteMeta(s)
		}
		return regexp.MustCompile(`(?m)^    ` + regexp.QuoteMeta(name) + ` +` + or(d.Unit) + ` +` + or(d.Better) + ` +` + regexp.QuoteMeta(d.Doc) + `$`)
	}
	for _, d := range append(metric.All(), metric.Percentile) {
		name := d.Name
		if d.Tier != "" {
			name = "TIER_" + strings.TrimPrefix(d.Name, d.Tier+"_")
		}
		if n := len(row(name, d).FindAllString(out, -1)); n != 1 {
			t.Errorf("%s: %d rows; want 1 with its unit, direction and doc:\n%s", name, n, out)
		}
	}
	for _, line := range strings.Split(out, "\n") {
		if len(line) > 140 && !strings.HasPrefix(line, "  each kind of operation") {
			t.Errorf("a line of %d bytes: %s", len(line), line)
		}
	}
	for _, head := range []string{"  every scenario:\n", "  limiter, limiter-fallback:\n", "  memory:\n"} {
		if !strings.Contains(out, head) {
			t.Errorf("no heading %q:\n%s", head, out)
		}
	}
}
