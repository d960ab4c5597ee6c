package engine

import (
	"context"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rustci/rustci-perf/internal/reportcheck"
	"github.com/rustci/rustci-perf/pkg/config"
	"github.com/rustci/rustci-perf/pkg/harness"
	"github.com/rustci/rustci-perf/pkg/latency"
	"github.com/rustci/rustci-perf/pkg/report"
	"github.com/rustci/rustci-perf/pkg/scenarios"
)

func TestIntervalFor(t *testing.T) {
	ms := time.Millisecond
	stages := func(d time.Duration) harness.Stages { return harness.Stages{{Duration: d, Target: 1000}} }
	tests := []struct {
		name    string
		s       config.Params
		windows []string
		want    time.Duration
		err     string
	}{
		{"no window: the harness chooses", config.Params{Duration: 30 * time.Second}, []string{"p99<1ms"}, 0, ""},
		{"1s windows of a 1s run", config.Params{Duration: time.Second}, []string{"p99[1s]<1ms"}, 100 * ms, ""},
		{"300ms windows: three intervals", config.Params{Duration: 2 * time.Second}, []string{"p99[300ms]<1ms"}, 100 * ms, ""},
		{"a count-bound run: 100ms", config.Params{Ops: 1000}, []string{"p99[1s]<1ms"}, 100 * ms, ""},
		// a long run's intervals are a hundredth of it: 300ms for 30s,
		// which 1s windows are not a whole number of; 250ms are
		{"1s windows of a 30s run", config.Params{Duration: 30 * time.Second}, []string{"p99[1s]<1ms"}, 250 * ms, ""},
		{"1s windows of a 15s run", config.Params{Duration: 15 * time.Second}, []string{"p99[1s]<1ms"}, 125 * ms, ""},
		{"5s windows of a 30s run: 300ms fits", config.Params{Duration: 30 * time.Second}, []string{"p99[6s]<1ms"}, 300 * ms, ""},
		{"1s windows of an hour", config.Params{Duration: time.Hour}, []string{"p99[1s]<1ms"}, time.Second, ""},
		{"stages of 20s", config.Params{Stages: stages(20 * time.Second)}, []string{"throughput[1s]>1"}, 200 * ms, ""},
		{"1s and 300ms windows of 30s", config.Params{Duration: 30 * time.Second}, []string{"p99[1s]<1ms", "p99[300ms]<1ms"}, 100 * ms, ""},
		// windows that are no whole number of any interval allowed
		{"150ms windows of 100ms intervals", config.Params{Duration: time.Second}, []string{"p99[150ms]<1ms"}, 0,
			`threshold "p99[150ms]<1ms": window 150ms is not a whole number of s's intervals of 100ms: a window is whole intervals of the time series (100ms, 200ms, 300ms, ...)`},
		{"50ms windows", config.Params{Ops: 10}, []string{"p99<1ms", "max[50ms]<1ms"}, 0, `threshold "max[50ms]<1ms": window 50ms is not a whole number`},
	}
	for _, tt := range tests {
		got, err := intervalFor("s", config.Settings{Params: tt.s}, thresholds(t, tt.windows...))
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: intervalFor error = %v; want %q", tt.name, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s: intervalFor = %s, %v; want %s", tt.name, got, err, tt.want)
		}
	}
}

// TestNewPlanWindowErrors: a window that is no whole number of the run's
// intervals is the user's error, on the command line or in a file.
func TestNewPlanWindowErrors(t *testing.T) {
	_, err := NewPlan(Options{Names: []string{"cache-read"}, Config: defaults(t), Thresholds: []string{"cache-read:p99[150ms]<1ms"}})
	if err == nil || !strings.Contains(err.Error(), `threshold "cache-read:p99[150ms]<1ms": window 150ms is not a whole number of cache-read's intervals of 100ms`) {
		t.Errorf("NewPlan error = %v; want the window named", err)
	}
	cfg, err := config.Load([]byte("scenarios:\n  memory:\n    thresholds: [\"p99[150ms]<1ms\"]\n"), "f.yaml", scenarios.Names())
	if err != nil {
		t.Fatal(err)
	}
	if _, err = NewPlan(Options{Names: []string{"limiter"}, Config: cfg}); err == nil || !strings.Contains(err.Error(), "config: scenarios.memory.thresholds: threshold \"p99[150ms]<1ms\": window 150ms") {
		t.Errorf("NewPlan error = %v; want the file's window named, whichever scenarios run", err)
	}
	if _, err = NewPlan(Options{Names: []string{"cache-read"}, Config: defaults(t), Thresholds: []string{"hit_rate[1s]>0.9"}}); err == nil || !strings.Contains(err.Error(), "hit_rate cannot be judged per window") {
		t.Errorf("NewPlan error = %v; want hit_rate refused per window", err)
	}
}

