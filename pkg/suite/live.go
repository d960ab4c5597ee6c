package suite

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/rustci/rustci-perf/pkg/harness"
	"github.com/rustci/rustci-perf/pkg/report"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// liveBar draws a progress bar for one scenario on w: elapsed of total
// (operations for a count-bound run, time for a time-bound one), operations
// done, the current rate and the p99 so far (of the current run, with
// --count). It returns the harness Tick that feeds it and a function that
// completes and removes it.
func liveBar(w io.Writer, it item) (func(harness.Progress), func()) {
	s := it.settings
	timed := s.Duration > 0 || len(s.Stages) > 0
	total := int64(s.Ops * max(1, s.Count))
	if timed {
		d := s.Duration
		if len(s.Stages) > 0 {
			d = s.Stages.Total()
		}
		total = int64(d/time.Millisecond) * int64(max(1, s.Count))
	}
	// Auto refresh: --progress may force bars onto an output that is not
	// a terminal.
	p := mpb.New(mpb.WithOutput(w), mpb.WithWidth(32), mpb.WithRefreshRate(200*time.Millisecond), mpb.WithAutoRefresh())
	// The ticker writes these and mpb's renderer reads them.
	var mu sync.Mutex
	var ops int64
	var rate float64
	var elapsed, p99 time.Duration
	bar := p.AddBar(max(total, 1),
		mpb.PrependDecorators(decor.Name(it.sc.Name, decor.WCSyncSpaceR)),
		mpb.AppendDecorators(decor.Any(func(decor.Statistics) string {
			mu.Lock()
			defer mu.Unlock()
			s := fmt.Sprintf("%s  %d ops  %s", report.Duration(float64(elapsed)), ops, report.Throughput(rate))
			if p99 > 0 {
				s += "  p99 " + report.Duration(float64(p99))
			}
			return s
		})),
		mpb.BarRemoveOnComplete(),
	)
	var before int64 // operations of earlier runs (--count)
	var last int64
	tick := func(pr harness.Progress) {
		e, n := pr.Elapsed, pr.Ops
		mu.Lock()
		p99 = pr.P99
		if n < last { // a new run began
			before += last
		}
		last = n
		ops, elapsed = before+n, e
		if e > 0 {
			rate = float64(n) / e.Seconds()
		}
		mu.Unlock()
		if timed {
			bar.SetCurrent(min(total, int64(e/time.Millisecond)))
		} else {
			bar.SetCurrent(min(total, ops))
		}
	}
	return tick, func() {
		bar.SetTotal(-1, true)
		p.Wait()
	}
}
