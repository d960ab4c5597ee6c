package compare

import (
	"bytes"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aclements/go-moremath/stats"
	goldenfile "github.com/rustci/rustci-perf/internal/golden"
	"github.com/rustci/rustci-perf/pkg/latency"
	"github.com/rustci/rustci-perf/pkg/metric"
	"github.com/rustci/rustci-perf/pkg/report"
	"github.com/rustci/rustci-perf/schema"
)

var update = flag.Bool("update", false, "rewrite the fixture reports and golden files in testdata")

// perRun is the operations of each synthetic run.
const perRun = 20000

// synthetic is a report of one scenario, cache-read, one run per
// throughput in tps, perRun operations each. The latencies are a fixed
// lognormal grid around 1µs (no randomness: operation i of all is at the
// normal quantile z of (i+0.5)/N), shaped by shape(z, ns), and dealt to
// the runs in turn.
func synthetic(tps []float64, shape func(z, ns float64) float64) *report.Report {
	runs := len(tps)
	n := perRun * runs
	all := latency.NewRecorder()
	recs := make([]*latency.Recorder, runs)
	for j := range recs {
		recs[j] = latency.NewRecorder()
	}
	for i := 0; i < n; i++ {
		z := stats.NormalDist{Mu: 0, Sigma: 1}.InvCDF((float64(i) + 0.5) / float64(n))
		d := time.Duration(shape(z, 1000*math.Exp(0.6*z)))
		all.Record(d)
		recs[i%runs].Record(d)
	}
	enc, err := all.Encode()
	if err != nil {
		panic(err)
	}
	s := report.Scenario{
		Name: "cache-read", Group: "cache", Status: report.StatusPassed, Passed: true, Mode: "closed-loop", Concurrency: 2,
		Ops: int64(n), Latency: report.LatencyOf(all.Summary()), Histogram: enc,
		Counters:   map[string]int64{"hits": int64(n), "misses": 0},
		Metrics:    map[string]float64{"hit_rate": 1},
		Thresholds: []report.Threshold{},
	}
	var dur int64
	rr := make([]report.Run, runs)
	for j, tp := range tps {
		d := int64(float64(perRun) / tp * 1e9)
		dur += d
		renc, err := recs[j].Encode()
		if err != nil {
			panic(err)
		}
		rr[j] = report.Run{Ops: perRun, DurationNS: d, ThroughputOpsPerSec: tp, Latency: report.LatencyOf(recs[j].Summary()),
			Histogram: renc, Counters: map[string]int64{"hits": perRun, "misses": 0}, Metrics: map[string]float64{"hit_rate": 1}}
	}
	s.DurationNS = dur
	s.ThroughputOpsPerSec = float64(n) / (float64(dur) / 1e9)
	if runs > 1 {
		s.Repeat = &report.Repeat{Count: runs, Judge: "median", Stats: map[string]report.Stat{}, Runs: rr}
	}
	at := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	return &report.Report{
		Schema: report.Schema, ToolVersion: "test", StartedAt: at, FinishedAt: at.Add(time.Minute),
		Environment: report.Environment{GoVersion: "go1.26", OS: "linux", Arch: "amd64", GOMAXPROCS: 2, NumCPU: 2},
		Passed:      true, Scenarios: []report.Scenario{s},
	}
}

func same(_, ns float64) float64 { return ns }

// tail makes the slowest 2% of operations 30% slower: p99 and p99.9 rise
// by 30%, the median does not move.
func tail(z, ns float64) float64 {
	if z > 2.054 { // the 98th percentile of the normal
		return ns * 1.3
	}
	return ns
}

func scale(tps []float64, f float64) []float64 {
	out := make([]float64, len(tps))
	for i, v := range tps {
		out[i] = v * f
	}
	return out
}

var baseTPS = []float64{100000, 101000, 99000, 100500, 99500}

// named is the one scenario of a synthetic report under another name.
func named(r *report.Report, name, group string) report.Scenario {
	s := r.Scenarios[0]
	s.Name, s.Group = name, group
	return s
}

