package harness

import (
	"context"
	"testing"
	"time"

	"github.com/rustci/rustci-perf/pkg/metric"
)

// TestIssuedLeavesOutTheLastOperation: 4 workers at 400/s for 300ms each
// run 30 operations, all instant but each worker's last, which takes 20ms.
// The time over which they were issued ends with the last start (due at
// 297.5ms), while the phase lasts until the last one ends, 20ms later. The
// achieved rate, over the time they were issued, is the target's; counted
// to the last end (as it was), it was under 0.95: a slow last operation
// taken for a generator that fell behind. (0.97, not 0.99: a start may be
// a few milliseconds late on a busy machine.)
func TestIssuedLeavesOutTheLastOperation(t *testing.T) {
	const d, rate, workers = 300 * time.Millisecond, 400.0, 4
	res, err := Run(context.Background(), Config{Workers: workers, Duration: d, Rate: rate}, func(int) Op {
		return func(i int) (Kind, error) {
			if i == int(rate*d.Seconds())/workers-1 {
				time.Sleep(20 * time.Millisecond)
			}
			return 0, nil
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Duration-res.Issued < 20*time.Millisecond {
		t.Errorf("issued over %s, duration %s; want the last operation's 20ms in the duration only", res.Issued, res.Duration)
	}
	n := res.Ops + res.Errors
	if v, why := metric.AchievedRateRatio(n, d, res.Issued, rate); !(v > 0.97) {
		t.Errorf("achieved_rate_ratio %g (%s); want above 0.97: %d of %d scheduled operations, issued over %s", v, why, n, res.Scheduled, res.Issued)
	}
	if v, _ := metric.AchievedRateRatio(n, d, res.Duration, rate); !(v < 0.95) {
		t.Errorf("achieved_rate_ratio to the last end %g; want under 0.95", v)
	}
}
