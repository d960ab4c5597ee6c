//go:build unix

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rustci/rustci-perf/internal/specialfile"
	"github.com/rustci/rustci-perf/pkg/report"
)

// passing is a quick run of one scenario whose thresholds hold anywhere.
func passing(t *testing.T, more ...string) []string {
	return append([]string{"run", "cache-read", "-q", "--ops", "300", "--config", noTiming(t)}, more...)
}

// compareFixture is one of pkg/compare's fixed reports.
func compareFixture(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("../../pkg/compare/testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// isMode reports whether path (not followed) is of the type in mode
// (fs.ModeSymlink, fs.ModeNamedPipe, fs.ModeCharDevice).
func isMode(path string, mode fs.FileMode) bool {
	fi, err := os.Lstat(path)
	return err == nil && fi.Mode()&mode != 0
}

// TestOutputSpecialFiles: --output through a link writes the file it
// names and keeps the link; to a character device or a FIFO writes in
// place and keeps the device or FIFO.
func TestOutputSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	at := func(p string) string { return filepath.Join(dir, p) }
	if err := os.Mkdir(at("archive"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(at("archive/r.json"), []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("archive/r.json", at("latest.json")); err != nil {
		t.Fatal(err)
	}
	null := specialfile.Null(t)
	specialfile.FIFO(t, at("fifo"))
	reader := specialfile.OpenReader(t, at("fifo"))

	r := rustciPerf(t, dir, passing(t, "--output", "latest.json", "--output", "json="+null, "--output", "markdown=fifo")...)
	if r.code != 0 {
		t.Fatalf("exit %d; want 0\n%s%s", r.code, r.stdout, r.stderr)
	}
	if dest, err := os.Readlink(at("latest.json")); err != nil || dest != "archive/r.json" {
		t.Errorf("latest.json: link to %q (%v); want the link kept, to archive/r.json", dest, err)
	}
	readReportFile(t, at("archive/r.json"))
	if !isMode(null, fs.ModeCharDevice) {
		t.Errorf("%s is no longer a character device", null)
	}
	got, err := reader.ReadAll()
	if err != nil || !strings.HasPrefix(string(got), "### rustci-perf ") {
		t.Errorf("the FIFO's reader got %.60q (%v); want the Markdown report, then the end", got, err)
	}
	if !isMode(at("fifo"), fs.ModeNamedPipe) {
		t.Error("the FIFO is no longer a FIFO")
	}
	if !strings.Contains(r.stdout, "\nPASS: ") {
		t.Errorf("stdout lacks the text report:\n%s", r.stdout)
	}
}

// TestOutputStdout: "-", or /dev/stdout, puts that output on stdout, which
// then gets it alone (no text report after it); two outputs to stdout are
// a usage error.
func TestOutputStdout(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"--output", "json=-"},
		{"--output", "json=-", "--output", "r.json"},
		{"--output", "json=/dev/stdout"}, // stdout is a pipe here: the same file
		{"--format", "json", "--output", "-", "--output", "junit.xml"},
	} {
		r := rustciPerf(t, dir, passing(t, args...)...)
		if r.code != 0 {
			t.Errorf("%v: exit %d; want 0\n%s", args, r.code, r.stderr)
			continue
		}
		dec := json.NewDecoder(strings.NewReader(r.stdout))
		var v map[string]any
		if err := dec.Decode(&v); err != nil || v["schema"] != report.Schema || dec.More() {
			t.Errorf("%v: stdout is not one JSON report alone (%v):\n%.300s", args, err, r.stdout)
		}
	}
	readReportFile(t, filepath.Join(dir, "r.json"))

	r := rustciPerf(t, dir, "compare", compareFixture(t, "base.json"), compareFixture(t, "regression.json"), "--output", "json=-", "--output", "c.md")
	var v map[string]any
	if r.code != 1 || json.Unmarshal([]byte(r.stdout), &v) != nil || v["regressions"] == nil {
		t.Errorf("compare --output json=- --output c.md: exit %d, stdout %.200q; want 1 and the comparison's JSON", r.code, r.stdout)
	}
}

// TestOutputRefusedBeforeRun: an output that cannot be written, or a file
// named twice, is a usage error (exit 2) before anything runs, in run,
// compare and merge; nothing is written and what was there is left alone.
func TestOutputRefusedBeforeRun(t *testing.T) {
	dir := t.TempDir()
	at := func(p string) string { return filepath.Join(dir, p) }
	if err := os.WriteFile(at("file"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(at("r.json"), []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("r.json", at("link.json")); err != nil {
		t.Fatal(err)
	}
	specialfile.FIFO(t, at("fifo")) // no reader
	full := specialfile.Full(t)
	base, regression := compareFixture(t, "base.json"), compareFixture(t, "regression.json")
	tests := []struct {
		args []string
		want string
	}{
		{passing(t, "--output", "file/r.json"), `--output "file/r.json": cannot write "file/r.json": not a directory`},
		{passing(t, "--output", "json=fifo"), `--output "json=fifo": FIFO "fifo" has no reader`},
		{passing(t, "--output", "json="+dir), "is a directory"},
		{passing(t, "--output", "json=r.json", "--output", "markdown=./r.json"), `--output "json=r.json" and --output "markdown=./r.json" write the same file`},
		{passing(t, "--output", "r.json", "--output", "link.json"), "write the same file"},
		{passing(t, "--output", "new.json", "--output", "json="+at("new.json")), "write the same file"},
		{passing(t, "--output", "json=-", "--output", "markdown=-"), "both write to stdout"},
		{passing(t, "--output", "json="+full, "--output", "markdown="+filepath.Dir(full)+"/./"+filepath.Base(full)), "write the same file"},
		{passing(t, "--hgrm", "file"), `--hgrm: "file" is not a directory`},
		{passing(t, "--hgrm", "file/sub"), `--hgrm: directory "file/sub": not a directory`},
		{passing(t, "--hgrm", ".", "--output", "file/r.json"), "not a directory"},
		{[]string{"compare", base, regression, "--output", "file/c.json"}, "not a directory"},
		{[]string{"compare", base, regression, "--output", "json=fifo"}, "has no reader"},
		{[]string{"compare", base, regression, "--output", "c.md", "--output", "text=c.md"}, "write the same file"},
		{[]string{"merge", base, regression, "--output", "file/m.json"}, "not a directory"},
	}
	before, _ := os.ReadDir(dir)
	for _, tt := range tests {
		r := rustciPerf(t, dir, tt.args...)
		if r.code != 2 || !strings.Contains(r.stderr, tt.want) || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Errorf("%v: exit %d, stderr %q; want 2 and one line containing %q", tt.args[1:], r.code, r.stderr, tt.want)
		}
		if r.stdout != "" {
			t.Errorf("%v: something ran: stdout %q", tt.args[1:], r.stdout)
		}
	}
	if after, _ := os.ReadDir(dir); len(after) != len(before) {
		t.Errorf("usage errors changed the directory: %v, then %v", before, after)
	}
	if b, _ := os.ReadFile(at("r.json")); string(b) != "old" {
		t.Errorf("r.json holds %.30q; want it untouched", b)
	}
	if !isMode(at("fifo"), fs.ModeNamedPipe) {
		t.Error("the FIFO is no longer a FIFO")
	}
}

// TestOutputFailsAfterRun: an output that fails once the run is over
// (/dev/full, a .hgrm path that is a directory, stdout itself) does not
// stop the others: every other output and the stdout report are written,
// stderr names each that failed, and the exit is 4, even over a missed
// threshold (1).
func TestOutputFailsAfterRun(t *testing.T) {
	full := specialfile.Full(t)
	for _, tt := range []struct {
		name  string
		args  []string
		files []string // written nonetheless
		want  []string // on stderr
	}{
		{"device full", []string{"--output", "json=" + full, "--output", "r.json", "--output", "markdown=s.md"},
			[]string{"r.json", "s.md"}, []string{`rustci-perf: --output "json=` + full + `": write ` + full + ": no space left on device"}},
		{"missed threshold too", []string{"--threshold", "cache-read:p99<1ns", "--output", "json=" + full, "--output", "r.json"},
			[]string{"r.json"}, []string{"no space left on device"}},
		{"hlog device full", []string{"--hlog", full, "--output", "r.json"},
			[]string{"r.json"}, []string{`rustci-perf: --hlog ` + full + `: write ` + full + ": no space left on device"}},
		{"hgrm file is a directory", []string{"--hgrm", "h", "--output", "r.json"},
			[]string{"r.json"}, []string{`rustci-perf: --hgrm: "h/cache-read.hgrm" is a directory`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.MkdirAll(filepath.Join(dir, "h", "cache-read.hgrm"), 0o755); err != nil {
				t.Fatal(err)
			}
			r := rustciPerf(t, dir, passing(t, tt.args...)...)
			if r.code != 4 {
				t.Errorf("exit %d; want 4\n%s", r.code, r.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr %q; want it to contain %q", r.stderr, w)
				}
			}
			for _, f := range tt.files {
				if fi, err := os.Stat(filepath.Join(dir, f)); err != nil || fi.Size() == 0 {
					t.Errorf("%s: %v; want it written though another output failed", f, err)
				}
			}
			if !strings.Contains(r.stdout, "\nPASS: ") && !strings.Contains(r.stdout, "\nFAIL: ") {
				t.Errorf("stdout lacks the text report:\n%s", r.stdout)
			}
			if !isMode(full, fs.ModeCharDevice) {
				t.Fatalf("%s is no longer a character device", full)
			}
		})
	}
	// stdout itself full: the files are still written, and the exit is 4.
	dir := t.TempDir()
	out, err := os.OpenFile(full, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd := exec.Command(binary, passing(t, "--output", "r.json")...)
	var stderr bytes.Buffer
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = dir, cleanEnv(), out, &stderr
	err = cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 4 || !strings.Contains(stderr.String(), "write report to stdout: ") {
		t.Errorf("stdout on %s: %v, stderr %q; want exit 4 saying stdout failed", full, err, stderr.String())
	}
	readReportFile(t, filepath.Join(dir, "r.json"))

	// compare: the same.
	r := rustciPerf(t, dir, "compare", compareFixture(t, "base.json"), compareFixture(t, "regression.json"), "--output", "json="+full, "--output", "c.md")
	if r.code != 4 || !strings.Contains(r.stderr, "no space left on device") {
		t.Errorf("compare with an output on %s: exit %d, stderr %q; want 4 naming it", full, r.code, r.stderr)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "c.md")); !bytes.Contains(b, []byte("regression")) {
		t.Errorf("c.md holds %.60q; want the comparison, written though another output failed", b)
	}
}

// TestExitWith: an output that failed makes the exit 4, over every code
// but an interruption's, and its failures go with it for run to print.
func TestExitWith(t *testing.T) {
	failed := []error{errors.New("--output \"r.json\": no space left on device")}
	for _, tt := range []struct {
		code   int
		failed []error
		want   int
	}{
		{exitOK, nil, exitOK},
		{exitThreshold, nil, exitThreshold},
		{exitOK, failed, exitOutput},
		{exitThreshold, failed, exitOutput},
		{exitComponent, failed, exitOutput},
		{exitInterrupted, failed, exitInterrupted},
	} {
		err := exitWith(tt.code, tt.failed)
		got := exitOK
		var ee *exitError
		if errors.As(err, &ee) {
			got = ee.code
			if len(ee.errs) != len(tt.failed) {
				t.Errorf("exitWith(%d, %v) carries %v; want the failures", tt.code, tt.failed, ee.errs)
			}
		} else if err != nil {
			t.Errorf("exitWith(%d, %v) = %v; want an exitError or nil", tt.code, tt.failed, err)
		}
		if got != tt.want {
			t.Errorf("exitWith(%d, %v): exit %d; want %d", tt.code, tt.failed, got, tt.want)
		}
	}
}

// TestWritingHonoursASignal: outputs blocked on a reader that never reads
// do not hold a signal up: writing returns writeGrace after it, saying the
// outputs were abandoned; outputs that finish in the grace are kept.
func TestWritingHonoursASignal(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	release := make(chan struct{})
	defer close(release)
	cancel()
	start := time.Now()
	failed, done := writing(ctx, func() []error { <-release; return nil })
	if done || len(failed) != 1 || !strings.Contains(failed[0].Error(), "interrupted while writing") {
		t.Errorf("writing blocked outputs after a signal = %v, %t; want abandoned", failed, done)
	}
	if d := time.Since(start); d < writeGrace {
		t.Errorf("writing gave up after %s; want the %s grace first", d, writeGrace)
	}
	failed, done = writing(ctx, func() []error { return []error{errors.New("full")} })
	if !done || len(failed) != 1 || failed[0].Error() != "full" {
		t.Errorf("writing quick outputs after a signal = %v, %t; want their own result", failed, done)
	}
}

// TestStdoutReaderGone: when stdout's reader has gone (run ... | head),
// writing to it is an output that failed (exit 4), not a SIGPIPE that
// kills the process before the other outputs are written.
func TestStdoutReaderGone(t *testing.T) {
	dir := t.TempDir()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r.Close() // the reader is gone before anything is written
	cmd := exec.Command(binary, "run", "memory", "--ops", "100", "-q", "--config", noTiming(t), "--output", "json=-", "--output", "text=t.txt")
	cmd.Dir, cmd.Stdout = dir, w
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	w.Close()
	if code := exitCodeOf(t, err); code != exitOutput || !strings.Contains(stderr.String(), "broken pipe") {
		t.Errorf("exit %d, stderr %q; want %d naming the broken pipe", code, stderr.String(), exitOutput)
	}
	if _, err := os.Stat(filepath.Join(dir, "t.txt")); err != nil {
		t.Errorf("the other output was not written: %v", err)
	}
}

// TestOutputOverAnInput: compare and merge refuse an output that would
// replace a report they read, before reading it.
func TestOutputOverAnInput(t *testing.T) {
	dir := t.TempDir()
	base, err := os.ReadFile(filepath.Join("..", "..", "pkg", "compare", "testdata", "base.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"a.json", "b.json"} {
		os.WriteFile(filepath.Join(dir, n), base, 0o644)
	}
	for _, args := range [][]string{
		{"compare", "a.json", "b.json", "--output", "json=a.json"},
		{"compare", "a.json", "b.json", "--output", "./b.json"},
		{"merge", "a.json", "b.json", "--output", "json=b.json"},
		{"run", "memory", "--baseline", "a.json", "--output", "json=a.json"},
	} {
		r := rustciPerf(t, dir, args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, "is read by this command") {
			t.Errorf("%v: exit %d, stderr %q; want 2 naming the input", args, r.code, r.stderr)
		}
	}
	for _, n := range []string{"a.json", "b.json"} {
		if b, _ := os.ReadFile(filepath.Join(dir, n)); !bytes.Equal(b, base) {
			t.Errorf("%s was changed", n)
		}
	}
}
