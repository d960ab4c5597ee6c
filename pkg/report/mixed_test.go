package report_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rustci/rustci-perf/internal/reportcheck"
	"github.com/rustci/rustci-perf/pkg/latency"
	"github.com/rustci/rustci-perf/pkg/report"
	"golang.org/x/perf/benchfmt"
)

// mixedRun is what one run of mixedReport's scenario recorded: per
// interval of 100ms (the last one 50ms), each kind's latencies.
type mixedRun struct {
	reads, writes [][]time.Duration
}

// mixedReport is a report of a mixed scenario run twice, built as the
// engine builds one: each kind's figures, both runs' intervals with their
// histograms, and a precision. Its second run's third interval stalled
// 20 writes for 3ms.
func mixedReport(t testing.TB) *report.Report {
	t.Helper()
	enc := func(rec *latency.Recorder) string {
		s, err := rec.Encode()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	record := func(ds []time.Duration, into ...*latency.Recorder) {
		for _, d := range ds {
			for _, r := range into {
				r.Record(d)
			}
		}
	}
	spread := func(n int, base time.Duration) []time.Duration {
		var ds []time.Duration
		for i := range n {
			ds = append(ds, base+time.Duration(i%97)*base/50)
		}
		return ds
	}
	var runs []mixedRun
	for run := range 2 {
		var mr mixedRun
		for i := range 4 {
			n := 900 - 100*run
			if i == 3 {
				n /= 2 // the last interval is half as long
			}
			reads, writes := spread(n, 400*time.Nanosecond), spread(n/9, 1500*time.Nanosecond)
			if run == 1 && i == 2 {
				for j := range 20 {
					writes[j] = 3 * time.Millisecond // a stall
				}
			}
			mr.reads, mr.writes = append(mr.reads, reads), append(mr.writes, writes)
		}
		runs = append(runs, mr)
	}

	const every = 100 * time.Millisecond
	all, allReads, allWrites := latency.NewRecorder(), latency.NewRecorder(), latency.NewRecorder()
	s := report.Scenario{
		Name: "latency", Group: "latency", Status: report.StatusPassed, Passed: true, Component: "cache: l1 ristretto",
		Mode: "closed-loop", Concurrency: 4, IntervalNS: int64(every),
		Counters: map[string]int64{}, Metrics: map[string]float64{}, Thresholds: []report.Threshold{},
		Repeat: &report.Repeat{Count: 2, Judge: "median", Stats: map[string]report.Stat{}},
	}
	for run, mr := range runs {
		runAll := latency.NewRecorder()
		var runOps int64
		for i := range mr.reads {
			length := every
			if i == 3 {
				length = every / 2
			}
			ivAll, ivReads, ivWrites := latency.NewRecorder(), latency.NewRecorder(), latency.NewRecorder()
			record(mr.reads[i], ivAll, ivReads, runAll, all, allReads)
			record(mr.writes[i], ivAll, ivWrites, runAll, all, allWrites)
			iv := report.Interval{Run: run, StartNS: int64(i) * int64(every), DurationNS: int64(length), Ops: ivAll.Count(),
				ThroughputOpsPerSec: float64(ivAll.Count()) / length.Seconds(),
				P50NS:               int64(ivAll.Percentile(50)), P99NS: int64(ivAll.Percentile(99)), MaxNS: int64(ivAll.Max()), Histogram: enc(ivAll)}
			for _, k := range []struct {
				name string
				rec  *latency.Recorder
			}{{"read", ivReads}, {"write", ivWrites}} {
				iv.Operations = append(iv.Operations, report.IntervalOperation{Name: k.name, Ops: k.rec.Count(),
					P50NS: int64(k.rec.Percentile(50)), P99NS: int64(k.rec.Percentile(99)), Histogram: enc(k.rec)})
			}
			s.Intervals = append(s.Intervals, iv)
			runOps += ivAll.Count()
		}
		d := 350 * time.Millisecond
		s.Repeat.Runs = append(s.Repeat.Runs, report.Run{Ops: runOps, DurationNS: int64(d), ThroughputOpsPerSec: float64(runOps) / d.Seconds(),
			Latency: report.LatencyOf(runAll.Summary()), Histogram: enc(runAll), Counters: map[string]int64{}, Metrics: map[string]float64{}})
		s.Ops += runOps
		s.DurationNS += int64(d)
	}
	s.ThroughputOpsPerSec = float64(s.Ops) / (float64(s.DurationNS) / 1e9)
	s.Latency, s.Histogram = report.LatencyOf(all.Summary()), enc(all)
	for _, k := range []struct {
		name string
		rec  *latency.Recorder
	}{{"read", allReads}, {"write", allWrites}} {
		s.Operations = append(s.Operations, report.Operation{Name: k.name, Ops: k.rec.Count(),
			ThroughputOpsPerSec: float64(k.rec.Count()) / (float64(s.DurationNS) / 1e9),
			Latency:             report.LatencyOf(k.rec.Summary()), Histogram: enc(k.rec)})
	}
	s.Precision = &report.Precision{Intervals: 6, ThroughputPct: report.Float(6.25), P99Pct: report.Float(4.5),
		Operations: map[string]float64{"read": 3.2, "write": 48}}
	start := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	return &report.Report{
		Schema: report.Schema, ToolVersion: "v0.1.0", StartedAt: start, FinishedAt: start.Add(time.Second), Passed: true,
		Environment: report.Environment{GoVersion: "go1.26.8", OS: "linux", Arch: "amd64", GOMAXPROCS: 2, NumCPU: 2},
		Scenarios:   []report.Scenario{s},
	}
}

// TestMixedInEveryFormat: a report with kinds of operation, a time series
// of two runs and a precision is written in every format (valid, no NaN,
// JSON read back), and each format shows the kinds, the precision and the
// series.
func TestMixedInEveryFormat(t *testing.T) {
	r := mixedReport(t)
	out := reportcheck.Every(t, r)
	s := r.Scenarios[0]
	for format, wants := range map[string][]string{
		"text": {"\n  read ", "\n  write ", "±P99", "  read: 5950 ops, 0 errors, ", "  write: 658 ops, 0 errors, ",
			"precision: throughput ±6.25%, p99 ±4.50%, read.p99 ±3.20%, write.p99 ±48.0% (95% CI from 6 intervals of 100ms)",
			"time series: 8 intervals of 100ms in 2 runs (6 full): ", "(highest in run 2 at 200ms)"},
		"markdown": {"| | ↳ read | 5950 |", "| | ↳ write | 658 |", "±4.50%", "±3.20%"},
		"junit":    {"read: 5950 ops", "write: 658 ops", "precision: throughput ±6.25%", "time series: 8 intervals"},
		"html": {`<svg class="timeseries" data-scenario="latency" data-runs="2"`, `class="curve kind k0"`, `class="curve kind k1"`,
			`<td class="l">read</td><td>5950</td>`, "precision: throughput ±6.25%", `class="line p99 overlay" data-run="1"`},
		"gobench": {"BenchmarkLatency/op=read-2\t", "BenchmarkLatency/op=write-2\t"},
	} {
		for _, want := range wants {
			if !strings.Contains(string(out[format]), want) {
				t.Errorf("%s lacks %q:\n%s", format, want, out[format])
			}
		}
	}
	// Every run draws its four lines, and a single run tells each
	// interval on hover.
	if n := strings.Count(string(out["html"]), `<path class="line `); n != 8 {
		t.Errorf("html draws %d time series lines; want 4 per run of 2", n)
	}
	if strings.Contains(string(out["html"]), `class="hover"`) {
		t.Error("html has hover areas for overlaid runs: they would name one run's figures only")
	}

	// hgrm: one file for the whole, one per kind.
	dir := t.TempDir()
	if err := report.WriteHgrm(dir, r); err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{"latency-read.hgrm", "latency-write.hgrm"} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("--hgrm: %v", err)
		}
		h, _ := latency.Decode(s.Operations[i].Histogram)
		var want bytes.Buffer
		if err := h.WriteHgrm(&want); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want.Bytes()) {
			t.Errorf("%s is not the %s histogram's distribution", name, s.Operations[i].Name)
		}
	}
	if files, _ := filepath.Glob(filepath.Join(dir, "*.hgrm")); len(files) != 3 {
		t.Errorf("--hgrm wrote %v; want latency.hgrm and one per kind", files)
	}
}

