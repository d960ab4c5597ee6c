package workload

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Trace is a recorded sequence of keys, one per operation, replayed as
// given: its distinct keys are the key space, and worker w of W replays
// lines w, w+W, w+2W, ... in turn, cycling, so that together the workers
// follow the trace's order.
type Trace struct {
	// Keys are the distinct keys, in order of first appearance.
	Keys []string
	// Seq holds, per line, the index in Keys of the line's key.
	Seq []int32
}

// Limits on what a trace may hold.
const (
	MaxTraceLines = 1 << 24
	MaxTraceKey   = 1024
)

// ReadTrace reads a trace, one key per line; blank lines are skipped.
// Errors name the line.
func ReadTrace(r io.Reader) (*Trace, error) {
	t := &Trace{}
	index := map[string]int32{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), MaxTraceKey+2)
	line := 0
	for sc.Scan() {
		line++
		k := strings.TrimRight(sc.Text(), "\r")
		if k == "" {
			continue
		}
		if len(k) > MaxTraceKey {
			return nil, fmt.Errorf("trace: line %d: key longer than %d bytes", line, MaxTraceKey)
		}
		if len(t.Seq) == MaxTraceLines {
			return nil, fmt.Errorf("trace: more than %d keys", MaxTraceLines)
		}
		i, ok := index[k]
		if !ok {
			i = int32(len(t.Keys))
			index[k] = i
			t.Keys = append(t.Keys, k)
		}
		t.Seq = append(t.Seq, i)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("trace: line %d: key longer than %d bytes", line+1, MaxTraceKey)
		}
		return nil, fmt.Errorf("trace: line %d: %w", line+1, err)
	}
	if len(t.Seq) == 0 {
		return nil, errors.New("trace: no keys")
	}
	return t, nil
}

// Replay returns worker w of workers' replay of t, as Keys.
func (t *Trace) Replay(w, workers int) *Keys {
	return &Keys{trace: t, next: w, step: max(workers, 1)}
}