// failedAll is a scenario whose every operation failed, as a run writes
// it: no ops, the errors counted, an empty histogram, a threshold missed.
func failedAll(name, group string, errors int64) report.Scenario {
	empty, err := latency.NewRecorder().Encode()
	if err != nil {
		panic(err)
	}
	return report.Scenario{
		Name: name, Group: group, Status: report.StatusFailed, Mode: "closed-loop", Concurrency: 2,
		Errors: errors, DurationNS: 500_000_000, Histogram: empty,
		Counters: map[string]int64{"hits": 0, "misses": 0, "l2_errors": errors},
		Metrics:  map[string]float64{"hit_rate": 0},
		Thresholds: []report.Threshold{{Expr: "errors==0", Metric: "errors", Op: "==", Limit: 0, Actual: report.Float(float64(errors))},
			{Expr: "hit_rate>0.99", Metric: "hit_rate", Op: ">", Limit: 0.99, Actual: nil}},
		Notes: []string{fmt.Sprintf("%d operations failed and are not in ops, throughput or latency; the first: connection refused", errors)},
	}
}

// notRun is a scenario that did not run: status error (why is the error)
// or skipped (why is the reason).
func notRun(name, group, status, why string) report.Scenario {
	s := report.Scenario{Name: name, Group: group, Status: status, Mode: "closed-loop", Concurrency: 4,
		Counters: map[string]int64{}, Metrics: map[string]float64{}, Thresholds: []report.Threshold{}}
	if status == report.StatusError {
		s.Error = why
	} else {
		s.Reason = why
	}
	return s
}

// withScenarios is r with these scenarios instead of its own.
func withScenarios(r *report.Report, ss ...report.Scenario) *report.Report {
	out := *r
	out.Scenarios = ss
	out.Passed = true
	for _, s := range ss {
		out.Passed = out.Passed && (s.Passed || s.Status == report.StatusSkipped)
	}
	return &out
}

const (
	noRedis      = "no Redis URL (--redis-url or $RUSTCI_PERF_REDIS_URL)"
	redisRefused = "scenario cache-l2: l2: dial tcp 127.0.0.1:6379: connect: connection refused"
)

// fixtures are the report files the tests (and the binary's tests) read.
var fixtures = map[string]*report.Report{
	"base.json":        synthetic(baseTPS, same),
	"regression.json":  synthetic(scale(baseTPS, 0.9), tail),
	"improvement.json": synthetic(scale(baseTPS, 1.1), func(_, ns float64) float64 { return ns * 0.8 }),
	"nochange.json":    synthetic([]float64{100200, 99800, 100700, 99300, 100100}, same),
	"single-base.json": synthetic([]float64{100000}, same),
	"single-tail.json": synthetic([]float64{100400}, tail),
	"two-base.json":    synthetic([]float64{100000, 101000}, same),
	"two-new.json":     synthetic([]float64{90000, 91000}, same),
	// cache-l2 measured, then every operation failed, then could not run,
	// then skipped (no Redis).
	"l2-base.json":    withScenarios(synthetic([]float64{100000}, same), named(synthetic([]float64{100000}, same), "cache-l2", "cache")),
	"l2-failed.json":  withScenarios(synthetic([]float64{100000}, same), failedAll("cache-l2", "cache", perRun)),
	"l2-error.json":   withScenarios(synthetic([]float64{100000}, same), notRun("cache-l2", "cache", report.StatusError, redisRefused)),
	"l2-skipped.json": withScenarios(synthetic([]float64{100000}, same), notRun("cache-l2", "cache", report.StatusSkipped, noRedis)),
	// Four scenarios: cache-read unchanged, cache-l2's operations all
	// failed, cache-l3 could not run, limiter skipped on both sides.
	"lost-base.json": withScenarios(synthetic(baseTPS, same),
		named(synthetic(baseTPS, same), "cache-read", "cache"),
		named(synthetic([]float64{100000}, same), "cache-l2", "cache"),
		named(synthetic([]float64{100000}, same), "cache-l3", "cache"),
		notRun("limiter", "limiter", report.StatusSkipped, "limiter: "+noRedis)),
	// A mixed scenario (reads and writes), single runs of ten intervals on
	// a quiet machine: the same, and writes' slowest 2% 30% slower.
	"mixed-base.json": quiet.draw(1),
	"mixed-same.json": quiet.draw(2),
	"mixed-slow.json": func() *report.Report { p := quiet; p.slow = slowWrites; return p.draw(3) }(),
	"lost-new.json": withScenarios(synthetic(baseTPS, same),
		named(synthetic([]float64{100200, 99800, 100700, 99300, 100100}, same), "cache-read", "cache"),
		failedAll("cache-l2", "cache", perRun),
		notRun("cache-l3", "cache", report.StatusError, "scenario cache-l3: l3: open: permission denied"),
		notRun("limiter", "limiter", report.StatusSkipped, "limiter: "+noRedis)),
}

