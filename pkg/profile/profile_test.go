package profile_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/pprof/profile"

	"github.com/rustci/rustci-perf/pkg/harness"
	rprof "github.com/rustci/rustci-perf/pkg/profile"
)

// run measures a busy operation for a few milliseconds with d observing.
func run(t *testing.T, d *rprof.Dir, scenario string) {
	t.Helper()
	sink := 0
	_, err := harness.Run(context.Background(), harness.Config{Workers: 1, Ops: 20000, Observe: d.Observe(scenario)}, func(int) harness.Op {
		return func(i int) (harness.Kind, error) {
			for j := range 200 {
				sink += i ^ j
			}
			return 0, nil
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	_ = sink
}

// TestProfilesOpenInPprof: each measured phase gets its own profiles,
// named after the scenario and numbered from the second; each is a
// profile pprof reads, of the kind its name says.
func TestProfilesOpenInPprof(t *testing.T) {
	dir := t.TempDir()
	d := rprof.New(dir, []string{rprof.CPU, rprof.Heap, rprof.Mutex, rprof.Block})
	run(t, d, "cache-read")
	run(t, d, "cache-read")
	run(t, d, "limiter")
	if err := d.Err(); err != nil {
		t.Fatal(err)
	}
	var names []string
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		names = append(names, e.Name())
	}
	var want []string
	for _, sc := range []string{"cache-read", "cache-read-2", "limiter"} {
		for _, k := range rprof.Kinds {
			want = append(want, sc+"."+k+".pprof")
		}
	}
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Fatalf("files %v; want %v", names, want)
	}
	sampleType := map[string]string{"cpu": "cpu", "heap": "inuse_space", "mutex": "delay", "block": "delay"}
	for _, n := range names {
		f, err := os.Open(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		p, err := profile.Parse(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		kind := strings.Split(n, ".")[1]
		var types []string
		for _, st := range p.SampleType {
			types = append(types, st.Type)
		}
		if !slices.Contains(types, sampleType[kind]) {
			t.Errorf("%s: sample types %v; want %s among them", n, types, sampleType[kind])
		}
	}
}

// TestProfileErrorsAreKept: a profile that cannot be written is an error
// for Err, and the run it observes goes on.
func TestProfileErrorsAreKept(t *testing.T) {
	d := rprof.New(filepath.Join(t.TempDir(), "gone"), nil)
	run(t, d, "memory")
	err := d.Err()
	if err == nil || !strings.Contains(err.Error(), "memory.cpu.pprof") || !strings.Contains(err.Error(), "memory.heap.pprof") {
		t.Errorf("Err() = %v; want the cpu and heap profiles named", err)
	}
}

func TestParseKinds(t *testing.T) {
	got, err := rprof.ParseKinds("cpu, mutex,cpu")
	if err != nil || !slices.Equal(got, []string{"cpu", "mutex"}) {
		t.Errorf("ParseKinds: %v, %v", got, err)
	}
	if _, err := rprof.ParseKinds("cpu,goroutine"); err == nil || !strings.Contains(err.Error(), `"goroutine"`) {
		t.Errorf("ParseKinds(goroutine): %v; want an error naming it", err)
	}
}
