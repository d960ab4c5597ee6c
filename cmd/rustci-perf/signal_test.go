package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/rustci/rustci-perf/internal/wait"
	"github.com/rustci/rustci-perf/pkg/config"
	"github.com/rustci/rustci-perf/pkg/report"
)

// l3Dirs lists the L3 temporary directories in dir.
func l3Dirs(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "rustci-perf-l3-*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// filling reports whether the one L3 temporary directory in tmp holds a
// megabyte: a scenario is writing its key space.
func filling(t *testing.T, tmp string) bool {
	ds := l3Dirs(t, tmp)
	if len(ds) != 1 {
		return false
	}
	var n int64
	filepath.WalkDir(ds[0], func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n > 1<<20
}

// startFill starts the binary on a run whose setup writes 4M keys through
// L1 and L3 (tens of seconds), with $TMPDIR tmp, and returns once the fill
// is under way.
func startFill(t *testing.T, dir, tmp string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, binary, "run", "latency", "--keys", strconv.Itoa(config.MaxKeys), "--duration", "3s",
		"-q", "--format", "json", "--output", "r.json")
	cmd.Dir = dir
	cmd.Env = append(cleanEnv(), "TMPDIR="+tmp)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	wait.Until(t, time.Minute, "the key fill to write to L3", func() bool { return filling(t, tmp) })
	return cmd, &stderr
}

// waitExit waits for cmd and fails t unless it exits 130 within 2s of sent.
func waitExit(t *testing.T, cmd *exec.Cmd, sent time.Time, stderr fmt.Stringer) {
	t.Helper()
	err := cmd.Wait()
	if took := time.Since(sent); took > 2*time.Second {
		t.Errorf("exited %s after the signal; want within 2s", took)
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitInterrupted {
		t.Fatalf("exit: %v; want code 130\n%s", err, stderr)
	}
}

// TestSignalDuringFill: SIGINT or SIGTERM while a scenario writes its key
// space before measuring stops it within 2s, exits 130 with the report
// marked interrupted, and leaves no L3 temporary directory in $TMPDIR.
func TestSignalDuringFill(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			dir, tmp := t.TempDir(), t.TempDir()
			cmd, stderr := startFill(t, dir, tmp)
			sent := time.Now()
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			waitExit(t, cmd, sent, stderr)
			if ds := l3Dirs(t, tmp); len(ds) > 0 {
				t.Errorf("left in $TMPDIR: %s", ds)
			}
			rep := readReportFile(t, filepath.Join(dir, "r.json"))
			if !rep.Interrupted || len(rep.Scenarios) != 1 || rep.Scenarios[0].Status != report.StatusInterrupted {
				t.Errorf("report: interrupted %t, scenarios %+v; want the one interrupted", rep.Interrupted, rep.Scenarios)
			}
		})
	}
}
