//go:build !linux && !darwin

package cost

import "time"

// cpuTime reports that the process's CPU time is not measured here.
func cpuTime() (user, system time.Duration, ok bool) { return 0, 0, false }

// resetPeak reports that the high-water mark cannot be reset here.
func resetPeak() bool { return false }

// peakRSS reports that the resident set is not measured here.
func peakRSS(bool) (int64, bool) { return 0, false }
