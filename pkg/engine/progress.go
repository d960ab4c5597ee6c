package engine

import (
	"github.com/rustci/rustci-perf/pkg/config"
	"github.com/rustci/rustci-perf/pkg/harness"
	"github.com/rustci/rustci-perf/pkg/report"
)

// Progress is told how a run goes, as it goes, so that whoever runs a
// Plan can show it (the command draws lines or bars on stderr); the engine
// draws nothing. Started, Run and Finished are called on the goroutine
// that called Plan.Run, in that order for each scenario; the tick Started
// returns is called on the harness's own goroutine while a run's measured
// phase lasts, and never after Finished.
type Progress interface {
	// Started: scenario name is about to run with settings s. The func it
	// returns, when not nil, is given the measured phase's progress every
	// harness.TickEvery, from a new start at each run (with s.Count > 1);
	// nil asks for none, which costs the harness nothing.
	Started(name string, s config.Settings) (tick func(harness.Progress))
	// Run: run i (from 1) of n begins; told only when n > 1.
	Run(name string, i, n int)
	// Finished: the scenario ended as s says. pe, when not nil, is the
	// panic that made it an error: its value is in s.Error, its stack only
	// here.
	Finished(s *report.Scenario, pe *harness.PanicError)
}

// silent is the Progress of a Plan given none.
type silent struct{}

var _ Progress = silent{}

func (silent) Started(string, config.Settings) func(harness.Progress) { return nil }
func (silent) Run(string, int, int)                                   {}
func (silent) Finished(*report.Scenario, *harness.PanicError)         {}

// Fanout returns a Progress that tells each of ps, in order, all it is
// told (nil ones are left out): the stderr bars and a metrics exporter at
// once. The tick it returns calls the tick of each that asked for one;
// nil when none did, so the harness still costs nothing then. Steps of a
// capacity search go to those that are SearchProgress too.
func Fanout(ps ...Progress) Progress {
	var f fanout
	for _, p := range ps {
		if p != nil {
			f = append(f, p)
		}
	}
	return f
}

type fanout []Progress

var (
	_ Progress       = fanout(nil)
	_ SearchProgress = fanout(nil)
)

func (f fanout) Started(name string, s config.Settings) func(harness.Progress) {
	var ticks []func(harness.Progress)
	for _, p := range f {
		if t := p.Started(name, s); t != nil {
			ticks = append(ticks, t)
		}
	}
	switch len(ticks) {
	case 0:
		return nil
	case 1:
		return ticks[0]
	}
	return func(pr harness.Progress) {
		for _, t := range ticks {
			t(pr)
		}
	}
}

func (f fanout) Run(name string, i, n int) {
	for _, p := range f {
		p.Run(name, i, n)
	}
}

func (f fanout) Step(name string, n int, st report.CapacityStep) {
	for _, p := range f {
		if sp, ok := p.(SearchProgress); ok {
			sp.Step(name, n, st)
		}
	}
}

func (f fanout) Finished(s *report.Scenario, pe *harness.PanicError) {
	for _, p := range f {
		p.Finished(s, pe)
	}
}
