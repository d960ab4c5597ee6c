package engine_test

import (
	"context"
	"fmt"
	"slices"

	"github.com/rustci/rustci-perf/pkg/config"
	"github.com/rustci/rustci-perf/pkg/engine"
	"github.com/rustci/rustci-perf/pkg/harness"
	"github.com/rustci/rustci-perf/pkg/scenarios"
)

// A program embedding rustci-perf runs a scenario of its own, with its
// own thresholds, through the same engine and report as the binary's.
func Example_embedding() {
	checksum := scenarios.New("checksum", "mine", "a checksum of 1 KiB", nil,
		func(ctx context.Context, s config.Settings) (*scenarios.Outcome, error) {
			buf := make([]byte, 1024)
			res, err := harness.Run(ctx, harness.Config{Workers: s.Concurrency, Ops: s.Ops}, func(int) harness.Op {
				return func(i int) (harness.Kind, error) {
					var sum byte
					for _, b := range buf {
						sum += b ^ byte(i)
					}
					buf[0] = sum
					return 0, nil
				}
			})
			if err != nil {
				return nil, err
			}
			return &scenarios.Outcome{Result: res, Counters: map[string]int64{}, Metrics: map[string]float64{}}, nil
		})
	mine := scenarios.Catalog{checksum}

	// The file names the program's scenario; the embedded defaults name
	// the built-in ones: both are known names.
	known := slices.Concat(scenarios.Names(), mine.Names())
	cfg, err := config.Load([]byte(`
scenarios:
  checksum:
    ops: 1000
    concurrency: 1
    warmup: 0
    thresholds: ["errors==0", "p99<1s"]
`), "mine.yaml", known)
	if err != nil {
		fmt.Println(err)
		return
	}
	plan, err := engine.NewPlan(engine.Options{Names: []string{"all"}, Config: cfg, Scenarios: mine})
	if err != nil {
		fmt.Println(err)
		return
	}
	rep := plan.Run(context.Background())
	s := rep.Scenarios[0]
	fmt.Println(s.Name, s.Status, s.Ops, len(s.Thresholds), rep.Passed)
	// Output: checksum passed 1000 2 true
}
