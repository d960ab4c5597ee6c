// Package workload chooses the keys a run's operations touch: uniformly,
// sequentially, by a Zipfian law (YCSB's generator), or with a hot spot
// (YCSB's), reproducibly from a seed.
//
// A Distribution is parsed once ("zipfian:0.99") and prepared for a key
// space (Zipfian precomputes its zeta constants there, in O(keys)); each
// worker then gets its own Keys from it, which draws without locks or
// allocation.
package workload

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
)

// Distribution names a key distribution.
type Distribution struct {
	// Name is uniform, sequential, zipfian or hotspot.
	Name string
	// Theta is the Zipfian exponent, in (0, 1) (YCSB's default 0.99).
	Theta float64
	// HotKeys and HotOps, for hotspot, are the share of keys that is hot
	// and the share of operations that go to it (YCSB's hotspot: 0.2 and
	// 0.8 by default).
	HotKeys, HotOps float64
}

// DefaultTheta is YCSB's Zipfian constant.
const DefaultTheta = 0.99

// String writes d as ParseDistribution reads it.
func (d Distribution) String() string {
	switch d.Name {
	case "zipfian":
		return "zipfian:" + strconv.FormatFloat(d.Theta, 'g', -1, 64)
	case "hotspot":
		return "hotspot:" + strconv.FormatFloat(d.HotKeys, 'g', -1, 64) + ":" + strconv.FormatFloat(d.HotOps, 'g', -1, 64)
	}
	return d.Name
}

