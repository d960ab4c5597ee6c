package report

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// Mode is how an Output writes a regular file.
type Mode int

const (
	// Replace writes a temporary file in the same directory, synced, and
	// renames it over the path: a reader sees the old file or the whole new
	// one, never a part.
	Replace Mode = iota
	// Append adds to the end of the file (created if missing) in one
	// write, starting a line of its own: for a file others write to as
	// well, which must not be replaced, such as GitHub Actions'
	// $GITHUB_STEP_SUMMARY.
	Append
)

// Output is where a report goes. It is opened (OpenOutput) when the
// command starts, before anything runs, so that a report that cannot be
// written is a usage error then rather than a loss after a long run; it is
// written once the run is over (Write). What is at the path decides how:
//
//   - A regular file, or nothing yet: a temporary file in the same
//     directory, synced and renamed over the path (Replace: a reader sees
//     the old file or the whole new one, never a part), or the file
//     appended to (Append). Opening checks for real that this can be
//     done: a temporary file is created in the directory and removed at
//     once (a missing directory, a read-only mount or, for a user other
//     than root, missing permission refuse it), and an existing file is
//     opened for writing without being truncated.
//   - A symbolic link is followed as open(2) follows it: the file it names
//     is written as above, and the link stays a link.
//   - A character device (/dev/null, a terminal) or a FIFO is written in
//     place, never replaced. It is opened without waiting (O_NONBLOCK): a
//     FIFO with no reader is refused (ENXIO) rather than waited on after
//     the run, maybe forever. It is held open from then until the report
//     is written, so that a FIFO's reader sees one writer and its end of
//     file only after the report.
//   - A file reached through a link in /proc (/dev/stdout is a link to
//     /proc/self/fd/1, /dev/fd/3 one to /proc/self/fd/3) stands for a file
//     the process has open: it is written in place, appended to, never
//     renamed over (which would leave the open descriptor on the old file).
//   - A directory, a block device or a socket is refused.
type Output struct {
	path string
	mode Mode
	// id and info tell two outputs apart: the absolute path written, its
	// links followed, and the file there when there is one.
	id   string
	info fs.FileInfo
	f    *os.File // written in place: open from OpenOutput to Write or Close
}

// OpenOutput checks that a report can be written to path in mode, as what
// is at path calls for (see Output), and opens it when it
// is written in place. Every error names the path, or the directory at
// fault.
func OpenOutput(path string, mode Mode) (*Output, error) {
	p, err := locate(path)
	if err != nil {
		return nil, err
	}
	o := &Output{path: path, mode: mode, id: canonical(p.target), info: p.info}
	if p.inPlace {
		if o.f, err = openInPlace(p.target, p.info); err != nil {
			return nil, err
		}
		return o, nil
	}
	// A new file is created in the directory; Replace creates its
	// temporary file there.
	if p.info == nil || mode == Replace {
		if err := CheckDir(filepath.Dir(p.target)); err != nil {
			return nil, err
		}
	}
	if p.info != nil {
		f, err := os.OpenFile(p.target, os.O_WRONLY, 0) // no O_TRUNC: nothing changes
		if err != nil {
			return nil, fmt.Errorf("cannot write %q: %w", path, pathErr(err))
		}
		f.Close()
	}
	return o, nil
}

// Path is the path the output was opened with.
func (o *Output) Path() string { return o.path }

// Mode is how the output writes a regular file.
func (o *Output) Mode() Mode { return o.mode }

// Same reports whether o and p write one file: the same path once links
// are followed, or the same existing file however reached.
func (o *Output) Same(p *Output) bool {
	return o.id == p.id || (o.info != nil && p.info != nil && os.SameFile(o.info, p.info))
}