func TestMain(m *testing.M) {
	flag.Parse()
	if *update {
		for name, r := range fixtures {
			if err := report.WriteFile(filepath.Join("testdata", name), r, report.JSON); err != nil {
				panic(err)
			}
		}
	}
	os.Exit(m.Run())
}

// load reads a fixture back from its file, as the binary would.
func load(t *testing.T, name string) Side {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := report.ReadJSON(f)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return Side{Name: name, Report: r}
}

func compare(t *testing.T, base, nw string) *report.Comparison {
	t.Helper()
	c, err := Reports(load(t, base), load(t, nw), Defaults)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func verdicts(c *report.Comparison) map[string]report.Change {
	out := map[string]report.Change{}
	for _, s := range c.Scenarios {
		for _, ch := range s.Changes {
			out[ch.Metric] = ch
		}
	}
	return out
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.Check(t, *update, name, got)
}

func TestGolden(t *testing.T) {
	for _, c := range []struct {
		new, golden string
		format      string
		regressions int
	}{
		{"regression.json", "regression.txt", "text", 3},
		{"regression.json", "regression.md", "markdown", 3},
		{"regression.json", "regression.out.json", "json", 3},
		{"improvement.json", "improvement.txt", "text", 0},
		{"nochange.json", "nochange.txt", "text", 0},
		{"mixed-base.json", "mixed-same.txt", "text", 0},
		{"mixed-base.json", "mixed-slow.txt", "text", 3},
		{"mixed-base.json", "mixed-slow.md", "markdown", 3},
		{"mixed-base.json", "mixed-slow.out.json", "json", 3},
	} {
		base, nw := "base.json", c.new
		if strings.HasPrefix(c.golden, "mixed-") {
			base, nw = c.new, strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(c.golden, ".txt"), ".md"), ".out.json")+".json"
		}
		cmp := compare(t, base, nw)
		if cmp.Regressions != c.regressions {
			t.Errorf("%s vs %s: %d regressions, want %d", base, nw, cmp.Regressions, c.regressions)
		}
		var b bytes.Buffer
		if err := report.ComparisonFormats[c.format](&b, cmp); err != nil {
			t.Fatal(err)
		}
		golden(t, c.golden, b.Bytes())
	}
}

func TestVerdicts(t *testing.T) {
	for _, c := range []struct {
		base, new string
		want      map[string]string
		test      map[string]string
	}{
		{"base.json", "regression.json",
			map[string]string{"throughput": report.Regression, "p50": report.NoChange, "p95": report.NoChange, "p99": report.Regression, "p99.9": report.Regression, "hit_rate": report.NoChange},
			map[string]string{"throughput": report.TestMannWhitney, "p50": report.TestMannWhitney, "p99": report.TestBootstrap}},
		{"base.json", "improvement.json",
			map[string]string{"throughput": report.Improvement, "p50": report.Improvement, "p99": report.Improvement, "p99.9": report.Improvement},
			nil},
		{"base.json", "nochange.json",
			map[string]string{"throughput": report.NoChange, "p50": report.NoChange, "p99": report.NoChange, "p99.9": report.NoChange},
			nil},
		// p99 30% worse, median flat, one run each: the bootstrap catches
		// the tail (TestSingleRunFloor), but 30% is within what single
		// runs differ by, so Defaults leave it to --count.
		{"single-base.json", "single-tail.json",
			map[string]string{"throughput": report.NoChange, "p50": report.NoChange, "p99": report.NoChange, "p99.9": report.NoChange},
			map[string]string{"throughput": report.TestTolerance, "p50": report.TestTolerance, "p99": report.TestBootstrap}},
		// Two runs a side can never reach p < 0.05, and these have no
		// intervals: no test judges a 10% drop in throughput, which is
		// within what runs differ by (Options.UntestedEffect), said so.
		{"two-base.json", "two-new.json",
			map[string]string{"throughput": report.NoChange, "p50": report.NoChange},
			map[string]string{"throughput": report.TestTolerance}},
		{"base.json", "base.json",
			map[string]string{"throughput": report.NoChange, "p50": report.NoChange, "p95": report.NoChange, "p99": report.NoChange, "p99.9": report.NoChange, "hit_rate": report.NoChange},
			nil},
	} {
		cmp := compare(t, c.base, c.new)
		got := verdicts(cmp)
		for m, want := range c.want {
			if got[m].Verdict != want {
				t.Errorf("%s vs %s: %s is %q (%+v), want %q", c.base, c.new, m, got[m].Verdict, got[m], want)
			}
		}
		for m, want := range c.test {
			if got[m].Test != want {
				t.Errorf("%s vs %s: %s decided by %q, want %q", c.base, c.new, m, got[m].Test, want)
			}
		}
	}
}

