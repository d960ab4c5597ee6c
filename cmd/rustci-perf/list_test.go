package main

import (
	"bytes"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/rustci/rustci-perf/pkg/metric"
	"github.com/rustci/rustci-perf/pkg/scenarios"
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

// TestListShort: the default list is a line per scenario with its group
// and what it measures, then the groups, every line within 100 columns.
func TestListShort(t *testing.T) {
	r := rustciPerf(t, t.TempDir(), "list")
	if r.code != 0 {
		t.Fatalf("list: exit %d, stderr %q", r.code, r.stderr)
	}
	for _, line := range strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n") {
		if n := utf8.RuneCountInString(line); n > listWidth {
			t.Errorf("a line of %d columns: %q", n, line)
		}
	}
	for _, want := range []string{
		"cache-read        cache       Get of keys written before the run; hit rate\n",
		"GROUPS (run GROUP runs its scenarios): all, cache, concurrent, latency, limiter, memory\n",
		"rustci-perf list -v",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("list lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "hit_rate>0.95") || strings.Contains(r.stdout, "METRICS") {
		t.Errorf("the short list has -v's thresholds or metrics:\n%s", r.stdout)
	}
}

// TestListJSON: list --format json has every scenario with its group,
// description and thresholds, every group, and every metric of the
// catalogue with its unit, direction and meaning.
func TestListJSON(t *testing.T) {
	r := rustciPerf(t, t.TempDir(), "list", "--format", "json")
	if r.code != 0 {
		t.Fatalf("list --format json: exit %d, stderr %q", r.code, r.stderr)
	}
	var doc listDoc
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("list --format json: %v:\n%s", err, r.stdout)
	}
	if len(doc.Scenarios) != len(scenarios.All()) {
		t.Errorf("%d scenarios; want %d", len(doc.Scenarios), len(scenarios.All()))
	}
	var read *listScenario
	for i, s := range doc.Scenarios {
		if s.Name == "cache-read" {
			read = &doc.Scenarios[i]
		}
	}
	if read == nil || read.Group != "cache" || read.Description == "" || !slices.Contains(read.Thresholds, "hit_rate>0.95") {
		t.Errorf("cache-read = %+v; want group cache, a description, hit_rate>0.95 among its thresholds", read)
	}
	if len(doc.Groups) == 0 || doc.Groups[0].Name != "all" || len(doc.Groups[0].Scenarios) != len(scenarios.All()) {
		t.Errorf("groups %+v; want all first, with every scenario", doc.Groups)
	}
	byName := map[string]listMetric{}
	for _, m := range doc.Metrics {
		byName[m.Name] = m
	}
	for _, d := range append(metric.All(), metric.Percentile) {
		if m := byName[d.Name]; m != (listMetric{d.Name, d.Unit, d.Better, d.Doc}) {
			t.Errorf("metric %s = %+v; want unit %q, better %q, meaning %q", d.Name, m, d.Unit, d.Better, d.Doc)
		}
	}
	if m := byName["throughput"]; m.Unit != "ops/s" || m.Better != "higher" {
		t.Errorf("throughput = %+v; want ops/s, higher", m)
	}
}
