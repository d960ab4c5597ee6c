// Package cost measures what a stretch of a process's work cost it: the
// CPU time the process spent (user and system), what it allocated on the
// heap (bytes and objects), the garbage collections it completed and how
// long they stopped the world, and, at the stretch's end, its resident
// set's high-water mark, its live heap and its goroutines.
//
// The model: Start reads the process's counters once and returns a Meter;
// Meter.Stop reads them again and returns the differences, a Usage.
// Nothing is read in between, so measuring a stretch costs two readings,
// whatever it holds, and adds nothing to the work inside it: a run's
// workers stay lock-free and allocation-free.
//
// Every figure is the whole process's, not one goroutine's: a Go
// goroutine moves between threads, so no per-thread clock follows it.
// What a load generator measures with this is its operations' cost plus
// its own (the goroutine that merges histograms, the clock reads) plus
// that of every background goroutine of the component under test; over
// many operations the first dominates, and a stretch of a few operations
// says little.
//
// Where each figure comes from:
//   - CPU time: getrusage(RUSAGE_SELF) on Linux and macOS, in microseconds
//     (the kernel's accounting); not measured elsewhere (Usage.CPU false).
//   - Heap allocations, GC cycles, GC pauses, live heap, goroutines:
//     runtime/metrics, everywhere. The runtime counts a span's free slots
//     as allocated when a P takes the span, so the allocation counts are
//     ahead by at most a span per size class per P: nothing over many
//     operations. The GC pause total is an estimate: the runtime keeps
//     pauses in a histogram, and each is counted at its bucket's midpoint
//     (buckets are a quarter of a power of two wide, so within 12.5%).
//   - Peak resident set: on Linux, the kernel's high-water mark (VmHWM in
//     /proc/self/status), reset to the current resident set at Start by
//     writing 5 to /proc/self/clear_refs, so it is the stretch's own peak;
//     where that write is refused, the high-water mark since the process
//     started (Usage.Peak says which). On macOS, getrusage's ru_maxrss,
//     since the process started. Not measured elsewhere.
package cost

import (
	"math"
	"runtime/metrics"
	"time"
)

// Peak says over what time a Usage's PeakRSS is the high-water mark.
type Peak int

const (
	// PeakUnknown: the resident set is not measured here.
	PeakUnknown Peak = iota
	// PeakStretch: the high-water mark was reset at Start, so it is the
	// stretch's own.
	PeakStretch
	// PeakProcess: the high-water mark since the process started, which
	// may be before the stretch.
	PeakProcess
)

// Usage is what the process spent over one stretch of its work.
type Usage struct {
	// Wall is the stretch's length on the monotonic clock, from the
	// first reading of the CPU time to the last.
	Wall time.Duration
	// User and System are the CPU time the process spent in user mode and
	// in the kernel on its behalf, every thread of it; CPU is false where
	// the system does not say (both are then 0).
	User, System time.Duration
	CPU          bool
	// AllocBytes and Allocs are what the process allocated on the heap:
	// bytes, and objects (tiny ones, which the runtime packs 16 bytes to a
	// block, each counted).
	AllocBytes, Allocs uint64
	// GCCycles counts the garbage collections completed; GCPause is the
	// total time they stopped the world (an estimate: see the package
	// doc).
	GCCycles uint64
	GCPause  time.Duration
	// PeakRSS is the resident set's high-water mark in bytes, over the
	// time Peak says; 0 when Peak is PeakUnknown.
	PeakRSS int64
	Peak    Peak
	// HeapLive is the heap the last GC before Stop found live, in bytes:
	// as of that GC, not of Stop.
	HeapLive uint64
	// Goroutines is the larger count of live goroutines of the two
	// readings, at Start and at Stop.
	Goroutines int64
}

// The runtime/metrics samples a Meter reads, in the order of its samples.
const (
	allocBytes = iota
	allocObjects
	allocTiny
	gcCycles
	heapLive
	goroutines
	gcPauses // last: its histogram is allocated when first read
	nSamples
)

