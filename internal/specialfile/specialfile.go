//go:build unix

// Package specialfile makes, for tests of code that writes reports, the
// files that are not regular files: character devices that behave as
// /dev/null and /dev/full, and FIFOs, with a reader attached or not.
//
// A test run as root could replace the machine's /dev/full by mistake (the
// mistake under test): as root, a device is made afresh in the test's
// temporary directory instead, so that a mistake replaces a copy. An
// unprivileged test gets /dev's own, which it cannot replace.
package specialfile

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// Null returns a character device that behaves as /dev/null.
func Null(t testing.TB) string { return CharDevice(t, "null", 1, 3) }

// Full returns a character device that behaves as /dev/full: every write
// to it fails with ENOSPC.
func Full(t testing.TB) string { return CharDevice(t, "full", 1, 7) }

// CharDevice returns a character device that behaves as /dev/NAME, whose
// numbers are major and minor (Linux's): one made in a temporary directory
// when t may make devices (root), else /dev/NAME. It skips t when it can
// have neither.
func CharDevice(t testing.TB, name string, major, minor uint32) string {
	t.Helper()
	if os.Geteuid() != 0 {
		p := "/dev/" + name
		if fi, err := os.Stat(p); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
			t.Skipf("no character device %s here", p)
		}
		return p
	}
	p := filepath.Join(t.TempDir(), name)
	// Linux's encoding of device numbers, for those below 256.
	if err := syscall.Mknod(p, syscall.S_IFCHR|0o666, int(major<<8|minor)); err != nil {
		t.Skipf("mknod %s: %v", p, err)
	}
	f, err := os.OpenFile(p, os.O_WRONLY, 0)
	if err != nil {
		t.Skipf("a device made in %s does not open (a nodev mount?): %v", filepath.Dir(p), err)
	}
	f.Close()
	return p
}

// FIFO makes a FIFO at path.
func FIFO(t testing.TB, path string) {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Fatalf("mkfifo %s: %v", path, err)
	}
}

// Reader is the read end of a FIFO, opened without waiting for a writer
// and read without waiting: a test tells a FIFO held open by a writer that
// wrote nothing yet (Pending) from one whose writers closed (EOF).
type Reader struct{ fd int }

// OpenReader opens the FIFO at path for reading, closed when t ends.
func OpenReader(t testing.TB, path string) *Reader {
	t.Helper()
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("open %s to read: %v", path, err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	return &Reader{fd}
}

// Pending reports whether a writer holds the FIFO open with nothing
// written yet: a read would wait for it (EAGAIN) rather than end (EOF, no
// writer) or return data.
func (r *Reader) Pending() (bool, error) {
	n, err := syscall.Read(r.fd, make([]byte, 1))
	switch {
	case errors.Is(err, syscall.EAGAIN):
		return true, nil
	case err != nil:
		return false, err
	case n > 0:
		return false, errors.New("data is waiting to be read")
	}
	return false, nil
}

// ReadAll reads what was written to the FIFO, once its writers have
// written and closed it: it fails, rather than waits, when a writer still
// holds it open with nothing more written.
func (r *Reader) ReadAll() ([]byte, error) {
	var out []byte
	buf := make([]byte, 64<<10)
	for {
		n, err := syscall.Read(r.fd, buf)
		switch {
		case errors.Is(err, syscall.EAGAIN):
			return out, errors.New("a writer still holds the FIFO open")
		case err != nil:
			return out, err
		case n == 0:
			return out, nil // EOF: every writer closed it
		}
		out = append(out, buf[:n]...)
	}
}
