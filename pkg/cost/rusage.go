//go:build linux || darwin

package cost

import (
	"syscall"
	"time"
)

// cpuTime is the process's user and system CPU time so far, every thread
// of it (getrusage RUSAGE_SELF).
func cpuTime() (user, system time.Duration, ok bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, 0, false
	}
	return time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano()), true
}

// maxRSS is getrusage's ru_maxrss as the system gives it: kilobytes on
// Linux, bytes on macOS; false when it gives none.
func maxRSS() (int64, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil || ru.Maxrss <= 0 {
		return 0, false
	}
	return int64(ru.Maxrss), true
}
