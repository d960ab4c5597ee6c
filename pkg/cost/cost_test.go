package cost

import (
	"runtime"
	"testing"
	"time"
)

var sink []byte

// TestAllocations: a stretch that allocates n buffers of a known size is
// charged that many bytes and objects, within the runtime's counting ahead
// (a span per size class per P) and what else the process does meanwhile.
func TestAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates beside every allocation")
	}
	const n, size = 20000, 1024
	m := Start()
	for range n {
		sink = make([]byte, size)
	}
	u := m.Stop()
	perOp := float64(u.AllocBytes) / n
	// The runtime counts a span's free slots when a P takes the span, so
	// the stretch may be charged a span (8 of these) fewer or more; and the
	// runtime and the test framework allocate a few hundred small objects
	// of their own meanwhile (2.5% of these objects, 0.6% of the bytes,
	// at most here). Bytes within 2%, objects within -1% and +5%.
	if perOp < size*0.98 || perOp > size*1.02 {
		t.Errorf("AllocBytes %d over %d allocations of %d bytes: %.1f each; want %.0f to %.0f", u.AllocBytes, n, size, perOp, size*0.98, size*1.02)
	}
	if objs := float64(u.Allocs) / n; objs < 0.99 || objs > 1.05 {
		t.Errorf("Allocs %d over %d allocations: %.3f each; want 0.99 to 1.05", u.Allocs, n, objs)
	}
}

// TestNothingAllocated: a stretch that allocates nothing is charged
// (about) nothing.
func TestNothingAllocated(t *testing.T) {
	m := Start()
	x := 0
	for i := range 1_000_000 {
		x += i
	}
	u := m.Stop()
	if u.Allocs > 100 {
		t.Errorf("Allocs %d over a loop that allocates nothing (sum %d); want at most 100", u.Allocs, x)
	}
}

// TestGC: each forced collection is a cycle, and the pauses add up to
// more than nothing and less than the stretch.
func TestGC(t *testing.T) {
	const cycles = 5
	m := Start()
	for range cycles {
		runtime.GC()
	}
	u := m.Stop()
	if u.GCCycles < cycles {
		t.Errorf("GCCycles %d after %d runtime.GC(); want at least %d", u.GCCycles, cycles, cycles)
	}
	if u.GCPause <= 0 || u.GCPause > u.Wall {
		t.Errorf("GCPause %s over a stretch of %s with %d cycles; want more than 0, at most the stretch", u.GCPause, u.Wall, u.GCCycles)
	}
	if u.HeapLive == 0 {
		t.Error("HeapLive 0 after a GC; want the heap the GC found live")
	}
	if u.Goroutines < 1 {
		t.Errorf("Goroutines %d; want at least this one", u.Goroutines)
	}
}

// TestCPU: a stretch that keeps a CPU busy is charged CPU time, and never
// more than every CPU for the whole stretch (plus the kernel's
// microsecond rounding at both ends).
func TestCPU(t *testing.T) {
	m := Start()
	x := uint64(1)
	for i := range 20_000_000 {
		x = x*6364136223846793005 + uint64(i)
	}
	u := m.Stop()
	if !u.CPU {
		if runtime.GOOS == "linux" || runtime.GOOS == "darwin" {
			t.Fatalf("CPU not measured on %s", runtime.GOOS)
		}
		t.Skipf("CPU time is not measured on %s", runtime.GOOS)
	}
	cpu := u.User + u.System
	bound := u.Wall*time.Duration(runtime.NumCPU()) + 2*time.Millisecond
	if cpu <= 0 || cpu > bound {
		t.Errorf("CPU %s (user %s, system %s) over %s of wall time on %d CPUs (x %d); want more than 0, at most %s",
			cpu, u.User, u.System, u.Wall, runtime.NumCPU(), x, bound)
	}
}

// TestPeakRSS: memory touched during the stretch is under its peak.
func TestPeakRSS(t *testing.T) {
	const size = 64 << 20
	m := Start()
	b := make([]byte, size)
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1
	}
	u := m.Stop()
	runtime.KeepAlive(b)
	switch runtime.GOOS {
	case "linux", "darwin":
		if u.Peak == PeakUnknown || u.PeakRSS < size {
			t.Errorf("PeakRSS %d (peak %d) after touching %d bytes; want at least that", u.PeakRSS, u.Peak, size)
		}
	default:
		if u.Peak != PeakUnknown || u.PeakRSS != 0 {
			t.Errorf("PeakRSS %d (peak %d) on %s; want none", u.PeakRSS, u.Peak, runtime.GOOS)
		}
	}
}
