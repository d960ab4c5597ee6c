package report

import (
	"bytes"
	"encoding/xml"
	"errors"
	"flag"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	goldenfile "github.com/rustci/rustci-perf/internal/golden"
	"github.com/rustci/rustci-perf/pkg/latency"
	"github.com/rustci/rustci-perf/pkg/metric"
	"github.com/rustci/rustci-perf/schema"
	"golang.org/x/perf/benchfmt"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// fixture is a report with one scenario of each status, fixed so that its
// rendering is the same on every machine.
func fixture() *Report {
	start := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	p := func(v float64) *float64 { return &v }
	return &Report{
		Schema:      Schema,
		ToolVersion: "v0.1.0",
		StartedAt:   start,
		FinishedAt:  start.Add(1234 * time.Millisecond),
		Environment: Environment{GoVersion: "go1.26.8", OS: "linux", Arch: "amd64", GOMAXPROCS: 2, NumCPU: 2, CPUModel: "Test CPU @ 2.00GHz", Hostname: "ci-1",
			Canary: &Canary{Workload: "map-read-shared/v1", BeforeOpsPerSec: 123353893, AfterOpsPerSec: 65120000}},
		Provenance: &Provenance{
			Tool:   Tool{Version: "v0.1.0", Revision: "3ee614a78baeeaf3195534989b0ef78cf049ddc4"},
			Commit: "0123456789abcdef0123456789abcdef01234567", Branch: "main",
			CI: &CI{Provider: "github-actions", RunID: "42", RunURL: "https://github.com/o/r/actions/runs/42", Job: "perf"},
			// Markup in a label is shown as typed, in every format.
			Labels: map[string]string{"team": "cache", "note": "<b>*x*</b> | y"},
		},
		Passed: false,
		Scenarios: []Scenario{
			{
				Name: "cache-read", Group: "cache", Status: StatusPassed, Passed: true,
				Component: "cache: l1 ristretto", Mode: "closed-loop", Concurrency: 4,
				Ops: 10000, WarmupOps: 1000, DurationNS: 4_300_000, ThroughputOpsPerSec: 2325581.4,
				Latency: Latency{Count: 10000, Min: 169, Mean: 435.5, Stdev: 711.2, P50: 284, P90: 501, P95: 2060, P99: 2580, P999: 7960, Max: 26400},
				// One interval, shorter than the interval length: too few
				// for a precision.
				IntervalNS: 100_000_000,
				Intervals:  []Interval{{DurationNS: 4_300_000, Ops: 10000, ThroughputOpsPerSec: 2325581.4, P50NS: 284, P99NS: 2580, MaxNS: 26400}},
				Precision:  &Precision{Intervals: 0},
				// What the measured phase cost: 4 workers for 4.3ms is at most
				// 17.2ms of CPU time.
				Counters: map[string]int64{"hits": 10000, "misses": 0, "cpu_user": 7_200_000, "cpu_system": 400_000,
					"alloc_bytes": 81_920, "allocs": 160, "gc_cycles": 1, "gc_pause_total": 48_000},
				Metrics: map[string]float64{"hit_rate": 1, "cpu_per_op": 760, "alloc_bytes_per_op": 8.192, "allocs_per_op": 0.016,
					"peak_rss_bytes": 60_649_472, "heap_live_bytes": 19_490_904, "goroutines": 25},
				Thresholds: []Threshold{
					{Expr: "throughput>5000", Metric: "throughput", Op: ">", Limit: 5000, Actual: p(2325581.4), Pass: true},
					{Expr: "hit_rate>0.95", Metric: "hit_rate", Op: ">", Limit: 0.95, Actual: p(1), Pass: true},
				},
				Notes: []string{NotePrecision + ": 0 full intervals of 100ms, fewer than 5 (run longer: --duration)"},
			},
			{
				Name: "latency", Group: "latency", Status: StatusFailed,
				Component: "cache: l1 ristretto", Mode: "open-loop", TargetRateOpsPerSec: 2700000, Concurrency: 4,
				Ops: 9990, Errors: 10, WarmupOps: 1000, DurationNS: 3_720_000, ThroughputOpsPerSec: 2685483.9,
				Latency:            Latency{Count: 9990, Clamped: 2, Min: 172, Mean: 1100.25, Stdev: 13500, P50: 479, P90: 807, P95: 972, P99: 2460, P999: 190000, Max: 1_240_000},
				LatencyUncorrected: &Latency{Count: 9990, Min: 150, Mean: 400.5, Stdev: 300, P50: 300, P90: 500, P95: 600, P99: 900, P999: 4000, Max: 20000},
				// A mix of reads and writes, each kind apart, over 0.5ms
				// intervals of which the fourth stalled.
				Operations: []Operation{
					{Name: "read", Ops: 8991, Errors: 9, ThroughputOpsPerSec: 2416935.5,
						Latency: Latency{Count: 8991, Clamped: 2, Min: 172, Mean: 1050.2, Stdev: 13000, P50: 450, P90: 760, P95: 905, P99: 2300, P999: 180000, Max: 1_240_000}},
					{Name: "write", Ops: 999, Errors: 1, ThroughputOpsPerSec: 268548.4,
						Latency: Latency{Count: 999, Min: 610, Mean: 1550.75, Stdev: 17500, P50: 1210, P90: 1800, P95: 2100, P99: 4350, P999: 240000, Max: 1_100_000}},
				},
				IntervalNS: 500_000,
				Intervals:  latencyIntervals(),
				Precision:  &Precision{Intervals: 7, ThroughputPct: p(1.93), P99Pct: p(38.5), Operations: map[string]float64{"read": 35.2, "write": 61.04}},
				Counters:   map[string]int64{},
				Metrics:    map[string]float64{"achieved_rate_ratio": 0.9946},
				Thresholds: []Threshold{
					{Expr: "p99<2ms", Metric: "p99", Op: "<", Limit: 2e6, Actual: p(2460), Unit: "ns", Pass: true},
					{Expr: "read.p99<2ms", Metric: "read.p99", Op: "<", Limit: 2e6, Actual: p(2300), Unit: "ns", Pass: true},
					{Expr: "p99/p50<2", Metric: "p99/p50", Op: "<", Limit: 2, Actual: p(5.1356), Pass: false},
					{Expr: "p99/min<2", Metric: "p99/min", Op: "<", Limit: 2, Actual: nil, Pass: false},
				},
				Notes: []string{"10 operations failed and are not in ops, throughput or latency; the first: boom"},
			},
			{
				Name: "memory", Group: "memory", Status: StatusError, Error: "scenario memory: l1: out of luck",
				Mode: "closed-loop", Concurrency: 1, Counters: map[string]int64{}, Metrics: map[string]float64{}, Thresholds: []Threshold{},
			},
		},
	}
}

// latencyIntervals is the fixture's latency time series: seven full
// intervals of 0.5ms and a last one of 0.22ms, 9990 operations and 10
// errors in all, a stall in the fourth; reads are nine in ten.
func latencyIntervals() []Interval {
	ops := []int64{1340, 1351, 1338, 1290, 1345, 1350, 1366, 610}
	p99 := []int64{2410, 2390, 2450, 190000, 2470, 2380, 2400, 2420}
	var ivs []Interval
	for i, n := range ops {
		iv := Interval{StartNS: int64(i) * 500_000, DurationNS: 500_000, Ops: n, P50NS: 470 + int64(i)*3, P99NS: p99[i], MaxNS: 4 * p99[i]}
		if i == 3 {
			iv.Errors, iv.MaxNS = 10, 1_240_000
		}
		if i == len(ops)-1 {
			iv.DurationNS = 220_000
		}
		iv.ThroughputOpsPerSec = float64(n) / (float64(iv.DurationNS) / 1e9)
		reads := n * 9 / 10
		iv.Operations = []IntervalOperation{
			{Name: "read", Ops: reads, Errors: iv.Errors * 9 / 10, P50NS: iv.P50NS - 20, P99NS: iv.P99NS - 100},
			{Name: "write", Ops: n - reads, Errors: iv.Errors - iv.Errors*9/10, P50NS: iv.P50NS + 700, P99NS: iv.P99NS * 2},
		}
		ivs = append(ivs, iv)
	}
	return ivs
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.Check(t, *update, name, got)
}

func TestTextGolden(t *testing.T) {
	var b bytes.Buffer
	if err := Text(&b, fixture()); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.txt.golden", b.Bytes())
}

// TestPrecisionSaidOnce: a precision that could not be estimated is said
// by the scenario's note where notes are printed (text, HTML), and by the
// precision line where they are not (JUnit), never twice.
func TestPrecisionSaidOnce(t *testing.T) {
	for name, f := range map[string]Formatter{"text": Text, "html": HTML, "junit": JUnit} {
		var b bytes.Buffer
		if err := f(&b, fixture()); err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(b.String(), "not estimated"); n != 1 {
			t.Errorf("%s says %d times that cache-read's precision was not estimated; want once:\n%s", name, n, b.String())
		}
	}
}

func TestJSONGolden(t *testing.T) {
	var b bytes.Buffer
	if err := JSON(&b, fixture()); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.json.golden", b.Bytes())
}

func TestJSONRoundTrip(t *testing.T) {
	var b bytes.Buffer
	want := fixture()
	if err := JSON(&b, want); err != nil {
		t.Fatal(err)
	}
	got, err := ReadJSON(&b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("read back %+v\nwant %+v", got, want)
	}
}

func TestReadJSONErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"schema":"rustci-perf/report/v0"}`, `schema "rustci-perf/report/v0"`},
		{`{"schema":"rustci-perf/report/v1","extra":1}`, `additional properties 'extra' not allowed`},
		{`{"schema":`, "unexpected EOF"},
		{`[]`, "a JSON array, not a report"},
	}
	for _, tt := range tests {
		_, err := ReadJSON(strings.NewReader(tt.in))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ReadJSON(%s) error = %v; want %q", tt.in, err, tt.want)
		}
	}
}

func TestVerdict(t *testing.T) {
	r := fixture()
	if got := Verdict(r); got != "ERROR: 1 of 3 scenarios could not run; 4 of 6 thresholds held" {
		t.Errorf("Verdict = %q", got)
	}
	r.Scenarios = r.Scenarios[:2]
	if got := Verdict(r); got != "FAIL: 2 of 6 thresholds missed in 2 scenarios" {
		t.Errorf("Verdict = %q", got)
	}
	r.Scenarios, r.Passed = r.Scenarios[:1], true
	if got := Verdict(r); got != "PASS: 2 of 2 thresholds held in 1 scenarios" {
		t.Errorf("Verdict = %q", got)
	}
	// A regression against the baseline fails the run: no PASS above it.
	r.Comparison = &Comparison{Regressions: 2}
	if got := Verdict(r); got != "FAIL: 2 of 2 thresholds held in 1 scenarios, but 2 regressions against the baseline" {
		t.Errorf("Verdict with regressions = %q", got)
	}
	r.Comparison = nil
	r.Interrupted = true
	if got := Verdict(r); !strings.HasPrefix(got, "INTERRUPTED") {
		t.Errorf("Verdict = %q", got)
	}
}

func TestDuration(t *testing.T) {
	tests := []struct {
		ns   float64
		want string
	}{
		{0, "0ns"}, {7, "7ns"}, {999, "999ns"}, {435.5, "436ns"}, {12.26, "12.3ns"},
		{1000, "1.00µs"}, {2580, "2.58µs"}, {26400, "26.4µs"}, {190000, "190µs"},
		{1.24e6, "1.24ms"}, {999.4e6, "999ms"}, {1.5e9, "1.50s"}, {125e9, "125s"},
	}
	for _, tt := range tests {
		if got := Duration(tt.ns); got != tt.want {
			t.Errorf("Duration(%g) = %q; want %q", tt.ns, got, tt.want)
		}
	}
}

func TestWriteFileIsAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "report.json")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, fixture(), JSON); err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(path)
	defer f.Close()
	if _, err := ReadJSON(f); err != nil {
		t.Errorf("written report does not read back: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries after the write; want only the report", len(entries))
	}
	// A formatter that fails leaves the old file as it was and no temp file.
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	failing := func(w *bytes.Buffer) Formatter {
		return func(_ io.Writer, _ *Report) error { return os.ErrInvalid }
	}(nil)
	if err := WriteFile(path, fixture(), failing); err == nil {
		t.Error("WriteFile with a failing formatter: nil error")
	}
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Errorf("after a failed write the file holds %q; want it untouched", b)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("a failed write left %d entries", len(entries))
	}
}

// TestSaveAppend: Append keeps what the file held and adds the report on a
// line of its own; a missing file is created; a failing formatter leaves the
// file as it was.
func TestSaveAppend(t *testing.T) {
	dir := t.TempDir()
	md := func(w io.Writer) error { return Markdown(w, fixture()) }
	var want bytes.Buffer
	if err := md(&want); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, before, after string
	}{
		// no file yet: created, holding the report alone
		{"new.md", "", ""},
		// a summary another step wrote, ending its line: a blank line between
		{"ended.md", "### tests passed\n", "### tests passed\n\n"},
		// a line not ended: the report still starts a line
		{"open.md", "build ok", "build ok\n"},
	} {
		path := filepath.Join(dir, tt.name)
		if tt.before != "" {
			if err := os.WriteFile(path, []byte(tt.before), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if err := Save(path, Append, md); err != nil {
			t.Fatalf("Save(%s, Append) = %v", tt.name, err)
		}
		got, _ := os.ReadFile(path)
		if string(got) != tt.after+want.String() {
			t.Errorf("Save(%s, Append) after %q: file holds %q...; want %q then the report", tt.name, tt.before, got[:min(len(got), 40)], tt.after)
		}
		if err := Save(path, Append, func(io.Writer) error { return os.ErrInvalid }); err == nil {
			t.Errorf("Save(%s, Append) with a failing formatter: nil error", tt.name)
		}
		if again, _ := os.ReadFile(path); !bytes.Equal(again, got) {
			t.Errorf("Save(%s, Append) with a failing formatter changed the file", tt.name)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 3 {
		t.Errorf("directory holds %d entries; want the 3 files, no temporary one", len(entries))
	}
}

func TestFormatForPath(t *testing.T) {
	for _, tt := range []struct {
		path, want string
		ok         bool
	}{
		{"report.json", "json", true},
		{"out/junit.xml", "junit", true},
		{"summary.md", "markdown", true},
		{"report.html", "html", true},
		{"REPORT.HTM", "html", true}, // any case
		{"report.txt", "text", true},
		{"results.CSV", "csv", true},
		{"merged.yaml", "", false},
		{"report", "", false},
		{"report.json.bak", "", false}, // the last extension decides
	} {
		got, ok := FormatForPath(tt.path)
		if got != tt.want || ok != tt.ok {
			t.Errorf("FormatForPath(%q) = (%q, %t); want (%q, %t)", tt.path, got, ok, tt.want, tt.ok)
		}
		if ok {
			if _, err := Lookup(got); err != nil {
				t.Errorf("FormatForPath(%q) = %q, which is not a format: %v", tt.path, got, err)
			}
		}
	}
}

func TestLookup(t *testing.T) {
	if _, err := Lookup("json"); err != nil {
		t.Error(err)
	}
	if _, err := Lookup("xml"); err == nil || !strings.Contains(err.Error(), "csv, gobench, html, json, junit, markdown, text") {
		t.Errorf("Lookup(xml) error = %v; want one listing the formats", err)
	}
}

// FuzzReadJSON: reading arbitrary bytes never panics; what reads back is
// valid against the published schema, keeps the invariants a run's report
// does (checked here apart from the reader: counts, statuses, one entry
// per scenario, histograms that hold one value per operation), and writes
// and reads again to the same report.
func FuzzReadJSON(f *testing.F) {
	injected := fixture()
	injected.Injected = []string{"l2:latency=2ms,stall=1s@0s", "limiter:error=0.5"}
	for _, r := range []*Report{fixture(), readable(f), windowed(), injected} {
		var b bytes.Buffer
		_ = JSON(&b, r)
		if _, err := ReadJSON(bytes.NewReader(b.Bytes())); err != nil {
			f.Fatalf("a seed does not read back: %v", err)
		}
		f.Add(b.Bytes())
	}
	f.Add([]byte(`{"schema":"rustci-perf/report/v1","scenarios":[{"thresholds":[{"actual":null}]}]}`))
	f.Add([]byte(`{"schema":"rustci-perf/report/v1","scenarios":[{"metrics":{"hit_rate":null},"repeat":{"stats":{"p99":{"median":null,"min":1,"max":2,"cv":null}},"runs":[{"metrics":{"hit_rate":null}}]}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ReadJSON(bytes.NewReader(data))
		if err != nil {
			return
		}
		if err := schema.ValidateReport(data); err != nil {
			t.Fatalf("accepted, and invalid against the schema: %v", err)
		}
		keepsInvariants(t, r)
		var out bytes.Buffer
		if err := JSON(&out, r); err != nil {
			t.Fatalf("a report read back cannot be written: %v", err)
		}
		written := append([]byte(nil), out.Bytes()...)
		again, err := ReadJSON(&out)
		if err != nil {
			t.Fatalf("a report written from one read back does not read: %v", err)
		}
		// Compared as written: an n/a figure is NaN once read, and NaN is
		// never equal to itself.
		var twice bytes.Buffer
		if err := JSON(&twice, again); err != nil || !bytes.Equal(written, twice.Bytes()) {
			t.Fatalf("round trip changed the report (%v):\n%s\nthen\n%s", err, written, twice.Bytes())
		}
		_ = Text(&bytes.Buffer{}, r)
	})
}

func TestHgrmGolden(t *testing.T) {
	rec := latency.NewRecorder()
	for i := 1; i <= 1000; i++ {
		rec.Record(time.Duration(i) * time.Microsecond)
	}
	enc, err := rec.Encode()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	r := &Report{Scenarios: []Scenario{{Name: "cache-read", Histogram: enc}, {Name: "skipped"}}}
	if err := WriteHgrm(dir, r); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "cache-read.hgrm"))
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "cache-read.hgrm.golden", got)
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d files written; want one, for the scenario with a histogram", len(entries))
	}
	if err := WriteHgrm(dir, &Report{Scenarios: []Scenario{{Name: "bad", Histogram: "garbage"}}}); err == nil {
		t.Error("a bad histogram was written")
	}
}

