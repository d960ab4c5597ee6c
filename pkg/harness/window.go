// Windows: a measured phase's intervals grouped into longer, whole spans.

package harness

import (
	"fmt"
	"time"

	"github.com/rustci/rustci-perf/pkg/latency"
)

// Windows cuts a measured phase's intervals (Result.Intervals, each every
// long but the last, which ends with the phase) into consecutive windows
// of length, from the phase's start: window j is intervals j×k to
// (j+1)×k-1 merged, k = length/every, its histograms merged exactly (a
// window's p99 is that of its operations, not an average of its
// intervals'), its operations and errors summed, each kind's too. Only
// whole windows are returned: the intervals after the last one (fewer
// than k, or k of which the last is short) are rest, merged the same way,
// with their length (zero when there are none), so that a caller can say
// what it left out.
//
// length must be a whole number of intervals; an error says so otherwise.
func Windows(ivs []Interval, every, length time.Duration) (whole []Interval, rest Interval, err error) {
	if every <= 0 || length <= 0 || length%every != 0 {
		return nil, Interval{}, fmt.Errorf("a window of %s is not a whole number of intervals of %s", length, every)
	}
	k := int(length / every)
	i := 0
	for ; i+k <= len(ivs) && full(ivs[i:i+k], every); i += k {
		w := mergeIntervals(ivs[i : i+k])
		w.Length = length
		whole = append(whole, w)
	}
	if i < len(ivs) {
		rest = mergeIntervals(ivs[i:])
	}
	return whole, rest, nil
}

// full reports whether every one of ivs is every long, within 1%: a
// timed phase ends when its last operation does, a few µs short of its
// deadline, and its last interval is then whole all the same (its
// figures are over its own length).
func full(ivs []Interval, every time.Duration) bool {
	for _, iv := range ivs {
		if iv.Length < every-every/100 {
			return false
		}
	}
	return true
}

// mergeIntervals returns ivs, consecutive, as one interval: from the
// first's start, as long as they are together.
func mergeIntervals(ivs []Interval) Interval {
	out := Interval{Start: ivs[0].Start}
	lats := make([]*latency.Compact, 0, len(ivs))
	var kinds []KindInterval
	at := map[string]int{}
	kindLats := map[string][]*latency.Compact{}
	for _, iv := range ivs {
		out.Length += iv.Length
		out.Ops += iv.Ops
		out.Errors += iv.Errors
		lats = append(lats, iv.Latency)
		for _, k := range iv.Kinds {
			j, ok := at[k.Name]
			if !ok {
				j = len(kinds)
				at[k.Name] = j
				kinds = append(kinds, KindInterval{Name: k.Name})
			}
			kinds[j].Ops += k.Ops
			kinds[j].Errors += k.Errors
			kindLats[k.Name] = append(kindLats[k.Name], k.Latency)
		}
	}
	out.Latency = latency.MergeCompacts(lats...)
	for j := range kinds {
		kinds[j].Latency = latency.MergeCompacts(kindLats[kinds[j].Name]...)
	}
	out.Kinds = kinds
	return out
}
