package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"slices"
	"strconv"

	"github.com/rustci/rustci-perf/schema"
)

// Reading a report back (compare, merge, run --baseline) trusts nothing in
// it. ReadJSON takes, in turn:
//
//  1. one JSON value, and nothing after it but white space: a second report
//     concatenated to the first, or anything else, is refused, not ignored;
//  2. the schema field, first, so that a comparison or another version of
//     the report is named as such;
//  3. the published JSON Schema (schema/report-v1.schema.json): types,
//     required fields, no unknown one, enumerations, counts not negative;
//  4. every number finite as a float64;
//  5. the invariants the writer keeps and a schema cannot say (check.go):
//     one entry per scenario, status in agreement with passed, error,
//     reason and the thresholds, each histogram the distribution its
//     summary describes and holding one value per operation, counters that
//     count, shares in [0, 1].
//
// The first problem found is the error, an *Invalid saying where and what.

// Invalid is a report that breaks the schema or an invariant: where, as a
// JSON pointer (and the scenario it is in), and what is wrong.
type Invalid struct {
	// Pointer locates the offending value (RFC 6901): "/scenarios/1/ops".
	// Empty for a problem of the file as a whole.
	Pointer string
	// Scenario names the scenario the value belongs to, if any.
	Scenario string
	// Problem says what is wrong.
	Problem string
}

func (e *Invalid) Error() string {
	at := e.Pointer
	if e.Scenario != "" {
		at += fmt.Sprintf(" (scenario %s)", e.Scenario)
	}
	if at == "" {
		return e.Problem
	}
	return at + ": " + e.Problem
}

// ReadJSON reads one JSON report and checks it as the package comment above
// says; its error is an *Invalid, or the JSON decoder's.
func ReadJSON(rd io.Reader) (*Report, error) {
	data, err := io.ReadAll(rd)
	if err != nil {
		return nil, fmt.Errorf("read report: %w", err)
	}
	// A UTF-8 byte order mark, which some Windows editors write, is not
	// part of the JSON (RFC 8259 lets a reader ignore it).
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	doc, err := oneValue(data)
	if err != nil {
		return nil, err
	}
	if err := schemaField(doc); err != nil {
		return nil, err
	}
	if err := schema.Check(doc); err != nil {
		var p *schema.Problem
		if !errors.As(err, &p) {
			return nil, fmt.Errorf("read report: %w", err)
		}
		return nil, &Invalid{Pointer: p.Pointer, Scenario: scenarioAt(doc, p.Pointer), Problem: p.Detail()}
	}
	if err := finite(doc, ""); err != nil {
		err.Scenario = scenarioAt(doc, err.Pointer)
		return nil, err
	}
	var r Report
	if err := decodeStrict(data, &r); err != nil {
		return nil, fmt.Errorf("read report: %w", err)
	}
	if err := check(&r); err != nil {
		return nil, err
	}
	return &r, nil
}

// ReadFile reads the JSON report at path (ReadJSON); its errors name the
// file.
func ReadFile(path string) (*Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err // *PathError: names the file
	}
	defer f.Close()
	r, err := ReadJSON(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// oneValue decodes data's JSON value as the schema validator reads one
// (numbers as json.Number), and refuses anything after it.
func oneValue(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc any
	switch err := dec.Decode(&doc); {
	case err == io.EOF:
		return nil, &Invalid{Problem: "no JSON value: the file is empty"}
	case err != nil:
		return nil, fmt.Errorf("read report: %w", err)
	}
	end := dec.InputOffset()
	switch _, err := dec.Token(); {
	case err == io.EOF:
		return doc, nil
	case err == nil:
		return nil, &Invalid{Problem: fmt.Sprintf("a second JSON value after the report's end at byte %d: a file holds one report", end)}
	default:
		return nil, &Invalid{Problem: fmt.Sprintf("data after the report's end at byte %d (%v): a file holds one report", end, err)}
	}
}

// schemaField checks doc is an object of this package's Schema, so that a
// comparison (compare --format json) or a later version is named as such
// rather than found missing fields.
func schemaField(doc any) error {
	obj, ok := doc.(map[string]any)
	if !ok {
		return &Invalid{Problem: fmt.Sprintf("a JSON %s, not a report (an object)", kindOf(doc))}
	}
	if s, ok := obj["schema"].(string); !ok || s != Schema {
		got := fmt.Sprint(obj["schema"])
		if ok {
			got = strconv.Quote(s)
		}
		return &Invalid{Pointer: "/schema", Problem: fmt.Sprintf("schema %s: want %q", got, Schema)}
	}
	return nil
}

func kindOf(v any) string {
	switch v.(type) {
	case []any:
		return "array"
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "boolean"
	case nil:
		return "null"
	}
	return "object"
}

// finite checks every number in v (at pointer at) is finite as a float64:
// JSON has no limit, Go's figures have.
func finite(v any, at string) *Invalid {
	switch v := v.(type) {
	case json.Number:
		if f, err := strconv.ParseFloat(string(v), 64); err != nil && (math.IsInf(f, 0) || math.IsNaN(f)) {
			return &Invalid{Pointer: at, Problem: fmt.Sprintf("%s is beyond the range of a float64", v)}
		}
	case []any:
		for i, x := range v {
			if err := finite(x, at+"/"+strconv.Itoa(i)); err != nil {
				return err
			}
		}
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(v)) {
			if err := finite(v[k], at+schema.Pointer(k)); err != nil {
				return err
			}
		}
	}
	return nil
}

// scenarioAt is the name of the scenario pointer is in, if any.
func scenarioAt(doc any, pointer string) string {
	var i int
	if _, err := fmt.Sscanf(pointer, "/scenarios/%d", &i); err != nil {
		return ""
	}
	obj, _ := doc.(map[string]any)
	ss, _ := obj["scenarios"].([]any)
	if i < 0 || i >= len(ss) {
		return ""
	}
	s, _ := ss[i].(map[string]any)
	name, _ := s["name"].(string)
	return name
}
