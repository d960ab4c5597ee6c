package report

import (
	"bytes"
	"encoding/csv"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/rustci/rustci-perf/pkg/metric"
)

// readCSV reads the CSV report back as an RFC 4180 reader does, checking
// every row has the header's columns, and returns its rows by scenario,
// kind and figure.
func readCSV(t *testing.T, data []byte) map[[3]string][]string {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll() // also checks each row has the header's fields
	if err != nil {
		t.Fatalf("csv does not read back: %v\n%s", err, data)
	}
	if len(rows) == 0 || !slices.Equal(rows[0], CSVHeader) {
		t.Fatalf("csv header %q; want %q", rows[0], CSVHeader)
	}
	out := map[[3]string][]string{}
	for _, row := range rows[1:] {
		key := [3]string{row[0], row[1], row[2]}
		if _, dup := out[key]; dup {
			t.Errorf("csv: %q twice", key)
		}
		out[key] = row
	}
	return out
}

// TestCSVReadsBack: the CSV report reads back with encoding/csv, one row
// per scenario, kind and figure, each value a finite number or empty (n/a,
// never NaN or Inf), each unit and direction the catalogue's; the faults
// injected, commas and all, come back as written.
func TestCSVReadsBack(t *testing.T) {
	r := fixture()
	r.Injected = []string{"l2:latency=2ms,error=0.01", `limiter:stall=2s@5s "quoted"`}
	s := &r.Scenarios[0]
	s.Metrics["cpu_per_op"] = metric.NA              // not measured on this system
	s.Metrics["hit_rate"] = math.Inf(1)              // never written as such
	r.Scenarios[1].Operations[1].Latency = Latency{} // no write succeeded
	var b bytes.Buffer
	if err := CSV(&b, r); err != nil {
		t.Fatal(err)
	}
	if loc := regexp.MustCompile(`NaN|Inf`).FindIndex(b.Bytes()); loc != nil {
		t.Fatalf("csv writes %q:\n%s", b.Bytes()[loc[0]:loc[1]], b.Bytes())
	}
	rows := readCSV(t, b.Bytes())
	for key, row := range rows {
		if row[3] != "" {
			if v, err := strconv.ParseFloat(row[3], 64); err != nil || !metric.Valid(v) {
				t.Errorf("%q: value %q is not a finite number", key, row[3])
			}
		}
		d, _ := metric.Lookup(key[2])
		if row[4] != d.Unit || row[5] != d.Better {
			t.Errorf("%q: unit %q, better %q; want the catalogue's %q, %q", key, row[4], row[5], d.Unit, d.Better)
		}
		if want := strings.Join(r.Injected, "; "); row[6] != want {
			t.Errorf("%q: injected %q; want %q", key, row[6], want)
		}
		if key[0] == "memory" {
			t.Errorf("%q: a scenario that could not run has a row", key)
		}
	}
	for _, tt := range []struct {
		scenario, kind, figure, want string
	}{
		{"cache-read", "", "ops", "10000"},                // a count, whole
		{"cache-read", "", "throughput", "2325581.4"},     // as short as reads back
		{"cache-read", "", "duration", "4300000"},         // the wall time, ns
		{"cache-read", "", "p99.9", "7960"},               // named as thresholds name it
		{"cache-read", "", "alloc_bytes_per_op", "8.192"}, // every digit, unlike gobench's two decimals
		{"cache-read", "", "allocs_per_op", "0.016"},
		{"cache-read", "", "cpu_per_op", ""}, // n/a: empty
		{"cache-read", "", "hit_rate", ""},   // not finite: empty
		{"latency", "read", "p99", "2300"},   // a kind's own figure
		{"latency", "write", "ops", "999"},   // a kind with no success has its counts
		{"latency", "write", "p50", ""},      // and no latency
		{"latency", "", "achieved_rate_ratio", "0.9946"},
	} {
		row, ok := rows[[3]string{tt.scenario, tt.kind, tt.figure}]
		if !ok || row[3] != tt.want {
			t.Errorf("%s/%s %s = %q (present %t); want %q", tt.scenario, tt.kind, tt.figure, row, ok, tt.want)
		}
	}
	if _, ok := rows[[3]string{"latency", "read", "duration"}]; ok {
		t.Error("a kind of operation has a duration: it shares the scenario's")
	}
}

// TestCSVFloat: a value is a plain decimal that reads back exactly, in
// exponent form only far from 1, and empty when it is not a number.
func TestCSVFloat(t *testing.T) {
	for _, tt := range []struct {
		v    float64
		want string
	}{
		{0, "0"},
		{2325581.4, "2325581.4"},
		{1e6, "1000000"},       // not 1e+06
		{0.000159, "0.000159"}, // not 1.59e-04
		{-3.5, "-3.5"},         // a signed figure (heap_bytes_per_item)
		{1e-9, "1e-09"},        // far from 1
		{1e21, "1e+21"},
		{math.NaN(), ""}, // n/a
		{math.Inf(1), ""},
		{math.Inf(-1), ""},
	} {
		if got := csvFloat(tt.v); got != tt.want {
			t.Errorf("csvFloat(%g) = %q; want %q", tt.v, got, tt.want)
		}
		if tt.want != "" {
			if back, err := strconv.ParseFloat(tt.want, 64); err != nil || back != tt.v {
				t.Errorf("csvFloat(%g) = %q reads back as %g, %v", tt.v, tt.want, back, err)
			}
		}
	}
}
