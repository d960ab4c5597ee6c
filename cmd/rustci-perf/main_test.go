package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/rustci/rustci-perf/internal/redistest"
	"github.com/rustci/rustci-perf/internal/wait"
	"github.com/rustci/rustci-perf/pkg/latency"
	"github.com/rustci/rustci-perf/pkg/report"
	"github.com/rustci/rustci-perf/schema"
)

// binary is the command built once for every test here, as a user gets it.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "rustci-perf-test")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "rustci-perf")
	out, err := exec.Command("go", "build", "-ldflags", "-X main.version=v0.0.0-test", "-o", binary, ".").CombinedOutput()
	if err != nil {
		os.RemoveAll(dir)
		panic("go build: " + err.Error() + "\n" + string(out))
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// cleanEnv is this process's environment without the variables of
// rustci-perf's flags (RUSTCI_PERF_*, but the tests' own
// RUSTCI_PERF_REQUIRE_*) or GITHUB_STEP_SUMMARY, so that a developer's
// setting or the CI's does not change what the tests run or where they
// write.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, envPrefix) && !strings.HasPrefix(k, envPrefix+"REQUIRE_"), k == stepSummaryEnv:
		// A CI system's variables would become the reports' provenance.
		case k == "GITHUB_ACTIONS", k == "GITLAB_CI", k == "BUILDKITE", k == "JENKINS_URL":
		default:
			env = append(env, kv)
		}
	}
	return env
}

type result struct {
	code           int
	stdout, stderr string
}

// rustciPerf runs the built binary in dir with args.
func rustciPerf(t *testing.T, dir string, args ...string) result {
	t.Helper()
	return rustciPerfEnv(t, dir, nil, args...)
}

