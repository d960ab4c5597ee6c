package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/rustci/rustci-perf/schema"
)

// windowed is the fixture with thresholds judged per window on its
// latency scenario, whose intervals are 0.5ms long and of which the fourth
// stalled: a p99 per window of two intervals, missed in the stall's
// window and held in the two others; reads' throughput per interval, held
// in 6 of 7 where 75% must; and a window longer than the whole run, n/a.
func windowed() *Report {
	r := fixture()
	p := func(v float64) *float64 { return &v }
	s := &r.Scenarios[1]
	s.Thresholds = append(s.Thresholds,
		Threshold{Expr: "p99[1ms]<100us", Metric: "p99", Op: "<", Limit: 1e5, Actual: p(190000), Unit: "ns", Pass: false,
			Windows: &Windows{LengthNS: 1_000_000, SharePct: 100, Held: 2, Total: 3, Worst: &WindowAt{StartNS: 1_000_000}}},
		Threshold{Expr: "read.throughput[500us, 75%]>2500000", Metric: "read.throughput", Op: ">", Limit: 2.5e6, Actual: p(2322000), Pass: true,
			Windows: &Windows{LengthNS: 500_000, SharePct: 75, Held: 6, Total: 7, Worst: &WindowAt{StartNS: 1_500_000}}},
		Threshold{Expr: "mean[10ms]<1ms", Metric: "mean", Op: "<", Limit: 1e6, Unit: "ns", Pass: false,
			Windows: &Windows{LengthNS: 10_000_000, SharePct: 100}},
	)
	s.Notes = append(s.Notes, "mean[10ms]<1ms is n/a: no whole window of 10ms to judge: the measured phase's time series, 3.72ms, is shorter than one window of 10ms (run longer: --duration)")
	return r
}

// TestWindowsGoldens: every format says of a threshold judged per window
// how many windows held of how many, and its worst window's value and
// when it was; the JSON validates and reads back as written.
func TestWindowsGoldens(t *testing.T) {
	for _, name := range []string{"text", "json", "markdown", "junit", "html"} {
		f, err := Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := f(&b, windowed()); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		golden(t, "windows."+name+".golden", b.Bytes())
		out := b.String()
		if name == "json" {
			if err := schema.ValidateReport(b.Bytes()); err != nil {
				t.Errorf("json: %v", err)
			}
			r, err := ReadJSON(bytes.NewReader(b.Bytes()))
			if err != nil {
				t.Fatalf("json does not read back: %v", err)
			}
			var again bytes.Buffer
			if err := JSON(&again, r); err != nil || again.String() != out {
				t.Errorf("json read back writes differently (%v)", err)
			}
			for _, want := range []string{`"length_ns": 1000000`, `"held": 2`, `"total": 3`, `"share_pct": 75`, `"start_ns": 1000000`} {
				if !strings.Contains(out, want) {
					t.Errorf("json lacks %s", want)
				}
			}
			continue
		}
		for _, want := range []string{"2 of 3 windows of 1.00ms held; worst at 1.00ms", "190µs", "6 of 7 windows of 500µs held, 75% needed; worst at 1.50ms", "no whole window of 10.0ms"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s lacks %q:\n%s", name, want, out)
			}
		}
	}
}

