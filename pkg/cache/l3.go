package cache

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/rustci/rustci-perf/internal/tempdir"
)

// L3Config configures the on-disk tier.
type L3Config struct {
	// Dir holds the store and persists across runs. Empty: a temporary
	// directory, removed on Close (or by tempdir.RemoveAll, when the
	// process must exit before it can close the store).
	Dir string `yaml:"dir"`
	// Now is the wall clock that expiry times are kept in (time.Now when
	// nil). Wall, not monotonic, time: entries outlive the process.
	Now func() time.Time `yaml:"-"`
	// CloseTimeout bounds Close (DefaultL3CloseTimeout when 0): a store
	// that has not closed by then is abandoned.
	CloseTimeout time.Duration `yaml:"-"`

	// fs is the filesystem Pebble uses, the OS's when nil, and events
	// Pebble's events beside L3's own: for tests, a disk that fails and
	// a way to know when writes stall.
	fs     vfs.FS
	events *pebble.EventListener
}

// DefaultL3CloseTimeout is how long Close waits for Pebble to close.
const DefaultL3CloseTimeout = 5 * time.Second

// L3 is the local-disk tier on Pebble, CockroachDB's LSM key-value store:
// embedded (no server), maintained, and built for data far larger than
// memory, which is L3's job. Each value is stored behind an 8-byte expiry
// (Unix nanoseconds, 0 for none); an expired entry is never served and is
// deleted when read. Writes are not fsynced: a cache may lose its last
// writes in a machine crash, not in a process crash.
//
// Faults. Pebble treats a failed write (a full disk) as fatal, in ways
// that panic, hang or end the process (see freezeFS), and reports other
// failures through its logger's Fatalf, whose default exits, and its
// background-error event. L3 makes each of them a fault of the tier: the
// first write that fails freezes the store's files as they are and is
// never seen by Pebble; Fatalf, a background error and a panic in a call
// are recovered. From the first fault on, the tier is out of use: every
// call fails at once with the fault's cause (the Manager counts the errors
// and its breaker skips the tier), Stats reports it, and Pebble is closed
// in the background. Close waits for that close at most CloseTimeout, then
// abandons the store; after a call panicked inside Pebble, whose locks may
// then be held forever, it does not try. A temporary directory is removed
// either way.
type L3 struct {
	db           *pebble.DB
	fs           *freezeFS
	dir          string
	tempDir      bool
	now          func() time.Time
	closeTimeout time.Duration

	// fault is the first fault, set once.
	fault atomic.Pointer[l3Fault]
	// inflight is held for reading by every call inside Pebble, and for
	// writing by the close, which must not run beside a call: Pebble's
	// block cache may be memory outside Go's heap, freed by Close.
	inflight sync.RWMutex
	// opened is set once Pebble is open; closing once Close (or a fault)
	// has begun, after which no call enters Pebble; panicked when a call
	// panicked inside it; closeBegun when Pebble's close was started.
	opened, closing, panicked, closeBegun atomic.Bool
	// closeOnce starts closing Pebble; closed is closed when it returned,
	// with closeErr.
	closeOnce sync.Once
	closed    chan struct{}
	closeErr  error
}

var _ Tier = (*L3)(nil)

// l3Fault is the error of every call to an L3 that has failed: what put
// it out of use.
type l3Fault struct{ cause error }

func (f *l3Fault) Error() string { return "store failed, out of use: " + f.cause.Error() }
func (f *l3Fault) Unwrap() error { return f.cause }

// errL3Closed is returned by calls made after Close.
var errL3Closed = errors.New("l3 closed")

