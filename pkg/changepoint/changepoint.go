// Package changepoint finds the points where a series' distribution
// changes: E-divisive means with a permutation test (Matteson & James,
// "A Nonparametric Approach for Multiple Change Point Analysis of
// Multivariate Data", JASA 109(505):334-345, 2014), as MongoDB (Daly et
// al., "Change Point Detection in Software Performance Testing", ICPE
// 2020) and Apache Otava, formerly DataStax Hunter (Fleming et al.,
// "Hunter: Using Change Point Detection to Hunt for Performance
// Regressions", ICPE 2023) use it on performance histories.
//
// The model, step by step, for a univariate series x of n points:
//
//  1. The divergence of two samples X (m points) and Y (r points) is the
//     energy statistic
//     E = 2/(m·r) Σ|x−y|^α − 1/C(m,2) Σ|x−x'|^α − 1/C(r,2) Σ|y−y'|^α,
//     which is 0 in expectation when X and Y come from one distribution
//     and positive otherwise (for any difference of distribution, not
//     only of means, when 0 < α < 2). A split of a segment at τ is scored
//     Q(τ) = m·r/(m+r) · E(x[:τ], x[τ:]); the segment's best split is the
//     τ of the largest Q with at least MinSize points on each side.
//  2. Hierarchical bisection: of every current segment's best split (the
//     whole series at first), the largest Q is the candidate.
//  3. Its significance: the candidate segment's points are permuted at
//     random, Permutations times, and the best Q of each permutation
//     found again; p = (#permutations whose best Q ≥ the observed + 1) /
//     (Permutations + 1). The candidate is a change point when
//     p ≤ Significance; its segment is split in two and the search goes
//     on from step 2. The first candidate that is not significant ends it.
//
// The permutation test is exact for exchangeable points (independent
// runs of one distribution: Gaussian, log-normal and outliers alike), so
// in a series without change the chance of reporting any change point is
// at most Significance (measured: TestFalsePositiveRate).
//
// Cost: the pairwise distances |x_i−x_j|^α are computed once per
// candidate segment; a best-split search then keeps the within- and
// between-sample sums incrementally as τ moves, O(n²) for n points, and a
// test makes one search per permutation, O(Permutations·n²). A test stops
// as soon as enough permutations beat the observed Q that it cannot be
// significant, so a series without change costs a few searches. A change
// point found costs the full count. Measured (BenchmarkTest, one test of
// a series with a step, every permutation run, 199 permutations, one
// core of a shared 2-CPU machine): n = 30: 0.17 ms, n = 100: 1.5 ms,
// n = 500: 29 ms; a search for all of a series' change points costs one
// test per change point found, plus the last one that is not.
//
// Deterministic: the permutations come from a PCG generator seeded with
// Options.Seed (DefaultSeed unless set), so one series gives one answer on
// every run of one build.
package changepoint

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// DefaultSeed seeds the permutations when Options.Seed is 0.
const DefaultSeed uint64 = 0x5eed_c4a9_e0d1_7e57

// Options set the search. A zero field takes its default, DefaultOptions'.
type Options struct {
	// Alpha is the exponent of the distances, in (0, 2): 1, the default,
	// weighs a difference by its size and detects any change of
	// distribution; towards 2 it sees changes of the mean only.
	Alpha float64
	// Significance is the largest p-value of a change point (0.05).
	Significance float64
	// Permutations is how many permutations test a candidate (199). The
	// smallest p-value they can give is 1/(Permutations+1): Detect refuses
	// a Significance below it.
	Permutations int
	// MinSize is the fewest points a segment holds (3), at least 2: a
	// change in the last MinSize-1 points is not found yet.
	MinSize int
	// Seed seeds the permutations; 0 is DefaultSeed.
	Seed uint64
}

// DefaultOptions are the defaults a zero Options field takes.
var DefaultOptions = Options{Alpha: 1, Significance: 0.05, Permutations: 199, MinSize: 3, Seed: DefaultSeed}

// ChangePoint is where a new segment starts.
type ChangePoint struct {
	// Index is the first point of the new segment.
	Index int
	// PValue is the permutation test's p-value when it was found.
	PValue float64
	// Statistic is the split's Q, in the series' unit to the power Alpha.
	Statistic float64
}

// ErrInput is wrapped by the errors of a series that cannot be searched.
var ErrInput = errors.New("changepoint: invalid input")