// TestWindowsWords: the words for a threshold's windows, with --count
// naming the worst window's run.
func TestWindowsWords(t *testing.T) {
	w := func(held, total int, share float64, at *WindowAt) Threshold {
		return Threshold{Windows: &Windows{LengthNS: 1e9, SharePct: share, Held: held, Total: total, Worst: at}}
	}
	tests := []struct {
		t        Threshold
		repeated bool
		want     string
	}{
		{Threshold{}, false, ""}, // on the whole phase
		{w(2, 2, 100, &WindowAt{}), false, "2 of 2 windows of 1.00s held; worst at 0s"},
		{w(1, 1, 100, &WindowAt{StartNS: 3e9}), false, "1 of 1 window of 1.00s held; worst at 3.00s"},
		{w(19, 20, 95, &WindowAt{Run: 1, StartNS: 2e9}), true, "19 of 20 windows of 1.00s held, 95% needed; worst in run 2 at 2.00s"},
		{w(4, 4, 99.5, &WindowAt{}), true, "4 of 4 windows of 1.00s held, 99.5% needed; worst in run 1 at 0s"},
		{w(0, 0, 100, nil), false, "no whole window of 1.00s"},
	}
	for _, tt := range tests {
		if got := windowsWords(tt.t, tt.repeated); got != tt.want {
			t.Errorf("windowsWords(%+v, %t) = %q; want %q", tt.t.Windows, tt.repeated, got, tt.want)
		}
	}
}

// TestReadRefusesWindows: a threshold's windows read back only as a run
// writes them: as its expression windows it, in agreement with its
// verdict, its worst window in a run the scenario has.
func TestReadRefusesWindows(t *testing.T) {
	edit := func(f func(th []Threshold)) []byte {
		r := windowed()
		f(r.Scenarios[1].Thresholds)
		return jsonOf(t, r)
	}
	const at = "/scenarios/1/thresholds/"
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"windows on a threshold on the whole phase", edit(func(th []Threshold) { th[0].Windows = th[4].Windows }),
			at + "0/windows (scenario latency): windows of 1ms, 100% needed, but the expression p99<2ms judges the whole phase"},
		{"no windows on a windowed threshold", edit(func(th []Threshold) { th[4].Windows = nil }),
			at + "4/windows (scenario latency): missing: p99[1ms]<100us is judged per window"},
		{"another window length", edit(func(th []Threshold) { th[4].Windows.LengthNS = 2_000_000 }),
			"windows of 2ms, 100% needed, but the expression p99[1ms]<100us judges windows of 1ms, 100% needed"},
		{"another share", edit(func(th []Threshold) { th[5].Windows.SharePct = 90 }),
			"judges windows of 500µs, 75% needed"},
		{"more held than there are", edit(func(th []Threshold) { th[4].Windows.Held = 4 }),
			at + "4/windows/held (scenario latency): 4, more than the 3 windows"},
		{"passed with too few held", edit(func(th []Threshold) { th[5].Windows.Held = 5 }),
			at + "5/windows/held (scenario latency): 5 of 7 windows, 75% needed, but pass is true"},
		{"missed with enough held", edit(func(th []Threshold) { th[4].Windows.Held = 3 }),
			"3 of 3 windows, 100% needed, but pass is false"},
		{"a worst window of none", edit(func(th []Threshold) { th[6].Windows.Worst = &WindowAt{} }),
			at + "6/windows/worst (scenario latency): present, with no window"},
		{"a value with no window", edit(func(th []Threshold) { v := 1.0; th[6].Actual = &v }),
			at + "6/actual (scenario latency): 1 with no window"},
		{"no worst of three", edit(func(th []Threshold) { th[4].Windows.Worst = nil }),
			at + "4/windows/worst (scenario latency): missing"},
		{"the worst in a run not run", edit(func(th []Threshold) { th[4].Windows.Worst.Run = 1 }),
			at + "4/windows/worst/run (scenario latency): 1, but the scenario has 1 runs"},
		{"a window of no length", edit(func(th []Threshold) { th[4].Windows.LengthNS = 0 }),
			at + "4/windows/length_ns (scenario latency): got 0, want at least 1"},
		{"a share above 100%", edit(func(th []Threshold) { th[5].Windows.SharePct = 101 }),
			at + "5/windows/share_pct (scenario latency): got 101, want at most 100"},
	}
	for _, tt := range tests {
		_, err := ReadJSON(bytes.NewReader(tt.in))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: ReadJSON error = %v; want %q", tt.name, err, tt.want)
		}
	}
}
