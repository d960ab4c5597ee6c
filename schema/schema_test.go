package schema

import (
	"os"
	"strings"
	"testing"
)

// TestGoldenReportIsValid validates the JSON report golden file, which has
// a scenario of each status, open loop, notes and thresholds.
func TestGoldenReportIsValid(t *testing.T) {
	b, err := os.ReadFile("../pkg/report/testdata/report.json.golden")
	if err != nil {
		t.Fatal(err)
	}
	if err := ValidateReport(b); err != nil {
		t.Fatal(err)
	}
}

func TestInvalidReports(t *testing.T) {
	for _, bad := range []string{
		`{}`,
		`{"schema":"rustci-perf/report/v2"}`,
		strings.Replace(string(mustRead(t)), `"status": "passed"`, `"status": "fine"`, 1),
		strings.Replace(string(mustRead(t)), `"ops": 10000`, `"ops": -1`, 1),
	} {
		if err := ValidateReport([]byte(bad)); err == nil {
			t.Errorf("accepted: %.80s", bad)
		}
	}
}

func mustRead(t *testing.T) []byte {
	b, err := os.ReadFile("../pkg/report/testdata/report.json.golden")
	if err != nil {
		t.Fatal(err)
	}
	return b
}
