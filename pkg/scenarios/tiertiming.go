package scenarios

import (
	"math/rand/v2"
	"sync"
	"time"

	"github.com/rustci/rustci-perf/pkg/latency"
)

// tierTiming records the latency of every call the cache makes to a tier
// that is not in process (cache.Options.Observe): the cache counts its
// tiers' calls but does not time them; the scenario that measures it does.
// A nil *tierTiming (a rig built by a test around its own tiers) times
// nothing.
type tierTiming struct {
	names []string
	recs  []striped
}

// striped is a latency histogram many goroutines record into: stripes
// chosen at random, each behind its own lock on its own cache line, so
// concurrent calls rarely meet on one.
type striped struct {
	stripes [8]struct {
		mu  sync.Mutex
		rec *latency.Recorder
		_   [48]byte
	}
}

func newTierTiming(names []string) *tierTiming {
	t := &tierTiming{names: names, recs: make([]striped, len(names))}
	t.reset()
	return t
}

// observe is the cache's Observe hook.
func (t *tierTiming) observe(tier string, d time.Duration, _ error) {
	for i, n := range t.names {
		if n == tier {
			st := &t.recs[i].stripes[rand.Uint32()%uint32(len(t.recs[i].stripes))]
			st.mu.Lock()
			st.rec.Record(d)
			st.mu.Unlock()
			return
		}
	}
}

// reset empties every histogram, so that what summaries reports covers a
// chosen phase (the measured one, not its setup).
func (t *tierTiming) reset() {
	if t == nil {
		return
	}
	for i := range t.recs {
		for j := range t.recs[i].stripes {
			st := &t.recs[i].stripes[j]
			st.mu.Lock()
			st.rec = latency.NewRecorder()
			st.mu.Unlock()
		}
	}
}

// summaries returns the latency of each tier that was called, by name.
func (t *tierTiming) summaries() map[string]*latency.Summary {
	out := map[string]*latency.Summary{}
	if t == nil {
		return out
	}
	for i, n := range t.names {
		all := latency.NewRecorder()
		for j := range t.recs[i].stripes {
			st := &t.recs[i].stripes[j]
			st.mu.Lock()
			all.Merge(st.rec)
			st.mu.Unlock()
		}
		if all.Count() > 0 {
			s := all.Summary()
			out[n] = &s
		}
	}
	return out
}
