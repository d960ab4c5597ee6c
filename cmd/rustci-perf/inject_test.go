package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rustci/rustci-perf/internal/redistest"
	"github.com/rustci/rustci-perf/pkg/report"
)

// TestInjectNamedInTheReport: faults from --inject and from the config
// file go into the run, and every format says so at its top; the
// scenarios they went into say where, in a note.
func TestInjectNamedInTheReport(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "faults.yaml")
	if err := os.WriteFile(cfg, []byte(`
scenarios:
  cache-read:
    thresholds: ["hit_rate>0.95"]
inject:
  - l3:error=0.5
`), 0o644); err != nil {
		t.Fatal(err)
	}
	r := rustciPerf(t, dir, "run", "cache-read", "--duration", "300ms", "-q", "--config", cfg,
		"--inject", "l1:latency=p=0.01:100us", "--output", "json=r.json", "--output", "junit=r.xml", "--output", "markdown=r.md", "--output", "html=r.html")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	const line = "FAULTS INJECTED, not a clean run: l1:latency=p=0.01:100µs; l3:error=0.5"
	if lines := strings.SplitN(r.stdout, "\n", 4); len(lines) < 3 || lines[2] != line {
		t.Errorf("text report's header lacks %q:\n%s", line, r.stdout)
	}
	rep := readReportFile(t, filepath.Join(dir, "r.json"))
	if want := []string{"l1:latency=p=0.01:100µs", "l3:error=0.5"}; !slices.Equal(rep.Injected, want) {
		t.Errorf("JSON injected %q; want %q", rep.Injected, want)
	}
	notes := strings.Join(rep.Scenarios[0].Notes, "\n")
	for _, want := range []string{"injected fault l1:latency=p=0.01:100µs: into every call to l1", "injected fault l3:error=0.5: into every call to l3"} {
		if !strings.Contains(notes, want) {
			t.Errorf("cache-read's notes lack %q:\n%s", want, notes)
		}
	}
	for file, want := range map[string]string{
		"r.xml":  `<property name="rustci-perf.injected" value="l1:latency=p=0.01:100µs"></property>`,
		"r.md":   "> **Faults injected, not a clean run:** `l1:latency=p=0.01:100µs`, `l3:error=0.5`",
		"r.html": `<strong>Faults injected, not a clean run:</strong> <code>l1:latency=p=0.01:100µs</code>; <code>l3:error=0.5</code>`,
	} {
		b, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), want) {
			t.Errorf("%s lacks %q", file, want)
		}
	}
}

// TestCompareFindsInjectedL2Latency: with L2 slowed by a fault, compare
// at --count 5 calls an L2 20% slower (6ms a call against 5ms) a
// regression, and two runs with the same fault none. Each pair's two sides run at the
// same time, so that what else this shared machine does weighs on both
// alike: run one after the other, a side that met a busy minute would
// differ from the other by the machine, not by the fault. The fault is
// milliseconds so that it, not the machine, makes each call's time: at
// 1ms against 1.2ms, a run's p50 moved by up to a few hundred
// microseconds with the machine's load, and one try in four found no
// significant change (p=0.095: two runs of the ten out of order).
func TestCompareFindsInjectedL2Latency(t *testing.T) {
	srv := redistest.Start(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "l2.yaml")
	// Calls allowed 2s instead of 50ms: this machine may be running every
	// package's tests at once; no threshold on speed.
	if err := os.WriteFile(cfg, []byte("cache:\n  l2:\n    timeout: 2s\nscenarios:\n  cache-l2:\n    thresholds: [\"hit_rate>0.99\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	pair := func(base, nw string, args ...[]string) result {
		t.Helper()
		var cmds [2]*exec.Cmd
		for i, out := range []string{base, nw} {
			cmds[i] = exec.Command(binary, append([]string{"run", "cache-l2", "--redis-url", srv.URL(), "--count", "5", "--duration", "500ms", "--concurrency", "4",
				"--keys", "1000", "-q", "--config", cfg, "--output", "json=" + out}, args[i]...)...)
			cmds[i].Dir, cmds[i].Env = dir, cleanEnv()
			if err := cmds[i].Start(); err != nil {
				t.Fatal(err)
			}
		}
		for i, c := range cmds {
			if code := exitCodeOf(t, c.Wait()); code != 0 {
				t.Fatalf("run %v: exit %d", args[i], code)
			}
		}
		return rustciPerf(t, dir, "compare", base, nw)
	}

	r := pair("base.json", "slow.json", []string{"--inject", "l2:latency=5ms"}, []string{"--inject", "l2:latency=6ms"})
	t.Logf("5ms against 6ms:\n%s", r.stdout)
	if r.code != 1 || !regressed(r.stdout, "p50") {
		t.Errorf("L2 5ms against 6ms a call: exit %d; want 1, p50 a regression\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "WARNING: the reports ran with different faults injected (baseline: l2:latency=5ms; new: l2:latency=6ms)") {
		t.Errorf("no warning that the faults differ:\n%s", r.stdout)
	}
	for _, f := range []string{"base.json", "slow.json"} {
		if rep := readReportFile(t, filepath.Join(dir, f)); len(rep.Injected) != 1 || rep.Scenarios[0].Repeat == nil || rep.Scenarios[0].Repeat.Count != 5 {
			t.Errorf("%s: injected %q, runs %+v; want one fault, 5 runs", f, rep.Injected, rep.Scenarios[0].Repeat)
		}
	}

	// The A/A pair: the same 5ms on both sides, so that each call's time
	// is the fault's, as in the pair above, and not the CPU share each
	// process got. Two clean, CPU-bound runs at once on these 2 CPUs (and
	// a Redis) differ by the machine: one try in four, one side had
	// 18.5% less throughput than the other in all five runs (p=0.016),
	// a difference compare rightly found between two runs that did not
	// get the same machine. How often clean runs one after another differ
	// is what make gate-check measures.
	same := []string{"--inject", "l2:latency=5ms"}
	r = pair("a.json", "b.json", same, same)
	t.Logf("the same fault on both sides:\n%s", r.stdout)
	if r.code != 0 || strings.Contains(r.stdout, "WARNING") || !strings.Contains(r.stdout, "both reports ran with the same faults injected") {
		t.Errorf("the same fault on both sides: exit %d; want 0, no warning, and a note that both ran with it\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// regressed reports whether compare's text output calls metric a
// regression.
func regressed(out, metric string) bool {
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) > 2 && (f[0] == metric || (len(f) > 1 && f[1] == metric)) && f[len(f)-1] == report.Regression {
			return true
		}
	}
	return false
}
