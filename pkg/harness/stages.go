package harness

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Stage is one leg of a ramping open-loop schedule: over Duration the
// target rate moves linearly from the previous stage's Target (0 before the
// first) to this Target, in operations per second.
type Stage struct {
	Duration time.Duration
	Target   float64
}

// Stages is a ramping schedule, like k6's ramping-arrival-rate.
type Stages []Stage

// ParseStages reads "10s:1000,30s:5000,10s:0": durations as Go writes them,
// targets as operations per second.
func ParseStages(s string) (Stages, error) {
	var out Stages
	for _, part := range strings.Split(s, ",") {
		d, r, ok := strings.Cut(strings.TrimSpace(part), ":")
		if !ok {
			return nil, fmt.Errorf("stage %q: want DURATION:RATE, as in 30s:5000", part)
		}
		dur, err := time.ParseDuration(d)
		if err != nil || dur <= 0 {
			return nil, fmt.Errorf("stage %q: duration %q: want a positive duration, as in 30s", part, d)
		}
		rate, err := strconv.ParseFloat(r, 64)
		if err != nil || math.IsNaN(rate) || rate < 0 || rate > 1e9 {
			return nil, fmt.Errorf("stage %q: rate %q: want 0 to 1e9 operations per second", part, r)
		}
		out = append(out, Stage{Duration: dur, Target: rate})
	}
	if out.Count() < 1 {
		return nil, fmt.Errorf("stages %q: schedule no operation", s)
	}
	return out, nil
}

// UnmarshalText reads ss as ParseStages does, for YAML and flags; an
// empty text is no stages (a closed or constant-rate loop).
func (ss *Stages) UnmarshalText(b []byte) error {
	if strings.TrimSpace(string(b)) == "" {
		*ss = nil
		return nil
	}
	v, err := ParseStages(string(b))
	if err != nil {
		return err
	}
	*ss = v
	return nil
}

// MarshalText writes ss as UnmarshalText reads it.
func (ss Stages) MarshalText() ([]byte, error) { return []byte(ss.String()), nil }

// String writes ss as ParseStages reads it.
func (ss Stages) String() string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = s.Duration.String() + ":" + strconv.FormatFloat(s.Target, 'g', -1, 64)
	}
	return strings.Join(parts, ",")
}

// Total is the schedule's length.
func (ss Stages) Total() time.Duration {
	var t time.Duration
	for _, s := range ss {
		t += s.Duration
	}
	return t
}

// RateAt is the target rate, in operations per second, at d into the
// schedule: linear within each stage, from the previous stage's target
// (0 before the first); the last target past the end.
func (ss Stages) RateAt(d time.Duration) float64 {
	var start time.Duration
	var from float64
	for _, s := range ss {
		if d < start+s.Duration {
			return from + (s.Target-from)*float64(d-start)/float64(s.Duration)
		}
		start += s.Duration
		from = s.Target
	}
	return from
}

// Count is how many operations the schedule holds (the integral of its
// rate).
func (ss Stages) Count() float64 {
	var n, from float64
	for _, s := range ss {
		n += s.Duration.Seconds() * (from + s.Target) / 2
		from = s.Target
	}
	return n
}

// Due returns when operation j (from 0) of the schedule is due: the time
// at which the integral of the rate reaches j. ok is false past the end.
// A pure function: the schedule never drifts.
func (ss Stages) Due(j int64) (d time.Duration, ok bool) {
	want := float64(j)
	var start time.Duration
	var before, from float64
	for _, s := range ss {
		span := s.Duration.Seconds()
		in := span * (from + s.Target) / 2
		if want < before+in {
			// Solve from*t + (to-from)*t^2/(2*span) = want-before for t
			// in [0, span].
			c := want - before
			a := (s.Target - from) / (2 * span)
			var t float64
			if math.Abs(a) < 1e-12 {
				t = c / from
			} else {
				t = (-from + math.Sqrt(from*from+4*a*c)) / (2 * a)
			}
			return start + time.Duration(t*float64(time.Second)), true
		}
		before += in
		start += s.Duration
		from = s.Target
	}
	return 0, false
}
