// Reading the history: series of a figure, the series there are, runs,
// and a run's report.

package history

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rustci/rustci-perf/pkg/canary"
	"github.com/rustci/rustci-perf/pkg/latency"
	"github.com/rustci/rustci-perf/pkg/report"
	"github.com/rustci/rustci-perf/pkg/threshold"
)

// ErrNotFound is the error of a run the store does not hold.
var ErrNotFound = errors.New("no such run")

// Query selects a series: one figure of one scenario across the runs that
// match. Figure is named as a threshold names it (p99, p999, p(99.9),
// read.p99, hit_rate); a percentile not among StoredPercentiles is
// computed from the stored histograms.
type Query struct {
	Scenario, Figure string
	// Branch, when set, keeps the runs of that branch only.
	Branch string
	// Labels keeps the runs that have every one of these labels, each
	// with the value given.
	Labels map[string]string
	// Limit keeps the last Limit points (0: all).
	Limit int
	// Injected keeps the runs with faults injected, which are left out
	// otherwise: their figures measure the faults.
	Injected bool
}

// Point is one run's value of a series' figure: in the figure's unit
// (nanoseconds for a latency, as in a threshold), never NaN.
type Point struct {
	RunID int64
	// At is when the run started.
	At             time.Time
	Commit, Branch string
	Value          float64
	// Injected says faults were injected into the run (only with
	// Query.Injected).
	Injected bool
	// Canary is how fast the machine was around the run, by the current
	// canary workload (report.Canary.Rate); 0 when the run has none, or
	// one of another workload.
	Canary float64
}

// SeriesKey names a series.
type SeriesKey struct {
	Scenario, Figure string
}

// Series returns q's figure of q's scenario in every run that matches,
// oldest first, the last q.Limit of them. Left out, as the package comment
// says: interrupted runs; a scenario whose status is not passed or failed
// (error, skipped, interrupted); a figure that cannot be computed; and
// unless q.Injected, runs with faults injected.
func (s *Store) Series(ctx context.Context, q Query) ([]Point, error) {
	if q.Scenario == "" {
		return nil, errors.New("history: series: want a scenario")
	}
	if q.Limit < 0 {
		return nil, fmt.Errorf("history: series: limit %d: want 0 (all) or more", q.Limit)
	}
	m, err := threshold.ParseMetric(q.Figure)
	if err != nil {
		return nil, fmt.Errorf("history: series: figure: %w", err)
	}
	where, args := s.filter(q.Branch, q.Labels, q.Injected)
	where = append(where, "s.name = ?", "s.status IN ('passed', 'failed')")
	args = append(args, q.Scenario)
	if m.Percentile > 0 && !slices.ContainsFunc(storedPercentiles, func(p threshold.Metric) bool { return p.Percentile == m.Percentile }) {
		pts, err := s.percentileSeries(ctx, m, where, args, q.Limit)
		return pts, s.wrap(err, "series")
	}
	where = append(where, "f.name = ?", "f.value IS NOT NULL")
	args = append(args, m.Name)
	query := `SELECT r.id, r.started_at_ns, r.commit_sha, r.branch, r.injected, r.canary_workload, r.canary_before, r.canary_after, f.value
		FROM runs r JOIN scenarios s ON s.run_id = r.id JOIN figures f ON f.scenario_id = s.id
		WHERE ` + strings.Join(where, " AND ") + ` ORDER BY r.started_at_ns DESC, r.id DESC`
	if q.Limit > 0 {
		query += fmt.Sprintf(" LIMIT %d", q.Limit)
	}
	rows, err := s.db.QueryContext(ctx, s.rebind(query), args...)
	if err != nil {
		return nil, s.wrap(err, "series")
	}
	defer rows.Close()
	var pts []Point
	for rows.Next() {
		var p Point
		var at int64
		var injected string
		var c canaryCols
		if err := rows.Scan(&p.RunID, &at, &p.Commit, &p.Branch, &injected, &c.workload, &c.before, &c.after, &p.Value); err != nil {
			return nil, s.wrap(err, "series")
		}
		p.At, p.Injected, p.Canary = time.Unix(0, at).UTC(), injected != "", c.rate()
		pts = append(pts, p)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap(err, "series")
	}
	slices.Reverse(pts)
	return pts, nil
}

// canaryCols are a run's canary columns as read.
type canaryCols struct {
	workload      string
	before, after sql.NullFloat64
}

// rate is the run's canary rate (report.Canary.Rate), 0 when the run has
// none, or one of a workload other than the current one, which does not
// compare with it.
func (c canaryCols) rate() float64 {
	if c.workload != canary.Workload {
		return 0
	}
	return (&report.Canary{Workload: c.workload, BeforeOpsPerSec: c.before.Float64, AfterOpsPerSec: c.after.Float64}).Rate()
}