func TestFormatGoldens(t *testing.T) {
	for name, f := range map[string]Formatter{"markdown": Markdown, "gobench": GoBench, "junit": JUnit, "csv": CSV} {
		var b bytes.Buffer
		if err := f(&b, fixture()); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		golden(t, "report."+name+".golden", b.Bytes())
	}
	var b bytes.Buffer
	if err := JUnit(&b, withRegressions()); err != nil {
		t.Fatal(err)
	}
	golden(t, "regressions.junit.golden", b.Bytes())
}

// TestGoBenchReadsAsBenchmarks: benchstat's own reader takes the gobench
// output, with its units and the fixture's values: ns/op the wall time
// over the operations, as go test -bench has it (not the mean latency,
// which is mean-ns); what an operation cost only where the scenario has
// it; a kind of operation's line without ns/op (the kinds share the wall
// time) and without the cost (the process's, not a kind's).
func TestGoBenchReadsAsBenchmarks(t *testing.T) {
	var b bytes.Buffer
	if err := GoBench(&b, fixture()); err != nil {
		t.Fatal(err)
	}
	rd := benchfmt.NewReader(&b, "report")
	// benchfmt tidies ns into seconds: ns/op is sec/op, mean-ns mean-sec.
	want := map[string]map[string]float64{
		"CacheRead-2": {"sec/op": 4_300_000.0 / 10000 * 1e-9, "ops/s": 2325581.4, "mean-sec": 435.5e-9, "p50-sec": 284e-9,
			"p99-sec": 2580e-9, "p999-sec": 7960e-9, "cpu-sec/op": 760e-9, "B/op": 8.19, "allocs/op": 0.016},
		"Latency-2": {"sec/op": 3_720_000.0 / 9990 * 1e-9, "ops/s": 2685483.9, "mean-sec": 1100.25e-9, "p50-sec": 479e-9,
			"p99-sec": 2460e-9, "p999-sec": 190000e-9},
		"Latency/op=read-2":  {"ops/s": 2416935.5, "mean-sec": 1050.2e-9, "p50-sec": 450e-9, "p99-sec": 2300e-9, "p999-sec": 180000e-9},
		"Latency/op=write-2": {"ops/s": 268548.4, "mean-sec": 1550.75e-9, "p50-sec": 1210e-9, "p99-sec": 4350e-9, "p999-sec": 240000e-9},
	}
	var names []string
	for rd.Scan() {
		res, ok := rd.Result().(*benchfmt.Result)
		if !ok {
			continue
		}
		name := string(res.Name)
		names = append(names, name)
		for _, v := range res.Values {
			w, ok := want[name][v.Unit]
			// Two decimals as written (435.50): within half a cent of
			// the unit as written.
			if tol := max(math.Abs(w)*1e-9, 0.005*v.Value/v.OrigValue); !ok || math.Abs(v.Value-w) > tol {
				t.Errorf("%s: %g %s (%g %s as written); want %g (present %t)", name, v.Value, v.Unit, v.OrigValue, v.OrigUnit, w, ok)
			}
		}
		if len(res.Values) != len(want[name]) {
			t.Errorf("%s: %d values %v; want %d", name, len(res.Values), res.Values, len(want[name]))
		}
	}
	if err := rd.Err(); err != nil {
		t.Fatal(err)
	}
	if strings.Join(names, ",") != "CacheRead-2,Latency-2,Latency/op=read-2,Latency/op=write-2" {
		t.Errorf("benchmarks %v; want the two scenarios with latencies, and latency's kinds of operation", names)
	}
}