// UnmarshalText reads d as ParseDistribution does, for YAML and flags.
func (d *Distribution) UnmarshalText(b []byte) error {
	v, err := ParseDistribution(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// MarshalText writes d as UnmarshalText reads it.
func (d Distribution) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// ParseDistribution reads "uniform", "sequential", "zipfian",
// "zipfian:THETA" with THETA in (0, 1), "hotspot" or
// "hotspot:HOTKEYS:HOTOPS" with both shares in (0, 1).
func ParseDistribution(s string) (Distribution, error) {
	name, arg, hasArg := strings.Cut(strings.TrimSpace(s), ":")
	switch name {
	case "hotspot":
		d := Distribution{Name: name, HotKeys: 0.2, HotOps: 0.8}
		if hasArg {
			k, o, ok := strings.Cut(arg, ":")
			hk, err1 := strconv.ParseFloat(k, 64)
			ho, err2 := strconv.ParseFloat(o, 64)
			if !ok || err1 != nil || err2 != nil || !(hk > 0 && hk < 1) || !(ho > 0 && ho < 1) {
				return Distribution{}, fmt.Errorf("distribution %q: want hotspot:HOTKEYS:HOTOPS, two shares between 0 and 1, as in hotspot:0.2:0.8", s)
			}
			d.HotKeys, d.HotOps = hk, ho
		}
		return d, nil
	case "uniform", "sequential":
		if hasArg {
			return Distribution{}, fmt.Errorf("distribution %q: %s takes no parameter", s, name)
		}
		return Distribution{Name: name}, nil
	case "zipfian":
		d := Distribution{Name: name, Theta: DefaultTheta}
		if hasArg {
			t, err := strconv.ParseFloat(arg, 64)
			if err != nil || !(t > 0 && t < 1) {
				return Distribution{}, fmt.Errorf("distribution %q: want a Zipfian exponent between 0 and 1, as in zipfian:0.99", s)
			}
			d.Theta = t
		}
		return d, nil
	}
	return Distribution{}, fmt.Errorf("distribution %q: want uniform, sequential, zipfian[:THETA] or hotspot[:HOTKEYS:HOTOPS]", s)
}

// Space is a distribution prepared for n keys.
type Space struct {
	d Distribution
	n int
	// Zipfian constants, as YCSB's ZipfianGenerator names them.
	alpha, zetan, eta, half float64
}

// Prepare readies d for keys 0..n-1.
func (d Distribution) Prepare(n int) (*Space, error) {
	if n < 1 {
		return nil, fmt.Errorf("key space %d: want at least 1 key", n)
	}
	s := &Space{d: d, n: n}
	if d.Name == "zipfian" {
		zeta2 := zeta(2, d.Theta)
		s.zetan = zeta(n, d.Theta)
		s.alpha = 1 / (1 - d.Theta)
		s.eta = (1 - math.Pow(2/float64(n), 1-d.Theta)) / (1 - zeta2/s.zetan)
		s.half = 1 + math.Pow(0.5, d.Theta)
	}
	return s, nil
}

// zeta is the sum over i in 1..n of 1/i^theta.
func zeta(n int, theta float64) float64 {
	var z float64
	for i := 1; i <= n; i++ {
		z += 1 / math.Pow(float64(i), theta)
	}
	return z
}

// N is the number of keys.
func (s *Space) N() int { return s.n }

// hot is the number of hot keys of a hotspot space (at least 1, fewer than
// all when there are at least two keys).
func (s *Space) hot() int {
	return min(max(1, int(s.d.HotKeys*float64(s.n))), max(1, s.n-1))
}

// Probability is the chance that one draw picks key k (0 is the most
// popular under Zipfian; the hot keys come first under hotspot). For Zipfian it is the law of the generator as
// drawn, Gray et al.'s approximation that YCSB uses: exact for keys 0 and
// 1, and within a few percent of 1/(k+1)^theta elsewhere but for ranks 2 to
// 4, which it draws up to ~17% more often (ZipfLaw gives the pure law).
func (s *Space) Probability(k int) float64 {
	if s.d.Name == "hotspot" {
		h := s.hot()
		if s.n == h {
			return 1 / float64(s.n)
		}
		if k < h {
			return s.d.HotOps / float64(h)
		}
		return (1 - s.d.HotOps) / float64(s.n-h)
	}
	if s.d.Name != "zipfian" {
		return 1 / float64(s.n)
	}
	switch {
	case k == 0:
		return 1 / s.zetan
	case k == 1:
		return math.Pow(0.5, s.d.Theta) / s.zetan
	}
	return s.atLeast(k) - s.atLeast(k+1)
}

// atLeast is the chance that a Zipfian draw is k or more, for k >= 2: the
// draw is floor(n * (eta*u - eta + 1)^alpha) for u uniform in [0, 1) past
// the first two keys' share, capped at n-1.
func (s *Space) atLeast(k int) float64 {
	if k >= s.n {
		return 0
	}
	u := (math.Pow(float64(k)/float64(s.n), 1-s.d.Theta)-1)/s.eta + 1
	return 1 - max(u, s.half/s.zetan)
}

// ZipfLaw is the pure Zipfian probability of key k: 1/(k+1)^theta/zeta(n).
func (s *Space) ZipfLaw(k int) float64 {
	return 1 / math.Pow(float64(k+1), s.d.Theta) / s.zetan
}

// Keys draws key indexes for one worker; it is not safe for concurrent use.
type Keys struct {
	s    *Space
	r    *rand.Rand
	next int
	// A trace replay has trace set and steps by step through its lines.
	trace *Trace
	step  int
}

// Keys returns worker w's generator under seed: distinct workers draw
// distinct sequences, and the same (seed, w) always the same one.
// Sequential workers start at evenly spaced keys of workers.
func (s *Space) Keys(seed int64, w, workers int) *Keys {
	return &Keys{s: s, r: rand.New(rand.NewPCG(uint64(seed), uint64(w)+1)), next: w * s.n / max(workers, 1)}
}

// Next returns the next key index, in 0..N()-1 (a trace's Keys).
func (k *Keys) Next() int {
	if t := k.trace; t != nil {
		i := t.Seq[k.next%len(t.Seq)]
		k.next += k.step
		if k.next >= len(t.Seq) {
			k.next -= len(t.Seq)
		}
		return int(i)
	}
	s := k.s
	switch s.d.Name {
	case "sequential":
		i := k.next
		k.next++
		if k.next == s.n {
			k.next = 0
		}
		return i
	case "zipfian":
		// YCSB's ZipfianGenerator.nextValue (Gray et al., "Quickly
		// generating billion-record synthetic databases").
		u := k.r.Float64()
		uz := u * s.zetan
		if uz < 1 {
			return 0
		}
		if uz < s.half {
			return 1
		}
		return min(int(float64(s.n)*math.Pow(s.eta*u-s.eta+1, s.alpha)), s.n-1)
	case "hotspot":
		h := s.hot()
		if h == s.n || k.r.Float64() < s.d.HotOps {
			return k.r.IntN(h)
		}
		return h + k.r.IntN(s.n-h)
	}
	return k.r.IntN(s.n)
}
