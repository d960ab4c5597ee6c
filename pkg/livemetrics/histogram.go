// Latency distributions as Prometheus histograms: native (sparse,
// exponential buckets) and classic (fixed bounds) in one.

package livemetrics

import (
	"fmt"
	"math"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/rustci/rustci-perf/pkg/latency"
)

// Schema is the native histograms' resolution: each bucket is 2^(2^-4)
// (4.4%) wider than the one below, so a quantile Prometheus interpolates
// is within about 2% of the one the HdrHistogram holds (0.1%), over
// some 16 buckets per doubling of latency.
const Schema = 4

// ClassicBounds are the classic buckets' upper bounds, in seconds: from
// an L1 read's hundreds of nanoseconds to a stalled call's seconds.
var ClassicBounds = []float64{
	100e-9, 250e-9, 500e-9,
	1e-6, 2.5e-6, 5e-6, 10e-6, 25e-6, 50e-6, 100e-6, 250e-6, 500e-6,
	1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 50e-3, 100e-3, 250e-3, 500e-3,
	1, 2.5, 5, 10,
}

// dist is a latency distribution in Prometheus's terms, built from
// HdrHistograms: each of their buckets (0.1% wide) counts wholly in the
// native and the classic bucket its midpoint falls in.
type dist struct {
	count   uint64
	sum     float64       // seconds
	native  map[int]int64 // native bucket index: count
	classic []uint64      // per ClassicBounds, not cumulative; the last: above them
}

func newDist() *dist {
	return &dist{native: map[int]int64{}, classic: make([]uint64, len(ClassicBounds)+1)}
}

// add adds r's values to d.
func (d *dist) add(r *latency.Recorder) {
	if r == nil {
		return
	}
	r.Buckets(func(lo, hi time.Duration, n int64) {
		v := (float64(lo) + float64(hi)) / 2 / float64(time.Second)
		d.count += uint64(n)
		d.sum += v * float64(n)
		d.native[nativeIndex(v)] += n
		i := 0
		for i < len(ClassicBounds) && v > ClassicBounds[i] {
			i++
		}
		d.classic[i] += uint64(n)
	})
}

// nativeIndex is the index of the native bucket holding v > 0: the i
// for which v is in (base^(i-1), base^i], base = 2^(2^-Schema).
func nativeIndex(v float64) int {
	const per = 1 << Schema
	i := int(math.Ceil(math.Log2(v) * per))
	// Correct the logarithm's rounding at a bucket's edge.
	for i > math.MinInt32 && math.Exp2(float64(i-1)/per) >= v {
		i--
	}
	for math.Exp2(float64(i)/per) < v {
		i++
	}
	return i
}

// metric is d as a histogram of desc with both kinds of bucket, created
// at ct.
func (d *dist) metric(desc *prometheus.Desc, ct time.Time, labels ...string) (prometheus.Metric, error) {
	buckets := make(map[float64]uint64, len(ClassicBounds))
	var cum uint64
	for i, b := range ClassicBounds {
		cum += d.classic[i]
		buckets[b] = cum
	}
	classic, err := prometheus.NewConstHistogramWithCreatedTimestamp(desc, d.count, d.sum, buckets, ct, labels...)
	if err != nil {
		return nil, err
	}
	native, err := prometheus.NewConstNativeHistogram(desc, d.count, d.sum, d.native, nil, 0, Schema, prometheus.DefNativeHistogramZeroThreshold, ct, labels...)
	if err != nil {
		return nil, err
	}
	return both{classic: classic, native: native}, nil
}

// both is a histogram with classic buckets and native ones, as
// client_golang's own histograms are when given both: a Prometheus that
// scrapes native histograms reads the native buckets (and, with
// always_scrape_classic_histograms, the classic ones too), an older one
// or the text format the classic ones.
type both struct{ classic, native prometheus.Metric }

func (b both) Desc() *prometheus.Desc { return b.classic.Desc() }

func (b both) Write(m *dto.Metric) error {
	if err := b.classic.Write(m); err != nil {
		return err
	}
	var n dto.Metric
	if err := b.native.Write(&n); err != nil {
		return err
	}
	h, nh := m.GetHistogram(), n.GetHistogram()
	if h == nil || nh == nil {
		return fmt.Errorf("histogram %s: no histogram written", b.classic.Desc())
	}
	h.Schema, h.ZeroThreshold, h.ZeroCount = nh.Schema, nh.ZeroThreshold, nh.ZeroCount
	h.PositiveSpan, h.PositiveDelta = nh.PositiveSpan, nh.PositiveDelta
	return nil
}
