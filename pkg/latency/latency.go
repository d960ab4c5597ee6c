// Package latency records operation latencies in HdrHistograms with nanosecond
// resolution and summarises them: one Recorder per worker, merged after the run.
//
// A Recorder is not safe for concurrent use; that is the point: each worker owns
// one, records without locks or allocation, and the runner merges them once the
// workers are done. Values outside the trackable range are clamped to it and
// counted, so the report can say how many were, instead of dropping them.
package latency

import (
	"fmt"
	"io"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

const (
	// Lowest is the smallest value tracked: 1ns.
	Lowest = int64(1)
	// Highest is the largest value tracked: one hour, in nanoseconds.
	Highest = int64(time.Hour)
	// Digits is the number of significant decimal digits kept: a recorded
	// value is off by at most 0.1% of itself.
	Digits = 3
)

// Recorder accumulates latencies of one worker.
type Recorder struct {
	h       *hdrhistogram.Histogram
	clamped int64
}

// NewRecorder returns an empty Recorder covering [Lowest, Highest] at Digits.
func NewRecorder() *Recorder {
	return &Recorder{h: hdrhistogram.New(Lowest, Highest, Digits)}
}

// Record adds one latency. Values below Lowest or above Highest are clamped to
// the range and counted in Clamped.
func (r *Recorder) Record(d time.Duration) {
	v := int64(d)
	switch {
	case v < Lowest:
		v = Lowest
		r.clamped++
	case v > Highest:
		v = Highest
		r.clamped++
	}
	// Cannot fail: v is inside the histogram's range.
	_ = r.h.RecordValue(v)
}

// Merge adds every value of o into r. o is left unchanged.
func (r *Recorder) Merge(o *Recorder) {
	// Both share one geometry, so nothing can be dropped.
	r.h.Merge(o.h)
	r.clamped += o.clamped
}

// Reset empties r, keeping its memory.
func (r *Recorder) Reset() {
	r.h.Reset()
	r.clamped = 0
}

// Max is the largest value recorded (within the histogram's precision), 0
// when none was.
func (r *Recorder) Max() time.Duration { return time.Duration(r.h.Max()) }

// Count is the number of values recorded.
func (r *Recorder) Count() int64 { return r.h.TotalCount() }

// Clamped is the number of values that were outside the range and clamped.
func (r *Recorder) Clamped() int64 { return r.clamped }

// Percentile returns the value at percentile p in [0, 100] (99.9 for
// p99.9). hdrhistogram-go's ValueAtQuantile takes the same scale despite its
// name; this is the one place that calls it. An empty recorder returns 0.
func (r *Recorder) Percentile(p float64) time.Duration {
	return time.Duration(r.h.ValueAtQuantile(p))
}

// Steps returns the distribution as steps of the empirical CDF: for each
// bucket holding values, in increasing order, the bucket's highest
// equivalent value (what Percentile reports for a rank in it) and the count
// of values up to and including it. Resampling and plotting read these
// instead of the histogram.
func (r *Recorder) Steps() (values, cumulative []int64) {
	var n int64
	for _, b := range r.h.Distribution() {
		if b.Count == 0 {
			continue
		}
		n += b.Count
		values = append(values, b.To)
		cumulative = append(cumulative, n)
	}
	return values, cumulative
}

// Buckets calls f, in increasing order, for each bucket holding values:
// the lowest and highest values it stands for, and how many it holds. It
// allocates as much as Steps does, so it is for readers off the hot path
// and off the collector's goroutine (a metrics scrape).
func (r *Recorder) Buckets(f func(lo, hi time.Duration, n int64)) {
	if r.h.TotalCount() == 0 {
		return
	}
	for _, b := range r.h.Distribution() {
		if b.Count != 0 {
			f(time.Duration(b.From), time.Duration(b.To), b.Count)
		}
	}
}

// Summary returns the standard figures of the distribution.
func (r *Recorder) Summary() Summary {
	if r.h.TotalCount() == 0 {
		return Summary{}
	}
	return Summary{
		Count:   r.h.TotalCount(),
		Clamped: r.clamped,
		Min:     time.Duration(r.h.Min()),
		Mean:    r.h.Mean(),
		Stdev:   r.h.StdDev(),
		P50:     r.Percentile(50),
		P90:     r.Percentile(90),
		P95:     r.Percentile(95),
		P99:     r.Percentile(99),
		P999:    r.Percentile(99.9),
		Max:     time.Duration(r.h.Max()),
	}
}

// Summary is a distribution's standard figures. Mean and Stdev are in
// nanoseconds as floats so that sub-nanosecond means are not rounded away.
type Summary struct {
	Count   int64
	Clamped int64
	Min     time.Duration
	Mean    float64
	Stdev   float64
	P50     time.Duration
	P90     time.Duration
	P95     time.Duration
	P99     time.Duration
	P999    time.Duration
	Max     time.Duration
}

// Encode returns the recorder's histogram in HdrHistogram's standard
// interchange form: the V2 compressed encoding, base64, values in ns. Any
// HdrHistogram implementation can decode it and recompute any percentile
// exactly. The clamped count is not part of the form.
func (r *Recorder) Encode() (string, error) {
	b, err := r.h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		return "", fmt.Errorf("encode histogram: %w", err)
	}
	return string(b), nil
}

