package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/rustci/rustci-perf/pkg/latency"
	"github.com/rustci/rustci-perf/pkg/metric"
)

// readable is a report as a run writes it, which reads back: two cache
// scenarios measured, each with its histogram, and one skipped.
func readable(t testing.TB) *Report {
	t.Helper()
	scenario := func(name string, ops int, step time.Duration) Scenario {
		rec := latency.NewRecorder()
		for i := 1; i <= ops; i++ {
			rec.Record(time.Duration(i) * step)
		}
		enc, err := rec.Encode()
		if err != nil {
			t.Fatal(err)
		}
		hits := int64(ops) * 9 / 10
		return Scenario{
			Name: name, Group: "cache", Status: StatusPassed, Passed: true, Mode: "closed-loop", Concurrency: 2,
			Ops: int64(ops), DurationNS: int64(time.Second), ThroughputOpsPerSec: float64(ops),
			Latency: LatencyOf(rec.Summary()), Histogram: enc,
			Counters: map[string]int64{"hits": hits, "misses": int64(ops) - hits, "l1_hits": hits / 2, "heap_bytes": -248},
			Metrics:  metric.Values{"hit_rate": 0.9, "l1_hit_rate": 0.45},
			Thresholds: []Threshold{{Expr: "p99<1s", Metric: "p99", Op: "<", Limit: 1e9, Actual: new(float64), Unit: "ns", Pass: true},
				{Expr: "errors==0", Metric: "errors", Op: "==", Actual: new(float64), Pass: true}},
		}
	}
	start := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	return &Report{
		Schema: Schema, ToolVersion: "test", StartedAt: start, FinishedAt: start.Add(3 * time.Second),
		Environment: Environment{GoVersion: "go1.26.8", OS: "linux", Arch: "amd64", GOMAXPROCS: 2, NumCPU: 2},
		Passed:      true,
		Scenarios: []Scenario{scenario("cache-read", 2000, time.Microsecond), scenario("cache-l3", 1000, 50*time.Microsecond),
			{Name: "cache-l2", Group: "cache", Status: StatusSkipped, Reason: "no Redis URL", Mode: "closed-loop",
				Counters: map[string]int64{}, Metrics: metric.Values{}, Thresholds: []Threshold{}}},
	}
}