// junitSuite is what TestJUnitParses reads back of the JUnit XML.
type junitSuite struct {
	Tests    int `xml:"tests,attr"`
	Failures int `xml:"failures,attr"`
	Errors   int `xml:"errors,attr"`
	Cases    []struct {
		Name     string `xml:"name,attr"`
		Failures []struct {
			Message string `xml:"message,attr"`
			Type    string `xml:"type,attr"`
			Text    string `xml:",chardata"`
		} `xml:"failure"`
	} `xml:"testcase"`
}

// TestJUnitParses: a testcase has at most one failure, since CI JUnit
// readers show only the first, and its message names every missed
// threshold and every regression.
func TestJUnitParses(t *testing.T) {
	for _, tt := range []struct {
		name     string
		r        *Report
		typ      string
		messages []string
	}{
		// latency misses two thresholds; memory could not run.
		{"thresholds", fixture(), "threshold", []string{"2 of 4 thresholds missed: p99/p50<2 (actual 5.136), p99/min<2 (actual n/a)"}},
		// and regressed twice against a baseline
		{"thresholds and regressions", withRegressions(), "threshold,regression", []string{
			"2 of 4 thresholds missed: p99/p50<2 (actual 5.136), p99/min<2 (actual n/a); ",
			"2 regressions against the baseline: throughput -10.5% (3000000 ops/s to 2685484 ops/s), p99 +23.0% (2.00µs to 2.46µs)"}},
	} {
		var b bytes.Buffer
		if err := JUnit(&b, tt.r); err != nil {
			t.Fatal(err)
		}
		var ts junitSuite
		if err := xml.Unmarshal(b.Bytes(), &ts); err != nil {
			t.Fatal(err)
		}
		if ts.Tests != 3 || ts.Failures != 1 || ts.Errors != 1 || len(ts.Cases[1].Failures) != 1 {
			t.Fatalf("%s: junit %+v; want 3 tests, 1 failing with one failure, 1 error", tt.name, ts)
		}
		f := ts.Cases[1].Failures[0]
		if f.Type != tt.typ {
			t.Errorf("%s: failure type %q; want %q", tt.name, f.Type, tt.typ)
		}
		for _, m := range tt.messages {
			if !strings.Contains(f.Message, m) {
				t.Errorf("%s: failure message %q; want it to contain %q", tt.name, f.Message, m)
			}
		}
		for _, detail := range []string{"threshold p99/p50<2\n", "threshold p99/min<2\n"} {
			if !strings.Contains(f.Text, detail) {
				t.Errorf("%s: failure text lacks %q:\n%s", tt.name, detail, f.Text)
			}
		}
	}
}

