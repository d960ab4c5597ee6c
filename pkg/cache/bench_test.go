package cache

import (
	"context"
	"strconv"
	"testing"

	"github.com/dgraph-io/ristretto/v2"
)

// BenchmarkL1Get compares an L1 hit through the Manager with a raw
// ristretto Get on the same keys, in parallel. Compare the two with
// "benchstat -col /impl" (make bench): the ratio is the Manager's cost.
func BenchmarkL1Get(b *testing.B) {
	const n = 1 << 14
	keys := make([]string, n)
	for i := range keys {
		keys[i] = "key:" + strconv.Itoa(i)
	}
	val := make([]byte, 128)
	ctx := context.Background()

	b.Run("impl=ristretto", func(b *testing.B) {
		c, err := ristretto.NewCache(&ristretto.Config[string, []byte]{
			NumCounters: DefaultL1Config.NumCounters, MaxCost: DefaultL1Config.MaxCostBytes, BufferItems: 64, Metrics: true,
		})
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		for _, k := range keys {
			c.Set(k, val, int64(len(val)))
		}
		c.Wait()
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				if _, ok := c.Get(keys[i&(n-1)]); !ok {
					b.Error("miss")
					return
				}
				i++
			}
		})
	})
	b.Run("impl=manager", func(b *testing.B) {
		l1, err := NewL1(DefaultL1Config)
		if err != nil {
			b.Fatal(err)
		}
		m, _ := New(Options{}, l1)
		defer m.Close()
		for _, k := range keys {
			m.Set(ctx, k, val, 0)
		}
		m.Wait()
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				if _, ok, _ := m.Get(ctx, keys[i&(n-1)]); !ok {
					b.Error("miss")
					return
				}
				i++
			}
		})
	})
}
