// Package canary measures how fast the machine is right now, with a fixed
// workload that no change to rustci-perf's components touches: a canary,
// as MongoDB's performance CI runs beside its tests (Ingo and Daly,
// "Automated System Performance Testing at MongoDB", DBTest 2020). A run
// kept in a history measures it before its first scenario and after its
// last; a trend then tells a change of the code from a change of the
// machine: when the canary's level moved at the same runs as a figure's,
// in the direction that explains it, the machine moved (another tenant, a
// CPU hog, a slower runner), and the figure's change does not alert.
//
// The workload is frozen: Workload names it, and a change to it is a new
// name, since canaries of different workloads cannot be compared. It is
// what the scenarios are made of: in-process reads spread over more
// goroutines than CPUs, and writes every CPU makes to one shared cache
// line. 4 × GOMAXPROCS goroutines each look up keys of a 65536-entry map
// (a few MB: caches and memory, not only the ALU) in a pseudo-random
// order and add to one shared atomic counter every 4 lookups, for Round,
// Rounds times; the canary is the best round's lookups per second.
//
// The shared counter is what makes it a canary of this machine. On the
// 2-vCPU VM rustci-perf is developed on, the scenarios' speed moves
// between two regimes lasting minutes (cache-read 16.8M and 9.1M ops/s,
// limiter 15M and 6M, of one binary, nothing else running): lookups
// alone do not move (155-165M/s in both), lookups with the shared counter
// do, with them (112-125M/s and 63-67M/s): the cost of moving a cache line
// between the two vCPUs, which the host's placement of them decides,
// and which the cache's and the limiter's shared state pay on every
// operation. A CPU taken by another process lowers it too (120M/s to
// 90-100M/s beside a busy loop).
package canary

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Workload names the canary's workload; it changes when the workload does.
const Workload = "map-read-shared/v1"

// Round is how long one round of the canary lasts; Rounds how many are
// taken (the best counts: a canary says how fast the machine can be).
const (
	Round  = 50 * time.Millisecond
	Rounds = 3
)

const (
	keys       = 1 << 16
	perTime    = 256 // lookups between clock reads
	shareEvery = 4   // lookups between adds to the shared counter
)

var sink atomic.Uint64

// shared is the counter every goroutine adds to: one cache line of its own.
var shared struct {
	_ [64]byte
	n atomic.Uint64
	_ [56]byte
}

// Measure runs the canary and returns its rate, lookups per second: about
// Rounds × Round of the machine's every CPU. It returns early, with what
// it has (0 before one round), when ctx ends.
func Measure(ctx context.Context) float64 {
	m := make(map[uint64]uint64, keys)
	ks := make([]uint64, keys)
	for i := range ks {
		ks[i] = uint64(i) * 0x9E3779B97F4A7C15 // Fibonacci hashing: spread keys
		m[ks[i]] = uint64(i)
	}
	workers := 4 * runtime.GOMAXPROCS(0)
	best := 0.0
	for range Rounds {
		if ctx.Err() != nil {
			break
		}
		var ops atomic.Uint64
		var wg sync.WaitGroup
		start := time.Now()
		stop := start.Add(Round)
		for w := range workers {
			wg.Go(func() {
				x := uint64(w)*0x2545F4914F6CDD1D + 1
				var n, s uint64
				for {
					for j := range perTime {
						// xorshift64: the order of lookups.
						x ^= x << 13
						x ^= x >> 7
						x ^= x << 17
						s += m[ks[x&(keys-1)]]
						if j%shareEvery == 0 {
							shared.n.Add(1)
						}
					}
					n += perTime
					if time.Now().After(stop) {
						break
					}
				}
				sink.Add(s)
				ops.Add(n)
			})
		}
		wg.Wait()
		if rate := float64(ops.Load()) / time.Since(start).Seconds(); rate > best {
			best = rate
		}
	}
	return best
}
