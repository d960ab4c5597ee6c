package fault

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/rustci/rustci-perf/internal/redistest"
	"github.com/rustci/rustci-perf/pkg/cache"
	"github.com/rustci/rustci-perf/pkg/redisconn"
)

// TestTierKeepsWhatItWraps: a wrapped L1 stays Local (no breaker in front
// of it) and still waits for its writes; a wrapped tier of another kind
// does not become Local. Faults reach its calls once armed, not before.
func TestTierKeepsWhatItWraps(t *testing.T) {
	ctx := context.Background()
	l1, err := cache.NewL1(cache.L1Config{MaxCostBytes: 1 << 20, NumCounters: 1000})
	if err != nil {
		t.Fatal(err)
	}
	in := New(mustParse(t, "l1:error=1"), 1)
	ft := Tier(l1, in)
	defer ft.Close()
	if _, ok := ft.(cache.Local); !ok {
		t.Error("wrapped L1 is not Local: the Manager would put a breaker in front of it")
	}
	if err := ft.Set(ctx, "k", []byte("v"), 0); err != nil {
		t.Fatalf("Set before Arm = %v; want nil", err)
	}
	ft.(cache.Waiter).Wait()
	if it, ok, err := ft.Get(ctx, "k"); !ok || err != nil || string(it.Value) != "v" {
		t.Fatalf("Get before Arm = %q, %t, %v; want the value", it.Value, ok, err)
	}
	in.Arm()
	for name, call := range map[string]func() error{
		"Get":      func() error { _, _, err := ft.Get(ctx, "k"); return err },
		"GetValue": func() error { _, _, err := ft.(cache.ValueGetter).GetValue(ctx, "k"); return err },
		"Set":      func() error { return ft.Set(ctx, "k", []byte("v"), 0) },
		"Delete":   func() error { return ft.Delete(ctx, "k") },
	} {
		if err := call(); !errors.Is(err, ErrInjected) {
			t.Errorf("%s with error=1 = %v; want ErrInjected", name, err)
		}
	}
	if st := ft.Stats(); st.Name != "l1" {
		t.Errorf("Stats name %q; want the wrapped tier's", st.Name)
	}

	l3, err := cache.NewL3(cache.L3Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	w3 := Tier(l3, New(mustParse(t, "l3:latency=1ms"), 1))
	defer w3.Close()
	if _, ok := w3.(cache.Local); ok {
		t.Error("wrapped L3 is Local: the Manager would leave it without a breaker")
	}
}

// TestHookInsideTheDeadline: the hook, added to a redisconn client after
// its deadline hook, fails calls as a slow or failing Redis does: a delay
// longer than the client's timeout ends at the timeout with
// context.DeadlineExceeded, in the command where go-redis's callers read
// it, pipelines included; an error rate fails the calls, and a delay
// shorter than the timeout lets them through.
func TestHookInsideTheDeadline(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	const timeout = 30 * time.Millisecond
	client := func(spec string) redis.UniversalClient {
		c, _, err := redisconn.New(redisconn.Config{URL: srv.URL(), Timeout: timeout})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
			t.Fatal(err)
		}
		in := New(mustParse(t, spec), 1)
		c.AddHook(Hook(in))
		in.Arm()
		return c
	}

	slow := client("l2:stall=1h@0s")
	for name, call := range map[string]func() error{
		"command": func() error { return slow.Get(ctx, "k").Err() },
		"pipeline": func() error {
			var get *redis.StringCmd
			_, err := slow.Pipelined(ctx, func(p redis.Pipeliner) error { get = p.Get(ctx, "k"); return nil })
			if err == nil || !errors.Is(get.Err(), context.DeadlineExceeded) {
				return errors.Join(errors.New("the pipeline's command does not carry the error"), err)
			}
			return err
		},
	} {
		start := time.Now()
		err := call()
		if d := time.Since(start); !errors.Is(err, context.DeadlineExceeded) || d > redistest.CallBound(timeout) {
			t.Errorf("%s in an hour-long stall: %v after %s; want the %s timeout (bound %s)", name, err, d, timeout, redistest.CallBound(timeout))
		}
	}

	if err := client("l2:error=1").Get(ctx, "k").Err(); !errors.Is(err, ErrInjected) {
		t.Errorf("Get with error=1 = %v; want ErrInjected", err)
	}
	if v, err := client("l2:latency=1ms").Get(ctx, "k").Result(); err != nil || v != "v" {
		t.Errorf("Get with 1ms of latency (timeout %s) = %q, %v; want the value", timeout, v, err)
	}
}
