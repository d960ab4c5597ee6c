package cache_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/rustci/rustci-perf/pkg/cache"
)

// A Manager over L1 alone: an in-process cache, with no server and nothing
// on disk.
func Example() {
	ctx := context.Background()
	l1, err := cache.NewL1(cache.L1Config{MaxCostBytes: 1 << 20, NumCounters: 10_000})
	if err != nil {
		log.Fatal(err)
	}
	m, err := cache.New(cache.Options{}, l1)
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()

	if err := m.Set(ctx, "user:1", []byte("ada"), time.Minute); err != nil {
		log.Fatal(err)
	}
	m.Wait() // L1 applies writes asynchronously

	v, ok, err := m.Get(ctx, "user:1")
	fmt.Printf("user:1 = %q, found %t, err %v\n", v, ok, err)
	_, ok, _ = m.Get(ctx, "user:2")
	fmt.Printf("user:2 found %t\n", ok)

	st := m.Stats()[0]
	fmt.Printf("%s: %d hit, %d miss, %d set\n", st.Name, st.Hits, st.Misses, st.Sets)
	// Output:
	// user:1 = "ada", found true, err <nil>
	// user:2 found false
	// l1: 1 hit, 1 miss, 1 set
}

// GetOrLoad calls the loader on a miss in every tier, writes its value
// through, and serves it from the cache afterwards.
func ExampleManager_GetOrLoad() {
	ctx := context.Background()
	l1, err := cache.NewL1(cache.L1Config{MaxCostBytes: 1 << 20, NumCounters: 10_000})
	if err != nil {
		log.Fatal(err)
	}
	m, err := cache.New(cache.Options{}, l1)
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()

	loads := 0
	load := func(context.Context) ([]byte, error) {
		loads++
		return []byte("expensive"), nil
	}
	for range 3 {
		v, err := m.GetOrLoad(ctx, "report", time.Minute, load)
		if err != nil {
			log.Fatal(err)
		}
		m.Wait()
		fmt.Printf("%s (loads so far: %d)\n", v, loads)
	}
	// Output:
	// expensive (loads so far: 1)
	// expensive (loads so far: 1)
	// expensive (loads so far: 1)
}

// L1 above L3, on a temporary directory: a value only L3 holds is found
// there and promoted into L1, with the time it has left to live.
func ExampleNew_tiers() {
	ctx := context.Background()
	l1, err := cache.NewL1(cache.L1Config{MaxCostBytes: 1 << 20, NumCounters: 10_000})
	if err != nil {
		log.Fatal(err)
	}
	l3, err := cache.NewL3(cache.L3Config{}) // no Dir: a temporary one, removed on Close
	if err != nil {
		log.Fatal(err)
	}
	m, err := cache.New(cache.Options{}, l1, l3)
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()

	// Written to L3 alone, as another process sharing it would have.
	if err := l3.Set(ctx, "k", []byte("v"), time.Hour); err != nil {
		log.Fatal(err)
	}
	v, ok, _ := m.Get(ctx, "k") // L1 misses, L3 hits, L1 gets a copy
	m.Wait()
	fmt.Printf("k = %q, found %t\n", v, ok)
	v, ok, _ = m.Get(ctx, "k") // now from L1
	fmt.Printf("k = %q, found %t\n", v, ok)

	for _, st := range m.Stats() {
		fmt.Printf("%s: %d hits, %d misses, %d promotions\n", st.Name, st.Hits, st.Misses, st.Promotions)
	}
	// Output:
	// k = "v", found true
	// k = "v", found true
	// l1: 1 hits, 1 misses, 1 promotions
	// l3: 1 hits, 0 misses, 0 promotions
}
