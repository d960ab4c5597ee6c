// --output: parsed and opened before anything runs, written after.

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/rustci/rustci-perf/pkg/report"
)

// output is one --output: the value given, to name it in messages, the
// format to write (a report's or a comparison's), and where: a file
// opened before the run, or stdout when file is nil. flag, when set, names
// another flag that writes a file of its own as an output does (--hlog),
// which is not a report in a format: stdout still gets the report.
type output[F any] struct {
	value  string
	format F
	file   *report.Output
	flag   string
}

// name names o in messages: --output "json=r.json", --hlog r.hlog.
func (o output[F]) name() string {
	if o.flag != "" {
		return o.flag + " " + o.value
	}
	return fmt.Sprintf("--output %q", o.value)
}

// reports counts outs that are reports in a format (--output), not the
// files of other flags.
func reports[F any](outs []output[F]) int {
	n := 0
	for _, o := range outs {
		if o.flag == "" {
			n++
		}
	}
	return n
}

// fileOutput adds to outs the file flag writes at path in format, opened
// and checked as an --output is (report.OpenOutput), refused when it is
// stdout (which has the report) or a file an output already writes.
func fileOutput[F any](outs []output[F], flag, path string, format F, stdout io.Writer) ([]output[F], error) {
	if isStdout(path, stdout) {
		return outs, fmt.Errorf("%s %s: stdout has the report: give a file", flag, path)
	}
	f, err := report.OpenOutput(path, report.Replace)
	if err != nil {
		return outs, fmt.Errorf("%s: %w", flag, err)
	}
	o := output[F]{value: path, format: format, file: f, flag: flag}
	for _, prev := range outs {
		if prev.file != nil && prev.file.Same(f) {
			f.Close()
			return outs, fmt.Errorf("%s and %s write the same file: give each its own", prev.name(), o.name())
		}
	}
	return append(outs, o), nil
}

// writeOutputs writes to each output what write makes of its format,
// going on past one that fails, and returns the failures, each naming its
// output.
func writeOutputs[F any](outs []output[F], stdout io.Writer, write func(io.Writer, F) error) (failed []error) {
	for _, o := range outs {
		var err error
		if o.file == nil {
			err = write(stdout, o.format)
		} else {
			err = o.file.Write(func(w io.Writer) error { return write(w, o.format) })
		}
		if err != nil {
			failed = append(failed, fmt.Errorf("%s: %w", o.name(), err))
		}
	}
	return failed
}

// writeGrace is how long writing lets the outputs finish after a signal.
const writeGrace = time.Second

// writing runs write, which writes the outputs, and returns its failures
// and true; or, when ctx ends (Ctrl-C, SIGTERM) and write has not finished
// writeGrace later, a failure saying so and false. An output blocks only
// when its reader does (a FIFO, a pipe, a terminal), and a signal must not
// wait on a reader: the writes left are abandoned as the process exits.
// Every file output is a temporary file renamed at the end, so none is
// left half-written under its name.
func writing(ctx context.Context, write func() []error) ([]error, bool) {
	done := make(chan []error, 1)
	go func() { done <- write() }()
	select {
	case failed := <-done:
		return failed, true
	case <-ctx.Done():
	}
	select {
	case failed := <-done:
		return failed, true
	case <-time.After(writeGrace):
		return []error{errors.New("interrupted while writing the outputs: those not written by then were abandoned")}, false
	}
}

// fills names a directory a flag fills with files of its own, by suffix
// (--hgrm DIR: DIR/<scenario>.hgrm).
type fills struct{ flag, dir, suffix string }

// outputsClear checks outs against the files the command reads (inputs)
// and the files flags fill directories with: an output written over one
// of them would lose it (compare a.json b.json --output json=a.json
// replaced its baseline; --hgrm h --output h/cache-read.hgrm lost one of
// the two).
func outputsClear[F any](outs []output[F], inputs []string, dirs ...fills) error {
	for _, o := range outs {
		if o.file == nil {
			continue
		}
		p := o.file.Path()
		for _, in := range inputs {
			if in != "" && samePath(p, in) {
				return fmt.Errorf("%s: %s is read by this command: writing it would replace what is read", o.name(), in)
			}
		}
		for _, d := range dirs {
			if d.dir != "" && strings.HasSuffix(p, d.suffix) && samePath(filepath.Dir(p), d.dir) {
				return fmt.Errorf("%s: %s %s fills that directory with *%s files of its own: give the output another name or place", o.name(), d.flag, d.dir, d.suffix)
			}
		}
	}
	return nil
}

// toStdout reports whether one of outs is stdout.
func toStdout[F any](outs []output[F]) bool {
	return slices.ContainsFunc(outs, func(o output[F]) bool { return o.file == nil })
}

// closeOutputs releases outputs not written, such as FIFOs held open when
// a later usage error stops the command.
func closeOutputs[F any](outs []output[F]) {
	for _, o := range outs {
		if o.file != nil {
			o.file.Close()
		}
	}
}

// stepSummaryEnv names the file GitHub Actions shows as a job's summary.
// Steps append to it, as GitHub documents: it is never replaced.
const stepSummaryEnv = "GITHUB_STEP_SUMMARY"

