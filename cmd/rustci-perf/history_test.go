package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rustci/rustci-perf/internal/pgtest"
	"github.com/rustci/rustci-perf/pkg/history"
	"github.com/rustci/rustci-perf/pkg/report"
)

// listRuns runs history list --format json with args and decodes it.
func listRuns(t *testing.T, dir string, env []string, args ...string) []history.RunSummary {
	t.Helper()
	r := rustciPerfEnv(t, dir, env, append([]string{"history", "list", "--format", "json"}, args...)...)
	if r.code != 0 {
		t.Fatalf("history list %s: exit %d\n%s", strings.Join(args, " "), r.code, r.stderr)
	}
	var runs []history.RunSummary
	if err := json.Unmarshal([]byte(r.stdout), &runs); err != nil {
		t.Fatalf("history list --format json: %v\n%s", err, r.stdout)
	}
	return runs
}

// TestHistory: run --history appends each run, passed or failed; list,
// show and import read and add to the store; the store comes from the
// flag, else the environment, else the config file.
func TestHistory(t *testing.T) {
	dir := t.TempDir()
	run := rustciPerf(t, dir, "run", "memory", "cache-read", "-q", "--ops", "300", "--config", noTiming(t), "--history", "perf.db", "--output", "json=r.json")
	if run.code != 0 {
		t.Fatalf("run --history: exit %d\n%s", run.code, run.stderr)
	}
	if !strings.Contains(run.stderr, "history perf.db: appended as run 1") {
		t.Errorf("run --history said %q; want the run appended as run 1", run.stderr)
	}
	// A failed run is data too.
	if r := rustciPerf(t, dir, "run", "memory", "-q", "--ops", "300", "--threshold", "memory:p99<1ns", "--history", "perf.db"); r.code != 1 {
		t.Fatalf("run with a threshold missed: exit %d; want 1\n%s", r.code, r.stderr)
	}
	runs := listRuns(t, dir, nil, "--history", "perf.db")
	if len(runs) != 2 || runs[0].ID != 2 || runs[0].Passed || runs[1].ID != 1 || !runs[1].Passed ||
		strings.Join(runs[1].Scenarios, ",") != "cache-read,memory" || runs[1].ToolVersion != "v0.0.0-test" {
		t.Fatalf("history list = %+v; want run 2 failed, then run 1 passed with memory and cache-read", runs)
	}
	// Filters.
	if got := listRuns(t, dir, nil, "--history", "perf.db", "--scenario", "cache-read"); len(got) != 1 || got[0].ID != 1 {
		t.Errorf("history list --scenario cache-read = %+v; want run 1", got)
	}
	if got := listRuns(t, dir, nil, "--history", "perf.db", "--limit", "1"); len(got) != 1 || got[0].ID != 2 {
		t.Errorf("history list --limit 1 = %+v; want run 2, the newest", got)
	}
	if got := listRuns(t, dir, nil, "--history", "perf.db", "--label", "runner=x"); len(got) != 0 {
		t.Errorf("history list --label runner=x = %+v; want none", got)
	}
	// The text table: one line per run, and a header.
	text := rustciPerf(t, dir, "history", "list", "--history", "perf.db")
	if lines := strings.Split(strings.TrimSpace(text.stdout), "\n"); text.code != 0 || len(lines) != 3 ||
		!strings.HasPrefix(lines[1], "2 ") || !strings.Contains(lines[1], "FAIL") || !strings.Contains(lines[2], "pass") || !strings.Contains(lines[2], "cache-read,memory") {
		t.Errorf("history list: exit %d\n%s", text.code, text.stdout)
	}
	// The report the run wrote is the one kept: importing it adds
	// nothing.
	imp := rustciPerf(t, dir, "history", "import", "r.json", "--history", "perf.db")
	if imp.code != 0 || imp.stdout != "r.json: already present as run 1\n" {
		t.Errorf("history import r.json: exit %d, %q; want it already present as run 1\n%s", imp.code, imp.stdout, imp.stderr)
	}
	// show re-renders it in any format: in JSON, byte for byte what the
	// run wrote.
	want, err := os.ReadFile(filepath.Join(dir, "r.json"))
	if err != nil {
		t.Fatal(err)
	}
	if show := rustciPerf(t, dir, "history", "show", "1", "--format", "json", "--history", "perf.db"); show.code != 0 || show.stdout != string(want) {
		t.Errorf("history show 1 --format json: exit %d; differs from the run's own JSON report\n%s", show.code, show.stderr)
	}
	if show := rustciPerf(t, dir, "history", "show", "latest", "--format", "markdown", "--history", "perf.db"); show.code != 0 || !strings.Contains(show.stdout, "memory") {
		t.Errorf("history show latest --format markdown: exit %d\n%s%s", show.code, show.stdout, show.stderr)
	}
	// The store from the environment, then from a config file; the flag
	// beats both.
	env := []string{historyEnv + "=perf.db"}
	if got := listRuns(t, dir, env); len(got) != 2 {
		t.Errorf("history list with $%s: %d runs; want 2", historyEnv, len(got))
	}
	if err := os.WriteFile(filepath.Join(dir, "h.yaml"), []byte("history: perf.db\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := listRuns(t, dir, nil, "--config", "h.yaml"); len(got) != 2 {
		t.Errorf("history list --config (history: perf.db): %d runs; want 2", len(got))
	}
	other, err := history.Open(context.Background(), filepath.Join(dir, "other.db"))
	if err != nil {
		t.Fatal(err)
	}
	other.Close()
	if got := listRuns(t, dir, env, "--history", "other.db"); len(got) != 0 {
		t.Errorf("history list --history other.db beside $%s: %d runs; want the flag's store, empty", historyEnv, len(got))
	}
	// A fresh file imports what the run wrote.
	if imp := rustciPerf(t, dir, "history", "import", "r.json", "--history", "fresh.db"); imp.code != 0 || imp.stdout != "r.json: added as run 1\n" {
		t.Errorf("history import r.json into a new store: exit %d, %q\n%s", imp.code, imp.stdout, imp.stderr)
	}
}

// TestHistoryUsageErrors: a store that cannot be opened, a run or file
// that is not one, and bad flags are exit 2, before anything runs or is
// imported.
func TestHistoryUsageErrors(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bad.json"), []byte(`{"schema": "rustci-perf/report/v1"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	good, err := filepath.Abs("../../pkg/compare/testdata/base.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"perf.db", "empty.db"} { // stores, empty
		st, err := history.Open(context.Background(), filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		st.Close()
	}
	for _, tt := range []struct {
		args []string
		says string
	}{
		// a directory that does not exist: nothing runs, no output written
		{[]string{"run", "memory", "-q", "--ops", "100", "--history", "no/such/dir/perf.db", "--output", "json=r.json"}, "--history: history no/such/dir/perf.db: open:"},
		// a server that does not answer
		{[]string{"run", "memory", "-q", "--ops", "100", "--history", "postgres://127.0.0.1:1/perf?connect_timeout=2", "--output", "json=r.json"}, "--history: history postgres://127.0.0.1:1/perf?connect_timeout=2: open:"},
		{[]string{"history", "list"}, "no history store"},
		{[]string{"history", "list", "--history", "perf.db", "--format", "xml"}, `--format "xml": want text or json`},
		{[]string{"history", "list", "--history", "perf.db", "--label", "no-equals"}, `--label: "no-equals": want key=value`},
		{[]string{"history", "list", "--history", "perf.db", "--label", "a=1", "--label", "a=2"}, "label a given twice"},
		{[]string{"history", "show", "7", "--history", "perf.db"}, "run 7: no such run"},
		{[]string{"history", "show", "seven", "--history", "perf.db"}, `run "seven": want a run's id`},
		{[]string{"history", "show", "latest", "--history", "empty.db"}, "holds no run"},
		// a store that does not exist (a mistyped path) is named, and
		// the readers do not create it
		{[]string{"history", "list", "--history", "typo.db"}, "history typo.db: open: no such file"},
		{[]string{"history", "show", "latest", "--history", "typo.db"}, "history typo.db: open: no such file"},
		{[]string{"trend", "--history", "typo.db"}, "history typo.db: open: no such file"},
		// a file that is not a report: named, and nothing imported
		{[]string{"history", "import", good, "bad.json", "--history", "perf.db"}, "import: bad.json:"},
	} {
		r := rustciPerf(t, dir, tt.args...)
		if r.code != 2 || !strings.Contains(r.stderr, tt.says) || strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
			t.Errorf("%s: exit %d, stderr %q; want 2, one line saying %q", strings.Join(tt.args, " "), r.code, r.stderr, tt.says)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "r.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("r.json: %v; want no report written by a run refused", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "typo.db")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("typo.db: %v; want no store created by list, show or trend", err)
	}
	if got := listRuns(t, dir, nil, "--history", "perf.db"); len(got) != 0 {
		t.Errorf("%d runs after an import with a bad file; want none imported", len(got))
	}
}

// TestHistoryWriteFails: a store that opens but refuses the run after it
// is exit 4 with one line naming it, and the other outputs are written.
func TestHistoryWriteFails(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "perf.db")
	st, err := history.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	// A trigger that refuses every run: the store opens and is up to
	// date, and fails the write, after the run.
	db := openSQLite(t, path)
	if _, err := db.Exec("CREATE TRIGGER refuse BEFORE INSERT ON runs BEGIN SELECT RAISE(ABORT, 'the store refuses'); END"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	r := rustciPerf(t, dir, "run", "memory", "-q", "--ops", "200", "--config", noTiming(t), "--history", path, "--output", "json=r.json")
	if r.code != 4 || !strings.Contains(r.stderr, "the store refuses") || strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
		t.Errorf("run --history into a store that refuses: exit %d, stderr %q; want 4, one line", r.code, r.stderr)
	}
	readReportFile(t, filepath.Join(dir, "r.json"))
	if imp := rustciPerf(t, dir, "history", "import", "r.json", "--history", path); imp.code != 4 || !strings.Contains(imp.stderr, "import r.json:") {
		t.Errorf("history import into a store that refuses: exit %d, stderr %q; want 4 naming the file", imp.code, imp.stderr)
	}
}

