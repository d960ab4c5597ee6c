// Package tempdir makes temporary directories that the process can remove
// all at once when it has to exit without unwinding: on a second Ctrl-C,
// main removes them and exits, rather than leave a store of hundreds of
// megabytes in $TMPDIR.
//
// The model: one registry per process. Make creates a directory and records
// it, Remove removes it and forgets it, RemoveAll removes whatever is left
// and closes the registry, so that a Make racing with it fails instead of
// leaving a directory nobody will remove. Each step holds one mutex for its
// whole length, file system calls included: a directory is never both
// forgotten and still on disk while another goroutine can look.
package tempdir

import (
	"errors"
	"fmt"
	"os"
	"sync"
)

var (
	mu     sync.Mutex
	dirs   = map[string]struct{}{}
	closed bool
)

// ErrClosed is what Make returns once RemoveAll has run.
var ErrClosed = errors.New("tempdir: the process is exiting")

// Make creates a new directory in os.TempDir, named from pattern as
// os.MkdirTemp names it, and records it until Remove or RemoveAll.
func Make(pattern string) (string, error) {
	mu.Lock()
	defer mu.Unlock()
	if closed {
		return "", ErrClosed
	}
	dir, err := os.MkdirTemp("", pattern)
	if err != nil {
		return "", err
	}
	dirs[dir] = struct{}{}
	return dir, nil
}

// Remove removes dir, which Make made, with everything in it, and forgets
// it. After RemoveAll it does nothing: dir is gone already.
func Remove(dir string) error {
	mu.Lock()
	defer mu.Unlock()
	if _, ok := dirs[dir]; !ok && closed {
		return nil
	}
	delete(dirs, dir)
	return removeDir(dir)
}

// RemoveAll removes every directory Make made that Remove has not, and
// makes Make fail from then on: for a process about to exit. It returns
// the directories it could not remove, joined.
func RemoveAll() error {
	mu.Lock()
	defer mu.Unlock()
	closed = true
	var errs []error
	for dir := range dirs {
		delete(dirs, dir)
		if err := removeDir(dir); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// removeDir removes dir, trying again when it fails: a program still
// writing into dir (a store's background compaction) may add a file
// between os.RemoveAll's listing and its removal of dir.
func removeDir(dir string) error {
	var err error
	for range 3 {
		if err = os.RemoveAll(dir); err == nil {
			return nil
		}
	}
	return fmt.Errorf("remove temporary directory: %w", err)
}