// withRegressions is fixture() compared with a baseline against which
// latency, which also misses two thresholds, regressed in throughput and
// p99.
func withRegressions() *Report {
	r := fixture()
	p := func(v float64) *float64 { return &v }
	r.Comparison = &Comparison{
		Base: "baseline.json", New: "this run", Alpha: 0.05, MinEffect: 0.05, Regressions: 2,
		Scenarios: []ScenarioChange{{Name: "latency", BaseRuns: 1, NewRuns: 1,
			Changes: []Change{
				{Metric: "throughput", Unit: "ops/s", Better: "higher", Base: 3000000, New: 2685483.9, ChangePct: p(-10.48), Test: TestTolerance, Verdict: Regression},
				{Metric: "p50", Unit: "ns", Better: "lower", Base: 470, New: 479, ChangePct: p(1.9), Test: TestTolerance, Verdict: NoChange},
				{Metric: "p99", Unit: "ns", Better: "lower", Base: 2000, New: 2460, ChangePct: p(23), Test: TestBootstrap, CILowPct: p(20.1), CIHighPct: p(25.2), Verdict: Regression},
			}}},
		BaseReport: fixture(),
	}
	return r
}

// withBaseline is fixture() with histograms and a comparison against a
// baseline whose cache-read was 30% slower in its tail.
func withBaseline(t testing.TB) *Report {
	r := fixture()
	hist := func(scale float64) string {
		rec := latency.NewRecorder()
		for i := 1; i <= 10000; i++ {
			d := float64(i%500+150) * scale
			if i%100 == 0 {
				d *= 10 // a tail
			}
			rec.Record(time.Duration(d))
		}
		enc, err := rec.Encode()
		if err != nil {
			t.Fatal(err)
		}
		return enc
	}
	r.Scenarios[0].Histogram = hist(1)
	r.Scenarios[1].Histogram = hist(2)
	r.Scenarios[1].Operations[0].Histogram = hist(1.8)
	r.Scenarios[1].Operations[1].Histogram = hist(3.5)
	base := fixture()
	base.Scenarios[0].Histogram = hist(1.3)
	p := func(v float64) *float64 { return &v }
	r.Comparison = &Comparison{
		Base: "baseline.json", New: "this run", Alpha: 0.05, MinEffect: 0.05, Improvements: 1,
		Scenarios: []ScenarioChange{{Name: "cache-read", BaseRuns: 1, NewRuns: 1,
			Changes: []Change{
				{Metric: "throughput", Unit: "ops/s", Better: "higher", Base: 2325000, New: 2325581.4, ChangePct: p(0.025), Test: TestTolerance, Verdict: NoChange},
				{Metric: "p99", Unit: "ns", Better: "lower", Base: 3350, New: 2580, ChangePct: p(-23), Test: TestBootstrap, CILowPct: p(-25.1), CIHighPct: p(-20.2), Verdict: Improvement},
			},
			Notes: []string{"a single run on one side"}}},
		BaseReport: base,
	}
	return r
}

