package compare

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/rustci/rustci-perf/pkg/latency"
	"github.com/rustci/rustci-perf/pkg/report"
)

// process draws reports of one mixed scenario, latency (reads and
// writes), as a run of the tool writes them: runs of 100ms intervals,
// each with its histograms. The latencies are lognormal around a median
// that moves from run to run (runSD) and from interval to interval
// (intervalSD, in log scale), so latencies close in time are correlated
// as on a real machine, and an interval does fewer operations as its
// median rises (closed loop).
type process struct {
	runs, intervals int
	// perInterval is the operations of an interval at the median speed.
	perInterval       int
	runSD, intervalSD float64
	// read and write medians, in ns.
	read, write float64
	// slow, when set, changes each operation's latency; z is its draw on
	// the unit normal (z > 2.054 is the slowest 2% of its interval).
	slow func(kind string, z, ns float64) float64
	// speed scales the operations of every interval (1 when 0).
	speed float64
}

// quiet is defaults on a quiet machine: intervals spreading by 5%.
var quiet = func() process { p := defaults; p.intervalSD = 0.05; return p }()

// slowWrites makes the slowest 2% of writes 4 times slower: past the
// single-run floor for tails.
func slowWrites(kind string, z, ns float64) float64 {
	if kind == "write" && z > 2.054 {
		return ns * 4
	}
	return ns
}

// defaults are a process like this machine's 1s runs of the latency
// scenario: ten intervals whose throughputs spread by some 15%. Each run
// is as fast as the next (runSD 0): a single run cannot see how runs
// differ, and no test of single runs can tell that apart from a change.
var defaults = process{runs: 1, intervals: 10, perInterval: 2000, intervalSD: 0.15, read: 1000, write: 4000}

// kindRecs are the histograms of a span of operations: all, reads, writes.
type kindRecs struct{ all, read, write *latency.Recorder }

func newKindRecs() kindRecs {
	return kindRecs{latency.NewRecorder(), latency.NewRecorder(), latency.NewRecorder()}
}

func (k kindRecs) record(kind string, d time.Duration) {
	k.all.Record(d)
	if kind == "read" {
		k.read.Record(d)
	} else {
		k.write.Record(d)
	}
}

func enc(r *latency.Recorder) string {
	if r.Count() == 0 {
		return ""
	}
	s, err := r.Encode()
	if err != nil {
		panic(err)
	}
	return s
}

func (p process) draw(seed uint64) *report.Report {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	const every = 100 * time.Millisecond
	speed := p.speed
	if speed == 0 {
		speed = 1
	}
	total := newKindRecs()
	s := report.Scenario{Name: "latency", Group: "cache", Status: report.StatusPassed, Passed: true, Mode: "closed-loop", Concurrency: 4,
		IntervalNS: int64(every), Counters: map[string]int64{}, Metrics: map[string]float64{}, Thresholds: []report.Threshold{}}
	var runs []report.Run
	for run := range p.runs {
		runRecs := newKindRecs()
		runF := math.Exp(p.runSD * rng.NormFloat64())
		for i := range p.intervals {
			f := runF * math.Exp(p.intervalSD*rng.NormFloat64())
			n := int(float64(p.perInterval) / f * speed)
			iv := newKindRecs()
			for range n {
				kind, median := "read", p.read
				if rng.Float64() < 0.2 {
					kind, median = "write", p.write
				}
				z := rng.NormFloat64()
				ns := median * f * math.Exp(0.5*z)
				if p.slow != nil {
					ns = p.slow(kind, z, ns)
				}
				d := time.Duration(ns)
				iv.record(kind, d)
				runRecs.record(kind, d)
				total.record(kind, d)
			}
			ri := report.Interval{Run: run, StartNS: int64(i) * int64(every), DurationNS: int64(every), Ops: iv.all.Count(),
				ThroughputOpsPerSec: float64(iv.all.Count()) / every.Seconds(), P50NS: int64(iv.all.Percentile(50)),
				P99NS: int64(iv.all.Percentile(99)), MaxNS: int64(iv.all.Max()), Histogram: enc(iv.all)}
			for _, k := range []struct {
				name string
				rec  *latency.Recorder
			}{{"read", iv.read}, {"write", iv.write}} {
				ri.Operations = append(ri.Operations, report.IntervalOperation{Name: k.name, Ops: k.rec.Count(),
					P50NS: int64(k.rec.Percentile(50)), P99NS: int64(k.rec.Percentile(99)), Histogram: enc(k.rec)})
			}
			s.Intervals = append(s.Intervals, ri)
		}
		d := int64(p.intervals) * int64(every)
		runs = append(runs, report.Run{Ops: runRecs.all.Count(), DurationNS: d, ThroughputOpsPerSec: float64(runRecs.all.Count()) / (float64(d) / 1e9),
			Latency: report.LatencyOf(runRecs.all.Summary()), Histogram: enc(runRecs.all), Counters: map[string]int64{}, Metrics: map[string]float64{}})
	}
	s.Ops = total.all.Count()
	s.DurationNS = int64(p.runs*p.intervals) * int64(every)
	secs := float64(s.DurationNS) / 1e9
	s.ThroughputOpsPerSec = float64(s.Ops) / secs
	s.Latency, s.Histogram = report.LatencyOf(total.all.Summary()), enc(total.all)
	for _, k := range []struct {
		name string
		rec  *latency.Recorder
	}{{"read", total.read}, {"write", total.write}} {
		s.Operations = append(s.Operations, report.Operation{Name: k.name, Ops: k.rec.Count(), ThroughputOpsPerSec: float64(k.rec.Count()) / secs,
			Latency: report.LatencyOf(k.rec.Summary()), Histogram: enc(k.rec)})
	}
	if p.runs > 1 {
		s.Repeat = &report.Repeat{Count: p.runs, Judge: "median", Stats: map[string]report.Stat{}, Runs: runs}
	}
	at := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	return &report.Report{Schema: report.Schema, ToolVersion: "test", StartedAt: at, FinishedAt: at.Add(time.Minute),
		Environment: report.Environment{GoVersion: "go1.26", OS: "linux", Arch: "amd64", GOMAXPROCS: 2, NumCPU: 2},
		Passed:      true, Scenarios: []report.Scenario{s}}
}

