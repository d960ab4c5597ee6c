package scenarios

import (
	"context"
	"encoding/json"
	"math"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/rustci/rustci-perf/pkg/config"
	"github.com/rustci/rustci-perf/pkg/harness"
	"github.com/rustci/rustci-perf/pkg/limiter"
)

// milliPolicy admits one per millisecond after a burst of 100: its bucket
// fills up from empty in 99ms.
var milliPolicy = limiter.Policy{Name: limiterPolicy, Rate: 1000, Burst: 100, Period: time.Second}

// check is one simulated check: worker w's decision at time at. Its
// operation runs from at-opHalf to at+opHalf.
type check struct {
	w  int
	at time.Duration
}

const opHalf = 20 * time.Nanosecond

// every returns worker w's checks from `from`, one per step, n of them.
func every(w int, from, step time.Duration, n int) []check {
	out := make([]check, n)
	for i := range out {
		out[i] = check{w, from + time.Duration(i)*step}
	}
	return out
}

// sim is what a run of simulated checks gave.
type sim struct {
	allowed, denied int64
	spans           []denialSpan
	// The harness's window for these checks: first start to last end
	// (outer), and the end of the first operation to the start of the last
	// (inner).
	outer, inner time.Duration
}

// simulate makes the checks, in time order, on a limiter whose clock they
// set (*now), and records denials as the limiter scenario's workers do.
func simulate(t *testing.T, lim limiter.Limiter, now *time.Duration, checks []check) sim {
	t.Helper()
	checks = append([]check(nil), checks...)
	sort.SliceStable(checks, func(i, j int) bool { return checks[i].at < checks[j].at })
	logs := map[int]*denials{}
	calls := map[int]int{}
	var r sim
	firstEnd, lastStart := time.Duration(math.MaxInt64), time.Duration(0)
	for _, c := range checks {
		d := logs[c.w]
		if d == nil {
			d = &denials{gap: policyGap(milliPolicy)}
			logs[c.w] = d
			firstEnd = min(firstEnd, c.at+opHalf)
		}
		i := calls[c.w]
		calls[c.w]++
		timed := d.timed(i)
		*now = c.at
		res, err := lim.AllowN(context.Background(), limiterPolicy, "k", 1)
		if err != nil {
			t.Fatal(err)
		}
		if res.Allowed > 0 {
			r.allowed++
			d.allowed()
		} else {
			r.denied++
			if timed {
				d.denied(c.at-opHalf, c.at+opHalf)
			}
		}
		lastStart = max(lastStart, c.at-opHalf)
	}
	for _, d := range logs {
		r.spans = append(r.spans, d.all()...)
	}
	r.outer = checks[len(checks)-1].at + opHalf - (checks[0].at - opHalf)
	r.inner = lastStart - firstEnd
	return r
}

// judge runs the admission check on a simulated run of milliPolicy.
func judge(r sim) *Outcome {
	out := outcome(&harness.Result{Duration: r.outer, Inner: r.inner})
	admission(out, config.Settings{}, milliPolicy, out.Result, []int64{r.allowed + r.denied}, r.spans,
		tally{allowed: r.allowed, denied: r.denied}, 0, false)
	return out
}

func fakeMemory(t *testing.T, p limiter.Policy) (*limiter.Memory, *time.Duration) {
	t.Helper()
	now := new(time.Duration)
	m, err := limiter.NewMemory(func() time.Duration { return *now }, p)
	if err != nil {
		t.Fatal(err)
	}
	return m, now
}

// TestAdmissionPause is the false alarm of issue 10, on a fake clock: two
// workers check ten times faster than milliPolicy admits for 200ms; then
// worker 0 is done, and worker 1 pauses 50ms (shorter than the 99ms the
// burst absorbs, and only one worker: twice the smaller of the workers'
// slowest operations, the pause bound the old check used, is 0.2ms) before its last
// check. A correct GCRA admits the burst of 100 and one per millisecond
// after the first check up to 199.9ms (199), and the last check once more:
// 300. The 50 admissions the pause made possible found only one check to
// take them. The old lower bound, burst + inner/e - 1 with inner just under
// 250ms, expected at least 348: 48 "missing" admissions that no GCRA would
// have made.
func TestAdmissionPause(t *testing.T) {
	m, now := fakeMemory(t, milliPolicy)
	checks := append(every(0, 0, 200*time.Microsecond, 1000), every(1, 100*time.Microsecond, 200*time.Microsecond, 1000)...)
	checks = append(checks, check{1, 250 * time.Millisecond})
	r := simulate(t, m, now, checks)
	if r.allowed != 300 {
		t.Fatalf("the GCRA admitted %d; want 300", r.allowed)
	}
	old := int64(milliPolicy.Burst) + int64(r.inner/milliPolicy.Emission()) - 1
	if r.allowed >= old {
		t.Errorf("allowed %d, old lower bound %d: the schedule no longer shows the false alarm", r.allowed, old)
	}
	out := judge(r)
	if e := out.Metrics["admission_error"]; e != 0 {
		t.Errorf("admission_error %g: allowed %d outside [%d, %d]; notes %q", e, r.allowed,
			out.Counters["admission_expected_min"], out.Counters["admission_expected_max"], out.Notes)
	}
	// Still tight: the lower bound counts the denials' 190ms or so.
	if lo := out.Counters["admission_expected_min"]; lo < 280 {
		t.Errorf("lower bound %d; want at least 280 (the burst and the 190ms between denials)", lo)
	}
}

