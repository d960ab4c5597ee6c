package changepoint

import (
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
)

// steps returns n points of noise around 100 (relative noise cv), times
// each step's factor from its index on.
func steps(seed uint64, n int, cv float64, noise func(*rand.Rand) float64, at map[int]float64) []float64 {
	r := rand.New(rand.NewPCG(seed, 1))
	xs := make([]float64, n)
	level := 100.0
	for i := range xs {
		if f, ok := at[i]; ok {
			level *= f
		}
		xs[i] = level * (1 + cv*noise(r))
	}
	return xs
}

func gauss(r *rand.Rand) float64 { return r.NormFloat64() }

// logNormal is heavy-tailed noise of about unit spread, as a p99's.
func logNormal(r *rand.Rand) float64 { return math.Exp(r.NormFloat64()) - math.Exp(0.5) }

func TestDetectKnownSteps(t *testing.T) {
	for _, tc := range []struct {
		name  string
		xs    []float64
		want  []int
		cv    float64
		noise func(*rand.Rand) float64
	}{
		// 15 runs, then 15 runs 10% slower, 3% noise => one change at 15
		{name: "step up", xs: steps(1, 30, 0.03, gauss, map[int]float64{15: 1.1}), want: []int{15}},
		// the same step down
		{name: "step down", xs: steps(2, 30, 0.03, gauss, map[int]float64{15: 0.9}), want: []int{15}},
		// up at 20, down again at 40 (of 60) => two changes
		{name: "two steps", xs: steps(3, 60, 0.03, gauss, map[int]float64{20: 1.15, 40: 0.85}), want: []int{20, 40}},
		// log-normal noise, a 25% step at 18 of 36
		{name: "heavy tailed", xs: steps(4, 36, 0.03, logNormal, map[int]float64{18: 1.25}), want: []int{18}},
		// a step in the last 5 of 30 runs
		{name: "late step", xs: steps(5, 30, 0.03, gauss, map[int]float64{25: 1.1}), want: []int{25}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Detect(tc.xs, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("Detect = %+v; want changes at %v", got, tc.want)
			}
			for i, cp := range got {
				if d := cp.Index - tc.want[i]; d < -1 || d > 1 {
					t.Errorf("change %d at %d; want %d±1", i, cp.Index, tc.want[i])
				}
				if cp.PValue > DefaultOptions.Significance || cp.Statistic <= 0 {
					t.Errorf("change %d: p %g, Q %g; want p ≤ %g and Q > 0", i, cp.PValue, cp.Statistic, DefaultOptions.Significance)
				}
			}
		})
	}
}

// TestFalsePositiveRate: in series of pure noise (30 runs, Gaussian,
// log-normal, and Gaussian with 1 run in 20 an outlier 2.5-4x), the share
// with any change point is at most the significance, within a binomial
// bound (3 standard deviations), and not far below it (the test is exact,
// so a rate far below means it cannot find anything).
func TestFalsePositiveRate(t *testing.T) {
	n := 800
	if testing.Short() {
		n = 200
	}
	outliers := func(r *rand.Rand) float64 {
		if r.IntN(20) == 0 {
			return 50 + 50*r.Float64() // at cv 0.03: 2.5-4x the level
		}
		return r.NormFloat64()
	}
	const sig = 0.05
	for _, tc := range []struct {
		name  string
		noise func(*rand.Rand) float64
	}{{"gaussian", gauss}, {"log-normal", logNormal}, {"outliers", outliers}} {
		t.Run(tc.name, func(t *testing.T) {
			found := 0
			for i := range n {
				xs := steps(uint64(1000+i), 30, 0.03, tc.noise, nil)
				cps, err := Detect(xs, Options{Significance: sig, Seed: uint64(i + 1)})
				if err != nil {
					t.Fatal(err)
				}
				if len(cps) > 0 {
					found++
				}
			}
			mean, sd := sig*float64(n), math.Sqrt(sig*(1-sig)*float64(n))
			if float64(found) > mean+3*sd || float64(found) < mean-3*sd {
				t.Errorf("%d of %d noise series had a change point: %.3f; want %.3f ± %.3f", found, n, float64(found)/float64(n), sig, 3*sd/float64(n))
			}
			t.Logf("%d of %d noise series had a change point (%.3f; significance %g)", found, n, float64(found)/float64(n), sig)
		})
	}
}

