package scenarios

import (
	"context"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dgraph-io/ristretto/v2"
	"github.com/rustci/rustci-perf/pkg/cache"
	"github.com/rustci/rustci-perf/pkg/harness"
	"github.com/rustci/rustci-perf/pkg/latency"
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
	return filledRistrettoTTL(b, keys, val, 0)
}

func testingProcs() int { return runtime.GOMAXPROCS(0) }

// BenchmarkTimedLoop is the ceiling cache-read can reach: a bare
// b.RunParallel loop of raw ristretto Gets on 10000 keys (each goroutine
// walking them from its own offset, as cache-read's workers do), every
// operation timed as the harness times it (one monotonic clock read, one
// histogram record). ttl=10m stores the keys as L1 does under the default
// cache.ttl, so that ristretto checks each hit's expiry (a wall clock
// read); ttl=0 stores them with none. bench/binary.sh sets the binary's
// cache-read beside it.
func BenchmarkTimedLoop(b *testing.B) {
	const n = 10000
	keys := make([]string, n)
	for i := range keys {
		keys[i] = "k:" + strconv.Itoa(i)
	}
	val := make([]byte, 128)
	for _, ttl := range []time.Duration{0, 10 * time.Minute} {
		b.Run("impl=timed-bare/ttl="+ttlName(ttl), func(b *testing.B) {
			c := filledRistrettoTTL(b, keys, val, ttl)
			var id atomic.Int64
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				start := int(id.Add(1)-1) * n / testingProcs()
				rec := latency.NewRecorder()
				pad := make([]byte, 4096) // no cache line shared with the other goroutines' recorders
				defer runtime.KeepAlive(pad)
				base := time.Now()
				prev := time.Since(base)
				for i := 0; pb.Next(); i++ {
					c.Get(keys[(start+i)%n])
					now := time.Since(base)
					rec.Record(now - prev)
					prev = now
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
		})
	}
}

func ttlName(d time.Duration) string {
	if d == 0 {
		return "0"
	}
	return strings.TrimSuffix(d.String(), "0s")
}

// filledRistrettoTTL is filledRistretto with every key stored under ttl
// (0: none).
func filledRistrettoTTL(b *testing.B, keys []string, val []byte, ttl time.Duration) *ristretto.Cache[string, []byte] {
	cfg := cache.DefaultL1Config
	c, err := ristretto.NewCache(&ristretto.Config[string, []byte]{NumCounters: cfg.NumCounters, MaxCost: cfg.MaxCostBytes, BufferItems: 64, Metrics: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(c.Close)
	for _, k := range keys {
		c.SetWithTTL(k, val, int64(len(val)), ttl)
	}
	c.Wait()
	return c
}
