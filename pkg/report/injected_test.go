package report

import (
	"bytes"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/rustci/rustci-perf/schema"
	"golang.org/x/perf/benchfmt"
)

// TestInjectedInEveryFormat: a report of a run with faults injected says
// so at the top of every format, and reads back with them; a clean one
// says nothing of faults.
func TestInjectedInEveryFormat(t *testing.T) {
	r := fixture()
	r.Injected = []string{"l2:latency=2ms,error=0.01", "limiter:stall=2s@5s"}
	want := map[string][]string{
		"text":     {"FAULTS INJECTED, not a clean run: l2:latency=2ms,error=0.01; limiter:stall=2s@5s\n"},
		"markdown": {"> **Faults injected, not a clean run:** `l2:latency=2ms,error=0.01`, `limiter:stall=2s@5s`\n"},
		"junit": {`<property name="rustci-perf.injected" value="l2:latency=2ms,error=0.01"></property>`,
			`<property name="rustci-perf.injected" value="limiter:stall=2s@5s"></property>`,
			"<system-out>FAULTS INJECTED, not a clean run: l2:latency=2ms,error=0.01; limiter:stall=2s@5s&#xA;ops "},
		"html":    {`<p class="injected"><strong>Faults injected, not a clean run:</strong> <code>l2:latency=2ms,error=0.01</code>; <code>limiter:stall=2s@5s</code></p>`},
		"gobench": {"\ninjected: l2:latency=2ms,error=0.01 limiter:stall=2s@5s\n"},
		"csv":     {"\ncache-read,,ops,10000,,,\"l2:latency=2ms,error=0.01; limiter:stall=2s@5s\"\n"},
		"json":    {`"injected": [` + "\n" + `    "l2:latency=2ms,error=0.01",`},
	}
	for _, name := range Formats() {
		f, _ := Lookup(name)
		var b, clean bytes.Buffer
		if err := f(&b, r); err != nil {
			t.Fatal(err)
		}
		if err := f(&clean, fixture()); err != nil {
			t.Fatal(err)
		}
		if len(want[name]) == 0 {
			t.Errorf("format %s: no check of its faults line", name)
		}
		for _, w := range want[name] {
			if !strings.Contains(b.String(), w) {
				t.Errorf("format %s lacks %q:\n%s", name, w, b.String())
			}
		}
		if s := strings.ToLower(clean.String()); strings.Contains(s, "fault") || strings.Contains(s, "injected:") || strings.Contains(s, `"injected"`) {
			t.Errorf("format %s of a clean report speaks of faults:\n%s", name, clean.String())
		}
		switch name {
		case "json":
			if err := schema.ValidateReport(b.Bytes()); err != nil {
				t.Errorf("json with injected faults does not match the schema: %v", err)
			}
			got, err := ReadJSON(bytes.NewReader(b.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Injected, r.Injected) {
				t.Errorf("read back injected %q; want %q", got.Injected, r.Injected)
			}
		case "gobench":
			// benchstat reads the faults as a configuration key, and so
			// keeps results with other faults apart.
			rd := benchfmt.NewReader(bytes.NewReader(b.Bytes()), "report")
			found := false
			for rd.Scan() {
				if res, ok := rd.Result().(*benchfmt.Result); ok {
					found = found || res.GetConfig("injected") == "l2:latency=2ms,error=0.01 limiter:stall=2s@5s"
				}
			}
			if !found {
				t.Errorf("benchstat does not read the faults as a configuration key:\n%s", b.String())
			}
		case "junit":
			err := schema.ValidateJUnit(b.Bytes())
			if errors.Is(err, schema.ErrNoXmllint) && os.Getenv("RUSTCI_PERF_REQUIRE_TOOLS") != "1" {
				continue
			}
			if err != nil {
				t.Errorf("junit with injected faults: %v", err)
			}
		}
	}
}
