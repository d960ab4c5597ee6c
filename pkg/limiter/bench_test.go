package limiter

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// BenchmarkAllow compares the in-memory GCRA with golang.org/x/time/rate,
// on one key and on 100k keys (x/time/rate then needs a map of limiters,
// here a sync.Map, as a user would write it), in parallel. Every check is
// allowed, the costlier path (it writes): a burst of a billion, refilled one
// per second, so keys also never go idle and get swept. Compare with
// "benchstat -col /impl" (make bench).
func BenchmarkAllow(b *testing.B) {
	const burst = 1_000_000_000
	r := rate.Every(time.Second)
	ctx := context.Background()
	for _, nkeys := range []int{1, 100_000} {
		keys := make([]string, nkeys)
		for i := range keys {
			keys[i] = "k" + strconv.Itoa(i)
		}
		b.Run("keys="+strconv.Itoa(nkeys)+"/impl=xtime", func(b *testing.B) {
			var limiters sync.Map
			for _, k := range keys {
				limiters.Store(k, rate.NewLimiter(r, burst))
			}
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					l, _ := limiters.Load(keys[i%nkeys])
					l.(*rate.Limiter).Allow()
					i++
				}
			})
		})
		b.Run("keys="+strconv.Itoa(nkeys)+"/impl=gcra", func(b *testing.B) {
			m, err := NewMemory(nil, Policy{Name: "p", Rate: 1, Burst: burst, Period: time.Second})
			if err != nil {
				b.Fatal(err)
			}
			for _, k := range keys {
				m.Allow(ctx, "p", k)
			}
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					if _, err := m.Allow(ctx, "p", keys[i%nkeys]); err != nil {
						b.Error(err)
						return
					}
					i++
				}
			})
		})
	}
}
