package scenarios

import (
	"context"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/dgraph-io/ristretto/v2"
	"github.com/rustci/rustci-perf/pkg/cache"
	"github.com/rustci/rustci-perf/pkg/harness"
)

// BenchmarkHarnessOverhead sets an L1 hit driven by the harness (one worker
// per CPU, every latency recorded, as cache-read on an L1-only stack runs
// it) beside a raw ristretto Get in b.RunParallel on the same keys, each
// goroutine from the same offset as a worker; harness-raw is the harness
// driving the raw Get, to tell the harness's cost from the Manager's.
// Compare with "benchstat -col /impl" (make bench): the ratio is what
// measuring costs.
func BenchmarkHarnessOverhead(b *testing.B) {
	const n = 1 << 14
	keys := make([]string, n)
	for i := range keys {
		keys[i] = "k:" + strconv.Itoa(i)
	}
	val := make([]byte, 128)
	cfg := cache.DefaultL1Config
	b.Run("impl=ristretto", func(b *testing.B) {
		c := filledRistretto(b, keys, val)
		// Each goroutine walks the keys from its own offset, as the
		// harness's workers do below, so that both touch memory alike.
		var id atomic.Int64
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			start := int(id.Add(1)-1) * n / testingProcs()
			i := 0
			for pb.Next() {
				c.Get(keys[(start+i)&(n-1)])
				i++
			}
		})
	})
	b.Run("impl=harness-raw", func(b *testing.B) {
		c := filledRistretto(b, keys, val)
		workers := testingProcs()
		b.ResetTimer()
		res, err := harness.Run(context.Background(), harness.Config{Workers: workers, Ops: b.N}, func(w int) harness.Op {
			start := w * n / workers
			return func(i int) (harness.Kind, error) {
				c.Get(keys[(start+i)&(n-1)])
				return 0, nil
			}
		})
		if err != nil || res.Ops != int64(b.N) {
			b.Fatalf("ran %d ops, %v", res.Ops, err)
		}
	})
	b.Run("impl=harness", func(b *testing.B) {
		l1, err := cache.NewL1(cfg)
		if err != nil {
			b.Fatal(err)
		}
		m, _ := cache.New(cache.Options{}, l1)
		defer m.Close()
		ctx := context.Background()
		for _, k := range keys {
			m.Set(ctx, k, val, 0)
		}
		m.Wait()
		workers := testingProcs()
		b.ResetTimer()
		res, err := harness.Run(ctx, harness.Config{Workers: workers, Ops: b.N}, func(w int) harness.Op {
			start := w * n / workers
			return func(i int) (harness.Kind, error) {
				_, _, err := m.Get(ctx, keys[(start+i)&(n-1)])
				return 0, err
			}
		})
		if err != nil || res.Ops != int64(b.N) {
			b.Fatalf("ran %d ops, %v", res.Ops, err)
		}
	})
}

// filledRistretto is a raw ristretto cache, configured as L1 is, holding
// val under every key; it is closed when b ends.
func filledRistretto(b *testing.B, keys []string, val []byte) *ristretto.Cache[string, []byte] {
	cfg := cache.DefaultL1Config
	c, err := ristretto.NewCache(&ristretto.Config[string, []byte]{NumCounters: cfg.NumCounters, MaxCost: cfg.MaxCostBytes, BufferItems: 64, Metrics: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(c.Close)
	for _, k := range keys {
		c.Set(k, val, int64(len(val)))
	}
	c.Wait()
	return c
}

func testingProcs() int { return runtime.GOMAXPROCS(0) }