// TestAdmissionLongPause: a pause longer than the burst absorbs in the
// middle of the run; the bucket fills and its refill is lost. The lower
// bound counts the two stretches of denials apart, not the pause.
func TestAdmissionLongPause(t *testing.T) {
	m, now := fakeMemory(t, milliPolicy)
	checks := append(every(0, 0, 100*time.Microsecond, 1000), every(0, 400*time.Millisecond, 100*time.Microsecond, 1000)...)
	r := simulate(t, m, now, checks)
	out := judge(r)
	if e := out.Metrics["admission_error"]; e != 0 {
		t.Errorf("admission_error %g: allowed %d outside [%d, %d]; notes %q", e, r.allowed,
			out.Counters["admission_expected_min"], out.Counters["admission_expected_max"], out.Notes)
	}
	if !strings.Contains(strings.Join(out.Notes, "\n"), "2 stretches") {
		t.Errorf("notes %q; want the two stretches of denials said", out.Notes)
	}
}

// overAdmit allows the first n checks its limiter denies.
type overAdmit struct {
	limiter.Limiter
	n int
}

func (o *overAdmit) AllowN(ctx context.Context, policy, key string, n int) (limiter.Result, error) {
	r, err := o.Limiter.AllowN(ctx, policy, key, n)
	if err == nil && r.Allowed == 0 && o.n > 0 {
		o.n--
		r.Allowed, r.RetryAfter = n, -1
	}
	return r, err
}

// underAdmit is a limiter that admits the burst, then nothing.
type underAdmit struct {
	limiter.Limiter
	left int
}

func (u *underAdmit) AllowN(_ context.Context, _, _ string, n int) (limiter.Result, error) {
	if u.left > 0 {
		u.left--
		return limiter.Result{Allowed: n, RetryAfter: -1}, nil
	}
	return limiter.Result{RetryAfter: time.Millisecond}, nil
}

// TestAdmissionCatchesWrongLimiters: on checks that outrun the policy ten
// times for 200ms, the check passes the exact GCRA and fails limiters that
// admit a burst too many, a handful too many, or only the burst.
func TestAdmissionCatchesWrongLimiters(t *testing.T) {
	checks := append(every(0, 0, 200*time.Microsecond, 1000), every(1, 100*time.Microsecond, 200*time.Microsecond, 1000)...)
	twice := milliPolicy
	twice.Burst *= 2
	tests := []struct {
		name string
		lim  func(m *limiter.Memory) limiter.Limiter
		// want: the sign of admission_error
		want int
	}{
		// GCRA itself: inside the bounds
		{"gcra", func(m *limiter.Memory) limiter.Limiter { return m }, 0},
		// a burst too many: a bucket of 200 judged as one of 100
		{"burst too many", func(*limiter.Memory) limiter.Limiter { return nil }, +1},
		// five admissions more than GCRA makes
		{"five too many", func(m *limiter.Memory) limiter.Limiter { return &overAdmit{m, 5} }, +1},
		// the burst, then nothing
		{"only the burst", func(m *limiter.Memory) limiter.Limiter { return &underAdmit{m, 100} }, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, now := fakeMemory(t, milliPolicy)
			lim := tt.lim(m)
			if lim == nil {
				m, now = fakeMemory(t, twice)
				lim = m
			}
			r := simulate(t, lim, now, checks)
			out := judge(r)
			e := out.Metrics["admission_error"]
			got := 0
			switch {
			case e > 0:
				got = 1
			case e < 0:
				got = -1
			}
			if got != tt.want {
				t.Errorf("admission_error %g (allowed %d in [%d, %d]); want sign %d; notes %q", e, r.allowed,
					out.Counters["admission_expected_min"], out.Counters["admission_expected_max"], tt.want, out.Notes)
			}
		})
	}
}

func TestDenialFloor(t *testing.T) {
	ms := time.Millisecond
	e := ms
	span := func(from, to time.Duration) denialSpan {
		return denialSpan{first: from - opHalf, firstEnd: from + opHalf, lastStart: to - opHalf, last: to + opHalf}
	}
	tests := []struct {
		name   string
		chains []denialSpan
		checks int64
		want   int64
	}{
		// no denial: the checks, up to the burst
		{"no denial, few checks", nil, 50, 50},
		{"no denial", nil, 1e6, 100},
		// one stretch of 100ms: 99 (its ends are 40ns inside), and the
		// burst less one (the first denied check, 40ns long, may have
		// decided on a clock read before the admission it followed)
		{"one stretch", []denialSpan{span(10*ms, 110*ms)}, 1e6, 198},
		// two stretches apart: each counts
		{"two stretches", []denialSpan{span(10*ms, 110*ms), span(300*ms, 400*ms)}, 1e6, 297},
		// a stretch whose first check began before the last one ended
		// may overlap it in time: not counted
		{"overlapping", []denialSpan{span(10*ms, 110*ms), {first: 100 * ms, firstEnd: 300 * ms, lastStart: 400 * ms, last: 400 * ms}}, 1e6, 198},
		// never more than the checks
		{"few checks", []denialSpan{span(10*ms, 110*ms)}, 150, 150},
		// a first denied check 3.5ms long may hide 4 admissions of the
		// burst (and its stretch is 0.5ms: none)
		{"slow first check", []denialSpan{{first: 0, firstEnd: 3500 * time.Microsecond, lastStart: 3500 * time.Microsecond, last: 4 * ms}}, 1e6, 96},
	}
	for _, tt := range tests {
		if got := denialFloor(100, e, tt.chains, tt.checks); got != tt.want {
			t.Errorf("%s: denialFloor(100, %s, %v, %d) = %d; want %d", tt.name, e, tt.chains, tt.checks, got, tt.want)
		}
	}
}

