package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rustci/rustci-perf/internal/pgtest"
	"github.com/rustci/rustci-perf/pkg/report"
)

// history writes n reports to dir, one per commit from c(first), each a
// copy of one of compare's fixture reports (real runs') taken in turn from
// names, an hour apart, and returns their paths.
func historyFiles(t *testing.T, dir string, first, n int, names ...string) []string {
	t.Helper()
	var files []string
	for i := range n {
		name := names[i%len(names)]
		r, err := report.ReadFile(filepath.Join("..", "..", "pkg", "compare", "testdata", name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		at := time.Duration(first+i) * time.Hour
		r.StartedAt, r.FinishedAt = r.StartedAt.Add(at), r.FinishedAt.Add(at)
		for j := range r.Scenarios {
			if !r.Scenarios[j].MeasuredAt.IsZero() {
				r.Scenarios[j].MeasuredAt = r.Scenarios[j].MeasuredAt.Add(at)
			}
		}
		r.Provenance = &report.Provenance{Tool: report.Tool{Version: "v1.0.0"}, Commit: fmt.Sprintf("c%02d", first+i), Branch: "main"}
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("r%02d.json", first+i)))
		if err != nil {
			t.Fatal(err)
		}
		if err := report.JSON(f, r); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		files = append(files, f.Name())
	}
	return files
}

// trendJSON is what the test reads of trend --format json.
type trendJSON struct {
	Schema  string `json:"schema"`
	Verdict string `json:"verdict"`
	Series  []struct {
		Scenario string `json:"scenario"`
		Metric   string `json:"metric"`
		Status   string `json:"status"`
		Changes  []struct {
			RunID      int64  `json:"run_id"`
			Direction  string `json:"direction"`
			FromCommit string `json:"from_commit"`
			ToCommit   string `json:"to_commit"`
		} `json:"changes"`
	} `json:"series"`
}

