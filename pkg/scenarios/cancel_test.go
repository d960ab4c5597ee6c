package scenarios

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"testing"
	"time"

	"github.com/rustci/rustci-perf/internal/wait"
	"github.com/rustci/rustci-perf/pkg/config"
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

// size is the bytes of the files under dir (0 when it is gone).
func size(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// TestCancelDuringFill: ctx ending while latency writes its key space
// before measuring (4M keys through L1 and L3: tens of seconds) stops the
// fill soon after, returns ctx's error, and removes L3's temporary
// directory.
func TestCancelDuringFill(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	s := small(t, "latency", 1000)
	s.Keys = config.MaxKeys
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := latencyScenario.Run(ctx, s)
		done <- err
	}()
	// The fill is under way once L3 holds a megabyte (its write-ahead log).
	wait.Until(t, time.Minute, "the fill to write to L3", func() bool {
		ds := l3Dirs(t, tmp)
		return len(ds) == 1 && size(ds[0]) > 1<<20
	})
	cancel()
	cancelled := time.Now()
	defer func() { t.Logf("returned %s after cancellation", time.Since(cancelled)) }()
	const within = 10 * time.Second
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Run = %v; want context.Canceled", err)
		}
	case <-time.After(within):
		t.Fatalf("Run did not return within %s of cancellation during the fill", within)
	}
	if ds := l3Dirs(t, tmp); len(ds) > 0 {
		t.Errorf("L3's temporary directory left behind: %s", ds)
	}
}
