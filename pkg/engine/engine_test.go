package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rustci/rustci-perf/pkg/config"
	"github.com/rustci/rustci-perf/pkg/harness"
	"github.com/rustci/rustci-perf/pkg/latency"
	"github.com/rustci/rustci-perf/pkg/report"
	"github.com/rustci/rustci-perf/pkg/scenarios"
	"github.com/rustci/rustci-perf/pkg/threshold"
)

func defaults(t *testing.T) *config.Config {
	t.Helper()
	c, err := config.Load(nil, "", scenarios.Names())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// withFlags is the embedded defaults under a command line that set sets.
func withFlags(t *testing.T, set func(*config.Layer)) *config.Config {
	t.Helper()
	cl := config.CommandLine()
	set(cl)
	c, err := config.New(scenarios.Names(), cl)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestNewPlanErrors(t *testing.T) {
	tests := []struct {
		names      []string
		thresholds []string
		config     string
		want       string
	}{
		{nil, nil, "", "no scenario named"},
		{[]string{"cahce"}, nil, "", `unknown scenario or group "cahce"`},
		{[]string{"cache"}, []string{"p99<<1ms"}, "", `threshold "p99<<1ms": column 5`},
		{[]string{"cache"}, []string{"cache-raed:p99<1ms"}, "", `unknown scope "cache-raed"`},
		{[]string{"cache"}, []string{"limiter:p99<1ms"}, "", `scope "limiter" selects none of the scenarios being run (cache-write, cache-read, cache-l2, cache-l3)`},
		{[]string{"cache-read"}, []string{"cache-read:hit_ratio>0.9"}, "", `scenario cache-read has no metric "hit_ratio"`},
		{[]string{"limiter"}, []string{"hit_rate>0.9"}, "", "no scenario being run (limiter, limiter-fallback) reports hit_rate"},
		{[]string{"cache"}, []string{"cache:hit_rate>0.9"}, "", `scenario cache-write has no metric "hit_rate"`},
		// a bad threshold in a config file fails every run, not just the
		// runs of its scenario
		{[]string{"limiter"}, nil, "scenarios:\n  memory:\n    thresholds: [\"heap<1\"]\n", `config: scenarios.memory.thresholds: threshold "heap<1": scenario memory has no metric "heap"`},
		{[]string{"limiter"}, nil, "scenarios:\n  memory:\n    thresholds: [\"latency:p99<1ms\"]\n", `scope "latency" is not this scenario`},
		{[]string{"memory"}, nil, "scenarios:\n  memory:\n    concurrency: -1\n", "scenarios.memory.concurrency -1: want at least 1"},
	}
	for _, tt := range tests {
		cfg := defaults(t)
		if tt.config != "" {
			var err error
			if cfg, err = config.Load([]byte(tt.config), "f.yaml", scenarios.Names()); err != nil {
				t.Fatal(err)
			}
		}
		_, err := NewPlan(Options{Names: tt.names, Config: cfg, Thresholds: tt.thresholds})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewPlan(%v, %v) error = %v; want %q", tt.names, tt.thresholds, err, tt.want)
		}
	}
}

func TestThresholdsGoWhereTheyApply(t *testing.T) {
	p, err := NewPlan(Options{
		Names:  []string{"cache", "limiter"},
		Config: defaults(t),
		Thresholds: []string{
			"p99<1s",                   // unscoped: every scenario
			"hit_rate>0.5",             // unscoped: only those with a hit rate
			"cache-write:p50<1s",       // one scenario
			"cache:throughput>1",       // a group
			"all:errors==0",            // every scenario
			"limiter:allowed>0",        // a scenario's own counter
			"cache-read:p(99.9)<100ms", // a percentile by p()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, it := range p.items {
		for _, th := range it.thresholds {
			got[it.sc.Name] = append(got[it.sc.Name], th.Expr)
		}
	}
	want := map[string]string{
		"cache-write": "throughput>1000 p99<1s cache-write:p50<1s cache:throughput>1 all:errors==0",
		"cache-read":  "throughput>5000 hit_rate>0.95 p99<1s hit_rate>0.5 cache:throughput>1 all:errors==0 cache-read:p(99.9)<100ms",
		"limiter":     "throughput>1000 admission_error==0 fallback==0 p99<1s all:errors==0 limiter:allowed>0",
	}
	for name, w := range want {
		if g := strings.Join(got[name], " "); g != w {
			t.Errorf("%s thresholds:\n got %s\nwant %s", name, g, w)
		}
	}
}

func TestRunJudges(t *testing.T) {
	p, err := NewPlan(Options{
		Names:      []string{"cache-read"},
		Config:     withFlags(t, func(l *config.Layer) { l.Defaults.Ops = 300; l.Set("defaults.ops", "--ops") }),
		Thresholds: []string{"p99<3600s", "p50>3600s", "p99/p50>=1"},
		Provenance: &report.Provenance{Tool: report.Tool{Version: "test"}, Commit: "abc"},
	})
	if err != nil {
		t.Fatal(err)
	}
	r := p.Run(context.Background())
	if r.Schema != report.Schema || r.ToolVersion != "test" || r.Provenance == nil || r.Provenance.Commit != "abc" || r.Passed || r.Interrupted || len(r.Scenarios) != 1 {
		t.Fatalf("report header %+v", r)
	}
	s := r.Scenarios[0]
	if s.Status != report.StatusFailed || s.Ops != 300 || s.Latency.Count != 300 || s.ThroughputOpsPerSec <= 0 {
		t.Errorf("scenario %+v", s)
	}
	pass := map[string]bool{}
	for _, th := range s.Thresholds {
		pass[th.Expr] = th.Pass
	}
	want := map[string]bool{"throughput>5000": pass["throughput>5000"], "hit_rate>0.95": true, "p99<3600s": true, "p50>3600s": false, "p99/p50>=1": true}
	for k, v := range want {
		if got, ok := pass[k]; !ok || got != v {
			t.Errorf("threshold %s: pass %t (present %t); want %t", k, got, ok, v)
		}
	}
}

func TestRunRecordsComponentErrorsAndGoesOn(t *testing.T) {
	broken := scenarios.New("broken", "test", "fails", nil, func(context.Context, config.Settings) (*scenarios.Outcome, error) {
		return nil, errors.New("l1: no memory")
	})
	ok := scenarios.New("ok", "test", "works", nil, func(ctx context.Context, s config.Settings) (*scenarios.Outcome, error) {
		res, err := harness.Run(ctx, harness.Config{Workers: 1, Ops: 10}, func(int) harness.Op { return func(int) (harness.Kind, error) { return 0, nil } })
		return &scenarios.Outcome{Result: res, Counters: map[string]int64{}, Metrics: map[string]float64{}}, err
	})
	s := config.Settings{Params: config.Params{Ops: 10, Concurrency: 1}}
	p := &Plan{items: []item{{sc: broken, settings: s}, {sc: ok, settings: s}}}
	r := p.Run(context.Background())
	if len(r.Scenarios) != 2 || r.Passed {
		t.Fatalf("report %+v; want both scenarios and not passed", r)
	}
	if b := r.Scenarios[0]; b.Status != report.StatusError || !strings.Contains(b.Error, "l1: no memory") || b.Passed {
		t.Errorf("broken scenario %+v", b)
	}
	if o := r.Scenarios[1]; o.Status != report.StatusPassed || o.Ops != 10 {
		t.Errorf("ok scenario after the broken one %+v", o)
	}
}

func TestRunInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	first := scenarios.New("first", "test", "", nil, func(ctx context.Context, s config.Settings) (*scenarios.Outcome, error) {
		res, err := harness.Run(ctx, harness.Config{Workers: 1, Ops: 1 << 40}, func(int) harness.Op {
			return func(i int) (harness.Kind, error) {
				if i == 100 {
					cancel()
				}
				return 0, nil
			}
		})
		return &scenarios.Outcome{Result: res, Counters: map[string]int64{}, Metrics: map[string]float64{}}, err
	})
	never := scenarios.New("never", "test", "", nil, func(context.Context, config.Settings) (*scenarios.Outcome, error) {
		t.Error("a scenario started after the interruption")
		return nil, errors.New("unreachable")
	})
	s := config.Settings{Params: config.Params{Ops: 1, Concurrency: 1}}
	p := &Plan{items: []item{{sc: first, settings: s}, {sc: never, settings: s}}}
	r := p.Run(ctx)
	if !r.Interrupted || r.Passed || len(r.Scenarios) != 1 {
		t.Fatalf("report interrupted %t, passed %t, %d scenarios; want true, false, 1", r.Interrupted, r.Passed, len(r.Scenarios))
	}
	if s := r.Scenarios[0]; s.Status != report.StatusInterrupted || s.Ops < 100 || len(s.Thresholds) != 0 {
		t.Errorf("interrupted scenario %+v", s)
	}
}

// TestRepeatJudges: three runs at 100, 200 and 300 ops/s; a threshold of
// throughput>150 holds on the median, not on the worst run or each run.
func TestRepeatJudges(t *testing.T) {
	run := 0
	sc := scenarios.New("fixed", "test", "", nil, func(context.Context, config.Settings) (*scenarios.Outcome, error) {
		run++
		rec := latency.NewRecorder()
		rec.Record(time.Duration(run) * time.Millisecond)
		res := &harness.Result{Ops: 100, Duration: time.Second / time.Duration(run), Latency: rec, ErrorLatency: latency.NewRecorder()}
		return &scenarios.Outcome{Result: res, Counters: map[string]int64{"n": 1}, Metrics: map[string]float64{"m": float64(run)}}, nil
	})
	th, _ := threshold.Parse("throughput>150")
	for _, tt := range []struct {
		judge  string
		pass   bool
		actual float64
	}{{"median", true, 200}, {"worst", false, 100}, {"each", false, 100}} {
		run = 0
		p := &Plan{items: []item{{sc: sc, settings: config.Settings{Params: config.Params{Count: 3, Judge: config.Judge(tt.judge)}}, thresholds: []threshold.Threshold{th}}}}
		s := p.Run(context.Background()).Scenarios[0]
		got := s.Thresholds[0]
		if got.Pass != tt.pass || got.Actual == nil || *got.Actual != tt.actual {
			t.Errorf("judge %s: pass %t, actual %v; want %t, %g", tt.judge, got.Pass, got.Actual, tt.pass, tt.actual)
		}
		r := s.Repeat
		if r == nil || r.Count != 3 || len(r.Runs) != 3 || r.Judge != tt.judge {
			t.Fatalf("repeat %+v", r)
		}
		if st := r.Stats["throughput"]; st.Median != 200 || st.Min != 100 || st.Max < 299.999 || st.Max > 300.001 {
			t.Errorf("throughput stats %+v; want median 200, min 100, max 300", st)
		}
		// Merged: ops and counters summed, the three latencies in one
		// histogram, metrics the median.
		if s.Ops != 300 || s.Counters["n"] != 3 || s.Latency.Count != 3 || s.Metrics["m"] != 2 {
			t.Errorf("merged: ops %d, n %d, latencies %d, m %g; want 300, 3, 3, 2", s.Ops, s.Counters["n"], s.Latency.Count, s.Metrics["m"])
		}
	}
}

// TestProgressIsTold: a plan's Progress is told as its scenario starts,
// as each of its runs begins, how the measured phase goes (when it asks),
// and as it ends, in that order; ticks come only while it runs.
func TestProgressIsTold(t *testing.T) {
	d := 3 * harness.TickEvery
	rec := &recorder{}
	p, err := NewPlan(Options{
		Names: []string{"cache-read"},
		Config: withFlags(t, func(l *config.Layer) {
			l.Defaults.Duration, l.Defaults.Count = d, 2
			l.Set("defaults.duration", "--duration")
			l.Set("defaults.count", "--count")
		}),
		Progress: rec,
	})
	if err != nil {
		t.Fatal(err)
	}
	p.Run(context.Background())
	got := rec.events()
	want := []string{"started cache-read", "run 1 of 2", "tick", "run 2 of 2", "tick", "finished cache-read"}
	if strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Errorf("progress told:\n got %s\nwant %s", strings.Join(got, ", "), strings.Join(want, ", "))
	}
}

// recorder is a Progress that remembers what it is told, ticks once a run.
type recorder struct {
	mu     sync.Mutex
	told   []string
	panics []*harness.PanicError
}

func (r *recorder) add(e string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e == "tick" && len(r.told) > 0 && r.told[len(r.told)-1] == e {
		return
	}
	r.told = append(r.told, e)
}

func (r *recorder) events() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.told...)
}

