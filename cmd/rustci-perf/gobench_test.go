package main

import (
	"bytes"
	"encoding/csv"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/perf/benchfmt"
)

// TestGoBenchAndCSVOfARun: a run writes gobench and CSV files (r.csv in
// CSV by its extension); benchstat's reader finds on the gobench line
// ns/op equal to the run's measured wall time over its operations, as the
// CSV gives them (duration, ops), and B/op and allocs/op equal to its
// alloc_bytes_per_op and allocs_per_op; benchstat itself (go tool
// benchstat, the module's tool) compares two runs' gobench files, unit
// by unit.
func TestGoBenchAndCSVOfARun(t *testing.T) {
	dir := t.TempDir()
	for _, out := range []string{"a", "b"} {
		args := []string{"run", "limiter", "-q", "--ops", "3000", "--concurrency", "2", "--config", noTiming(t),
			"--output", "gobench=" + out + ".bench"}
		if out == "a" {
			args = append(args, "--output", "r.csv")
		}
		if r := rustciPerf(t, dir, args...); r.code != 0 {
			t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
	}

	// The CSV, read back: limiter's figures by name.
	f, err := os.Open(filepath.Join(dir, "r.csv"))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil || len(rows) < 2 || strings.Join(rows[0], ",") != "scenario,kind,figure,value,unit,better,injected" {
		t.Fatalf("r.csv: %v; want a CSV report, header first:\n%q", err, rows)
	}
	fig := map[string]float64{}
	for _, row := range rows[1:] {
		if row[0] == "limiter" && row[1] == "" && row[3] != "" {
			v, err := strconv.ParseFloat(row[3], 64)
			if err != nil {
				t.Fatalf("r.csv: %q: %v", row, err)
			}
			fig[row[2]] = v
		}
	}

	b, err := os.ReadFile(filepath.Join(dir, "a.bench"))
	if err != nil {
		t.Fatal(err)
	}
	rd := benchfmt.NewReader(bytes.NewReader(b), "a.bench")
	found := false
	for rd.Scan() {
		res, ok := rd.Result().(*benchfmt.Result)
		if !ok || !strings.HasPrefix(string(res.Name), "Limiter-") {
			continue
		}
		found = true
		for unit, want := range map[string]float64{
			"sec/op":    fig["duration"] / fig["ops"] / 1e9, // ns/op, tidied
			"mean-sec":  fig["mean"] / 1e9,
			"p99-sec":   fig["p99"] / 1e9,
			"ops/s":     fig["throughput"],
			"B/op":      fig["alloc_bytes_per_op"],
			"allocs/op": fig["allocs_per_op"],
		} {
			got, ok := res.Value(unit)
			// As written: two decimals, or four significant digits under 1.
			if !ok || math.Abs(got-want) > math.Max(math.Abs(want)*1e-3, 0.005*scale(unit)) {
				t.Errorf("%s: %s %g (present %t); want %g, from the CSV's figures", res.Name, unit, got, ok, want)
			}
		}
		if res.Iters != int(fig["ops"]) {
			t.Errorf("%s: N %d; want ops, %g", res.Name, res.Iters, fig["ops"])
		}
	}
	if err := rd.Err(); err != nil || !found {
		t.Fatalf("a.bench: %v, limiter's line found %t:\n%s", err, found, b)
	}

	// benchstat compares the two runs. It exits 0 even when it fails, so
	// its stderr must be empty and its tables there.
	goTool, err := exec.LookPath("go")
	if err != nil {
		if os.Getenv("RUSTCI_PERF_REQUIRE_TOOLS") == "1" {
			t.Fatal("go is not on PATH: cannot run go tool benchstat")
		}
		t.Skip("go is not on PATH: go tool benchstat not run")
	}
	cmd := exec.Command(goTool, "tool", "benchstat", filepath.Join(dir, "a.bench"), filepath.Join(dir, "b.bench"))
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Run(); err != nil || e.Len() > 0 {
		t.Fatalf("go tool benchstat: %v\n%s%s", err, e.String(), o.String())
	}
	for _, unit := range []string{"sec/op", "ops/s", "mean-sec", "p99-sec", "B/op", "allocs/op"} {
		// A table per unit, its column headed by it: "│ sec/op │ sec/op vs base │".
		if !regexp.MustCompile(`│\s+` + regexp.QuoteMeta(unit) + `\s+│\s+` + regexp.QuoteMeta(unit) + `\s+vs base\s+│`).MatchString(o.String()) {
			t.Errorf("benchstat's comparison has no table of %s:\n%s", unit, o.String())
		}
	}
	for _, want := range []string{"\nLimiter-", "\nLimiterFallback-"} {
		if !strings.Contains(o.String(), want) {
			t.Errorf("benchstat's comparison lacks %q:\n%s", want, o.String())
		}
	}
}

// scale is what benchfmt multiplies a value written in unit's source unit
// by: 1e-9 for nanoseconds tidied into seconds.
func scale(unit string) float64 {
	if strings.Contains(unit, "sec") {
		return 1e-9
	}
	return 1
}
