package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rustci/rustci-perf/pkg/report"
)

// opsRun runs memory with env and args, and returns its measured
// operations from the JSON report.
func opsRun(t *testing.T, dir string, env []string, args ...string) int64 {
	t.Helper()
	r := rustciPerfEnv(t, dir, env, append([]string{"run", "memory", "-q", "--warmup", "0", "--format", "json"}, args...)...)
	rep, err := report.ReadJSON(strings.NewReader(r.stdout))
	if err != nil {
		t.Fatalf("%v %v: exit %d, stderr %q: %v", env, args, r.code, r.stderr, err)
	}
	return rep.Scenarios[0].Ops
}

// TestEnvPrecedence: a flag beats its variable, which beats the config
// file, which beats the defaults.
func TestEnvPrecedence(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "c.yaml"), []byte("scenarios:\n  memory:\n    ops: 130\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		env  []string
		args []string
		want int64
	}{
		// the config file beats the defaults
		{nil, []string{"--config", "c.yaml"}, 130},
		// the variable beats the config file
		{[]string{"RUSTCI_PERF_OPS=140"}, []string{"--config", "c.yaml"}, 140},
		// the flag beats the variable
		{[]string{"RUSTCI_PERF_OPS=140"}, []string{"--config", "c.yaml", "--ops", "150"}, 150},
		// the config file itself from its variable
		{[]string{"RUSTCI_PERF_CONFIG=c.yaml"}, nil, 130},
		// an empty variable is unset
		{[]string{"RUSTCI_PERF_OPS="}, []string{"--config", "c.yaml"}, 130},
	}
	for _, tt := range tests {
		if got := opsRun(t, dir, tt.env, tt.args...); got != tt.want {
			t.Errorf("%v %v: %d ops; want %d", tt.env, tt.args, got, tt.want)
		}
	}
}

// TestEnvErrors: a bad value in a variable is exit 2, on one line naming
// the variable, for every command.
func TestEnvErrors(t *testing.T) {
	base := compareFixture(t, "base.json")
	tests := []struct {
		env  string
		args []string
		want string
	}{
		{"RUSTCI_PERF_OPS=x", []string{"run", "memory"}, `rustci-perf: $RUSTCI_PERF_OPS "x": want a whole number`},
		{"RUSTCI_PERF_DURATION=5", []string{"run", "memory"}, `rustci-perf: $RUSTCI_PERF_DURATION "5": want a number with a unit, as in 500ms or 2s`},
		{"RUSTCI_PERF_QUIET=maybe", []string{"run", "memory"}, `rustci-perf: $RUSTCI_PERF_QUIET "maybe": want true or false`},
		{"RUSTCI_PERF_JUDGE=best", []string{"run", "memory"}, `rustci-perf: $RUSTCI_PERF_JUDGE "best": want median, worst or each`},
		// a range checked after parsing names the variable too
		{"RUSTCI_PERF_OPS=0", []string{"run", "memory"}, `rustci-perf: $RUSTCI_PERF_OPS 0: want at least 1`},
		// a flag that conflicts with another's variable names the variable
		{"RUSTCI_PERF_OPS=100", []string{"run", "memory", "--stages", "1s:100"}, `rustci-perf: --stages and $RUSTCI_PERF_OPS: the stages set`},
		{"RUSTCI_PERF_RATE=100", []string{"run", "memory", "--find-max-rate", "--slo", "p99<1s"}, `rustci-perf: --find-max-rate and $RUSTCI_PERF_RATE: the search`},
		{"RUSTCI_PERF_COUNT=3", []string{"run", "memory", "--find-max-rate", "--slo", "p99<1s"}, `rustci-perf: --find-max-rate and $RUSTCI_PERF_COUNT: a search`},
		{"RUSTCI_PERF_FIND_MAX_RATE=true", []string{"run", "memory", "--rate", "100"}, `rustci-perf: $RUSTCI_PERF_FIND_MAX_RATE and --rate: the search`},
		{"RUSTCI_PERF_COMPARE_FORMAT=junit", []string{"compare", base, base}, `rustci-perf: $RUSTCI_PERF_COMPARE_FORMAT "junit": want json, markdown, text`},
		{"RUSTCI_PERF_LIST_FORMAT=xml", []string{"list"}, `rustci-perf: $RUSTCI_PERF_LIST_FORMAT "xml": want text or json`},
		{"RUSTCI_PERF_LIMIT=-1", []string{"history", "list", "--history", "h.db"}, `rustci-perf: $RUSTCI_PERF_LIMIT -1: want 0 (all) or more`},
		{"RUSTCI_PERF_HISTORY=nowhere.db", []string{"history", "list"}, `rustci-perf: $RUSTCI_PERF_HISTORY: history nowhere.db: open: no such file`},
	}
	for _, tt := range tests {
		r := rustciPerfEnv(t, t.TempDir(), []string{tt.env}, tt.args...)
		if r.code != exitUsage || !strings.HasPrefix(r.stderr, tt.want) || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("%s %q: exit %d, stderr %q; want 2, one line beginning %q", tt.env, tt.args, r.code, r.stderr, tt.want)
		}
	}
}

