package capacity

import (
	"math"
	"time"
)

// mmc is an M/M/c queue: Poisson arrivals, c servers, exponential service
// times of mean s. Its capacity is c/s; the tail of its sojourn time (wait
// plus service) has a closed form, so the rate at which a percentile
// crosses a limit is known exactly.
type mmc struct {
	c int
	s time.Duration
}

// capacity is the rate at which the servers are always busy: c/s.
func (m mmc) capacity() float64 { return float64(m.c) / m.s.Seconds() }

// erlangC is the probability that an arrival at rate lambda waits.
func (m mmc) erlangC(lambda float64) float64 {
	mu := 1 / m.s.Seconds()
	a := lambda / mu
	rho := a / float64(m.c)
	// Σ a^k/k! for k < c, and a^c/c!, computed as running terms.
	sum, term := 0.0, 1.0
	for k := 0; k < m.c; k++ {
		sum += term
		term *= a / float64(k+1)
	}
	last := term / (1 - rho)
	return last / (sum + last)
}

// tail is P(sojourn > t) at arrival rate lambda: with W the wait, P(W >
// t) = C e^{-θt} (θ = cμ - λ), and S ~ Exp(μ) independent of it,
// P(W + S > t) = e^{-μt} + Cμ/(θ-μ) (e^{-μt} - e^{-θt}), or
// e^{-μt}(1 + Cμt) when θ = μ.
func (m mmc) tail(lambda, t float64) float64 {
	mu := 1 / m.s.Seconds()
	theta := float64(m.c)*mu - lambda
	c := m.erlangC(lambda)
	if math.Abs(theta-mu) < 1e-9*mu {
		return math.Exp(-mu*t) * (1 + c*mu*t)
	}
	return math.Exp(-mu*t) + c*mu/(theta-mu)*(math.Exp(-mu*t)-math.Exp(-theta*t))
}

// percentile is the sojourn time's p-th percentile (p in (0, 100)) at
// arrival rate lambda, +Inf at or past capacity.
func (m mmc) percentile(lambda, p float64) time.Duration {
	if lambda >= m.capacity() {
		return time.Duration(math.MaxInt64)
	}
	q := 1 - p/100
	lo, hi := 0.0, 1.0
	for m.tail(lambda, hi) > q {
		hi *= 2
	}
	for i := 0; i < 200; i++ {
		mid := (lo + hi) / 2
		if m.tail(lambda, mid) > q {
			lo = mid
		} else {
			hi = mid
		}
	}
	return time.Duration(hi * float64(time.Second))
}

// crossing is the arrival rate at which the p-th percentile reaches
// limit: the capacity under the objective "p<limit", by bisection (the
// percentile rises with the rate).
func (m mmc) crossing(p float64, limit time.Duration) float64 {
	lo, hi := 0.0, m.capacity()
	for i := 0; i < 200; i++ {
		mid := (lo + hi) / 2
		if m.percentile(mid, p) < limit {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo
}