func TestDeterministic(t *testing.T) {
	xs := steps(7, 40, 0.05, logNormal, map[int]float64{12: 1.1, 30: 1.1})
	first, err := Detect(xs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		again, err := Detect(xs, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(again, first) {
			t.Fatalf("Detect = %+v, then %+v; want one answer", first, again)
		}
	}
}

func TestDetectInput(t *testing.T) {
	for _, tc := range []struct {
		name    string
		xs      []float64
		opts    Options
		wantErr bool
	}{
		// NaN and infinities are refused, naming the point
		{name: "nan", xs: []float64{1, 2, math.NaN(), 4, 5, 6}, wantErr: true},
		{name: "inf", xs: []float64{1, 2, 3, 4, 5, math.Inf(-1)}, wantErr: true},
		// too few points to split: none, no error
		{name: "empty", xs: nil},
		{name: "five", xs: []float64{1, 1, 1, 9, 9}},
		// a constant series: no change
		{name: "constant", xs: []float64{3, 3, 3, 3, 3, 3, 3, 3, 3, 3}},
		// options out of range
		{name: "alpha 2", xs: []float64{1}, opts: Options{Alpha: 2}, wantErr: true},
		{name: "negative alpha", xs: []float64{1}, opts: Options{Alpha: -1}, wantErr: true},
		{name: "significance 1", xs: []float64{1}, opts: Options{Significance: 1}, wantErr: true},
		{name: "nan significance", xs: []float64{1}, opts: Options{Significance: math.NaN()}, wantErr: true},
		{name: "min size 1", xs: []float64{1}, opts: Options{MinSize: 1}, wantErr: true},
		{name: "negative permutations", xs: []float64{1}, opts: Options{Permutations: -5}, wantErr: true},
		// 99 permutations cannot give p ≤ 0.001
		{name: "too few permutations", xs: []float64{1}, opts: Options{Permutations: 99, Significance: 0.001}, wantErr: true},
		// huge values whose distances overflow are refused
		{name: "huge", xs: []float64{-math.MaxFloat64, math.MaxFloat64, -math.MaxFloat64, math.MaxFloat64, 0, 0, 1, 1}, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Detect(tc.xs, tc.opts)
			if tc.wantErr {
				if err == nil || !errors.Is(err, ErrInput) {
					t.Errorf("Detect(%v, %+v) = %v, %v; want an ErrInput", tc.xs, tc.opts, got, err)
				}
				return
			}
			if err != nil {
				t.Errorf("Detect(%v) error %v", tc.xs, err)
			}
			if len(got) != 0 {
				t.Errorf("Detect(%v) = %+v; want none", tc.xs, got)
			}
		})
	}
}

// TestBestSplitMatchesDirect: the incremental sums give the Q of the
// definition, computed directly in O(n³), at every split.
func TestBestSplitMatchesDirect(t *testing.T) {
	xs := steps(9, 17, 0.2, logNormal, map[int]float64{6: 1.5})
	for _, alpha := range []float64{0.5, 1, 1.5} {
		s := newSearch(xs, alpha)
		perm := identity(len(xs))
		rand.New(rand.NewPCG(1, 2)).Shuffle(len(perm), func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
		got := s.best(perm, 2)
		ys := make([]float64, len(xs))
		for i, p := range perm {
			ys[i] = xs[p]
		}
		want := split{at: -1}
		for m := 2; m <= len(ys)-2; m++ {
			if q := direct(ys[:m], ys[m:], alpha); want.at < 0 || q > want.q {
				want = split{at: m, q: q}
			}
		}
		if got.at != want.at || math.Abs(got.q-want.q) > 1e-9*math.Abs(want.q) {
			t.Errorf("alpha %g: best = %+v; want %+v", alpha, got, want)
		}
	}
}

func direct(x, y []float64, alpha float64) float64 {
	mean := func(a, b []float64, same bool) float64 {
		s, k := 0.0, 0
		for i := range a {
			for j := range b {
				if same && j <= i {
					continue
				}
				s += math.Pow(math.Abs(a[i]-b[j]), alpha)
				k++
			}
		}
		return s / float64(k)
	}
	m, r := float64(len(x)), float64(len(y))
	return m * r / (m + r) * (2*mean(x, y, false) - mean(x, x, true) - mean(y, y, true))
}

func FuzzDetect(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 200, 200, 200, 200}, 1.0, 3)
	f.Fuzz(func(t *testing.T, data []byte, alpha float64, minSize int) {
		xs := make([]float64, len(data))
		for i, b := range data {
			xs[i] = float64(b)
		}
		cps, err := Detect(xs, Options{Alpha: alpha, MinSize: minSize, Permutations: 19})
		if err != nil {
			return
		}
		for i, cp := range cps {
			if cp.Index <= 0 || cp.Index >= len(xs) || (i > 0 && cp.Index <= cps[i-1].Index) {
				t.Fatalf("change points %+v out of order or range for %d points", cps, len(xs))
			}
		}
	})
}

// BenchmarkTest is one permutation test of a series with a step, every
// permutation run: the cost of a change point found.
func BenchmarkTest(b *testing.B) {
	for _, n := range []int{30, 100, 500} {
		b.Run("n="+itoa(n), func(b *testing.B) {
			xs := steps(1, n, 0.03, gauss, map[int]float64{n / 2: 1.5})
			opts, _ := Options{}.resolve()
			q := newSearch(xs, 1).best(identity(n), opts.MinSize).q
			rng := rand.New(rand.NewPCG(1, 1))
			for b.Loop() {
				if _, ok := test(xs, q, opts, rng); !ok {
					b.Fatal("the step is not significant")
				}
			}
		})
	}
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}
