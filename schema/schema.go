// Package schema holds the published schemas of rustci-perf's outputs (the
// JSON report's JSON Schema, the JUnit XML's XSD) and validators for tests.
package schema

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/santhosh-tekuri/jsonschema/v6"
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