var sampleNames = [nSamples]string{
	allocBytes:   "/gc/heap/allocs:bytes",
	allocObjects: "/gc/heap/allocs:objects",
	allocTiny:    "/gc/heap/tiny/allocs:objects",
	gcCycles:     "/gc/cycles/total:gc-cycles",
	heapLive:     "/gc/heap/live:bytes",
	goroutines:   "/sched/goroutines:goroutines",
	gcPauses:     "/sched/pauses/total/gc:seconds",
}

// Meter is a stretch being measured: the readings taken at its Start.
type Meter struct {
	samples []metrics.Sample
	// At Start: the cumulative counts, the GC pause total in seconds,
	// the goroutines, and the CPU time.
	start        [nSamples]uint64
	pauses       float64
	reset        bool
	began        time.Time
	user, system time.Duration
	cpu          bool
}

// Start begins measuring a stretch. Everything it allocates, it allocates
// before it reads the allocation counters; it reads the CPU time last, so
// that the stretch begins as Start returns.
func Start() *Meter {
	m := &Meter{samples: make([]metrics.Sample, nSamples)}
	for i, name := range sampleNames {
		m.samples[i].Name = name
	}
	m.reset = resetPeak()
	metrics.Read(m.samples)
	m.start = m.counts()
	m.pauses = pauseSeconds(m.samples[gcPauses].Value)
	m.began = time.Now()
	m.user, m.system, m.cpu = cpuTime()
	return m
}

// Stop ends the stretch and returns what it cost. It reads the CPU time
// first, so that the stretch ends as Stop is called, and reads the
// allocation counters before it allocates anything. Stop is called once.
func (m *Meter) Stop() Usage {
	user, system, cpu := cpuTime()
	wall := time.Since(m.began)
	metrics.Read(m.samples)
	end := m.counts()
	u := Usage{
		Wall:       wall,
		AllocBytes: end[allocBytes] - m.start[allocBytes],
		Allocs:     end[allocObjects] + end[allocTiny] - m.start[allocObjects] - m.start[allocTiny],
		GCCycles:   end[gcCycles] - m.start[gcCycles],
		HeapLive:   end[heapLive],
		Goroutines: int64(max(end[goroutines], m.start[goroutines])),
	}
	if pause := pauseSeconds(m.samples[gcPauses].Value) - m.pauses; pause > 0 {
		u.GCPause = time.Duration(math.Round(pause * 1e9))
	}
	if cpu && m.cpu {
		u.User, u.System, u.CPU = max(0, user-m.user), max(0, system-m.system), true
	}
	if rss, ok := peakRSS(m.reset); ok {
		u.PeakRSS, u.Peak = rss, PeakProcess
		if m.reset {
			u.Peak = PeakStretch
		}
	}
	return u
}

// counts are the samples' values that are counts, 0 for one the runtime
// does not know (KindBad) and for the histogram.
func (m *Meter) counts() [nSamples]uint64 {
	var out [nSamples]uint64
	for i, s := range m.samples {
		if s.Value.Kind() == metrics.KindUint64 {
			out[i] = s.Value.Uint64()
		}
	}
	return out
}

// pauseSeconds is the sum of the pauses a GC pause histogram holds, each
// at its bucket's midpoint (or its finite edge, for a bucket open at one
// end); 0 when v is not a histogram.
func pauseSeconds(v metrics.Value) float64 {
	if v.Kind() != metrics.KindFloat64Histogram {
		return 0
	}
	h := v.Float64Histogram()
	var sum float64
	for i, n := range h.Counts {
		if n == 0 {
			continue
		}
		lo, hi := h.Buckets[i], h.Buckets[i+1]
		mid := (lo + hi) / 2
		switch {
		case math.IsInf(lo, -1):
			mid = hi
		case math.IsInf(hi, 1):
			mid = lo
		}
		sum += float64(n) * max(0, mid)
	}
	return sum
}