// NewL3 opens (or creates) the store.
func NewL3(cfg L3Config) (*L3, error) {
	dir, temp := cfg.Dir, false
	if dir == "" {
		d, err := tempdir.Make("rustci-perf-l3-")
		if err != nil {
			return nil, fmt.Errorf("l3: %w", err)
		}
		dir, temp = d, true
	}
	l := &L3{
		dir: dir, tempDir: temp, now: cfg.Now, closeTimeout: cfg.CloseTimeout,
		closed: make(chan struct{}),
	}
	if l.now == nil {
		l.now = time.Now
	}
	if l.closeTimeout <= 0 {
		l.closeTimeout = DefaultL3CloseTimeout
	}
	base := cfg.fs
	if base == nil {
		base = vfs.Default
	}
	l.fs = &freezeFS{FS: base, fault: func(err error) { l.fail(fmt.Errorf("disk write failed: %w", err)) }}
	events := pebble.EventListener{
		BackgroundError: func(err error) { l.fail(fmt.Errorf("pebble background error: %w", err)) },
	}
	if cfg.events != nil {
		events = pebble.TeeEventListener(events, *cfg.events)
	}
	opts := &pebble.Options{FS: l.fs, Logger: l3Logger{l}, EventListener: &events}
	err := l.guard(func() (err error) {
		l.db, err = pebble.Open(dir, opts)
		return err
	})
	if l.db != nil {
		l.opened.Store(true)
	}
	if err == nil {
		return l, nil
	}
	if l.db != nil {
		// Opened, but a fault was raised on the way.
		err = errors.Join(err, l.Close())
	} else if temp {
		tempdir.Remove(dir)
	}
	return nil, fmt.Errorf("l3 open %s: %w", dir, err)
}

// fail records err as the fault that puts l out of use, unless one was
// already, and returns the fault. The first one freezes the filesystem
// and starts closing Pebble, unless a call panicked inside it.
func (l *L3) fail(err error) *l3Fault {
	f := &l3Fault{cause: err}
	if !l.fault.CompareAndSwap(nil, f) {
		return l.fault.Load()
	}
	l.fs.freeze()
	if l.opened.Load() && !l.panicked.Load() {
		l.startClose()
	}
	return f
}

// Fault returns what put the tier out of use, or nil.
func (l *L3) Fault() error {
	if f := l.fault.Load(); f != nil {
		return f.cause
	}
	return nil
}

// usable returns the error a call must return instead of entering Pebble,
// or nil.
func (l *L3) usable() error {
	if f := l.fault.Load(); f != nil {
		return f
	}
	if l.closing.Load() {
		return errL3Closed
	}
	return nil
}

// guard calls f, which calls into Pebble, unless l has failed or is
// closing. A panic in f, or a fault raised while it ran (Pebble's Fatalf
// returns), is its error.
func (l *L3) guard(f func() error) (err error) {
	if err := l.usable(); err != nil {
		return err
	}
	// TryRLock fails only while the close holds or waits for the lock,
	// which a fault or Close began: the call would find it failed.
	if !l.inflight.TryRLock() {
		if err := l.usable(); err != nil {
			return err
		}
		return errL3Closed
	}
	defer l.inflight.RUnlock()
	if err := l.usable(); err != nil {
		return err
	}
	defer func() {
		if r := recover(); r != nil {
			l.panicked.Store(true)
			err = l.fail(panicError(r))
		}
		if ft := l.fault.Load(); ft != nil && err == nil {
			err = ft
		}
	}()
	return f()
}

// panicError is a recovered panic value as an error.
func panicError(r any) error {
	if err, ok := r.(error); ok {
		return fmt.Errorf("pebble panicked: %w", err)
	}
	return fmt.Errorf("pebble panicked: %v", r)
}

// Name is "l3".
func (*L3) Name() string { return "l3" }

// String describes the tier.
func (l *L3) String() string {
	if l.tempDir {
		return "l3 pebble (temporary directory)"
	}
	return "l3 pebble " + l.dir
}

// Dir is the store's directory.
func (l *L3) Dir() string { return l.dir }

// Get returns a copy of the value under key and the time it has left.
func (l *L3) Get(_ context.Context, key string) (Item, bool, error) {
	var raw []byte
	err := l.guard(func() error {
		v, closer, err := l.db.Get([]byte(key))
		if err != nil {
			return err
		}
		raw = append([]byte(nil), v...)
		return closer.Close()
	})
	if errors.Is(err, pebble.ErrNotFound) {
		return Item{}, false, nil
	}
	if err != nil {
		return Item{}, false, err
	}
	if len(raw) < 8 {
		return Item{}, false, fmt.Errorf("corrupt entry of %d bytes", len(raw))
	}
	var ttl time.Duration
	if exp := int64(binary.BigEndian.Uint64(raw)); exp != 0 {
		ttl = time.Duration(exp - l.now().UnixNano())
		if ttl <= 0 {
			// Expired: not served, and removed so it stops taking space.
			return Item{}, false, l.Delete(context.Background(), key)
		}
	}
	return Item{Value: raw[8:], TTL: ttl}, true, nil
}

