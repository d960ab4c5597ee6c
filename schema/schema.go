// Package schema holds the published schemas of rustci-perf's outputs (the
// JSON report's JSON Schema, the JUnit XML's XSD) and their validators.
//
// The report's schema is compiled once, the first time it is needed, with
// formats (date-time) asserted. Check is what report.ReadJSON runs on every
// report it reads back (compare, merge, run --baseline), and it says where
// the first problem is in one line; ValidateReport and ValidateComparison,
// for tests, return the validator's whole error tree.
package schema

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// ReportV1 is schema/report-v1.schema.json.
//
//go:embed report-v1.schema.json
var ReportV1 []byte

//go:embed junit.xsd
var JUnitXSD []byte

// ErrNoXmllint is returned by ValidateJUnit when xmllint is not installed.
var ErrNoXmllint = errors.New("xmllint is not installed (on Debian: apt-get install libxml2-utils)")

// ValidateJUnit checks JUnit XML against JUnitXSD with xmllint (from
// libxml2), the validator CI uses.
func ValidateJUnit(data []byte) error {
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		return ErrNoXmllint
	}
	dir, err := os.MkdirTemp("", "junit-xsd-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	xsd, doc := filepath.Join(dir, "junit.xsd"), filepath.Join(dir, "junit.xml")
	if err := os.WriteFile(xsd, JUnitXSD, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(doc, data, 0o644); err != nil {
		return err
	}
	out, err := exec.Command(xmllint, "--noout", "--nonet", "--schema", xsd, doc).CombinedOutput()
	if err != nil {
		return fmt.Errorf("junit xml does not validate: %s", bytes.TrimSpace(out))
	}
	return nil
}

// ValidateReport checks a JSON report against ReportV1.
func ValidateReport(data []byte) error { return validate(data, reportURL) }

// ValidateComparison checks a comparison written alone (compare --format
// json) against ReportV1's definition of one.
func ValidateComparison(data []byte) error {
	return validate(data, reportURL+"#/$defs/comparison")
}

const reportURL = "report-v1.schema.json"

// compiled are ReportV1 and its comparison, compiled once.
var compiled = sync.OnceValues(func() (map[string]*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(ReportV1))
	if err != nil {
		return nil, fmt.Errorf("report schema: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(reportURL, doc); err != nil {
		return nil, fmt.Errorf("report schema: %w", err)
	}
	out := map[string]*jsonschema.Schema{}
	for _, loc := range []string{reportURL, reportURL + "#/$defs/comparison"} {
		sch, err := c.Compile(loc)
		if err != nil {
			return nil, fmt.Errorf("report schema: %w", err)
		}
		out[loc] = sch
	}
	return out, nil
})

// validate checks data against the compiled schema at loc.
func validate(data []byte, loc string) error {
	schemas, err := compiled()
	if err != nil {
		return err
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return schemas[loc].Validate(v)
}

// Problem is where a JSON value breaks the schema, and how.
type Problem struct {
	// Pointer is the JSON pointer (RFC 6901) of the offending value, ""
	// for the whole document.
	Pointer string
	// Message says what is wrong with it ("must be >= 0 but found -5").
	Message string
	// More counts the other problems found.
	More int
}

func (p *Problem) Error() string {
	if p.Pointer == "" {
		return p.Detail()
	}
	return p.Pointer + ": " + p.Detail()
}

// Detail is the message, and how many other problems were found.
func (p *Problem) Detail() string {
	if p.More > 0 {
		return fmt.Sprintf("%s (and %d more %s)", p.Message, p.More, plural(p.More, "problem", "problems"))
	}
	return p.Message
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Check checks a report, as jsonschema.UnmarshalJSON decodes one (numbers
// as json.Number), against ReportV1. Its error is a *Problem: the first
// problem by location (array items by index, keys alphabetically, then by
// message), which is the same whatever order the validator found them in.
func Check(doc any) error {
	schemas, err := compiled()
	if err != nil {
		return err
	}
	err = schemas[reportURL].Validate(doc)
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	var leaves []*jsonschema.ValidationError
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			leaves = append(leaves, e)
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	slices.SortFunc(leaves, func(a, b *jsonschema.ValidationError) int {
		if c := comparePointers(a.InstanceLocation, b.InstanceLocation); c != 0 {
			return c
		}
		return strings.Compare(describe(a.ErrorKind), describe(b.ErrorKind))
	})
	first := leaves[0]
	return &Problem{Pointer: Pointer(first.InstanceLocation...), Message: describe(first.ErrorKind), More: len(leaves) - 1}
}

// describe words what k found wrong: bounds with numbers as JSON writes
// them (the validator's English groups digits, -2,000), the rest as the
// validator does.
func describe(k jsonschema.ErrorKind) string {
	bound := func(got, want *big.Rat, how string) string {
		return fmt.Sprintf("got %s, want %s %s", number(got), how, number(want))
	}
	switch k := k.(type) {
	case *kind.Minimum:
		return bound(k.Got, k.Want, "at least")
	case *kind.Maximum:
		return bound(k.Got, k.Want, "at most")
	case *kind.ExclusiveMinimum:
		return bound(k.Got, k.Want, "more than")
	case *kind.ExclusiveMaximum:
		return bound(k.Got, k.Want, "less than")
	}
	return k.LocalizedString(printer)
}

func number(r *big.Rat) string {
	if r.IsInt() {
		return r.RatString()
	}
	f, _ := r.Float64()
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// printer words the validator's other messages in English.
var printer = message.NewPrinter(language.English)

// comparePointers orders JSON pointers token by token, array indexes by
// number.
func comparePointers(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] == b[i] {
			continue
		}
		ai, errA := strconv.Atoi(a[i])
		bi, errB := strconv.Atoi(b[i])
		if errA == nil && errB == nil {
			return ai - bi
		}
		return strings.Compare(a[i], b[i])
	}
	return len(a) - len(b)
}

// Pointer is the JSON pointer (RFC 6901) of the path tokens: "~" and "/"
// in a token escaped.
func Pointer(tokens ...string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		b.WriteString(strings.NewReplacer("~", "~0", "/", "~1").Replace(t))
	}
	return b.String()
}
