package workload

import (
	"math"
	"sort"
	"strings"
	"testing"
)

func TestParseDistribution(t *testing.T) {
	tests := []struct {
		in   string
		want Distribution
		ok   bool
	}{
		{"uniform", Distribution{Name: "uniform"}, true},
		{"sequential", Distribution{Name: "sequential"}, true},
		{"zipfian", Distribution{Name: "zipfian", Theta: 0.99}, true},
		{"zipfian:0.5", Distribution{Name: "zipfian", Theta: 0.5}, true},
		{"zipfian:1", Distribution{}, false},
		{"zipfian:0", Distribution{}, false},
		{"zipfian:x", Distribution{}, false},
		{"uniform:2", Distribution{}, false},
		{"pareto", Distribution{}, false},
		{"hotspot", Distribution{Name: "hotspot", HotKeys: 0.2, HotOps: 0.8}, true},
		{"hotspot:0.1:0.9", Distribution{Name: "hotspot", HotKeys: 0.1, HotOps: 0.9}, true},
		{"hotspot:0.1", Distribution{}, false},
		{"hotspot:1:0.5", Distribution{}, false},
	}
	for _, tt := range tests {
		got, err := ParseDistribution(tt.in)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("ParseDistribution(%q) = %+v, %v; want %+v, ok %t", tt.in, got, err, tt.want, tt.ok)
		}
		if err == nil {
			if again, _ := ParseDistribution(got.String()); again != got {
				t.Errorf("%q does not round-trip through String: %+v", tt.in, again)
			}
		}
	}
}

// TestZipfianMatchesTheory: for a fixed seed, the frequencies of the
// generated keys fit the generator's law (a chi-square test over the most
// popular keys and the rest), that law is within 20% of the pure Zipfian
// law key by key, and popularity falls with rank.
func TestZipfianMatchesTheory(t *testing.T) {
	const n, draws = 1000, 200_000
	d, _ := ParseDistribution("zipfian:0.99")
	s, err := d.Prepare(n)
	if err != nil {
		t.Fatal(err)
	}
	k := s.Keys(42, 0, 1)
	counts := make([]int, n)
	for i := 0; i < draws; i++ {
		counts[k.Next()]++
	}
	// Bins: keys 0..49 one each, then the tail as one bin.
	const head = 50
	chi2 := 0.0
	tailObs, tailExp := 0.0, 0.0
	for i := 0; i < n; i++ {
		exp := s.Probability(i) * draws
		if i < head {
			chi2 += (float64(counts[i]) - exp) * (float64(counts[i]) - exp) / exp
		} else {
			tailObs += float64(counts[i])
			tailExp += exp
		}
	}
	chi2 += (tailObs - tailExp) * (tailObs - tailExp) / tailExp
	// 50 degrees of freedom: the 0.999 quantile of chi-square is 86.7.
	if chi2 > 86.7 {
		t.Errorf("chi-square %.1f over %d bins; the sample does not fit the Zipfian law", chi2, head+1)
	}
	total := 0.0
	for i := 0; i < n; i++ {
		p, z := s.Probability(i), s.ZipfLaw(i)
		total += p
		if math.Abs(p-z) > 0.2*z {
			t.Errorf("key %d: generator law %.5f, Zipf law %.5f: more than 20%% apart", i, p, z)
		}
	}
	if math.Abs(total-1) > 1e-9 {
		t.Errorf("generator law sums to %g", total)
	}
	if !(counts[0] > counts[1] && counts[1] > counts[9] && counts[9] > counts[99]) {
		t.Errorf("popularity does not fall with rank: %d, %d, %d, %d", counts[0], counts[1], counts[9], counts[99])
	}
}

func TestUniformAndSequential(t *testing.T) {
	u, _ := Distribution{Name: "uniform"}.Prepare(10)
	counts := make([]int, 10)
	k := u.Keys(1, 0, 1)
	for i := 0; i < 100_000; i++ {
		counts[k.Next()]++
	}
	sort.Ints(counts)
	if float64(counts[9]-counts[0]) > 0.05*10_000 {
		t.Errorf("uniform counts spread %v", counts)
	}
	sq, _ := Distribution{Name: "sequential"}.Prepare(10)
	k = sq.Keys(1, 1, 2) // second of two workers starts at key 5
	for i, want := range []int{5, 6, 7, 8, 9, 0, 1} {
		if got := k.Next(); got != want {
			t.Fatalf("sequential draw %d = %d; want %d", i, got, want)
		}
	}
}

