//go:build unix

package report

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rustci/rustci-perf/internal/specialfile"
	"github.com/rustci/rustci-perf/pkg/latency"
)

// markdown writes the fixture's Markdown report: what the tests here save.
func markdown(w io.Writer) error { return Markdown(w, fixture()) }

// wantMarkdown is what markdown writes.
func wantMarkdown(t *testing.T) string {
	t.Helper()
	var b bytes.Buffer
	if err := markdown(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// write creates path holding content.
func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// symlink makes link point to dest.
func symlink(t *testing.T, dest, link string) {
	t.Helper()
	if err := os.Symlink(dest, link); err != nil {
		t.Fatal(err)
	}
}

// names lists dir's entries.
func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// TestSaveRegularFile: a regular file is replaced by a new one (renamed
// over it: another inode), with the permissions of the old; a new file
// gets 0644; no temporary file is left.
func TestSaveRegularFile(t *testing.T) {
	dir := t.TempDir()
	old := filepath.Join(dir, "old.md")
	write(t, old, "old")
	if err := os.Chmod(old, 0o600); err != nil {
		t.Fatal(err)
	}
	before, _ := os.Stat(old)
	for _, tt := range []struct {
		name string
		perm fs.FileMode
	}{
		{"old.md", 0o600}, // replaced, its permissions kept
		{"new.md", 0o644}, // created
	} {
		path := filepath.Join(dir, tt.name)
		if err := Save(path, Replace, markdown); err != nil {
			t.Fatalf("Save(%s) = %v", tt.name, err)
		}
		fi, err := os.Lstat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(path); string(got) != wantMarkdown(t) || !fi.Mode().IsRegular() || fi.Mode().Perm() != tt.perm {
			t.Errorf("Save(%s): a %s file holding %.30q...; want a regular file, %s, holding the report", tt.name, fi.Mode(), got, tt.perm)
		}
	}
	if after, _ := os.Stat(old); os.SameFile(before, after) {
		t.Error("Save wrote into the old file; want a new one renamed over it")
	}
	if got := names(t, dir); len(got) != 2 {
		t.Errorf("directory holds %v; want the two files, no temporary one", got)
	}
}

// TestSaveSymlink: a link is followed as open(2) follows it, the file it
// names replaced (or created), and the link left as it was.
func TestSaveSymlink(t *testing.T) {
	root := t.TempDir()
	at := func(p string) string { return filepath.Join(root, p) }
	for _, d := range []string{"a", "a/sub", "b"} {
		if err := os.Mkdir(at(d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write(t, at("a/r.md"), "old")
	write(t, at("b/abs.md"), "old")
	symlink(t, "r.md", at("a/rel.md"))                // relative, in its directory
	symlink(t, at("b/abs.md"), at("a/abs.md"))        // absolute, to another directory
	symlink(t, "rel.md", at("a/chain.md"))            // a link to a link
	symlink(t, "../b/new.md", at("a/dangling.md"))    // to a file not there yet
	symlink(t, "../r.md", at("a/sub/up.md"))          // relative, from a/sub...
	symlink(t, at("a/sub"), at("via"))                // ...reached through a linked directory: a/r.md, not r.md at the root
	symlink(t, "../b/missing/x.md", at("a/nodir.md")) // into a directory that does not exist
	for _, tt := range []struct {
		link, target string
	}{
		{"a/rel.md", "a/r.md"},
		{"a/abs.md", "b/abs.md"},
		{"a/chain.md", "a/r.md"},
		{"a/dangling.md", "b/new.md"},
		{"via/up.md", "a/r.md"},
	} {
		dest, _ := os.Readlink(at(tt.link))
		if err := Save(at(tt.link), Replace, markdown); err != nil {
			t.Errorf("Save(%s) = %v", tt.link, err)
			continue
		}
		if fi, err := os.Lstat(at(tt.link)); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			t.Errorf("Save(%s): the link is now %v (%v); want it a link still", tt.link, fi.Mode(), err)
		}
		if now, _ := os.Readlink(at(tt.link)); now != dest {
			t.Errorf("Save(%s): the link points to %q; want %q still", tt.link, now, dest)
		}
		if got, _ := os.ReadFile(at(tt.target)); string(got) != wantMarkdown(t) {
			t.Errorf("Save(%s): %s holds %.30q...; want the report", tt.link, tt.target, got)
		}
		write(t, at(tt.target), "old") // for the next row through the same file
	}
	if _, err := os.Stat(at("r.md")); err == nil {
		t.Error("via/up.md was resolved by its path's text (to r.md at the root), not as the kernel does (a/r.md)")
	}
	if err := Save(at("a/nodir.md"), Replace, markdown); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("Save(link into a missing directory) = %v; want the directory named as missing", err)
	}
	for _, d := range []string{"a", "a/sub", "b"} {
		for _, n := range names(t, at(d)) {
			if strings.Contains(n, ".tmp-") || strings.Contains(n, "check") {
				t.Errorf("%s: a temporary file was left: %s", d, n)
			}
		}
	}
}

// TestSaveFIFO: a FIFO is written in place, never replaced. With a reader,
// it is held open from OpenOutput on (the reader sees no end of file
// before the report) and the reader gets the whole report, then the end.
// With none, opening fails at once instead of waiting for one.
func TestSaveFIFO(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	specialfile.FIFO(t, fifo)
	r := specialfile.OpenReader(t, fifo)
	o, err := OpenOutput(fifo, Replace)
	if err != nil {
		t.Fatalf("OpenOutput(FIFO with a reader) = %v", err)
	}
	if pending, err := r.Pending(); !pending {
		t.Errorf("after OpenOutput the reader sees no writer (%v): the FIFO is not held open until the report", err)
	}
	if err := o.Write(markdown); err != nil {
		t.Fatalf("Write(FIFO) = %v", err)
	}
	got, err := r.ReadAll()
	if err != nil || string(got) != wantMarkdown(t) {
		t.Errorf("the reader got %.40q... (%v); want the report, then the end of file", got, err)
	}
	if fi, err := os.Lstat(fifo); err != nil || fi.Mode()&fs.ModeNamedPipe == 0 {
		t.Errorf("after Write the FIFO is %v (%v); want a FIFO still", fi.Mode(), err)
	}

	// No reader: refused, at once. A bug would block here; the deadline
	// turns that into a failure that says so.
	lonely := filepath.Join(dir, "lonely")
	specialfile.FIFO(t, lonely)
	done := make(chan error, 1)
	go func() { done <- Save(lonely, Replace, markdown) }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "has no reader") {
			t.Errorf("Save(FIFO without a reader) = %v; want an error saying it has no reader", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Save(FIFO without a reader) is still waiting for one after 30s")
	}
	if fi, err := os.Lstat(lonely); err != nil || fi.Mode()&fs.ModeNamedPipe == 0 {
		t.Errorf("the FIFO without a reader is now %v (%v); want a FIFO still", fi.Mode(), err)
	}
}

// TestSaveCharDevice: a character device is written in place and stays
// one; a write that fails there (/dev/full: no space) is an error of
// Write, since opening could not tell.
func TestSaveCharDevice(t *testing.T) {
	isDevice := func(path string) bool {
		fi, err := os.Lstat(path)
		return err == nil && fi.Mode()&fs.ModeCharDevice != 0
	}
	null := specialfile.Null(t)
	if err := Save(null, Replace, markdown); err != nil {
		t.Errorf("Save(%s) = %v", null, err)
	}
	if !isDevice(null) {
		t.Errorf("Save(%s) replaced the device", null)
	}
	full := specialfile.Full(t)
	o, err := OpenOutput(full, Replace)
	if err != nil {
		t.Fatalf("OpenOutput(%s) = %v; want it open: only a write can fail there", full, err)
	}
	if err := o.Write(markdown); !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), full) {
		t.Errorf("Write(%s) = %v; want ENOSPC, naming the path", full, err)
	}
	if !isDevice(full) {
		t.Errorf("Save(%s) replaced the device", full)
	}
	// Append mode writes a device in place too.
	if err := Save(null, Append, markdown); err != nil || !isDevice(null) {
		t.Errorf("Save(%s, Append) = %v; device kept: %t", null, err, isDevice(null))
	}
}

// TestSaveThroughProc: a link in /proc (/proc/self/fd/N, as /dev/stdout
// is) stands for a file the process has open: that file is appended to in
// place, not renamed over, directly or through a link of the user's.
func TestSaveThroughProc(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "held.md")
	write(t, path, "earlier\n")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fdPath := fmt.Sprintf("/proc/self/fd/%d", f.Fd())
	if _, err := os.Lstat(fdPath); err != nil {
		t.Skipf("no /proc/self/fd here: %v", err)
	}
	link := filepath.Join(dir, "out")
	symlink(t, fdPath, link)
	before, _ := os.Stat(path)
	want := "earlier\n" + wantMarkdown(t)
	for _, p := range []string{fdPath, link} {
		if err := Save(p, Replace, markdown); err != nil {
			t.Fatalf("Save(%s) = %v", p, err)
		}
		if after, _ := os.Stat(path); !os.SameFile(before, after) {
			t.Fatalf("Save(%s) renamed a file over the one the descriptor holds", p)
		}
		if got, _ := os.ReadFile(path); string(got) != want {
			t.Errorf("Save(%s): the file holds %q; want %q", p, got, want)
		}
		want += wantMarkdown(t)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("the link through /proc is now %v (%v)", fi.Mode(), err)
	}
}

