// The catalogue: every figure a scenario reports, defined once.

package metric

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
)

// Directions a figure improves in. Zero is for a signed error whose best
// value is 0 (admission_error): a change away from 0, either way, is worse.
const (
	Higher = "higher"
	Lower  = "lower"
	Zero   = "zero"
)

// Units a figure is in; a count or a ratio has none ("").
const (
	// NS is a duration in nanoseconds: a threshold's limit on one takes a
	// unit (p99<2ms).
	NS        = "ns"
	OpsPerSec = "ops/s"
	Bytes     = "bytes"
)

// Source is where a figure comes from, and so where a report holds it.
type Source int

const (
	// Measured figures are the harness's: operations, their latencies
	// and their rate, held in the report's own fields.
	Measured Source = iota + 1
	// Counted figures are a scenario's counts over the measured phase,
	// held in counters.
	Counted
	// Derived figures are computed from counts or measurements, held in
	// metrics.
	Derived
)

// Def defines one figure.
type Def struct {
	Name   string
	Source Source
	// Unit is NS, OpsPerSec, Bytes, or "" for counts and ratios.
	Unit string
	// Better is Higher, Lower, or "" when neither is (a change is not
	// judged: how many reads a mix made, how many keys a tier evicted).
	Better string
	// Every is true for the figures every scenario reports; PerKind for
	// those each kind of operation of a scenario that mixes several has
	// as well (read.p99).
	Every, PerKind bool
	// Windowed is true for the figures a threshold can judge per window
	// of the measured phase's time series (p99[1s]<10ms): those the
	// intervals' histograms and counts give back for any run of whole
	// intervals. The others (stdev, duration, what a scenario counts or
	// derives) are the whole phase's only.
	Windowed bool
	// Tier is the cache tier whose counter this is (l1 for l1_hits), for
	// the counters every tier has (TierCounters).
	Tier string
	// Num and Den name the counters whose sums the figure is the ratio of,
	// or ops and errors, the measured phase's operations, which Counts
	// puts beside the counters (a figure per operation run). Den is empty
	// when counters cannot give the figure back.
	Num, Den []string
	// Share is true when Num counts a part of what Den counts (hits of
	// reads): the figure is a fraction in [0, 1], and Derive gives n/a
	// rather than a share outside it.
	Share bool
	// Signed is true for a figure that can be negative: a difference
	// (growth over the measured phase), or a ratio or an error of
	// differences. Every other figure is a count, a rate, a latency or a
	// share, never negative.
	Signed bool
	// Cost is true for what the measured phase cost the process (package
	// cost): its CPU time, heap allocations, GC, resident set. These are
	// the whole process's, every goroutine's, the harness's own included.
	Cost bool
	// ByTarget is true when the figure of runs made at the same time on
	// several machines is their figures weighted by their target rates
	// (MergeRateRatios), not derived from counters.
	ByTarget bool
	// Doc says in a line what it is.
	Doc string
}

// Derivable reports whether counters give d back.
func (d Def) Derivable() bool { return len(d.Den) > 0 }

// perOp is the denominator of a figure per operation run: the measured
// phase's operations, those that failed as well as those that succeeded.
var perOp = []string{ops.Name, errs.Name}

// Counts returns counters with the measured phase's operations beside
// them, as ops and errors: what Derive reads, so that a figure per
// operation (cpu_per_op) divides by the operations run. counters is not
// changed.
func Counts(counters map[string]int64, ops, errors int64) map[string]int64 {
	c := maps.Clone(counters)
	if c == nil {
		c = map[string]int64{}
	}
	c[perOp[0]], c[perOp[1]] = ops, errors
	return c
}

// Remergeable reports whether merge gives d for reports of several
// machines: derived from their summed counters, or weighted by their
// targets. Merge leaves out every other derived figure (admission_error,
// peak_rss_bytes), as sums cannot give it back.
func (d Def) Remergeable() bool { return d.Derivable() || d.ByTarget }

