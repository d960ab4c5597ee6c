// Package tmpfs mounts small tmpfs filesystems for tests that need a disk
// that fills up. Mounting needs root (CI runs as root); elsewhere the test
// is skipped, and the tests that must run everywhere inject a failing
// filesystem instead.
package tmpfs

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// Mount mounts a tmpfs of size bytes on a new directory and returns it;
// it is unmounted when t ends. t is skipped when the system cannot mount
// one (not root, not Linux, no mount permission in the container).
func Mount(t testing.TB, size int64) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("tmpfs: needs root to mount")
	}
	dir := filepath.Join(t.TempDir(), "tmpfs")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := mount(dir, fmt.Sprintf("size=%d", size)); err != nil {
		t.Skipf("tmpfs: cannot mount: %v", err)
	}
	// Registered after TempDir's cleanup, so it runs before it: the
	// directory is removed once nothing is mounted on it.
	t.Cleanup(func() {
		if err := unmount(dir); err != nil {
			t.Errorf("tmpfs: unmount %s: %v", dir, err)
		}
	})
	return dir
}
