package compare

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestBetaRandMoments: over many seeded draws, betaRand's mean and
// variance are the Beta(a, b) distribution's within 5 standard errors
// (that of the variance from the Beta's kurtosis), every draw in [0, 1].
func TestBetaRandMoments(t *testing.T) {
	const n = 100000
	tests := []struct{ a, b float64 }{
		{1, 1},         // uniform: two exponential draws
		{0.5, 0.5},     // arcsine: both shapes below 1 (the U^(1/a) boost)
		{0.1, 3},       // a shape far below 1
		{2, 5},         // both Marsaglia-Tsang
		{1, 1000},      // rank 1 of 1000: the minimum, as the bootstrap draws it
		{1000, 1},      // rank n of n: the maximum
		{990, 11},      // p99 of 1000
		{50000, 50001}, // the median of 100000: a narrow spike at 0.5
	}
	for _, tt := range tests {
		rng := rand.New(rand.NewPCG(1, 2))
		var sum, sumSq float64
		for range n {
			x := betaRand(rng, tt.a, tt.b)
			if !(x >= 0 && x <= 1) {
				t.Fatalf("betaRand(%g, %g) = %g; want in [0, 1]", tt.a, tt.b, x)
			}
			sum += x
			sumSq += x * x
		}
		mean := sum / n
		variance := (sumSq - n*mean*mean) / (n - 1)
		a, b := tt.a, tt.b
		wantMean := a / (a + b)
		wantVar := a * b / ((a + b) * (a + b) * (a + b + 1))
		exKurt := 6 * ((a-b)*(a-b)*(a+b+1) - a*b*(a+b+2)) / (a * b * (a + b + 2) * (a + b + 3))
		if se := math.Sqrt(wantVar / n); math.Abs(mean-wantMean) > 5*se {
			t.Errorf("Beta(%g, %g): mean of %d draws = %.6g; want %.6g ± %.2g", a, b, n, mean, wantMean, 5*se)
		}
		if rse := math.Sqrt((exKurt + 2) / n); math.Abs(variance/wantVar-1) > 5*rse {
			t.Errorf("Beta(%g, %g): variance of %d draws = %.6g; want %.6g ± %.1f%%", a, b, n, variance, wantVar, 500*rse)
		}
	}
}

// TestBetaRandDeterministic: the same seed gives the same draws, so a
// comparison's intervals repeat.
func TestBetaRandDeterministic(t *testing.T) {
	r1, r2 := rand.New(rand.NewPCG(7, 7)), rand.New(rand.NewPCG(7, 7))
	for i := range 1000 {
		if x, y := betaRand(r1, 3, 4), betaRand(r2, 3, 4); x != y {
			t.Fatalf("draw %d: %g, then %g from the same seed", i, x, y)
		}
	}
}

// TestExpanded: the expanded interval's level from Student's t quantiles
// (tabulated, 97.5%): alpha' = 2(1 - Φ(sqrt(n/(n-1)) t)).
func TestExpanded(t *testing.T) {
	tests := []struct {
		n int
		t float64 // t quantile 0.975 with n-1 degrees of freedom
	}{
		{2, 12.7062047362}, // 1 degree of freedom: the Cauchy's
		{3, 4.30265272975},
		{6, 2.57058183661},
		{10, 2.26215716280},
		{30, 2.04522964213},
	}
	for _, tt := range tests {
		z := math.Sqrt(float64(tt.n)/float64(tt.n-1)) * tt.t
		want := math.Erfc(z / math.Sqrt2)
		if got := expanded(0.05, tt.n); math.Abs(got-want) > 1e-6*want {
			t.Errorf("expanded(0.05, %d) = %.10g; want %.10g", tt.n, got, want)
		}
	}
	if got := expanded(0.05, 1); got != 0 {
		t.Errorf("expanded(0.05, 1) = %g; want 0", got)
	}
}