func jsonOf(t testing.TB, r *Report) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := JSON(&b, r); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// hugeHistogram holds 1e15 values of 1µs.
func hugeHistogram(t testing.TB) string {
	h := hdrhistogram.New(latency.Lowest, latency.Highest, latency.Digits)
	if err := h.RecordValues(1000, 1e15); err != nil {
		t.Fatal(err)
	}
	b, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestReadRefuses: each report the published schema or the writer's
// invariants forbid is refused with one line that says where (a JSON
// pointer, and the scenario) and what; the readable report itself reads.
func TestReadRefuses(t *testing.T) {
	good := jsonOf(t, readable(t))
	if _, err := ReadJSON(bytes.NewReader(good)); err != nil {
		t.Fatalf("the readable report: %v", err)
	}
	edit := func(f func(r *Report)) []byte {
		r := readable(t)
		f(r)
		return jsonOf(t, r)
	}
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"negative ops", edit(func(r *Report) { r.Scenarios[0].Ops = -2000 }),
			"/scenarios/0/ops (scenario cache-read): got -2000, want at least 0"},
		{"negative errors", edit(func(r *Report) { r.Scenarios[1].Errors = -3 }),
			"/scenarios/1/errors (scenario cache-l3): got -3, want at least 0"},
		{"negative throughput", edit(func(r *Report) { r.Scenarios[0].ThroughputOpsPerSec = -1 }),
			"/scenarios/0/throughput_ops_per_sec (scenario cache-read): got -1, want at least 0"},
		{"bogus status", edit(func(r *Report) { r.Scenarios[1].Status = "bogus" }),
			"/scenarios/1/status (scenario cache-l3): value must be one of 'passed', 'failed', 'error', 'skipped', 'interrupted'"},
		// status that says the opposite of passed, or of the thresholds
		{"passed but failed", edit(func(r *Report) { r.Scenarios[0].Status = StatusFailed }),
			"/scenarios/0/passed (scenario cache-read): true with status failed"},
		{"passed with a missed threshold", edit(func(r *Report) { r.Scenarios[0].Thresholds[1].Pass = false }),
			"/scenarios/0/thresholds/1/pass (scenario cache-read): false (errors==0 missed) with status passed"},
		{"error without why", edit(func(r *Report) { r.Scenarios[2].Status, r.Scenarios[2].Reason = StatusError, "" }),
			"/scenarios/2/error (scenario cache-l2): missing: status error says why in error"},
		{"run passed over a failure", edit(func(r *Report) {
			s := &r.Scenarios[1]
			s.Status, s.Passed, s.Thresholds[0].Pass = StatusFailed, false, false
		}), "/passed: true, but scenario cache-l3 is failed"},
		{"duplicate scenarios", edit(func(r *Report) { r.Scenarios[1].Name = "cache-read" }),
			`/scenarios/1/name (scenario cache-read): scenario "cache-read" again (also /scenarios/0): a report has one entry per scenario`},
		// cache-l3's histogram holds 1000 values beside cache-read's ops 2000
		{"histogram of another scenario", edit(func(r *Report) { r.Scenarios[0].Histogram = r.Scenarios[1].Histogram }),
			"/scenarios/0/histogram (scenario cache-read): holds 1000 values, but ops is 2000: it is not the histogram of these operations"},
		{"1e15 counts beside ops 2000", edit(func(r *Report) { r.Scenarios[0].Histogram = hugeHistogram(t) }),
			"/scenarios/0/histogram (scenario cache-read): holds 1000000000000000 values, but ops is 2000"},
		// the same count, other values: the summary does not come from it
		{"histogram of the same size, other values", edit(func(r *Report) {
			rec := latency.NewRecorder()
			for range 2000 {
				rec.Record(time.Millisecond)
			}
			r.Scenarios[0].Histogram, _ = rec.Encode()
		}), "/scenarios/0/latency_ns/min (scenario cache-read): 1000, but the histogram's min is 999936: the summary is not of this histogram"},
		{"latency count beside ops", edit(func(r *Report) { r.Scenarios[0].Latency.Count = 1 }),
			"/scenarios/0/latency_ns/count (scenario cache-read): 1, but ops is 2000"},
		{"hits -100", edit(func(r *Report) { r.Scenarios[0].Counters["hits"] = -100 }),
			"/scenarios/0/counters/hits (scenario cache-read): -100: a count is never negative"},
		{"hit rate 2.1", edit(func(r *Report) { r.Scenarios[0].Metrics["l1_hit_rate"] = 2.1 }),
			"/scenarios/0/metrics/l1_hit_rate (scenario cache-read): 2.1: a share is between 0 and 1"},
		{"trailing garbage", append(append([]byte(nil), good...), "garbage"...),
			"data after the report's end at byte"},
		{"two reports concatenated", append(append([]byte(nil), good...), good...),
			"a second JSON value after the report's end at byte"},
		{"a figure beyond float64", bytes.Replace(good, []byte(`"throughput_ops_per_sec": 2000,`), []byte(`"throughput_ops_per_sec": 1e999,`), 1),
			"/scenarios/0/throughput_ops_per_sec (scenario cache-read): 1e999 is beyond the range of a float64"},
		{"finished before started", edit(func(r *Report) { r.FinishedAt = r.StartedAt.Add(-time.Second) }),
			"/finished_at: 2026-11-26T11:59:59Z is before started_at, 2026-11-26T12:00:00Z"},
		{"measured before the run", edit(func(r *Report) { r.Scenarios[0].MeasuredAt = r.StartedAt.Add(-time.Second) }),
			"/scenarios/0/measured_at (scenario cache-read): 2026-11-26T11:59:59Z is outside the run, 2026-11-26T12:00:00Z to 2026-11-26T12:00:03Z"},
		{"empty", nil, "no JSON value: the file is empty"},
		{"another schema", []byte(`{"schema":"rustci-perf/compare/v1"}`),
			`/schema: schema "rustci-perf/compare/v1": want "rustci-perf/report/v1"`},
		{"unknown field", bytes.Replace(good, []byte(`"group": "cache",`), []byte(`"group": "cache", "extra": 1,`), 1),
			"/scenarios/0 (scenario cache-read): additional properties 'extra' not allowed"},
	}
	for _, tt := range tests {
		_, err := ReadJSON(bytes.NewReader(tt.in))
		if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: ReadJSON error = %v; want one line with %q", tt.name, err, tt.want)
		}
	}
}