// flagged compares pairs of reports drawn from p (base) and q (new) and
// returns, per pair, the figures judged a regression or an improvement.
func flagged(t *testing.T, p, q process, pairs int) [][]string {
	t.Helper()
	return flaggedBy(t, p, q, pairs, Defaults)
}

// statsOnly are Defaults without the single-run noise floors: what the
// tests themselves call a change.
var statsOnly = func() Options {
	o := Defaults
	o.SingleRunEffect, o.SingleRunTailEffect, o.UntestedEffect, o.LatencyFloor = 0, 0, 0, 0
	return o
}()

// flaggedBy is flagged with options o.
func flaggedBy(t *testing.T, p, q process, pairs int, o Options) [][]string {
	t.Helper()
	var out [][]string
	for i := range pairs {
		seed := uint64(1000 + 2*i)
		c, err := Reports(Side{"base", p.draw(seed)}, Side{"new", q.draw(seed + 1)}, o)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, ch := range c.Scenarios[0].Changes {
			if ch.Verdict == report.Regression || ch.Verdict == report.Improvement {
				got = append(got, ch.Metric)
			}
		}
		out = append(out, got)
	}
	return out
}

// count is the pairs in which any figure is flagged, or, with metrics,
// every one of them.
func count(pairs [][]string, metrics ...string) int {
	n := 0
	for _, got := range pairs {
		hit := len(got) > 0
		if len(metrics) > 0 {
			hit = true
			for _, m := range metrics {
				hit = hit && slices.Contains(got, m)
			}
		}
		if hit {
			n++
		}
	}
	return n
}

// skipUnderRace skips a test of the statistics, which draws and compares
// many reports: slow under the race detector, and with no concurrency to
// check. make test runs them without it.
func skipUnderRace(t *testing.T) {
	if raceEnabled {
		t.Skip("statistics, not concurrency: run without -race (make test does)")
	}
}

// TestProcessSameSingleRuns: single runs of ten intervals drawn from the
// same process: each figure is called a change (regression or
// improvement) about as often as alpha says, not more, where operations
// resampled as if independent (the reports without their intervals, as
// compare judged them before) call p99 a change in most pairs.
func TestProcessSameSingleRuns(t *testing.T) {
	skipUnderRace(t)
	const n = 20
	pairs := flaggedBy(t, defaults, defaults, n, statsOnly)
	figures := 0
	for _, got := range pairs {
		figures += len(got)
	}
	// 15 figures a pair (throughput and 4 percentiles, of all operations,
	// reads and writes); alpha 0.05 calls 5% of them on average, 15 in
	// 300, in clumps: a pair whose runs differ moves several together.
	if figures > 36 {
		t.Errorf("same process, block bootstrap: %d figures of %d called a change (%v); want at most 36 (12%%)", figures, 15*n, pairs)
	}
	if p99 := count(pairs, "p99"); p99 > 3 {
		t.Errorf("same process, block bootstrap: p99 called a change in %d of %d pairs; want at most 3", p99, n)
	}
	bare := func(r *report.Report) *report.Report {
		r.Scenarios[0].Intervals = nil
		return r
	}
	old := 0
	for i := range n {
		seed := uint64(1000 + 2*i)
		c, err := Reports(Side{"base", bare(defaults.draw(seed))}, Side{"new", bare(defaults.draw(seed + 1))}, statsOnly)
		if err != nil {
			t.Fatal(err)
		}
		if verdicts(c)["p99"].Verdict != report.NoChange {
			old++
		}
	}
	t.Logf("same process: block bootstrap calls %d of %d figures a change, in %d of %d pairs; operations resampled call p99 one in %d pairs",
		figures, 15*n, count(pairs), n, old)
	if old < n/2 {
		t.Errorf("operations resampled called p99 a change in %d of %d pairs: the process is not as correlated as meant", old, n)
	}
}

