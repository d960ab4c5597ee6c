// Package fault injects faults into the components under test where a slow
// or failing dependency would put them: added latency, errors and stalls,
// into each call to a cache tier (l1, l2, l3) or to the rate limiter's
// Redis (limiter). A report of a run with faults says so, so that it is
// never taken for a clean one.
//
// The model, step by step:
//
//  1. A Spec is what a user writes: TARGET:KIND=VALUE[,KIND=VALUE], as
//     l2:latency=2ms,error=0.01 (Parse). A Spec parses itself
//     (encoding.TextUnmarshaler), so a flag and a configuration file read
//     it with the same code. Join gathers several specs of one target into
//     one.
//  2. An Injector carries out one target's Spec. It does nothing until it
//     is armed (Arm, at the start of a measured phase): setup and warmup
//     run on a clean component, and a stall's start counts from then.
//  3. Each call to the component first goes through Injector.Do: if the
//     call falls in a stall it waits until the stall ends, then waits its
//     latency, then fails at the error rate's odds. Every wait ends at the
//     call's context deadline: a call whose deadline comes first fails
//     there with an error that is context.DeadlineExceeded, as a call to a
//     dependency that did not answer in time does.
//  4. Where Do goes decides what the fault means, and it goes where a real
//     fault would be felt: Hook is a go-redis hook, added to a client after
//     its deadline hook (package redisconn), so an injected delay runs
//     inside the call's own timeout and the breaker in front sees its
//     failures (l2, limiter); Tier wraps an in-process tier (l1, l3),
//     which has no timeout: a stall there blocks calls until it ends.
//  5. Random draws (which calls are delayed, by how much, which fail) come
//     from a stream per worker, seeded from the run's seed and the worker
//     (Worker puts it in the worker's context): no lock and no shared
//     write on the path, and each worker's sequence of draws is the same
//     from one run to the next. A call made without one (a background
//     goroutine) draws from the Injector's own stream, under a lock.
//
// With nothing injected nothing is installed: no wrapper, no hook, no
// context value.
package fault

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Targets are what faults can be injected into: each cache tier, and the
// rate limiter's Redis.
var Targets = []string{"l1", "l2", "l3", "limiter"}

// Kinds are the kinds of fault, in the order a Spec is written.
var Kinds = []string{"latency", "error", "stall"}

// MaxDuration bounds every duration of a spec: a delay, a stall and its
// start.
const MaxDuration = 24 * time.Hour

// Spec is the faults injected into one target.
type Spec struct {
	// Target is one of Targets.
	Target string
	// Latency, when not nil, delays calls.
	Latency *Latency
	// Error, when not nil, is the share of calls that fail, in [0, 1].
	Error *float64
	// Stalls are windows during which the target does not answer: a call
	// made in one waits until it ends (or until its deadline).
	Stalls []Stall
}

// Latency is a delay added to a share of calls: to each of them Min, or,
// with Max above Min, a duration drawn uniformly from Min to Max.
type Latency struct {
	// P is the share of calls delayed, in (0, 1].
	P        float64
	Min, Max time.Duration
}

// Stall is a window of For, starting At after the measured phase started.
type Stall struct {
	For, At time.Duration
}

// String writes s as Parse reads it, each kind in the order of Kinds.
func (s Spec) String() string {
	var parts []string
	if s.Latency != nil {
		parts = append(parts, "latency="+s.Latency.String())
	}
	if s.Error != nil {
		parts = append(parts, "error="+strconv.FormatFloat(*s.Error, 'g', -1, 64))
	}
	for _, st := range s.Stalls {
		parts = append(parts, "stall="+st.String())
	}
	return s.Target + ":" + strings.Join(parts, ",")
}

// String writes l as a latency's value: 2ms, uniform:1ms-5ms, p=0.01:50ms.
func (l Latency) String() string {
	d := l.Min.String()
	if l.Max > l.Min {
		d = "uniform:" + l.Min.String() + "-" + l.Max.String()
	}
	if l.P < 1 {
		d = "p=" + strconv.FormatFloat(l.P, 'g', -1, 64) + ":" + d
	}
	return d
}

// String writes st as a stall's value: 2s@5s.
func (st Stall) String() string { return st.For.String() + "@" + st.At.String() }