// TestSingleRunFloor: the bootstrap finds single-tail's p99 30% worse;
// Defaults call it ~ with a note saying the floor did, and a change past
// the floor stays a regression.
func TestSingleRunFloor(t *testing.T) {
	base, tail := load(t, "single-base.json"), load(t, "single-tail.json")
	raw := Defaults
	raw.SingleRunEffect, raw.SingleRunTailEffect, raw.UntestedEffect, raw.LatencyFloor = 0, 0, 0, 0
	c, err := Reports(base, tail, raw)
	if err != nil {
		t.Fatal(err)
	}
	if got := verdicts(c)["p99"].Verdict; got != report.Regression {
		t.Errorf("no floors: p99 30%% worse is %q; want regression", got)
	}
	ch := verdicts(compare(t, "single-base.json", "single-tail.json"))["p99"]
	if !strings.Contains(ch.Note, "single runs' spread: use --count") {
		t.Errorf("Defaults: p99 note %q; want the floor said", ch.Note)
	}
	lax := Defaults
	lax.SingleRunTailEffect = 0.2
	if c, err = Reports(base, tail, lax); err != nil || verdicts(c)["p99"].Verdict != report.Regression {
		t.Errorf("tail floor 20%%: p99 30%% worse is %q (%v); want regression", verdicts(c)["p99"].Verdict, err)
	}
}

func TestTooFewRunsSaid(t *testing.T) {
	ch := verdicts(compare(t, "two-base.json", "two-new.json"))["throughput"]
	if !strings.Contains(ch.Note, "too few runs: need >= 4 a side at alpha 0.05") {
		t.Errorf("note %q: want it to say there are too few runs", ch.Note)
	}
	cmp := compare(t, "single-base.json", "single-tail.json")
	if len(cmp.Scenarios[0].Notes) == 0 || !strings.Contains(cmp.Scenarios[0].Notes[0], "single run") {
		t.Errorf("notes %q: want the single run said", cmp.Scenarios[0].Notes)
	}
}

// TestBootstrapCovers checks the interval: identical histograms give one
// around 0; a uniform 30% shift one around +30%.
func TestBootstrapCovers(t *testing.T) {
	a := latency.NewRecorder()
	b := latency.NewRecorder()
	for i := 1; i <= 10000; i++ {
		a.Record(time.Duration(i) * time.Microsecond)
		b.Record(time.Duration(i) * 1300 * time.Nanosecond)
	}
	sa, sb := &sideHists{all: a}, &sideHists{all: b}
	if lo, hi := interval(sa, sa, 99, Defaults); !(lo < 0 && hi > 0) {
		t.Errorf("same histogram: interval %.2f%%..%.2f%%, want it around 0", lo, hi)
	}
	if lo, hi := interval(sa, sb, 99, Defaults); !(lo < 30 && hi > 30 && lo > 25 && hi < 35) {
		t.Errorf("30%% slower: interval %.2f%%..%.2f%%, want it around +30%%", lo, hi)
	}
}

