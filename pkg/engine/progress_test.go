package engine

import (
	"testing"

	"github.com/rustci/rustci-perf/pkg/config"
	"github.com/rustci/rustci-perf/pkg/harness"
	"github.com/rustci/rustci-perf/pkg/report"
)

// told is a Progress that notes what it is told.
type told struct {
	ticks, steps, runs, finished int
	wantsTicks                   bool
}

func (r *told) Started(string, config.Settings) func(harness.Progress) {
	if !r.wantsTicks {
		return nil
	}
	return func(harness.Progress) { r.ticks++ }
}
func (r *told) Run(string, int, int)                           { r.runs++ }
func (r *told) Finished(*report.Scenario, *harness.PanicError) { r.finished++ }
func (r *told) Step(string, int, report.CapacityStep)          { r.steps++ }

// TestFanout: each Progress is told everything; the tick calls those
// that asked for one, and is nil when none did, so the harness is not
// asked to tick for nothing.
func TestFanout(t *testing.T) {
	quiet, bars, metrics := &told{}, &told{wantsTicks: true}, &told{wantsTicks: true}
	if tick := Fanout(quiet, nil).Started("x", config.Settings{}); tick != nil {
		t.Error("Fanout of a Progress that wants no tick returned one")
	}
	f := Fanout(quiet, bars, metrics)
	tick := f.Started("x", config.Settings{})
	tick(harness.Progress{})
	f.Run("x", 1, 2)
	f.(SearchProgress).Step("x", 1, report.CapacityStep{})
	f.Finished(&report.Scenario{}, nil)
	for i, r := range []*told{bars, metrics} {
		if r.ticks != 1 || r.runs != 1 || r.steps != 1 || r.finished != 1 {
			t.Errorf("progress %d told %+v; want one of each", i, *r)
		}
	}
	if quiet.runs != 1 || quiet.finished != 1 || quiet.ticks != 0 {
		t.Errorf("quiet progress told %+v; want a run and a finish, no tick", *quiet)
	}
}
