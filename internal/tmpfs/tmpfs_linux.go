package tmpfs

import "syscall"

func mount(dir, opts string) error { return syscall.Mount("tmpfs", dir, "tmpfs", 0, opts) }

// unmount detaches the filesystem even while a file on it is still open
// (a store abandoned by the code under test); it goes once they close.
func unmount(dir string) error { return syscall.Unmount(dir, syscall.MNT_DETACH) }