// rustciPerfEnv runs the built binary in dir with args, and env (KEY=VALUE)
// added to the clean environment.
func rustciPerfEnv(t *testing.T, dir string, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	cmd.Env = append(cleanEnv(), env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	return result{exitCodeOf(t, cmd.Run()), o.String(), e.String()}
}

// exitCodeOf is the exit code of a finished process whose Run or Wait
// returned err; an error other than an exit status fails t.
func exitCodeOf(t *testing.T, err error) int {
	t.Helper()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0
}

// noTiming is the path of a config whose thresholds hold on any machine.
func noTiming(t *testing.T) string {
	t.Helper()
	p, err := filepath.Abs("testdata/no-timing.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// readReportFile reads a JSON report the binary wrote, and checks it against
// the published JSON Schema: every report the tests produce is validated.
func readReportFile(t *testing.T, path string) *report.Report {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := schema.ValidateReport(b); err != nil {
		t.Fatalf("%s does not match schema/report-v1.schema.json: %v", path, err)
	}
	rep, err := report.ReadJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestVersion(t *testing.T) {
	r := rustciPerf(t, t.TempDir(), "version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "rustci-perf v0.0.0-test (go") {
		t.Errorf("version: exit %d, stdout %q", r.code, r.stdout)
	}
}

func TestList(t *testing.T) {
	r := rustciPerf(t, t.TempDir(), "list", "-v")
	if r.code != 0 {
		t.Fatalf("list: exit %d, stderr %q", r.code, r.stderr)
	}
	for _, want := range []string{"cache-write", "cache-read", "limiter", "concurrent", "memory", "latency",
		"hit_rate>0.95", "read.p99/read.p50<20", "integrity_violations==0", "all         cache-write, cache-read, cache-l2, cache-l3, limiter, limiter-fallback",
		// the mixed scenarios' kinds of operation, and thresholds on them
		"concurrent        concurrent  read, write  ", "latency           latency     read, write  ",
		"each kind of operation of concurrent (read, write) and latency (read, write), as KIND.METRIC",
		": ops, errors, throughput, min, mean, stdev, max, and percentiles",
		// the figures a threshold can judge per window
		"per window, as METRIC[1s] or METRIC[5s, 95%]", ": ops, errors, throughput, min, mean, max, and percentiles, each kind's too"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("list output lacks %q:\n%s", want, r.stdout)
		}
	}
}

func TestRunAllPasses(t *testing.T) {
	r := rustciPerf(t, t.TempDir(), "run", "all", "--ops", "400", "--warmup", "50", "--config", noTiming(t))
	if r.code != 0 {
		t.Fatalf("run all: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "\nPASS: ") {
		t.Errorf("no PASS verdict:\n%s", r.stdout)
	}
	for _, sc := range []string{"cache-write", "cache-read", "cache-l3", "limiter", "concurrent", "memory", "latency"} {
		if !strings.Contains(r.stderr, "rustci-perf: running "+sc) {
			t.Errorf("stderr lacks the progress line of %s:\n%s", sc, r.stderr)
		}
	}
}

func TestMissedThresholdExits1(t *testing.T) {
	r := rustciPerf(t, t.TempDir(), "run", "cache-read", "--ops", "300", "-q", "--threshold", "cache-read:p99<1ns")
	if r.code != 1 {
		t.Fatalf("exit %d; want 1\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "cache-read  cache-read:p99<1ns") || !strings.Contains(r.stdout, "FAIL: 1 of 3 thresholds missed") {
		t.Errorf("report does not show the missed threshold:\n%s", r.stdout)
	}
	if r.stderr != "" {
		t.Errorf("stderr %q with -q; want nothing", r.stderr)
	}
}

func TestUsageErrorsExit2AndRunNothing(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("defaults:\n  opps: 5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"run", "cahce"}, `unknown scenario or group "cahce"`},
		{[]string{"run"}, "no scenario named"},
		{[]string{"run", "all", "--threshold", "p99<10"}, `threshold "p99<10": column 7: p99 is a latency: give the limit a unit`},
		{[]string{"run", "all", "--threshold", "nope:p99<1ms"}, `unknown scope "nope"`},
		{[]string{"run", "all", "--threshold", "hit_rat>0.9"}, "reports hit_rat"},
		{[]string{"run", "all", "--ops", "0"}, "--ops 0: want at least 1"},
		// a missing directory is made; one under a file cannot be
		{[]string{"run", "all", "--profile", filepath.Join(bad, "sub")}, "--profile: directory"},
		{[]string{"run", "all", "--profile", dir, "--profile-kinds", "cpu,goroutine"}, `--profile-kinds: profile kind "goroutine"`},
		{[]string{"run", "all", "--profile-kinds", "cpu"}, "--profile-kinds: give --profile DIR too"},
		{[]string{"run", "all", "--stages", "1s:100", "--duration", "1s"}, "--stages and --duration: the stages set how long the run lasts"},
		{[]string{"run", "all", "--stages", "1s:100", "--ops", "10"}, "--stages and --ops"},
		{[]string{"run", "all", "--hgrm", dir, "--output", filepath.Join(dir, "cache-read.hgrm")}, "fills that directory with *.hgrm files"},
		{[]string{"run", "all", "--profile", dir, "--output", "text=" + filepath.Join(dir, "cache-read.cpu.pprof")}, "--profile " + dir + " fills that directory"},
		{[]string{"run", "memory", "--concurrency", "100000"}, "rustci-perf: --concurrency 100000: want at most 10000"},
		{[]string{"run", "all", "--threshold", "p99<-5ms"}, `threshold "p99<-5ms": column 4: can never hold: p99 is never below 0s`},
		{[]string{"run", "cache-read", "--threshold", "hit_rate>1"}, "can never hold: hit_rate is between 0 and 1"},
		{[]string{"run", "all", "--ops", "many"}, `--ops "many": want a whole number`},
		{[]string{"run", "all", "--seed", "1.5"}, `--seed "1.5": want a whole number`},
		{[]string{"run", "all", "--rate", "fast"}, `--rate "fast": want a number`},
		{[]string{"run", "all", "--duration", "soon"}, `--duration "soon": want a number with a unit`},
		{[]string{"run", "all", "--progress=maybe"}, `--progress "maybe": want true or false`},
		{[]string{"run", "all", "--distribution", "zipf"}, `--distribution "zipf": want uniform, sequential`},
		{[]string{"run", "all", "--warmup", "soon"}, `--warmup "soon"`},
		{[]string{"run", "all", "--duration", "-1s"}, "--duration -1s"},
		{[]string{"run", "all", "--format", "xml"}, `--format: unknown format "xml"`},
		{[]string{"run", "all", "--rate", "-5"}, "--rate -5: want more than 0"},
		{[]string{"run", "all", "--trace", filepath.Join(dir, "missing.trace")}, "--trace: open"},
		{[]string{"run", "all", "--read-ratio", "1.5"}, "--read-ratio 1.5: want 0 to 1"},
		{[]string{"run", "all", "--stages", "10s"}, `--stages: stage "10s": want DURATION:RATE`},
		{[]string{"run", "all", "--count", "0"}, "--count 0: want 1 to"},
		{[]string{"run", "all", "--output", "yaml=r.yaml"}, `--output "yaml=r.yaml": unknown format "yaml"`},
		{[]string{"run", "all", "--value-size", "512-64"}, `--value-size "512-64"`},
		{[]string{"run", "all", "--judge", "mean"}, `--judge "mean": want median, worst or each`},
		{[]string{"run", "all", "--stages", "1s:5", "--rate", "5"}, "--rate and --stages: give one"},
		{[]string{"run", "all", "--distribution", "hotspot:2:1"}, `--distribution "hotspot:2:1"`},
		{[]string{"run", "all", "--hgrm", filepath.Join(bad, "sub")}, `--hgrm: `},
		{[]string{"run", "all", "--config", bad}, "field opps not found"},
		{[]string{"run", "all", "--config", filepath.Join(dir, "missing.yaml")}, "missing.yaml: no such file"},
		{[]string{"run", "all", "--output", filepath.Join(dir, "no", "r.json")}, "does not exist"},
		{[]string{"run", "all", "--inject", "l2:latency=2"}, `rustci-perf: --inject "l2:latency=2": latency "2": want a delay above 0 (2ms), uniform:MIN-MAX, or p=SHARE:DELAY`},
		{[]string{"run", "all", "--inject", "l4:error=0.1"}, `--inject "l4:error=0.1": unknown target "l4" (targets: l1, l2, l3, limiter)`},
		{[]string{"run", "all", "--inject", "l2:stall=2s"}, `--inject "l2:stall=2s": stall "2s": want FOR@AT`},
		{[]string{"run", "all", "--inject", "l2:latency=1ms", "--inject", "l2:latency=2ms"}, "inject: l2: latency given twice (latency=1ms and latency=2ms)"},
		{[]string{"run", "all", "--frobnicate"}, "unknown flag: --frobnicate"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
	}
	for _, tt := range tests {
		r := rustciPerf(t, dir, tt.args...)
		if r.code != 2 {
			t.Errorf("%v: exit %d; want 2", tt.args, r.code)
		}
		if !strings.Contains(r.stderr, tt.want) || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Errorf("%v: stderr %q; want one line containing %q", tt.args, r.stderr, tt.want)
		}
		if r.stdout != "" || strings.Contains(r.stderr, "running") {
			t.Errorf("%v: something ran: stdout %q", tt.args, r.stdout)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("usage errors left files behind: %v", entries)
	}
}

func TestJSONReport(t *testing.T) {
	dir := t.TempDir()
	r := rustciPerf(t, dir, "run", "all", "--ops", "300", "-q", "--format", "json", "--output", "report.json", "--config", noTiming(t))
	if r.code != 0 {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "PASS: ") {
		t.Errorf("stdout should hold the text report when --output is given:\n%s", r.stdout)
	}
	rep := readReportFile(t, filepath.Join(dir, "report.json"))
	if !rep.Passed || rep.Interrupted || rep.ToolVersion != "v0.0.0-test" || rep.Environment.GoVersion == "" ||
		rep.Environment.GOMAXPROCS < 1 || !rep.FinishedAt.After(rep.StartedAt) || len(rep.Scenarios) != 9 {
		t.Errorf("report header: %+v", rep)
	}
	for _, s := range rep.Scenarios {
		if s.Name == "cache-l2" {
			if s.Status != report.StatusSkipped || s.Passed || s.Reason == "" {
				t.Errorf("cache-l2 with no Redis URL: %+v; want skipped with a reason, not passed", s)
			}
			continue
		}
		if s.Ops == 0 || s.DurationNS <= 0 || s.ThroughputOpsPerSec <= 0 || s.Latency.Count != s.Ops ||
			s.Latency.P50 > s.Latency.P99 || s.Latency.P99 > s.Latency.Max || len(s.Thresholds) == 0 || !s.Passed {
			t.Errorf("scenario %s: %+v", s.Name, s)
		}
		// throughput is ops over the measured wall time
		if got := float64(s.Ops) / (float64(s.DurationNS) / 1e9); got/s.ThroughputOpsPerSec < 0.999 || got/s.ThroughputOpsPerSec > 1.001 {
			t.Errorf("%s: throughput %g; ops/duration = %g", s.Name, s.ThroughputOpsPerSec, got)
		}
	}
	// JSON to stdout when no --output is given.
	r = rustciPerf(t, dir, "run", "limiter", "--ops", "300", "-q", "--format", "json", "--config", noTiming(t))
	if _, err := report.ReadJSON(strings.NewReader(r.stdout)); err != nil || r.code != 0 {
		t.Errorf("--format json to stdout: exit %d, %v", r.code, err)
	}
}

// TestOpenLoop: with --rate the report says open-loop, keeps both latency
// views, and judges the generator's own achieved-rate check.
func TestOpenLoop(t *testing.T) {
	dir := t.TempDir()
	r := rustciPerf(t, dir, "run", "cache-read", "-q", "--rate", "5000", "--ops", "1000", "--config", noTiming(t), "--format", "json", "--output", "r.json")
	if r.code != 0 && r.code != 1 { // whether the generator kept up depends on the machine
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	s := readReportFile(t, filepath.Join(dir, "r.json")).Scenarios[0]
	var judged bool
	for _, th := range s.Thresholds {
		judged = judged || th.Expr == "achieved_rate_ratio>0.99"
	}
	if s.Mode != "open-loop" || s.TargetRateOpsPerSec != 5000 || s.LatencyUncorrected == nil ||
		s.LatencyUncorrected.Count != s.Ops || !judged || s.Metrics["achieved_rate_ratio"] <= 0 {
		t.Errorf("open-loop scenario: %+v", s)
	}
	// Measured from when due, latency is never below the one measured from
	// when the operation started.
	if s.Latency.P50 < s.LatencyUncorrected.P50 || s.Latency.Max < s.LatencyUncorrected.Max {
		t.Errorf("corrected p50 %d, max %d below uncorrected %d, %d", s.Latency.P50, s.Latency.Max, s.LatencyUncorrected.P50, s.LatencyUncorrected.Max)
	}
}

// TestHistograms: the JSON report carries each scenario's whole histogram,
// and each kind of operation's in a mixed one, which decode to the counts
// the report summarises, and --hgrm writes the distribution of each for
// HdrHistogram's plotter.
func TestHistograms(t *testing.T) {
	dir := t.TempDir()
	r := rustciPerf(t, dir, "run", "cache-read", "limiter", "concurrent", "-q", "--ops", "500", "--config", noTiming(t),
		"--format", "json", "--output", "r.json", "--hgrm", ".")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, s := range readReportFile(t, filepath.Join(dir, "r.json")).Scenarios {
		h, err := latency.Decode(s.Histogram)
		if err != nil {
			t.Fatalf("%s: %v", s.Name, err)
		}
		if h.Count() != s.Ops || int64(h.Percentile(99)) != s.Latency.P99 || int64(h.Max()) != s.Latency.Max {
			t.Errorf("%s: decoded count %d p99 %s max %s; report says %d, %dns, %dns", s.Name, h.Count(), h.Percentile(99), h.Max(), s.Ops, s.Latency.P99, s.Latency.Max)
		}
		b, err := os.ReadFile(filepath.Join(dir, s.Name+".hgrm"))
		if err != nil || !strings.HasPrefix(string(b), " Value\tPercentile\tTotalCount") {
			t.Errorf("%s.hgrm: %v\n%.200s", s.Name, err, b)
		}
		for _, o := range s.Operations {
			h, err := latency.Decode(o.Histogram)
			if err != nil {
				t.Fatalf("%s %s: %v", s.Name, o.Name, err)
			}
			if h.Count() != o.Ops || int64(h.Percentile(99)) != o.Latency.P99 {
				t.Errorf("%s %s: decoded count %d p99 %s; report says %d, %dns", s.Name, o.Name, h.Count(), h.Percentile(99), o.Ops, o.Latency.P99)
			}
			b, err := os.ReadFile(filepath.Join(dir, s.Name+"-"+o.Name+".hgrm"))
			if err != nil || !strings.HasPrefix(string(b), " Value\tPercentile\tTotalCount") {
				t.Errorf("%s-%s.hgrm: %v\n%.200s", s.Name, o.Name, err, b)
			}
		}
		if s.Name == "concurrent" && len(s.Operations) != 2 {
			t.Errorf("concurrent has %d kinds of operation in the report; want read and write", len(s.Operations))
		}
	}
}

func TestTraceReplay(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "keys.trace"), []byte("a\nb\na\nc\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := rustciPerf(t, dir, "run", "cache-read", "-q", "--ops", "400", "--trace", "keys.trace", "--config", noTiming(t))
	if r.code != 0 || !strings.Contains(r.stdout, "reads replay a trace of 4 keys over 3 distinct ones") {
		t.Errorf("exit %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestSeveralOutputs: one run, a file per format, named or taken from the
// extension, the text on stdout; $GITHUB_STEP_SUMMARY appended to, the
// other files replaced.
func TestSeveralOutputs(t *testing.T) {
	dir := t.TempDir()
	summary := filepath.Join(dir, "summary.md")
	const earlier = "### an earlier step's summary\n"
	for name, content := range map[string]string{"summary.md": earlier, "r.json": "old"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r := rustciPerfEnv(t, dir, []string{stepSummaryEnv + "=" + summary}, "run", "cache-read", "-q", "--ops", "300", "--config", noTiming(t),
		"--output", "r.json", "--output", "junit.xml", "--output", "markdown=summary.md", "--output", "gobench=r.bench", "--output", "r.html",
		"--output", "notes.md", "--output", "r.log")
	if r.code != 0 || !strings.Contains(r.stdout, "PASS: ") {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	readReportFile(t, filepath.Join(dir, "r.json"))
	if b, _ := os.ReadFile(summary); !strings.HasPrefix(string(b), earlier+"\n### rustci-perf ") {
		t.Errorf("$GITHUB_STEP_SUMMARY: want the earlier summary kept and the report appended after a blank line:\n%s", b)
	}
	junit, err := os.ReadFile(filepath.Join(dir, "junit.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := schema.ValidateJUnit(junit); err != nil && !(errors.Is(err, schema.ErrNoXmllint) && os.Getenv("RUSTCI_PERF_REQUIRE_TOOLS") != "1") {
		t.Errorf("junit.xml: %v", err)
	}
	for name, want := range map[string]string{"junit.xml": "<testsuite name=\"rustci-perf\"", "summary.md": "| ✅ | cache-read |", "r.bench": "BenchmarkCacheRead-",
		"r.html": `<svg class="plot" data-scenario="cache-read"`, "notes.md": "| ✅ | cache-read |", "r.log": "\nPASS: "} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || !strings.Contains(string(b), want) {
			t.Errorf("%s: %v; want it to contain %q:\n%s", name, err, want, b)
		}
	}
}

// TestMerge: two runs at the same time merge into one report whose
// histogram holds every operation; runs that did not overlap are refused.
func TestMerge(t *testing.T) {
	dir := t.TempDir()
	args := func(out string) []string {
		return []string{"run", "cache-read", "-q", "--ops", "500", "--config", noTiming(t), "--format", "json", "--output", out}
	}
	a, b := exec.Command(binary, args("a.json")...), exec.Command(binary, args("b.json")...)
	for _, c := range []*exec.Cmd{a, b} {
		c.Dir, c.Env = dir, cleanEnv()
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []*exec.Cmd{a, b} {
		if err := c.Wait(); err != nil {
			t.Fatal(err)
		}
	}
	r := rustciPerf(t, dir, "merge", "a.json", "b.json", "--output", "all.json") // JSON by its extension
	if r.code != 0 {
		// Two processes started together may still not overlap on a
		// loaded machine; then merge must say so, with exit 2.
		if r.code == 2 && strings.Contains(r.stderr, "do not overlap") {
			t.Skip("the two runs did not overlap in time on this machine")
		}
		t.Fatalf("merge: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	all := readReportFile(t, filepath.Join(dir, "all.json"))
	if s := all.Scenarios[0]; s.Ops != 1000 || s.Latency.Count != 1000 || len(all.Sources) != 2 {
		t.Errorf("merged: ops %d, latencies %d, sources %d; want 1000, 1000, 2", s.Ops, s.Latency.Count, len(all.Sources))
	}
	r = rustciPerf(t, dir, "merge", "a.json")
	if r.code != 2 {
		t.Errorf("merge of one report: exit %d; want 2", r.code)
	}
	if err := os.WriteFile(filepath.Join(dir, "bad.json"), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r = rustciPerf(t, dir, "merge", "a.json", "bad.json"); r.code != 2 || !strings.Contains(r.stderr, "bad.json") {
		t.Errorf("merge of a broken report: exit %d, %q; want 2 naming it", r.code, r.stderr)
	}

	// One report twice, by its name, through a link or as a copy, would
	// count its operations twice: exit 2, nothing merged.
	if err := os.Symlink("a.json", filepath.Join(dir, "link.json")); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "a.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "copy.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ args, want string }{
		{"a.json a.json", "merge: a.json is given twice"},
		{"a.json b.json link.json", "merge: a.json and link.json hold the same report"},
		{"a.json copy.json", "merge: a.json and copy.json hold the same report"},
	} {
		r := rustciPerf(t, dir, append([]string{"merge", "--output", "twice.json"}, strings.Fields(tt.args)...)...)
		if r.code != 2 || !strings.Contains(r.stderr, tt.want) || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Errorf("merge %s: exit %d, stderr %q; want 2 and one line with %q", tt.args, r.code, r.stderr, tt.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "twice.json")); err == nil {
		t.Error("a refused merge wrote its output")
	}

	// A report the writer could not have written: one line naming the
	// file, the field and what is wrong.
	bad := readReportFile(t, filepath.Join(dir, "b.json"))
	bad.Scenarios[0].Errors = -3
	if err := report.WriteFile(filepath.Join(dir, "negative.json"), bad, report.JSON); err != nil {
		t.Fatal(err)
	}
	want := "rustci-perf: merge: negative.json: /scenarios/0/errors (scenario cache-read): got -3, want at least 0\n"
	if r = rustciPerf(t, dir, "merge", "a.json", "negative.json"); r.code != 2 || r.stderr != want {
		t.Errorf("merge of a report with errors -3: exit %d, stderr %q; want 2 and %q", r.code, r.stderr, want)
	}
}

// TestCompare: the fixed reports of pkg/compare through the binary: exit 1
// on a regression, 0 without, 2 on bad input; JSON valid against the
// schema; --output written.
func TestCompare(t *testing.T) {
	fixtures, err := filepath.Abs("../../pkg/compare/testdata")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	fx := func(name string) string { return filepath.Join(fixtures, name) }
	for _, c := range []struct {
		new  string
		code int
		want string
	}{
		{"regression.json", 1, "REGRESSION: 3 regressions"},
		{"improvement.json", 0, "NO REGRESSION: 0 regressions, 5 improvements"},
		{"nochange.json", 0, "NO REGRESSION: 0 regressions, 0 improvements"},
		{"base.json", 0, "NO REGRESSION: 0 regressions, 0 improvements"},
		// 5 runs against 1: no test over runs, and a p99 30% worse is
		// within what single runs differ by: left to --count, said so.
		{"single-tail.json", 0, "single runs' spread: use --count"},
	} {
		r := rustciPerf(t, dir, "compare", fx("base.json"), fx(c.new))
		if r.code != c.code || !strings.Contains(r.stdout, c.want) {
			t.Errorf("compare base %s: exit %d; want %d and %q in:\n%s%s", c.new, r.code, c.code, c.want, r.stdout, r.stderr)
		}
	}
	r := rustciPerf(t, dir, "compare", fx("base.json"), fx("regression.json"), "--format", "json", "--output", "cmp.json")
	if r.code != 1 || r.stdout != "" {
		t.Errorf("compare --output: exit %d, stdout %q; want 1 and nothing on stdout", r.code, r.stdout)
	}
	b, err := os.ReadFile(filepath.Join(dir, "cmp.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := schema.ValidateComparison(b); err != nil {
		t.Errorf("cmp.json does not match the schema: %v\n%s", err, b)
	}

	// A scenario measured in the baseline and not in the new report is a
	// regression (exit 1) with the reason on its row; one measured in
	// neither leaves nothing to compare (exit 2), and is not called absent.
	for _, c := range []struct {
		base, new string
		code      int
		want      []string
	}{
		{"l2-base.json", "l2-failed.json", 1, []string{"cache-l2  ops     20000  0    -100.0%  no successful operation: all 20000 failed  regression", "REGRESSION: 1 regression"}},
		{"l2-base.json", "l2-error.json", 1, []string{"could not run: scenario cache-l2: l2: dial tcp", "REGRESSION: 1 regression"}},
		{"l2-base.json", "l2-skipped.json", 1, []string{"skipped: no Redis URL", "REGRESSION: 1 regression"}},
		{"lost-base.json", "lost-new.json", 1, []string{"REGRESSION: 2 regressions, 0 improvements in 3 scenarios", "limiter was measured in neither report"}},
		{"l2-skipped.json", "l2-skipped.json", 2, []string{"no scenario measured in both: cache-l2 was measured in neither report (baseline skipped, new skipped)"}},
	} {
		r := rustciPerf(t, dir, "compare", fx(c.base), fx(c.new))
		for _, want := range c.want {
			if r.code != c.code || !strings.Contains(r.stdout+r.stderr, want) || strings.Contains(r.stderr, "in both (baseline") {
				t.Errorf("compare %s %s: exit %d; want %d and %q in:\n%s%s", c.base, c.new, r.code, c.code, want, r.stdout, r.stderr)
			}
		}
	}

	// Formats by extension unless --format names one; $GITHUB_STEP_SUMMARY,
	// which has no extension, is Markdown and appended to.
	summary := filepath.Join(dir, "step_summary_1")
	if err := os.WriteFile(summary, []byte("### tests passed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = rustciPerfEnv(t, dir, []string{stepSummaryEnv + "=" + summary}, "compare", fx("base.json"), fx("regression.json"),
		"--output", "ext.json", "--output", "ext.md", "--output", "ext.out", "--output", summary)
	if r.code != 1 || r.stdout != "" {
		t.Errorf("compare with outputs by extension: exit %d, stdout %q; want 1 and nothing on stdout\n%s", r.code, r.stdout, r.stderr)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "ext.json")); err != nil || schema.ValidateComparison(b) != nil {
		t.Errorf("ext.json: %v; want a comparison valid against the schema:\n%s", err, b)
	}
	for name, prefix := range map[string]string{"ext.md": "### rustci-perf compared", "ext.out": "baseline ",
		"step_summary_1": "### tests passed\n\n### rustci-perf compared"} {
		if b, _ := os.ReadFile(filepath.Join(dir, name)); !strings.HasPrefix(string(b), prefix) {
			t.Errorf("%s: want it to start with %q:\n%s", name, prefix, b)
		}
	}
	r = rustciPerf(t, dir, "compare", fx("base.json"), fx("regression.json"), "--format", "text", "--output", "text.json")
	if b, _ := os.ReadFile(filepath.Join(dir, "text.json")); r.code != 1 || !strings.HasPrefix(string(b), "baseline ") {
		t.Errorf("--format text --output text.json: exit %d, file %.40q; want the text, --format winning", r.code, b)
	}
	r = rustciPerf(t, dir, "compare", fx("base.json"), fx("regression.json"), "--output", "cmp.xml")
	if r.code != 2 || !strings.Contains(r.stderr, `--output "cmp.xml": its extension calls for junit, and compare writes text, json or markdown`) {
		t.Errorf("--output cmp.xml: exit %d, stderr %q; want 2 saying compare writes no JUnit", r.code, r.stderr)
	}

	if err := os.WriteFile(filepath.Join(dir, "bad.json"), []byte(`{"schema": "rustci-perf/report/v0"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	// base.json with what the schema or the writer's invariants forbid:
	// each is refused, exit 2, in one line naming the file and the field.
	base, err := os.ReadFile(fx("base.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, old, new, want string }{
		{"hits.json", `"hits": 100000`, `"hits": -100`, "compare: hits.json: /scenarios/0/counters/hits (scenario cache-read): -100: a count is never negative"},
		{"status.json", `"status": "passed"`, `"status": "bogus"`, "compare: status.json: /scenarios/0/status (scenario cache-read): value must be one of"},
		{"twice.json", "\n}\n", "\n}\n" + string(base), "compare: twice.json: a second JSON value after the report's end"},
		{"ops.json", `"ops": 100000,`, `"ops": 2000,`, "compare: ops.json: /scenarios/0/latency_ns/count (scenario cache-read): 100000, but ops is 2000"},
	} {
		edited := strings.Replace(string(base), c.old, c.new, 1)
		if edited == string(base) {
			t.Fatalf("%s: base.json has no %s", c.name, c.old)
		}
		if err := os.WriteFile(filepath.Join(dir, c.name), []byte(edited), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{{"compare", fx("base.json"), c.name}, {"compare", c.name, fx("base.json")}} {
			r := rustciPerf(t, dir, args...)
			if r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, c.want) || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
				t.Errorf("%q: exit %d, stderr %q; want 2 and one line with %q", args[1:], r.code, r.stderr, c.want)
			}
		}
	}
	for _, args := range [][]string{
		{"compare", fx("base.json")},
		{"compare", fx("base.json"), "missing.json"},
		{"compare", fx("base.json"), "bad.json"},
		{"compare", fx("base.json"), fx("regression.json"), "--alpha", "2"},
		{"compare", fx("base.json"), fx("regression.json"), "--min-effect", "lots"},
		{"compare", fx("base.json"), fx("regression.json"), "--format", "html"},
		{"compare", fx("base.json"), fx("regression.json"), "--output", "page.html"},
		{"compare", fx("base.json"), fx("regression.json"), "--output", "junit=cmp.xml"},
	} {
		if r := rustciPerf(t, dir, args...); r.code != 2 || r.stdout != "" || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want 2 with one line on stderr", args[1:], r.code, r.stdout, r.stderr)
		}
	}
}

// TestBaseline: run --baseline compares after the thresholds and exits 1
// on a regression. The baselines are this machine's own run with its
// throughput made a million times higher (a regression now) or lower (an
// improvement) and its latencies a million times lower (or higher), so the
// outcome does not depend on the machine's speed.
func TestBaseline(t *testing.T) {
	dir := t.TempDir()
	args := []string{"run", "cache-read", "-q", "--ops", "2000", "--config", noTiming(t)}
	if r := rustciPerf(t, dir, append(args, "--format", "json", "--output", "own.json")...); r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	own := readReportFile(t, filepath.Join(dir, "own.json"))
	for _, c := range []struct {
		factor  float64
		code    int
		verdict string
	}{{1e6, 1, "regression"}, {1e-6, 0, "improvement"}} {
		b := *own
		b.Scenarios = append([]report.Scenario(nil), own.Scenarios...)
		s := &b.Scenarios[0]
		s.ThroughputOpsPerSec *= c.factor
		l := &s.Latency
		l.P50, l.P95, l.P99, l.P999 = int64(float64(l.P50)/c.factor), int64(float64(l.P95)/c.factor), int64(float64(l.P99)/c.factor), int64(float64(l.P999)/c.factor)
		s.Histogram = "" // tails then judged on these figures too
		if err := report.WriteFile(filepath.Join(dir, "base.json"), &b, report.JSON); err != nil {
			t.Fatal(err)
		}
		r := rustciPerf(t, dir, append(args, "--baseline", "base.json", "--output", "json=new.json", "--output", "junit=junit.xml")...)
		if r.code != c.code || !strings.Contains(r.stdout, "baseline base.json vs this run") {
			t.Errorf("baseline x%g: exit %d, want %d, with the comparison in:\n%s%s", c.factor, r.code, c.code, r.stdout, r.stderr)
		}
		rep := readReportFile(t, filepath.Join(dir, "new.json"))
		if rep.Comparison == nil {
			t.Fatalf("baseline x%g: no comparison in the report", c.factor)
		}
		for _, ch := range rep.Comparison.Scenarios[0].Changes[:5] { // throughput and the percentiles
			if ch.Verdict != c.verdict {
				t.Errorf("baseline x%g: %s judged %s; want %s", c.factor, ch.Metric, ch.Verdict, c.verdict)
			}
		}
		junit, _ := os.ReadFile(filepath.Join(dir, "junit.xml"))
		if got := strings.Contains(string(junit), `type="regression"`); got != (c.code == 1) {
			t.Errorf("baseline x%g: JUnit has a regression failure: %v\n%s", c.factor, got, junit)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "broken.json"), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	// a baseline whose scenario is there twice: which would it be?
	twice := *own
	twice.Scenarios = append(twice.Scenarios, own.Scenarios[0])
	if err := report.WriteFile(filepath.Join(dir, "twice.json"), &twice, report.JSON); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"broken.json", "missing.json", "twice.json"} {
		if r := rustciPerf(t, dir, append(args, "--baseline", bad)...); r.code != 2 || !strings.Contains(r.stderr, bad) || r.stdout != "" {
			t.Errorf("--baseline %s: exit %d, %q; want 2 naming it, before running", bad, r.code, r.stderr)
		}
	}
	if r := rustciPerf(t, dir, append(args, "--baseline", "twice.json")...); !strings.Contains(r.stderr, `--baseline: twice.json: /scenarios/1/name (scenario cache-read): scenario "cache-read" again`) {
		t.Errorf("--baseline twice.json: stderr %q; want it to name the scenario found twice", r.stderr)
	}
	if r := rustciPerf(t, dir, "run", "limiter", "-q", "--ops", "100", "--config", noTiming(t), "--baseline", "own.json"); r.code != 2 || !strings.Contains(r.stderr, "none of the scenarios") {
		t.Errorf("--baseline without the scenario: exit %d, %q; want 2", r.code, r.stderr)
	}
}

// TestBaselineLost: run --baseline judges as compare does: cache-l2,
// measured in the baseline and skipped now (no Redis URL), is a regression
// (exit 1), said in the text and in the JUnit failure.
func TestBaselineLost(t *testing.T) {
	dir := t.TempDir()
	base, err := filepath.Abs("../../pkg/compare/testdata/l2-base.json")
	if err != nil {
		t.Fatal(err)
	}
	r := rustciPerf(t, dir, "run", "cache-l2", "-q", "--baseline", base, "--output", "junit.xml", "--output", "r.json")
	if r.code != 1 || !strings.Contains(r.stdout, "skipped: no Redis URL") || !strings.Contains(r.stdout, "REGRESSION: 1 regression") {
		t.Errorf("exit %d; want 1 and cache-l2's regression:\n%s%s", r.code, r.stdout, r.stderr)
	}
	junit, _ := os.ReadFile(filepath.Join(dir, "junit.xml"))
	if !regexp.MustCompile(`<failure message="1 regression against the baseline: ops -100.0% \(20000 to 0\): skipped: no Redis URL[^"]*" type="regression">`).Match(junit) {
		t.Errorf("junit.xml: want cache-l2's one failure naming the regression and why:\n%s", junit)
	}
	if err := schema.ValidateJUnit(junit); err != nil && !(errors.Is(err, schema.ErrNoXmllint) && os.Getenv("RUSTCI_PERF_REQUIRE_TOOLS") != "1") {
		t.Errorf("junit.xml: %v", err)
	}
	if rep := readReportFile(t, filepath.Join(dir, "r.json")); rep.Comparison == nil || rep.Comparison.Regressions != 1 {
		t.Errorf("r.json: comparison %+v; want 1 regression", rep.Comparison)
	}
}

// TestRepeatedRunReport: --count writes runs and their spread, valid
// against the schema, judged as --judge says.
func TestRepeatedRunReport(t *testing.T) {
	dir := t.TempDir()
	r := rustciPerf(t, dir, "run", "limiter", "-q", "--ops", "500", "--count", "2", "--judge", "worst", "--rate", "50000",
		"--config", noTiming(t), "--output", "json=r.json")
	if r.code != 0 && r.code != 1 {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	s := readReportFile(t, filepath.Join(dir, "r.json")).Scenarios[0]
	if s.Repeat == nil || s.Repeat.Count != 2 || s.Repeat.Judge != "worst" || len(s.Repeat.Runs) != 2 || s.Ops != 1000 {
		t.Errorf("repeat %+v, ops %d", s.Repeat, s.Ops)
	}
}

func TestExampleConfig(t *testing.T) {
	cfg, err := filepath.Abs("../../configs/ci.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r := rustciPerf(t, t.TempDir(), "run", "cache-read", "-q", "--ops", "300", "--threshold", "cache-read:p99<2ms", "--config", cfg)
	// Whether the latency limits hold depends on the machine; that both
	// the file's and the flag's thresholds were judged does not.
	if (r.code != 0 && r.code != 1) || !strings.Contains(r.stdout, "hit_rate>0.99") || !strings.Contains(r.stdout, "cache-read:p99<2ms") {
		t.Errorf("exit %d; want the config's and the flag's thresholds judged:\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestInterrupt sends SIGINT to a long run once its first scenario has
// started: the binary must stop promptly, exit 130, and leave a complete
// report marked interrupted.
func TestInterrupt(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "run", "all", "--duration", "50s", "--format", "json", "--output", "r.json")
	cmd.Dir = dir
	cmd.Env = cleanEnv()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stderr)
	if !sc.Scan() || !strings.Contains(sc.Text(), "running cache-write") {
		t.Fatalf("first stderr line %q; want the progress line", sc.Text())
	}
	sent := time.Now()
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	for sc.Scan() {
	}
	err = cmd.Wait()
	if took := time.Since(sent); took > 2*time.Second {
		t.Errorf("exited %s after SIGINT; want within 2s", took)
	}
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
		t.Fatalf("exit: %v; want code 130", err)
	}
	rep := readReportFile(t, filepath.Join(dir, "r.json"))
	if !rep.Interrupted || rep.Passed || len(rep.Scenarios) != 1 || rep.Scenarios[0].Status != report.StatusInterrupted {
		t.Errorf("report: interrupted %t, passed %t, scenarios %d; want true, false, 1 interrupted", rep.Interrupted, rep.Passed, len(rep.Scenarios))
	}
}

// TestParseOutputs: which format each --output gets, and which file is
// appended to.
func TestParseOutputs(t *testing.T) {
	dir := t.TempDir()
	at := func(name string) string { return filepath.Join(dir, name) }
	summary := at("step_summary_1") // as GitHub names it: no extension
	t.Setenv(stepSummaryEnv, summary)
	for _, tt := range []struct {
		value, format string // --output, and --format when the user gave one
		want          string
		mode          report.Mode
	}{
		{at("r.json"), "", "json", report.Replace},
		{at("junit.xml"), "", "junit", report.Replace},
		{at("summary.md"), "", "markdown", report.Replace},
		{at("r.htm"), "", "html", report.Replace},
		{at("r.txt"), "", "text", report.Replace},
		// an unknown extension, or none, keeps text
		{at("merged.yaml"), "", "text", report.Replace},
		{at("report"), "", "text", report.Replace},
		// --format beats the extension for a bare path...
		{at("r.xml"), "json", "json", report.Replace},
		// ...and FORMAT= beats --format
		{"junit=" + at("r.json"), "json", "junit", report.Replace},
		// $GITHUB_STEP_SUMMARY is Markdown, appended to, however named
		{summary, "", "markdown", report.Append},
		{filepath.Join(dir, ".", "step_summary_1"), "", "markdown", report.Append},
		{summary, "json", "json", report.Append},
		{"text=" + summary, "", "text", report.Append},
	} {
		name := func(name string, _ bool) (string, error) { return name, nil }
		outs, err := parseOutputs([]string{tt.value}, cmp.Or(tt.format, "text"), tt.format != "", name, nil)
		if err != nil || len(outs) != 1 || outs[0].format != tt.want || outs[0].file.Mode() != tt.mode {
			t.Errorf("--output %s (--format %q) = %+v, %v; want format %s, mode %d", tt.value, tt.format, outs, err, tt.want, tt.mode)
		}
	}
	for _, bad := range []string{"yaml=" + at("r.yaml"), at("missing/r.json"), ""} {
		if _, err := parseOutputs([]string{bad}, "text", false, reportFormat, nil); err == nil {
			t.Errorf("--output %q: no error", bad)
		}
	}
}

func TestExitCode(t *testing.T) {
	tests := []struct {
		r    report.Report
		want int
	}{
		{report.Report{Passed: true}, 0},
		{report.Report{Passed: false}, 1},
		{report.Report{Scenarios: []report.Scenario{{Status: report.StatusFailed}, {Status: report.StatusError}}}, 3},
		{report.Report{Interrupted: true, Scenarios: []report.Scenario{{Status: report.StatusError}}}, 130},
	}
	for i, tt := range tests {
		if got := exitCode(&tt.r); got != tt.want {
			t.Errorf("case %d: exitCode = %d; want %d", i, got, tt.want)
		}
	}
}

// TestRedisStack runs the binary against a real redis-server that wants a
// password: the full stack passes with the defaults for a stack with L2
// (configs/stack-l2.yaml, laid under the user's file by itself), cache-l2
// runs, and the password never appears in the output or the report.
func TestRedisStack(t *testing.T) {
	srv := redistest.Start(t, "--requirepass", "pa55word")
	url := "redis://:pa55word@" + srv.Addr + "/0"
	// Calls allowed 2s instead of 50ms: this machine may be running every
	// package's tests at once. The file sets no threshold.
	dir := t.TempDir()
	cfg := filepath.Join(dir, "slow.yaml")
	if err := os.WriteFile(cfg, []byte("cache:\n  l2:\n    timeout: 2s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := rustciPerf(t, dir, "run", "cache", "--ops", "300", "--redis-url", url, "--require", "--config", cfg,
		"--format", "json", "--output", "r.json")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, "r.json"))
	for _, out := range []string{r.stdout, r.stderr, string(raw)} {
		if strings.Contains(out, "pa55word") {
			t.Fatal("the Redis password appears in the output or the report")
		}
	}
	rep := readReportFile(t, filepath.Join(dir, "r.json"))
	byName := map[string]report.Scenario{}
	for _, s := range rep.Scenarios {
		byName[s.Name] = s
	}
	l2 := byName["cache-l2"]
	if l2.Status != report.StatusPassed || len(l2.Tiers) != 1 || l2.Tiers[0].Name != "l2" || l2.Counters["l2_hits"] != 300 ||
		l2.Tiers[0].Latency == nil || l2.Tiers[0].Latency.Count == 0 {
		t.Errorf("cache-l2: %+v", l2)
	}
	if w := byName["cache-write"]; len(w.Tiers) != 3 || w.Tiers[1].Name != "l2" || w.Counters["l2_sets"] != 300 || w.Counters["l3_sets"] != 300 {
		t.Errorf("cache-write tiers: %+v, counters %v; want l1, l2, l3 each with the 300 writes", w.Tiers, w.Counters)
	}
	if !strings.Contains(byName["cache-read"].Component, "redis://:xxxxx@") {
		t.Errorf("component %q; want the URL with its password masked", byName["cache-read"].Component)
	}
	// The stack's own defaults apply: the user's file set no threshold.
	var exprs []string
	for _, th := range byName["cache-write"].Thresholds {
		exprs = append(exprs, th.Expr)
	}
	if got := strings.Join(exprs, ","); got != "throughput>1000,l2_errors==0" {
		t.Errorf("cache-write thresholds %s; want the stack-l2 defaults", got)
	}

	// The limiter group on the same Redis: limiter decides in Redis,
	// limiter-fallback against an unreachable one, both pass.
	r = rustciPerf(t, dir, "run", "limiter", "--ops", "20000", "--redis-url", url, "--config", cfg,
		"--format", "json", "--output", "l.json")
	if r.code != 0 || strings.Contains(r.stdout+r.stderr, "pa55word") {
		t.Fatalf("limiter on Redis: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	lrep := readReportFile(t, filepath.Join(dir, "l.json"))
	// Exit 0: every default threshold held, fallback==0 and
	// redis_errors==0 among them (TestLimiterRedisDiesMidRun misses them).
	if len(lrep.Scenarios) != 2 || !strings.Contains(lrep.Scenarios[0].Component, "redis GCRA") ||
		lrep.Scenarios[0].Counters["fallback"] != 0 || lrep.Scenarios[1].Metrics["fallback_rate"] != 1 {
		t.Errorf("limiter scenarios: %+v", lrep.Scenarios)
	}
}

func TestCacheL2SkippedWithoutRedis(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(binary, "run", "cache-l2", "cache-l3", "--ops", "200", "-q", "--config", noTiming(t))
	cmd.Dir = dir
	cmd.Env = cleanEnv()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	s := string(out)
	if !regexp.MustCompile(`(?m)^cache-l2 .* skipped$`).MatchString(s) || !strings.Contains(s, "skipped: no Redis URL") ||
		!strings.Contains(s, "PASS: 2 of 2 thresholds held in 1 scenarios; 1 skipped") {
		t.Errorf("output does not show cache-l2 as skipped:\n%s", s)
	}
	r := rustciPerf(t, dir, "run", "cache-l2", "--require")
	if r.code != 2 || !strings.Contains(r.stderr, "cache-l2 cannot run: no Redis URL") {
		t.Errorf("--require: exit %d, stderr %q; want 2 and the reason", r.code, r.stderr)
	}
}

// byScenario indexes a report's scenarios by name.
func byScenario(rep *report.Report) map[string]report.Scenario {
	m := map[string]report.Scenario{}
	for _, s := range rep.Scenarios {
		m[s.Name] = s
	}
	return m
}

// TestLimiterUnusableRedis: `run limiter` against a Redis that refuses
// connections, never answers, or refuses the password exits 3, with the
// limiter scenario an error that says so (password masked), and
// limiter-fallback measured as ever. It used to pass, with the in-memory
// fallback's figures labelled "redis GCRA".
func TestLimiterUnusableRedis(t *testing.T) {
	srv := redistest.Start(t, "--requirepass", "pa55word")
	tests := []struct{ name, url, why string }{
		{"refused", "redis://:pa55word@" + redistest.Refused(t), "connection refused"},
		{"silent", "redis://" + redistest.Silent(t), "timeout"},
		{"wrong password", "redis://:not-the-pa55word@" + srv.Addr, "WRONGPASS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			r := rustciPerf(t, dir, "run", "limiter", "--ops", "20000", "--redis-url", tt.url, "--config", noTiming(t),
				"--format", "json", "--output", "r.json")
			if r.code != 3 {
				t.Errorf("exit %d; want 3\n%s%s", r.code, r.stdout, r.stderr)
			}
			raw, _ := os.ReadFile(filepath.Join(dir, "r.json"))
			if strings.Contains(r.stdout+r.stderr+string(raw), "pa55word") {
				t.Fatal("the Redis password appears in the output or the report")
			}
			sc := byScenario(readReportFile(t, filepath.Join(dir, "r.json")))
			lim, fb := sc["limiter"], sc["limiter-fallback"]
			if lim.Status != report.StatusError || !strings.Contains(lim.Error, "unreachable") || !strings.Contains(lim.Error, tt.why) {
				t.Errorf("limiter: status %s, error %q; want an error saying Redis is unreachable: %s", lim.Status, lim.Error, tt.why)
			}
			if fb.Status != report.StatusPassed || fb.Metrics["fallback_rate"] != 1 {
				t.Errorf("limiter-fallback: status %s, fallback_rate %g; want it measured as ever", fb.Status, fb.Metrics["fallback_rate"])
			}
		})
	}
}

// TestLimiterRedisDiesMidRun: Redis is killed while the limiter scenario
// measures on it. The run says so and fails (exit 1): the admission check
// does not apply to two limits, and fallback==0 is missed; the JSON report
// is written (it used to fail on a NaN admission_error).
func TestLimiterRedisDiesMidRun(t *testing.T) {
	srv := redistest.Start(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.yaml")
	// Calls may take 2s: this machine may be running every package's
	// tests at once. A killed Redis refuses at once all the same.
	if err := os.WriteFile(cfg, []byte("limiter:\n  timeout: 2s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, "run", "limiter", "--redis-url", srv.URL(), "--concurrency", "16", "--duration", "2s",
		"--config", cfg, "--format", "json", "--output", "r.json", "-q")
	cmd.Dir, cmd.Env = dir, cleanEnv()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The measured phase checks keys "...:m:<k>": once one is in Redis,
	// measuring has begun.
	c := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer c.Close()
	wait.Until(t, 30*time.Second, "the measured phase's keys in Redis", func() bool {
		ks, _ := c.Keys(context.Background(), "*:m:0").Result()
		return len(ks) > 0
	})
	srv.Stop()
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("exit: %v; want code 1\n%s", err, out.String())
	}
	lim := byScenario(readReportFile(t, filepath.Join(dir, "r.json")))["limiter"]
	if lim.Status != report.StatusFailed || lim.Counters["fallback"] == 0 || lim.Counters["redis_ok"] == 0 {
		t.Errorf("limiter: status %s, counters %v; want failed, with decisions from Redis and from the fallback", lim.Status, lim.Counters)
	}
	if _, ok := lim.Metrics["admission_error"]; ok || !strings.Contains(strings.Join(lim.Notes, "\n"), "admission not checked") {
		t.Errorf("limiter: metrics %v, notes %q; want the admission check said not to apply", lim.Metrics, lim.Notes)
	}
	// The defaults with L2 in the stack (the file sets no threshold)
	// catch it: decisions by the failure mode, and Redis's errors. They
	// hold on a Redis that stays up (TestRedisStack).
	for _, expr := range []string{"fallback==0", "redis_errors==0"} {
		if th := thresholdOf(t, lim, expr); th.Pass {
			t.Errorf("limiter: %s held with Redis killed mid-run; want it missed", expr)
		}
	}
}

// TestLimiterFallbackFailOpen: with on_failure fail-open, limiter-fallback
// measures the failure mode and passes; the admission check does not apply
// (fail-open admits everything) and the report says so instead of failing
// on a NaN.
func TestLimiterFallbackFailOpen(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(cfg, []byte("limiter: {policy: {on_failure: fail-open}}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := rustciPerf(t, dir, "run", "limiter-fallback", "--ops", "20000", "--config", cfg, "--format", "json", "--output", "r.json", "-q")
	if r.code != 0 {
		t.Fatalf("exit %d; want 0\n%s%s", r.code, r.stdout, r.stderr)
	}
	fb := byScenario(readReportFile(t, filepath.Join(dir, "r.json")))["limiter-fallback"]
	if fb.Counters["allowed"] != 20000 || !strings.Contains(strings.Join(fb.Notes, "\n"), "admission not checked: every decision was fail-open") {
		t.Errorf("limiter-fallback: counters %v, notes %q; want all allowed and the admission check said not to apply", fb.Counters, fb.Notes)
	}
}

// TestProfile: --profile writes each scenario's profiles of its measured
// phase, named after it (numbered from the second run with --count), and
// nothing else; go tool pprof reads them (pkg/profile tests the format).
func TestProfile(t *testing.T) {
	dir := t.TempDir()
	prof := filepath.Join(dir, "prof")
	if err := os.Mkdir(prof, 0o755); err != nil {
		t.Fatal(err)
	}
	r := rustciPerf(t, dir, "run", "memory", "cache-read", "--ops", "500", "--count", "2", "-q",
		"--config", noTiming(t), "--profile", prof, "--profile-kinds", "cpu,mutex")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	entries, _ := os.ReadDir(prof)
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	want := []string{"cache-read-2.cpu.pprof", "cache-read-2.mutex.pprof", "cache-read.cpu.pprof", "cache-read.mutex.pprof",
		"memory-2.cpu.pprof", "memory-2.mutex.pprof", "memory.cpu.pprof", "memory.mutex.pprof"}
	if !slices.Equal(got, want) {
		t.Errorf("--profile wrote %v; want %v", got, want)
	}
}
