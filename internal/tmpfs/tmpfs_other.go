//go:build !linux

package tmpfs

import "errors"

var errUnsupported = errors.New("tmpfs mounts are only made on Linux")

func mount(string, string) error { return errUnsupported }
func unmount(string) error       { return errUnsupported }