// The figures the harness measures in every scenario, and each kind of
// operation's.
var (
	ops        = Def{Name: "ops", Source: Measured, Every: true, PerKind: true, Windowed: true, Doc: "operations that succeeded in the measured phase"}
	errs       = Def{Name: "errors", Source: Measured, Better: Lower, Every: true, PerKind: true, Windowed: true, Doc: "operations that failed"}
	throughput = Def{Name: "throughput", Source: Measured, Unit: OpsPerSec, Better: Higher, Every: true, PerKind: true, Windowed: true,
		Doc: "operations that succeeded per second of the measured phase"}
	duration = Def{Name: "duration", Source: Measured, Unit: NS, Every: true, Doc: "the measured phase's wall time, first start to last end"}
	minimum  = latencyFigure("min", true, "the fastest successful operation's latency")
	mean     = latencyFigure("mean", true, "the mean latency of successful operations")
	stdev    = latencyFigure("stdev", false, "the standard deviation of their latencies")
	maximum  = latencyFigure("max", true, "the slowest successful operation's latency")
	// Percentile is every percentile of latency: Lookup gives it under
	// the name asked for (p99, p99.9, read.p99).
	Percentile = latencyFigure("pN", true, "a percentile of latency: p50, p99, p999 (99.9), p(99.95)")
)

func latencyFigure(name string, windowed bool, doc string) Def {
	return Def{Name: name, Source: Measured, Unit: NS, Better: Lower, Every: true, PerKind: true, Windowed: windowed, Doc: doc}
}

// The derived figures.
var (
	HitRate = Def{Name: "hit_rate", Source: Derived, Better: Higher, Num: []string{"hits"}, Den: []string{"hits", "misses"}, Share: true,
		Doc: "hits in any tier over measured reads that succeeded"}
	L1HitRate = Def{Name: "l1_hit_rate", Source: Derived, Better: Higher, Num: []string{"l1_hits"}, Den: []string{"hits", "misses"}, Share: true,
		Doc: "the share of measured reads L1 answered"}
	FallbackRate = Def{Name: "fallback_rate", Source: Derived, Better: Lower, Num: []string{"fallback"}, Den: []string{"allowed", "denied"}, Share: true,
		Doc: "decisions made by the failure mode over all decisions"}
	HeapBytesPerItem = Def{Name: "heap_bytes_per_item", Source: Derived, Unit: Bytes, Better: Lower, Num: []string{"heap_bytes"}, Den: []string{"items_stored"}, Signed: true,
		Doc: "live heap growth after GC over the items the cache added"}
	AdmissionError = Def{Name: "admission_error", Source: Derived, Better: Zero, Signed: true,
		Doc: "admissions above GCRA's most (positive) or below its fewest (negative)"}
	AchievedRate = Def{Name: "achieved_rate_ratio", Source: Derived, Better: Higher, Every: true, ByTarget: true,
		Doc: "open loop: operations over the scheduled window, over the target rate"}
	// MaxRate and FirstFailingRate are a capacity search's answer and its
	// uncertainty (package capacity): the scenario's capacity lies
	// between the two.
	MaxRate = Def{Name: "max_rate", Source: Derived, Unit: OpsPerSec, Better: Higher, Every: true,
		Doc: "--find-max-rate: the highest open-loop rate at which every --slo held, achieved within 1%"}
	FirstFailingRate = Def{Name: "first_failing_rate", Source: Derived, Unit: OpsPerSec, Every: true,
		Doc: "--find-max-rate: the lowest target that failed; the capacity lies between max_rate and it"}
)

