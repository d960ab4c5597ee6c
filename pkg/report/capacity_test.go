package report_test

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/rustci/rustci-perf/internal/reportcheck"
	"github.com/rustci/rustci-perf/pkg/latency"
	"github.com/rustci/rustci-perf/pkg/metric"
	"github.com/rustci/rustci-perf/pkg/report"
	"golang.org/x/perf/benchfmt"
)

// capacityReport is a report of cache-read's capacity search under
// p99<1ms, as the engine writes one: a climb from 250000/s by 1.25x until
// 488281/s fails, then a bisection to 2%; the scenario's figures are the
// step at max_rate's.
func capacityReport(t testing.TB) *report.Report {
	t.Helper()
	type plan struct {
		phase  string
		target float64
		p99    time.Duration
	}
	steps := []plan{{"climb", 250000, 300 * time.Nanosecond}, {"climb", 312500, 400 * time.Nanosecond},
		{"climb", 390625, 600 * time.Nanosecond}, {"climb", 488281.25, 3 * time.Millisecond}}
	lo, hi := 390625.0, 488281.25
	for _, p99 := range []time.Duration{1500 * time.Microsecond, 700 * time.Microsecond, 1200 * time.Microsecond, 900 * time.Microsecond} {
		mid := math.Sqrt(lo * hi)
		steps = append(steps, plan{"bisect", mid, p99})
		if p99 < time.Millisecond {
			lo = mid
		} else {
			hi = mid
		}
	}
	c := &report.Capacity{
		SLO: []string{"p99<1ms", "achieved_rate_ratio>0.99"}, BudgetNS: int64(60 * time.Second), ElapsedNS: int64(11 * time.Second),
		Precision: 0.02, EstimateOpsPerSec: 500000, MaxRate: &lo, FirstFailingRate: &hi, Stop: report.StopConverged, Converged: true,
	}
	var at report.Scenario
	for _, p := range steps {
		// 1000 latencies: 990 of 100ns, 10 at the step's p99 and above.
		rec := latency.NewRecorder()
		for i := range 1000 {
			v := 100 * time.Nanosecond
			if i >= 985 {
				v = p.p99 + time.Duration(i-985)*time.Nanosecond
			}
			rec.Record(v)
		}
		achieved := min(p.target, 470000)
		ratio := achieved / p.target
		held := p.p99 < time.Millisecond && ratio > 0.99
		l := report.LatencyOf(rec.Summary())
		c.Steps = append(c.Steps, report.CapacityStep{
			Phase: p.phase, TargetRateOpsPerSec: p.target, AchievedRateOpsPerSec: achieved, Ops: 1000,
			DurationNS: int64(time.Second), WallNS: int64(1300 * time.Millisecond), Latency: l, Held: held,
			SLO: []report.Threshold{
				{Expr: "p99<1ms", Metric: "p99", Op: "<", Limit: 1e6, Actual: report.Float(float64(l.P99)), Unit: "ns", Pass: float64(l.P99) < 1e6},
				{Expr: "achieved_rate_ratio>0.99", Metric: "achieved_rate_ratio", Op: ">", Limit: 0.99, Actual: report.Float(ratio), Pass: ratio > 0.99},
			},
		})
		if p.target == lo {
			enc, err := rec.Encode()
			if err != nil {
				t.Fatal(err)
			}
			u := l
			at = report.Scenario{
				Name: "cache-read", Group: "cache", Status: report.StatusPassed, Passed: true, Mode: "open-loop",
				TargetRateOpsPerSec: lo, Concurrency: 2, Ops: 1000, DurationNS: int64(time.Second), ThroughputOpsPerSec: 1000,
				Latency: l, Histogram: enc, LatencyUncorrected: &u, HistogramUncorrected: enc,
				Counters:   map[string]int64{"hits": 1000, "misses": 0},
				Metrics:    metric.Values{"hit_rate": 1, "achieved_rate_ratio": 1, "max_rate": lo, "first_failing_rate": hi},
				Thresholds: []report.Threshold{{Expr: "max_rate>50000", Metric: "max_rate", Op: ">", Limit: 50000, Actual: report.Float(lo), Pass: true}},
			}
		}
	}
	at.Capacity = c
	start := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	return &report.Report{
		Schema: report.Schema, ToolVersion: "v0.1.0", StartedAt: start, FinishedAt: start.Add(11 * time.Second), Passed: true,
		Environment: report.Environment{GoVersion: "go1.26.8", OS: "linux", Arch: "amd64", GOMAXPROCS: 2, NumCPU: 2},
		Scenarios:   []report.Scenario{at},
	}
}

