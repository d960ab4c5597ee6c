package engine

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/rustci/rustci-perf/pkg/config"
	"github.com/rustci/rustci-perf/pkg/harness"
	"github.com/rustci/rustci-perf/pkg/report"
	"github.com/rustci/rustci-perf/pkg/scenarios"
)

// TestPanicIsAnErrorOfItsScenario: a scenario that panics, in its setup
// or in an operation on a worker, is an error of that scenario, with the
// panic's value in the report and its stack told to Progress, and the next
// scenario runs; a cleanup the scenario deferred still runs.
func TestPanicIsAnErrorOfItsScenario(t *testing.T) {
	cleaned := false
	inSetup := scenarios.New("setup", "test", "", nil, func(context.Context, config.Settings) (*scenarios.Outcome, error) {
		defer func() { cleaned = true }()
		var m map[string]int
		//lint:ignore SA5000 the panic is what this test is about
		m["k"]++ // a bug in a component's setup
		return nil, nil
	})
	inOp := scenarios.New("op", "test", "", nil, func(ctx context.Context, s config.Settings) (*scenarios.Outcome, error) {
		res, err := harness.Run(ctx, harness.Config{Workers: 2, Ops: 100}, func(int) harness.Op {
			return func(i int) (harness.Kind, error) {
				if i == 10 {
					panic("op bug")
				}
				return 0, nil
			}
		})
		if err != nil {
			return nil, err
		}
		return &scenarios.Outcome{Result: res, Counters: map[string]int64{}, Metrics: map[string]float64{}}, nil
	})
	ok := scenarios.New("ok", "test", "", nil, func(ctx context.Context, s config.Settings) (*scenarios.Outcome, error) {
		res, err := harness.Run(ctx, harness.Config{Workers: 1, Ops: 10}, func(int) harness.Op { return func(int) (harness.Kind, error) { return 0, nil } })
		return &scenarios.Outcome{Result: res, Counters: map[string]int64{}, Metrics: map[string]float64{}}, err
	})
	rec := &recorder{}
	s := config.Settings{Params: config.Params{Ops: 100, Concurrency: 2}}
	p := &Plan{items: []item{{sc: inSetup, settings: s}, {sc: inOp, settings: s}, {sc: ok, settings: s}}, progress: rec}
	r := p.Run(context.Background())
	if len(r.Scenarios) != 3 {
		t.Fatalf("%d scenarios in the report; want 3", len(r.Scenarios))
	}
	for _, tc := range []struct {
		i     int
		value string
	}{
		{0, "assignment to entry in nil map"},
		{1, "op bug"},
	} {
		sc := r.Scenarios[tc.i]
		if sc.Status != report.StatusError || !strings.Contains(sc.Error, "panic: "+tc.value) {
			t.Errorf("%s: status %s, error %q; want an error naming the panic %q", sc.Name, sc.Status, sc.Error, tc.value)
		}
		pe := rec.panics[tc.i]
		if pe == nil || !strings.Contains(fmt.Sprint(pe.Value), tc.value) {
			t.Errorf("%s: Progress told of panic %v; want %q", sc.Name, pe, tc.value)
			continue
		}
		if !strings.Contains(string(pe.Stack), "panic_test.go:") {
			t.Errorf("%s: the panic's stack does not go through the code that panicked:\n%s", sc.Name, pe.Stack)
		}
	}
	if rec.panics[2] != nil {
		t.Errorf("ok: Progress told of a panic %v", rec.panics[2])
	}
	if !cleaned {
		t.Error("the panicking scenario's deferred cleanup did not run")
	}
	if o := r.Scenarios[2]; o.Status != report.StatusPassed {
		t.Errorf("scenario after the panics: %s; want passed", o.Status)
	}
}
