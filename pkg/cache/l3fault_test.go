package cache

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"
	"github.com/rustci/rustci-perf/internal/tmpfs"
	"github.com/rustci/rustci-perf/internal/wait"
)

// within is how long a test waits for what must happen at once (an L3
// going out of use, a Close): a deadline that says "it did not hang", far
// above the time it takes on a machine running every test under -race.
const within = 30 * time.Second

// fullDisk is the OS's filesystem that, once filled, fails every write,
// preallocation and sync of a file whose name ends in suffix ("" for any)
// with ENOSPC, as a full disk does.
type fullDisk struct {
	suffix string
	full   atomic.Bool
	// While holding, writes to matching files wait until hold is closed: a
	// disk that stopped answering.
	holding atomic.Bool
	hold    chan struct{}
}

func newFullDisk(suffix string) *fullDisk {
	return &fullDisk{suffix: suffix, hold: make(chan struct{})}
}

func (d *fullDisk) fs() vfs.FS {
	return errorfs.Wrap(vfs.Default, errorfs.InjectorFunc(func(op errorfs.Op) error {
		if !strings.HasSuffix(op.Path, d.suffix) {
			return nil
		}
		switch op.Kind {
		case errorfs.OpFileWrite, errorfs.OpFileWriteAt, errorfs.OpFilePreallocate,
			errorfs.OpFileSync, errorfs.OpFileSyncData, errorfs.OpFileSyncTo:
		default:
			return nil
		}
		if d.holding.Load() {
			<-d.hold
		}
		if d.full.Load() {
			return &os.PathError{Op: "write", Path: op.Path, Err: syscall.ENOSPC}
		}
		return nil
	}))
}

// closeWithin closes l3 and fails t if that takes longer than within.
func closeWithin(t *testing.T, l3 *L3) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- l3.Close() }()
	select {
	case err := <-done:
		return err
	case <-time.After(within):
		t.Fatalf("L3 Close did not return within %s", within)
		return nil
	}
}

// fillUntilOut writes 1 KiB values through m from two goroutines until L3
// (m's second tier) is out of use, checking that every Set succeeds (L1
// takes it) and none hangs.
func fillUntilOut(t *testing.T, m *Manager, l3 *L3) {
	t.Helper()
	ctx := context.Background()
	v := make([]byte, 1024)
	stop := wait.Background(t, 2, func(w, i int) error {
		if err := m.Set(ctx, fmt.Sprintf("w%d:%d", w, i), v, time.Hour); err != nil {
			return fmt.Errorf("Set with L1 up: %w; want L1 to take it", err)
		}
		return nil
	})
	wait.Until(t, within, "L3 to go out of use and its breaker to open", func() bool {
		return l3.Fault() != nil && m.Stats()[1].Degraded
	})
	done := make(chan struct{})
	go func() { stop(); close(done) }()
	select {
	case <-done:
	case <-time.After(within):
		t.Fatalf("writers still inside a Set %s after L3 failed", within)
	}
}

// TestL3DiskFull: a disk that fills up under L3, whichever of Pebble's
// files the first failed write is to, puts L3 out of use (its breaker
// opens, L1 serves, the cause is kept), never panics, exits or hangs, and
// Close returns and removes the temporary directory.
func TestL3DiskFull(t *testing.T) {
	for _, tc := range []struct {
		name   string
		suffix string
		// stall: the flush is held until writes stall behind it, then
		// fails: the writer waiting in Pebble must be let go.
		stall bool
	}{
		// The write-ahead log: Pebble panics in the writing Set with its
		// commit lock held, or crashes the process when rotating it.
		{"wal", ".log", false},
		// A flush's sstable: Pebble retries it forever.
		{"flush", ".sst", false},
		// A flush that fails after writes stalled behind it.
		{"flush after a stall", ".sst", true},
		// The manifest: Pebble calls its logger's Fatalf.
		{"manifest", "MANIFEST-000001", false},
		// Every file at once.
		{"any", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			disk := newFullDisk(tc.suffix)
			cfg := L3Config{fs: disk.fs()}
			stalled := make(chan struct{})
			if tc.stall {
				disk.holding.Store(true)
				var once sync.Once
				cfg.events = &pebble.EventListener{WriteStallBegin: func(pebble.WriteStallBeginInfo) {
					once.Do(func() { close(stalled) })
				}}
			}
			l3, err := NewL3(cfg)
			if err != nil {
				t.Fatal(err)
			}
			m, err := New(Options{BreakerFailures: 3, BreakerBackoff: time.Hour}, newL1(t), l3)
			if err != nil {
				t.Fatal(err)
			}
			if tc.stall {
				// Writers fill memtables while the first flush waits on the
				// disk, until one stalls; then the disk is full.
				go func() {
					<-stalled
					disk.full.Store(true)
					close(disk.hold)
				}()
			} else {
				disk.full.Store(true)
			}
			fillUntilOut(t, m, l3)

			if err := l3.Fault(); !errors.Is(err, syscall.ENOSPC) {
				t.Errorf("Fault() = %v; want ENOSPC", err)
			}
			if err := l3.Set(context.Background(), "k", []byte("v"), 0); !errors.Is(err, syscall.ENOSPC) {
				t.Errorf("Set on a failed L3 = %v; want the fault (ENOSPC)", err)
			}
			if _, _, err := l3.Get(context.Background(), "w0:0"); !errors.Is(err, syscall.ENOSPC) {
				t.Errorf("Get on a failed L3 = %v; want the fault (ENOSPC)", err)
			}
			st := m.Stats()[1]
			if st.Errors == 0 || !errors.Is(st.Fault, syscall.ENOSPC) {
				t.Errorf("L3 stats: errors %d, fault %v; want errors counted and the fault", st.Errors, st.Fault)
			}
			if err := closeWithin(t, l3); err != nil && !errors.Is(err, ErrAbandoned) {
				t.Errorf("Close = %v; want nil or ErrAbandoned", err)
			}
			if _, err := os.Stat(l3.Dir()); !os.IsNotExist(err) {
				t.Errorf("temporary directory %s after Close: %v; want it removed", l3.Dir(), err)
			}
		})
	}
}