// TestCapacityInEveryFormat: a capacity search is in every format, valid
// and read back: its answer with its bracket, each step's target,
// achieved rate and latencies by target rate (a table in text, Markdown
// and JUnit, an array in JSON), a plot in HTML of p50, p99 and max
// against the achieved rate with the objective's line and the knee, and a
// benchmark line of its own in gobench.
func TestCapacityInEveryFormat(t *testing.T) {
	r := capacityReport(t)
	out := reportcheck.Every(t, r)
	c := r.Scenarios[0].Capacity
	answer := "max_rate 418836 ops/s, first failing 424719 ops/s (converged to 2%)"
	for format, wants := range map[string][]string{
		"text": {"SCENARIO    MAX RATE      FIRST FAILING  CLOSED LOOP   STEPS  SEARCH\ncache-read  418836 ops/s  424719 ops/s   500000 ops/s  8      converged in 11.0s\n",
			"  capacity: " + answer + "\n",
			"  search: slo p99<1ms, achieved_rate_ratio>0.99; from a closed-loop estimate of 500000 ops/s; 8 steps in 11.0s of a 60.0s budget",
			"  STEP  PHASE   TARGET        ACHIEVED      P50    P99     MAX     RESULT\n  1     climb   250000 ops/s  250000 ops/s  100ns  304ns   314ns   held\n",
			"  4     climb   488281 ops/s  470000 ops/s  100ns  3.00ms  3.00ms  failed: p99<1ms (3.00ms), achieved_rate_ratio>0.99 (0.9626)\n"},
		"markdown": {"#### `cache-read` capacity: " + answer, "| 8 | bisect | 418836 ops/s | 418836 ops/s | 100ns | 900µs | 900µs | held |"},
		"junit":    {"capacity: " + answer, "step 5 (bisect): target 436732 ops/s, achieved 436732 ops/s, p50 100ns, p99 1.50ms, max 1.50ms: failed: p99&lt;1ms (1.50ms)"},
		"html": {`<svg class="capacity" data-scenario="cache-read" data-steps="8"`, `<line class="slo"`, `SLO p99&lt;1ms`, `<line class="knee"`,
			"knee: max_rate 419k ops/s", `<rect class="bracket"`, "<h3>capacity: " + answer + "</h3>"},
		"gobench": {"Unit max-rate-ops/s better=higher\n", "BenchmarkCacheRead/search=capacity-2\t1\t418836.40 max-rate-ops/s\t424718.61 first-failing-ops/s\n"},
		"json":    {`"max_rate_ops_per_sec": 418836.39`, `"stop": "converged"`, `"phase": "bisect"`},
	} {
		for _, want := range wants {
			if !strings.Contains(string(out[format]), want) {
				t.Errorf("%s lacks %q:\n%s", format, want, out[format])
			}
		}
	}
	html := string(out["html"])
	if n := strings.Count(html, `<circle class="mark `); n != 3*len(c.Steps) {
		t.Errorf("html marks %d points; want p50, p99 and max of %d steps", n, len(c.Steps))
	}
	if n := strings.Count(html, `class="mark p99 failed"`); n != 3 {
		t.Errorf("html marks %d failed p99s; want 3", n)
	}
	// benchstat reads the search's line.
	rd := benchfmt.NewReader(bytes.NewReader(out["gobench"]), "gobench")
	found := false
	for rd.Scan() {
		if res, ok := rd.Result().(*benchfmt.Result); ok && strings.Contains(string(res.Name), "search=capacity") {
			v, ok := res.Value("max-rate-ops/s")
			found = ok && math.Abs(v-*c.MaxRate) < 0.01
		}
	}
	if err := rd.Err(); err != nil || !found {
		t.Errorf("benchfmt: err %v, found the capacity line %t", err, found)
	}
}

// TestCapacityRefused: a search that contradicts itself is refused when
// read back, the first contradiction named.
func TestCapacityRefused(t *testing.T) {
	edit := func(f func(s *report.Scenario)) []byte {
		r := capacityReport(t)
		f(&r.Scenarios[0])
		var b bytes.Buffer
		if err := report.JSON(&b, r); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	v := func(f float64) *float64 { return &f }
	for _, tt := range []struct {
		name string
		in   []byte
		want string
	}{
		{"held with an objective missed", edit(func(s *report.Scenario) { s.Capacity.Steps[3].Held = true }),
			"/scenarios/0/capacity/steps/3/held (scenario cache-read): true, but every objective held: false"},
		{"an answer not the highest held", edit(func(s *report.Scenario) { s.Capacity.MaxRate = v(400000) }),
			"/scenarios/0/capacity/max_rate_ops_per_sec (scenario cache-read): 400000, but the highest target that held is 418836.4"},
		{"no failing rate", edit(func(s *report.Scenario) { s.Capacity.FirstFailingRate = nil }),
			"first_failing_rate_ops_per_sec (scenario cache-read): null, but the lowest target that failed is 424718.6"},
		{"converged, not said", edit(func(s *report.Scenario) { s.Capacity.Stop = report.StopBudget }),
			"/scenarios/0/capacity/converged (scenario cache-read): true with stop budget"},
		{"converged wider than the precision", edit(func(s *report.Scenario) { s.Capacity.Precision = 0.01 }),
			"the first failing rate, 424718.6, is more than 1% above max_rate"},
		{"a step's latencies not its operations", edit(func(s *report.Scenario) { s.Capacity.Steps[0].Ops = 999 }),
			"/scenarios/0/capacity/steps/0/latency_ns/count (scenario cache-read): 1000, but ops is 999"},
		{"metrics not the answer", edit(func(s *report.Scenario) { s.Metrics["max_rate"] = 1 }),
			"/scenarios/0/metrics/max_rate (scenario cache-read): 1, but the capacity search says 418836.4"},
		{"a failing rate under the answer", edit(func(s *report.Scenario) {
			s.Capacity.Steps[0].Held, s.Capacity.Steps[0].SLO[0].Pass = false, false
		}), "first_failing_rate_ops_per_sec (scenario cache-read): 424718.6, but the lowest target that failed is 250000"},
	} {
		_, err := report.ReadJSON(bytes.NewReader(tt.in))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: ReadJSON error = %v; want %q", tt.name, err, tt.want)
		}
	}
}