// TestEnvRepeatable: a repeatable flag's variable takes one value a
// line; the flag given replaces them.
func TestEnvRepeatable(t *testing.T) {
	dir := t.TempDir()
	env := []string{"RUSTCI_PERF_THRESHOLD=memory:ops>=100\nmemory:p99<1h, 95%"}
	r := rustciPerfEnv(t, dir, env, "run", "memory", "-q", "--ops", "120", "--warmup", "0", "--config", noTiming(t))
	if r.code != exitUsage || !strings.Contains(r.stderr, "p99<1h, 95%") {
		// the second line is a bad threshold: proof both lines were read
		t.Errorf("exit %d, stderr %q; want 2 naming the second line's threshold", r.code, r.stderr)
	}
	env = []string{"RUSTCI_PERF_THRESHOLD=memory:ops>=100\nmemory:ops<=120\n"}
	r = rustciPerfEnv(t, dir, env, "run", "memory", "-q", "--ops", "120", "--warmup", "0", "--config", noTiming(t))
	if r.code != 0 || !strings.Contains(r.stdout, "ops>=100") || !strings.Contains(r.stdout, "ops<=120") {
		t.Errorf("exit %d, stderr %q; want both thresholds judged:\n%s", r.code, r.stderr, r.stdout)
	}
	r = rustciPerfEnv(t, dir, env, "run", "memory", "-q", "--ops", "120", "--warmup", "0", "--config", noTiming(t), "--threshold", "memory:ops==120")
	if r.code != 0 || strings.Contains(r.stdout, "ops>=100") || !strings.Contains(r.stdout, "ops==120") {
		t.Errorf("exit %d, stderr %q; want the flag's threshold alone:\n%s", r.code, r.stderr, r.stdout)
	}
}

func TestEnvName(t *testing.T) {
	for _, tt := range []struct{ command, flag, want string }{
		{"run", "ops", "RUSTCI_PERF_OPS"},
		{"run", "redis-url", "RUSTCI_PERF_REDIS_URL"},
		{"run", "profile-kinds", "RUSTCI_PERF_PROFILE_KINDS"},
		// What a command writes, and where, is its own.
		{"run", "format", "RUSTCI_PERF_RUN_FORMAT"},
		{"compare", "output", "RUSTCI_PERF_COMPARE_OUTPUT"},
		{"history list", "format", "RUSTCI_PERF_HISTORY_LIST_FORMAT"},
	} {
		if got := envName(tt.command, tt.flag); got != tt.want {
			t.Errorf("envName(%q, %q) = %q; want %q", tt.command, tt.flag, got, tt.want)
		}
	}
}

// TestEnvOutputIsTheCommands: an output exported for run is run's alone:
// compare, given the same environment, writes to stdout and leaves run's
// report as it was.
func TestEnvOutputIsTheCommands(t *testing.T) {
	dir := t.TempDir()
	env := []string{"RUSTCI_PERF_RUN_OUTPUT=report.json", "RUSTCI_PERF_RUN_FORMAT=json"}
	if r := rustciPerfEnv(t, dir, env, "run", "memory", "-q", "--ops", "100", "--config", noTiming(t)); r.code != 0 {
		t.Fatalf("run: exit %d\n%s", r.code, r.stderr)
	}
	before, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatalf("run did not write $RUSTCI_PERF_RUN_OUTPUT: %v", err)
	}
	r := rustciPerfEnv(t, dir, env, "compare", "report.json", "report.json")
	after, _ := os.ReadFile(filepath.Join(dir, "report.json"))
	if r.code != 0 || !strings.Contains(r.stdout, "memory") || string(after) != string(before) {
		t.Errorf("compare with run's variables: exit %d, stdout %q, report.json changed: %t; want the comparison on stdout, the report untouched", r.code, r.stdout, string(after) != string(before))
	}
}
