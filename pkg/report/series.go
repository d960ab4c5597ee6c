package report

// Operation is one kind of operation's figures (reads, writes) in a
// scenario that mixes several, as YCSB reports each operation type: its
// latencies apart from the others', so a read's p99 is not a write's.
type Operation struct {
	Name                string  `json:"name"`
	Ops                 int64   `json:"ops"`
	Errors              int64   `json:"errors"`
	ThroughputOpsPerSec float64 `json:"throughput_ops_per_sec"`
	Latency             Latency `json:"latency_ns"`
	// Histogram is the kind's whole distribution, encoded as
	// Scenario.Histogram.
	Histogram string `json:"histogram,omitempty"`
}

// Interval is one interval of a measured phase: the operations that ended
// in it. A scenario's intervals are its time series, and the blocks that
// estimate how precise its figures are.
type Interval struct {
	// Run is the run it belongs to (0-based), with --count.
	Run int `json:"run,omitempty"`
	// StartNS is its start from the measured phase's; DurationNS its
	// length (the last interval ends with the phase).
	StartNS             int64   `json:"start_ns"`
	DurationNS          int64   `json:"duration_ns"`
	Ops                 int64   `json:"ops"`
	Errors              int64   `json:"errors"`
	ThroughputOpsPerSec float64 `json:"throughput_ops_per_sec"`
	// P50NS, P99NS and MaxNS are of its successful operations (0 when
	// none).
	P50NS int64 `json:"p50_ns"`
	P99NS int64 `json:"p99_ns"`
	MaxNS int64 `json:"max_ns"`
	// Histogram is its distribution, encoded as Scenario.Histogram.
	Histogram string `json:"histogram,omitempty"`
	// Operations are its kinds' figures, in a mixed scenario.
	Operations []IntervalOperation `json:"operations,omitempty"`
}

// IntervalOperation is one kind of operation's share of an Interval.
type IntervalOperation struct {
	Name      string `json:"name"`
	Ops       int64  `json:"ops"`
	Errors    int64  `json:"errors"`
	P50NS     int64  `json:"p50_ns"`
	P99NS     int64  `json:"p99_ns"`
	Histogram string `json:"histogram,omitempty"`
}

// Precision says how precisely a run pins its figures down: the half-width
// of a 95% confidence interval, relative to the figure, from the spread of
// the run's intervals (a block bootstrap for percentiles: latencies close
// in time are correlated, so whole intervals are resampled, not single
// operations). Nil figures could not be estimated (fewer than
// MinIntervals intervals).
type Precision struct {
	// Intervals is the number of blocks the estimate rests on.
	Intervals int `json:"intervals"`
	// ThroughputPct and P99Pct are the half-widths in percent of the
	// figure; per kind of operation too, in a mixed scenario.
	ThroughputPct *float64           `json:"throughput_pct"`
	P99Pct        *float64           `json:"p99_pct"`
	Operations    map[string]float64 `json:"operations_p99_pct,omitempty"`
}

// MinIntervals is the fewest intervals a precision is estimated from.
const MinIntervals = 5

// NotePrecision starts the note of a scenario whose precision could not be
// estimated, which says what to do about it; the formats that print notes
// leave the precision to it rather than say it twice.
const NotePrecision = "precision not estimated"