// run is a synthetic run's outcome: intervals of every, each holding the
// latencies given, the last lastLen long.
func run(every, lastLen time.Duration, lats ...[]time.Duration) *scenarios.Outcome {
	res := &harness.Result{IntervalLength: every, Latency: latency.NewRecorder(), ErrorLatency: latency.NewRecorder()}
	for i, ls := range lats {
		rec, read := latency.NewRecorder(), latency.NewRecorder()
		for _, d := range ls {
			rec.Record(d)
			read.Record(d)
		}
		res.Latency.Merge(rec)
		iv := harness.Interval{Start: time.Duration(i) * every, Length: every, Ops: int64(len(ls)), Latency: rec.Compact(),
			Kinds: []harness.KindInterval{{Name: "read", Ops: int64(len(ls)), Latency: read.Compact()}}}
		if i == len(lats)-1 {
			iv.Length = lastLen
		}
		res.Ops += iv.Ops
		res.Intervals = append(res.Intervals, iv)
	}
	return &scenarios.Outcome{Result: res}
}

// ms makes n latencies of d milliseconds.
func ms(n int, d float64) []time.Duration {
	return slices.Repeat([]time.Duration{time.Duration(d * float64(time.Millisecond))}, n)
}

// TestJudgeWindowed judges windowed thresholds on synthetic runs of 100ms
// intervals, where every count and percentile is known.
func TestJudgeWindowed(t *testing.T) {
	every := 100 * time.Millisecond
	// Run 1: four full intervals and a sliver; the third is slow. Run 2:
	// two full intervals, the second with no successful operation (a
	// stall), then a sliver.
	one := run(every, 2*time.Millisecond, ms(10, 1), ms(10, 1), ms(10, 9), ms(10, 1), ms(1, 1))
	two := run(every, time.Millisecond, ms(20, 1), nil, ms(1, 1))
	// 1ms and 9ms as the histogram holds them (within 0.1%)
	hdr := func(d float64) float64 {
		r := latency.NewRecorder()
		r.Record(time.Duration(d * float64(time.Millisecond)))
		return float64(r.Max())
	}
	v1, v9 := hdr(1), hdr(9)
	tests := []struct {
		expr        string
		outs        []*scenarios.Outcome
		actual      float64 // NaN: n/a
		pass        bool
		held, total int
		worst       report.WindowAt
		note        string
	}{
		// every 100ms window of run 1: the third missed
		{"p99[100ms]<5ms", []*scenarios.Outcome{one}, v9, false, 3, 4, report.WindowAt{StartNS: 2e8}, "its last 2.00ms, a partial window of 1 operations"},
		// 200ms windows: the second holds the slow interval; its p50 is
		// that of its 20 operations together: 10 of 1ms, 10 of 9ms
		{"p50[200ms]<5ms", []*scenarios.Outcome{one}, v1, true, 2, 2, report.WindowAt{}, ""},
		{"max[200ms]<5ms", []*scenarios.Outcome{one}, v9, false, 1, 2, report.WindowAt{StartNS: 2e8}, ""},
		// a share: 3 of 4 is 75%
		{"p99[100ms, 75%]<5ms", []*scenarios.Outcome{one}, v9, true, 3, 4, report.WindowAt{StartNS: 2e8}, ""},
		{"p99[100ms, 76%]<5ms", []*scenarios.Outcome{one}, v9, false, 3, 4, report.WindowAt{StartNS: 2e8}, ""},
		// throughput is ops over the window's length: 10 in 100ms
		{"throughput[100ms]>=100", []*scenarios.Outcome{one}, 100, true, 4, 4, report.WindowAt{}, ""},
		{"ops[400ms]==40", []*scenarios.Outcome{one}, 40, true, 1, 1, report.WindowAt{}, ""},
		// a kind's figures, and a ratio, window by window
		{"read.p99[100ms]<5ms", []*scenarios.Outcome{one}, v9, false, 3, 4, report.WindowAt{StartNS: 2e8}, ""},
		{"p99[100ms]/p50[100ms]<=1", []*scenarios.Outcome{one}, 1, true, 4, 4, report.WindowAt{}, ""},
		// two runs: each its own windows, the share over them all; the
		// stalled window has no p99, so it is the worst and does not hold
		{"p99[100ms, 80%]<5ms", []*scenarios.Outcome{one, two}, math.NaN(), false, 4, 6, report.WindowAt{Run: 1, StartNS: 1e8},
			"p99[100ms, 80%]<5ms: the worst window's p99 is n/a: in the window from 100ms in run 2 it cannot be computed (no successful operation, or a ratio over zero), so that window did not hold"},
		{"p99[100ms, 60%]<5ms", []*scenarios.Outcome{one, two}, math.NaN(), true, 4, 6, report.WindowAt{Run: 1, StartNS: 1e8}, ""},
		{"throughput[100ms]>50", []*scenarios.Outcome{one, two}, 0, false, 5, 6, report.WindowAt{Run: 1, StartNS: 1e8}, "each run's last part (2 runs, up to 2.00ms)"},
		// no whole window: n/a, and why
		{"p99[1s]<5ms", []*scenarios.Outcome{one}, math.NaN(), false, 0, 0, report.WindowAt{},
			"p99[1s]<5ms is n/a: no whole window of 1s to judge: the measured phase's time series, 402ms, is shorter than one window of 1s"},
		{"p99[1s]<5ms", []*scenarios.Outcome{one, one}, math.NaN(), false, 0, 0, report.WindowAt{}, "in each of the 2 runs, the measured phase's time series"},
		{"p99[100ms]<5ms", []*scenarios.Outcome{{Result: &harness.Result{}}}, math.NaN(), false, 0, 0, report.WindowAt{}, "the run has no time series"},
	}
	for _, tt := range tests {
		th := thresholds(t, tt.expr)
		w := judgeWindowed(th, tt.outs)[0]
		o, e := w.outcome, w.entry
		same := o.Actual == tt.actual || (math.IsNaN(o.Actual) && math.IsNaN(tt.actual))
		if !same || o.Pass != tt.pass || e.Held != tt.held || e.Total != tt.total {
			t.Errorf("%s: actual %g, pass %t, %d of %d held; want %g, %t, %d of %d", tt.expr, o.Actual, o.Pass, e.Held, e.Total, tt.actual, tt.pass, tt.held, tt.total)
		}
		if tt.total > 0 && (e.Worst == nil || *e.Worst != tt.worst) {
			t.Errorf("%s: worst window %+v; want %+v", tt.expr, e.Worst, tt.worst)
		}
		if tt.total == 0 && e.Worst != nil {
			t.Errorf("%s: worst window %+v of none", tt.expr, e.Worst)
		}
		if e.LengthNS != int64(th[0].Window.Length) || e.SharePct != th[0].Window.Share {
			t.Errorf("%s: entry %+v; want the threshold's window", tt.expr, e)
		}
		if notes := strings.Join(w.notes, "\n"); tt.note != "" && !strings.Contains(notes, tt.note) {
			t.Errorf("%s: notes lack %q:\n%s", tt.expr, tt.note, notes)
		}
		if !metricValid(o.Actual) && len(w.notes) == 0 {
			t.Errorf("%s: n/a with no note saying why", tt.expr)
		}
	}
}

