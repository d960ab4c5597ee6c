// Package capacity finds the highest open-loop rate a system sustains
// while its service-level objectives hold: its capacity, or breaking point.
//
// The search is pure: it knows nothing of scenarios, harnesses or
// reports. It is given a function that measures the system closed loop
// (how fast it goes when every worker starts an operation as soon as its
// previous one ends), a function that measures it at an open-loop target
// rate and says whether that step held, and a clock. It returns every
// step it took and the answer. The model, step by step:
//
//  1. Estimate: one closed-loop run gives the throughput X the system
//     reaches when nothing paces it. An open-loop generator on the same
//     workers cannot issue faster, and latency from when each operation
//     was due rises well before X: the capacity is somewhere below it.
//  2. Climb: the first target is Start × X (half of it by default); while
//     a step holds, the next target is Growth times the last (1.25×),
//     up to Ceiling × X. A step holds when the Measure function says so
//     (every SLO held, and the achieved rate was within 1% of the target).
//  3. Descend: when the first step already fails, targets halve until one
//     holds or they fall under the floor (Floor × X, and no lower than
//     Min): then no rate held, and the answer is n/a.
//  4. Bisect: between the last rate that held and the first that failed,
//     at their geometric mean, until the first failing rate is within
//     Precision (2%) of the last holding one.
//
// Invariants: every held target is at most the answer (the highest held
// target) and every failed target is above it, since a step only ever
// tries a rate between the two ends of the bracket; the climb's targets
// rise, the descent's fall, and each bisection step lies strictly inside
// the bracket it halves.
//
// Stopping rules, each an Answer.Stop: the bracket is within Precision
// (Converged); the next step would not fit in what is left of the budget
// (Budget: a step is never started that would end after it, its length
// taken as the longest step so far, the estimate's included, or Expect
// before any); even the floor failed (NoneHeld); every rate held up to the
// ceiling, so the answer is only a lower bound (Ceiling); the context
// ended (Interrupted).
package capacity

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"
)

// Outcome is what one step at a target rate measured, as the Measure
// function judges it.
type Outcome struct {
	// Achieved is the rate achieved, in operations per second.
	Achieved float64
	// Held is true when every objective held at this rate.
	Held bool
}

// Phase is the part of the search a step belongs to.
type Phase string

// The phases of a search.
const (
	Climb   Phase = "climb"
	Descend Phase = "descend"
	Bisect  Phase = "bisect"
)

// Step is one measurement at a target rate.
type Step struct {
	Phase Phase
	// Target is the open-loop rate asked for, in operations per second.
	Target float64
	Outcome
	// Start is when it started, from the search's start; Took how long
	// it took, setup included.
	Start, Took time.Duration
}

// Stop says why a search ended.
type Stop string

// The reasons a search ends.
const (
	// Converged: the first failing rate is within Precision of the last
	// holding one.
	Converged Stop = "converged"
	// Budget: the next step would not have fit in what was left of the
	// budget; the answer is as precise as the bracket reached.
	Budget Stop = "budget"
	// NoneHeld: no rate held, down to the floor; the answer is n/a.
	NoneHeld Stop = "none-held"
	// Ceiling: every rate held up to the ceiling; the answer is a lower
	// bound.
	Ceiling Stop = "ceiling"
	// Interrupted: the context ended the search.
	Interrupted Stop = "interrupted"
)

// Answer is a search's result.
type Answer struct {
	// Estimate is the closed-loop throughput the search started from.
	Estimate float64
	// MaxRate is the highest target that held; NaN when none did.
	MaxRate float64
	// FirstFailing is the lowest target that failed; NaN when none did.
	// The capacity lies between MaxRate and it.
	FirstFailing float64
	Stop         Stop
	Steps        []Step
	// Elapsed is the search's whole wall time, the estimate's included.
	Elapsed time.Duration
}

// Converged reports whether the answer is within the search's precision.
func (a Answer) Converged() bool { return a.Stop == Converged }