// TestBootstrapResamplesRuns: when the runs of a side disagree, resampling
// runs widens the interval to cover the spread, where resampling only
// operations would call a difference. Base: two runs, one 40% slower than
// the other; new: two runs between them.
func TestBootstrapResamplesRuns(t *testing.T) {
	run := func(scale float64) *latency.Recorder {
		r := latency.NewRecorder()
		for i := 1; i <= 20000; i++ {
			r.Record(time.Duration(float64(i) * scale * float64(time.Microsecond) / 100))
		}
		return r
	}
	side := func(scales ...float64) *sideHists {
		h := &sideHists{all: latency.NewRecorder()}
		for _, s := range scales {
			r := run(s)
			h.all.Merge(r)
			h.runs = append(h.runs, r)
		}
		return h
	}
	base, nw := side(1, 1.4), side(1.25, 1.25)
	lo, hi := interval(base, nw, 99, Defaults)
	if !(lo < 0 && hi > 0) {
		t.Errorf("runs resampled: interval %.2f%%..%.2f%%; want it to cover 0, the runs' spread", lo, hi)
	}
	plo, phi := interval(&sideHists{all: base.all}, &sideHists{all: nw.all}, 99, Defaults)
	t.Logf("p99 change: runs resampled %.2f%%..%.2f%%, operations only %.2f%%..%.2f%%", lo, hi, plo, phi)
	if plo < 0 && phi > 0 || phi-plo >= hi-lo {
		t.Errorf("operations only: interval %.2f%%..%.2f%%; want a narrower one that misses 0 (runs: %.2f%%..%.2f%%)", plo, phi, lo, hi)
	}
}

// TestFewRunsBlocks: two runs a side can never reach p < 0.05 by the U
// test; with intervals, a block bootstrap over runs and their intervals
// decides throughput and the percentiles, and the row says why.
func TestFewRunsBlocks(t *testing.T) {
	p := quiet
	p.runs = 2
	c, err := Reports(Side{"base", p.draw(1)}, Side{"new", p.draw(2)}, Defaults)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"throughput", "p50", "p99", "read.p50", "write.throughput"} {
		ch := verdicts(c)[m]
		if ch.Test != report.TestBootstrap || ch.CILowPct == nil || !strings.Contains(ch.Note, "too few runs") {
			t.Errorf("2 runs a side, %s: %+v; want a bootstrap interval, noting too few runs for the U test", m, ch)
		}
	}
}

// TestLost: a scenario measured in the baseline and not in the new report
// (no successful operation, could not run, skipped) is a regression, with
// the reason on its row; one measured in neither is not compared, and when
// nothing else is, the error says why instead of calling it absent.
func TestLost(t *testing.T) {
	for _, c := range []struct {
		base, new string
		note      string // of cache-l2's row, a regression
		err       string // or the error
	}{
		{"l2-base.json", "l2-failed.json", "no successful operation: all 20000 failed", ""},
		{"l2-base.json", "l2-error.json", "could not run: " + redisRefused, ""},
		{"l2-base.json", "l2-skipped.json", "skipped: " + noRedis, ""},
		// never measured: nothing to compare, said so
		{"l2-skipped.json", "l2-skipped.json", "", "no scenario measured in both: cache-l2 was measured in neither report (baseline skipped, new skipped)"},
		{"l2-failed.json", "l2-failed.json", "", "cache-l2 was measured in neither report (baseline failed, new failed)"},
		// measured now, not before: not a regression, nothing to compare
		{"l2-skipped.json", "l2-base.json", "", "cache-l2 has no measured operation in the baseline (skipped)"},
	} {
		cmp, err := Reports(load(t, c.base), load(t, c.new), Defaults)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) || strings.Contains(err.Error(), "in both (baseline") {
				t.Errorf("%s vs %s: err %v; want one containing %q", c.base, c.new, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s vs %s: %v", c.base, c.new, err)
			continue
		}
		ch := verdicts(cmp)["ops"]
		if cmp.Regressions != 1 || ch.Verdict != report.Regression || ch.Test != report.TestLost || ch.Note != c.note ||
			ch.Base != perRun || ch.New != 0 || ch.ChangePct == nil || *ch.ChangePct != -100 {
			t.Errorf("%s vs %s: %d regressions, ops %+v; want 1, ops 20000 to 0 (-100%%) a regression noting %q", c.base, c.new, cmp.Regressions, ch, c.note)
		}
	}
	// Interrupted in the new report: not compared; the run's own exit code
	// (130) says it stopped.
	nw := load(t, "l2-base.json")
	r := *nw.Report
	r.Scenarios = append([]report.Scenario(nil), r.Scenarios...)
	r.Scenarios[0].Status = report.StatusInterrupted
	nw.Report = &r
	if _, err := Reports(load(t, "l2-base.json"), nw, Defaults); err == nil || !strings.Contains(err.Error(), "cache-l2 was interrupted in the new report") {
		t.Errorf("interrupted: err %v; want it not compared, and said so", err)
	}
	// A large min effect does not hide a scenario that stopped working.
	o := Defaults
	o.MinEffect = 50
	if cmp, err := Reports(load(t, "l2-base.json"), load(t, "l2-failed.json"), o); err != nil || cmp.Regressions != 1 {
		t.Errorf("min effect 5000%%: %v, %+v; want the lost scenario a regression still", err, cmp)
	}
}