// TestHistoryPostgres: run --history with a PostgreSQL URL holding a user
// name and a password appends there; list reads it; the credentials are in
// no output, error or report.
func TestHistoryPostgres(t *testing.T) {
	srv := pgtest.Start(t)
	url := strings.Replace(srv.Database(t), "postgres://postgres@", "postgres://postgres:S3cr3tPW@", 1)
	dir := t.TempDir()
	run := rustciPerf(t, dir, "run", "memory", "-q", "--ops", "200", "--config", noTiming(t), "--history", url, "--output", "json=r.json", "--output", "markdown=r.md")
	if run.code != 0 || !strings.Contains(run.stderr, "appended as run 1") {
		t.Fatalf("run --history %s: exit %d\n%s", history.Redact(url), run.code, run.stderr)
	}
	runs := listRuns(t, dir, []string{historyEnv + "=" + url})
	if len(runs) != 1 {
		t.Fatalf("history list: %d runs; want 1", len(runs))
	}
	show := rustciPerfEnv(t, dir, []string{historyEnv + "=" + url}, "history", "show", "latest")
	if show.code != 0 {
		t.Errorf("history show latest: exit %d\n%s", show.code, show.stderr)
	}
	// The credentials on an error: a database that does not exist.
	bad := strings.Replace(url, "/test", "/nosuchdb", 1)
	fail := rustciPerf(t, dir, "history", "list", "--history", bad)
	if fail.code != 2 || !strings.Contains(fail.stderr, "postgres://xxxxx:xxxxx@") {
		t.Errorf("history list on a missing database: exit %d, %q; want 2, the URL masked", fail.code, fail.stderr)
	}
	for _, r := range []result{run, show, fail} {
		if sec, where := shownSecret(t, r, dir, "S3cr3tPW"); sec != "" {
			t.Errorf("the password is in %s", where)
		}
	}
}