// TestReadRefusesParts: the uncorrected view, kinds of operation,
// intervals and runs are held to the same rules as the scenario.
func TestReadRefusesParts(t *testing.T) {
	base := readable(t)
	s := base.Scenarios[0]
	edit := func(f func(s *Scenario)) []byte {
		r := readable(t)
		f(&r.Scenarios[0])
		return jsonOf(t, r)
	}
	u := s.Latency
	for _, tt := range []struct {
		name string
		in   []byte
		want string
	}{
		{"uncorrected of another scenario", edit(func(s *Scenario) {
			s.Mode, s.TargetRateOpsPerSec = "open-loop", 2000
			s.LatencyUncorrected, s.HistogramUncorrected = &u, base.Scenarios[1].Histogram
		}), "/scenarios/0/histogram_uncorrected (scenario cache-read): holds 1000 values, but ops is 2000"},
		{"a kind twice", edit(func(s *Scenario) {
			s.Operations = []Operation{{Name: "read", Ops: 2000, Latency: s.Latency, Histogram: s.Histogram}, {Name: "read"}}
		}), `/scenarios/0/operations/1/name (scenario cache-read): "read" again (also operations/0)`},
		{"a kind's histogram of other operations", edit(func(s *Scenario) {
			s.Operations = []Operation{{Name: "read", Ops: 1000, Latency: base.Scenarios[1].Latency, Histogram: s.Histogram}}
		}), "/scenarios/0/operations/0/histogram (scenario cache-read): holds 2000 values, but ops is 1000"},
		{"intervals of another run", edit(func(s *Scenario) {
			s.IntervalNS = int64(time.Second)
			s.Intervals = []Interval{{DurationNS: int64(time.Second), Ops: 1000}}
		}), "/scenarios/0/intervals (scenario cache-read): hold 1000 operations, but ops is 2000"},
		{"an interval's p99 not its histogram's", edit(func(s *Scenario) {
			s.IntervalNS = int64(time.Second)
			s.Intervals = []Interval{{DurationNS: int64(time.Second), Ops: 2000, P50NS: s.Latency.P50, P99NS: 1, MaxNS: s.Latency.Max, Histogram: s.Histogram}}
		}), "/scenarios/0/intervals/0/p99_ns (scenario cache-read): 1, but the histogram's is"},
		{"runs that do not add up", edit(func(s *Scenario) {
			run := Run{Ops: 2000, Latency: s.Latency, Histogram: s.Histogram, Counters: map[string]int64{}, Metrics: metric.Values{}}
			s.Repeat = &Repeat{Count: 2, Judge: "median", Stats: map[string]Stat{}, Runs: []Run{run, run}}
		}), "/scenarios/0/repeat/runs (scenario cache-read): hold 4000 operations, but ops is 2000"},
		{"a run's negative counter", edit(func(s *Scenario) {
			run := Run{Ops: 2000, Latency: s.Latency, Histogram: s.Histogram, Counters: map[string]int64{"misses": -1}, Metrics: metric.Values{}}
			s.Repeat = &Repeat{Count: 1 + 1, Judge: "median", Stats: map[string]Stat{}, Runs: []Run{run, {Counters: map[string]int64{}, Metrics: metric.Values{}}}}
		}), "/scenarios/0/repeat/runs/0/counters/misses (scenario cache-read): -1: a count is never negative"},
	} {
		_, err := ReadJSON(bytes.NewReader(tt.in))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: ReadJSON error = %v; want %q", tt.name, err, tt.want)
		}
	}
}

// TestReadSignedCounters: the counters a metric declares Signed (heap
// growth) read back negative; the readable report holds heap_bytes -248.
func TestReadSignedCounters(t *testing.T) {
	r, err := ReadJSON(bytes.NewReader(jsonOf(t, readable(t))))
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Scenarios[0].Counters["heap_bytes"]; got != -248 {
		t.Errorf("heap_bytes read back as %d; want -248", got)
	}
}

// TestReadFileNamesIt: an error reading a file names it.
func TestReadFileNamesIt(t *testing.T) {
	path := t.TempDir() + "/bad.json"
	r := readable(t)
	r.Scenarios[0].Ops = -1
	if err := WriteFile(path, r, JSON); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(path); err == nil || !strings.HasPrefix(err.Error(), path+": /scenarios/0/ops") {
		t.Errorf("ReadFile error = %v; want it to start with %s: /scenarios/0/ops", err, path)
	}
}

// TestReadIgnoresAByteOrderMark: a report saved by an editor that starts
// files with a UTF-8 byte order mark reads as the report it holds.
func TestReadIgnoresAByteOrderMark(t *testing.T) {
	data := append([]byte("\xef\xbb\xbf"), jsonOf(t, readable(t))...)
	if _, err := ReadJSON(bytes.NewReader(data)); err != nil {
		t.Errorf("a report after a byte order mark: %v", err)
	}
}
