package engine

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rustci/rustci-perf/pkg/config"
	"github.com/rustci/rustci-perf/pkg/harness"
	"github.com/rustci/rustci-perf/pkg/latency"
	"github.com/rustci/rustci-perf/pkg/report"
	"github.com/rustci/rustci-perf/pkg/scenarios"
)

// done is a complete outcome of ops operations in a second.
func done(ops int64) *scenarios.Outcome {
	rec := latency.NewRecorder()
	rec.Record(time.Microsecond)
	res := &harness.Result{Ops: ops, Duration: time.Second, Latency: rec, ErrorLatency: latency.NewRecorder()}
	return &scenarios.Outcome{Result: res, Counters: map[string]int64{}, Metrics: map[string]float64{}}
}

// TestRunInterruptedInSetup: a scenario whose setup fails because ctx
// ended (a key fill cut short) is interrupted, not an error of the
// component, even as the last scenario of the plan.
func TestRunInterruptedInSetup(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	sc := scenarios.New("filling", "test", "", nil, func(ctx context.Context, s config.Settings) (*scenarios.Outcome, error) {
		cancel() // Ctrl-C while the keys are written
		return nil, fmt.Errorf("fill: %w", ctx.Err())
	})
	p := &Plan{items: []item{{sc: sc, settings: config.Settings{Params: config.Params{Ops: 1, Concurrency: 1}}, thresholds: thresholds(t, "ops>0")}}}
	r := p.Run(ctx)
	if !r.Interrupted || r.Passed || len(r.Scenarios) != 1 {
		t.Fatalf("report interrupted %t, passed %t, %d scenarios; want true, false, 1", r.Interrupted, r.Passed, len(r.Scenarios))
	}
	s := r.Scenarios[0]
	if s.Status != report.StatusInterrupted || s.Error != "" || len(s.Thresholds) != 0 {
		t.Errorf("status %s, error %q, %d thresholds judged; want interrupted, none, none", s.Status, s.Error, len(s.Thresholds))
	}
	if !strings.Contains(strings.Join(s.Notes, "\n"), "interrupted while setting up: nothing was measured") {
		t.Errorf("notes %q; want one saying nothing was measured", s.Notes)
	}
}

// TestRunInterruptedBetweenRuns: with --count 3, ctx ending during the
// second run's teardown (after its measured phase) keeps the two runs
// measured, starts no third, and marks the scenario interrupted rather
// than judging two runs as if they were three.
func TestRunInterruptedBetweenRuns(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	runs := 0
	sc := scenarios.New("repeated", "test", "", nil, func(context.Context, config.Settings) (*scenarios.Outcome, error) {
		runs++
		if runs == 2 {
			cancel()
		}
		return done(100), nil
	})
	p := &Plan{items: []item{{sc: sc, settings: config.Settings{Params: config.Params{Count: 3, Ops: 100, Concurrency: 1}}, thresholds: thresholds(t, "ops>0")}}}
	r := p.Run(ctx)
	if runs != 2 || !r.Interrupted || len(r.Scenarios) != 1 {
		t.Fatalf("%d runs, report interrupted %t, %d scenarios; want 2, true, 1", runs, r.Interrupted, len(r.Scenarios))
	}
	s := r.Scenarios[0]
	if s.Status != report.StatusInterrupted || s.Ops != 200 || len(s.Thresholds) != 0 {
		t.Errorf("status %s, ops %d, %d thresholds judged; want interrupted, 200, none", s.Status, s.Ops, len(s.Thresholds))
	}
	if !strings.Contains(strings.Join(s.Notes, "\n"), "(2 of 3 runs)") {
		t.Errorf("notes %q; want one saying 2 of 3 runs ran", s.Notes)
	}
}

// TestFellBehindNote: an open-loop run that issued fewer operations than
// its schedule held says how many, of how many, in how long.
func TestFellBehindNote(t *testing.T) {
	for _, tt := range []struct {
		issued, scheduled int64
		want              string // "" for no note
	}{
		// the generator kept up
		{2000, 2000, ""},
		// it fell behind: a quarter of the schedule issued
		{500, 2000, "the generator fell behind: issued 500 of 2000 scheduled operations in 2s (25%)"},
	} {
		sc := scenarios.New("open", "test", "", nil, func(context.Context, config.Settings) (*scenarios.Outcome, error) {
			out := done(tt.issued)
			out.Rate, out.Scheduled, out.Uncorrected = 1000, tt.scheduled, out.Latency
			return out, nil
		})
		p := &Plan{items: []item{{sc: sc, settings: config.Settings{Params: config.Params{Duration: 2 * time.Second, Rate: 1000, Concurrency: 1}}}}}
		notes := strings.Join(p.Run(context.Background()).Scenarios[0].Notes, "\n")
		if got := strings.Contains(notes, "fell behind"); got != (tt.want != "") || !strings.Contains(notes, tt.want) {
			t.Errorf("issued %d of %d: notes %q; want %q", tt.issued, tt.scheduled, notes, tt.want)
		}
	}
}