// Write writes what write produces and closes the output. write runs
// first, into memory: when it fails, nothing is written and a file is
// left as it was. What is at a path not held open is looked up again, as
// it may have changed during the run.
func (o *Output) Write(write func(io.Writer) error) error {
	var buf bytes.Buffer
	if err := write(&buf); err != nil {
		o.Close()
		return err
	}
	f := o.f
	o.f = nil
	if f == nil {
		p, err := locate(o.path)
		if err != nil {
			return fmt.Errorf("write %s: %w", o.path, err)
		}
		switch {
		case !p.inPlace && o.mode == Append:
			return appendTo(p.target, buf.Bytes())
		case !p.inPlace:
			return writeAtomic(p.target, buf.Bytes(), p.info)
		}
		if f, err = openInPlace(p.target, p.info); err != nil {
			return fmt.Errorf("write %s: %w", o.path, err)
		}
	}
	return writeTo(f, o.path, o.mode, buf.Bytes())
}

// Close releases the output without writing to it; after Write it does
// nothing.
func (o *Output) Close() error {
	if o.f == nil {
		return nil
	}
	err := o.f.Close()
	o.f = nil
	return err
}

// Save writes what write produces to path, in mode: OpenOutput and Write at
// once. write runs first, into memory: when it fails, the file is not
// touched.
func Save(path string, mode Mode, write func(io.Writer) error) error {
	o, err := OpenOutput(path, mode)
	if err != nil {
		return err
	}
	return o.Write(write)
}

// place is what a path names, its links followed.
type place struct {
	target  string      // the path to write: path, its links followed
	info    fs.FileInfo // the file at target; nil when there is none yet
	inPlace bool        // a device, a FIFO, or a file reached through /proc
}

// locate finds what is at path, and refuses what no report is written to.
func locate(path string) (place, error) {
	if path == "" {
		return place{}, errors.New("output path is empty")
	}
	target, proc, err := follow(path)
	if err != nil {
		return place{}, err
	}
	p := place{target: target}
	fi, err := os.Stat(target)
	switch {
	case errors.Is(err, fs.ErrNotExist) && !proc:
		return p, nil // a new file
	case err != nil:
		return place{}, fmt.Errorf("cannot write %q: %w", path, pathErr(err))
	}
	p.info = fi
	switch m := fi.Mode(); {
	case m.IsRegular():
		p.inPlace = proc
	case m&fs.ModeNamedPipe != 0, m&fs.ModeCharDevice != 0:
		p.inPlace = true
	case m.IsDir():
		return place{}, fmt.Errorf("%q is a directory", path)
	case m&fs.ModeDevice != 0:
		return place{}, fmt.Errorf("%q is a block device: a report is never written on one", path)
	case m&fs.ModeSocket != 0:
		return place{}, fmt.Errorf("%q is a socket: want a file, a FIFO or a character device", path)
	default:
		return place{}, fmt.Errorf("%q is not a file, a FIFO or a character device", path)
	}
	return p, nil
}

// maxLinks is how many symbolic links follow goes through, as many as
// Linux's open(2) does before ELOOP.
const maxLinks = 40

// follow returns the file path names once the links of its last element
// are followed, as open(2) follows them: a relative link from the
// directory it is in (its own links resolved, as the kernel resolves
// them), an absolute one from the root; a link to nothing names the file
// it would create. Links in the directories above the last element are
// left as they are: a temporary file and a rename through them work in
// their targets. proc is true when a link is met in /proc: such a link
// (/proc/self/fd/1) stands for a file the process has open, and is written
// through as it is rather than resolved to a path.
func follow(path string) (target string, proc bool, err error) {
	for range maxLinks {
		fi, err := os.Lstat(path)
		if errors.Is(err, fs.ErrNotExist) {
			return path, false, nil
		}
		if err != nil {
			return "", false, fmt.Errorf("cannot write %q: %w", path, pathErr(err))
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			return path, false, nil
		}
		dir, err := filepath.EvalSymlinks(filepath.Dir(path))
		if err != nil {
			return "", false, fmt.Errorf("cannot write %q: %w", path, pathErr(err))
		}
		if dir == "/proc" || strings.HasPrefix(dir, "/proc/") {
			return path, true, nil
		}
		dest, err := os.Readlink(path)
		if err != nil {
			return "", false, fmt.Errorf("cannot write %q: %w", path, pathErr(err))
		}
		if !filepath.IsAbs(dest) {
			dest = filepath.Join(dir, dest)
		}
		path = dest
	}
	return "", false, fmt.Errorf("cannot write %q: too many levels of symbolic links", path)
}