// What the measured phase cost the process, in every scenario (package
// cost): the whole process's, every goroutine's (the harness's collector,
// the component's background work), read at the phase's two ends. The
// totals are counters, which sum over runs and machines; the figures per
// operation are derived from them again by merge; the levels at the
// phase's end (peak RSS, live heap, goroutines) are the median of the
// runs' with --count, and left out by merge.
var (
	CPUUser = costCounter("cpu_user", NS,
		"CPU time the process spent in user mode over the measured phase (getrusage, every thread)")
	CPUSystem = costCounter("cpu_system", NS,
		"CPU time the kernel spent on the process's behalf over the measured phase")
	AllocBytes = costCounter("alloc_bytes", Bytes, "bytes the process allocated on the heap over the measured phase")
	Allocs     = costCounter("allocs", "", "heap objects the process allocated over the measured phase")
	GCCycles   = costCounter("gc_cycles", "", "garbage collections the process completed over the measured phase")
	// GCPause is not judged by compare: GC pacing moves it from one run
	// to the next, by whole pauses (none, then one), so a change says
	// little; a threshold bounds it.
	GCPause = costCounter("gc_pause_total", NS,
		"GC stop-the-world pauses over the measured phase, summed (from runtime/metrics: within 12.5%)")
	CPUPerOp = Def{Name: "cpu_per_op", Source: Derived, Unit: NS, Better: Lower, Every: true, Cost: true,
		Num: []string{CPUUser.Name, CPUSystem.Name}, Den: perOp,
		Doc: "the process's CPU time (user + system) over the measured phase, per operation run"}
	AllocBytesPerOp = Def{Name: "alloc_bytes_per_op", Source: Derived, Unit: Bytes, Better: Lower, Every: true, Cost: true,
		Num: []string{AllocBytes.Name}, Den: perOp,
		Doc: "bytes the process allocated on the heap over the measured phase, per operation run"}
	AllocsPerOp = Def{Name: "allocs_per_op", Source: Derived, Better: Lower, Every: true, Cost: true,
		Num: []string{Allocs.Name}, Den: perOp,
		Doc: "heap objects the process allocated over the measured phase, per operation run"}
	PeakRSS = Def{Name: "peak_rss_bytes", Source: Derived, Unit: Bytes, Better: Lower, Every: true, Cost: true,
		Doc: "the process's resident set's peak over the measured phase (or since it started: a note says)"}
	HeapLive = Def{Name: "heap_live_bytes", Source: Derived, Unit: Bytes, Better: Lower, Every: true, Cost: true,
		Doc: "the heap the last GC before the measured phase's end found live"}
	Goroutines = Def{Name: "goroutines", Source: Derived, Every: true, Cost: true,
		Doc: "live goroutines, the more of the measured phase's start (workers made) and end"}
)

// costCounter defines a counter of what the measured phase cost.
// The totals are not judged by compare (Better ""): its figures per
// operation are.
func costCounter(name, unit, doc string) Def {
	return Def{Name: name, Source: Counted, Unit: unit, Every: true, Cost: true, Doc: doc}
}

// CostFigures are the figures of what the measured phase cost, in the
// catalogue's order.
func CostFigures() []Def {
	var out []Def
	for _, d := range all {
		if d.Cost {
			out = append(out, d)
		}
	}
	return out
}

// counter defines a scenario's counter.
func counter(name, better, doc string) Def {
	return Def{Name: name, Source: Counted, Better: better, Doc: doc}
}

// defined is the catalogue, in the order list shows it; tierCounters are
// named per tier after it.
var defined = []Def{
	ops, errs, throughput, duration, minimum, mean, stdev, maximum, AchievedRate, MaxRate, FirstFailingRate,
	// What the measured phase cost.
	CPUUser, CPUSystem, CPUPerOp, AllocBytes, Allocs, AllocBytesPerOp, AllocsPerOp,
	GCCycles, GCPause, PeakRSS, HeapLive, Goroutines,
	// The cache.
	counter("hits", "", "measured reads that found their key, in any tier"),
	counter("misses", "", "measured reads that found no value, in any tier"),
	HitRate, L1HitRate,
	counter("reads", "", "reads of the mix, failed ones too"),
	counter("writes", "", "writes of the mix, failed ones too"),
	counter("integrity_violations", Lower, "reads that returned a value other than the one written"),
	{Name: "items_stored", Source: Counted, Signed: true, Doc: "items L1 holds that it did not before: keys added less evictions"},
	{Name: "heap_bytes", Source: Counted, Unit: Bytes, Signed: true, Doc: "live heap growth after GC over the measured phase"},
	HeapBytesPerItem,
	// The limiter.
	counter("allowed", "", "checks allowed"),
	counter("denied", "", "checks denied"),
	counter("fallback", "", "decisions made by the failure mode (on_failure)"),
	FallbackRate,
	counter("redis_ok", "", "decisions Redis made"),
	counter("redis_errors", Lower, "calls to Redis that failed"),
	counter("timeouts", Lower, "calls to Redis that timed out"),
	counter("switches", "", "times the breaker sent checks to the failure mode"),
	counter("admission_expected_min", "", "the fewest admissions GCRA allows in the measured window"),
	counter("admission_expected_max", "", "the most admissions GCRA allows in the measured window"),
	AdmissionError,
}

// Tiers are the cache tiers whose counters are figures, each named after
// its tier (l1_hits).
var Tiers = []string{"l1", "l2", "l3"}