// Decode reads a histogram written by Encode (or by another HdrHistogram
// implementation in the same form, values in ns). One of another range or
// precision is recorded again into a Recorder's own, so that merging it
// stays exact; a value outside [Lowest, Highest], which Record would have
// clamped, is an error.
func Decode(s string) (*Recorder, error) {
	h, err := hdrhistogram.Decode([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("decode histogram: %w", err)
	}
	if h.LowestTrackableValue() == Lowest && h.HighestTrackableValue() == Highest && h.SignificantFigures() == Digits {
		return &Recorder{h: h}, nil
	}
	r := NewRecorder()
	if dropped := r.h.Merge(h); dropped > 0 {
		return nil, fmt.Errorf("decode histogram: %d values outside %dns..%dns, which recording clamps to", dropped, Lowest, Highest)
	}
	return r, nil
}

// WriteHgrm writes the percentile distribution in the .hgrm text format of
// HdrHistogram's outputPercentileDistribution (5 ticks per half distance),
// values in microseconds, which HdrHistogram's plotter reads.
func (r *Recorder) WriteHgrm(w io.Writer) error {
	if _, err := r.h.PercentilesPrint(w, 5, 1000); err != nil {
		return fmt.Errorf("write hgrm: %w", err)
	}
	return nil
}

// Compact is a Recorder's distribution held in little memory: only the
// buckets that hold values. A run keeps one per interval; a Recorder is
// rebuilt from it when its figures are needed.
type Compact struct {
	idx     []int32
	counts  []int64
	clamped int64
}

// Compact returns r's distribution in compact form.
func (r *Recorder) Compact() *Compact {
	s := r.h.Export()
	c := &Compact{clamped: r.clamped}
	for i, n := range s.Counts {
		if n != 0 {
			c.idx = append(c.idx, int32(i))
			c.counts = append(c.counts, n)
		}
	}
	return c
}

// Count is the number of values c holds.
func (c *Compact) Count() int64 {
	var n int64
	for _, v := range c.counts {
		n += v
	}
	return n
}

// Recorder rebuilds the Recorder c was made from.
func (c *Compact) Recorder() *Recorder {
	s := *geometry
	s.Counts = make([]int64, len(geometry.Counts))
	for i, at := range c.idx {
		s.Counts[at] = c.counts[i]
	}
	return &Recorder{h: hdrhistogram.Import(&s), clamped: c.clamped}
}

// geometry is an empty Recorder's snapshot: the shape Compact rebuilds.
var geometry = NewRecorder().h.Export()

// MergeCompacts returns the distribution of every value cs hold (nil ones
// hold none), in compact form: the union a Recorder merging their
// Recorders would hold, without building one (a Recorder's counts take
// some 270 KB; a compact form, the buckets that hold values).
func MergeCompacts(cs ...*Compact) *Compact {
	out := &Compact{}
	for _, c := range cs {
		if c == nil {
			continue
		}
		out.clamped += c.clamped
		idx := make([]int32, 0, len(out.idx)+len(c.idx))
		counts := make([]int64, 0, cap(idx))
		i, j := 0, 0
		for i < len(out.idx) || j < len(c.idx) {
			switch {
			case j == len(c.idx) || (i < len(out.idx) && out.idx[i] < c.idx[j]):
				idx, counts = append(idx, out.idx[i]), append(counts, out.counts[i])
				i++
			case i == len(out.idx) || c.idx[j] < out.idx[i]:
				idx, counts = append(idx, c.idx[j]), append(counts, c.counts[j])
				j++
			default: // the same bucket
				idx, counts = append(idx, c.idx[j]), append(counts, out.counts[i]+c.counts[j])
				i++
				j++
			}
		}
		out.idx, out.counts = idx, counts
	}
	return out
}

// Log writes Recorders as an HdrHistogram interval log: the .hlog format of
// HdrHistogram's HistogramLogWriter, which HistogramLogAnalyzer and
// hdrhistogram-go's HistogramLogReader read. Times are in milliseconds, as
// the format has them, from its start; values are in nanoseconds, and
// each line's max column in milliseconds, as the format's convention is.
type Log struct {
	lw *hdrhistogram.HistogramLogWriter
}

// NewLog writes a log's header to w: the format's version, comment (a
// line of its own, no line break in it), its start (StartTime and
// BaseTime: each interval's time is from it) and the legend. The header
// holds whole seconds, and a reader adds each interval's time to the
// BaseTime it reads: start is taken down to its second, so that every
// interval is read back at its own time.
func NewLog(w io.Writer, start time.Time, comment string) (*Log, error) {
	lw := hdrhistogram.NewHistogramLogWriter(w)
	ms := start.Truncate(time.Second).UnixMilli()
	lw.SetBaseTime(ms)
	for _, write := range []func() error{
		lw.OutputLogFormatVersion,
		func() error { return lw.OutputComment(comment) },
		func() error { return lw.OutputStartTime(ms) },
		func() error { return lw.OutputBaseTime(ms) },
		lw.OutputLegend,
	} {
		if err := write(); err != nil {
			return nil, fmt.Errorf("write hlog: %w", err)
		}
	}
	return &Log{lw: lw}, nil
}

// Write adds one interval, from to to, holding r's values, under tag
// (no comma, space or line break in it).
func (l *Log) Write(tag string, r *Recorder, from, to time.Time) error {
	h := hdrhistogram.Import(r.h.Export()) // the tag and times are the copy's
	h.SetTag(tag)
	h.SetStartTimeMs(from.UnixMilli())
	h.SetEndTimeMs(to.UnixMilli())
	if err := l.lw.OutputIntervalHistogram(h); err != nil {
		return fmt.Errorf("write hlog: %w", err)
	}
	return nil
}
