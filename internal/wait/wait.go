// Package wait lets tests wait for a condition with a deadline instead of
// sleeping for a guessed time: it polls, and fails the test when the
// deadline passes first.
package wait

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Until polls cond every few milliseconds until it holds, and fails t,
// naming what it waited for, if within passes first.
func Until(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting (%s) for %s", within, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// Background calls op from workers goroutines, each counting its calls i
// from 0, until the returned stop is called; stop waits for them and
// returns how many calls were made. An op that returns an error fails t
// and ends its worker.
func Background(t testing.TB, workers int, op func(w, i int) error) (stop func() int64) {
	t.Helper()
	done := make(chan struct{})
	var wg sync.WaitGroup
	var calls atomic.Int64
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				err := op(w, i)
				calls.Add(1)
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	return func() int64 {
		close(done)
		wg.Wait()
		return calls.Load()
	}
}
