package harness

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// panicky returns Ops of which worker 1's panics with value at its call
// number at; the others run on (and, with Duration, would run for an hour).
func panicky(at int, value any) func(int) Op {
	return func(w int) Op {
		return func(i int) (Kind, error) {
			if w == 1 && i == at {
				panic(value)
			}
			return 0, nil
		}
	}
}

// TestOpPanicIsAnError: an Op that panics, in the warmup or the measured
// phase, closed or open loop, makes Run return a *PanicError with the
// panic's value and the stack where it happened, and stops the other
// workers, rather than ending the process.
func TestOpPanicIsAnError(t *testing.T) {
	boom := errors.New("boom")
	for _, tc := range []struct {
		name string
		c    Config
		at   int
	}{
		// Measured phase, closed loop, bounded by time: the others would
		// run for an hour unless stopped.
		{"measured", Config{Workers: 3, Duration: time.Hour}, 50},
		// Warmup, which is bounded by count here.
		{"warmup", Config{Workers: 3, Ops: 100, WarmupOps: 300}, 20},
		// Open loop.
		{"open loop", Config{Workers: 3, Duration: time.Hour, Rate: 1e6}, 50},
	} {
		t.Run(tc.name, func(t *testing.T) {
			done := make(chan struct{})
			var res *Result
			var err error
			go func() {
				defer close(done)
				res, err = Run(context.Background(), tc.c, panicky(tc.at, boom))
			}()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				t.Fatal("Run did not return within 30s of an Op's panic")
			}
			var pe *PanicError
			if !errors.As(err, &pe) || res != nil {
				t.Fatalf("Run = %v, %v; want no result and a *PanicError", res, err)
			}
			if !errors.Is(err, boom) || pe.Value != boom {
				t.Errorf("panic value %v; want boom", pe.Value)
			}
			if !strings.Contains(string(pe.Stack), "panic_test.go:") {
				t.Errorf("stack does not show where the panic happened:\n%s", pe.Stack)
			}
		})
	}
}