func metricValid(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// TestWindowsOfARun: a run whose operation is slow once, at a known time,
// is judged per window: the window that holds the slow operation misses,
// and the report says which it was; the others hold. The operation's own
// clock says where it ended, so nothing here depends on how fast the
// machine is, only on every other operation (a no-op) taking less than
// 250ms, which a loaded machine's scheduler can still promise where it
// cannot promise 50ms.
func TestWindowsOfARun(t *testing.T) {
	const slow, window = 500 * time.Millisecond, 400 * time.Millisecond
	var mu sync.Mutex
	var began, ended time.Time
	sc := scenarios.New("stall", "test", "one slow operation", nil, func(ctx context.Context, s config.Settings) (*scenarios.Outcome, error) {
		done := false
		res, err := harness.Run(ctx, harness.Config{
			Workers: 1, Duration: s.Duration, Interval: s.Interval,
			BeforeMeasure: func() { mu.Lock(); began = time.Now(); mu.Unlock() },
		}, func(int) harness.Op {
			return func(int) (harness.Kind, error) {
				mu.Lock()
				since := time.Since(began)
				mu.Unlock()
				if !done && since >= 450*time.Millisecond {
					done = true
					time.Sleep(slow)
					mu.Lock()
					ended = time.Now()
					mu.Unlock()
				}
				return 0, nil
			}
		})
		if err != nil {
			return nil, err
		}
		return &scenarios.Outcome{Result: res, Counters: map[string]int64{}, Metrics: map[string]float64{}}, nil
	})
	cat := scenarios.Catalog{sc}
	cl := config.CommandLine()
	cl.Defaults.Duration, cl.Defaults.Warmup = 3*window, config.Warmup{}
	cl.Set("defaults.duration", "--duration")
	cl.Set("defaults.warmup", "--warmup")
	cfg, err := config.New(slices.Concat(scenarios.Names(), cat.Names()), cl)
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPlan(Options{Names: []string{"stall"}, Config: cfg, Scenarios: cat, Thresholds: []string{
		"max[400ms]<250ms",      // the slow operation's window misses
		"max[400ms, 60%]<250ms", // 2 of 3 is more than 60%
		"p50[400ms]<250ms",      // one slow operation among many: every p50 holds
		"ops[400ms]>0",
	}})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.items[0].settings.Interval; got != 100*time.Millisecond {
		t.Fatalf("interval %s; want 100ms", got)
	}
	r := p.Run(context.Background())
	s := r.Scenarios[0]
	at := ended.Sub(began)
	from := at.Truncate(window)
	edge := min(at-from, from+window-at) < 5*time.Millisecond
	byExpr := map[string]report.Threshold{}
	for _, th := range s.Thresholds {
		byExpr[th.Expr] = th
	}
	for _, tt := range []struct {
		expr  string
		pass  bool
		held  int
		slow  bool // the actual is the slow operation's
		worst bool // the worst window is the slow operation's
	}{
		{"max[400ms]<250ms", false, 2, true, true},
		{"max[400ms, 60%]<250ms", true, 2, true, true},
		{"p50[400ms]<250ms", true, 3, false, false},
		{"ops[400ms]>0", true, 3, false, false},
	} {
		th, ok := byExpr[tt.expr]
		if !ok || th.Windows == nil {
			t.Fatalf("%s: not judged per window: %+v", tt.expr, th)
		}
		w := th.Windows
		if th.Pass != tt.pass || w.Held != tt.held || w.Total != 3 || w.LengthNS != int64(window) {
			t.Errorf("%s: pass %t, %d of %d windows of %s held; want %t, %d of 3 of %s", tt.expr, th.Pass, w.Held, w.Total, time.Duration(w.LengthNS), tt.pass, tt.held, window)
		}
		if tt.slow && (th.Actual == nil || *th.Actual < float64(slow)) {
			t.Errorf("%s: actual %v; want the slow operation's, at least %s", tt.expr, th.Actual, slow)
		}
		if tt.worst && !edge && (w.Worst == nil || w.Worst.StartNS != int64(from)) {
			t.Errorf("%s: worst window %+v; want the one from %s, where the slow operation ended (at %s)", tt.expr, w.Worst, from, at)
		}
	}
	if s.Status != report.StatusFailed || r.Passed {
		t.Errorf("status %s, passed %t; want failed", s.Status, r.Passed)
	}
	out := reportcheck.Every(t, r)
	held := "2 of 3 windows of 400ms held"
	for name, want := range map[string]string{"text": held, "markdown": held, "junit": held, "html": held, "json": `"total": 3`} {
		if !strings.Contains(string(out[name]), want) {
			t.Errorf("%s lacks %q", name, want)
		}
	}
}