// TestOpenOutputRefuses: what no report can be written to is refused by
// OpenOutput, before anything runs, naming the path, and nothing is left
// behind.
func TestOpenOutputRefuses(t *testing.T) {
	dir := t.TempDir()
	at := func(p string) string { return filepath.Join(dir, p) }
	write(t, at("file"), "x")
	specialfile.FIFO(t, at("fifo"))
	symlink(t, "loop2", at("loop1"))
	symlink(t, "loop1", at("loop2"))
	ln, err := net.Listen("unix", at("sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	tests := []struct {
		path, want string
	}{
		{"", "output path is empty"},
		{dir, "is a directory"},
		{at("missing/r.md"), `directory "` + at("missing") + `" does not exist`},
		{at("file/r.md"), "not a directory"}, // a path under a regular file
		{at("file/sub/r.md"), "not a directory"},
		{at("fifo"), `FIFO "` + at("fifo") + `" has no reader`},
		{at("loop1"), "too many levels of symbolic links"},
		{at("sock"), "is a socket"},
	}
	if os.Geteuid() == 0 {
		// Only root makes devices; and only for others do permission bits
		// stop a write.
		if err := syscall.Mknod(at("disk"), syscall.S_IFBLK|0o600, 7<<8); err == nil {
			tests = append(tests, struct{ path, want string }{at("disk"), "is a block device"})
		}
	} else {
		for _, d := range []string{"ro", "ro-file"} {
			if err := os.Mkdir(at(d), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		write(t, at("ro-file/r.md"), "x")
		os.Chmod(at("ro-file/r.md"), 0o444)
		os.Chmod(at("ro"), 0o555)
		t.Cleanup(func() { os.Chmod(at("ro"), 0o755) })
		tests = append(tests,
			struct{ path, want string }{at("ro/r.md"), "cannot write in directory"},
			struct{ path, want string }{at("ro-file/r.md"), "cannot write"})
	}
	before := names(t, dir)
	for _, mode := range []Mode{Replace, Append} {
		for _, tt := range tests {
			o, err := OpenOutput(tt.path, mode)
			if err == nil {
				o.Close()
				t.Errorf("OpenOutput(%q, %d) = nil error; want %q", tt.path, mode, tt.want)
				continue
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("OpenOutput(%q, %d) = %v; want an error containing %q", tt.path, mode, err, tt.want)
			}
		}
	}
	if after := names(t, dir); strings.Join(after, " ") != strings.Join(before, " ") {
		t.Errorf("refused outputs changed the directory: %v, then %v", before, after)
	}
	if fi, err := os.Lstat(at("fifo")); err != nil || fi.Mode()&fs.ModeNamedPipe == 0 {
		t.Errorf("the FIFO is now %v (%v)", fi.Mode(), err)
	}
}

// TestOutputSame: two outputs are the same when they write one file,
// however spelled, through links, existing yet or not.
func TestOutputSame(t *testing.T) {
	dir := t.TempDir()
	at := func(p string) string { return filepath.Join(dir, p) }
	if err := os.Mkdir(at("d"), 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, at("r.md"), "x")
	symlink(t, "r.md", at("link.md"))
	symlink(t, "new.md", at("dangling.md"))
	symlink(t, "d", at("dlink"))
	if err := os.Link(at("r.md"), at("hard.md")); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		a, b string
		same bool
	}{
		{at("r.md"), dir + "/./r.md", true},
		{at("r.md"), at("d/../r.md"), true},
		{at("r.md"), at("link.md"), true},       // a link to it
		{at("r.md"), at("hard.md"), true},       // another name of the same file
		{at("new.md"), at("dangling.md"), true}, // not there yet, named by a link
		{at("d/n.md"), at("dlink/n.md"), true},  // not there yet, through a linked directory
		{at("r.md"), at("new.md"), false},
		{at("d/n.md"), at("n.md"), false},
	} {
		a, err1 := OpenOutput(tt.a, Replace)
		b, err2 := OpenOutput(tt.b, Replace)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if got := a.Same(b); got != tt.same {
			t.Errorf("OpenOutput(%s).Same(OpenOutput(%s)) = %t; want %t", tt.a, tt.b, got, tt.same)
		}
	}
}

// TestWriteLooksAgain: what is at a path is looked up again when the
// report is written, since the run may have changed it: a link made
// during the run is followed, not replaced.
func TestWriteLooksAgain(t *testing.T) {
	dir := t.TempDir()
	path, real := filepath.Join(dir, "r.md"), filepath.Join(dir, "real.md")
	o, err := OpenOutput(path, Replace)
	if err != nil {
		t.Fatal(err)
	}
	symlink(t, "real.md", path)
	if err := o.Write(markdown); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Lstat(path); fi.Mode()&fs.ModeSymlink == 0 {
		t.Error("the link made after OpenOutput was replaced")
	}
	if got, _ := os.ReadFile(real); string(got) != wantMarkdown(t) {
		t.Errorf("the link's target holds %.30q...; want the report", got)
	}
}

// TestWriteHgrmGoesOn: a .hgrm file that cannot be written does not stop
// the others, and the error names it.
func TestWriteHgrmGoesOn(t *testing.T) {
	rec := latencyRecorder(t)
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "a.hgrm"), 0o755); err != nil {
		t.Fatal(err)
	}
	err := WriteHgrm(dir, &Report{Scenarios: []Scenario{{Name: "a", Histogram: rec}, {Name: "b", Histogram: rec}}})
	if err == nil || !strings.Contains(err.Error(), "a.hgrm") {
		t.Errorf("WriteHgrm with a.hgrm a directory = %v; want an error naming a.hgrm", err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "b.hgrm")); err != nil || !bytes.Contains(b, []byte("Value")) {
		t.Errorf("b.hgrm after a.hgrm failed: %v; want it written", err)
	}
}

// latencyRecorder is an encoded histogram of 100 latencies.
func latencyRecorder(t *testing.T) string {
	t.Helper()
	rec := latency.NewRecorder()
	for i := 1; i <= 100; i++ {
		rec.Record(time.Duration(i) * time.Microsecond)
	}
	enc, err := rec.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return enc
}
