package profile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFileKeepsWriteErrors: a profile whose writes failed (the CPU
// profiler drops its write errors) is an error naming it, and leaves
// nothing behind, neither under its name nor as a temporary file.
func TestFileKeepsWriteErrors(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "x.cpu.pprof")
	f, err := create(name)
	if err != nil {
		t.Fatal(err)
	}
	f.f.Close() // every write fails from now on, as on a full disk
	if _, err := f.Write([]byte("profile")); err == nil {
		t.Fatal("write to a closed file succeeded")
	}
	if err := f.commit(nil); err == nil || !strings.Contains(err.Error(), name) {
		t.Errorf("commit after a failed write = %v; want an error naming %s", err, name)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("left behind: %v", entries)
	}
}

// TestFileReplacesAtomically: a profile replaces its file by renaming a
// whole new one over it, so another name linked to the old file keeps it.
func TestFileReplacesAtomically(t *testing.T) {
	dir := t.TempDir()
	name, other := filepath.Join(dir, "x.heap.pprof"), filepath.Join(dir, "kept")
	os.WriteFile(name, []byte("old"), 0o644)
	if err := os.Link(name, other); err != nil {
		t.Skip("no hard links here:", err)
	}
	f, err := create(name)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("new"))
	if err := f.commit(nil); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(name); string(b) != "new" {
		t.Errorf("%s holds %q; want new", name, b)
	}
	if b, _ := os.ReadFile(other); string(b) != "old" {
		t.Errorf("the other link holds %q; want old: the file was written in place", b)
	}
}