func TestDenialChains(t *testing.T) {
	ms := time.Millisecond
	sp := func(a, b time.Duration) denialSpan { return denialSpan{a, a, b, b} }
	tests := []struct {
		name  string
		spans []denialSpan
		want  []denialSpan
	}{
		{"none", nil, nil},
		// two workers' spans interleaved: one chain
		{"interleaved", []denialSpan{sp(0, 50*ms), sp(10*ms, 80*ms)}, []denialSpan{sp(0, 80*ms)}},
		// one after the other, within the gap (99ms): one chain
		{"within the gap", []denialSpan{sp(0, 50*ms), sp(140*ms, 200*ms)}, []denialSpan{sp(0, 200*ms)}},
		// further apart: two
		{"beyond the gap", []denialSpan{sp(0, 50*ms), sp(150*ms, 200*ms)}, []denialSpan{sp(0, 50*ms), sp(150*ms, 200*ms)}},
		// one span inside another: one chain
		{"nested", []denialSpan{sp(0, 300*ms), sp(10*ms, 20*ms)}, []denialSpan{sp(0, 300*ms)}},
	}
	for _, tt := range tests {
		got := denialChains(tt.spans, 99*ms)
		if len(got) != len(tt.want) {
			t.Errorf("%s: denialChains(%v) = %v; want %v", tt.name, tt.spans, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("%s: denialChains(%v) = %v; want %v", tt.name, tt.spans, got, tt.want)
			}
		}
	}
}

func TestDenialsSpans(t *testing.T) {
	ms := time.Millisecond
	d := &denials{gap: 99 * ms}
	if !d.timed(1) {
		t.Fatal("a fresh worker does not time its first check")
	}
	d.denied(0, 1*ms)
	if d.timed(1) || !d.timed(256) {
		t.Error("after a timed denial: want only every 256th check timed")
	}
	d.allowed()
	if !d.timed(1) {
		t.Error("after an admission: want the next check timed")
	}
	d.denied(50*ms, 51*ms)
	d.denied(150*ms, 151*ms) // 151 - 50 > 99: a new span
	got := d.all()
	want := []denialSpan{{0, 1 * ms, 50 * ms, 51 * ms}, {150 * ms, 151 * ms, 150 * ms, 151 * ms}}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("spans %v; want %v", got, want)
	}
}

// TestAdmissionNotApplicable: where the admission check does not apply, no
// admission figure is reported (no NaN, which JSON cannot carry) and a note
// says why.
func TestAdmissionNotApplicable(t *testing.T) {
	open, closed := milliPolicy, milliPolicy
	open.OnFailure, closed.OnFailure = limiter.FailOpen, limiter.FailClosed
	tests := []struct {
		name     string
		pol      limiter.Policy
		total    tally
		fallback int64
		note     string
	}{
		{"no decision", milliPolicy, tally{}, 0, "no decision was made"},
		{"Redis then fallback", milliPolicy, tally{allowed: 500, denied: 9500}, 4000, "4000 of 10000 decisions were the failure mode's (fallback)"},
		{"fail-open", open, tally{allowed: 10000}, 10000, "every decision was fail-open, which allows every check"},
		{"fail-closed", closed, tally{denied: 10000}, 10000, "every decision was fail-closed, which denies every check"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := outcome(&harness.Result{Duration: 10 * time.Millisecond})
			admission(out, config.Settings{}, tt.pol, out.Result, []int64{tt.total.allowed + tt.total.denied}, nil, tt.total, tt.fallback, false)
			for _, k := range []string{"admission_error"} {
				if v, ok := out.Metrics[k]; ok {
					t.Errorf("%s = %g; want it not reported", k, v)
				}
			}
			for _, k := range []string{"admission_expected_min", "admission_expected_max"} {
				if v, ok := out.Counters[k]; ok {
					t.Errorf("%s = %d; want it not reported", k, v)
				}
			}
			if !strings.Contains(strings.Join(out.Notes, "\n"), tt.note) {
				t.Errorf("notes %q; want one saying %q", out.Notes, tt.note)
			}
			if _, err := json.Marshal(out.Metrics); err != nil {
				t.Error(err)
			}
		})
	}
}
