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
	var cpu *file
	if slices.Contains(d.kinds, CPU) {
		f, err := create(path(CPU))
		if err == nil {
			if err = pprof.StartCPUProfile(f); err != nil {
				err = f.commit(err)
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
			d.fail(cpu.commit(nil))
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
			f, err := create(path(kind))
			if err == nil {
				err = f.commit(pprof.Lookup(kind).WriteTo(f, 0))
			}
			d.fail(err)
		}
	}
}

// file is a profile being written: a temporary file in the profile's
// directory, renamed to its name once whole, as report outputs are, so
// that a profile is never left half-written, nor written into a file
// linked from elsewhere. It keeps the first write error, which the CPU
// profiler, writing from a goroutine of its own, drops.
type file struct {
	f    *os.File
	name string
	err  error
}

func create(name string) (*file, error) {
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*")
	if err != nil {
		return nil, fmt.Errorf("profile %s: %w", name, err)
	}
	return &file{f: f, name: name}, nil
}

func (f *file) Write(p []byte) (int, error) {
	n, err := f.f.Write(p)
	if err != nil && f.err == nil {
		f.err = err
	}
	return n, err
}

// commit closes f and renames it to its name, unless err, a write or the
// close failed: then it is removed, and the error returned names it.
func (f *file) commit(err error) error {
	if err == nil {
		err = f.err
	}
	if cerr := f.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.f.Name(), f.name)
	}
	if err != nil {
		os.Remove(f.f.Name())
		return fmt.Errorf("profile %s: %w", f.name, err)
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
