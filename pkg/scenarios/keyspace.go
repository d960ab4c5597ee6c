// The keys the reading scenarios write first and read, and how each
// worker picks the next one.

package scenarios

import (
	"fmt"

	"github.com/rustci/rustci-perf/pkg/config"
	"github.com/rustci/rustci-perf/pkg/workload"
)

// readKeys is how many keys cache-read and latency write before measuring:
// the configured key space, else one per measured operation when the count
// is known (at most maxKeys).
func readKeys(s config.Settings) int {
	switch {
	case s.Keys > 0:
		return s.Keys
	case s.Duration > 0 || len(s.Stages) > 0:
		return keySpaceTimed
	}
	return min(s.Ops, maxKeys)
}

// readSpace returns the keys a reading scenario writes before measuring and,
// per worker, what picks the next one: a trace's keys and replay, or
// readKeys(s) keys picked by the configured distribution.
func readSpace(s config.Settings) ([]string, func(w int) *workload.Keys, string, error) {
	if t := s.Trace; t != nil {
		return t.Keys, func(w int) *workload.Keys { return t.Replay(w, s.Concurrency) },
			fmt.Sprintf("reads replay a trace of %d keys over %d distinct ones", len(t.Seq), len(t.Keys)), nil
	}
	ks := keys("k", readKeys(s))
	pick, err := picker(s, ks)
	return ks, pick, fmt.Sprintf("reads pick among %d keys: %s", len(ks), s.Distribution), err
}

// picker returns, per worker, a function choosing the next key of ks by the
// configured distribution.
func picker(s config.Settings, ks []string) (func(w int) *workload.Keys, error) {
	space, err := s.Distribution.Prepare(len(ks))
	if err != nil {
		return nil, err
	}
	return func(w int) *workload.Keys { return space.Keys(s.Seed, w, s.Concurrency) }, nil
}
