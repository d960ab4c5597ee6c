package livemetrics

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
)

// dashboard is the Grafana dashboard in the repository.
const dashboard = "../../dashboards/grafana-rustci-perf.json"

// exprs returns every PromQL expression in v, a dashboard decoded as
// JSON: each target's expr and each template variable's query.
func exprs(v any) []string {
	var out []string
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && (k == "expr" || k == "definition") {
				out = append(out, s)
				continue
			}
			out = append(out, exprs(x)...)
		}
	case []any:
		for _, x := range v {
			out = append(out, exprs(x)...)
		}
	}
	return out
}

var (
	metricName = regexp.MustCompile(`\brustci_perf_[a-z0-9_]+`)
	grouping   = regexp.MustCompile(`\b(?:by|ignoring|on) ?\(([^)]*)\)`)
)

// TestDashboardNamesExposedMetrics: the dashboard is importable (its
// data source an input variable) and every metric its queries name is a
// family the Exporter exposes (a histogram's _bucket, _count and _sum
// series included), every label they group by one those families have.
func TestDashboardNamesExposedMetrics(t *testing.T) {
	b, err := os.ReadFile(dashboard)
	if err != nil {
		t.Fatal(err)
	}
	var d map[string]any
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", dashboard, err)
	}
	inputs, _ := d["__inputs"].([]any)
	if len(inputs) != 1 || inputs[0].(map[string]any)["name"] != "DS_PROMETHEUS" {
		t.Errorf("__inputs %v; want the one data source input DS_PROMETHEUS", inputs)
	}
	if strings.Contains(string(b), `"uid": "prometheus"`) || !strings.Contains(string(b), `"uid": "${DS_PROMETHEUS}"`) {
		t.Error("a panel names a data source other than ${DS_PROMETHEUS}")
	}
	exposed := map[string]bool{}
	labels := map[string]bool{"le": true, "job": true, "instance": true, "run_id": true}
	for _, f := range Families() {
		exposed[f.Name] = true
		if f.Histogram() {
			for _, s := range []string{"_bucket", "_count", "_sum"} {
				exposed[f.Name+s] = true
			}
		}
		for _, l := range f.Labels {
			labels[l] = true
		}
	}
	qs := exprs(d)
	if len(qs) < 10 {
		t.Fatalf("%d queries in the dashboard; want its panels'", len(qs))
	}
	used := map[string]bool{}
	for _, q := range qs {
		for _, name := range metricName.FindAllString(q, -1) {
			used[name] = true
			if !exposed[name] {
				t.Errorf("query %q names %s, which the exporter does not expose", q, name)
			}
		}
		for _, m := range grouping.FindAllStringSubmatch(q, -1) {
			for _, l := range strings.Split(m[1], ",") {
				if l = strings.TrimSpace(l); l != "" && !labels[l] {
					t.Errorf("query %q groups by %s, a label no family has", q, l)
				}
			}
		}
	}
	// The panels the README promises.
	for _, name := range []string{"rustci_perf_operations_total", "rustci_perf_latency_seconds", "rustci_perf_latency_seconds_bucket", "rustci_perf_errors_total",
		"rustci_perf_cache_hits_total", "rustci_perf_limiter_allowed_total", "rustci_perf_limiter_denied_total", "rustci_perf_scenario_status"} {
		if !used[name] {
			t.Errorf("no panel queries %s", name)
		}
	}
}
