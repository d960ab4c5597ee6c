package engine

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rustci/rustci-perf/internal/reportcheck"
	"github.com/rustci/rustci-perf/pkg/config"
	"github.com/rustci/rustci-perf/pkg/harness"
	"github.com/rustci/rustci-perf/pkg/latency"
	"github.com/rustci/rustci-perf/pkg/metric"
	"github.com/rustci/rustci-perf/pkg/report"
	"github.com/rustci/rustci-perf/pkg/scenarios"
	"github.com/rustci/rustci-perf/pkg/threshold"
)

func thresholds(t *testing.T, exprs ...string) []threshold.Threshold {
	t.Helper()
	var out []threshold.Threshold
	for _, e := range exprs {
		th, err := threshold.Parse(e)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, th)
	}
	return out
}

// failing is a scenario whose every operation fails, in closed loop or,
// with a rate, in open loop; its hit rate is derived from no read at all.
func failing() *scenarios.Scenario {
	return scenarios.New("failing", "test", "every operation fails", []string{"hit_rate", "hits", "misses"},
		func(ctx context.Context, s config.Settings) (*scenarios.Outcome, error) {
			res, err := harness.Run(ctx, harness.Config{Workers: s.Concurrency, Ops: s.Ops, Rate: s.Rate},
				func(int) harness.Op {
					return func(int) (harness.Kind, error) { return 0, errors.New("redis: connection refused") }
				})
			if err != nil {
				return nil, err
			}
			counters := map[string]int64{"hits": 0, "misses": 0}
			v, why := metric.HitRate.Derive(counters)
			return &scenarios.Outcome{Result: res, Counters: counters, Metrics: map[string]float64{"hit_rate": v}, Notes: []string{why}}, nil
		})
}