// canonical is target as an absolute path, its directory's links
// resolved, to tell whether two outputs name one file that does not exist
// yet.
func canonical(target string) string {
	abs, err := filepath.Abs(target)
	if err != nil {
		return target
	}
	if dir, err := filepath.EvalSymlinks(filepath.Dir(abs)); err == nil {
		return filepath.Join(dir, filepath.Base(abs))
	}
	return abs
}

// openInPlace opens path, a device, a FIFO or a file reached through
// /proc (fi), to write in place: appending (the open file a /proc link
// stands for keeps what it holds, as a write to its descriptor would),
// creating nothing, and without waiting (O_NONBLOCK): a FIFO with no
// reader fails with ENXIO instead of blocking until one comes. Writes to a
// FIFO opened so still wait for its reader to take what is written: the
// file is registered with Go's poller.
func openInPlace(path string, fi fs.FileInfo) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|syscall.O_NONBLOCK, 0)
	if errors.Is(err, syscall.ENXIO) && fi.Mode()&fs.ModeNamedPipe != 0 {
		return nil, fmt.Errorf("FIFO %q has no reader: it is opened before the run, so start its reader first", path)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot write %q: %w", path, pathErr(err))
	}
	return f, nil
}

// writeTo writes data to f, opened for path, and closes it; in Append
// mode after a line break when f already holds something.
func writeTo(f *os.File, path string, mode Mode, data []byte) error {
	verb := "write"
	if mode == Append {
		verb = "append to"
		if fi, err := f.Stat(); err == nil && fi.Size() > 0 {
			// What came before may not end its line; after one that
			// does, this makes a blank line, so a Markdown heading or
			// table starts a block of its own.
			data = append([]byte("\n"), data...)
		}
	}
	_, err := f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%s %s: %w", verb, path, pathErr(err))
	}
	return nil
}

// appendTo appends data to path in one write (O_APPEND, so writers that
// append at the same time do not overwrite each other).
func appendTo(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("append to %s: %w", path, pathErr(err))
	}
	return writeTo(f, path, Append, data)
}

// writeAtomic writes data to path through a temporary file in the same
// directory, synced and renamed over path: a reader sees the old file or the
// whole new one, never a part. The file keeps the permissions of the one
// it replaces (old), or gets 0644.
func writeAtomic(path string, data []byte, old fs.FileInfo) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, pathErr(err))
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
			err = fmt.Errorf("write %s: %w", path, pathErr(err))
		}
	}()
	perm := fs.FileMode(0o644)
	if old != nil {
		perm = old.Mode().Perm()
	}
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Chmod(perm); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// CheckDir reports whether files can be written in dir, for real: a
// temporary file is created there and removed, which a missing directory,
// a read-only mount or missing permission refuses.
func CheckDir(dir string) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("directory %q does not exist", dir)
	case err != nil:
		return fmt.Errorf("directory %q: %w", dir, pathErr(err))
	case !fi.IsDir():
		return fmt.Errorf("%q is not a directory", dir)
	}
	f, err := os.CreateTemp(dir, ".rustci-perf-check-*")
	if err != nil {
		return fmt.Errorf("cannot write in directory %q: %w", dir, pathErr(err))
	}
	f.Close()
	if err := os.Remove(f.Name()); err != nil {
		return fmt.Errorf("directory %q: %w", dir, pathErr(err))
	}
	return nil
}

// pathErr is err without the operation and paths of an *fs.PathError or
// *os.LinkError, which the messages here give in their own words.
func pathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}
