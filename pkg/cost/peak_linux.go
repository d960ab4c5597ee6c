package cost

import (
	"bytes"
	"os"
	"strconv"
)

// resetPeak sets the kernel's high-water mark of the process's resident
// set (VmHWM) to its current size, as proc(5) documents for writing 5 to
// /proc/PID/clear_refs (Linux 4.0 and later). It reports whether the
// kernel took it: a kernel or a sandbox may refuse.
func resetPeak() bool {
	f, err := os.OpenFile("/proc/self/clear_refs", os.O_WRONLY, 0)
	if err != nil {
		return false
	}
	_, err = f.Write([]byte("5"))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err == nil
}

// peakRSS is the process's resident set high-water mark in bytes: VmHWM,
// which resetPeak resets. When /proc/self/status cannot be read, and the
// mark was not reset, it is getrusage's ru_maxrss: since the process
// started, and on Linux the larger of its own and its parent's resident
// set when it was forked.
func peakRSS(reset bool) (int64, bool) {
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		if kb, ok := statusKB(b, "VmHWM:"); ok {
			return kb << 10, true
		}
	}
	if reset {
		return 0, false // the mark reset is VmHWM; ru_maxrss would claim more
	}
	kb, ok := maxRSS()
	return kb << 10, ok
}

// statusKB reads the field key ("VmHWM:") of /proc/PID/status, in kB.
func statusKB(status []byte, key string) (int64, bool) {
	for line := range bytes.Lines(status) {
		rest, ok := bytes.CutPrefix(line, []byte(key))
		if !ok {
			continue
		}
		num, _ := bytes.CutSuffix(bytes.TrimSpace(rest), []byte("kB"))
		kb, err := strconv.ParseInt(string(bytes.TrimSpace(num)), 10, 64)
		return kb, err == nil && kb >= 0
	}
	return 0, false
}
