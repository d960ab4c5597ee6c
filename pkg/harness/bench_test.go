package harness

import (
	"context"
	"runtime"
	"testing"
)

// BenchmarkLoop measures what the harness adds to every operation: a no-op
// driven by one worker, latency recorded. Its ns/op is the floor under any
// latency the harness reports.
func BenchmarkLoop(b *testing.B) {
	b.ReportAllocs()
	res, err := Run(context.Background(), Config{Workers: 1, Ops: b.N}, func(int) Op {
		return func(int) (Kind, error) { return 0, nil }
	})
	if err != nil {
		b.Fatal(err)
	}
	if res.Ops != int64(b.N) {
		b.Fatalf("ran %d ops; want %d", res.Ops, b.N)
	}
	b.ReportMetric(float64(res.Latency.Percentile(50)), "p50-ns")
}

// BenchmarkOpenLoop runs no-op operations open-loop at 1M/s across the
// machine's CPUs (b.N million operations) and reports the rate achieved and
// its ratio to the target: the highest rate the scheduler holds is where
// the ratio stays at 1. Run with -benchtime 1x for one second's schedule.
func BenchmarkOpenLoop(b *testing.B) {
	const rate = 1e6
	res, err := Run(context.Background(), Config{Workers: runtime.GOMAXPROCS(0), Ops: b.N * 1_000_000, Rate: rate}, func(int) Op {
		return func(int) (Kind, error) { return 0, nil }
	})
	if err != nil {
		b.Fatal(err)
	}
	achieved := float64(res.Ops) / res.Duration.Seconds()
	b.ReportMetric(achieved, "ops/s")
	b.ReportMetric(achieved/rate, "achieved/target")
	b.ReportMetric(float64(res.Latency.Percentile(99)), "p99-ns")
}
