package merge

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/rustci/rustci-perf/pkg/latency"
	"github.com/rustci/rustci-perf/pkg/metric"
	"github.com/rustci/rustci-perf/pkg/report"
)

// part is one machine's report of scenario "cache-read": its latencies,
// counters, and a threshold p99<limit.
func part(t testing.TB, start time.Time, lat []time.Duration, hits, misses int64, limit string) *report.Report {
	t.Helper()
	rec := latency.NewRecorder()
	for _, d := range lat {
		rec.Record(d)
	}
	enc, err := rec.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return &report.Report{
		Schema: report.Schema, StartedAt: start, FinishedAt: start.Add(10 * time.Second), Passed: true,
		Environment: report.Environment{Hostname: "h" + limit},
		Scenarios: []report.Scenario{{
			Name: "cache-read", Group: "cache", Status: report.StatusPassed, Passed: true, Mode: "closed-loop", Concurrency: 4,
			Ops: int64(len(lat)), DurationNS: int64(time.Second), ThroughputOpsPerSec: float64(len(lat)),
			Latency: report.LatencyOf(rec.Summary()), Histogram: enc, Counters: map[string]int64{"hits": hits, "misses": misses},
			Metrics:    map[string]float64{"hit_rate": float64(hits) / float64(hits+misses), "admission_error": 0},
			Thresholds: []report.Threshold{{Expr: "p99<" + limit, Metric: "p99", Op: "<", Unit: "ns", Pass: true}, {Expr: "hit_rate>0.9", Metric: "hit_rate", Op: ">", Limit: 0.9, Pass: true}},
		}},
	}
}