// parseOutputs reads the --output values, FORMAT=PATH or PATH, before
// anything runs: each format looked up, each path opened as
// report.OpenOutput does (checked writable; a device or FIFO held open),
// no file named twice. A bare PATH is written in the first of: --format
// when the user gave it (formatSet); markdown when PATH is
// $GITHUB_STEP_SUMMARY; the format its extension calls for
// (report.FormatForPath; lookup is told, byExt); text.
// $GITHUB_STEP_SUMMARY is appended to, every other regular file replaced
// atomically. PATH "-", or a path that is stdout itself (/dev/stdout, or
// the file stdout is redirected to), is stdout, which then gets that
// output alone: writing it through its own descriptor would put two
// reports in one stream, or rename a file from under the shell's
// redirection. The caller closes the outputs (closeOutputs) it does not
// write.
func parseOutputs[F any](values []string, format string, formatSet bool, lookup func(name string, byExt bool) (F, error), stdout io.Writer) (outs []output[F], err error) {
	summary := os.Getenv(stepSummaryEnv)
	isSummary := func(path string) bool { return summary != "" && samePath(path, summary) }
	defer func() {
		if err != nil {
			closeOutputs(outs)
			outs = nil
		}
	}()
	for _, v := range values {
		name, path, named := strings.Cut(v, "=")
		byExt := false
		switch {
		case named:
		case formatSet:
			name, path = format, v
		case isSummary(v):
			name, path = "markdown", v
		default:
			path = v
			if name, byExt = report.FormatForPath(v); !byExt {
				name = "text"
			}
		}
		f, err := lookup(name, byExt)
		if err != nil {
			return outs, fmt.Errorf("--output %q: %w", v, err)
		}
		o := output[F]{value: v, format: f}
		if !isStdout(path, stdout) {
			mode := report.Replace
			if isSummary(path) {
				mode = report.Append
			}
			if o.file, err = report.OpenOutput(path, mode); err != nil {
				return outs, fmt.Errorf("--output %q: %w", v, err)
			}
		}
		for _, prev := range outs {
			switch {
			case prev.file == nil && o.file == nil:
				return outs, fmt.Errorf("--output %q and --output %q both write to stdout: give one", prev.value, v)
			case prev.file != nil && o.file != nil && prev.file.Same(o.file):
				o.file.Close()
				return outs, fmt.Errorf("--output %q and --output %q write the same file: give each its own", prev.value, v)
			}
		}
		outs = append(outs, o)
	}
	return outs, nil
}

// isStdout reports whether path is "-" or names the file stdout is.
func isStdout(path string, stdout io.Writer) bool {
	if path == "-" {
		return true
	}
	f, ok := stdout.(*os.File)
	if !ok {
		return false
	}
	a, err1 := f.Stat()
	b, err2 := os.Stat(path)
	return err1 == nil && err2 == nil && os.SameFile(a, b)
}

// reportFormat looks up a report format for parseOutputs.
func reportFormat(name string, _ bool) (report.Formatter, error) { return report.Lookup(name) }

// comparisonFormat looks up a comparison format for parseOutputs: text,
// json or markdown. An extension that calls for another (.xml, .html) is a
// usage error rather than text in a file named for something else.
func comparisonFormat(name string, byExt bool) (func(io.Writer, *report.Comparison) error, error) {
	if f, ok := report.ComparisonFormats[name]; ok {
		return f, nil
	}
	if byExt {
		return nil, fmt.Errorf("its extension calls for %s, and compare writes text, json or markdown: name one (markdown=FILE) or give --format", name)
	}
	return nil, fmt.Errorf("unknown comparison format %q: want text, json or markdown", name)
}

// samePath reports whether a and b name one file: the same absolute path,
// or, when both exist, the same file (through a link).
func samePath(a, b string) bool {
	aa, err1 := filepath.Abs(a)
	bb, err2 := filepath.Abs(b)
	if err1 == nil && err2 == nil && aa == bb {
		return true
	}
	ai, err1 := os.Stat(a)
	bi, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(ai, bi)
}

// emitResult writes res, a comparison or a trend (what names it), to each
// output, or in the default format write to stdout when there is none:
// stdout then gets nothing else. The error carries the exit code: 130
// when ctx ended before it was written, 1 when bad (a regression, an
// alert), 0 otherwise; an output that failed makes it 4, as exitWith
// orders them.
func emitResult[R any](ctx context.Context, outs []output[func(io.Writer, R) error], stdout io.Writer, write func(io.Writer, R) error, res R, what string, bad bool) error {
	failed, done := writing(ctx, func() []error {
		failed := writeOutputs(outs, stdout, func(w io.Writer, f func(io.Writer, R) error) error { return f(w, res) })
		if len(outs) == 0 {
			if err := write(stdout, res); err != nil {
				failed = append(failed, fmt.Errorf("write %s to stdout: %w", what, err))
			}
		}
		return failed
	})
	code := exitOK
	switch {
	case !done || ctx.Err() != nil:
		code = exitInterrupted
	case bad:
		code = exitThreshold
	}
	return exitWith(code, failed)
}

// stdinName names stdin, given as "-", in messages and as a merged
// report's source.
const stdinName = "stdin"

// readReports reads the JSON reports named (report.ReadFile); "-" is
// stdin, which can be read once: "-" given twice is a usage error. names
// are the files', stdin's as stdinName.
func readReports(files []string, stdin io.Reader) (reps []*report.Report, names []string, err error) {
	if n := slices.Index(files, "-"); n >= 0 && slices.Contains(files[n+1:], "-") {
		return nil, nil, errors.New("- (stdin) given twice: it can be read once")
	}
	for _, file := range files {
		var r *report.Report
		name := file
		if file == "-" {
			name = stdinName
			if r, err = report.ReadJSON(stdin); err != nil {
				err = fmt.Errorf("%s: %w", name, err)
			}
		} else {
			r, err = report.ReadFile(file)
		}
		if err != nil {
			return nil, nil, err
		}
		reps, names = append(reps, r), append(names, name)
	}
	return reps, names, nil
}