func TestReproducible(t *testing.T) {
	z, _ := Distribution{Name: "zipfian", Theta: 0.9}.Prepare(500)
	a, b, c := z.Keys(7, 3, 4), z.Keys(7, 3, 4), z.Keys(7, 2, 4)
	same := true
	for i := 0; i < 1000; i++ {
		x, y, w := a.Next(), b.Next(), c.Next()
		if x != y {
			t.Fatalf("draw %d: %d != %d for the same seed and worker", i, x, y)
		}
		same = same && x == w
	}
	if same {
		t.Error("two workers drew the same sequence")
	}
	if p := z.Probability(0) + z.Probability(499); math.IsNaN(p) || p <= 0 {
		t.Errorf("probabilities %g", p)
	}
}

func TestNextDoesNotAllocate(t *testing.T) {
	z, _ := Distribution{Name: "zipfian", Theta: 0.99}.Prepare(1000)
	k := z.Keys(1, 0, 1)
	if n := testing.AllocsPerRun(1000, func() { k.Next() }); n != 0 {
		t.Errorf("Next allocates %v times", n)
	}
}

// TestHotspot: a share of the operations goes to a share of the keys, each
// part uniform within itself.
func TestHotspot(t *testing.T) {
	d, _ := ParseDistribution("hotspot:0.1:0.9")
	s, _ := d.Prepare(1000)
	k := s.Keys(3, 0, 1)
	hot := 0
	const draws = 100_000
	for i := 0; i < draws; i++ {
		if k.Next() < 100 {
			hot++
		}
	}
	if share := float64(hot) / draws; share < 0.89 || share > 0.91 {
		t.Errorf("%.3f of draws on the hot 10%% of keys; want 0.9", share)
	}
	total := 0.0
	for i := 0; i < 1000; i++ {
		total += s.Probability(i)
	}
	if math.Abs(total-1) > 1e-9 || math.Abs(s.Probability(0)-0.009) > 1e-12 || math.Abs(s.Probability(999)-0.1/900) > 1e-12 {
		t.Errorf("probabilities: sum %g, hot %g, cold %g", total, s.Probability(0), s.Probability(999))
	}
}

func TestTrace(t *testing.T) {
	tr, err := ReadTrace(strings.NewReader("a\nb\r\n\na\nc\nb\n"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(tr.Keys, ",") != "a,b,c" || len(tr.Seq) != 5 {
		t.Fatalf("keys %v, %d lines; want a,b,c and 5", tr.Keys, len(tr.Seq))
	}
	// Two workers take lines in turn: worker 0 lines 0, 2, 4, 1, ...
	k := tr.Replay(0, 2)
	var got []string
	for i := 0; i < 5; i++ {
		got = append(got, tr.Keys[k.Next()])
	}
	if strings.Join(got, "") != "aabbc" {
		t.Errorf("worker 0 replays %v; want lines 0, 2, 4, 1, 3: a a b b c", got)
	}
	for _, bad := range []string{"", "\n\n", strings.Repeat("x", MaxTraceKey+1) + "\n"} {
		if _, err := ReadTrace(strings.NewReader(bad)); err == nil {
			t.Errorf("ReadTrace(%.20q) accepted", bad)
		}
	}
}

// FuzzReadTrace: any input reads or fails cleanly, and what reads replays
// only its own keys.
func FuzzReadTrace(f *testing.F) {
	f.Add("a\nb\na\n")
	f.Add("\r\n\r\nx")
	f.Fuzz(func(t *testing.T, s string) {
		tr, err := ReadTrace(strings.NewReader(s))
		if err != nil {
			return
		}
		k := tr.Replay(1, 3)
		for i := 0; i < 2*len(tr.Seq)+3; i++ {
			if n := k.Next(); n < 0 || n >= len(tr.Keys) {
				t.Fatalf("replayed index %d of %d keys", n, len(tr.Keys))
			}
		}
	})
}