// TestL3DiskFullOnTmpfs is TestL3DiskFull on a real 3 MB filesystem, with
// the store kept in a directory of it (--l3-dir): what fills is the disk,
// not a simulation of one.
func TestL3DiskFullOnTmpfs(t *testing.T) {
	dir := filepath.Join(tmpfs.Mount(t, 3<<20), "l3")
	l3, err := NewL3(L3Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(Options{BreakerFailures: 3, BreakerBackoff: time.Hour}, newL1(t), l3)
	if err != nil {
		t.Fatal(err)
	}
	fillUntilOut(t, m, l3)
	if err := l3.Fault(); !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("Fault() = %v; want ENOSPC", err)
	}
	if err := closeWithin(t, l3); err != nil && !errors.Is(err, ErrAbandoned) {
		t.Errorf("Close = %v; want nil or ErrAbandoned", err)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Errorf("the store's own directory: %v; want it kept (it is not temporary)", err)
	}
}

// TestL3FatalfIsAFault: what Pebble calls fatal (through its logger's
// Fatalf, whose default exits the process) puts L3 out of use instead, and
// Fatalf returns.
func TestL3FatalfIsAFault(t *testing.T) {
	l3 := newL3(t, "")
	ctx := context.Background()
	if err := l3.Set(ctx, "k", []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	l3Logger{l3}.Fatalf("MANIFEST flush failed: %v", fmt.Errorf("write MANIFEST-000001: %w", syscall.ENOSPC))
	if err := l3.Fault(); !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), "MANIFEST flush failed") {
		t.Errorf("Fault() = %v; want Pebble's message, and ENOSPC", err)
	}
	if _, _, err := l3.Get(ctx, "k"); !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("Get after a fatal error = %v; want the fault", err)
	}
	if err := closeWithin(t, l3); err != nil {
		t.Errorf("Close = %v; want nil: nothing held Pebble", err)
	}
}

// TestL3CloseIsBounded: a store whose disk stops answering (a write that
// never returns) is abandoned after CloseTimeout, and its temporary
// directory is removed all the same.
func TestL3CloseIsBounded(t *testing.T) {
	disk := newFullDisk(".log")
	l3, err := NewL3(L3Config{fs: disk.fs(), CloseTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := l3.Set(context.Background(), "k", []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	// From now on a write to the log waits until the test ends; closing
	// writes the log.
	disk.holding.Store(true)
	t.Cleanup(func() { close(disk.hold) })
	err = closeWithin(t, l3)
	if !errors.Is(err, ErrAbandoned) {
		t.Errorf("Close on a hung disk = %v; want ErrAbandoned", err)
	}
	if _, err := os.Stat(l3.Dir()); !os.IsNotExist(err) {
		t.Errorf("temporary directory %s after an abandoned Close: %v; want it removed", l3.Dir(), err)
	}
	if err := l3.Set(context.Background(), "k", []byte("v"), 0); err == nil {
		t.Error("Set after Close succeeded; want an error")
	}
}

// panicTier panics in every call.
type panicTier struct{ mapTier }

func (*panicTier) Get(context.Context, string) (Item, bool, error) { panic("tier bug") }
func (*panicTier) Set(context.Context, string, []byte, time.Duration) error {
	panic(errors.New("tier bug"))
}

// TestTierPanicIsItsError: a tier that panics fails the call, counted and
// breaker-counted like any error, and the tier below serves.
func TestTierPanicIsItsError(t *testing.T) {
	bad, low := &panicTier{*newMapTier("bad")}, newMapTier("low")
	m, _ := New(Options{BreakerFailures: 2, BreakerBackoff: time.Hour}, bad, low)
	ctx := context.Background()
	if err := m.Set(ctx, "k", []byte("v"), 0); err != nil {
		t.Fatalf("Set with a panicking tier = %v; want the other tier to take it", err)
	}
	if v, ok, err := m.Get(ctx, "k"); err != nil || !ok || string(v) != "v" {
		t.Fatalf("Get with a panicking top tier = %q, %t, %v; want v from below", v, ok, err)
	}
	if st := m.Stats()[0]; st.Errors != 2 || !st.Degraded {
		t.Errorf("panicking tier: errors %d, degraded %t; want 2 and its breaker open", st.Errors, st.Degraded)
	}
}