// Config is a search: what it measures, how, and within what budget.
type Config struct {
	// Estimate measures the system closed loop and returns its
	// throughput, in operations per second.
	Estimate func(ctx context.Context) (float64, error)
	// Measure measures the system at an open-loop target rate. An error
	// ends the search with that error.
	Measure func(ctx context.Context, target float64) (Outcome, error)
	// Budget bounds the search's wall time, the estimate's included.
	Budget time.Duration
	// Expect is how long a step is expected to take before one has been
	// measured (0: nothing expected); the estimate is run only when it
	// fits in the budget.
	Expect time.Duration
	// Clock returns the time since a fixed origin; nil is the monotonic
	// clock.
	Clock func() time.Duration
	// Start, Growth, Precision, Ceiling and Floor shape the search (see
	// the package comment); zero takes Defaults' value.
	Start, Growth, Precision, Ceiling, Floor float64
	// Observe, when set, is told each step as it is recorded: after each
	// call of Measure that returned no error.
	Observe func(Step)
	// Min and Max bound every target, in operations per second: under
	// Min a step cannot tell a rate (too few operations), over Max the
	// generator cannot pace one. Zero: no bound.
	Min, Max float64
}

// Defaults are the values a Config's zero fields take.
var Defaults = Config{Start: 0.5, Growth: 1.25, Precision: 0.02, Ceiling: 4, Floor: 1.0 / 64}

// withDefaults fills c's zero shape fields from Defaults.
func (c Config) withDefaults() Config {
	for _, f := range []struct{ v, d *float64 }{
		{&c.Start, &Defaults.Start}, {&c.Growth, &Defaults.Growth}, {&c.Precision, &Defaults.Precision},
		{&c.Ceiling, &Defaults.Ceiling}, {&c.Floor, &Defaults.Floor},
	} {
		if *f.v == 0 {
			*f.v = *f.d
		}
	}
	if c.Clock == nil {
		origin := time.Now()
		c.Clock = func() time.Duration { return time.Since(origin) }
	}
	return c
}

// validate reports the first thing wrong with c.
func (c Config) validate() error {
	switch {
	case c.Estimate == nil || c.Measure == nil:
		return errors.New("capacity: no Estimate or Measure function")
	case c.Budget <= 0:
		return fmt.Errorf("capacity: budget %s: want more than 0", c.Budget)
	case !(c.Start > 0 && c.Start <= 1):
		return fmt.Errorf("capacity: start %g: want more than 0, at most 1", c.Start)
	case !(c.Growth > 1):
		return fmt.Errorf("capacity: growth %g: want more than 1", c.Growth)
	case !(c.Precision > 0):
		return fmt.Errorf("capacity: precision %g: want more than 0", c.Precision)
	case !(c.Ceiling >= 1):
		return fmt.Errorf("capacity: ceiling %g: want at least 1", c.Ceiling)
	case !(c.Floor > 0 && c.Floor < c.Start):
		return fmt.Errorf("capacity: floor %g: want more than 0, under start (%g)", c.Floor, c.Start)
	case c.Min < 0 || c.Max < 0 || (c.Max > 0 && c.Max < c.Min):
		return fmt.Errorf("capacity: min %g, max %g: want 0 <= min <= max", c.Min, c.Max)
	}
	return nil
}

// Search runs the search c describes. Its error is c's (a bad Config) or
// the first that Estimate or Measure returned, with the steps taken so
// far; an ended context is not an error but the Interrupted stop, whatever
// the measurement it cut short returned.
func Search(ctx context.Context, c Config) (a Answer, err error) {
	c = c.withDefaults()
	a = Answer{MaxRate: math.NaN(), FirstFailing: math.NaN()}
	if err := c.validate(); err != nil {
		return a, err
	}
	s := &search{Config: c, origin: c.Clock(), longest: c.Expect}
	defer func() { a.Elapsed = s.now() }()

	if !s.fits() {
		a.Stop = Budget
		return a, nil
	}
	start := s.now()
	x, err := c.Estimate(ctx)
	s.took(s.now() - start)
	switch {
	case ctx.Err() != nil:
		a.Stop = Interrupted
		return a, nil
	case err != nil:
		return a, err
	case !(x > 0) || math.IsInf(x, 0):
		// Nothing succeeded closed loop: there is no rate to start from.
		a.Estimate, a.Stop = x, NoneHeld
		return a, nil
	}
	a.Estimate = x
	a.Stop, err = s.run(ctx, x)
	a.Steps = s.steps
	a.MaxRate, a.FirstFailing = s.lo, s.hi
	return a, err
}

