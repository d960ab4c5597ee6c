package main

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rustci/rustci-perf/internal/tmpfs"
	"github.com/rustci/rustci-perf/pkg/report"
)

// rustciPerfWithin runs the built binary as rustciPerfEnv does, and fails
// t if it has not exited within d: a hang is a failure, not a stuck test.
func rustciPerfWithin(t *testing.T, d time.Duration, dir string, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Dir = dir
	cmd.Env = append(cleanEnv(), env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("rustci-perf %s had not exited after %s (killed)\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), d, o.String(), e.String())
	}
	return result{exitCodeOf(t, err), o.String(), e.String()}
}

// TestL3DiskFull runs the binary with L3 on a 3 MB tmpfs, which 20000
// values of 1 KiB fill: a full disk is an error of L3, never a panic, a
// hang or a usage error's exit 2, and the report is written.
func TestL3DiskFull(t *testing.T) {
	// cache-l3 is L3 alone: with its disk full it cannot run, exit 3,
	// with the cause in the report.
	t.Run("cache-l3", func(t *testing.T) {
		mnt := tmpfs.Mount(t, 3<<20)
		dir := t.TempDir()
		r := rustciPerfWithin(t, 2*time.Minute, dir, nil, "run", "cache-l3", "--ops", "20000", "--value-size", "1024",
			"--l3-dir", filepath.Join(mnt, "l3"), "--format", "json", "--output", "r.json", "-q")
		if r.code != exitComponent || strings.Contains(r.stderr, "panic") {
			t.Fatalf("exit %d; want 3, and no panic\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
		}
		rep := readReportFile(t, filepath.Join(dir, "r.json"))
		s := rep.Scenarios[0]
		if s.Status != report.StatusError || !strings.Contains(s.Error, "no space left on device") {
			t.Errorf("cache-l3: status %s, error %q; want an error naming the full disk", s.Status, s.Error)
		}
	})

	// cache-write stacks L1 and L3 in a temporary directory on the full
	// disk: L3 fails, L1 serves, the scenario runs and is judged, and the
	// temporary directory goes.
	t.Run("cache-write", func(t *testing.T) {
		mnt := tmpfs.Mount(t, 3<<20)
		dir := t.TempDir()
		r := rustciPerfWithin(t, 2*time.Minute, dir, []string{"TMPDIR=" + mnt}, "run", "cache-write", "--ops", "20000", "--value-size", "1024",
			"--format", "json", "--output", "r.json", "-q")
		if (r.code != exitOK && r.code != exitThreshold) || strings.Contains(r.stderr, "panic") {
			t.Fatalf("exit %d; want 0 or 1 (the scenario ran), and no panic\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
		}
		rep := readReportFile(t, filepath.Join(dir, "r.json"))
		s := rep.Scenarios[0]
		notes := strings.Join(s.Notes, "\n")
		if s.Status == report.StatusError || !strings.Contains(notes, "l3 failed and was out of use") || !strings.Contains(notes, "no space left on device") {
			t.Errorf("cache-write: status %s, notes:\n%s\nwant it run, and a note naming L3's fault", s.Status, notes)
		}
		var l3 *report.Tier
		for i := range s.Tiers {
			if s.Tiers[i].Name == "l3" {
				l3 = &s.Tiers[i]
			}
		}
		if l3 == nil || s.Counters["l3_degraded"] != 1 || s.Counters["l1_sets"] == 0 {
			t.Errorf("tiers %+v, l1_sets %d; want l3 degraded and l1 serving", s.Tiers, s.Counters["l1_sets"])
		}
		left, _ := filepath.Glob(filepath.Join(mnt, "rustci-perf-l3-*"))
		if len(left) > 0 {
			t.Errorf("left behind on the full disk: %v", left)
		}
	})
}

// panicCtx is a context whose Err panics: a bug in the command layer,
// outside any scenario, for a test to reach.
type panicCtx struct{ context.Context }

func (panicCtx) Err() error { panic("command bug") }

// TestCommandPanicExits3: a panic in the command itself is exit 3, with
// its value and stack on stderr, never Go's exit 2, which would pass for
// a usage error.
func TestCommandPanicExits3(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(panicCtx{context.Background()}, []string{"run", "cache-write", "--ops", "10", "-q"}, &stdout, &stderr)
	if code != exitComponent {
		t.Errorf("exit %d; want 3", code)
	}
	if !strings.HasPrefix(stderr.String(), "rustci-perf: panic: command bug\n") || !strings.Contains(stderr.String(), "diskfull_test.go") {
		t.Errorf("stderr %q; want the panic's value and a stack through where it happened", stderr.String())
	}
}