// openSQLite opens the SQLite file at path directly, to tamper with it.
func openSQLite(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// TestInterruptedRunNotAppended: an interrupted run is not appended, and
// stderr says so.
func TestInterruptedRunNotAppended(t *testing.T) {
	ctx := context.Background()
	st, err := history.Open(ctx, filepath.Join(t.TempDir(), "perf.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rep, err := report.ReadFile("../../pkg/compare/testdata/base.json")
	if err != nil {
		t.Fatal(err)
	}
	rep.Interrupted, rep.Passed = true, false
	var stderr strings.Builder
	if failed := appendRun(ctx, st, rep, &stderr); failed != nil {
		t.Fatal(failed)
	}
	if runs, err := st.Runs(ctx, history.ListQuery{}); err != nil || len(runs) != 0 || !strings.Contains(stderr.String(), "interrupted: not appended") {
		t.Errorf("an interrupted run: %d runs (%v), stderr %q; want none appended, and said so", len(runs), err, stderr.String())
	}
}

// TestRunHistoryImportDirect calls the import and list commands' functions
// without cobra.
func TestRunHistoryImportDirect(t *testing.T) {
	h := &historyOptions{store: filepath.Join(t.TempDir(), "perf.db"), origin: "--history"}
	var stdout strings.Builder
	files := []string{"../../pkg/compare/testdata/base.json", "../../pkg/compare/testdata/mixed-base.json", "../../pkg/compare/testdata/base.json"}
	if err := runHistoryImport(context.Background(), &historyImportOptions{historyOptions: h, files: files}, &stdout); err != nil {
		t.Fatal(err)
	}
	want := files[0] + ": added as run 1\n" + files[1] + ": added as run 2\n" + files[2] + ": already present as run 1\n"
	if stdout.String() != want {
		t.Errorf("import said\n%s\nwant\n%s", stdout.String(), want)
	}
	stdout.Reset()
	o := &historyListOptions{historyOptions: h, format: "text", query: history.ListQuery{Scenario: "latency"}}
	if err := runHistoryList(context.Background(), o, &stdout); err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(stdout.String()), "\n"); len(lines) != 2 || !strings.HasPrefix(lines[1], "2 ") {
		t.Errorf("list --scenario latency:\n%s\nwant run 2 alone", stdout.String())
	}
}
