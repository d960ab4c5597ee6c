package canary

import (
	"context"
	"testing"
)

// TestMeasure: the canary measures something, and stops at once when its
// context has ended. (How fast it is is the machine's business: no test
// asserts it.)
func TestMeasure(t *testing.T) {
	if got := Measure(context.Background()); !(got > 0) {
		t.Errorf("Measure = %g; want a rate above 0", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if got := Measure(ctx); got != 0 {
		t.Errorf("Measure(ended context) = %g; want 0, no round run", got)
	}
}