func (r *recorder) Started(name string, s config.Settings) func(harness.Progress) {
	r.add("started " + name)
	return func(harness.Progress) { r.add("tick") }
}

func (r *recorder) Run(name string, i, n int) { r.add(fmt.Sprintf("run %d of %d", i, n)) }

func (r *recorder) Finished(s *report.Scenario, pe *harness.PanicError) {
	r.add("finished " + s.Name)
	r.mu.Lock()
	r.panics = append(r.panics, pe)
	r.mu.Unlock()
}

var _ Progress = (*recorder)(nil)

// TestRunNotesBounded: the notes of N runs are as many as the runs have
// kinds of note, not N times as many; notes that differ only in their
// figures are one, with the first run's figures; names with digits (l1,
// l3) are not figures.
func TestRunNotesBounded(t *testing.T) {
	var parts []report.Scenario
	var names []string
	for i := range 50 {
		notes := []string{"same in every run", fmt.Sprintf("allowed %d of %d.5", 31990+i, 32000), "l1 did not keep writes", "l3 did not keep writes"}
		if i%10 == 3 {
			notes = append(notes, "only some runs")
		}
		parts = append(parts, report.Scenario{Notes: notes})
		names = append(names, fmt.Sprintf("run %d", i+1))
	}
	got := runNotes(parts, names)
	want := []string{
		"same in every run",
		"runs 1-50, figures differing by run (run 1's here): allowed 31990 of 32000.5",
		"l1 did not keep writes",
		"l3 did not keep writes",
		"runs 4, 14, 24, 34, 44: only some runs",
	}
	if !slices.Equal(got, want) {
		t.Errorf("runNotes of 50 runs:\n got %q\nwant %q", got, want)
	}
	if got := runNotes(parts[:1], names[:1]); len(got) != 4 || got[1] != "allowed 31990 of 32000.5" {
		t.Errorf("runNotes of one run: %q", got)
	}
}
