package cost

// resetPeak reports that macOS has no way to reset the high-water mark.
func resetPeak() bool { return false }

// peakRSS is getrusage's ru_maxrss, in bytes on macOS: since the process
// started.
func peakRSS(bool) (int64, bool) { return maxRSS() }
