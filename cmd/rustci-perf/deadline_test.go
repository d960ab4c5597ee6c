package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestOpenLoopFallsBehindStopsOnTime: at a rate no generator reaches, the
// measured phase still ends at --duration (it used to work through the
// backlog: minutes at 1e9/s), the report says how far behind it was, and
// the achieved-rate check fails the run.
func TestOpenLoopFallsBehindStopsOnTime(t *testing.T) {
	const d = 300 * time.Millisecond
	dir := t.TempDir()
	t.Setenv("TMPDIR", t.TempDir())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	code := run(ctx, []string{"run", "latency", "--rate", "1e9", "--duration", d.String(), "-q", "--config", noTiming(t),
		"--output", "json=" + filepath.Join(dir, "r.json")}, &stdout, &stderr)
	if code != exitThreshold {
		t.Fatalf("exit %d; want 1\n%s%s", code, stdout.String(), stderr.String())
	}
	s := readReportFile(t, filepath.Join(dir, "r.json")).Scenarios[0]
	if took := time.Duration(s.DurationNS); took > d+2*time.Second {
		t.Errorf("measured for %s with --duration %s; want it to stop within 2s of it", took, d)
	}
	var noted bool
	for _, n := range s.Notes {
		noted = noted || strings.HasPrefix(n, "the generator fell behind: issued ")
	}
	if !noted {
		t.Errorf("no note says the generator fell behind: %q", s.Notes)
	}
	if th := thresholdOf(t, s, "achieved_rate_ratio>0.99"); th.Pass {
		t.Errorf("achieved_rate_ratio>0.99 held at %v; want it missed", th.Actual)
	}
	if !strings.Contains(stdout.String(), "the generator fell behind: issued ") {
		t.Errorf("the text report does not say the generator fell behind:\n%s", stdout.String())
	}
}
