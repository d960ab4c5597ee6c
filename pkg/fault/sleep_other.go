//go:build !linux

package fault

import "time"

// sleepUntil returns at end, or after: elsewhere than on Linux it is
// time.Sleep, as precise as the platform's timers.
func sleepUntil(end time.Time) { time.Sleep(time.Until(end)) }