// TestLostGolden: the four-scenario comparison (one unchanged, one whose
// operations all failed, one that could not run, one skipped on both
// sides) in each format: no NaN or infinity anywhere, the JSON valid
// against the schema's comparison.
func TestLostGolden(t *testing.T) {
	cmp := compare(t, "lost-base.json", "lost-new.json")
	if cmp.Regressions != 2 {
		t.Errorf("%d regressions; want 2 (cache-l2, cache-l3)", cmp.Regressions)
	}
	for format, name := range map[string]string{"text": "lost.txt", "markdown": "lost.md", "json": "lost.out.json"} {
		var b bytes.Buffer
		if err := report.ComparisonFormats[format](&b, cmp); err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		golden(t, name, b.Bytes())
		for _, bad := range []string{"NaN", "Inf", "∞"} {
			if strings.Contains(b.String(), bad) {
				t.Errorf("%s output has %q:\n%s", format, bad, b.String())
			}
		}
		if format == "json" {
			if err := schema.ValidateComparison(b.Bytes()); err != nil {
				t.Errorf("json does not match the schema's comparison: %v", err)
			}
		}
	}
}

// writesFinite checks that c writes in every comparison format, with no
// NaN or infinity, and that its JSON is valid against the schema.
func writesFinite(t *testing.T, c *report.Comparison) {
	t.Helper()
	for format, write := range report.ComparisonFormats {
		var b bytes.Buffer
		if err := write(&b, c); err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		if format != "json" {
			if strings.Contains(b.String(), "NaN") || strings.Contains(b.String(), "Inf") {
				t.Fatalf("%s output has NaN or Inf:\n%s", format, b.String())
			}
			continue
		}
		if err := schema.ValidateComparison(b.Bytes()); err != nil {
			t.Fatalf("json does not match the schema's comparison: %v\n%s", err, b.String())
		}
	}
}

// TestFiniteOrError: figures that could make a NaN or an infinity (zeros,
// empty histograms, absurd magnitudes) give a comparison that writes in
// every format, or an input error; never NaN in the output.
func TestFiniteOrError(t *testing.T) {
	empty, err := latency.NewRecorder().Encode()
	if err != nil {
		t.Fatal(err)
	}
	// each edits cache-read of a copy of a fixture
	edit := func(file string, f func(s *report.Scenario)) Side {
		side := load(t, file)
		r := *side.Report
		r.Scenarios = append([]report.Scenario(nil), r.Scenarios...)
		s := &r.Scenarios[0]
		if s.Repeat != nil {
			rp := *s.Repeat
			rp.Runs = append([]report.Run(nil), rp.Runs...)
			s.Repeat = &rp
		}
		f(s)
		side.Report = &r
		return side
	}
	eachRun := func(s *report.Scenario, f func(r *report.Run)) {
		for i := range s.Repeat.Runs {
			f(&s.Repeat.Runs[i])
		}
	}
	for _, c := range []struct {
		name      string
		base, new Side
	}{
		// throughput 0 in the baseline: no relative change (null)
		{"zero throughput", edit("base.json", func(s *report.Scenario) {
			s.ThroughputOpsPerSec = 0
			eachRun(s, func(r *report.Run) { r.ThroughputOpsPerSec = 0 })
		}), load(t, "regression.json")},
		// one run's histogram empty: the others are not resampled as if all
		{"an empty run histogram", load(t, "base.json"), edit("regression.json", func(s *report.Scenario) { s.Repeat.Runs[2].Histogram = empty })},
		// every histogram empty though latencies are counted
		{"empty histograms", edit("base.json", func(s *report.Scenario) {
			s.Histogram = empty
			eachRun(s, func(r *report.Run) { r.Histogram = empty })
		}), load(t, "regression.json")},
		// percentiles of 0 and no histogram
		{"zero latencies", edit("single-base.json", func(s *report.Scenario) {
			s.Histogram, s.Latency.P50, s.Latency.P99, s.Latency.P999 = "", 0, 0, 0
		}), load(t, "single-tail.json")},
		// magnitudes whose change or median overflows
		{"absurd throughput", edit("base.json", func(s *report.Scenario) {
			eachRun(s, func(r *report.Run) { r.ThroughputOpsPerSec = 1e-300 })
		}), edit("regression.json", func(s *report.Scenario) {
			eachRun(s, func(r *report.Run) { r.ThroughputOpsPerSec = math.MaxFloat64 })
		})},
	} {
		cmp, err := Reports(c.base, c.new, Defaults)
		if err != nil {
			if !strings.Contains(err.Error(), "out of range") {
				t.Errorf("%s: %v; want a comparison, or an error saying a figure is out of range", c.name, err)
			}
			continue
		}
		t.Run(c.name, func(t *testing.T) { writesFinite(t, cmp) })
	}
}

