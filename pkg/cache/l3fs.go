package cache

import (
	"errors"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// freezeFS is the filesystem L3 gives Pebble: the disk's, until it is
// frozen. Pebble cannot carry on past a failed write: a failed log write
// panics in the writing call with its commit locks held (every later write
// then waits forever), a failed log rotation crashes the process from
// inside Pebble (an unlock of an unlocked mutex, which nothing recovers),
// a failed manifest write calls its logger's Fatalf, and a failed flush is
// retried at once, forever, while writes stall behind it. So Pebble never
// sees one: the first write that fails freezes the filesystem, and reports
// its error to L3 instead (which takes the tier out of use and closes
// Pebble).
//
// Once frozen, nothing more reaches the disk: writes, syncs, creations,
// renames and removals succeed and are dropped, so the store's directory
// stays as it was when the fault happened, as after a crash, which Pebble
// recovers from on the next open. Reads still go to the disk; a file
// created since the freeze cannot be read back (errFrozen), which Pebble
// reports as a background error on the way to closing.
type freezeFS struct {
	vfs.FS
	frozen atomic.Bool
	// fault is told the error of the write that froze the filesystem.
	fault func(error)
}

var (
	_ vfs.FS   = (*freezeFS)(nil)
	_ vfs.File = (*freezeFile)(nil)
	_ vfs.File = (*voidFile)(nil)
)

// errFrozen is returned when Pebble reads a file it created after the
// freeze: its contents were dropped.
var errFrozen = errors.New("l3 filesystem frozen after a fault: file not written")

// freeze stops every later write from reaching the disk.
func (fs *freezeFS) freeze() { fs.frozen.Store(true) }

// failed freezes fs for a write that returned err, and tells the fault.
func (fs *freezeFS) failed(err error) {
	if fs.frozen.CompareAndSwap(false, true) {
		fs.fault(err)
	}
}

// Unwrap returns the disk's filesystem.
func (fs *freezeFS) Unwrap() vfs.FS { return fs.FS }

// opened wraps the file named opened for writing, or, on an error or once
// frozen, returns one that drops what is written to it.
func (fs *freezeFS) opened(name string, open func() (vfs.File, error)) (vfs.File, error) {
	if fs.frozen.Load() {
		return &voidFile{name: name}, nil
	}
	f, err := open()
	if err != nil {
		fs.failed(err)
		return &voidFile{name: name}, nil
	}
	return &freezeFile{File: f, fs: fs, name: name}, nil
}

// mutate runs op, which does what to the file named, unless fs is frozen;
// an error freezes it.
func (fs *freezeFS) mutate(what, name string, op func() error) error {
	if fs.frozen.Load() {
		return nil
	}
	if err := op(); err != nil {
		var pe *os.PathError
		var le *os.LinkError
		if !errors.As(err, &pe) && !errors.As(err, &le) {
			// fallocate(2) and fsync(2) errors do not name the file.
			err = &os.PathError{Op: what, Path: name, Err: err}
		}
		fs.failed(err)
	}
	return nil
}

func (fs *freezeFS) Create(name string, c vfs.DiskWriteCategory) (vfs.File, error) {
	return fs.opened(name, func() (vfs.File, error) { return fs.FS.Create(name, c) })
}

func (fs *freezeFS) OpenReadWrite(name string, c vfs.DiskWriteCategory, opts ...vfs.OpenOption) (vfs.File, error) {
	return fs.opened(name, func() (vfs.File, error) { return fs.FS.OpenReadWrite(name, c, opts...) })
}

func (fs *freezeFS) ReuseForWrite(oldname, newname string, c vfs.DiskWriteCategory) (vfs.File, error) {
	return fs.opened(newname, func() (vfs.File, error) { return fs.FS.ReuseForWrite(oldname, newname, c) })
}

// OpenDir opens a directory, which Pebble syncs after changing it.
func (fs *freezeFS) OpenDir(name string) (vfs.File, error) {
	f, err := fs.FS.OpenDir(name)
	if err != nil {
		return nil, err
	}
	return &freezeFile{File: f, fs: fs, name: name}, nil
}

func (fs *freezeFS) Link(oldname, newname string) error {
	return fs.mutate("link", oldname, func() error { return fs.FS.Link(oldname, newname) })
}

func (fs *freezeFS) Rename(oldname, newname string) error {
	return fs.mutate("rename", oldname, func() error { return fs.FS.Rename(oldname, newname) })
}

// Remove and RemoveAll return their errors (Pebble expects a missing
// file's), but do nothing once frozen.
func (fs *freezeFS) Remove(name string) error {
	if fs.frozen.Load() {
		return nil
	}
	return fs.FS.Remove(name)
}

func (fs *freezeFS) RemoveAll(name string) error {
	if fs.frozen.Load() {
		return nil
	}
	return fs.FS.RemoveAll(name)
}

// freezeFile is a file of the disk's, written until its filesystem is
// frozen.
type freezeFile struct {
	vfs.File
	fs   *freezeFS
	name string
}

func (f *freezeFile) Write(p []byte) (int, error) {
	err := f.fs.mutate("write", f.name, func() error { _, err := f.File.Write(p); return err })
	return len(p), err
}

func (f *freezeFile) WriteAt(p []byte, off int64) (int, error) {
	err := f.fs.mutate("write", f.name, func() error { _, err := f.File.WriteAt(p, off); return err })
	return len(p), err
}

func (f *freezeFile) Preallocate(off, n int64) error {
	return f.fs.mutate("preallocate", f.name, func() error { return f.File.Preallocate(off, n) })
}

func (f *freezeFile) Sync() error     { return f.fs.mutate("sync", f.name, f.File.Sync) }
func (f *freezeFile) SyncData() error { return f.fs.mutate("sync", f.name, f.File.SyncData) }

func (f *freezeFile) SyncTo(n int64) (bool, error) {
	full := false
	err := f.fs.mutate("sync", f.name, func() (err error) { full, err = f.File.SyncTo(n); return err })
	return full, err
}

// Close closes the file; its error (a write the system deferred) is a
// fault too.
func (f *freezeFile) Close() error {
	// The file is closed even when frozen: its descriptor is released.
	err := f.File.Close()
	if err != nil {
		f.fs.mutate("close", f.name, func() error { return err })
	}
	return nil
}

// voidFile is a file opened for writing after the freeze: what is written
// to it is dropped (its size is kept, for Stat), and it cannot be read.
type voidFile struct {
	name string
	size atomic.Int64
}

func (f *voidFile) Write(p []byte) (int, error) {
	f.size.Add(int64(len(p)))
	return len(p), nil
}

func (f *voidFile) WriteAt(p []byte, off int64) (int, error) {
	for end := off + int64(len(p)); ; {
		n := f.size.Load()
		if n >= end || f.size.CompareAndSwap(n, end) {
			return len(p), nil
		}
	}
}

func (f *voidFile) Stat() (vfs.FileInfo, error)     { return voidInfo{f.name, f.size.Load()}, nil }
func (*voidFile) Close() error                      { return nil }
func (*voidFile) Read([]byte) (int, error)          { return 0, errFrozen }
func (*voidFile) ReadAt([]byte, int64) (int, error) { return 0, errFrozen }
func (*voidFile) Preallocate(int64, int64) error    { return nil }
func (*voidFile) Sync() error                       { return nil }
func (*voidFile) SyncTo(int64) (bool, error)        { return true, nil }
func (*voidFile) SyncData() error                   { return nil }
func (*voidFile) Prefetch(int64, int64) error       { return nil }
func (*voidFile) Fd() uintptr                       { return vfs.InvalidFd }

// voidInfo describes a voidFile.
type voidInfo struct {
	name string
	size int64
}

func (i voidInfo) Name() string         { return filepath.Base(i.name) }
func (i voidInfo) Size() int64          { return i.size }
func (voidInfo) Mode() os.FileMode      { return 0o644 }
func (voidInfo) ModTime() time.Time     { return time.Time{} }
func (voidInfo) IsDir() bool            { return false }
func (voidInfo) Sys() any               { return nil }
func (voidInfo) DeviceID() vfs.DeviceID { return vfs.DeviceID{} }
