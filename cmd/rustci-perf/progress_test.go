package main

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/rustci/rustci-perf/pkg/config"
	"github.com/rustci/rustci-perf/pkg/engine"
	"github.com/rustci/rustci-perf/pkg/harness"
	"github.com/rustci/rustci-perf/pkg/report"
	"github.com/rustci/rustci-perf/pkg/scenarios"
)

// runShown runs cache-read for three ticks, count times, with its
// progress shown on a buffer as the command shows it on stderr.
func runShown(t *testing.T, quiet, live bool, count int) string {
	t.Helper()
	cl := config.CommandLine()
	cl.Defaults.Duration, cl.Defaults.Count = 3*harness.TickEvery, count
	cl.Set("defaults.duration", "--duration")
	cl.Set("defaults.count", "--count")
	cfg, err := config.New(scenarios.Names(), cl)
	if err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	p, err := engine.NewPlan(engine.Options{
		Names: []string{"cache-read"}, Config: cfg,
		Progress: newProgress(&out, quiet, live),
	})
	if err != nil {
		t.Fatal(err)
	}
	p.Run(context.Background())
	return out.String()
}

// TestProgress: plain lines as the scenario and each run start; with
// live, a bar with the scenario's name and operations done instead of the
// scenario's line; with quiet, nothing.
func TestProgress(t *testing.T) {
	for _, tt := range []struct {
		name        string
		quiet, live bool
		count       int
		want, not   []string
	}{
		// a line naming the scenario and how it runs
		{"lines", false, false, 1, []string{"rustci-perf: running cache-read (600ms, concurrency "}, []string{" run 1 of"}},
		// a line for each run besides
		{"lines, count 2", false, false, 2, []string{"rustci-perf: running cache-read (", "rustci-perf: cache-read run 1 of 2\n", "rustci-perf: cache-read run 2 of 2\n"}, nil},
		// a bar instead of the scenario's line
		// (forced onto a buffer, not a terminal: the whole line, bar and rate
		// too, not cut to the bar's width)
		{"bars", false, true, 1, []string{"cache-read", " ops ", " ops/s", "["}, []string{"rustci-perf: running", "…"}},
		{"quiet", true, false, 1, nil, []string{"cache-read"}},
	} {
		got := runShown(t, tt.quiet, tt.live, tt.count)
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: progress lacks %q:\n%q", tt.name, w, got)
			}
		}
		for _, n := range tt.not {
			if strings.Contains(got, n) {
				t.Errorf("%s: progress has %q:\n%q", tt.name, n, got)
			}
		}
	}
}

// TestProgressShowsPanics: a scenario's panic is shown with its stack,
// with --quiet too.
func TestProgressShowsPanics(t *testing.T) {
	for _, quiet := range []bool{false, true} {
		var out syncBuffer
		p := newProgress(&out, quiet, false)
		s := &report.Scenario{Name: "broken", Status: report.StatusError, Error: "panic: bug"}
		p.Finished(s, &harness.PanicError{Value: "bug", Stack: []byte("goroutine 1:\nmain.go:1\n")})
		if want := "rustci-perf: scenario broken panicked: bug\ngoroutine 1:\nmain.go:1\n"; out.String() != want {
			t.Errorf("quiet %t: shown %q; want %q", quiet, out.String(), want)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for the progress renderer's goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestWantBars: bars only on a terminal that can move its cursor, outside
// CI, unless --progress forces them.
func TestWantBars(t *testing.T) {
	tests := []struct {
		forced, terminal bool
		env              map[string]string
		want             bool
	}{
		// a terminal, TERM set: bars
		{false, true, map[string]string{"TERM": "xterm-256color"}, true},
		// TERM=dumb cannot move the cursor: plain lines
		{false, true, map[string]string{"TERM": "dumb"}, false},
		// CI: plain lines, whatever the terminal
		{false, true, map[string]string{"CI": "true", "TERM": "xterm"}, false},
		// not a terminal: plain lines
		{false, false, map[string]string{"TERM": "xterm"}, false},
		// --progress forces bars, TERM=dumb or not
		{true, false, map[string]string{"TERM": "dumb"}, true},
	}
	for _, tt := range tests {
		if got := wantBars(tt.forced, tt.terminal, func(k string) string { return tt.env[k] }); got != tt.want {
			t.Errorf("wantBars(%t, %t, %v) = %t; want %t", tt.forced, tt.terminal, tt.env, got, tt.want)
		}
	}
}
