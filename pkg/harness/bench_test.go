package harness

import (
	"context"
	"testing"
)

// BenchmarkLoop measures what the harness adds to every operation: a no-op
// driven by one worker, latency recorded. Its ns/op is the floor under any
// latency the harness reports.
func BenchmarkLoop(b *testing.B) {
	b.ReportAllocs()
	res, err := Run(context.Background(), Config{Workers: 1, Ops: b.N}, func(int) Op {
		return func(int) error { return nil }
	})
	if err != nil {
		b.Fatal(err)
	}
	if res.Ops != int64(b.N) {
		b.Fatalf("ran %d ops; want %d", res.Ops, b.N)
	}
	b.ReportMetric(float64(res.Latency.Percentile(50)), "p50-ns")
}