// resolve fills opts' zero fields with the defaults and validates it.
func (opts Options) resolve() (Options, error) {
	d := DefaultOptions
	if opts.Alpha == 0 {
		opts.Alpha = d.Alpha
	}
	if opts.Significance == 0 {
		opts.Significance = d.Significance
	}
	if opts.Permutations == 0 {
		opts.Permutations = d.Permutations
	}
	if opts.MinSize == 0 {
		opts.MinSize = d.MinSize
	}
	if opts.Seed == 0 {
		opts.Seed = d.Seed
	}
	switch {
	case !(opts.Alpha > 0 && opts.Alpha < 2):
		return opts, fmt.Errorf("%w: alpha %g is outside (0, 2)", ErrInput, opts.Alpha)
	case !(opts.Significance > 0 && opts.Significance < 1):
		return opts, fmt.Errorf("%w: significance %g is outside (0, 1)", ErrInput, opts.Significance)
	case opts.Permutations < 1 || opts.Permutations > 10_000_000:
		return opts, fmt.Errorf("%w: permutations %d is outside [1, 10000000]", ErrInput, opts.Permutations)
	case opts.MinSize < 2:
		return opts, fmt.Errorf("%w: minimum segment size %d is below 2", ErrInput, opts.MinSize)
	case opts.Significance*float64(opts.Permutations+1) < 1:
		return opts, fmt.Errorf("%w: significance %g is below the smallest p-value %d permutations can give (%.3g): use at least %d",
			ErrInput, opts.Significance, opts.Permutations, 1/float64(opts.Permutations+1), PermutationsFor(opts.Significance))
	}
	return opts, nil
}

// PermutationsFor returns the fewest permutations whose smallest p-value
// is at most significance.
func PermutationsFor(significance float64) int {
	if !(significance > 0 && significance < 1) {
		return DefaultOptions.Permutations
	}
	return int(math.Ceil(1/significance-1e-9)) - 1
}

// Detect returns the change points of xs, by index. A series too short to
// split (fewer than 2·MinSize points) has none. It is an error for a point
// to be NaN or infinite, or for opts to be out of range.
func Detect(xs []float64, opts Options) ([]ChangePoint, error) {
	opts, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	for i, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("%w: point %d is %g", ErrInput, i, x)
		}
	}
	if len(xs) > 0 {
		if span := slices.Max(xs) - slices.Min(xs); math.IsInf(math.Pow(span, opts.Alpha), 0) {
			return nil, fmt.Errorf("%w: the points span %g, too wide for their distances to be summed", ErrInput, span)
		}
	}
	if len(xs) < 2*opts.MinSize {
		return nil, nil
	}
	rng := rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15))
	type segment struct {
		from, to int // [from, to)
		best     split
	}
	bestOf := func(from, to int) segment {
		s := segment{from: from, to: to, best: split{at: -1}}
		if to-from >= 2*opts.MinSize {
			s.best = newSearch(xs[from:to], opts.Alpha).best(identity(to-from), opts.MinSize)
		}
		return s
	}
	segs := []segment{bestOf(0, len(xs))}
	var out []ChangePoint
	for {
		c := -1
		for i, s := range segs {
			if s.best.at >= 0 && (c < 0 || s.best.q > segs[c].best.q) {
				c = i
			}
		}
		if c < 0 {
			break
		}
		s := segs[c]
		p, ok := test(xs[s.from:s.to], s.best.q, opts, rng)
		if !ok {
			break
		}
		at := s.from + s.best.at
		out = append(out, ChangePoint{Index: at, PValue: p, Statistic: s.best.q})
		segs = slices.Replace(segs, c, c+1, bestOf(s.from, at), bestOf(at, s.to))
	}
	slices.SortFunc(out, func(a, b ChangePoint) int { return a.Index - b.Index })
	return out, nil
}

// test is the permutation test of a segment's best split, whose Q is
// observed: its p-value, and whether it is at most the significance. It
// stops once that cannot be (the p-value is then not computed: 1).
func test(xs []float64, observed float64, opts Options, rng *rand.Rand) (float64, bool) {
	s := newSearch(xs, opts.Alpha)
	perm := identity(len(xs))
	// At most this many permutations may reach the observed Q.
	allowed := int(math.Floor(opts.Significance*float64(opts.Permutations+1)+1e-9)) - 1
	// Sums in another order differ in their last bits: a permutation
	// within rounding of the observed Q counts as reaching it.
	atLeast := observed - 1e-9*math.Abs(observed)
	reached := 0
	for range opts.Permutations {
		rng.Shuffle(len(perm), func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
		if s.best(perm, opts.MinSize).q >= atLeast {
			if reached++; reached > allowed {
				return 1, false
			}
		}
	}
	return float64(reached+1) / float64(opts.Permutations+1), true
}

func identity(n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	return p
}
