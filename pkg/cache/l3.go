package cache

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/rustci/rustci-perf/internal/tempdir"
)

// L3Config configures the on-disk tier.
type L3Config struct {
	// Dir holds the store and persists across runs. Empty: a temporary
	// directory, removed on Close (or by tempdir.RemoveAll, when the
	// process must exit before it can close the store).
	Dir string
	// Now is the wall clock that expiry times are kept in (time.Now when
	// nil). Wall, not monotonic, time: entries outlive the process.
	Now func() time.Time
}

// L3 is the local-disk tier on Pebble, CockroachDB's LSM key-value store:
// embedded (no server), maintained, and built for data far larger than
// memory, which is L3's job. Each value is stored behind an 8-byte expiry
// (Unix nanoseconds, 0 for none); an expired entry is never served and is
// deleted when read. Writes are not fsynced: a cache may lose its last
// writes in a machine crash, not in a process crash.
type L3 struct {
	db      *pebble.DB
	dir     string
	tempDir bool
	now     func() time.Time
}

var _ Tier = (*L3)(nil)

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
	db, err := pebble.Open(dir, &pebble.Options{Logger: quietLogger{}})
	if err != nil {
		if temp {
			tempdir.Remove(dir)
		}
		return nil, fmt.Errorf("l3 open %s: %w", dir, err)
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &L3{db: db, dir: dir, tempDir: temp, now: now}, nil
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
	raw, closer, err := l.db.Get([]byte(key))
	if errors.Is(err, pebble.ErrNotFound) {
		return Item{}, false, nil
	}
	if err != nil {
		return Item{}, false, err
	}
	defer closer.Close()
	if len(raw) < 8 {
		return Item{}, false, fmt.Errorf("corrupt entry of %d bytes", len(raw))
	}
	var ttl time.Duration
	if exp := int64(binary.BigEndian.Uint64(raw)); exp != 0 {
		ttl = time.Duration(exp - l.now().UnixNano())
		if ttl <= 0 {
			// Expired: not served, and removed so it stops taking space.
			return Item{}, false, l.db.Delete([]byte(key), pebble.NoSync)
		}
	}
	return Item{Value: append([]byte(nil), raw[8:]...), TTL: ttl}, true, nil
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
	return l.db.Set([]byte(key), buf, pebble.NoSync)
}

// Delete removes key.
func (l *L3) Delete(_ context.Context, key string) error {
	return l.db.Delete([]byte(key), pebble.NoSync)
}

// Stats is empty: the Manager counts L3's hits, misses and errors.
func (l *L3) Stats() TierStats { return TierStats{Name: "l3"} }

// Close flushes and closes the store, and removes a temporary directory.
func (l *L3) Close() error {
	err := l.db.Close()
	if l.tempDir {
		err = errors.Join(err, tempdir.Remove(l.dir))
	}
	return err
}

// quietLogger drops Pebble's informational messages, which would interleave
// with reports, and keeps its errors on the standard logger.
type quietLogger struct{}

func (quietLogger) Infof(string, ...any)           {}
func (quietLogger) Errorf(format string, a ...any) { log.Printf("l3 pebble: "+format, a...) }
func (quietLogger) Fatalf(format string, a ...any) { log.Fatalf("l3 pebble: "+format, a...) }
