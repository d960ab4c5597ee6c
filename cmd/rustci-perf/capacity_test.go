package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rustci/rustci-perf/internal/redistest"
	"github.com/rustci/rustci-perf/pkg/report"
)

// searchFlags make a short capacity search: steps of 200ms after 50ms of
// warmup, within 4s; an objective any machine meets.
var searchFlags = []string{"--find-max-rate", "--slo", "p99<1s", "--duration", "200ms", "--warmup", "50ms", "--budget", "4s", "-q"}

// TestFindMaxRate: the built binary finds cache-read's capacity within
// its budget, and a threshold on max_rate gates the exit code: 0 when it
// holds, 1 when it is missed. The report, in JSON, has the search.
func TestFindMaxRate(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		threshold string
		code      int
	}{
		{"max_rate>1", exitOK},
		{"cache-read:max_rate>1e12", exitThreshold},
	} {
		out := filepath.Join(dir, "r.json")
		args := append([]string{"run", "cache-read", "--config", noTiming(t), "--threshold", tt.threshold, "--output", "json=" + out}, searchFlags...)
		r := rustciPerf(t, dir, args...)
		if r.code != tt.code {
			t.Fatalf("%s: exit %d; want %d\nstdout:\n%s\nstderr:\n%s", tt.threshold, r.code, tt.code, r.stdout, r.stderr)
		}
		rep := readReportFile(t, out)
		s := rep.Scenarios[0]
		c := s.Capacity
		if c == nil || c.MaxRate == nil || *c.MaxRate <= 0 || len(c.Steps) == 0 {
			t.Fatalf("%s: capacity %+v", tt.threshold, c)
		}
		if e := time.Duration(c.ElapsedNS); e > 4*time.Second {
			t.Errorf("%s: the search took %s of a 4s budget", tt.threshold, e)
		}
		if s.Mode != "open-loop" || s.TargetRateOpsPerSec != *c.MaxRate {
			t.Errorf("%s: the scenario's figures are %s at %g; want the step at max_rate, %g", tt.threshold, s.Mode, s.TargetRateOpsPerSec, *c.MaxRate)
		}
		for _, want := range []string{"MAX RATE", "  capacity: max_rate ", "  STEP  PHASE "} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("%s: the text report lacks %q:\n%s", tt.threshold, want, r.stdout)
			}
		}
	}
}

// TestFindMaxRateUsage: what a search cannot do is a usage error, exit 2,
// before anything runs.
func TestFindMaxRateUsage(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--find-max-rate", "--slo", "p99<1"}, `--slo: threshold "p99<1": column 6: p99 is a latency`},
		{[]string{"--find-max-rate", "--slo", "hit_ratio>0.9"}, `--slo: threshold "hit_ratio>0.9": scenario cache-read has no metric "hit_ratio"`},
		{[]string{"--find-max-rate", "--slo", "max_rate>1"}, `--slo "max_rate>1": max_rate is the search's answer, not a figure of a step`},
		{[]string{"--slo", "p99<1ms"}, "--slo: give --find-max-rate too"},
		{[]string{"--budget", "10s"}, "--budget: give --find-max-rate too"},
		{[]string{"--find-max-rate", "--rate", "1000"}, "--find-max-rate and --rate: the search sets each step's rate itself"},
		{[]string{"--find-max-rate", "--stages", "1s:100"}, "--find-max-rate and --stages"},
		{[]string{"--find-max-rate", "--count", "3"}, "--find-max-rate and --count: a search runs each step once"},
		{[]string{"--find-max-rate", "--budget", "0s"}, "--budget 0s: want more than 0"},
		{[]string{"--find-max-rate", "--budget", "1s"}, "--budget 1s: too short to search 1 scenario"},
		{[]string{"--threshold", "max_rate>1"}, `threshold "max_rate>1": max_rate is the answer of a capacity search: give --find-max-rate`},
	} {
		r := rustciPerf(t, dir, append([]string{"run", "cache-read"}, tt.args...)...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tt.want) || r.stdout != "" {
			t.Errorf("%v: exit %d, stderr %q, stdout %q; want exit 2 and %q", tt.args, r.code, r.stderr, r.stdout, tt.want)
		}
	}
}

// TestFindMaxRateOnRedis: a search of cache-l2, which reads from Redis
// alone, finds a rate. 1000 keys, not 16384: each step writes its key
// space to Redis first, one key at a time.
func TestFindMaxRateOnRedis(t *testing.T) {
	srv := redistest.Start(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "r.json")
	args := append([]string{"run", "cache-l2", "--redis-url", srv.URL(), "--keys", "1000", "--config", noTiming(t), "--threshold", "max_rate>1", "--output", "json=" + out}, searchFlags...)
	if r := rustciPerf(t, dir, args...); r.code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	rep := readReportFile(t, out)
	c := rep.Scenarios[0].Capacity
	if c == nil || c.MaxRate == nil || rep.Scenarios[0].Status != report.StatusPassed {
		t.Fatalf("cache-l2 on Redis: capacity %+v", c)
	}
	t.Logf("cache-l2 on Redis: max_rate %.0f ops/s (%s, %d steps)", *c.MaxRate, c.Stop, len(c.Steps))
}