func TestBaselineGoldens(t *testing.T) {
	for name, f := range map[string]Formatter{"txt": Text, "html": HTML, "markdown": Markdown} {
		var b bytes.Buffer
		if err := f(&b, withBaseline(t)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		golden(t, "baseline."+name+".golden", b.Bytes())
	}
}

// TestHTMLSelfContained: nothing in the page loads from elsewhere.
func TestHTMLSelfContained(t *testing.T) {
	var b bytes.Buffer
	if err := HTML(&b, withBaseline(t)); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"<script", "src=", "<link", "@import", "url("} {
		if strings.Contains(b.String(), bad) {
			t.Errorf("the page has %q: it must load nothing", bad)
		}
	}
	if n := strings.Count(b.String(), `<svg class="plot"`); n != 2 {
		t.Errorf("%d plots; want one per scenario with a histogram (2)", n)
	}
	if n := strings.Count(b.String(), `class="curve base"`); n != 1 {
		t.Errorf("%d baseline curves; want 1 (cache-read)", n)
	}
	if n := strings.Count(b.String(), `class="curve kind `); n != 2 {
		t.Errorf("%d curves of kinds of operation; want 2 (latency's read and write)", n)
	}
	if n := strings.Count(b.String(), `<svg class="timeseries"`); n != 2 {
		t.Errorf("%d time series plots; want one per scenario with intervals (2)", n)
	}
}

