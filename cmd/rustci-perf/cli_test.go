package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestEveryCommandHasExamples: --help of every command shows examples.
func TestEveryCommandHasExamples(t *testing.T) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Hidden || c.Name() == "help" || c.Name() == "completion" || c.HasParent() && c.Parent().Name() == "completion" {
			return
		}
		if c.Example == "" {
			t.Errorf("%q has no examples in its --help", c.CommandPath())
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRoot(context.Background(), &bytes.Buffer{}, &bytes.Buffer{}))
}

// TestCompletion: cobra's __complete, as the shell scripts call it,
// completes scenario and group names and the values of enumerated flags.
func TestCompletion(t *testing.T) {
	tests := []struct {
		args     []string
		want     []string // completions, without descriptions, in order
		noSpace  bool
		comments string
	}{
		// run's arguments: the cache scenarios, then the group cache
		{args: []string{"run", "cache-"}, want: []string{"cache-write", "cache-read", "cache-l2", "cache-l3"}},
		// a name given already is not offered again; limiter is the group
		{args: []string{"run", "cache-read", "l"}, want: []string{"limiter", "limiter-fallback", "latency"}},
		// each command's own formats
		{args: []string{"compare", "a.json", "b.json", "--format", ""}, want: []string{"json", "markdown", "text"}},
		{args: []string{"list", "--format", ""}, want: []string{"text", "json"}},
		{args: []string{"history", "list", "--format", "j"}, want: []string{"json"}},
		{args: []string{"trend", "--format", "h"}, want: []string{"html"}},
		{args: []string{"run", "all", "--format", "ju"}, want: []string{"junit"}},
		{args: []string{"run", "all", "--judge", ""}, want: []string{"median", "worst", "each"}},
		{args: []string{"run", "all", "--distribution", "z"}, want: []string{"zipfian"}},
		// a comma-separated list: the word after the last comma
		{args: []string{"run", "all", "--tiers", "l1,"}, want: []string{"l1,l2", "l1,l3"}, noSpace: true},
		{args: []string{"run", "all", "--profile-kinds", "cpu,m"}, want: []string{"cpu,mutex"}, noSpace: true},
		// trend --scenario: scenarios only
		{args: []string{"trend", "--scenario", "cache-r"}, want: []string{"cache-read"}},
	}
	for _, tt := range tests {
		var out, errb bytes.Buffer
		if code := run(context.Background(), append([]string{"__complete"}, tt.args...), &out, &errb); code != 0 {
			t.Errorf("__complete %q: exit %d, stderr %q", tt.args, code, errb.String())
			continue
		}
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		directive := lines[len(lines)-1]
		var got []string
		for _, l := range lines[:len(lines)-1] {
			name, _, _ := strings.Cut(l, "\t")
			got = append(got, name)
		}
		if strings.Join(got, " ") != strings.Join(tt.want, " ") {
			t.Errorf("__complete %q = %q; want %q", tt.args, got, tt.want)
		}
		// 4: no file completion; 6: and no space after (a list goes on)
		if want := map[bool]string{false: ":4", true: ":6"}[tt.noSpace]; directive != want {
			t.Errorf("__complete %q: directive %s; want %s", tt.args, directive, want)
		}
	}
}

// TestCompletionScripts: every shell's script is written, by the binary.
func TestCompletionScripts(t *testing.T) {
	for _, sh := range []string{"bash", "zsh", "fish", "powershell"} {
		r := rustciPerf(t, t.TempDir(), "completion", sh)
		if r.code != 0 || !strings.Contains(r.stdout, "rustci-perf") || !strings.Contains(r.stdout, "__complete") {
			t.Errorf("completion %s: exit %d, stderr %q, stdout starts %.80q", sh, r.code, r.stderr, r.stdout)
		}
	}
	r := rustciPerf(t, t.TempDir(), "__complete", "run", "cache-")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "cache-write\t") {
		t.Errorf("__complete run cache-: exit %d, stdout %q", r.code, r.stdout)
	}
}

// TestVersionFlag: --version prints what version does.
func TestVersionFlag(t *testing.T) {
	cmd := rustciPerf(t, t.TempDir(), "version")
	flag := rustciPerf(t, t.TempDir(), "--version")
	if flag.code != 0 || flag.stdout != cmd.stdout || !strings.HasPrefix(flag.stdout, "rustci-perf v0.0.0-test (") {
		t.Errorf("--version: exit %d, stdout %q; want %q", flag.code, flag.stdout, cmd.stdout)
	}
}

// TestUnknownCommandSuggests: a mistyped command keeps cobra's
// suggestion, on lines of its own, and exits 2.
func TestUnknownCommandSuggests(t *testing.T) {
	r := rustciPerf(t, t.TempDir(), "rnu")
	want := "rustci-perf: unknown command \"rnu\" for \"rustci-perf\"\n\nDid you mean this?\n\trun\n"
	if r.code != exitUsage || r.stderr != want {
		t.Errorf("rnu: exit %d, stderr %q; want 2, %q", r.code, r.stderr, want)
	}
	r = rustciPerf(t, t.TempDir(), "zzz")
	if r.code != exitUsage || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("zzz: exit %d, stderr %q; want 2, one line", r.code, r.stderr)
	}
}

