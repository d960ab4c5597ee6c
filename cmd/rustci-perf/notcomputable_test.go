package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rustci/rustci-perf/internal/reportcheck"
	"github.com/rustci/rustci-perf/pkg/metric"
	"github.com/rustci/rustci-perf/pkg/report"
)

// outputs are the files every format is written to, by format.
var outputs = map[string]string{
	"json": "r.json", "text": "r.txt", "markdown": "r.md", "junit": "r.xml", "html": "r.html", "gobench": "r.bench", "csv": "r.csv",
}

// everyFormat returns the flags that write the report in every format, and
// the .hgrm files, into dir (made here).
func everyFormat(t *testing.T, dir string) []string {
	t.Helper()
	if err := os.Mkdir(filepath.Join(dir, "hgrm"), 0o755); err != nil {
		t.Fatal(err)
	}
	args := []string{"--hgrm", "hgrm"}
	for format, file := range outputs {
		args = append(args, "--output", format+"="+file)
	}
	return args
}

// checkFormats checks every file everyFormat asked for: written, no NaN or
// infinity, the JSON valid and read back, the JUnit valid; it returns the
// report read from the JSON.
func checkFormats(t *testing.T, dir string) *report.Report {
	t.Helper()
	var rep *report.Report
	for format, file := range outputs {
		b, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Errorf("the %s report was not written: %v", format, err)
			continue
		}
		if r := reportcheck.Output(t, format, b); r != nil {
			rep = r
		}
	}
	reportcheck.Dir(t, filepath.Join(dir, "hgrm"))
	if rep == nil {
		t.Fatal("no JSON report to read")
	}
	return rep
}

// thresholdOf returns the threshold of s whose expression is expr.
func thresholdOf(t *testing.T, s report.Scenario, expr string) report.Threshold {
	t.Helper()
	for _, th := range s.Thresholds {
		if th.Expr == expr {
			return th
		}
	}
	t.Fatalf("%s has no threshold %s: %+v", s.Name, expr, s.Thresholds)
	return report.Threshold{}
}

// TestMemoryStoredNothing: a warmup by time writes every key the memory
// scenario's writes cycle over, so the measured Sets store no new item:
// heap_bytes_per_item is n/a, its threshold fails, and notes say why.
func TestMemoryStoredNothing(t *testing.T) {
	dir := t.TempDir()
	args := append([]string{"run", "memory", "--ops", "1000", "--warmup", "1s", "-q"}, everyFormat(t, dir)...)
	r := rustciPerf(t, dir, args...)
	s := checkFormats(t, dir).Scenarios[0]
	if s.Counters["items_stored"] != 0 {
		t.Skipf("the warmup did not cover the key space on this machine (%d warmup ops): %d items stored", s.WarmupOps, s.Counters["items_stored"])
	}
	if r.code != 1 {
		t.Fatalf("exit %d; want 1 (a threshold on n/a fails)\n%s%s", r.code, r.stdout, r.stderr)
	}
	if v, ok := s.Metrics["heap_bytes_per_item"]; !ok || metric.Valid(v) {
		t.Errorf("heap_bytes_per_item = %g (present %t); want n/a", v, ok)
	}
	if th := thresholdOf(t, s, "heap_bytes_per_item<1024"); th.Pass || th.Actual != nil {
		t.Errorf("heap_bytes_per_item<1024: pass %t, actual %v; want failed, n/a", th.Pass, th.Actual)
	}
	notes := strings.Join(s.Notes, "\n")
	for _, want := range []string{"heap_bytes_per_item is n/a: items_stored is 0", "the warmup's", "had already written each of the 16384 distinct keys"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
	if !strings.Contains(r.stdout, "heap_bytes_per_item<1024  n/a") {
		t.Errorf("the text report does not show the threshold's actual as n/a:\n%s", r.stdout)
	}
}

// TestRateTooShortToTell: one operation at 0.1/s is no rate: the achieved
// rate ratio is n/a and its threshold fails, where it used to be a million
// and pass.
func TestRateTooShortToTell(t *testing.T) {
	dir := t.TempDir()
	args := append([]string{"run", "cache-read", "--rate", "0.1", "--duration", "2s", "-q", "--config", noTiming(t)}, everyFormat(t, dir)...)
	r := rustciPerf(t, dir, args...)
	if r.code != 1 {
		t.Fatalf("exit %d; want 1\n%s%s", r.code, r.stdout, r.stderr)
	}
	s := checkFormats(t, dir).Scenarios[0]
	if v, ok := s.Metrics["achieved_rate_ratio"]; s.Ops+s.Errors != 1 || !ok || metric.Valid(v) {
		t.Errorf("%d operations, achieved_rate_ratio %g (present %t); want 1, n/a", s.Ops+s.Errors, v, ok)
	}
	if th := thresholdOf(t, s, "achieved_rate_ratio>0.99"); th.Pass || th.Actual != nil {
		t.Errorf("achieved_rate_ratio>0.99: pass %t, actual %v; want failed, n/a", th.Pass, th.Actual)
	}
	if !strings.Contains(strings.Join(s.Notes, "\n"), "achieved_rate_ratio is n/a: 1 operation ran, fewer than the 100") {
		t.Errorf("no note says why: %q", s.Notes)
	}
}
