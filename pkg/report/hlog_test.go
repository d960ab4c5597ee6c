package report

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/rustci/rustci-perf/pkg/latency"
)

// hlogReport is a report with a time series in two scenarios: cache-read,
// one run of three 100ms intervals (the second with no operation), and
// latency, two runs of reads and writes, each run two intervals long.
func hlogReport(t *testing.T) *Report {
	t.Helper()
	enc := func(n int, d time.Duration) string {
		if n == 0 {
			return ""
		}
		r := latency.NewRecorder()
		for i := range n {
			r.Record(d + time.Duration(i))
		}
		s, err := r.Encode()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	// A start within a second: the log's header holds whole seconds.
	start := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC).Add(734 * time.Millisecond)
	iv := func(run, i, reads, writes int) Interval {
		v := Interval{Run: run, StartNS: int64(i) * 1e8, DurationNS: 1e8, Ops: int64(reads + writes), Histogram: enc(reads+writes, time.Microsecond)}
		if writes >= 0 {
			v.Operations = []IntervalOperation{{Name: "read", Ops: int64(reads), Histogram: enc(reads, time.Microsecond)}, {Name: "write", Ops: int64(writes), Histogram: enc(writes, time.Microsecond)}}
		} else {
			v.Ops, v.Histogram = int64(reads), enc(reads, time.Millisecond)
		}
		return v
	}
	return &Report{
		Schema: Schema, ToolVersion: "test", StartedAt: start, FinishedAt: start.Add(5 * time.Second),
		Scenarios: []Scenario{
			{Name: "cache-read", MeasuredAt: start.Add(500 * time.Millisecond), IntervalNS: 1e8,
				Intervals: []Interval{iv(0, 0, 30, -1), iv(0, 1, 0, -1), iv(0, 2, 7, -1)}},
			{Name: "skipped"},
			{Name: "latency", MeasuredAt: start.Add(2 * time.Second), IntervalNS: 1e8,
				Intervals: []Interval{iv(0, 0, 9, 1), iv(0, 1, 18, 2), iv(1, 0, 27, 3), iv(1, 1, 36, 0)},
				Repeat:    &Repeat{Count: 2, Runs: []Run{{MeasuredAt: start.Add(2 * time.Second)}, {MeasuredAt: start.Add(3 * time.Second)}}}},
		},
	}
}

// TestHlogReadsBack: the interval log, read back by hdrhistogram-go's
// log reader, holds each interval of each scenario (and each kind) under
// its tag, with its counts and at its time on the wall clock.
func TestHlogReadsBack(t *testing.T) {
	r := hlogReport(t)
	var b bytes.Buffer
	if err := WriteHlog(&b, r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"#[Histogram log format version 1.3]", "#[StartTime: 1795694400 (seconds since epoch), 2026-11-26T12:00:00Z]", "#[BaseTime: 1795694400", "Tag=latency.write,"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, b.String())
		}
	}
	var got []string
	rd := hdrhistogram.NewHistogramLogReader(&b)
	for {
		h, err := rd.NextIntervalHistogram()
		if err != nil {
			t.Fatal(err)
		}
		if h == nil {
			break
		}
		// The reader adds seconds as floats and truncates to a
		// millisecond: a length of 100ms may come back as 99.
		length := (h.EndTimeMs() - h.StartTimeMs() + 5) / 10 * 10
		got = append(got, fmt.Sprintf("%s %d+%d %d", h.Tag(), h.StartTimeMs()-r.StartedAt.UnixMilli(), length, h.TotalCount()))
	}
	want := []string{
		// cache-read's measured phase began 500ms into the run; its
		// second interval had no operation
		"cache-read 500+100 30", "cache-read 600+100 0", "cache-read 700+100 7",
		// latency's first run began at 2s, its second at 3s
		"latency 2000+100 10", "latency.read 2000+100 9", "latency.write 2000+100 1",
		"latency 2100+100 20", "latency.read 2100+100 18", "latency.write 2100+100 2",
		"latency 3000+100 30", "latency.read 3000+100 27", "latency.write 3000+100 3",
		"latency 3100+100 36", "latency.read 3100+100 36", "latency.write 3100+100 0",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("read back:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestHlogWithoutMeasuredAt: a report written before it recorded when its
// measured phases began places each scenario's intervals from its start.
func TestHlogWithoutMeasuredAt(t *testing.T) {
	r := hlogReport(t)
	r.Scenarios = r.Scenarios[:1]
	r.Scenarios[0].MeasuredAt = time.Time{}
	var b bytes.Buffer
	if err := WriteHlog(&b, r); err != nil {
		t.Fatal(err)
	}
	h, err := hdrhistogram.NewHistogramLogReader(&b).NextIntervalHistogram()
	if err != nil || h == nil || h.StartTimeMs() != r.StartedAt.UnixMilli() || h.TotalCount() != 30 {
		t.Errorf("first interval %v, %v; want 30 values from the report's start", h, err)
	}
}

func TestHlogBadHistogram(t *testing.T) {
	r := hlogReport(t)
	r.Scenarios[0].Intervals[0].Histogram = "garbage"
	if err := WriteHlog(&bytes.Buffer{}, r); err == nil || !strings.Contains(err.Error(), "cache-read") {
		t.Errorf("WriteHlog of a bad histogram: %v; want an error naming its scenario", err)
	}
}

// TestHlogSaysInjected: a log of a run with faults injected says so in
// its header, as every other format does, and still reads back.
func TestHlogSaysInjected(t *testing.T) {
	r := hlogReport(t)
	r.Injected = []string{"l2:latency=2ms"}
	var b bytes.Buffer
	if err := WriteHlog(&b, r); err != nil {
		t.Fatal(err)
	}
	named := false
	for _, line := range strings.Split(b.String(), "\n") {
		named = named || (strings.HasPrefix(line, "#") && strings.Contains(line, "FAULTS INJECTED, not a clean run: l2:latency=2ms"))
	}
	if !named {
		t.Errorf("no header line names the faults:\n%.300s", b.String())
	}
	if h, err := hdrhistogram.NewHistogramLogReader(&b).NextIntervalHistogram(); err != nil || h == nil {
		t.Errorf("log with the faults named does not read back: %v, %v", h, err)
	}
}
