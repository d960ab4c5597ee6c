package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rustci/rustci-perf/internal/redistest"
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

// TestOnSignals: the first signal cancels the run and nothing else; the
// second removes the temporary directories, then exits 130.
func TestOnSignals(t *testing.T) {
	sigs := make(chan os.Signal)
	var steps []string
	done := make(chan struct{})
	var stderr bytes.Buffer
	go func() {
		defer close(done)
		onSignals(sigs,
			func() { steps = append(steps, "cancel") },
			func() error { steps = append(steps, "cleanup"); return errors.New("remove temporary directory: busy") },
			&stderr,
			func(code int) { steps = append(steps, "exit "+strconv.Itoa(code)) })
	}()
	sigs <- os.Interrupt
	sigs <- syscall.SIGTERM // unbuffered: the first was handled
	<-done
	if got, want := strings.Join(steps, ", "), "cancel, cleanup, exit 130"; got != want {
		t.Errorf("steps: %s; want %s", got, want)
	}
	if !strings.Contains(stderr.String(), "busy") {
		t.Errorf("stderr %q does not say what could not be removed", stderr.String())
	}
}

// TestSecondSignalWhileRedisHangs: the first Ctrl-C cannot stop a call to
// a hung Redis before its timeout (a minute here); a second one exits 130
// at once, and removes L3's temporary directory on the way out.
func TestSecondSignalWhileRedisHangs(t *testing.T) {
	srv := redistest.Start(t)
	dir, tmp := t.TempDir(), t.TempDir()
	cfg := filepath.Join(dir, "slow-redis.yaml")
	if err := os.WriteFile(cfg, []byte("cache:\n  l2:\n    timeout: 1m\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "run", "latency", "--keys", "1000000", "--duration", "3s", "-q",
		"--redis-url", srv.URL(), "--config", cfg, "--output", "json=r.json")
	cmd.Dir = dir
	cmd.Env = append(cleanEnv(), "TMPDIR="+tmp)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	wait.Until(t, time.Minute, "the key fill to write to Redis", func() bool {
		n, err := srv.Calls("set")
		return err == nil && n > 100
	})
	srv.Pause() // the fill's next Set waits for its minute
	if ds := l3Dirs(t, tmp); len(ds) != 1 {
		t.Fatalf("L3 directories in $TMPDIR during the fill: %s; want one", ds)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stderr)
	if !sc.Scan() || !strings.Contains(sc.Text(), "interrupted: stopping") {
		t.Fatalf("stderr %q; want the first interruption acknowledged", sc.Text())
	}
	sent := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var rest strings.Builder
	for sc.Scan() {
		rest.WriteString(sc.Text() + "\n")
	}
	waitExit(t, cmd, sent, &rest)
	if !strings.Contains(rest.String(), "interrupted again") {
		t.Errorf("stderr after the second signal %q; want it to say so", rest.String())
	}
	if ds := l3Dirs(t, tmp); len(ds) > 0 {
		t.Errorf("left in $TMPDIR: %s", ds)
	}
	if _, err := os.Stat(filepath.Join(dir, "r.json")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a report was written (%v); the second signal exits without one", err)
	}
}
