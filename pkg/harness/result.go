// What a run measured: its figures, per kind of operation and per interval.

package harness

import (
	"time"

	"github.com/rustci/rustci-perf/pkg/cost"
	"github.com/rustci/rustci-perf/pkg/latency"
)

// Result is what one measured phase did.
type Result struct {
	// Ops is the number of measured operations that succeeded; Errors the
	// number that returned an error. Their latencies are in Latency and
	// ErrorLatency respectively, so an error path that is fast cannot make
	// the successful path look faster.
	Ops, Errors int64
	// FirstError is the first error any worker saw, if any.
	FirstError error
	// WarmupOps is the number of operations run in the warmup phase.
	WarmupOps int64
	// Duration is the measured wall time: from the start of the first
	// measured operation to the end of the last, on the monotonic clock.
	Duration time.Duration
	// Inner is the time from the end of the first operation to the start
	// of the last one (0 if they overlap): whatever an operation does at
	// some instant inside it, the first and last such instants are at
	// least Inner and at most Duration apart.
	Inner time.Duration
	// Issued is the time over which the measured operations were started:
	// from the start of the first to the start of the last. In open loop
	// on schedule it is the schedule's window less about one interval of
	// the rate; a generator that fell behind started its last operations
	// late, and it grows past the window. Unlike Duration, it does not
	// count the last operation's own latency.
	Issued time.Duration
	// Latency holds every successful measured operation's latency, all
	// kinds together.
	Latency *latency.Recorder
	// Kinds, when Config.Kinds named several, holds each kind's figures,
	// in the order named.
	Kinds []KindResult
	// Began is the wall-clock time the measured phase began: Intervals'
	// starts count from it. Zero when the run was interrupted before it.
	Began time.Time
	// Intervals is the measured phase cut into intervals of IntervalLength,
	// in order: the run's time series.
	Intervals      []Interval
	IntervalLength time.Duration
	// LateHandOvers counts the times a worker crossed an interval's end
	// before the collector had taken its previous chunk: that chunk's
	// operations then count in the earlier interval.
	LateHandOvers int
	// ErrorLatency holds the latencies of failed operations.
	ErrorLatency *latency.Recorder
	// Uncorrected, in open loop, holds the successful operations'
	// latencies from when they actually started rather than from when they
	// were due: the view that hides queueing, kept beside the corrected one
	// as wrk2 does. Nil in closed loop, where the two are the same.
	Uncorrected *latency.Recorder
	// Rate is the open-loop target (0 in closed loop); with stages, their
	// average: the operations they schedule over their length.
	Rate float64
	// Scheduled, in open loop, is how many operations the schedule held
	// for the measured phase: due before its deadline, or its count. Ops
	// plus Errors fall short of it when the workers fell behind and the
	// deadline came first (or the run was interrupted). 0 in closed loop.
	Scheduled int64
	// Interrupted is true when the context ended the run early.
	Interrupted bool
	// Cost is what the measured phase cost the process: its CPU time,
	// heap allocations, GC, peak resident set (package cost), read once
	// as the workers are released and once after the last one ended,
	// never in between. It is the whole process's: the workers', the
	// collector's and every other goroutine's. Nil when the run ended
	// before its measured phase began.
	Cost *cost.Usage
}

// KindResult is one kind of operation's share of a Result.
type KindResult struct {
	Name        string
	Ops, Errors int64
	Latency     *latency.Recorder
}

// Interval is one interval of the measured phase: the operations that ended
// in it.
type Interval struct {
	// Start is its start, from the phase's start; Length its length (the
	// last one ends with the phase).
	Start, Length time.Duration
	Ops, Errors   int64
	// Latency holds its successful operations' latencies, all kinds, in
	// compact form (a run may have many intervals).
	Latency *latency.Compact
	// Kinds, when the run has several, are per kind as in Result.Kinds.
	Kinds []KindInterval
}

// KindInterval is one kind of operation's share of an Interval.
type KindInterval struct {
	Name        string
	Ops, Errors int64
	Latency     *latency.Compact
}

// Throughput is successful operations per second of measured wall time.
func (r *Result) Throughput() float64 {
	if r.Duration <= 0 {
		return 0
	}
	return float64(r.Ops) / r.Duration.Seconds()
}
