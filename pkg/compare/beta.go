package compare

import (
	"math"
	"math/rand/v2"
)

// betaRand draws from the Beta(a, b) distribution (a, b > 0) as
// X / (X + Y) of two Gamma draws, X of shape a and Y of shape b. The
// bootstrap draws one per replicate of a percentile, the uniform order
// statistic of rank k among n (Beta(k, n-k+1)), so this is the only
// distribution the package samples: a few lines here rather than a
// numerical library linked for one call.
func betaRand(rng *rand.Rand, a, b float64) float64 {
	x := gammaRand(rng, a)
	y := gammaRand(rng, b)
	return x / (x + y)
}

// gammaRand draws from the Gamma(a, 1) distribution, a > 0: an
// exponential draw when a is 1, else Marsaglia and Tsang's method ("A
// simple method for generating gamma variables", ACM TOMS 26(3), 2000): a
// normal draw x is accepted as d(1+cx)^3, d = a-1/3, c = 1/sqrt(9d), by
// their squeeze or, failing it, their log test. Below a shape of 1 it
// draws shape a+1 and scales by U^(1/a) (their section 6).
//
// The draws from rng are those gonum's distuv.Gamma makes for a shape of
// 0.2 or more, in the same order, so the bootstrap's replicates, and the
// intervals and golden files built on them, did not move when this
// replaced it.
func gammaRand(rng *rand.Rand, a float64) float64 {
	if a == 1 {
		return rng.ExpFloat64()
	}
	d := a - 1.0/3
	scale := 1.0
	if a < 1 {
		d++
		scale = math.Pow(rng.Float64(), 1/a)
	}
	c := 1 / (3 * math.Sqrt(d))
	for {
		x := rng.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := rng.Float64()
		if u < 1-0.0331*(x*x)*(x*x) || math.Log(u) < 0.5*x*x+d*(1-v+math.Log(v)) {
			return scale * d * v
		}
	}
}
