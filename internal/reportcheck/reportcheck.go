// Package reportcheck checks, for tests, that a report can be trusted as
// written: a figure that cannot be computed is n/a, and a note says why
// (NotComputable); every format writes it, none shows a NaN or an
// infinity (a figure that cannot be computed is null in JSON and n/a
// elsewhere), the
// JSON validates against the published schema and reads back through
// report.ReadJSON, the JUnit validates against its XSD, and the .hgrm
// files are written, one per histogram (each kind of operation's too).
package reportcheck

import (
	"bytes"
	"encoding/csv"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/rustci/rustci-perf/pkg/metric"
	"github.com/rustci/rustci-perf/pkg/report"
	"github.com/rustci/rustci-perf/schema"
)

// notANumber matches how Go prints a NaN or an infinity, in any format.
var notANumber = regexp.MustCompile(`\bNaN\b|[+-]Inf\b`)

// Every writes r in every format of report.Formats() and checks each
// output (see Output), and writes its .hgrm files; it returns the outputs
// by format for further checks.
func Every(t testing.TB, r *report.Report) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, name := range report.Formats() {
		f, err := report.Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := f(&b, r); err != nil {
			t.Errorf("format %s: %v", name, err)
			continue
		}
		Output(t, name, b.Bytes())
		out[name] = b.Bytes()
	}
	Hgrm(t, r)
	return out
}

// Output checks one format's output: no NaN or infinity; JSON valid
// against the schema and read back by report.ReadJSON; CSV read back
// with encoding/csv, every value a finite number or empty; JUnit valid
// against its XSD (when xmllint is installed, or required by
// RUSTCI_PERF_REQUIRE_TOOLS=1). It returns the report JSON read back (nil
// for other formats).
func Output(t testing.TB, format string, data []byte) *report.Report {
	t.Helper()
	if loc := notANumber.FindIndex(data); loc != nil {
		t.Errorf("format %s writes %q: a figure that cannot be computed must be null or n/a\n%s", format, data[loc[0]:loc[1]], data)
	}
	switch format {
	case "json":
		if err := schema.ValidateReport(data); err != nil {
			t.Errorf("json does not match schema/report-v1.schema.json: %#v\n%s", err, data)
		}
		r, err := report.ReadJSON(bytes.NewReader(data))
		if err != nil {
			t.Errorf("json does not read back: %v", err)
			return nil
		}
		var again bytes.Buffer
		if err := report.JSON(&again, r); err != nil {
			t.Errorf("json read back cannot be written again: %v", err)
		} else if !bytes.Equal(again.Bytes(), data) {
			t.Errorf("json read back writes differently:\n%s\nthen\n%s", data, again.Bytes())
		}
		return r
	case "csv":
		// RFC 4180 read back: every row has the header's columns, and
		// every value is a finite number or empty (n/a).
		rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
		if err != nil || len(rows) == 0 || !slices.Equal(rows[0], report.CSVHeader) {
			t.Errorf("csv does not read back with its header %q: %v\n%s", report.CSVHeader, err, data)
			return nil
		}
		for _, row := range rows[1:] {
			if v, err := strconv.ParseFloat(row[3], 64); row[3] != "" && (err != nil || !metric.Valid(v)) {
				t.Errorf("csv row %q: value %q is neither a finite number nor empty (n/a)", row, row[3])
			}
		}
	case "junit":
		err := schema.ValidateJUnit(data)
		if errors.Is(err, schema.ErrNoXmllint) && os.Getenv("RUSTCI_PERF_REQUIRE_TOOLS") != "1" {
			return nil
		}
		if err != nil {
			t.Errorf("junit: %v", err)
		}
	}
	return nil
}

// Hgrm writes r's .hgrm files into a temporary directory, checks that
// every histogram of a scenario and of each of its kinds of operation has
// its file, and checks them for NaN and infinities.
func Hgrm(t testing.TB, r *report.Report) {
	t.Helper()
	dir := t.TempDir()
	if err := report.WriteHgrm(dir, r); err != nil {
		t.Errorf("hgrm: %v", err)
		return
	}
	for _, s := range r.Scenarios {
		want := map[string]string{s.Name: s.Histogram}
		for _, o := range s.Operations {
			want[s.Name+"-"+o.Name] = o.Histogram
		}
		for name, enc := range want {
			if _, err := os.Stat(filepath.Join(dir, name+".hgrm")); enc != "" && err != nil {
				t.Errorf("hgrm: %s has a histogram and no file: %v", name, err)
			}
		}
	}
	Dir(t, dir)
}

// Dir checks every .hgrm file in dir for NaN and infinities.
func Dir(t testing.TB, dir string) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.hgrm"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Error(err)
			continue
		}
		// HdrHistogram writes 1/(1-p) of the 100th percentile as "inf", on
		// purpose: the plotter reads it. Only Go's spellings are wrong.
		if loc := notANumber.FindIndex(b); loc != nil {
			t.Errorf("%s writes %q", filepath.Base(f), b[loc[0]:loc[1]])
		}
	}
}

// NotComputable checks that each figure of names is among metrics, n/a,
// and that the notes say each of says (why it is).
func NotComputable(t testing.TB, metrics map[string]float64, notes []string, names []string, says ...string) {
	t.Helper()
	for _, k := range names {
		if v, ok := metrics[k]; !ok || metric.Valid(v) {
			t.Errorf("%s = %g (present %t); want n/a", k, v, ok)
		}
	}
	all := strings.Join(notes, "\n")
	for _, want := range says {
		if !strings.Contains(all, want) {
			t.Errorf("no note says %q:\n%s", want, all)
		}
	}
}