// Set writes value behind its expiry time.
func (l *L3) Set(_ context.Context, key string, value []byte, ttl time.Duration) error {
	if ttl < 0 {
		return errNegativeTTL
	}
	buf := make([]byte, 8+len(value))
	if ttl > 0 {
		binary.BigEndian.PutUint64(buf, uint64(l.now().Add(ttl).UnixNano()))
	}
	copy(buf[8:], value)
	return l.guard(func() error { return l.db.Set([]byte(key), buf, pebble.NoSync) })
}

// Delete removes key.
func (l *L3) Delete(_ context.Context, key string) error {
	return l.guard(func() error { return l.db.Delete([]byte(key), pebble.NoSync) })
}

// Stats is empty but for the fault: the Manager counts L3's hits, misses
// and errors.
func (l *L3) Stats() TierStats { return TierStats{Name: "l3", Fault: l.Fault()} }

// ErrAbandoned is wrapped by Close's error when the store was left open:
// Pebble did not close within the timeout, or could not be asked to.
var ErrAbandoned = errors.New("store abandoned")

// Close closes the store, within CloseTimeout, and removes a temporary
// directory even when the store was abandoned.
func (l *L3) Close() error {
	l.closing.Store(true)
	var err error
	if l.panicked.Load() && !l.closeBegun.Load() {
		err = fmt.Errorf("%w, not closed: a call panicked inside Pebble, which may still hold its locks", ErrAbandoned)
	} else {
		l.startClose()
		t := time.NewTimer(l.closeTimeout)
		defer t.Stop()
		select {
		case <-l.closed:
			err = l.closeErr
		case <-t.C:
			err = fmt.Errorf("%w: Pebble had not closed after %s", ErrAbandoned, l.closeTimeout)
		}
	}
	if errors.Is(err, ErrAbandoned) {
		// What is left of Pebble writes nothing more.
		l.fs.freeze()
	}
	if l.tempDir {
		err = errors.Join(err, tempdir.Remove(l.dir))
	}
	return err
}

// startClose closes Pebble on a goroutine of its own, once no call is
// inside it; the goroutine is left behind if that never happens.
func (l *L3) startClose() {
	l.closeOnce.Do(func() {
		l.closing.Store(true)
		l.closeBegun.Store(true)
		go func() {
			defer close(l.closed)
			l.inflight.Lock()
			defer l.inflight.Unlock()
			defer func() {
				if r := recover(); r != nil {
					l.closeErr = panicError(r)
				}
			}()
			l.closeErr = l.db.Close()
		}()
	})
}

// l3Logger drops Pebble's informational messages, which would interleave
// with reports, keeps its errors on the standard logger, and makes what
// Pebble calls fatal a fault of the tier rather than the end of the process:
// Fatalf returns, as Pebble's own no-op logger's does, and Pebble's code
// after it returns the error.
type l3Logger struct{ l *L3 }

func (l3Logger) Infof(string, ...any)           {}
func (l3Logger) Errorf(format string, a ...any) { log.Printf("l3 pebble: "+format, a...) }
func (g l3Logger) Fatalf(format string, a ...any) {
	g.l.fail(fatalError{msg: fmt.Sprintf(format, a...), args: a})
}

// fatalError is what Pebble called fatal; it unwraps to the errors among
// its arguments, so that errors.Is finds a full disk in it.
type fatalError struct {
	msg  string
	args []any
}

func (e fatalError) Error() string {
	// Some messages carry a stack trace after their first line.
	first, _, _ := strings.Cut(e.msg, "\n")
	return "pebble: " + strings.TrimPrefix(first, "pebble: ")
}

func (e fatalError) Unwrap() []error {
	var errs []error
	for _, a := range e.args {
		if err, ok := a.(error); ok {
			errs = append(errs, err)
		}
	}
	return errs
}