func TestErrors(t *testing.T) {
	base := load(t, "base.json")
	other := load(t, "base.json")
	r := *other.Report
	r.Scenarios = []report.Scenario{r.Scenarios[0]}
	r.Scenarios[0].Name = "limiter"
	other.Report = &r
	if _, err := Reports(base, other, Defaults); err == nil || !strings.Contains(err.Error(), "no scenario is in both (baseline: cache-read; new: limiter)") {
		t.Errorf("no common scenario: err %v", err)
	}
	for _, o := range []Options{{Alpha: 0, MinEffect: 0.05, Resamples: 2000}, {Alpha: 0.05, MinEffect: -1, Resamples: 2000}, {Alpha: 1.5, Resamples: 2000}} {
		if _, err := Reports(base, base, o); err == nil {
			t.Errorf("options %+v: no error", o)
		}
	}
}

// FuzzCompare: whatever a report file holds, reading it and comparing it
// with a baseline (either way round) gives an error, or a result that
// writes in every format, finite and valid against the schema, whose
// counts of regressions and improvements are those of its verdicts, and
// whose scenarios are ones both reports hold once; never a panic.
func FuzzCompare(f *testing.F) {
	for _, name := range []string{"base.json", "regression.json", "single-tail.json", "mixed-slow.json", "lost-new.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		if _, err := report.ReadJSON(bytes.NewReader(b)); err != nil {
			f.Fatalf("seed %s does not read back: %v", name, err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"schema":"rustci-perf/report/v1","scenarios":[{"name":"cache-read","status":"passed","latency_ns":{"count":1},"histogram":"HISTFAAAAB54nJNpmSzMwMDAxQABzFCaEUTYf4CIAQBHnwM4"}]}`))
	base := fixtures["base.json"]
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := report.ReadJSON(bytes.NewReader(data))
		if err != nil {
			return
		}
		o := Defaults
		o.Resamples = 100
		for _, sides := range [][2]Side{{{Name: "base", Report: base}, {Name: "fuzz", Report: r}}, {{Name: "fuzz", Report: r}, {Name: "base", Report: base}}} {
			c, err := Reports(sides[0], sides[1], o)
			if err != nil {
				continue
			}
			writesFinite(t, c)
			verdicts := map[string]int{}
			compared := map[string]bool{}
			for _, sc := range c.Scenarios {
				if compared[sc.Name] || !holds(sides[0].Report, sc.Name) || !holds(sides[1].Report, sc.Name) {
					t.Errorf("scenario %s compared twice, or not in both reports", sc.Name)
				}
				compared[sc.Name] = true
				for _, ch := range sc.Changes {
					verdicts[ch.Verdict]++
				}
			}
			if c.Regressions != verdicts[report.Regression] || c.Improvements != verdicts[report.Improvement] {
				t.Errorf("%d regressions, %d improvements; the verdicts say %d, %d", c.Regressions, c.Improvements, verdicts[report.Regression], verdicts[report.Improvement])
			}
		}
	})
}

// holds reports whether r has exactly one scenario named name.
func holds(r *report.Report, name string) bool {
	n := 0
	for _, s := range r.Scenarios {
		if s.Name == name {
			n++
		}
	}
	return n == 1
}

// TestVerdictZero: a signed error (admission_error) is better nearer 0,
// whichever side of it: 0 to -50 is a regression, not an improvement.
func TestVerdictZero(t *testing.T) {
	for _, tt := range []struct {
		base, new float64
		want      string
	}{
		{0, -50, report.Regression},
		{0, 50, report.Regression},
		{-50, 0, report.Improvement},
		{10, -5, report.Improvement},
		{-5, 10, report.Regression},
		{3, -3, report.NoChange},
		{-100, 102, report.NoChange}, // 2%, under the minimum effect
	} {
		ch := report.Change{Metric: "admission_error", Better: metric.Zero, Base: tt.base, New: tt.new, ChangePct: change(tt.base, tt.new)}
		if got := verdict(ch, Defaults); got != tt.want {
			t.Errorf("admission_error %g -> %g: %s; want %s", tt.base, tt.new, got, tt.want)
		}
	}
	if d, _ := metric.Lookup("admission_error"); better(d.Name) != metric.Zero {
		t.Errorf("admission_error is better %q; want zero", better(d.Name))
	}
}

// TestCPUFloor: a change in cpu_per_op counts only when both sides
// measured Options.CPUFloor of CPU time in all.
func TestCPUFloor(t *testing.T) {
	run := func(cpu int64) report.Run {
		return report.Run{Counters: map[string]int64{metric.CPUUser.Name: cpu, metric.CPUSystem.Name: 0}}
	}
	for _, tt := range []struct {
		base, new int64
		want      string
	}{
		{300_000, 600_000, report.NoChange},               // 0.3ms and 0.6ms: background
		{1_000_000_000, 2_000_000_000, report.Regression}, // seconds of CPU: the operation
	} {
		ch := report.Change{Metric: metric.CPUPerOp.Name, Verdict: report.Regression, Base: 70, New: 146}
		cpuFloor(&ch, view{runs: []report.Run{run(tt.base)}}, view{runs: []report.Run{run(tt.new)}}, Defaults)
		if ch.Verdict != tt.want {
			t.Errorf("cpu %dns vs %dns in all: %s (%s); want %s", tt.base, tt.new, ch.Verdict, ch.Note, tt.want)
		}
	}
}

// TestInjectedDiffer: the comparison warns when the two reports ran with
// different faults injected, says so when both ran with the same ones,
// and says nothing of faults when neither did.
func TestInjectedDiffer(t *testing.T) {
	side := func(name string, injected ...string) Side {
		s := load(t, "l2-base.json")
		r := *s.Report
		r.Injected = injected
		return Side{Name: name, Report: &r}
	}
	for _, tt := range []struct {
		base, new Side
		want      string // the note, "" for none
	}{
		{side("a.json"), side("b.json"), ""},
		{side("a.json"), side("b.json", "l2:latency=2ms"),
			"WARNING: the reports ran with different faults injected (baseline: none; new: l2:latency=2ms): a change may be the faults', not the code's"},
		{side("a.json", "l2:latency=2ms"), side("b.json", "l2:latency=2400us"),
			"WARNING: the reports ran with different faults injected (baseline: l2:latency=2ms; new: l2:latency=2400us): a change may be the faults', not the code's"},
		{side("a.json", "l2:latency=2ms", "limiter:error=1"), side("b.json", "l2:latency=2ms", "limiter:error=1"),
			"both reports ran with the same faults injected (l2:latency=2ms; limiter:error=1): neither is a clean run's"},
	} {
		c, err := Reports(tt.base, tt.new, Defaults)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, n := range c.Notes {
			if strings.Contains(n, "fault") {
				got = append(got, n)
			}
		}
		if want := []string{tt.want}; (tt.want == "" && len(got) > 0) || (tt.want != "" && (len(got) != 1 || got[0] != want[0])) {
			t.Errorf("baseline %q, new %q: notes on faults %q; want %q", tt.base.Report.Injected, tt.new.Report.Injected, got, tt.want)
		}
	}
}
