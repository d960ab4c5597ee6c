// Package profile writes Go runtime profiles of scenarios' measured phases,
// one set per phase, as `go test -cpuprofile -memprofile` does for a
// benchmark, so that `go tool pprof` opens them and the setup, the key fill
// and the warmup stay out of them.
package profile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
)

// The kinds of profile, as pprof names them, and the default set.
const (
	CPU   = "cpu"
	Heap  = "heap"
	Mutex = "mutex"
	Block = "block"
)

// Kinds are the kinds of profile Parse accepts, in the order they are
// written.
var Kinds = []string{CPU, Heap, Mutex, Block}

// Default are the kinds written when none are named.
var Default = []string{CPU, Heap}

// ParseKinds reads a comma-separated list of kinds ("cpu,mutex").
func ParseKinds(s string) ([]string, error) {
	var out []string
	for _, k := range strings.Split(s, ",") {
		k = strings.TrimSpace(k)
		if !slices.Contains(Kinds, k) {
			return nil, fmt.Errorf("profile kind %q: want %s", k, strings.Join(Kinds, ", "))
		}
		if !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out, nil
}

// Dir writes profiles into one directory. Its methods are safe for use by
// one scenario at a time, which is how a suite runs them.
type Dir struct {
	path  string
	kinds []string

	mu     sync.Mutex
	phases map[string]int // measured phases seen per scenario
	errs   []error
}

// New returns a Dir writing kinds into path, which must exist.
func New(path string, kinds []string) *Dir {
	if len(kinds) == 0 {
		kinds = Default
	}
	return &Dir{path: path, kinds: kinds, phases: map[string]int{}}
}

// Observe returns the hook the harness calls as scenario's measured phase
// starts (harness.Config.Observe); the function it returns ends the phase's
// profiles and writes them. The first phase of scenario is written as
// DIR/<scenario>.<kind>.pprof, later ones (--count) as
// DIR/<scenario>-<n>.<kind>.pprof. A profile that cannot be written is
// kept as an error for Err, and the run goes on.
func (d *Dir) Observe(scenario string) func() func() {
	return func() func() {
		d.mu.Lock()
		d.phases[scenario]++
		name := scenario
		if n := d.phases[scenario]; n > 1 {
			name = fmt.Sprintf("%s-%d", scenario, n)
		}
		d.mu.Unlock()
		return d.start(name)
	}
}

// start begins the profiles of one phase and returns what ends them.
func (d *Dir) start(name string) func() {
	path := func(kind string) string { return filepath.Join(d.path, name+"."+kind+".pprof") }
	var cpu *os.File
	if slices.Contains(d.kinds, CPU) {
		f, err := os.Create(path(CPU))
		if err == nil {
			if err = pprof.StartCPUProfile(f); err != nil {
				err = closed(f, err)
			} else {
				cpu = f
			}
		}
		d.fail(err)
	}
	// As go test's -mutexprofilefraction and -blockprofilerate default to:
	// every event.
	if slices.Contains(d.kinds, Mutex) {
		runtime.SetMutexProfileFraction(1)
	}
	if slices.Contains(d.kinds, Block) {
		runtime.SetBlockProfileRate(1)
	}
	return func() {
		if cpu != nil {
			pprof.StopCPUProfile()
			d.fail(closed(cpu, nil))
		}
		if slices.Contains(d.kinds, Mutex) {
			runtime.SetMutexProfileFraction(0)
		}
		if slices.Contains(d.kinds, Block) {
			runtime.SetBlockProfileRate(0)
		}
		for _, kind := range []string{Heap, Mutex, Block} {
			if !slices.Contains(d.kinds, kind) {
				continue
			}
			if kind == Heap {
				runtime.GC() // as go test does: the heap profile shows live data as of now
			}
			d.fail(write(path(kind), pprof.Lookup(kind)))
		}
	}
}

func write(path string, p *pprof.Profile) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	return closed(f, p.WriteTo(f, 0))
}

// closed closes f, removing it when err or the close fails, and returns
// the first error, naming the file.
func closed(f *os.File, err error) error {
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("profile %s: %w", f.Name(), err)
	}
	return nil
}

func (d *Dir) fail(err error) {
	if err != nil {
		d.mu.Lock()
		d.errs = append(d.errs, err)
		d.mu.Unlock()
	}
}

// Err returns every profile that could not be written, joined.
func (d *Dir) Err() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return errors.Join(d.errs...)
}
