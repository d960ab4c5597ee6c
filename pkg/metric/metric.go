// Package metric is the one catalogue of the figures rustci-perf derives
// from a run's counts (hit_rate, fallback_rate, heap_bytes_per_item,
// achieved_rate_ratio, ...) and the one way a figure that cannot be
// computed is carried.
//
// The model, step by step:
//
//  1. A figure is a float64. One that cannot be computed (a ratio over a
//     zero or negative count, a rate over too short a window) is n/a, held
//     as NaN from where it is derived (Ratio, Def.Derive,
//     AchievedRateRatio) to where it is written. Each derivation that gives
//     n/a also says why, for the report's notes.
//  2. Values is the map of figures the scenarios fill and the report
//     carries. Its JSON form is the one boundary: n/a (and any infinity) is
//     written as null and null is read back as n/a, so no format meets a
//     number it cannot write, and a report is always written.
//  3. A threshold on an n/a figure fails, its actual shown as n/a
//     (threshold.Eval); a comparison leaves the figure out, with a note.
//  4. Each derived figure is defined once, as a Def: its name, unit, which
//     way is better, and, when counters give it back, the counters it is
//     the ratio of. Scenarios derive it from their counters, merge derives
//     it again from the sources' summed counters, and compare reads its
//     direction, all from the same Def.
package metric

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
)

// NA is the value of a figure that cannot be computed.
var NA = math.NaN()