// UnmarshalText reads a spec as Parse does, for flags and YAML.
func (s *Spec) UnmarshalText(b []byte) error {
	v, err := Parse(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// MarshalText writes s as UnmarshalText reads it.
func (s Spec) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Parse reads TARGET:KIND=VALUE[,KIND=VALUE]: a target of Targets, then
// one or more of
//
//	latency=2ms                 every call 2ms later
//	latency=uniform:1ms-5ms     every call later by a uniform draw from 1ms to 5ms
//	latency=p=0.01:50ms         one call in a hundred 50ms later (p=SHARE:DELAY, DELAY either form above)
//	error=0.01                  one call in a hundred fails
//	stall=2s@5s                 from 5s into the measured phase, for 2s, the target does not answer
//
// latency and error at most once, stall as often as wanted. Spaces around
// the parts are allowed. Its errors quote s and say what is wrong.
func Parse(s string) (Spec, error) {
	bad := func(format string, args ...any) (Spec, error) {
		return Spec{}, fmt.Errorf("inject %q: "+format, append([]any{s}, args...)...)
	}
	target, rest, ok := strings.Cut(s, ":")
	target = strings.TrimSpace(target)
	if !ok {
		return bad("want TARGET:KIND=VALUE[,KIND=VALUE], as in l2:latency=2ms")
	}
	if !slices.Contains(Targets, target) {
		return bad("unknown target %q (targets: %s)", target, strings.Join(Targets, ", "))
	}
	sp := Spec{Target: target}
	for part := range strings.SplitSeq(rest, ",") {
		kind, val, ok := strings.Cut(part, "=")
		kind, val = strings.TrimSpace(kind), strings.TrimSpace(val)
		if !ok || kind == "" {
			return bad("%q: want KIND=VALUE, KIND one of %s", strings.TrimSpace(part), strings.Join(Kinds, ", "))
		}
		switch kind {
		case "latency":
			if sp.Latency != nil {
				return bad("latency given twice")
			}
			l, err := parseLatency(val)
			if err != nil {
				return bad("latency %q: %v", val, err)
			}
			sp.Latency = &l
		case "error":
			if sp.Error != nil {
				return bad("error given twice")
			}
			r, err := strconv.ParseFloat(val, 64)
			if err != nil || !(r > 0 && r <= 1) {
				return bad("error %q: want the share of calls that fail, more than 0, at most 1, as in error=0.01 (0 injects nothing)", val)
			}
			sp.Error = &r
		case "stall":
			st, err := parseStall(val)
			if err != nil {
				return bad("stall %q: %v", val, err)
			}
			sp.Stalls = append(sp.Stalls, st)
		default:
			return bad("unknown kind %q (kinds: %s)", kind, strings.Join(Kinds, ", "))
		}
	}
	return sp, nil
}

// parseLatency reads 2ms, uniform:1ms-5ms, or p=SHARE: before either.
func parseLatency(v string) (Latency, error) {
	l := Latency{P: 1}
	if rest, ok := strings.CutPrefix(v, "p="); ok {
		share, dist, ok := strings.Cut(rest, ":")
		p, err := strconv.ParseFloat(strings.TrimSpace(share), 64)
		if !ok || err != nil || !(p > 0 && p <= 1) {
			return Latency{}, errors.New("want p=SHARE:DELAY, SHARE the share of calls delayed, above 0 and at most 1, as in p=0.01:50ms")
		}
		l.P, v = p, strings.TrimSpace(dist)
	}
	if rest, ok := strings.CutPrefix(v, "uniform:"); ok {
		lo, hi, ok := strings.Cut(rest, "-")
		a, err1 := duration(lo)
		b, err2 := duration(hi)
		if !ok || err1 != nil || err2 != nil || a >= b {
			return Latency{}, errors.New("want uniform:MIN-MAX, two durations with MIN below MAX, as in uniform:1ms-5ms")
		}
		l.Min, l.Max = a, b
		return l, nil
	}
	d, err := duration(v)
	if err != nil || d == 0 {
		return Latency{}, errors.New("want a delay above 0 (2ms), uniform:MIN-MAX, or p=SHARE:DELAY")
	}
	l.Min, l.Max = d, d
	return l, nil
}

// parseStall reads FOR@AT.
func parseStall(v string) (Stall, error) {
	f, a, ok := strings.Cut(v, "@")
	d, err1 := duration(f)
	at, err2 := duration(a)
	if !ok || err1 != nil || err2 != nil || d == 0 {
		return Stall{}, errors.New("want FOR@AT, a stall of FOR (above 0) starting AT into the measured phase, as in 2s@5s")
	}
	return Stall{For: d, At: at}, nil
}

// duration reads a Go duration from 0 to MaxDuration.
func duration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return 0, err
	}
	if d < 0 || d > MaxDuration {
		return 0, fmt.Errorf("%s: want 0 to %s", d, MaxDuration)
	}
	return d, nil
}

// Join gathers specs into one per target, in the order of Targets:
// several specs of one target add up (l2:latency=2ms and l2:error=0.01
// are l2:latency=2ms,error=0.01), but a latency or an error rate given
// twice for one target is an error. Stalls are kept in the order of their
// start.
func Join(specs []Spec) ([]Spec, error) {
	var out []Spec
	for _, target := range Targets {
		var j *Spec
		for _, s := range specs {
			if s.Target != target {
				continue
			}
			if j == nil {
				j = &Spec{Target: target}
			}
			if s.Latency != nil {
				if j.Latency != nil {
					return nil, fmt.Errorf("inject: %s: latency given twice (latency=%s and latency=%s)", target, j.Latency, s.Latency)
				}
				j.Latency = s.Latency
			}
			if s.Error != nil {
				if j.Error != nil {
					return nil, fmt.Errorf("inject: %s: error given twice (error=%g and error=%g)", target, *j.Error, *s.Error)
				}
				j.Error = s.Error
			}
			j.Stalls = append(j.Stalls, s.Stalls...)
		}
		if j != nil {
			slices.SortStableFunc(j.Stalls, func(a, b Stall) int { return cmp.Compare(a.At, b.At) })
			out = append(out, *j)
		}
	}
	return out, nil
}

// For returns the spec of target among joined specs, or nil.
func For(specs []Spec, target string) *Spec {
	for i := range specs {
		if specs[i].Target == target {
			return &specs[i]
		}
	}
	return nil
}

// Strings writes each spec as Parse reads it.
func Strings(specs []Spec) []string {
	var out []string
	for _, s := range specs {
		out = append(out, s.String())
	}
	return out
}
