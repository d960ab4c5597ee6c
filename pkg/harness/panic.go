// A panic in an operation: recovered on the worker, and the run's error.

package harness

import (
	"fmt"
	"runtime/debug"
)

// PanicError is a panic recovered from an Op (or, by Recovered, from
// anything that runs a component): the value and the stack of the
// goroutine that panicked.
type PanicError struct {
	Value any
	Stack []byte
}

func (e *PanicError) Error() string { return fmt.Sprintf("panic: %v", e.Value) }

// Unwrap returns the panic's value when it is an error.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// Recovered makes r, a value recover returned, a *PanicError with the
// current goroutine's stack; call it in the deferred function that
// recovered, so that the stack shows where the panic happened.
func Recovered(r any) *PanicError {
	return &PanicError{Value: r, Stack: debug.Stack()}
}

// panicked returns the first panic a worker recovered, or nil.
func panicked(ws []*worker) error {
	for _, w := range ws {
		if w.panic != nil {
			return w.panic
		}
	}
	return nil
}
