package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/rustci/rustci-perf/pkg/report"
)

// TestWindowedThresholds runs the built binary with thresholds per window,
// as a user would: a limit every window holds passes, one none can hold
// fails, a window of whole intervals is judged, and one that is not is a
// usage error. No limit here depends on the machine's speed.
func TestWindowedThresholds(t *testing.T) {
	dir := t.TempDir()
	run := func(args ...string) result {
		return rustciPerf(t, dir, append([]string{"run", "cache-read", "-q", "--config", noTiming(t)}, args...)...)
	}

	r := run("--duration", "2s", "--threshold", "cache-read:p99[1s]<1h", "--output", "json=pass.json")
	if r.code != 0 || !strings.Contains(r.stdout, "cache-read:p99[1s]<1h") || !strings.Contains(r.stdout, "2 of 2 windows of 1.00s held") {
		t.Errorf("p99[1s]<1h: exit %d; want 0, and 2 of 2 windows held\n%s%s", r.code, r.stdout, r.stderr)
	}
	rep := readReportFile(t, filepath.Join(dir, "pass.json"))
	th := find(rep.Scenarios[0].Thresholds, "cache-read:p99[1s]<1h")
	if th == nil || th.Windows == nil || th.Windows.Total != 2 || th.Windows.Held != 2 || th.Windows.LengthNS != 1e9 || th.Actual == nil || !th.Pass {
		t.Errorf("JSON entry %+v; want 2 of 2 windows of 1s held, the worst's value", th)
	}

	r = run("--duration", "2s", "--threshold", "p99[1s]<1ns")
	if r.code != 1 || !strings.Contains(r.stdout, "0 of 2 windows of 1.00s held") {
		t.Errorf("p99[1s]<1ns: exit %d; want 1, and 0 of 2 windows held\n%s%s", r.code, r.stdout, r.stderr)
	}

	// 300ms is three 100ms intervals: judged (held or not, as the machine
	// goes), never refused.
	r = run("--duration", "2s", "--threshold", "p99[300ms]<1ms", "--output", "json=300.json")
	if r.code != 0 && r.code != 1 {
		t.Fatalf("p99[300ms]<1ms: exit %d; want it judged (0 or 1)\n%s%s", r.code, r.stdout, r.stderr)
	}
	rep = readReportFile(t, filepath.Join(dir, "300.json"))
	if th := find(rep.Scenarios[0].Thresholds, "p99[300ms]<1ms"); th == nil || th.Windows == nil || th.Windows.Total != 6 {
		t.Errorf("p99[300ms]<1ms in a 2s run: %+v; want 6 windows", th)
	}
	if rep.Scenarios[0].IntervalNS != 1e8 {
		t.Errorf("interval %dns; want 100ms", rep.Scenarios[0].IntervalNS)
	}

	r = run("--duration", "1s", "--threshold", "p99[150ms]<1ms")
	if r.code != 2 || !strings.Contains(r.stderr, `threshold "p99[150ms]<1ms": window 150ms is not a whole number of cache-read's intervals of 100ms`) || r.stdout != "" {
		t.Errorf("p99[150ms]<1ms: exit %d, stderr %q; want 2, naming the window, and nothing run", r.code, r.stderr)
	}
	r = run("--duration", "1s", "--threshold", "hit_rate[1s]>0.9")
	if r.code != 2 || !strings.Contains(r.stderr, "hit_rate cannot be judged per window") {
		t.Errorf("hit_rate[1s]>0.9: exit %d, stderr %q; want 2, naming the figure", r.code, r.stderr)
	}
}

func find(ths []report.Threshold, expr string) *report.Threshold {
	for i := range ths {
		if ths[i].Expr == expr {
			return &ths[i]
		}
	}
	return nil
}

// TestHlog: --hlog writes every scenario's intervals, each kind's under a
// tag of its own, every run's with --count, as an HdrHistogram interval
// log that hdrhistogram-go's reader reads back with the report's counts.
func TestHlog(t *testing.T) {
	dir := t.TempDir()
	r := rustciPerf(t, dir, "run", "cache-read", "latency", "-q", "--config", noTiming(t), "--duration", "300ms", "--count", "2",
		"--output", "json=r.json", "--hlog", "r.hlog")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "PASS: ") {
		t.Errorf("stdout does not have the text report beside --hlog:\n%s", r.stdout)
	}
	rep := readReportFile(t, filepath.Join(dir, "r.json"))
	want := map[string][]int64{} // tag: each interval's operations, in order
	at := map[string][]int64{}   // tag: each interval's start, in ms since the epoch
	for _, s := range rep.Scenarios {
		for _, iv := range s.Intervals {
			began := s.Repeat.Runs[iv.Run].MeasuredAt
			at[s.Name] = append(at[s.Name], began.Add(time.Duration(iv.StartNS)).UnixMilli())
			want[report.HlogTag(s.Name, "")] = append(want[report.HlogTag(s.Name, "")], iv.Ops)
			for _, o := range iv.Operations {
				want[report.HlogTag(s.Name, o.Name)] = append(want[report.HlogTag(s.Name, o.Name)], o.Ops)
			}
		}
	}
	if len(want) != 4 {
		t.Fatalf("tags %v; want cache-read, latency, latency.read, latency.write", want)
	}
	b, err := os.ReadFile(filepath.Join(dir, "r.hlog"))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]int64{}
	gotAt := map[string][]int64{}
	var last int64
	rd := hdrhistogram.NewHistogramLogReader(bytes.NewReader(b))
	for {
		h, err := rd.NextIntervalHistogram()
		if err != nil {
			t.Fatal(err)
		}
		if h == nil {
			break
		}
		got[h.Tag()] = append(got[h.Tag()], h.TotalCount())
		gotAt[h.Tag()] = append(gotAt[h.Tag()], h.StartTimeMs())
		if h.Tag() == "latency" {
			// each interval later than the one before, run 2's too
			if h.StartTimeMs() < last {
				t.Errorf("latency interval at %dms, before the one before it at %dms", h.StartTimeMs(), last)
			}
			last = h.StartTimeMs()
		}
	}
	for tag, ops := range want {
		if !slices.Equal(got[tag], ops) {
			t.Errorf("tag %s: read back %v; the report's intervals hold %v", tag, got[tag], ops)
		}
	}
	// each interval at its time on the wall clock: its run's measured_at
	// and its start (the reader goes through float seconds: 1ms either
	// way)
	for tag, want := range at {
		for i, ms := range want {
			if i >= len(gotAt[tag]) || gotAt[tag][i] < ms-1 || gotAt[tag][i] > ms+1 {
				t.Errorf("tag %s: intervals read back at %v; want %v (ms since the epoch)", tag, gotAt[tag], want)
				break
			}
		}
	}

	// Checked before anything runs, as an --output is.
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--hlog", filepath.Join(dir, "nowhere", "r.hlog")}, "--hlog: "},
		{[]string{"--hlog", "same", "--output", "json=same"}, `--output "json=same" and --hlog same write the same file`},
		{[]string{"--hlog", "r.json", "--baseline", "r.json"}, "--hlog r.json: r.json is read by this command"},
	} {
		r := rustciPerf(t, dir, append([]string{"run", "cache-read", "--ops", "10"}, tt.args...)...)
		if r.code != 2 || !strings.Contains(r.stderr, tt.want) || r.stdout != "" {
			t.Errorf("%v: exit %d, stderr %q; want 2 with %q, nothing run", tt.args, r.code, r.stderr, tt.want)
		}
	}
}