// TestTrend: a history of real runs' reports with a regression from commit
// c10 on (10% less throughput, 30% more p99) alerts, naming the commits
// between which it happened; the same history before it does not; on a
// SQLite file and on PostgreSQL.
func TestTrend(t *testing.T) {
	stores := map[string]func(t *testing.T, dir string) string{
		"sqlite":   func(t *testing.T, dir string) string { return filepath.Join(dir, "perf.db") },
		"postgres": func(t *testing.T, _ string) string { return pgtest.Start(t).Database(t) },
	}
	for name, store := range stores {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			dsn := store(t, dir)
			env := []string{historyEnv + "=" + dsn}
			// Ten runs at one level (two reports of it in turn).
			clean := historyFiles(t, dir, 0, 10, "base", "nochange")
			if r := rustciPerfEnv(t, dir, env, append([]string{"history", "import"}, clean...)...); r.code != 0 {
				t.Fatalf("history import: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			}
			r := rustciPerfEnv(t, dir, env, "trend", "--branch", "main")
			if r.code != 0 || !strings.Contains(r.stdout, "NO REGRESSION") {
				t.Fatalf("trend over a clean history: exit %d; want 0\n%s%s", r.code, r.stdout, r.stderr)
			}

			// Six runs of the regression.
			if r := rustciPerfEnv(t, dir, env, append([]string{"history", "import"}, historyFiles(t, dir, 10, 6, "regression")...)...); r.code != 0 {
				t.Fatalf("history import: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			}
			r = rustciPerfEnv(t, dir, env, "trend", "--branch", "main", "--format", "json", "--output", "html=trend.html")
			if r.code != 1 {
				t.Fatalf("trend over a regression: exit %d; want 1\n%s%s", r.code, r.stdout, r.stderr)
			}
			if page, err := os.ReadFile(filepath.Join(dir, "trend.html")); err != nil || !strings.Contains(string(page), "<svg") {
				t.Errorf("--output html=trend.html: %v, %d bytes", err, len(page))
			}
			if r.stdout != "" {
				t.Errorf("stdout with --output given: %q; want nothing (the output has the trend)", r.stdout)
			}
			r = rustciPerfEnv(t, dir, env, "trend", "--branch", "main", "--format", "json")
			var got trendJSON
			if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
				t.Fatalf("trend --format json: %v\n%s", err, r.stdout)
			}
			if got.Verdict != "alert" || len(got.Series) != 2 {
				t.Fatalf("trend: verdict %q, %d series; want alert over p99 and throughput of cache-read", got.Verdict, len(got.Series))
			}
			for _, s := range got.Series {
				if s.Scenario != "cache-read" || s.Status != "alert" || len(s.Changes) != 1 ||
					s.Changes[0].Direction != "regression" || s.Changes[0].FromCommit != "c09" || s.Changes[0].ToCommit != "c10" {
					t.Errorf("series %+v; want one regression between c09 and c10, alerting", s)
				}
			}
			// Another branch has none of these runs.
			if r := rustciPerfEnv(t, dir, env, "trend", "--branch", "other"); r.code != 2 || !strings.Contains(r.stderr, "no runs") {
				t.Errorf("trend --branch other: exit %d, %q; want 2: no runs", r.code, r.stderr)
			}
		})
	}
}

func TestTrendUsageErrors(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "perf.db")
	if r := rustciPerf(t, dir, append([]string{"history", "import", "--history", db}, historyFiles(t, dir, 0, 2, "base")...)...); r.code != 0 {
		t.Fatalf("history import: exit %d\n%s", r.code, r.stderr)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"trend"}, "no history store"},
		{[]string{"trend", "--history", db, "--metric", "p99x"}, "--metric p99x: no scenario selected has it"},
		{[]string{"trend", "--history", db, "--metric", "p(101)"}, `--metric "p(101)"`},
		{[]string{"trend", "--history", db, "--metric", "admission_error"}, "--metric admission_error: no scenario selected has it"},
		{[]string{"trend", "--history", db, "--scenario", "nope"}, "--scenario nope: no run of it"},
		{[]string{"trend", "--history", db, "--format", "xml"}, `--format: unknown format "xml"`},
		{[]string{"trend", "--history", db, "--false-alarm", "1.5"}, "--false-alarm 1.5: want a probability from 0.001 to 0.5"},
		{[]string{"trend", "--history", db, "--false-alarm", "1e-8"}, "--false-alarm 1e-08: want a probability from 0.001 to 0.5"},
		{[]string{"trend", "--history", db, "--min-effect", "x"}, `--min-effect "x"`},
		{[]string{"trend", "--history", db, "--limit", "-1"}, "--limit -1"},
		{[]string{"trend", "--history", db, "--label", "x"}, `--label: "x": want key=value`},
		{[]string{"trend", "--history", db, "--output", "t.xml"}, "its extension calls for junit"},
	} {
		r := rustciPerf(t, dir, tt.args...)
		if r.code != 2 || !strings.Contains(r.stderr, tt.want) || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Errorf("%s: exit %d, stderr %q; want 2 and one line with %q", strings.Join(tt.args, " "), r.code, r.stderr, tt.want)
		}
	}
}

// TestTrendFigureOnce: one figure named several ways (p999, p(99.9),
// p99.9), or a --metric or --scenario given twice, is one series: trended
// twice it would alert twice and, counted twice by Bonferroni, halve
// every series' significance; and a flag repeated is not a usage error.
func TestTrendFigureOnce(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "perf.db")
	if r := rustciPerf(t, dir, append([]string{"history", "import", "--history", db}, historyFiles(t, dir, 0, 6, "base", "nochange")...)...); r.code != 0 {
		t.Fatalf("history import: exit %d\n%s", r.code, r.stderr)
	}
	r := rustciPerf(t, dir, "trend", "--history", db, "--format", "json", "--scenario", "cache-read", "--scenario", "cache-read",
		"--metric", "p999", "--metric", "p(99.9)", "--metric", "p99.9", "--metric", "throughput", "--metric", "throughput")
	if r.code != 0 {
		t.Fatalf("trend: exit %d; want 0\n%s", r.code, r.stderr)
	}
	var got trendJSON
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("trend --format json: %v\n%s", err, r.stdout)
	}
	var names []string
	for _, s := range got.Series {
		names = append(names, s.Scenario+" "+s.Metric)
	}
	if strings.Join(names, ", ") != "cache-read p99.9, cache-read throughput" {
		t.Errorf("series %q; want cache-read p99.9 and throughput, once each", names)
	}
}
