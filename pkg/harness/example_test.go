package harness_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/rustci/rustci-perf/pkg/harness"
)

// A closed loop of 100 measured operations over 2 workers, after 10
// unrecorded ones, mixing two kinds. Each worker gets its own Op; i counts
// that worker's calls from 0, warmup included, so it can pick a key or, as
// here, a kind: one write in four (i = 0, 4, 8, ...), and a failure in
// ten (i = 9, 19, ...: all reads). Each worker's warmup is its first 5.
func Example() {
	cfg := harness.Config{Workers: 2, Ops: 100, WarmupOps: 10, Kinds: []string{"read", "write"}}
	res, err := harness.Run(context.Background(), cfg, func(worker int) harness.Op {
		return func(i int) (harness.Kind, error) {
			kind := harness.Kind(0) // read
			if i%4 == 0 {
				kind = 1 // write
			}
			if i%10 == 9 {
				return kind, errors.New("boom")
			}
			return kind, nil
		}
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("warmup %d, measured %d ok, %d failed (first: %v)\n", res.WarmupOps, res.Ops, res.Errors, res.FirstError)
	for _, k := range res.Kinds {
		fmt.Printf("%-5s %d ok, %d failed, %d latencies\n", k.Name, k.Ops, k.Errors, k.Latency.Count())
	}
	// Output:
	// warmup 10, measured 90 ok, 10 failed (first: boom)
	// read  66 ok, 10 failed, 66 latencies
	// write 24 ok, 0 failed, 24 latencies
}

// Stages ramp an open-loop rate; they parse as the --stages flag does.
func ExampleParseStages() {
	ss, err := harness.ParseStages("10s:1000,30s:1000,10s:0")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ss, "lasts", ss.Total(), "and holds", ss.Count(), "operations")
	fmt.Println("rate at 5s:", ss.RateAt(5e9), "at 45s:", ss.RateAt(45e9))
	// Output:
	// 10s:1000,30s:1000,10s:0 lasts 50s and holds 40000 operations
	// rate at 5s: 500 at 45s: 500
}

// Share is how Config.Ops is split across workers: nothing is dropped.
func ExampleShare() {
	for w := range 3 {
		fmt.Print(harness.Share(10, 3, w), " ")
	}
	fmt.Println()
	// Output: 4 3 3
}
