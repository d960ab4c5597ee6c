package cache

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"testing"

	"github.com/rustci/rustci-perf/pkg/redisconn"

	"github.com/redis/go-redis/v9"
	"github.com/rustci/rustci-perf/internal/redistest"
)

// benchConcurrency is the number of goroutines issuing L2 calls, the -c of
// the redis-benchmark run bench/l2.sh compares with.
const benchConcurrency = 50

// BenchmarkL2Get measures a Get served by L2 through the Manager (GET and
// PTTL in one round trip), beside a raw go-redis GET on the same keys, with
// 50 goroutines. bench/l2.sh runs it against the same redis-server as
// redis-benchmark -t get -c 50 and prints the ratio; alone it starts its
// own server (or uses $RUSTCI_PERF_BENCH_REDIS_URL).
func BenchmarkL2Get(b *testing.B) {
	url := os.Getenv("RUSTCI_PERF_BENCH_REDIS_URL")
	if url == "" {
		url = redistest.Start(b).URL()
	}
	l2, err := NewL2(L2Config{Config: redisconn.Config{URL: url, PoolSize: benchConcurrency}, Prefix: "bench:"})
	if err != nil {
		b.Fatal(err)
	}
	m, _ := New(Options{}, l2)
	defer m.Close()
	ctx := context.Background()
	const n = 1000
	keys := make([]string, n)
	val := make([]byte, 3) // redis-benchmark's default value size
	for i := range keys {
		keys[i] = "key:" + strconv.Itoa(i)
		if err := m.Set(ctx, keys[i], val, 0); err != nil {
			b.Fatal(err)
		}
	}
	par := max(1, benchConcurrency/testingGOMAXPROCS())
	b.Run("impl=goredis", func(b *testing.B) {
		c := l2.Client()
		b.SetParallelism(par)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				if err := c.Get(ctx, "bench:"+keys[i%n]).Err(); err != nil && err != redis.Nil {
					b.Error(err)
					return
				}
				i++
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
	})
	b.Run("impl=manager", func(b *testing.B) {
		b.SetParallelism(par)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				if _, ok, err := m.Get(ctx, keys[i%n]); err != nil || !ok {
					b.Errorf("Get = %t, %v", ok, err)
					return
				}
				i++
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
	})
}

func testingGOMAXPROCS() int { return runtime.GOMAXPROCS(0) }
