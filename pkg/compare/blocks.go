package compare

import (
	"math"
	"math/rand/v2"
	"sort"

	"github.com/aclements/go-moremath/stats"
)

// blockInterval is the bootstrap (1 - alpha) interval of (new - base) /
// base, in percent, of figure f (throughput or a latency percentile),
// resampling whole intervals of each side independently: runs with
// replacement when a side has several, then the intervals of each run
// drawn, with replacement (latency.Blocks.Draw). A replicate's throughput
// is its intervals' operations over their durations; its percentile, that
// of its intervals' histograms together.
//
// When it decides alone (expand), the interval is the expanded percentile
// interval (Hesterberg, "What
// teachers should know about the bootstrap", 2015): a percentile interval
// from few blocks is too narrow, by sqrt((n-1)/n) in spread and by the
// normal quantile where Student's t applies, so its tails are taken at
// alpha' with z(1 - alpha'/2) = sqrt(n/(n-1)) t(1 - alpha/2, n-1), n the
// units drawn first on the side with fewer (runs, or one run's
// intervals). Ten intervals at alpha 0.05 give alpha' 0.017: an interval
// about a fifth wider. Beside the U test over runs, which decides on the
// run level, it is the plain percentile interval, as over operations.
//
// Intervals, not operations, are the units: latencies close in time are
// correlated (a pause, a busy neighbour, a compaction slows many in a
// row), so operations resampled as independent give an interval far
// narrower than the spread from one stretch of a run to the next.
// ok is false when the base's intervals hardly ever hold the figure (its
// operations are in too few of them to resample).
func blockInterval(b, n *intervals, f figure, expand bool, o Options) (lo, hi float64, ok bool) {
	rng := rand.New(rand.NewPCG(o.Seed, 0xb10cb10c))
	var wb, wn []int64
	reps := make([]float64, o.Resamples)
	for i := range reps {
		// A replicate of the base with nothing in it has no relative
		// change: draw again (the base's figure is not 0, or no interval
		// would be asked for, so one will hold something).
		var bv float64
		for try := 0; bv <= 0; try++ {
			if try == 100 {
				return 0, 0, false
			}
			wb = b.lat.Draw(rng, wb)
			bv = b.value(wb, f)
		}
		wn = n.lat.Draw(rng, wn)
		reps[i] = (n.value(wn, f) - bv) / bv * 100
	}
	sort.Float64s(reps)
	a := o.Alpha
	if expand {
		a = expanded(o.Alpha, min(b.units(), n.units()))
	}
	return quantile(reps, a/2), quantile(reps, 1-a/2), true
}

// units is the number of units a replicate draws first: runs, when there
// are several, else intervals.
func (iv *intervals) units() int {
	if g := iv.lat.Groups(); g > 1 {
		return g
	}
	return iv.lat.Len()
}

// expanded is the level alpha' whose normal quantile is Student's t
// quantile of alpha with n-1 degrees of freedom, scaled by sqrt(n/(n-1)):
// the expanded percentile interval's. 0 (the replicates' extremes) for
// fewer than 2 units.
func expanded(alpha float64, n int) float64 {
	if n < 2 {
		return 0
	}
	df := float64(n - 1)
	t := stats.InvCDF(stats.TDist{V: df})(1 - alpha/2)
	z := math.Sqrt(float64(n)/df) * t
	return math.Erfc(z / math.Sqrt2) // 2(1 - Φ(z))
}

// value is figure f of the replicate that takes interval i w[i] times.
func (iv *intervals) value(w []int64, f figure) float64 {
	if f.rate {
		var ops, ns int64
		for i, k := range w {
			ops += k * iv.ops[i]
			ns += k * iv.ns[i]
		}
		if ns <= 0 {
			return 0
		}
		return float64(ops) / (float64(ns) / 1e9)
	}
	return float64(iv.lat.Weighted(w, f.pct))
}