// search is a search under way.
type search struct {
	Config
	origin time.Duration
	// longest is the longest step so far, or Expect: the length the next
	// step is taken to have.
	longest time.Duration
	steps   []Step
	// lo is the highest target that held, hi the lowest that failed; NaN
	// when none did.
	lo, hi float64
}

func (s *search) now() time.Duration { return s.Clock() - s.origin }

func (s *search) took(d time.Duration) { s.longest = max(s.longest, d) }

// fits reports whether one more step, as long as the longest so far, ends
// within the budget.
func (s *search) fits() bool { return s.now()+s.longest <= s.Budget }

// bound keeps a target within Min and Max.
func (s *search) bound(r float64) float64 {
	if s.Max > 0 {
		r = min(r, s.Max)
	}
	return max(r, s.Min)
}

// run climbs (or descends) from x, then bisects, and says why it stopped.
func (s *search) run(ctx context.Context, x float64) (Stop, error) {
	s.lo, s.hi = math.NaN(), math.NaN()
	ceiling := s.bound(s.Ceiling * x)
	floor := s.bound(s.Floor * x)
	r := s.bound(s.Start * x)
	phase := Climb
	for {
		// The bracket found: bisect it.
		if !math.IsNaN(s.lo) && !math.IsNaN(s.hi) {
			break
		}
		if !s.fits() {
			return Budget, nil
		}
		held, err := s.step(ctx, phase, r)
		if stop, err, end := ended(ctx, err); end {
			return stop, err
		}
		switch {
		case held && r >= ceiling:
			return Ceiling, nil
		case held:
			r = min(r*s.Growth, ceiling)
		case !math.IsNaN(s.lo):
			// failed after holding: the bracket is found
		case r <= floor:
			return NoneHeld, nil
		default:
			phase, r = Descend, max(r/2, floor)
		}
	}
	for s.hi > s.lo*(1+s.Precision) {
		if !s.fits() {
			return Budget, nil
		}
		mid := math.Sqrt(s.lo * s.hi)
		_, err := s.step(ctx, Bisect, mid)
		if stop, err, end := ended(ctx, err); end {
			return stop, err
		}
	}
	return Converged, nil
}

// ended says whether a step's error or an ended context ends the search,
// and with what: an ended context is the Interrupted stop, whatever the
// step returned (a measurement cut short fails for that reason); another
// error is the search's.
func ended(ctx context.Context, err error) (Stop, error, bool) {
	switch {
	case ctx.Err() != nil:
		return Interrupted, nil, true
	case err != nil:
		return "", err, true
	}
	return "", nil, false
}

// step measures at target r and narrows the bracket; it returns whether
// the step held.
func (s *search) step(ctx context.Context, phase Phase, r float64) (bool, error) {
	start := s.now()
	o, err := s.Measure(ctx, r)
	if err != nil {
		return false, err
	}
	// A step that measured is a step, even when the context ended just
	// after it.
	st := Step{Phase: phase, Target: r, Outcome: o, Start: start, Took: s.now() - start}
	s.took(st.Took)
	s.steps = append(s.steps, st)
	if s.Observe != nil {
		s.Observe(st)
	}
	switch {
	case o.Held && (math.IsNaN(s.lo) || r > s.lo):
		s.lo = r
	case !o.Held && (math.IsNaN(s.hi) || r < s.hi):
		s.hi = r
	}
	return o.Held, nil
}
