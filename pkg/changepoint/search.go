package changepoint

import "math"

// search finds the best split of one segment, and of any permutation of
// it, from distances computed once.
type search struct {
	n int
	// d holds |x_i − x_j|^α, row by row.
	d []float64
	// before and after are scratch: for each position t of a permutation,
	// the sums of the distances to the points before it and after it.
	before, after []float64
}

func newSearch(xs []float64, alpha float64) *search {
	n := len(xs)
	s := &search{n: n, d: make([]float64, n*n), before: make([]float64, n), after: make([]float64, n)}
	for i := range n {
		for j := i + 1; j < n; j++ {
			v := math.Abs(xs[i] - xs[j])
			if alpha != 1 {
				v = math.Pow(v, alpha)
			}
			s.d[i*n+j], s.d[j*n+i] = v, v
		}
	}
	return s
}

// split is a segment's best split: its index within the segment (-1 when
// none has MinSize points on both sides), and its Q.
type split struct {
	at int
	q  float64
}

// best returns the best split of the segment's points in the order perm:
// the first of the largest Q. O(n²): each point's distances to those
// before and after it, then one pass over τ keeping the left's and the
// right's within sums and the between sum as τ moves a point left.
func (s *search) best(perm []int, minSize int) split {
	n := s.n
	total := 0.0
	for t, pt := range perm {
		row := s.d[pt*n : pt*n+n]
		var b, a float64
		for _, pi := range perm[:t] {
			b += row[pi]
		}
		for _, pj := range perm[t+1:] {
			a += row[pj]
		}
		s.before[t], s.after[t] = b, a
		total += a
	}
	out := split{at: -1}
	left, right, between := 0.0, total, 0.0
	for t := 0; t < n-minSize; t++ {
		// Point t moves from the right to the left.
		left += s.before[t]
		right -= s.after[t]
		between += s.after[t] - s.before[t]
		m := t + 1
		if m < minSize {
			continue
		}
		r := float64(n - m)
		mf := float64(m)
		e := 2*between/(mf*r) - left/(mf*(mf-1)/2) - right/(r*(r-1)/2)
		q := mf * r / (mf + r) * e
		if out.at < 0 || q > out.q {
			out = split{at: m, q: q}
		}
	}
	return out
}