// tierCounters are the counters of each tier in a cache scenario's stack,
// measured phase only.
var tierCounters = []Def{
	counter("hits", "", "reads the tier answered"),
	counter("misses", "", "reads the tier did not hold the key for"),
	counter("sets", "", "writes the tier accepted"),
	counter("added", "", "writes that stored a key the tier did not hold"),
	counter("sets_dropped", Lower, "writes L1's full set buffer dropped"),
	counter("sets_rejected", Lower, "writes L1's admission policy turned away"),
	counter("evictions", "", "items the tier evicted to make room"),
	counter("errors", Lower, "calls to the tier that failed"),
	counter("skipped", Lower, "calls not made while the tier's breaker was open"),
	counter("promotions", "", "items copied into the tier from a lower one"),
	counter("breaker_opens", Lower, "times the tier's breaker opened: after failures in a row, or a failed probe"),
	counter("breaker_closes", "", "times the tier's breaker closed again: a probe succeeded, the tier served once more"),
	counter("degraded", Lower, "1 when the tier's breaker was open at the end of the run"),
}

// TierCounters returns the counters every cache tier has, named without
// their tier ("hits" for l1_hits, l2_hits, l3_hits).
func TierCounters() []Def { return slices.Clone(tierCounters) }

// all is every figure with a name of its own: the catalogue, then each
// tier's counters.
var all = func() []Def {
	out := slices.Clone(defined)
	for _, t := range Tiers {
		for _, d := range tierCounters {
			d.Name, d.Tier = t+"_"+d.Name, t
			out = append(out, d)
		}
	}
	return out
}()

// All returns every figure with a name of its own, in the catalogue's
// order, each tier's counters last (l1_hits, ..., l3_degraded).
// Percentiles, and each kind of operation's figures, are not listed:
// Lookup resolves their names.
func All() []Def { return slices.Clone(all) }

// Names returns the names of the figures of All that keep keeps, in order.
func Names(keep func(Def) bool) []string {
	var out []string
	for _, d := range all {
		if keep(d) {
			out = append(out, d.Name)
		}
	}
	return out
}

// Lookup returns the figure named: one of All, a percentile (p99, p99.9,
// p999, p(99.95): Percentile, so named), or a kind of operation's figure
// (read.p99, write.ops: that of its name after the kind, so named).
func Lookup(name string) (Def, bool) {
	if d, ok := plain(name); ok {
		return d, true
	}
	kind, base, ok := strings.Cut(name, ".")
	if !ok || !isKind(kind) {
		return Def{}, false
	}
	d, ok := plain(base)
	if !ok || !d.PerKind {
		return Def{}, false
	}
	d.Name = name
	return d, true
}

// plain returns the figure named, a percentile included, without a kind.
func plain(name string) (Def, bool) {
	for _, d := range all {
		if d.Name == name {
			return d, true
		}
	}
	if isPercentile(name) {
		d := Percentile
		d.Name = name
		return d, true
	}
	return Def{}, false
}

// isPercentile reports whether name is a percentile as thresholds and
// reports name them: p, then a number of digits with at most one point,
// bare or in parentheses (p50, p99.9, p999, p(99.95)).
func isPercentile(name string) bool {
	n, ok := strings.CutPrefix(name, "p")
	if inner, paren := strings.CutPrefix(n, "("); paren {
		n, ok = strings.CutSuffix(inner, ")")
	}
	if !ok || n == "" || n == "." || strings.Count(n, ".") > 1 {
		return false
	}
	return strings.Trim(n, "0123456789.") == ""
}

// isKind reports whether s can name a kind of operation: a lower-case
// word (read, write).
func isKind(s string) bool {
	return s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyz_") == ""
}

// Signed reports whether the figure named can be negative (a difference:
// heap_bytes, items_stored, heap_bytes_per_item, admission_error); every
// other figure, every counter among them, is never negative.
func Signed(name string) bool {
	d, ok := Lookup(name)
	return ok && d.Signed
}

// Bounds returns the range the figure named can take: [0, 1] for a share,
// the whole line for a figure that may be negative, and [0, +Inf) for
// everything else (counts, rates, latencies, percentiles, and names not in
// the catalogue).
func Bounds(name string) (lo, hi float64) {
	d, _ := Lookup(name)
	switch {
	case d.Share:
		return 0, 1
	case d.Signed:
		return math.Inf(-1), math.Inf(1)
	}
	return 0, math.Inf(1)
}

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
