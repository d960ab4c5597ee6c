package limiter_test

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/rustci/rustci-perf/internal/redistest"
	"github.com/rustci/rustci-perf/pkg/limiter"
	"github.com/rustci/rustci-perf/pkg/redisconn"
)

// BenchmarkFallback compares a check answered by the fallback while the
// breaker is open (Redis refusing connections) with the in-memory limiter
// alone, in parallel on one key: the price of the Redis limiter's detour.
// Compare with "benchstat -col /impl" (make bench).
func BenchmarkFallback(b *testing.B) {
	p := limiter.Policy{Name: "p", Rate: 1, Burst: 1_000_000_000, Period: time.Second}
	ctx := context.Background()
	run := func(b *testing.B, l limiter.Limiter) {
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := l.AllowN(ctx, "p", "k", 1); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	b.Run("impl=memory", func(b *testing.B) {
		m, _ := limiter.NewMemory(nil, p)
		run(b, m)
	})
	b.Run("impl=fallback", func(b *testing.B) {
		c, _, _ := redisconn.New(redisconn.Config{URL: "redis://" + redistest.Refused(b)})
		defer c.Close()
		r, _ := limiter.NewRedis(c, limiter.RedisOptions{BreakerFailures: 1, BreakerBackoff: time.Hour}, p)
		r.Allow(ctx, "p", "k") // fails, opens the breaker
		if !r.Degraded() {
			b.Fatal("breaker closed")
		}
		run(b, r)
	})
}

// BenchmarkRedisCheck measures checks through the Redis limiter with 50
// goroutines. bench/limiter.sh runs it against the same redis-server as
// redis-benchmark running EVALSHA of redis_rate's script with -c 50, and
// prints the ratio; alone it starts its own server (or uses
// $RUSTCI_PERF_BENCH_REDIS_URL).
func BenchmarkRedisCheck(b *testing.B) {
	url := os.Getenv("RUSTCI_PERF_BENCH_REDIS_URL")
	if url == "" {
		url = redistest.Start(b).URL()
	}
	c, _, err := redisconn.New(redisconn.Config{URL: url, PoolSize: 50, Timeout: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	p := limiter.Policy{Name: "p", Rate: 1_000_000, Burst: 1000, Period: time.Second}
	r, err := limiter.NewRedis(c, limiter.RedisOptions{}, p)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	r.Allow(ctx, "p", "warm") // loads the script
	b.SetParallelism(max(1, 50/runtimeProcs()))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := r.Allow(ctx, "p", strconv.Itoa(i%1000)); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "checks/s")
	if st := r.Stats()["p"]; st.Fallback != 0 {
		b.Fatalf("%d checks fell back: Redis did not answer them all", st.Fallback)
	}
}

func runtimeProcs() int { return runtime.GOMAXPROCS(0) }