// TestMergeIsTheUnion: the merged histogram is exactly the histogram of all
// samples, counts and throughputs add up, rates are recomputed, and the
// thresholds are judged again on the whole.
func TestMergeIsTheUnion(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	var a, b []time.Duration
	all := latency.NewRecorder()
	for i := 1; i <= 900; i++ {
		a = append(a, time.Duration(i)*time.Microsecond)
		all.Record(time.Duration(i) * time.Microsecond)
	}
	for i := 1; i <= 100; i++ {
		b = append(b, time.Duration(i)*time.Millisecond) // a slow machine
		all.Record(time.Duration(i) * time.Millisecond)
	}
	ra := part(t, t0, a, 900, 0, "2ms")
	rb := part(t, t0.Add(5*time.Second), b, 50, 50, "200ms")
	m, err := Reports([]Input{{"a.json", ra}, {"b.json", rb}}, report.Tool{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	s := m.Scenarios[0]
	want := all.Summary()
	if s.Latency.Count != want.Count || s.Latency.P99 != int64(want.P99) || s.Latency.P50 != int64(want.P50) || s.Latency.Max != int64(want.Max) {
		t.Errorf("merged latency %+v; want the union's %+v", s.Latency, want)
	}
	if s.Ops != 1000 || s.ThroughputOpsPerSec != 1000 || s.Concurrency != 8 || s.Counters["hits"] != 950 {
		t.Errorf("sums: ops %d, throughput %g, workers %d, hits %d", s.Ops, s.ThroughputOpsPerSec, s.Concurrency, s.Counters["hits"])
	}
	if s.Metrics["hit_rate"] != 0.95 {
		t.Errorf("hit_rate %g; want 950/1000 recomputed", s.Metrics["hit_rate"])
	}
	if _, ok := s.Metrics["admission_error"]; ok {
		t.Error("a metric sums cannot give back was kept")
	}
	// p99 of the union is ~91ms: p99<2ms (a's) fails, p99<200ms (b's)
	// holds, hit_rate>0.9 holds.
	pass := map[string]bool{}
	for _, th := range s.Thresholds {
		pass[th.Expr] = th.Pass
	}
	if len(pass) != 3 || pass["p99<2ms"] || !pass["p99<200ms"] || !pass["hit_rate>0.9"] || s.Passed || m.Passed {
		t.Errorf("thresholds %v, passed %t/%t", pass, s.Passed, m.Passed)
	}
	if len(m.Sources) != 2 || m.Sources[1].Environment.Hostname != "h200ms" || !m.StartedAt.Equal(t0) {
		t.Errorf("sources %+v, started %s", m.Sources, m.StartedAt)
	}
}

func TestMergeRefuses(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	lat := []time.Duration{time.Millisecond}
	a := part(t, t0, lat, 1, 0, "1s")
	late := part(t, t0.Add(time.Hour), lat, 1, 0, "1s")
	other := part(t, t0, lat, 1, 0, "1s")
	other.Scenarios[0].Name = "limiter"
	broken := part(t, t0, lat, 1, 0, "1s")
	broken.Scenarios[0].Histogram = "garbage"
	copied := part(t, t0, lat, 1, 0, "1s") // a's report, read from another file
	b := part(t, t0, lat, 1, 0, "2s")
	huge := func(r *report.Report) *report.Report {
		r.Scenarios[0].Counters["misses"] = math.MaxInt64 - 1
		return r
	}
	tests := []struct {
		ins  []Input
		want string
	}{
		{[]Input{{"a.json", a}}, "at least two"},
		{[]Input{{"a.json", a}, {"late.json", late}}, "do not overlap"},
		{[]Input{{"a.json", a}, {"o.json", other}}, "o.json has limiter"},
		{[]Input{{"a.json", a}, {"b.json", broken}}, "b.json, scenario cache-read"},
		// one file named twice, or the same report in two files: its
		// operations would count twice
		{[]Input{{"a.json", a}, {"b.json", b}, {"a.json", a}}, "merge: a.json is given twice"},
		{[]Input{{"a.json", a}, {"copy.json", copied}}, "merge: a.json and copy.json hold the same report"},
		// counts whose sum a count cannot hold
		{[]Input{{"a.json", huge(part(t, t0, lat, 1, 0, "1s"))}, {"b.json", huge(part(t, t0, lat, 1, 0, "2s"))}},
			"merge: scenario cache-read: counter misses summed over the reports is beyond what it can hold"},
	}
	for _, tt := range tests {
		if _, err := Reports(tt.ins, report.Tool{Version: "test"}); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Reports(%d inputs) error = %v; want %q", len(tt.ins), err, tt.want)
		}
	}
}

// FuzzMerge: whatever a report file holds, reading it and merging it with
// a good report gives an error or a report that keeps every invariant a
// report read back must (it reads back itself), whose counters are sums
// (none negative but the Signed), whose shares are in [0, 1] and whose
// statuses agree with their thresholds; merging it with itself is
// refused; never a panic.
func FuzzMerge(f *testing.F) {
	start := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	good := part(f, start, []time.Duration{time.Microsecond, 2 * time.Microsecond}, 2, 0, "1ms")
	seed := func(r *report.Report) {
		var b bytes.Buffer
		if err := report.JSON(&b, r); err != nil {
			f.Fatal(err)
		}
		if _, err := report.ReadJSON(bytes.NewReader(b.Bytes())); err != nil {
			f.Fatalf("a seed does not read back: %v", err)
		}
		f.Add(b.Bytes())
	}
	seed(good)
	other := part(f, start.Add(time.Second), []time.Duration{time.Millisecond, 3 * time.Millisecond, time.Second}, 1, 2, "1ms")
	other.Scenarios[0].Counters["l1_hits"] = 1
	other.Scenarios[0].Metrics["l1_hit_rate"] = 1.0 / 3
	// p99 1s and hit rate 1/3: both thresholds missed
	other.Passed, other.Scenarios[0].Passed, other.Scenarios[0].Status = false, false, report.StatusFailed
	other.Scenarios[0].Thresholds[0].Pass, other.Scenarios[0].Thresholds[1].Pass = false, false
	seed(other)
	f.Add([]byte(`{"schema":"rustci-perf/report/v1","scenarios":[{"name":"cache-read","histogram":"HISTFAAAAB54nJNpmSzMwMDAxQABzFCaEUTYf4CIAQBHnwM4","thresholds":[{"expr":"p99<"}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := report.ReadJSON(bytes.NewReader(data))
		if err != nil {
			return
		}
		if _, err := Reports([]Input{{File: "a.json", Report: r}, {File: "b.json", Report: r}}, report.Tool{Version: "test"}); err == nil {
			t.Fatal("a report merged with itself")
		}
		m, err := Reports([]Input{{File: "good.json", Report: good}, {File: "fuzz.json", Report: r}}, report.Tool{Version: "test"})
		if err != nil {
			return
		}
		var out bytes.Buffer
		if err := report.JSON(&out, m); err != nil {
			t.Fatalf("a merged report cannot be written: %v", err)
		}
		if _, err := report.ReadJSON(bytes.NewReader(out.Bytes())); err != nil {
			t.Fatalf("a merged report does not read back: %v\n%s", err, out.Bytes())
		}
		for i, s := range m.Scenarios {
			g, f := good.Scenarios[i], r.Scenarios[i]
			if s.Status == report.StatusPassed || s.Status == report.StatusFailed {
				if s.Ops != g.Ops+f.Ops || s.Errors != g.Errors+f.Errors {
					t.Errorf("%s: ops %d, errors %d; want the sums %d, %d", s.Name, s.Ops, s.Errors, g.Ops+f.Ops, g.Errors+f.Errors)
				}
			}
			for k, v := range s.Counters {
				if v < 0 && !metric.Signed(k) {
					t.Errorf("%s: counter %s = %d", s.Name, k, v)
				}
			}
			for k, v := range s.Metrics {
				if d, _ := metric.Lookup(k); d.Share && metric.Valid(v) && (v < 0 || v > 1) {
					t.Errorf("%s: share %s = %g", s.Name, k, v)
				}
			}
			held := true
			for _, th := range s.Thresholds {
				held = held && th.Pass
			}
			if (s.Status == report.StatusPassed) != (s.Passed && held) || (s.Status == report.StatusFailed && held) {
				t.Errorf("%s: status %s, passed %t, thresholds held %t", s.Name, s.Status, s.Passed, held)
			}
		}
	})
}

// TestMergeKeepsInjected: a merge lists every fault any source ran with,
// once; when the sources differ, each scenario says which ran with what.
func TestMergeKeepsInjected(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	lat := []time.Duration{time.Microsecond, 2 * time.Microsecond}
	ra, rb, rc := part(t, t0, lat, 2, 0, "2ms"), part(t, t0, lat, 2, 0, "3ms"), part(t, t0, lat, 2, 0, "4ms")
	ra.Injected = []string{"l2:latency=2ms"}
	rb.Injected = []string{"l2:latency=2ms", "limiter:error=1"}
	m, err := Reports([]Input{{"a.json", ra}, {"b.json", rb}, {"c.json", rc}}, report.Tool{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(m.Injected, " "); got != "l2:latency=2ms limiter:error=1" {
		t.Errorf("merged injected %q; want every source's, once", got)
	}
	want := "the sources ran with different faults injected (a.json: l2:latency=2ms, b.json: l2:latency=2ms; limiter:error=1, c.json: none)"
	if notes := strings.Join(m.Scenarios[0].Notes, "\n"); !strings.Contains(notes, want) {
		t.Errorf("notes lack %q:\n%s", want, notes)
	}
	rc.Injected = ra.Injected
	rb.Injected = ra.Injected
	m, err = Reports([]Input{{"a.json", ra}, {"b.json", rb}, {"c.json", rc}}, report.Tool{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if notes := strings.Join(m.Scenarios[0].Notes, "\n"); strings.Contains(notes, "faults") || strings.Join(m.Injected, " ") != "l2:latency=2ms" {
		t.Errorf("the same faults everywhere: injected %q, notes %s", m.Injected, notes)
	}
}
