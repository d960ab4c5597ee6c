package main

import (
	"strings"
	"testing"
)

// A stream as govulncheck -format json writes it, cut down: the config,
// then findings at each level (a finding's first frame is where the
// vulnerable code is).
const (
	config       = `{"config":{"db":"file:///db","db_last_modified":"2026-11-05T23:49:57Z","go_version":"go1.26.8"}}`
	stdCalled    = `{"finding":{"osv":"GO-1","fixed_version":"v1.26.9","trace":[{"module":"stdlib","version":"v1.26.8","package":"net/http","function":"Do"},{"module":"github.com/rustci/rustci-perf"}]}}`
	stdImported  = `{"finding":{"osv":"GO-1","fixed_version":"v1.26.9","trace":[{"module":"stdlib","version":"v1.26.8","package":"net/http"}]}}`
	modRequired  = `{"finding":{"osv":"GO-2","fixed_version":"v1.20.2","trace":[{"module":"github.com/klauspost/compress","version":"v1.20.1"}]}}`
	modImported  = `{"finding":{"osv":"GO-3","fixed_version":"v2.0.1","trace":[{"module":"example.com/m","version":"v2.0.0","package":"example.com/m/p"}]}}`
	modCalledFix = `{"finding":{"osv":"GO-4","trace":[{"module":"example.com/n","version":"v1.0.0","package":"example.com/n","function":"F"}]}}`
)

func TestGate(t *testing.T) {
	tests := []struct {
		stream   []string
		fail     bool
		contains []string
	}{
		// the standard library's, called: fails, with the release that fixes it
		{[]string{config, stdImported, stdCalled}, true, []string{"TOOLCHAIN GO-1 called   stdlib@v1.26.8, fixed in v1.26.9", "1 in the standard library"}},
		// a module only required, its packages not linked: a note
		{[]string{config, modRequired}, false, []string{"note      GO-2 required github.com/klauspost/compress@v1.20.1, fixed in v1.20.2"}},
		// a module's package imported: fails
		{[]string{config, modRequired, modImported}, true, []string{"FAIL      GO-3 imported example.com/m@v2.0.0", "1 in modules the code calls or imports"}},
		// a module's function called, with no fix yet: fails, and says so
		{[]string{config, modCalledFix}, true, []string{"FAIL      GO-4 called   example.com/n@v1.0.0, fixed in no fix yet"}},
		// nothing found
		{[]string{config}, false, []string{"database file:///db (modified 2026-11-05T23:49:57Z)", "no vulnerability called or imported"}},
	}
	for i, tt := range tests {
		var out strings.Builder
		fail, err := gate(strings.NewReader(strings.Join(tt.stream, "\n")), &out)
		if err != nil || fail != tt.fail {
			t.Errorf("%d: gate = %t, %v; want %t, nil\n%s", i, fail, err, tt.fail, out.String())
		}
		for _, c := range tt.contains {
			if !strings.Contains(out.String(), c) {
				t.Errorf("%d: output lacks %q:\n%s", i, c, out.String())
			}
		}
	}
}

// TestGateRefusesOtherInput: not govulncheck's JSON (its text output, an
// empty stream) is an error, never a pass.
func TestGateRefusesOtherInput(t *testing.T) {
	for _, in := range []string{"", "Vulnerability #1: GO-1", `{"finding":{}}`} {
		if _, err := gate(strings.NewReader(in), &strings.Builder{}); err == nil {
			t.Errorf("gate(%q): no error", in)
		}
	}
}