// TestProcessSlowTailSingleRuns: every interval's slowest 2% of operations
// 30% slower (p99 and p99.9 30% up, the rest as before) is a regression of
// p99 with single runs of ten intervals, on a quiet machine (intervals
// spreading by 5%): in 18 pairs of 20 at least.
// TestProcessSameSingleRunsFloors: with the single-run noise floors of
// Defaults, two single runs of one process, whose runs spread by 5% (the
// run-to-run CV of throughput bench/gate-check.sh measures on a quiet
// 2-CPU VM), are called a regression in at most two pairs of 20 (the
// issue's "9 of 10 A/A comparisons quiet"); without
// the floors the statistics alone call a change in several, since a block
// bootstrap within each run cannot see how runs differ.
func TestProcessSameSingleRunsFloors(t *testing.T) {
	skipUnderRace(t)
	p := defaults
	p.runSD = 0.05
	if n := count(flaggedBy(t, p, p, 20, Defaults)); n > 2 {
		t.Errorf("same process, single runs, Defaults: %d of 20 pairs flagged (%v); want at most 2", n, flaggedBy(t, p, p, 20, Defaults))
	}
	if n := count(flaggedBy(t, p, p, 20, statsOnly)); n < 2 {
		t.Errorf("same process, runs 5%% apart, no floors: %d of 20 pairs flagged; the floors have nothing to do", n)
	}
}

// TestProcessSlowTailSingleRuns: single runs see a tail 3.5 times slower
// (above the single-run floor for tails, x3) in nearly every pair; the
// statistics alone see one 30% slower, which the floor leaves to --count.
func TestProcessSlowTailSingleRuns(t *testing.T) {
	skipUnderRace(t)
	base := defaults
	base.write = base.read // one distribution: its slowest 2% are each kind's
	base.intervalSD = 0.05
	slower := func(f float64) process {
		slow := base
		slow.slow = func(_ string, z, ns float64) float64 {
			if z > 2.054 {
				return ns * f
			}
			return ns
		}
		return slow
	}
	pairs := flagged(t, base, slower(3.5), 20)
	if n := count(pairs, "p99"); n < 18 {
		t.Errorf("p99 3.5 times slower: flagged in %d of 20 pairs (%v); want 18 at least", n, pairs)
	}
	t.Logf("p99 3.5 times slower, quiet: p99 flagged in %d, p99.9 in %d, read.p99 in %d, write.p99 in %d of 20 pairs",
		count(pairs, "p99"), count(pairs, "p99.9"), count(pairs, "read.p99"), count(pairs, "write.p99"))
	if n := count(flaggedBy(t, base, slower(1.3), 20, statsOnly), "p99"); n < 18 {
		t.Errorf("p99 30%% slower, no floors: flagged in %d of 20 pairs; want 18 at least", n)
	}
}

// TestProcessSlowRedisCount5: a Redis whose replies come 300µs later (each
// operation of a 500µs-median L2 scenario 300µs slower, throughput down as
// much in closed loop) is a regression of throughput and p50, of all
// operations and of each kind, with --count 5 on both sides, runs
// spreading by 10% and intervals by 15%; the same process on both sides is
// not. (p99 moves by a fifth, about twice the runs' spread: the U test of
// five runs a side finds it in most pairs, not all.)
func TestProcessSlowRedisCount5(t *testing.T) {
	skipUnderRace(t)
	base := process{runs: 5, intervals: 10, perInterval: 800, runSD: 0.1, intervalSD: 0.15, read: 500_000, write: 600_000}
	slow := base
	slow.slow = func(_ string, _, ns float64) float64 { return ns + 300_000 }
	slow.speed = 500.0 / 800
	pairs := flagged(t, base, slow, 5)
	want := []string{"throughput", "p50", "read.throughput", "read.p50", "write.throughput", "write.p50"}
	if n := count(pairs, want...); n != 5 {
		t.Errorf("300µs slower replies: %v all flagged in %d of 5 pairs (%v); want 5", want, n, pairs)
	}
	t.Logf("300µs slower replies, --count 5: p99 flagged in %d of 5 pairs", count(pairs, "p99"))
	same := flagged(t, base, base, 5)
	if n := count(same); n > 1 {
		t.Errorf("--count 5, same process: %d of 5 pairs flagged (%v); want at most 1", n, same)
	}
}
