package harness

import (
	"context"
	"testing"
	"time"

	"github.com/rustci/rustci-perf/pkg/metric"
)

// TestIssuedLeavesOutTheLastOperation: 4 workers run 120 operations at
// 400/s (30 each, 300ms of schedule), all instant but each worker's last,
// which takes 20ms. The time over which they were issued ends with the
// last start, so it leaves out the 20ms that the phase's duration, to the
// last end, counts; the achieved rate is over the former. On schedule (the
// last start, due at 297.5ms, within the 300ms window) the ratio is 1,
// where counted to the last end it was under 0.95: a slow last operation
// taken for a generator that fell behind. The run is bound by count, so a
// stall of this machine delays operations but never drops them.
func TestIssuedLeavesOutTheLastOperation(t *testing.T) {
	const ops, rate, workers = 120, 400.0, 4
	window := time.Duration(ops / rate * float64(time.Second))
	res, err := Run(context.Background(), Config{Workers: workers, Ops: ops, Rate: rate}, func(int) Op {
		return func(i int) (Kind, error) {
			if i == ops/workers-1 {
				time.Sleep(20 * time.Millisecond)
			}
			return 0, nil
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Ops != ops || res.Duration-res.Issued < 20*time.Millisecond {
		t.Fatalf("%d operations, issued over %s, duration %s; want %d, and the last operation's 20ms in the duration only", res.Ops, res.Issued, res.Duration, ops)
	}
	issued, _ := metric.AchievedRateRatio(ops, window, res.Issued, rate)
	ended, _ := metric.AchievedRateRatio(ops, window, res.Duration, rate)
	if !(ended < 0.95) || !(issued > ended) {
		t.Errorf("achieved_rate_ratio %g over the time issued, %g to the last end; want the first higher, the second under 0.95", issued, ended)
	}
	if res.Issued <= window && issued != 1 {
		t.Errorf("issued within the %s window (over %s): achieved_rate_ratio %g; want 1", window, res.Issued, issued)
	}
}
