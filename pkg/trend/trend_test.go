package trend

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rustci/rustci-perf/internal/golden"
	"github.com/rustci/rustci-perf/pkg/changepoint"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// fixture is a nightly's series: cache-read's p99 regressed 12% at run
// 16 of 24 (the alert), its throughput improved at run 9, the limiter's
// p99 is noise, hit_rate has too few runs, one figure is not in the
// catalogue, and a run's p99 is n/a.
func fixture() []Series {
	t0 := time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)
	r := rand.New(rand.NewPCG(7, 7))
	mk := func(scenario, metric string, n int, level float64, at int, step, cv float64) Series {
		s := Series{Scenario: scenario, Metric: metric}
		for i := range n {
			l := level
			if at > 0 && i >= at {
				l *= step
			}
			s.Points = append(s.Points, Point{RunID: int64(100 + i), At: t0.Add(time.Duration(i) * 24 * time.Hour),
				Commit: fmt.Sprintf("%x", 0xabc000+i), Branch: "main", Value: math.Round(l * (1 + cv*r.NormFloat64()))})
		}
		return s
	}
	read := mk("cache-read", "p99", 24, 850_000, 16, 1.12, 0.02)
	read.Points[3].Value = math.NaN()
	return []Series{
		mk("limiter", "p99", 24, 2_000_000, 0, 1, 0.03),
		read,
		mk("cache-read", "throughput", 24, 120_000, 9, 1.15, 0.02),
		mk("cache-read", "hit_rate", 4, 1, 0, 1, 0),
		mk("cache-read", "mystery", 12, 10, 6, 2, 0.01),
	}
}

