package latency

import (
	"sort"
	"strings"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

func TestRecorderSummary(t *testing.T) {
	r := NewRecorder()
	// 1..1000µs, once each: p50 is 500µs, p99 990µs, max 1000µs, within
	// the histogram's 0.1% precision.
	for i := 1; i <= 1000; i++ {
		r.Record(time.Duration(i) * time.Microsecond)
	}
	s := r.Summary()
	near := func(name string, got, want time.Duration) {
		t.Helper()
		if d := got - want; d < -want/1000 || d > want/1000 {
			t.Errorf("%s = %s; want %s within 0.1%%", name, got, want)
		}
	}
	if s.Count != 1000 || s.Clamped != 0 {
		t.Errorf("Count, Clamped = %d, %d; want 1000, 0", s.Count, s.Clamped)
	}
	near("min", s.Min, time.Microsecond)
	near("p50", s.P50, 500*time.Microsecond)
	near("p90", s.P90, 900*time.Microsecond)
	near("p99", s.P99, 990*time.Microsecond)
	near("p99.9", s.P999, 999*time.Microsecond)
	near("max", s.Max, 1000*time.Microsecond)
	near("mean", time.Duration(s.Mean), 500500*time.Nanosecond)
}

func TestRecorderClamps(t *testing.T) {
	r := NewRecorder()
	r.Record(0)                // below the 1ns floor
	r.Record(-5)               // a clock that went backwards
	r.Record(2 * time.Hour)    // above the 1h ceiling
	r.Record(time.Millisecond) // in range
	if r.Count() != 4 || r.Clamped() != 3 {
		t.Fatalf("Count, Clamped = %d, %d; want 4, 3", r.Count(), r.Clamped())
	}
	if got := r.Summary().Max; got < time.Hour-time.Hour/1000 || got > time.Hour+time.Hour/1000 {
		t.Errorf("max = %s; want 1h (clamped)", got)
	}
	if got := r.Summary().Min; got != time.Nanosecond {
		t.Errorf("min = %s; want 1ns (clamped)", got)
	}
}

func TestMergeIsUnion(t *testing.T) {
	a, b, all := NewRecorder(), NewRecorder(), NewRecorder()
	for i := 1; i <= 500; i++ {
		v := time.Duration(i*i) * time.Nanosecond
		a.Record(v)
		all.Record(v)
		w := time.Duration(i) * time.Millisecond
		b.Record(w)
		all.Record(w)
	}
	b.Record(-1) // one clamped value travels with the merge
	all.Record(-1)
	a.Merge(b)
	if a.Summary() != all.Summary() {
		t.Errorf("merged summary %+v; want %+v", a.Summary(), all.Summary())
	}
	if a.Clamped() != 1 {
		t.Errorf("merged Clamped = %d; want 1", a.Clamped())
	}
	if b.Count() != 501 {
		t.Errorf("source Count after merge = %d; want it unchanged at 501", b.Count())
	}
}

// TestMergeCompactsIsUnion: compact forms merged hold what their
// Recorders merged hold, overlapping buckets, disjoint ones, empty and nil
// forms alike.
func TestMergeCompactsIsUnion(t *testing.T) {
	a, b, c, all := NewRecorder(), NewRecorder(), NewRecorder(), NewRecorder()
	for i := 1; i <= 300; i++ {
		for _, r := range []*Recorder{a, all} {
			r.Record(time.Duration(i*7) * time.Nanosecond)
		}
		for _, r := range []*Recorder{b, all} {
			r.Record(time.Duration(i*5) * time.Nanosecond) // shares buckets with a
			r.Record(time.Duration(i) * time.Second)       // and not
		}
	}
	b.Record(2 * time.Hour) // clamped, counted
	all.Record(2 * time.Hour)
	got := MergeCompacts(a.Compact(), nil, b.Compact(), NewRecorder().Compact(), c.Compact()).Recorder()
	if got.Summary() != all.Summary() {
		t.Errorf("MergeCompacts summary %+v; want %+v", got.Summary(), all.Summary())
	}
	if got.Clamped() != 1 || got.Count() != all.Count() {
		t.Errorf("MergeCompacts: %d values, %d clamped; want %d, 1", got.Count(), got.Clamped(), all.Count())
	}
	if n := MergeCompacts().Count(); n != 0 {
		t.Errorf("MergeCompacts() holds %d values; want 0", n)
	}
}

func TestEmpty(t *testing.T) {
	if s := NewRecorder().Summary(); s != (Summary{}) {
		t.Errorf("empty Summary = %+v; want zero", s)
	}
}

func TestRecordDoesNotAllocate(t *testing.T) {
	r := NewRecorder()
	if n := testing.AllocsPerRun(1000, func() { r.Record(1234) }); n != 0 {
		t.Errorf("Record allocates %v times; want 0", n)
	}
}

// TestEncodeRoundTrip: what Encode writes decodes to the same counts, so
// any percentile recomputed from a report is the one the run measured.
func TestEncodeRoundTrip(t *testing.T) {
	r := NewRecorder()
	for i := 1; i <= 5000; i++ {
		r.Record(time.Duration(i*i) * time.Nanosecond)
	}
	s, err := r.Encode()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Decode(s)
	if err != nil {
		t.Fatal(err)
	}
	got, want := back.Summary(), r.Summary()
	want.Clamped = 0 // not part of the interchange form
	if got != want {
		t.Errorf("decoded summary %+v; want %+v", got, want)
	}
	for _, p := range []float64{1, 33.3, 50, 99, 99.99, 100} {
		if a, b := back.Percentile(p), r.Percentile(p); a != b {
			t.Errorf("p%g: decoded %s, recorded %s", p, a, b)
		}
	}
	if _, err := Decode("not a histogram"); err == nil {
		t.Error("Decode accepted garbage")
	}
}

// TestDecodeOtherGeometry: a histogram of another range and precision is
// recorded again into a Recorder's own, so that merging it into one of
// ours drops nothing; one holding a value recording would have clamped is
// refused, since merging would drop it.
func TestDecodeOtherGeometry(t *testing.T) {
	encode := func(values ...int64) string {
		t.Helper()
		h := hdrhistogram.New(1, 1e15, 4)
		for _, v := range values {
			if err := h.RecordValue(v); err != nil {
				t.Fatal(err)
			}
		}
		b, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	r, err := Decode(encode(1000, 2000, 3000))
	if err != nil {
		t.Fatal(err)
	}
	ours := NewRecorder()
	ours.Merge(r)
	if max := ours.Max(); ours.Count() != 3 || max < 3*time.Microsecond || max > 3003*time.Nanosecond {
		t.Errorf("merged %d values, max %s; want 3, max 3µs within 0.1%%", ours.Count(), max)
	}
	// two hours: beyond Highest
	if _, err := Decode(encode(1000, 2*int64(time.Hour))); err == nil || !strings.Contains(err.Error(), "1 values outside") {
		t.Errorf("Decode(a value of 2h) error = %v; want one saying 1 value is outside the range", err)
	}
}

// TestSteps checks the steps against Percentile: the value of the step
// holding rank k is the percentile whose rank is k.
func TestSteps(t *testing.T) {
	r := NewRecorder()
	for i := 1; i <= 5000; i++ {
		r.Record(time.Duration(i*i) * time.Nanosecond)
	}
	values, cum := r.Steps()
	if len(values) != len(cum) || cum[len(cum)-1] != 5000 {
		t.Fatalf("%d values, %d cumulative, last %d; want equal lengths ending at 5000", len(values), len(cum), cum[len(cum)-1])
	}
	for _, p := range []float64{1, 50, 90, 99, 99.9, 100} {
		k := int64(p/100*5000 + 0.5)
		i := sort.Search(len(cum), func(i int) bool { return cum[i] >= k })
		if got, want := time.Duration(values[i]), r.Percentile(p); got != want {
			t.Errorf("p%g: step value %v, Percentile %v", p, got, want)
		}
	}
}