// Valid reports whether v is a computed figure: not n/a, not infinite.
func Valid(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// Ratio is a/b, or n/a when b is 0 or negative: a count of nothing has no
// share, and a negative denominator (a count that went down) has no
// meaning.
func Ratio(a, b int64) float64 {
	if b <= 0 {
		return NA
	}
	return float64(a) / float64(b)
}

// Directions a figure improves in.
const (
	Higher = "higher"
	Lower  = "lower"
)

// Def defines one derived figure.
type Def struct {
	Name string
	// Unit is "" for plain numbers and ratios, else the unit of the value
	// ("bytes").
	Unit string
	// Better is Higher, Lower, or "" when neither is (a change is not
	// judged).
	Better string
	// Num and Den name the counters whose sums the figure is the ratio of.
	// Den is empty when counters cannot give the figure back: merge then
	// leaves it out.
	Num, Den []string
	// Share is true when Num counts a part of what Den counts (hits of
	// reads): the figure is a fraction in [0, 1], and Derive gives n/a
	// rather than a share outside it.
	Share bool
	// Signed is true when Num and Den are differences (growth over the
	// measured phase), which can be negative; every other counter is a
	// count, never negative (Signed).
	Signed bool
	// Doc says in a line what it is.
	Doc string
}

// The catalogue.
var (
	HitRate = Def{Name: "hit_rate", Better: Higher, Num: []string{"hits"}, Den: []string{"hits", "misses"}, Share: true,
		Doc: "hits in any tier over measured reads that succeeded"}
	L1HitRate = Def{Name: "l1_hit_rate", Better: Higher, Num: []string{"l1_hits"}, Den: []string{"hits", "misses"}, Share: true,
		Doc: "the share of measured reads L1 answered"}
	FallbackRate = Def{Name: "fallback_rate", Better: Lower, Num: []string{"fallback"}, Den: []string{"allowed", "denied"}, Share: true,
		Doc: "decisions made by the failure mode over all decisions"}
	HeapBytesPerItem = Def{Name: "heap_bytes_per_item", Unit: "bytes", Better: Lower, Num: []string{"heap_bytes"}, Den: []string{"items_stored"}, Signed: true,
		Doc: "live heap growth after GC over the items the cache added"}
	AllocsPerOp = Def{Name: "allocs_per_op", Better: Lower,
		Doc: "allocations in the process during the measured phase over operations"}
	AdmissionError = Def{Name: "admission_error", Better: Lower, Signed: true,
		Doc: "admissions above GCRA's most (positive) or below its fewest (negative)"}
	AchievedRate = Def{Name: "achieved_rate_ratio", Better: Higher,
		Doc: "open loop: operations over the scheduled window, over the target rate (see AchievedRateRatio)"}
)

var catalogue = []Def{HitRate, L1HitRate, FallbackRate, HeapBytesPerItem, AllocsPerOp, AdmissionError, AchievedRate}

// All returns the catalogue, sorted by name.
func All() []Def {
	out := append([]Def(nil), catalogue...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Lookup returns the figure named.
func Lookup(name string) (Def, bool) {
	for _, d := range catalogue {
		if d.Name == name {
			return d, true
		}
	}
	return Def{}, false
}

// Signed reports whether the counter named is a difference that can be
// negative (a Signed figure's); every other counter is a count.
func Signed(counter string) bool {
	for _, d := range catalogue {
		if d.Signed && (slices.Contains(d.Num, counter) || slices.Contains(d.Den, counter)) {
			return true
		}
	}
	return false
}

// Bounds returns the range a figure named name (without its kind of
// operation: "p99", not "read.p99") can take: [0, 1] for a share, the
// whole line for a figure or counter that may be negative, and [0, +Inf)
// for everything else (counts, rates, latencies, percentiles).
func Bounds(name string) (lo, hi float64) {
	d, ok := Lookup(name)
	switch {
	case ok && d.Share:
		return 0, 1
	case ok && d.Signed, Signed(name):
		return math.Inf(-1), math.Inf(1)
	}
	return 0, math.Inf(1)
}

// Derivable reports whether counters give d back.
func (d Def) Derivable() bool { return len(d.Den) > 0 }

// Derive computes d from counters: the sum of its Num counters over the sum
// of its Den counters. It is n/a, with a reason, when d is not derivable,
// a counter is missing, the denominator is 0 or negative, or d is a Share
// and the counters put the part outside the whole (they disagree: a share
// below 0 or above 1 means nothing).
func (d Def) Derive(counters map[string]int64) (v float64, why string) {
	if !d.Derivable() {
		return NA, fmt.Sprintf("%s is n/a: it is not derived from counters", d.Name)
	}
	sum := func(names []string) (int64, string) {
		var s int64
		for _, n := range names {
			c, ok := counters[n]
			if !ok {
				return 0, n
			}
			s += c
		}
		return s, ""
	}
	num, missing := sum(d.Num)
	if missing == "" {
		var den int64
		if den, missing = sum(d.Den); missing == "" {
			if den <= 0 {
				return NA, fmt.Sprintf("%s is n/a: %s is %d", d.Name, strings.Join(d.Den, " + "), den)
			}
			if d.Share && (num < 0 || num > den) {
				return NA, fmt.Sprintf("%s is n/a: %s is %d, outside %s (%d): the counters disagree", d.Name, strings.Join(d.Num, " + "), num, strings.Join(d.Den, " + "), den)
			}
			return Ratio(num, den), ""
		}
	}
	return NA, fmt.Sprintf("%s is n/a: there is no %s counter", d.Name, missing)
}

// Values are named figures, n/a held as NaN. In JSON, n/a and infinities
// are null, and null reads back as n/a; keys are sorted.
type Values map[string]float64

// MarshalJSON writes v as an object, null for every value that is not a
// computed figure (nil v as null).
func (v Values) MarshalJSON() ([]byte, error) {
	if v == nil {
		return []byte("null"), nil // as encoding/json writes a nil map
	}
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, err := json.Marshal(k)
		if err != nil {
			return nil, err
		}
		b.Write(kb)
		b.WriteByte(':')
		if x := v[k]; Valid(x) {
			vb, err := json.Marshal(x)
			if err != nil {
				return nil, err
			}
			b.Write(vb)
		} else {
			b.WriteString("null")
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON reads an object of numbers and nulls, null as n/a.
func (v *Values) UnmarshalJSON(data []byte) error {
	var m map[string]*float64
	if err := json.Unmarshal(data, &m); err != nil {
		return err
	}
	if m == nil {
		*v = nil
		return nil
	}
	*v = make(Values, len(m))
	for k, p := range m {
		if p == nil {
			(*v)[k] = NA
		} else {
			(*v)[k] = *p
		}
	}
	return nil
}