// TestJUnitValidates: the JUnit output, with failures, errors, skips and
// regressions, validates against schema/junit.xsd with xmllint. Without
// xmllint it skips, unless RUSTCI_PERF_REQUIRE_TOOLS=1 (set by CI).
func TestJUnitValidates(t *testing.T) {
	for name, r := range map[string]*Report{"fixture": fixture(), "with a baseline": withBaseline(t), "with regressions": withRegressions()} {
		var b bytes.Buffer
		if err := JUnit(&b, r); err != nil {
			t.Fatal(err)
		}
		err := schema.ValidateJUnit(b.Bytes())
		if errors.Is(err, schema.ErrNoXmllint) && os.Getenv("RUSTCI_PERF_REQUIRE_TOOLS") != "1" {
			t.Skip(err)
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// keepsInvariants checks, apart from the reader, what every report read
// back keeps.
func keepsInvariants(t *testing.T, r *Report) {
	t.Helper()
	names := map[string]bool{}
	ok := !r.Interrupted
	for _, s := range r.Scenarios {
		if names[s.Name] {
			t.Fatalf("scenario %s twice", s.Name)
		}
		names[s.Name] = true
		ok = ok && (s.Passed || s.Status == StatusSkipped)
		if s.Ops < 0 || s.Errors < 0 || s.WarmupOps < 0 || s.ThroughputOpsPerSec < 0 {
			t.Fatalf("%s: ops %d, errors %d, warmup %d, throughput %g", s.Name, s.Ops, s.Errors, s.WarmupOps, s.ThroughputOpsPerSec)
		}
		if s.Passed != (s.Status == StatusPassed) || (s.Status == StatusError) != (s.Error != "") || (s.Status == StatusSkipped) != (s.Reason != "") {
			t.Fatalf("%s: status %s, passed %t, error %q, reason %q", s.Name, s.Status, s.Passed, s.Error, s.Reason)
		}
		for k, v := range s.Counters {
			if v < 0 && !metric.Signed(k) {
				t.Fatalf("%s: counter %s = %d", s.Name, k, v)
			}
		}
		for k, v := range s.Metrics {
			if d, _ := metric.Lookup(k); d.Share && metric.Valid(v) && (v < 0 || v > 1) {
				t.Fatalf("%s: share %s = %g", s.Name, k, v)
			}
		}
		if s.Latency.Count != s.Ops {
			t.Fatalf("%s: latency count %d, ops %d", s.Name, s.Latency.Count, s.Ops)
		}
		hists := map[string]int64{s.Histogram: s.Ops, s.HistogramUncorrected: s.Ops}
		for _, o := range s.Operations {
			hists[o.Histogram] = o.Ops
		}
		for enc, want := range hists {
			if enc == "" {
				continue
			}
			h, err := latency.Decode(enc)
			if err != nil {
				t.Fatalf("%s: a histogram does not decode: %v", s.Name, err)
			}
			if h.Count() != want {
				t.Fatalf("%s: a histogram holds %d values; want %d", s.Name, h.Count(), want)
			}
		}
	}
	if r.Passed != ok {
		t.Fatalf("passed %t; the scenarios and interrupted %t say %t", r.Passed, r.Interrupted, ok)
	}
}
