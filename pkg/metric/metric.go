// Package metric is the one catalogue of the figures rustci-perf reports
// (ops, throughput, p99, hits, l1_errors, hit_rate, achieved_rate_ratio,
// ...) and the one way a figure that cannot be computed is carried.
//
// The model, step by step:
//
//  1. Each figure is defined once, as a Def (catalogue.go): its name, where
//     it comes from (measured by the harness, counted by a scenario, or
//     derived), its unit, which way is better, what it means, and, when
//     counters give it back, the counters it is the ratio of. The counters
//     every cache tier has are defined once and named per tier (l1_hits,
//     l2_hits); a percentile (p99, p(99.95)) and one kind of operation's
//     figure (read.p99) are the catalogue's percentile, and its figure,
//     under their own names. Lookup finds any of them by name.
//  2. Everything else reads the Def: scenarios declare the figures they
//     report by name and derive theirs with Def.Derive; thresholds ask it
//     whether a limit needs a unit (ns) and what range a figure can take
//     (Bounds); compare and the gobench format's Unit lines read which
//     way is better; merge derives again what the sources' summed counters
//     give back (Def.Remergeable); list prints it.
//  3. A figure is a float64. One that cannot be computed (a ratio over a
//     zero or negative count, a rate over too short a window) is n/a, held
//     as NaN from where it is derived (Ratio, Def.Derive,
//     AchievedRateRatio) to where it is written. Each derivation that gives
//     n/a also says why, for the report's notes.
//  4. Values is the map of figures the scenarios fill and the report
//     carries. Its JSON form is the one boundary: n/a (and any infinity) is
//     written as null and null is read back as n/a, so no format meets a
//     number it cannot write, and a report is always written.
//  5. A threshold on an n/a figure fails, its actual shown as n/a
//     (threshold.Eval); a comparison leaves the figure out, with a note.
package metric

import (
	"bytes"
	"encoding/json"
	"math"
	"sort"
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