func TestAnalyzeFixture(t *testing.T) {
	res, err := Analyze(fixture(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	status := map[string]string{}
	for _, s := range res.Series {
		status[s.Scenario+" "+s.Metric] = s.Status
	}
	want := map[string]string{"cache-read p99": Alert, "cache-read throughput": OK, "cache-read hit_rate": TooFew,
		"cache-read mystery": NotJudged, "limiter p99": OK}
	if !reflect.DeepEqual(status, want) {
		t.Errorf("statuses = %v; want %v", status, want)
	}
	if res.Verdict != Alert || res.Alerts != 1 {
		t.Errorf("verdict %s, %d alerts; want alert, 1", res.Verdict, res.Alerts)
	}
	// 3 series can alert (hit_rate is too short, mystery not judged).
	if want := 0.05 / 3; math.Abs(res.Significance-want) > 1e-12 {
		t.Errorf("significance %g; want %g", res.Significance, want)
	}
	for _, s := range res.Series {
		switch s.Scenario + " " + s.Metric {
		case "cache-read p99":
			// 23 runs with a value; run 116 is index 15 of them
			if len(s.Points) != 23 || len(s.Changes) != 1 || s.Changes[0].Index < 14 || s.Changes[0].Index > 16 || !s.Changes[0].Alert {
				t.Fatalf("p99: %d points, changes %+v; want 23 points, one alerting change at index 15±1", len(s.Points), s.Changes)
			}
			c := s.Changes[0]
			if c.FromCommit != s.Points[c.Index-1].Commit || c.ToCommit != s.Points[c.Index].Commit || c.MeanChange < 0.08 || c.MeanChange > 0.16 {
				t.Errorf("p99 change %+v; want between the commits either side, about +12%%", c)
			}
		case "cache-read throughput":
			if len(s.Changes) != 1 || s.Changes[0].Direction != Improvement || s.Changes[0].Index != 9 {
				t.Errorf("throughput changes %+v; want one improvement at 9", s.Changes)
			}
		case "cache-read mystery":
			if len(s.Changes) != 1 || s.Changes[0].Direction != Moved {
				t.Errorf("mystery changes %+v; want one change, not judged", s.Changes)
			}
		}
	}
}

func TestDirection(t *testing.T) {
	for _, tc := range []struct {
		better        string
		before, after float64
		want          string
	}{
		{"lower", 1, 2, Regression},   // a latency went up
		{"lower", 2, 1, Improvement},  // and down
		{"higher", 2, 1, Regression},  // a throughput went down
		{"higher", 1, 2, Improvement}, // and up
		{"zero", 0.1, -0.3, Regression},
		{"zero", -0.3, 0.1, Improvement},
		{"zero", -0.2, 0.2, Moved}, // as far from 0 either side
		{"", 1, 2, Moved},          // not judged
		{"lower", 1, 1, Moved},     // a change of spread only
	} {
		if got := direction(tc.better, tc.before, tc.after); got != tc.want {
			t.Errorf("direction(%q, %g, %g) = %s; want %s", tc.better, tc.before, tc.after, got, tc.want)
		}
	}
}

// series is a p99 series of the given values, one a day.
func series(name string, vs ...float64) Series {
	s := Series{Scenario: name, Metric: "p99"}
	for i, v := range vs {
		s.Points = append(s.Points, Point{RunID: int64(i + 1), At: time.Unix(int64(i)*86400, 0), Commit: fmt.Sprint("c", i), Value: v})
	}
	return s
}

func flat(n int, v float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = v + float64(i%3) // a little spread
	}
	return out
}

func TestVerdict(t *testing.T) {
	for _, tc := range []struct {
		name string
		vs   []float64
		want string
	}{
		// up 10% and staying: the latest segment is the regressed one
		{"regressed", append(flat(15, 100), flat(15, 110)...), Alert},
		// up, then back: the regression was undone
		{"undone", append(append(flat(12, 100), flat(12, 110)...), flat(12, 100)...), OK},
		// up 3% twice in a row: 6% in all alerts
		{"creeping", append(append(flat(15, 1000), flat(15, 1030)...), flat(15, 1061)...), Alert},
		// up 1%: significant in a quiet series, below the minimum effect
		{"small", append(flat(15, 1000), flat(15, 1010)...), OK},
		// faster: an improvement
		{"improved", append(flat(15, 110), flat(15, 100)...), OK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Analyze([]Series{series(tc.name, tc.vs...)}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if s := res.Series[0]; s.Status != tc.want || res.Verdict != tc.want {
				t.Errorf("status %s, verdict %s, changes %+v; want %s", s.Status, res.Verdict, s.Changes, tc.want)
			}
		})
	}
}

func TestAnalyzeInput(t *testing.T) {
	backwards := series("b", 1, 2, 3)
	backwards.Points[2].At = time.Unix(0, 0).Add(-time.Hour)
	for _, tc := range []struct {
		name string
		in   []Series
		opts Options
	}{
		{"twice", []Series{series("a", 1), series("a", 2)}, Options{}},
		{"backwards", []Series{backwards}, Options{}},
		{"false alarm 1", nil, Options{FalseAlarm: 1}},
		{"false alarm NaN", nil, Options{FalseAlarm: math.NaN()}},
		{"negative effect", nil, Options{MinEffect: -0.1}},
		{"min size 1", nil, Options{MinSize: 1}},
		{"too few permutations", []Series{series("a", flat(10, 1)...)}, Options{Permutations: 5}},
	} {
		if _, err := Analyze(tc.in, tc.opts); !errors.Is(err, ErrInput) && !errors.Is(err, changepoint.ErrInput) {
			t.Errorf("%s: Analyze error %v; want an input error", tc.name, err)
		}
	}
	// Empty: no series, no alert, every format writes it.
	res, err := Analyze(nil, Options{})
	if err != nil || res.Verdict != OK {
		t.Fatalf("Analyze(nil) = %+v, %v; want ok", res, err)
	}
	for name, f := range Formats {
		if err := f(io.Discard, res); err != nil {
			t.Errorf("%s of nothing: %v", name, err)
		}
	}
}

func TestDeterministic(t *testing.T) {
	var first []byte
	for i := range 3 {
		res, err := Analyze(fixture(), Options{})
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := JSON(&b, res); err != nil {
			t.Fatal(err)
		}
		if i > 0 && !bytes.Equal(b.Bytes(), first) {
			t.Fatal("two analyses of one history differ")
		}
		first = b.Bytes()
	}
}

var notANumber = regexp.MustCompile(`\bNaN\b|[+-]Inf\b`)

// TestFormats: every format against its golden file (go test -update
// rewrites them), none with a NaN or an infinity, the JSON valid with
// null for n/a, the HTML well-formed XML with a plot per series with runs.
func TestFormats(t *testing.T) {
	res, err := Analyze(fixture(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	ext := map[string]string{"text": "txt", "json": "json", "markdown": "md", "html": "html"}
	for name, f := range Formats {
		var b bytes.Buffer
		if err := f(&b, res); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		golden.Check(t, *update, "trend."+ext[name], b.Bytes())
		if loc := notANumber.FindIndex(b.Bytes()); loc != nil {
			t.Errorf("%s writes %q", name, b.Bytes()[loc[0]:loc[1]])
		}
		switch name {
		case "json":
			var v map[string]any
			if err := json.Unmarshal(b.Bytes(), &v); err != nil {
				t.Errorf("json: %v", err)
			}
		case "html":
			page := b.String()
			d := xml.NewDecoder(strings.NewReader(page))
			d.Strict, d.AutoClose, d.Entity = false, xml.HTMLAutoClose, xml.HTMLEntity
			for {
				if _, err := d.Token(); err == io.EOF {
					break
				} else if err != nil {
					t.Fatalf("html does not parse: %v", err)
				}
			}
			if n := strings.Count(page, `<svg class="trend"`); n != len(res.Series) {
				t.Errorf("%d plots; want %d", n, len(res.Series))
			}
			if !strings.Contains(page, `class="cp regression alert"`) || !strings.Contains(page, `class="cp improvement"`) {
				t.Error("html: the alerting regression or the improvement is not marked")
			}
			for _, bad := range []string{"<script", "src=", "<link", "@import", "url("} {
				if strings.Contains(page, bad) {
					t.Errorf("html has %q: it must load nothing", bad)
				}
			}
		}
	}
	if _, err := Lookup("xml"); err == nil || !strings.Contains(err.Error(), "html, json, markdown, text") {
		t.Errorf("Lookup(xml) error %v; want the formats listed", err)
	}
}

func FuzzAnalyze(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 200, 200, 200, 200}, "p99", 0.05)
	f.Fuzz(func(t *testing.T, data []byte, metric string, effect float64) {
		s := Series{Scenario: "s", Metric: metric}
		for i, b := range data {
			s.Points = append(s.Points, Point{RunID: int64(i), Value: float64(b) - 100})
		}
		res, err := Analyze([]Series{s}, Options{MinEffect: effect, Permutations: 199})
		if err != nil {
			return
		}
		for name, f := range Formats {
			var b bytes.Buffer
			if err := f(&b, res); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if notANumber.Match(b.Bytes()) {
				t.Fatalf("%s writes NaN or Inf:\n%s", name, b.Bytes())
			}
		}
	})
}

// withCanary gives s's points the canary rates cs (0: none).
func withCanary(s Series, cs []float64) Series {
	for i := range s.Points {
		s.Points[i].Canary = cs[i]
	}
	return s
}

// TestMachine: a change the machine's canary explains (it moved at the
// same runs, the way that explains it) does not alert; one it does not
// explain does; the code's regression before a change of the machine
// still alerts.
func TestMachine(t *testing.T) {
	p99 := append(flat(15, 100), flat(15, 120)...) // 20% slower from run 16
	for _, tc := range []struct {
		name    string
		p99     []float64
		canary  []float64
		want    string
		machine int // changes marked the machine's
	}{
		// The machine 30% slower from the same run: the machine's.
		{"slower machine", p99, append(flat(15, 1000), flat(15, 700)...), OK, 1},
		// ... one run earlier (measured around the run, the figure within it).
		{"one run apart", p99, append(flat(14, 1000), flat(16, 700)...), OK, 1},
		// The machine faster at that run: it does not explain a regression.
		{"faster machine", p99, append(flat(15, 700), flat(15, 1000)...), Alert, 0},
		// The machine moved five runs before: not the same change.
		{"elsewhere", p99, append(flat(10, 1000), flat(20, 700)...), Alert, 0},
		// The canary 2% slower: within its noise, it explains nothing.
		{"canary within noise", p99, append(flat(15, 1000), flat(15, 980)...), Alert, 0},
		// The canary 10% slower, the figure 4 times as slow: more than
		// the machine explains.
		{"figure moved far more", append(flat(15, 100), flat(15, 400)...), append(flat(15, 1000), flat(15, 900)...), Alert, 0},
		// No canary: nothing tells the machine from the code.
		{"no canary", p99, make([]float64, 30), Alert, 0},
		// The code's regression at run 11, then the machine slower at 21:
		// the code's still alerts.
		{"code then machine", append(append(flat(10, 100), flat(10, 120)...), flat(10, 150)...),
			append(flat(20, 1000), flat(10, 700)...), Alert, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Analyze([]Series{withCanary(series(tc.name, tc.p99...), tc.canary)}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			s := res.Series[0]
			machine := 0
			for _, c := range s.Changes {
				if c.Machine != nil {
					machine++
					if c.Alert || c.Note == "" {
						t.Errorf("the machine's change %+v alerts or says nothing", c)
					}
				}
			}
			if s.Status != tc.want || machine != tc.machine {
				t.Errorf("status %s, %d changes the machine's (%+v); want %s, %d", s.Status, machine, s.Changes, tc.want, tc.machine)
			}
			if tc.name == "no canary" && !slices.ContainsFunc(s.Notes, func(n string) bool { return strings.Contains(n, "no run has a canary") }) {
				t.Errorf("notes %q; want one saying no run has a canary", s.Notes)
			}
		})
	}
}

// TestTooFewToBeSignificant: a series whose clearest change could not be
// significant at the level it is judged at is "too few runs", not "ok";
// the same runs judged alone can alert.
func TestTooFewToBeSignificant(t *testing.T) {
	step := append(flat(5, 100), flat(5, 200)...) // 10 runs: the best p is 2/C(10,5) = 0.0079
	var many []Series
	for i := range 8 { // judged at 0.05/8 = 0.00625: out of reach
		many = append(many, series(fmt.Sprint("s", i), step...))
	}
	res, err := Analyze(many, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range res.Series {
		if s.Status != TooFew || !slices.ContainsFunc(s.Notes, func(n string) bool { return strings.Contains(n, "a change can be found from 11 runs on") }) {
			t.Errorf("%s: status %s, notes %q; want too few runs, from 11 runs on", s.Scenario, s.Status, s.Notes)
		}
	}
	if res, err := Analyze(many[:1], Options{}); err != nil || res.Verdict != Alert {
		t.Errorf("one series of the same runs: %+v, %v; want an alert", res, err)
	}
	for n, want := range map[int]float64{8: 2.0 / 70, 10: 2.0 / 252, 12: 2.0 / 924} {
		if got := minPValue(n); math.Abs(got-want) > 1e-12 {
			t.Errorf("minPValue(%d) = %g; want %g", n, got, want)
		}
	}
}
