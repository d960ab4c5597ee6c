package limiter_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/rustci/rustci-perf/pkg/limiter"
)

// The in-memory limiter on a clock the example moves by hand: 2 actions a
// second, in bursts of up to 2.
func Example() {
	var now time.Duration
	clock := func() time.Duration { return now }
	m, err := limiter.NewMemory(clock, limiter.Policy{Name: "api", Rate: 2, Burst: 2, Period: time.Second})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	check := func() {
		r, err := m.Allow(ctx, "api", "user:1")
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("at %-6s allowed %d, remaining %d, retry after %s\n", now, r.Allowed, r.Remaining, r.RetryAfter)
	}
	check() // the burst
	check()
	check() // denied: the next is due in half a second
	now += 500 * time.Millisecond
	check()

	// Another key has its own burst; an unknown policy is the caller's error.
	r, _ := m.Allow(ctx, "api", "user:2")
	fmt.Println("user:2 allowed", r.Allowed)
	_, err = m.Allow(ctx, "nope", "user:1")
	fmt.Println(errors.Is(err, limiter.ErrUnknownPolicy))

	fmt.Printf("%+v\n", m.Stats()["api"])
	// Output:
	// at 0s     allowed 1, remaining 1, retry after -1ns
	// at 0s     allowed 1, remaining 0, retry after -1ns
	// at 0s     allowed 0, remaining 0, retry after 500ms
	// at 500ms  allowed 1, remaining 0, retry after -1ns
	// user:2 allowed 1
	// true
	// {Allowed:4 Denied:1 Fallback:0 RedisErrors:0 Timeouts:0}
}

// Policies change while checks run: a replaced policy keeps its keys'
// state, a removed one is gone.
func ExampleMemory_SetPolicy() {
	var now time.Duration
	m, err := limiter.NewMemory(func() time.Duration { return now }, limiter.Policy{Name: "api", Rate: 1, Burst: 1, Period: time.Second})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	r, _ := m.Allow(ctx, "api", "k")
	fmt.Println("allowed", r.Allowed)
	r, _ = m.Allow(ctx, "api", "k")
	fmt.Println("allowed", r.Allowed, "retry after", r.RetryAfter)

	// A bigger burst: the key's state is kept, so one more fits now.
	if err := m.SetPolicy(limiter.Policy{Name: "api", Rate: 1, Burst: 2, Period: time.Second}); err != nil {
		log.Fatal(err)
	}
	r, _ = m.Allow(ctx, "api", "k")
	fmt.Println("allowed", r.Allowed, "under", r.Policy)

	fmt.Println("removed", m.RemovePolicy("api"))
	_, err = m.Allow(ctx, "api", "k")
	fmt.Println(err)
	// Output:
	// allowed 1
	// allowed 0 retry after 1s
	// allowed 1 under api: 1/1s burst 2
	// removed true
	// check "k": policy "api": unknown policy
}
