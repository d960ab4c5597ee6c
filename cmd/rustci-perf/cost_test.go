package main

import (
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/rustci/rustci-perf/pkg/metric"
)

// TestCostFromTheBinary: what an operation costs, as a new user meets it.
// A threshold on it gates the exit code: cache-read's Gets from L1
// allocate nothing, so alloc_bytes_per_op<1 holds (exit 0); cache-write's
// Sets allocate (ristretto's item, Pebble's batch), so it is missed (exit
// 1). Every figure of the cost is in the JSON report of every scenario,
// and the text report has a line of it.
func TestCostFromTheBinary(t *testing.T) {
	dir := t.TempDir()
	// Timed, so that its key space is small (16384 keys): the background
	// work a large fill leaves to ristretto and Pebble, which allocates,
	// stays out of the measured phase.
	r := rustciPerf(t, dir, "run", "cache-read", "--duration", "500ms", "-q", "--config", noTiming(t),
		"--threshold", "cache-read:alloc_bytes_per_op<1", "--format", "json", "--output", "read.json")
	if r.code != 0 {
		t.Fatalf("cache-read:alloc_bytes_per_op<1: exit %d; want 0\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "cache-read:alloc_bytes_per_op<1") || !strings.Contains(r.stdout, "  cost: cpu ") {
		t.Errorf("the text report shows no threshold on alloc_bytes_per_op, or no cost line:\n%s", r.stdout)
	}
	rep := readReportFile(t, filepath.Join(dir, "read.json"))
	s := rep.Scenarios[0]
	for _, d := range metric.CostFigures() {
		_, inC := s.Counters[d.Name]
		v, inM := s.Metrics[d.Name]
		switch {
		case d.Source == metric.Counted && !inC, d.Source == metric.Derived && !inM:
			t.Errorf("%s is not in the JSON report", d.Name)
		case inM && !metric.Valid(v) && (runtime.GOOS == "linux" || runtime.GOOS == "darwin"):
			t.Errorf("%s is n/a on %s", d.Name, runtime.GOOS)
		}
	}
	if th := s.Thresholds[len(s.Thresholds)-1]; th.Expr != "cache-read:alloc_bytes_per_op<1" || !th.Pass || th.Actual == nil || *th.Actual != s.Metrics["alloc_bytes_per_op"] {
		t.Errorf("threshold %+v; want cache-read:alloc_bytes_per_op<1 held, judged on the figure %g", th, s.Metrics["alloc_bytes_per_op"])
	}

	r = rustciPerf(t, dir, "run", "cache-write", "--ops", "2000", "-q", "--config", noTiming(t),
		"--threshold", "cache-write:alloc_bytes_per_op<1", "--format", "json")
	if r.code != 1 {
		t.Fatalf("cache-write:alloc_bytes_per_op<1: exit %d; want 1\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, `"expr": "cache-write:alloc_bytes_per_op\u003c1"`) {
		t.Errorf("the JSON report does not show the missed threshold:\n%s", r.stdout)
	}
}
