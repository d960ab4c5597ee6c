package latency_test

import (
	"fmt"
	"time"

	"github.com/rustci/rustci-perf/pkg/latency"
)

// Record latencies of 1µs to 1ms and read the percentiles, which are
// within 0.1% (Digits) of the values recorded.
func Example() {
	r := latency.NewRecorder()
	for i := 1; i <= 1000; i++ {
		r.Record(time.Duration(i) * time.Microsecond)
	}
	for _, p := range []float64{50, 90, 99, 99.9, 100} {
		fmt.Printf("p%-4g %s\n", p, r.Percentile(p).Round(time.Microsecond))
	}
	fmt.Println("count", r.Count(), "max", r.Max().Round(time.Microsecond))
	// Output:
	// p50   500µs
	// p90   900µs
	// p99   990µs
	// p99.9 999µs
	// p100  1ms
	// count 1000 max 1ms
}

// One Recorder per worker, merged once the workers are done: a Recorder
// is not safe for concurrent use, so the hot path takes no lock. A value
// outside [Lowest, Highest] is clamped and counted, not dropped.
func ExampleRecorder_Merge() {
	workers := []*latency.Recorder{latency.NewRecorder(), latency.NewRecorder()}
	for w, r := range workers {
		for i := range 100 {
			r.Record(time.Duration(w*100+i+1) * time.Millisecond)
		}
	}
	workers[1].Record(2 * time.Hour) // past Highest: clamped to an hour

	all := latency.NewRecorder()
	for _, r := range workers {
		all.Merge(r)
	}
	s := all.Summary()
	fmt.Println("count", s.Count, "clamped", s.Clamped)
	fmt.Println("min", s.Min.Round(time.Millisecond), "p50", s.P50.Round(time.Millisecond), "p99", s.P99.Round(time.Millisecond), "max", s.Max.Round(time.Minute))
	// Output:
	// count 201 clamped 1
	// min 1ms p50 101ms p99 199ms max 1h0m0s
}