// TestGoBenchKindsPerRun: with repeated runs, each run has a line per
// kind, whose figures are those of the run's intervals (benchstat's
// samples); without interval histograms the kinds' lines over all runs
// come once.
func TestGoBenchKindsPerRun(t *testing.T) {
	type line struct {
		ops int
		p99 float64
	}
	read := func(r *report.Report) map[string][]line {
		var b bytes.Buffer
		if err := report.GoBench(&b, r); err != nil {
			t.Fatal(err)
		}
		got := map[string][]line{}
		rd := benchfmt.NewReader(&b, "gobench")
		for rd.Scan() {
			res, ok := rd.Result().(*benchfmt.Result)
			if !ok {
				continue
			}
			p99, _ := res.Value("p99-sec") // benchfmt tidies p99-ns into seconds
			got[string(res.Name)] = append(got[string(res.Name)], line{res.Iters, p99})
		}
		if err := rd.Err(); err != nil {
			t.Fatal(err)
		}
		return got
	}

	r := mixedReport(t)
	got := read(r)
	// Run 1: 900 reads a full interval, 450 in the half one; run 2: 800
	// and 400. Writes are a ninth of the reads, rounded down.
	for name, ops := range map[string][]int{"Latency-2": {3500, 3108}, "Latency/op=read-2": {3150, 2800}, "Latency/op=write-2": {350, 308}} {
		if len(got[name]) != 2 {
			t.Errorf("%s: %d lines; want one per run (2): %v", name, len(got[name]), got)
			continue
		}
		for i, l := range got[name] {
			if l.ops != ops[i] {
				t.Errorf("%s run %d: %d ops; want %d", name, i+1, l.ops, ops[i])
			}
		}
	}
	// The stall is in run 2's writes: its p99 only.
	if w := got["Latency/op=write-2"]; len(w) == 2 && !(w[1].p99 >= 3e-3*0.999 && w[0].p99 < 1e-4) {
		t.Errorf("write p99 per run %v; want the 3ms stall in run 2 alone", w)
	}

	// Without the intervals' histograms a run's kinds cannot be told: one
	// line per kind, over all runs.
	for i := range r.Scenarios[0].Intervals {
		for j := range r.Scenarios[0].Intervals[i].Operations {
			r.Scenarios[0].Intervals[i].Operations[j].Histogram = ""
		}
	}
	got = read(r)
	if len(got["Latency-2"]) != 2 || len(got["Latency/op=read-2"]) != 1 || got["Latency/op=read-2"][0].ops != int(r.Scenarios[0].Operations[0].Ops) {
		t.Errorf("without interval histograms: %v; want 2 lines of the scenario and one of each kind over all runs", got)
	}
}