// percentileSeries computes a percentile not stored from each run's
// histogram, the scenario's or its kind's.
func (s *Store) percentileSeries(ctx context.Context, m threshold.Metric, where []string, args []any, limit int) ([]Point, error) {
	hist, from := "s.histogram", ""
	if m.Kind != "" {
		hist, from = "k.histogram", " JOIN scenario_kinds k ON k.scenario_id = s.id"
		where = append(where, "k.kind = ?")
		args = append(args, m.Kind)
	}
	query := `SELECT r.id, r.started_at_ns, r.commit_sha, r.branch, r.injected, r.canary_workload, r.canary_before, r.canary_after, ` + hist + `
		FROM runs r JOIN scenarios s ON s.run_id = r.id` + from + `
		WHERE ` + strings.Join(where, " AND ") + ` ORDER BY r.started_at_ns DESC, r.id DESC`
	rows, err := s.db.QueryContext(ctx, s.rebind(query), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var pts []Point
	for rows.Next() && (limit == 0 || len(pts) < limit) {
		var p Point
		var at int64
		var injected, enc string
		var c canaryCols
		if err := rows.Scan(&p.RunID, &at, &p.Commit, &p.Branch, &injected, &c.workload, &c.before, &c.after, &enc); err != nil {
			return nil, err
		}
		if enc == "" {
			continue // no latency: n/a
		}
		h, err := latency.Decode(enc)
		if err != nil {
			return nil, fmt.Errorf("run %d: %w", p.RunID, err)
		}
		if h.Count() == 0 {
			continue
		}
		p.At, p.Injected, p.Canary = time.Unix(0, at).UTC(), injected != "", c.rate()
		p.Value = float64(h.Percentile(m.Percentile))
		pts = append(pts, p)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	slices.Reverse(pts)
	return pts, nil
}

// filter is the WHERE clause, over runs r, of the runs that are not
// interrupted, on branch (when set), with labels, and with faults
// injected only when injected is true.
func (s *Store) filter(branch string, labels map[string]string, injected bool) (where []string, args []any) {
	where = []string{"r.interrupted = 0"}
	if !injected {
		where = append(where, "r.injected = ''")
	}
	if branch != "" {
		where = append(where, "r.branch = ?")
		args = append(args, branch)
	}
	for _, k := range sortedKeys(labels) {
		where = append(where, "EXISTS (SELECT 1 FROM run_labels l WHERE l.run_id = r.id AND l.key = ? AND l.value = ?)")
		args = append(args, k, labels[k])
	}
	return where, args
}

// SeriesKeys returns the series Series would give points for under q's
// filter (its Scenario and Figure, when set, narrow it; Limit is not
// read), sorted by scenario then figure. Percentiles not stored are not
// listed, though Series computes them.
func (s *Store) SeriesKeys(ctx context.Context, q Query) ([]SeriesKey, error) {
	where, args := s.filter(q.Branch, q.Labels, q.Injected)
	where = append(where, "s.status IN ('passed', 'failed')", "f.value IS NOT NULL")
	if q.Scenario != "" {
		where = append(where, "s.name = ?")
		args = append(args, q.Scenario)
	}
	if q.Figure != "" {
		m, err := threshold.ParseMetric(q.Figure)
		if err != nil {
			return nil, fmt.Errorf("history: series keys: figure: %w", err)
		}
		where = append(where, "f.name = ?")
		args = append(args, m.Name)
	}
	rows, err := s.db.QueryContext(ctx, s.rebind(`SELECT DISTINCT s.name, f.name
		FROM runs r JOIN scenarios s ON s.run_id = r.id JOIN figures f ON f.scenario_id = s.id
		WHERE `+strings.Join(where, " AND ")+` ORDER BY s.name, f.name`), args...)
	if err != nil {
		return nil, s.wrap(err, "series keys")
	}
	defer rows.Close()
	var keys []SeriesKey
	for rows.Next() {
		var k SeriesKey
		if err := rows.Scan(&k.Scenario, &k.Figure); err != nil {
			return nil, s.wrap(err, "series keys")
		}
		keys = append(keys, k)
	}
	return keys, s.wrap(rows.Err(), "series keys")
}

// ListQuery selects runs.
type ListQuery struct {
	// Branch, when set, keeps the runs of that branch only.
	Branch string
	// Labels keeps the runs with every one of these labels and values.
	Labels map[string]string
	// Scenario, when set, keeps the runs that have that scenario.
	Scenario string
	// Limit keeps the newest Limit runs (0: all).
	Limit int
}

// RunSummary is a run as a list shows it.
type RunSummary struct {
	ID          int64     `json:"id"`
	StartedAt   time.Time `json:"started_at"`
	FinishedAt  time.Time `json:"finished_at"`
	ToolVersion string    `json:"tool_version"`
	Commit      string    `json:"commit,omitempty"`
	Branch      string    `json:"branch,omitempty"`
	// CI is the CI run it was made in, if any.
	CI          *report.CI `json:"ci,omitempty"`
	Hostname    string     `json:"hostname,omitempty"`
	Passed      bool       `json:"passed"`
	Interrupted bool       `json:"interrupted"`
	// Injected are the faults injected into it (--inject), if any.
	Injected []string `json:"injected,omitempty"`
	// Scenarios are its scenarios' names, in the report's order.
	Scenarios []string          `json:"scenarios"`
	Labels    map[string]string `json:"labels,omitempty"`
}

// Runs returns the runs that match q, newest first. Every run is listed,
// interrupted and injected ones too: each says what it is.
func (s *Store) Runs(ctx context.Context, q ListQuery) ([]RunSummary, error) {
	if q.Limit < 0 {
		return nil, fmt.Errorf("history: runs: limit %d: want 0 (all) or more", q.Limit)
	}
	where, args := s.filter(q.Branch, q.Labels, true)
	where = where[1:] // interrupted runs too
	if q.Scenario != "" {
		where = append(where, "EXISTS (SELECT 1 FROM scenarios s WHERE s.run_id = r.id AND s.name = ?)")
		args = append(args, q.Scenario)
	}
	query := `SELECT r.id, r.started_at_ns, r.finished_at_ns, r.tool_version, r.commit_sha, r.branch,
		r.ci_provider, r.ci_run_id, r.ci_run_url, r.ci_job, r.hostname, r.passed, r.interrupted, r.injected FROM runs r`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY r.started_at_ns DESC, r.id DESC"
	if q.Limit > 0 {
		query += fmt.Sprintf(" LIMIT %d", q.Limit)
	}
	rows, err := s.db.QueryContext(ctx, s.rebind(query), args...)
	if err != nil {
		return nil, s.wrap(err, "list runs")
	}
	var out []RunSummary
	for rows.Next() {
		var r RunSummary
		var started, finished, passed, interrupted int64
		var ci report.CI
		var injected string
		if err := rows.Scan(&r.ID, &started, &finished, &r.ToolVersion, &r.Commit, &r.Branch,
			&ci.Provider, &ci.RunID, &ci.RunURL, &ci.Job, &r.Hostname, &passed, &interrupted, &injected); err != nil {
			rows.Close()
			return nil, s.wrap(err, "list runs")
		}
		r.StartedAt, r.FinishedAt = time.Unix(0, started).UTC(), time.Unix(0, finished).UTC()
		r.Passed, r.Interrupted = passed != 0, interrupted != 0
		if ci.Provider != "" {
			r.CI = &ci
		}
		if injected != "" {
			if err := json.Unmarshal([]byte(injected), &r.Injected); err != nil {
				rows.Close()
				return nil, s.wrap(fmt.Errorf("run %d: injected faults: %w", r.ID, err), "list runs")
			}
		}
		out = append(out, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, s.wrap(err, "list runs")
	}
	// Each run's scenarios and labels, once the rows above are closed (a
	// SQLite connection reads one result at a time).
	for i := range out {
		if err := s.details(ctx, &out[i]); err != nil {
			return nil, s.wrap(err, "list runs")
		}
	}
	return out, nil
}

// details reads r's scenarios' names and its labels.
func (s *Store) details(ctx context.Context, r *RunSummary) error {
	r.Scenarios = []string{}
	rows, err := s.db.QueryContext(ctx, s.rebind("SELECT name FROM scenarios WHERE run_id = ? ORDER BY id"), r.ID)
	if err != nil {
		return err
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return err
		}
		r.Scenarios = append(r.Scenarios, name)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	rows, err = s.db.QueryContext(ctx, s.rebind("SELECT key, value FROM run_labels WHERE run_id = ? ORDER BY key"), r.ID)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return err
		}
		if r.Labels == nil {
			r.Labels = map[string]string{}
		}
		r.Labels[k] = v
	}
	return rows.Err()
}

// Report returns run id's report as it was appended; its error wraps
// ErrNotFound when the store has no such run.
func (s *Store) Report(ctx context.Context, id int64) (*report.Report, error) {
	var js string
	err := s.db.QueryRowContext(ctx, s.rebind("SELECT report_json FROM runs WHERE id = ?"), id).Scan(&js)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("history %s: run %d: %w", s.shown, id, ErrNotFound)
	}
	if err != nil {
		return nil, s.wrap(err, fmt.Sprintf("read run %d", id))
	}
	r, err := report.ReadJSON(bytes.NewReader([]byte(js)))
	if err != nil {
		return nil, s.wrap(err, fmt.Sprintf("read run %d's report", id))
	}
	return r, nil
}
