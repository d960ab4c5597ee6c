package report

import (
	"fmt"
	"math"
	"strconv"

	"github.com/rustci/rustci-perf/pkg/metric"
)

// What a scenario's measured phase cost the process (metric.Def.Cost),
// in one wording for every human-readable format: text and JUnit's
// system-out write costLine, HTML too, Markdown a table of the same
// figures.

// costLine says what s's measured phase cost the process: "cpu 111ns/op
// (user 593ms, system 335µs in all), 0.0812 B/op, 0.000159 allocs/op; 0
// GC cycles, 0ns paused; peak RSS 57.8 MiB, live heap 18.6 MiB, 25
// goroutines"; a figure s lacks or that is n/a as NA; "" when s has none
// (a report of an earlier version, a scenario that did not run).
func costLine(s Scenario) string {
	if !hasCost(s) {
		return ""
	}
	user, system := s.count(metric.CPUUser.Name), s.count(metric.CPUSystem.Name)
	cpu := Duration(s.figure(metric.CPUPerOp.Name))
	if cpu != NA {
		cpu += "/op"
	}
	return fmt.Sprintf("cpu %s (user %s, system %s in all), %s B/op, %s allocs/op; %s, %s paused; peak RSS %s, live heap %s, %s goroutines",
		cpu, Duration(user), Duration(system),
		Number(s.figure(metric.AllocBytesPerOp.Name)), Number(s.figure(metric.AllocsPerOp.Name)),
		cycles(s), Duration(s.count(metric.GCPause.Name)),
		Bytes(s.figure(metric.PeakRSS.Name)), Bytes(s.figure(metric.HeapLive.Name)), Number(s.figure(metric.Goroutines.Name)))
}

// cycles says how many GC cycles s's measured phase ran: "1 GC cycle".
func cycles(s Scenario) string {
	n, ok := s.Counters[metric.GCCycles.Name]
	if !ok {
		return NA + " GC cycles"
	}
	return plural(int(n), "GC cycle")
}

// costTable writes, in Markdown, a row per scenario of what an operation
// cost; nothing when no scenario has the figures.
func costTable(ew *errWriter, ss []Scenario) {
	head := false
	for _, s := range ss {
		if !hasCost(s) {
			continue
		}
		if !head {
			ew.printf("\n| scenario | cpu/op | B/op | allocs/op | GC | peak RSS |\n|---|---:|---:|---:|---:|---:|\n")
			head = true
		}
		ew.printf("| %s | %s | %s | %s | %s, %s | %s |\n", s.Name, Duration(s.figure(metric.CPUPerOp.Name)),
			Number(s.figure(metric.AllocBytesPerOp.Name)), Number(s.figure(metric.AllocsPerOp.Name)),
			cycles(s), Duration(s.count(metric.GCPause.Name)), Bytes(s.figure(metric.PeakRSS.Name)))
	}
	if head {
		ew.printf("\nWhat the measured phase cost the whole process (every goroutine, the load generator's own included), per operation run.\n")
	}
}

// hasCost reports whether s has any figure of what its measured phase
// cost.
func hasCost(s Scenario) bool {
	for _, d := range metric.CostFigures() {
		if _, ok := s.Counters[d.Name]; ok {
			return true
		}
		if _, ok := s.Metrics[d.Name]; ok {
			return true
		}
	}
	return false
}

// count is s's counter name, NaN when s has none.
func (s Scenario) count(name string) float64 {
	v, ok := s.Counters[name]
	if !ok {
		return metric.NA
	}
	return float64(v)
}

// figure is s's metric name, NaN when s has none (or it is n/a).
func (s Scenario) figure(name string) float64 {
	v, ok := s.Metrics[name]
	if !ok {
		return metric.NA
	}
	return v
}

// Bytes writes a size in bytes with three significant digits, in B, KiB,
// MiB or GiB; NA when v is not a number.
func Bytes(v float64) string {
	if !metric.Valid(v) {
		return NA
	}
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	i := 0
	for ; i < len(units)-1 && math.Abs(v) >= 1024; i++ {
		v /= 1024
	}
	if i == 0 && v == math.Trunc(v) {
		return strconv.FormatFloat(v, 'f', 0, 64) + " B"
	}
	return sig(v) + " " + units[i]
}

// isCost reports whether the figure named is one of what the measured
// phase cost, which the formats show apart.
func isCost(name string) bool {
	d, ok := metric.Lookup(name)
	return ok && d.Cost
}
