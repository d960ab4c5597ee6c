package schema

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
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

// TestCheckSaysWhere: Check's error is one line naming the first problem
// by location (ops before status, scenario 0 before 1), whatever order
// the validator found them in, with numbers as JSON writes them, and how
// many more there are.
func TestCheckSaysWhere(t *testing.T) {
	doc := mustRead(t)
	for _, r := range []struct{ old, new string }{
		{`"ops": 10000`, `"ops": -2000`},
		{`"errors": 10,`, `"errors": -3,`},
		{`"status": "passed"`, `"status": "fine"`},
	} {
		edited := strings.Replace(string(doc), r.old, r.new, 1)
		if edited == string(doc) {
			t.Fatalf("the golden report has no %s", r.old)
		}
		doc = []byte(edited)
	}
	for range 20 { // the validator's order varies from run to run
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
		if err != nil {
			t.Fatal(err)
		}
		err = Check(v)
		want := "/scenarios/0/ops: got -2000, want at least 0 (and 2 more problems)"
		if err == nil || err.Error() != want {
			t.Fatalf("Check = %v; want %q", err, want)
		}
	}
	v, _ := jsonschema.UnmarshalJSON(bytes.NewReader(mustRead(t)))
	if err := Check(v); err != nil {
		t.Errorf("Check(the golden report) = %v", err)
	}
}

func TestPointer(t *testing.T) {
	if got := Pointer("scenarios", "0", "counters", "a/b~c"); got != "/scenarios/0/counters/a~1b~0c" {
		t.Errorf("Pointer = %q", got)
	}
}
