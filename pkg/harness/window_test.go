package harness

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rustci/rustci-perf/pkg/latency"
)

// synthetic returns n intervals of every, the i-th holding i+1 operations
// of (i+1)ms each and i errors, split into reads (all but one) and a write
// of 1s; the last is last long (every, for none short).
func synthetic(n int, every, last time.Duration) []Interval {
	var ivs []Interval
	for i := range n {
		all, read, write := latency.NewRecorder(), latency.NewRecorder(), latency.NewRecorder()
		for range i {
			d := time.Duration(i+1) * time.Millisecond
			all.Record(d)
			read.Record(d)
		}
		all.Record(time.Second)
		write.Record(time.Second)
		iv := Interval{Start: time.Duration(i) * every, Length: every, Ops: int64(i + 1), Errors: int64(i), Latency: all.Compact(),
			Kinds: []KindInterval{{Name: "read", Ops: int64(i), Errors: int64(i), Latency: read.Compact()}, {Name: "write", Ops: 1, Latency: write.Compact()}}}
		if i == n-1 {
			iv.Length = last
		}
		ivs = append(ivs, iv)
	}
	return ivs
}

func TestWindows(t *testing.T) {
	const every = 100 * time.Millisecond
	tests := []struct {
		name   string
		n      int
		last   time.Duration
		length time.Duration
		// ops of each whole window, and what is left over
		ops      []int64
		restOps  int64
		restLen  time.Duration
		restFrom time.Duration
	}{
		// 20 full intervals and a sliver of one more, as a 2s run ends:
		// two whole windows of 1s, the sliver left out
		{"2s run, 1s windows", 21, 3 * time.Millisecond, time.Second, []int64{55, 155}, 21, 3 * time.Millisecond, 2 * time.Second},
		// windows of one interval: every full one, the short last left out
		{"windows of one interval", 4, 50 * time.Millisecond, every, []int64{1, 2, 3}, 4, 50 * time.Millisecond, 300 * time.Millisecond},
		// 300ms windows of 7 full intervals: two whole, one interval left
		{"300ms windows", 7, every, 300 * time.Millisecond, []int64{6, 15}, 7, every, 600 * time.Millisecond},
		// k intervals, the last short: no whole window at all
		{"shorter than a window", 10, 98 * time.Millisecond, time.Second, nil, 55, 998 * time.Millisecond, 0},
		// a timed phase ends with its last operation, µs short of its
		// deadline: its last interval is whole all the same
		{"ends µs short", 10, every - 7*time.Microsecond, time.Second, []int64{55}, 0, 0, 0},
		// exactly whole: nothing left
		{"exactly two windows", 4, every, 200 * time.Millisecond, []int64{3, 7}, 0, 0, 0},
		// no interval at all
		{"no interval", 0, every, time.Second, nil, 0, 0, 0},
	}
	for _, tt := range tests {
		whole, rest, err := Windows(synthetic(tt.n, every, tt.last), every, tt.length)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		var ops []int64
		for j, w := range whole {
			ops = append(ops, w.Ops)
			if w.Start != time.Duration(j)*tt.length || w.Length != tt.length {
				t.Errorf("%s: window %d from %s, %s long; want from %s, %s long", tt.name, j, w.Start, w.Length, time.Duration(j)*tt.length, tt.length)
			}
			// every count adds up, and the histogram holds every
			// operation of the window, each kind's too
			if n := w.Latency.Count(); n != w.Ops {
				t.Errorf("%s: window %d's histogram holds %d values; want %d", tt.name, j, n, w.Ops)
			}
			if len(w.Kinds) != 2 || w.Kinds[0].Ops+w.Kinds[1].Ops != w.Ops || w.Kinds[0].Errors != w.Errors || w.Kinds[0].Latency.Count() != w.Kinds[0].Ops {
				t.Errorf("%s: window %d kinds %+v do not add up to %d ops, %d errors", tt.name, j, w.Kinds, w.Ops, w.Errors)
			}
		}
		if !slices.Equal(ops, tt.ops) {
			t.Errorf("%s: Windows(%d intervals, %s) ops %v; want %v", tt.name, tt.n, tt.length, ops, tt.ops)
		}
		if rest.Ops != tt.restOps || rest.Length != tt.restLen || (tt.restLen > 0 && rest.Start != tt.restFrom) {
			t.Errorf("%s: rest = %d ops, %s from %s; want %d ops, %s from %s", tt.name, rest.Ops, rest.Length, rest.Start, tt.restOps, tt.restLen, tt.restFrom)
		}
	}
}

// TestWindowsPercentileIsExact: a window's percentile is that of its
// operations together, not an average of its intervals'.
func TestWindowsPercentileIsExact(t *testing.T) {
	const every = 100 * time.Millisecond
	fast, slow := latency.NewRecorder(), latency.NewRecorder()
	for range 98 {
		fast.Record(time.Microsecond)
	}
	for range 2 {
		slow.Record(time.Microsecond)
	}
	for range 98 {
		slow.Record(50 * time.Millisecond)
	}
	ivs := []Interval{
		{Start: 0, Length: every, Ops: 98, Latency: fast.Compact()},
		{Start: every, Length: every, Ops: 100, Latency: slow.Compact()},
	}
	whole, _, err := Windows(ivs, every, 2*every)
	if err != nil || len(whole) != 1 {
		t.Fatalf("Windows: %d windows, %v; want 1", len(whole), err)
	}
	// 100 of 198 operations took 1µs: the p50 is 1µs (an average of the
	// intervals' p50s, 1µs and 50ms, would be 25ms); the p99 is 50ms.
	rec := whole[0].Latency.Recorder()
	if p50, p99 := rec.Percentile(50), rec.Percentile(99); p50 > 2*time.Microsecond || p99 < 49*time.Millisecond {
		t.Errorf("window p50 %s, p99 %s; want about 1µs and 50ms", p50, p99)
	}
}

func TestWindowsNotWhole(t *testing.T) {
	for _, tt := range []struct{ every, length time.Duration }{
		{100 * time.Millisecond, 150 * time.Millisecond}, // 1.5 intervals
		{100 * time.Millisecond, 50 * time.Millisecond},  // half of one
		{100 * time.Millisecond, 0},
		{0, time.Second},
	} {
		_, _, err := Windows(synthetic(10, 100*time.Millisecond, 100*time.Millisecond), tt.every, tt.length)
		if err == nil || !strings.Contains(err.Error(), "not a whole number of intervals") {
			t.Errorf("Windows(every %s, length %s) error = %v; want not a whole number of intervals", tt.every, tt.length, err)
		}
	}
}