// TestUnknownSubcommand: a mistyped command under one that only groups
// others (history, completion) is exit 2 with cobra's suggestion, as one
// under rustci-perf is, not their help and exit 0; the group alone still
// shows its help.
func TestUnknownSubcommand(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string // stderr
	}{
		// history lst: history list meant
		{[]string{"history", "lst"}, "rustci-perf: unknown command \"lst\" for \"rustci-perf history\"\n\nDid you mean this?\n\tlist\n"},
		// nothing near it: one line
		{[]string{"history", "zzz"}, "rustci-perf: unknown command \"zzz\" for \"rustci-perf history\"\n"},
		// cobra's own completion command
		{[]string{"completion", "bassh"}, "rustci-perf: unknown command \"bassh\" for \"rustci-perf completion\"\n\nDid you mean this?\n\tbash\n"},
	} {
		r := rustciPerf(t, t.TempDir(), tt.args...)
		if r.code != exitUsage || r.stderr != tt.want || r.stdout != "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want 2, no stdout, stderr %q", tt.args, r.code, r.stdout, r.stderr, tt.want)
		}
	}
	for _, args := range [][]string{{"history"}, {"completion"}} {
		if r := rustciPerf(t, t.TempDir(), args...); r.code != exitOK || !strings.Contains(r.stdout, "Available Commands:") {
			t.Errorf("%q: exit %d, stdout %q; want 0 and its help", args, r.code, r.stdout)
		}
	}
}

// TestOutputDirsMade: --hgrm DIR and --profile DIR make DIR and its
// parents when missing; a usage error found after removes them again.
func TestOutputDirsMade(t *testing.T) {
	dir := t.TempDir()
	r := rustciPerf(t, dir, passing(t, "--hgrm", "h/a/b", "--profile", "p/q", "--profile-kinds", "heap")...)
	if r.code != 0 {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	for _, f := range []string{"h/a/b/cache-read.hgrm", "p/q/cache-read.heap.pprof"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	// --budget without --find-max-rate is found after the directories
	r = rustciPerf(t, dir, passing(t, "--hgrm", "x/y", "--profile", "h/new", "--budget", "1s")...)
	if r.code != exitUsage || !strings.Contains(r.stderr, "--budget: give --find-max-rate too") {
		t.Errorf("exit %d, stderr %q; want 2 and --budget's error", r.code, r.stderr)
	}
	for _, d := range []string{"x", "h/new"} {
		if _, err := os.Stat(filepath.Join(dir, d)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s left behind by a usage error: %v", d, err)
		}
	}
}

// rustciPerfIn runs the built binary in dir with args, stdin reading in.
func rustciPerfIn(t *testing.T, dir string, in io.Reader, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir, cmd.Env, cmd.Stdin = dir, cleanEnv(), in
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	return result{exitCodeOf(t, cmd.Run()), o.String(), e.String()}
}

// TestStdinAndStdout: "-" is stdout for every --output, and stdin for a
// report compare or merge reads: a report piped from run --output - is
// compared; stdin is read once.
func TestStdinAndStdout(t *testing.T) {
	dir := t.TempDir()
	base, regression := compareFixture(t, "base.json"), compareFixture(t, "regression.json")
	first := rustciPerf(t, dir, passing(t, "--format", "json", "--output", "-")...)
	if first.code != 0 || !strings.HasPrefix(first.stdout, "{") {
		t.Fatalf("run --output -: exit %d, stderr %q, stdout %.40q", first.code, first.stderr, first.stdout)
	}
	if err := os.WriteFile(filepath.Join(dir, "first.json"), []byte(first.stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	// run | compare first.json -
	c := rustciPerfIn(t, dir, strings.NewReader(first.stdout), "compare", "first.json", "-", "--output", "json=-")
	if c.code != 0 || !strings.Contains(c.stdout, `"stdin"`) {
		t.Errorf("compare first.json - (the same report): exit %d, stderr %q, stdout %.200q; want 0, stdin named", c.code, c.stderr, c.stdout)
	}
	reg, err := os.ReadFile(regression)
	if err != nil {
		t.Fatal(err)
	}
	if r := rustciPerfIn(t, dir, bytes.NewReader(reg), "compare", base, "-"); r.code != exitThreshold || !strings.Contains(r.stdout, "stdin") {
		t.Errorf("compare base - < regression: exit %d, stdout %q; want 1, stdin named", r.code, r.stdout)
	}
	b, err := os.ReadFile(base)
	if err != nil {
		t.Fatal(err)
	}
	// merge reads stdin: the same report as the file is refused by name
	if r := rustciPerfIn(t, dir, bytes.NewReader(b), "merge", base, "-"); r.code != exitUsage || !strings.Contains(r.stderr, "and stdin hold the same report") {
		t.Errorf("merge base - < base: exit %d, stderr %q; want 2, the copy refused", r.code, r.stderr)
	}
	for _, args := range [][]string{{"compare", "-", "-"}, {"merge", base, "-", "-"}} {
		if r := rustciPerfIn(t, dir, bytes.NewReader(b), args...); r.code != exitUsage || !strings.Contains(r.stderr, "- (stdin) given twice") {
			t.Errorf("%q: exit %d, stderr %q; want 2, stdin read once", args, r.code, r.stderr)
		}
	}
	if r := rustciPerfIn(t, dir, strings.NewReader(""), "compare", base, "-"); r.code != exitUsage || !strings.Contains(r.stderr, "compare: stdin: ") {
		t.Errorf("compare base - < /dev/null: exit %d, stderr %q; want 2 naming stdin", r.code, r.stderr)
	}
	// compare's --output - (run's is above; merge and trend share it)
	if r := rustciPerf(t, dir, "compare", base, regression, "--output", "markdown=-"); r.code != exitThreshold || !strings.Contains(r.stdout, "|") {
		t.Errorf("compare --output markdown=-: exit %d, stdout %.80q, stderr %q", r.code, r.stdout, r.stderr)
	}
}
