// What the run command shows on stderr as a run goes: a line as each
// scenario (and, with --count, each run) starts, or a bar per scenario
// redrawn as it runs; and, even with --quiet, a scenario's panic.

package main

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/rustci/rustci-perf/pkg/config"
	"github.com/rustci/rustci-perf/pkg/engine"
	"github.com/rustci/rustci-perf/pkg/harness"
	"github.com/rustci/rustci-perf/pkg/report"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// progress shows a run on stderr (engine.Progress).
type progress struct {
	// w gets the lines or bars; nil with --quiet.
	w io.Writer
	// live draws bars instead of lines.
	live bool
	// panics gets a panic's value and stack, --quiet or not.
	panics io.Writer
	// done completes and removes the bar of the scenario under way.
	done func()
}

var (
	_ engine.Progress       = (*progress)(nil)
	_ engine.SearchProgress = (*progress)(nil)
)

// newProgress shows progress on stderr unless quiet, as bars when live;
// panics are shown either way.
func newProgress(stderr io.Writer, quiet, live bool) *progress {
	p := &progress{panics: stderr}
	if !quiet {
		p.w, p.live = stderr, live
	}
	return p
}

func (p *progress) Started(name string, s config.Settings) func(harness.Progress) {
	switch {
	case p.w == nil:
		return nil
	case p.live:
		var tick func(harness.Progress)
		tick, p.done = liveBar(p.w, name, s)
		return tick
	}
	fmt.Fprintf(p.w, "rustci-perf: running %s (%s)\n", name, describe(s))
	return nil
}

func (p *progress) Run(name string, i, n int) {
	if p.w != nil {
		fmt.Fprintf(p.w, "rustci-perf: %s run %d of %d\n", name, i, n)
	}
}

// Step says how a step of a capacity search went, on a line of its own
// (bars show the steps' runs as they go).
func (p *progress) Step(name string, n int, st report.CapacityStep) {
	if p.w == nil || p.live {
		return
	}
	verdict := "held"
	if !st.Held {
		verdict = "failed"
	}
	fmt.Fprintf(p.w, "rustci-perf: %s step %d (%s): target %s, achieved %s, p99 %s: %s\n", name, n, st.Phase,
		report.Throughput(st.TargetRateOpsPerSec), report.Throughput(st.AchievedRateOpsPerSec), report.Duration(float64(st.Latency.P99)), verdict)
}

func (p *progress) Finished(s *report.Scenario, pe *harness.PanicError) {
	if p.done != nil {
		p.done()
		p.done = nil
	}
	if pe != nil {
		fmt.Fprintf(p.panics, "rustci-perf: scenario %s panicked: %v\n%s", s.Name, pe.Value, pe.Stack)
	}
}

// describe says how a scenario is about to run.
func describe(s config.Settings) string {
	load := fmt.Sprintf("%d ops", s.Ops)
	switch {
	case len(s.Stages) > 0:
		load = "stages " + s.Stages.String()
	case s.Duration > 0:
		load = s.Duration.String()
	}
	if s.Rate > 0 {
		load += fmt.Sprintf(" at %g/s", s.Rate)
	}
	return fmt.Sprintf("%s, concurrency %d, warmup %s", load, s.Concurrency, s.Warmup)
}

// liveBar draws a progress bar for scenario name on w: elapsed of total
// (operations for a count-bound run, time for a time-bound one), operations
// done, the current rate and the p99 so far (of the current run, with
// --count). It returns the harness Tick that feeds it and a function that
// completes and removes it.
func liveBar(w io.Writer, name string, s config.Settings) (func(harness.Progress), func()) {
	timed := s.Duration > 0 || len(s.Stages) > 0
	total := int64(s.Ops * max(1, s.Count))
	if timed {
		d := s.Duration
		if len(s.Stages) > 0 {
			d = s.Stages.Total()
		}
		total = int64(d/time.Millisecond) * int64(max(1, s.Count))
	}
	// Auto refresh: --progress may force bars onto an output that is not
	// a terminal. There mpb takes the container's width for the line's,
	// so it is a whole line's (name, bar, figures: about 100 columns), and
	// the bar's own is set on the bar: a container of the bar's width cut
	// every line there to 32 columns, bar and rate gone. On a terminal the
	// line is the terminal's width.
	p := mpb.New(mpb.WithOutput(w), mpb.WithWidth(120), mpb.WithRefreshRate(200*time.Millisecond), mpb.WithAutoRefresh())
	// The ticker writes these and mpb's renderer reads them.
	var mu sync.Mutex
	var ops int64
	var rate float64
	var elapsed, p99 time.Duration
	bar := p.AddBar(max(total, 1), mpb.BarWidth(32),
		mpb.PrependDecorators(decor.Name(name, decor.WCSyncSpaceR)),
		mpb.AppendDecorators(decor.Any(func(decor.Statistics) string {
			mu.Lock()
			defer mu.Unlock()
			s := fmt.Sprintf("%s  %d ops  %s", report.Duration(float64(elapsed)), ops, report.Throughput(rate))
			if p99 > 0 {
				s += "  p99 " + report.Duration(float64(p99))
			}
			return s
		})),
		mpb.BarRemoveOnComplete(),
	)
	var before int64 // operations of earlier runs (--count)
	var last int64
	tick := func(pr harness.Progress) {
		e, n := pr.Elapsed, pr.Ops
		mu.Lock()
		p99 = pr.P99
		if n < last { // a new run began
			before += last
		}
		last = n
		ops, elapsed = before+n, e
		if e > 0 {
			rate = float64(n) / e.Seconds()
		}
		mu.Unlock()
		if timed {
			bar.SetCurrent(min(total, int64(e/time.Millisecond)))
		} else {
			bar.SetCurrent(min(total, ops))
		}
	}
	return tick, func() {
		bar.SetTotal(-1, true)
		p.Wait()
	}
}