// TestNoSuccessfulOperation: a scenario that ran only errors, once and
// repeated, closed and open loop, is reported in every format; every
// threshold on a figure it cannot give fails as n/a.
func TestNoSuccessfulOperation(t *testing.T) {
	for _, tt := range []struct {
		name string
		s    config.Settings
	}{
		{"closed loop", config.Settings{Params: config.Params{Ops: 20, Concurrency: 2}}},
		{"open loop", config.Settings{Params: config.Params{Ops: 20, Concurrency: 2, Rate: 1e6}}},
		{"repeated", config.Settings{Params: config.Params{Ops: 20, Concurrency: 2, Count: 3}}},
		{"repeated, open loop", config.Settings{Params: config.Params{Ops: 20, Concurrency: 2, Rate: 1e6, Count: 2, Judge: "worst"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ths := thresholds(t, "hit_rate>0.9", "hit_rate!=0", "p99<1s", "mean<1s", "p99/p50<20", "errors==0", "throughput>=0")
			if tt.s.Rate > 0 {
				ths = append(ths, thresholds(t, "achieved_rate_ratio>0.99")...)
			}
			p := &Plan{items: []item{{sc: failing(), settings: tt.s, thresholds: ths}}}
			r := p.Run(context.Background())
			s := r.Scenarios[0]
			if s.Status != report.StatusFailed || s.Ops != 0 || s.Errors == 0 || r.Passed {
				t.Fatalf("status %s, ops %d, errors %d, run passed %t; want failed, 0, some, false", s.Status, s.Ops, s.Errors, r.Passed)
			}
			for _, th := range s.Thresholds {
				switch th.Expr {
				case "throughput>=0":
					if !th.Pass || th.Actual == nil || *th.Actual != 0 {
						t.Errorf("%s: pass %t, actual %v; want a throughput of 0, held", th.Expr, th.Pass, th.Actual)
					}
				case "errors==0":
					if th.Pass || th.Actual == nil {
						t.Errorf("%s: pass %t, actual %v; want the errors counted, failed", th.Expr, th.Pass, th.Actual)
					}
				default:
					if th.Pass || th.Actual != nil {
						t.Errorf("%s: pass %t, actual %v; want n/a, failed", th.Expr, th.Pass, th.Actual)
					}
				}
			}
			if tt.s.Rate > 0 && !strings.Contains(strings.Join(s.Notes, "\n"), "achieved_rate_ratio is n/a: 20 operations ran, fewer than the 100") {
				t.Errorf("no note says why achieved_rate_ratio is n/a: %q", s.Notes)
			}
			if s.Repeat != nil {
				if st := s.Repeat.Stats["hit_rate"]; metric.Valid(st.Median) || metric.Valid(st.CV) {
					t.Errorf("hit_rate stats %+v; want n/a", st)
				}
				if st := s.Repeat.Stats["throughput"]; st.Median != 0 || st.CV != 0 {
					t.Errorf("throughput stats %+v; want 0 in every run, CV 0", st)
				}
			}
			reportcheck.Every(t, r)
		})
	}
}

// fixed is a scenario whose one open-loop run is given: ops done (all
// successful) in took, at rate.
func fixed(ops int64, took time.Duration, rate float64) *scenarios.Scenario {
	return scenarios.New("fixed", "test", "", nil, func(context.Context, config.Settings) (*scenarios.Outcome, error) {
		rec := latency.NewRecorder()
		for range ops {
			rec.Record(time.Microsecond)
		}
		res := &harness.Result{Ops: ops, Duration: took, Issued: took, Latency: rec, ErrorLatency: latency.NewRecorder(), Uncorrected: rec, Rate: rate}
		return &scenarios.Outcome{Result: res, Counters: map[string]int64{}, Metrics: map[string]float64{}}, nil
	})
}

// TestAchievedRateRatio: the achieved rate is over the scheduled window, or
// the time taken when longer, and n/a for a run too short to tell.
func TestAchievedRateRatio(t *testing.T) {
	for _, tt := range []struct {
		ops  int64
		took time.Duration
		s    config.Settings
		want float64 // NaN: n/a
	}{
		// 1000 ops at 1000/s scheduled over 1s, the last ending just before
		{1000, 999 * time.Millisecond, config.Settings{Params: config.Params{Ops: 1000, Rate: 1000}}, 1},
		// the same, fallen behind: they took 1.25s
		{1000, 1250 * time.Millisecond, config.Settings{Params: config.Params{Ops: 1000, Rate: 1000}}, 0.8},
		// time-bound: 2000 ops due in 2s at 1000/s
		{2000, 1999 * time.Millisecond, config.Settings{Params: config.Params{Duration: 2 * time.Second, Rate: 1000}}, 1},
		// --rate 0.1 --duration 2s: one operation of 9µs is no rate
		{1, 9 * time.Microsecond, config.Settings{Params: config.Params{Duration: 2 * time.Second, Rate: 0.1}}, metric.NA},
		// 99 operations: too few
		{99, 99 * time.Millisecond, config.Settings{Params: config.Params{Ops: 99, Rate: 1000}}, metric.NA},
		// stages of 1s and 2s: 3s scheduled
		{3000, 2 * time.Second, config.Settings{Params: config.Params{Stages: harness.Stages{{Duration: time.Second, Target: 1000}, {Duration: 2 * time.Second, Target: 1000}}}}, 1},
	} {
		p := &Plan{items: []item{{sc: fixed(tt.ops, tt.took, 1000), settings: tt.s, thresholds: thresholds(t, "achieved_rate_ratio>0.99")}}}
		if tt.s.Rate > 0 {
			p.items[0].sc = fixed(tt.ops, tt.took, tt.s.Rate)
		}
		s := p.Run(context.Background()).Scenarios[0]
		got := s.Metrics["achieved_rate_ratio"]
		if !(got == tt.want || !metric.Valid(got) && !metric.Valid(tt.want)) {
			t.Errorf("%d ops in %s with %+v: achieved_rate_ratio %g; want %g", tt.ops, tt.took, tt.s, got, tt.want)
		}
		th := s.Thresholds[0]
		if wantPass := tt.want > 0.99; th.Pass != wantPass || (th.Actual == nil) == metric.Valid(tt.want) {
			t.Errorf("%d ops in %s: threshold pass %t, actual %v; want %t", tt.ops, tt.took, th.Pass, th.Actual, wantPass)
		}
	}
}
