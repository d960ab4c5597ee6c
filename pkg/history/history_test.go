package history

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rustci/rustci-perf/internal/pgtest"
	"github.com/rustci/rustci-perf/pkg/latency"
	"github.com/rustci/rustci-perf/pkg/merge"
	"github.com/rustci/rustci-perf/pkg/report"
	"github.com/rustci/rustci-perf/pkg/threshold"
)

// fixture reads one of compare's fixture reports (real runs' reports),
// with provenance: commit, branch, labels.
func fixture(t *testing.T, name, commit, branch string, labels map[string]string) *report.Report {
	t.Helper()
	r, err := report.ReadFile(filepath.Join("..", "compare", "testdata", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	r.Provenance = &report.Provenance{Tool: report.Tool{Version: "v1.2.3", Revision: "abc"}, Commit: commit, Branch: branch, Labels: labels,
		CI: &report.CI{Provider: "github-actions", RunID: "42", Job: "perf"}}
	return r
}

// shifted moves r, and every time in it, by d: another run of the same
// figures.
func shifted(r *report.Report, d time.Duration) *report.Report {
	c := *r
	c.StartedAt, c.FinishedAt = r.StartedAt.Add(d), r.FinishedAt.Add(d)
	c.Scenarios = slices.Clone(r.Scenarios)
	for i := range c.Scenarios {
		if !c.Scenarios[i].MeasuredAt.IsZero() {
			c.Scenarios[i].MeasuredAt = c.Scenarios[i].MeasuredAt.Add(d)
		}
	}
	return &c
}

func jsonOf(t *testing.T, r *report.Report) string {
	t.Helper()
	var b bytes.Buffer
	if err := report.JSON(&b, r); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func open(t *testing.T, dsn string) *Store {
	t.Helper()
	s, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func mustAppend(t *testing.T, s *Store, r *report.Report) int64 {
	t.Helper()
	id, added, err := s.Append(context.Background(), r)
	if err != nil || !added {
		t.Fatalf("Append = (%d, %t, %v); want added", id, added, err)
	}
	return id
}

// TestStore runs every behaviour of a store on SQLite and on PostgreSQL.
func TestStore(t *testing.T) {
	// One PostgreSQL server for every subtest, started by the first and
	// stopped at the end of this test.
	var srv *pgtest.Server
	for _, b := range []struct {
		name string
		dsn  func(t *testing.T) string
	}{
		{"sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "perf.db") }},
		{"postgres", func(st *testing.T) string {
			if srv == nil {
				srv = pgtest.Start(t)
			}
			return srv.Database(st)
		}},
	} {
		t.Run(b.name, func(t *testing.T) {
			for _, tc := range []struct {
				name string
				test func(t *testing.T, dsn string)
			}{
				{"migrations", testMigrations},
				{"round trip", testRoundTrip},
				{"figures", testFigures},
				{"series", testSeries},
				{"runs", testRuns},
				{"two processes", testTwoProcesses},
			} {
				t.Run(tc.name, func(t *testing.T) { tc.test(t, b.dsn(t)) })
			}
		})
	}
}

// testMigrations: an empty store is migrated to the latest version, once;
// opening it again changes nothing; a store of a later version is refused.
func testMigrations(t *testing.T, dsn string) {
	ctx := context.Background()
	s := open(t, dsn)
	v, err := s.Version(ctx)
	if err != nil || v != SchemaVersion() || v < 1 {
		t.Fatalf("Version() = (%d, %v); want %d", v, err, SchemaVersion())
	}
	id := mustAppend(t, s, fixture(t, "base", "c1", "main", nil))
	s.Close()
	s = open(t, dsn)
	var rows int
	if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM schema_version").Scan(&rows); err != nil || rows != SchemaVersion() {
		t.Fatalf("schema_version rows after a reopen = (%d, %v); want one per migration, %d", rows, err, SchemaVersion())
	}
	if _, err := s.Report(ctx, id); err != nil {
		t.Fatalf("the run appended before the reopen: %v", err)
	}
	if _, err := s.db.ExecContext(ctx, s.rebind("INSERT INTO schema_version (version, applied_at_ns) VALUES (?, 0)"), SchemaVersion()+1); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := Open(ctx, dsn); err == nil || !strings.Contains(err.Error(), "newer than this rustci-perf knows") {
		t.Fatalf("Open(a store of a later schema) = %v; want it refused as newer", err)
	}
}

// testRoundTrip: a report appended reads back equal; the same report
// again is not added, and says which run holds it.
func testRoundTrip(t *testing.T, dsn string) {
	ctx := context.Background()
	s := open(t, dsn)
	for _, name := range []string{"base", "mixed-base", "l2-error"} {
		r := fixture(t, name, "0123456789abcdef", "main", map[string]string{"runner": "a", "region": "eu"})
		id := mustAppend(t, s, r)
		back, err := s.Report(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := jsonOf(t, back), jsonOf(t, r); got != want {
			t.Errorf("%s: Report(%d) differs from the report appended:\n%s\nwant\n%s", name, id, got, want)
		}
		again, added, err := s.Append(ctx, r)
		if err != nil || added || again != id {
			t.Errorf("%s: Append(the same report) = (%d, %t, %v); want (%d, false, nil)", name, again, added, err, id)
		}
	}
	if _, err := s.Report(ctx, 999); err == nil || !strings.Contains(err.Error(), ErrNotFound.Error()) {
		t.Errorf("Report(999) = %v; want %v", err, ErrNotFound)
	}
}

// testFigures: every figure is stored under the name a threshold gives
// it, with the value the threshold would read.
func testFigures(t *testing.T, dsn string) {
	ctx := context.Background()
	s := open(t, dsn)
	for _, name := range []string{"base", "mixed-base"} {
		r := fixture(t, name, "c1", "main", nil)
		mustAppend(t, s, r)
		for _, sc := range r.Scenarios {
			f, err := merge.Figures(sc)
			if err != nil {
				t.Fatal(err)
			}
			src := f.Source()
			want := []string{"ops", "errors", "throughput", "duration", "min", "mean", "stdev", "max", "p50", "p90", "p95", "p99", "p99.9", "p99.99"}
			want = append(want, sortedKeys(sc.Metrics)...)
			want = append(want, sortedKeys(sc.Counters)...)
			for _, op := range sc.Operations {
				for _, m := range []string{"ops", "errors", "throughput", "min", "mean", "stdev", "max", "p50", "p99", "p99.9"} {
					want = append(want, op.Name+"."+m)
				}
			}
			keys, err := s.SeriesKeys(ctx, Query{Scenario: sc.Name})
			if err != nil {
				t.Fatal(err)
			}
			var have []string
			for _, k := range keys {
				have = append(have, k.Figure)
			}
			for _, w := range want {
				if !slices.Contains(have, w) {
					t.Errorf("%s: figure %s not stored (stored: %s)", sc.Name, w, strings.Join(have, ", "))
					continue
				}
				m, err := threshold.ParseMetric(w)
				if err != nil {
					t.Fatal(err)
				}
				wantV, _ := src(m)
				pts, err := s.Series(ctx, Query{Scenario: sc.Name, Figure: w})
				if err != nil || len(pts) != 1 || pts[0].Value != wantV {
					t.Errorf("%s: Series(%s) = (%v, %v); want one point of %g", sc.Name, w, pts, err, wantV)
				}
			}
		}
	}
	// One name everywhere: p999 and p(99.9) are p99.9; a percentile not
	// stored is computed from the histogram.
	sc := fixture(t, "base", "", "", nil).Scenarios[0]
	h, err := latency.Decode(sc.Histogram)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		figure string
		want   float64
	}{
		{"p999", float64(h.Percentile(99.9))},
		{"p(99.9)", float64(h.Percentile(99.9))},
		{"p(99.95)", float64(h.Percentile(99.95))}, // not stored: from the histogram
		{"p75", float64(h.Percentile(75))},
		{"throughput", sc.ThroughputOpsPerSec},
		{"hit_rate", sc.Metrics["hit_rate"]},
		{"hits", float64(sc.Counters["hits"])},
	} {
		pts, err := s.Series(ctx, Query{Scenario: sc.Name, Figure: tt.figure})
		if err != nil || len(pts) != 1 || pts[0].Value != tt.want {
			t.Errorf("Series(%s) = (%v, %v); want one point of %g", tt.figure, pts, err, tt.want)
		}
	}
	mixed := fixture(t, "mixed-base", "", "", nil).Scenarios[0]
	rh, err := latency.Decode(mixed.Operations[0].Histogram)
	if err != nil {
		t.Fatal(err)
	}
	kind := mixed.Operations[0].Name
	if pts, err := s.Series(ctx, Query{Scenario: mixed.Name, Figure: kind + ".p(99.95)"}); err != nil || len(pts) != 1 || pts[0].Value != float64(rh.Percentile(99.95)) {
		t.Errorf("Series(%s.p(99.95)) = (%v, %v); want %d, from the kind's histogram", kind, pts, err, rh.Percentile(99.95))
	}
	if _, err := s.Series(ctx, Query{Scenario: sc.Name, Figure: "p99<1ms"}); err == nil {
		t.Error("Series(a threshold, not a figure) did not fail")
	}
}

// testSeries: a series is oldest first, the last Limit points, and leaves
// out interrupted runs, scenarios that did not run to a verdict, and
// (unless asked) runs with faults injected; branch and labels filter it.
func testSeries(t *testing.T, dsn string) {
	ctx := context.Background()
	s := open(t, dsn)
	base := fixture(t, "base", "c0", "main", map[string]string{"runner": "a"})
	var ids []int64
	for i := range 4 {
		r := shifted(base, time.Duration(i)*time.Hour)
		r.Provenance = &report.Provenance{Tool: base.Provenance.Tool, Commit: "c" + strconv.Itoa(i), Branch: "main", Labels: map[string]string{"runner": []string{"a", "b"}[i%2]}}
		ids = append(ids, mustAppend(t, s, r))
	}
	// Appended out of order: a run's time, not its id, orders the series.
	early := shifted(base, -time.Hour)
	early.Provenance = &report.Provenance{Tool: base.Provenance.Tool, Commit: "early", Branch: "feature"}
	earlyID := mustAppend(t, s, early)
	interrupted := shifted(base, 5*time.Hour)
	interrupted.Interrupted, interrupted.Passed = true, false
	mustAppend(t, s, interrupted)
	injected := shifted(base, 6*time.Hour)
	injected.Injected = []string{"l1:latency=1ms"}
	injectedID := mustAppend(t, s, injected)
	// A scenario that did not run to a verdict is no point of its series.
	mustAppend(t, s, fixture(t, "l2-error", "", "main", nil))
	mustAppend(t, s, shifted(fixture(t, "l2-skipped", "", "main", nil), time.Minute))
	failed := mustAppend(t, s, shifted(fixture(t, "l2-failed", "", "main", nil), 2*time.Minute))

	idsOf := func(pts []Point) []int64 {
		var out []int64
		for _, p := range pts {
			out = append(out, p.RunID)
		}
		return out
	}
	for _, tt := range []struct {
		name string
		q    Query
		want []int64
	}{
		// every clean run, oldest first
		{"all", Query{}, []int64{earlyID, ids[0], ids[1], ids[2], ids[3]}},
		// the last two
		{"limit", Query{Limit: 2}, []int64{ids[2], ids[3]}},
		{"branch", Query{Branch: "main"}, ids},
		{"label", Query{Labels: map[string]string{"runner": "b"}}, []int64{ids[1], ids[3]}},
		{"label and branch", Query{Branch: "feature", Labels: map[string]string{"runner": "b"}}, nil},
		// faults injected when asked for
		{"injected", Query{Injected: true, Limit: 1}, []int64{injectedID}},
	} {
		q := tt.q
		q.Scenario, q.Figure = "cache-read", "p99"
		pts, err := s.Series(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if got := idsOf(pts); !slices.Equal(got, tt.want) {
			t.Errorf("%s: Series(%+v) runs = %v; want %v", tt.name, q, got, tt.want)
		}
		for i := 1; i < len(pts); i++ {
			if pts[i].At.Before(pts[i-1].At) {
				t.Errorf("%s: points not oldest first: %v", tt.name, pts)
			}
		}
	}
	pts, err := s.Series(ctx, Query{Scenario: "cache-read", Figure: "p99", Limit: 1})
	if err != nil || len(pts) != 1 || pts[0].Commit != "c3" || pts[0].Branch != "main" || !pts[0].At.Equal(base.StartedAt.Add(3*time.Hour)) || pts[0].Injected {
		t.Errorf("last point = %+v, %v; want run c3 on main at %s", pts, err, base.StartedAt.Add(3*time.Hour))
	}
	if pts, err := s.Series(ctx, Query{Scenario: "cache-l2", Figure: "errors"}); err != nil || !slices.Equal(idsOf(pts), []int64{failed}) {
		t.Errorf("Series(cache-l2 errors) = %v, %v; want the failed run's only, %d (error and skipped left out)", idsOf(pts), err, failed)
	}
	if _, err := s.Series(ctx, Query{Figure: "p99"}); err == nil {
		t.Error("Series with no scenario did not fail")
	}
	keys, err := s.SeriesKeys(ctx, Query{Figure: "p999"})
	// cache-l2's only verdict failed every operation: it has no latency.
	if err != nil || !slices.Equal(keys, []SeriesKey{{"cache-read", "p99.9"}}) {
		t.Errorf("SeriesKeys(p999) = %v, %v; want cache-read's p99.9 alone", keys, err)
	}
	if keys, err := s.SeriesKeys(ctx, Query{Scenario: "cache-l2", Figure: "errors"}); err != nil || len(keys) != 1 {
		t.Errorf("SeriesKeys(cache-l2 errors) = %v, %v; want it", keys, err)
	}
}

// testRuns: runs are listed newest first, with what they are, filtered
// by branch, labels and scenario.
func testRuns(t *testing.T, dsn string) {
	ctx := context.Background()
	s := open(t, dsn)
	a := mustAppend(t, s, fixture(t, "base", "c1", "main", map[string]string{"runner": "a"}))
	mixed := fixture(t, "mixed-base", "c2", "feature", map[string]string{"runner": "b"})
	mixed.Injected = []string{"l1:error=0.01"}
	b := mustAppend(t, s, mixed)
	interrupted := shifted(fixture(t, "base", "c3", "main", nil), 48*time.Hour)
	interrupted.Interrupted, interrupted.Passed = true, false
	c := mustAppend(t, s, interrupted)
	all, err := s.Runs(ctx, ListQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	for _, r := range all {
		got = append(got, r.ID)
	}
	if !slices.Equal(got, []int64{c, b, a}) {
		t.Fatalf("Runs() = %v; want newest first: %v", got, []int64{c, b, a})
	}
	if r := all[1]; r.Commit != "c2" || r.Branch != "feature" || r.Labels["runner"] != "b" || !slices.Equal(r.Scenarios, []string{"latency"}) ||
		!slices.Equal(r.Injected, []string{"l1:error=0.01"}) || r.CI == nil || r.CI.RunID != "42" || r.ToolVersion != "v1.2.3" || !r.Passed {
		t.Errorf("Runs()[1] = %+v; want the mixed run's provenance", r)
	}
	if !all[0].Interrupted || all[0].Passed {
		t.Errorf("Runs()[0] = %+v; want interrupted, not passed", all[0])
	}
	for _, tt := range []struct {
		q    ListQuery
		want []int64
	}{
		{ListQuery{Branch: "main"}, []int64{c, a}},
		{ListQuery{Labels: map[string]string{"runner": "a"}}, []int64{a}},
		{ListQuery{Scenario: "latency"}, []int64{b}},
		{ListQuery{Limit: 1}, []int64{c}},
		{ListQuery{Branch: "nope"}, nil},
	} {
		rs, err := s.Runs(ctx, tt.q)
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for _, r := range rs {
			got = append(got, r.ID)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("Runs(%+v) = %v; want %v", tt.q, got, tt.want)
		}
	}
}

// helperEnv, set to a store, makes TestHelperAppend a writer process of
// testTwoProcesses; helperEnv_N says how many runs it appends, and
// helperEnv_NAME names it.
const helperEnv = "RUSTCI_PERF_HISTORY_HELPER"

// perProcess is how many runs each of the two processes appends.
const perProcess = 25

// testTwoProcesses: two processes open (and migrate) one new store at
// once, then each appends perProcess runs at once: every run is there,
// and neither process saw an error.
func testTwoProcesses(t *testing.T, dsn string) {
	var cmds []*exec.Cmd
	var outs []*bytes.Buffer
	for _, name := range []string{"a", "b"} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperAppend$", "-test.count=1")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		cmd.Env = append(os.Environ(), helperEnv+"="+dsn, helperEnv+"_N="+strconv.Itoa(perProcess), helperEnv+"_NAME="+name)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds, outs = append(cmds, cmd), append(outs, &out)
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("writer %d: %v\n%s", i, err, outs[i])
		}
	}
	s := open(t, dsn)
	runs, err := s.Runs(context.Background(), ListQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2*perProcess {
		t.Fatalf("%d runs stored; want %d", len(runs), 2*perProcess)
	}
	v, err := s.Version(context.Background())
	if err != nil || v != SchemaVersion() {
		t.Errorf("Version() = %d, %v; want %d", v, err, SchemaVersion())
	}
	var rows int
	if err := s.db.QueryRow("SELECT COUNT(*) FROM schema_version").Scan(&rows); err != nil || rows != SchemaVersion() {
		t.Errorf("schema_version rows = %d, %v; want each migration applied once", rows, err)
	}
}

// TestHelperAppend is a writer process of testTwoProcesses; it does
// nothing in a test run of its own.
func TestHelperAppend(t *testing.T) {
	dsn, name := os.Getenv(helperEnv), os.Getenv(helperEnv+"_NAME")
	if dsn == "" {
		t.Skip("a helper process of testTwoProcesses")
	}
	n, err := strconv.Atoi(os.Getenv(helperEnv + "_N"))
	if err != nil {
		t.Fatal(err)
	}
	s := open(t, dsn)
	base := fixture(t, "base", "c", "main", nil)
	for i := range n {
		r := shifted(base, time.Duration(i)*time.Second)
		r.Provenance = &report.Provenance{Tool: base.Provenance.Tool, Labels: map[string]string{"writer": name, "i": strconv.Itoa(i)}}
		if _, added, err := s.Append(context.Background(), r); err != nil || !added {
			t.Fatalf("writer %s, run %d: Append = (%t, %v)", name, i, added, err)
		}
	}
}

// TestCredentialsMasked: a PostgreSQL URL's user name and password are in
// no error of Open, and String masks them.
func TestCredentialsMasked(t *testing.T) {
	for _, dsn := range []string{
		"postgres://us3rname:S3cr3tPW@127.0.0.1:1/perf?sslmode=disable&connect_timeout=2",
		"postgresql://us3rname:S3cr3tPW@[::1:/perf",                                   // does not parse
		"postgres://127.0.0.1:1/perf?password=S3cr3tPW&user=us3rname&sslmode=disable", // in the query
	} {
		_, err := Open(context.Background(), dsn)
		if err == nil {
			t.Fatalf("Open(%s) succeeded; want nothing listening", Redact(dsn))
		}
		for _, secret := range []string{"S3cr3tPW", "us3rname"} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("Open's error shows %s: %v", secret, err)
			}
			if strings.Contains(Redact(dsn), secret) {
				t.Errorf("Redact(...) = %s; shows %s", Redact(dsn), secret)
			}
		}
	}
	if got := Redact("perf.db"); got != "perf.db" {
		t.Errorf("Redact(perf.db) = %s; want the path as it is", got)
	}
}

// TestOpenErrors: a path that cannot be a database is an error naming it.
func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	for _, dsn := range []string{
		filepath.Join(dir, "missing", "perf.db"), // no such directory
		dir,                                      // a directory
		"",
	} {
		if _, err := Open(context.Background(), dsn); err == nil {
			t.Errorf("Open(%q) succeeded; want an error", dsn)
		} else if dsn != "" && !strings.Contains(err.Error(), dsn) {
			t.Errorf("Open(%q) = %v; want the path named", dsn, err)
		}
	}
	// A path with a ? or # in it is a path.
	odd := filepath.Join(dir, "perf?x=1#y.db")
	s := open(t, odd)
	mustAppend(t, s, fixture(t, "base", "c", "main", nil))
	if _, err := os.Stat(odd); err != nil {
		t.Errorf("the store at %s: %v", odd, err)
	}
}

// TestOpenExisting: a reader's open of a SQLite file that does not exist
// is an error naming it, and creates nothing; of one that does, it opens.
func TestOpenExisting(t *testing.T) {
	path := filepath.Join(t.TempDir(), "typo.db")
	if _, err := OpenExisting(context.Background(), path); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), path) {
		t.Errorf("OpenExisting(%s) = %v; want an error naming it, wrapping fs.ErrNotExist", path, err)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("after OpenExisting(%s): %v; want no file created", path, err)
	}
	open(t, path).Close()
	s, err := OpenExisting(context.Background(), path)
	if err != nil {
		t.Fatalf("OpenExisting(%s) of a store: %v", path, err)
	}
	s.Close()
}

func TestMigrationFiles(t *testing.T) {
	for _, d := range []dialect{sqliteDialect, postgresDialect} {
		ms, err := migrations(d)
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) != SchemaVersion() {
			t.Errorf("%s: %d migrations; want one per version, as sqlite's: %d", d, len(ms), SchemaVersion())
		}
	}
}

func TestStoredPercentileNames(t *testing.T) {
	var names []string
	for _, m := range storedPercentiles {
		names = append(names, m.Name)
	}
	if want := []string{"p50", "p90", "p95", "p99", "p99.9", "p99.99"}; !slices.Equal(names, want) {
		t.Errorf("stored percentiles = %v; want %v", names, want)
	}
}
