// Package schema holds the JSON Schema of rustci-perf's JSON report, for
// other tools to validate archives against, and a validator for the tests.
package schema

import (
	"bytes"
	_ "embed"
	"fmt"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// ReportV1 is schema/report-v1.schema.json.
//
//go:embed report-v1.schema.json
var ReportV1 []byte

// ValidateReport checks a JSON report against ReportV1.
func ValidateReport(data []byte) error { return validate(data, "") }

// ValidateComparison checks a comparison written alone (compare --format
// json) against ReportV1's definition of one.
func ValidateComparison(data []byte) error { return validate(data, "#/$defs/comparison") }

// validate checks data against the part of ReportV1 at fragment.
func validate(data []byte, fragment string) error {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(ReportV1))
	if err != nil {
		return fmt.Errorf("report schema: %w", err)
	}
	c := jsonschema.NewCompiler()
	const url = "report-v1.schema.json"
	if err := c.AddResource(url, doc); err != nil {
		return fmt.Errorf("report schema: %w", err)
	}
	sch, err := c.Compile(url + fragment)
	if err != nil {
		return fmt.Errorf("report schema: %w", err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return sch.Validate(v)
}
