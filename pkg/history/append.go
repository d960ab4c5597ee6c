// Appending a run: the report, its labels, its scenarios and their
// figures, in one transaction.

package history

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/rustci/rustci-perf/pkg/merge"
	"github.com/rustci/rustci-perf/pkg/metric"
	"github.com/rustci/rustci-perf/pkg/report"
	"github.com/rustci/rustci-perf/pkg/threshold"
)

// StoredPercentiles are the latency percentiles stored as figures, the
// scenario's and each kind's. Any other is computed from the stored
// histograms when asked for (Series).
var StoredPercentiles = []float64{50, 90, 95, 99, 99.9, 99.99}

// Append adds r to the store, in one transaction: all of it or nothing.
// r is stored as the checked reader reads its JSON back (report.ReadJSON),
// so that what Report returns is what was given; a report that does not
// read back is refused. id is the run's; added is false when the store
// already held the same report (the same JSON), which it leaves as it was.
func (s *Store) Append(ctx context.Context, r *report.Report) (id int64, added bool, err error) {
	var buf bytes.Buffer
	if err := report.JSON(&buf, r); err != nil {
		return 0, false, s.wrap(err, "append")
	}
	back, err := report.ReadJSON(bytes.NewReader(buf.Bytes()))
	if err != nil {
		return 0, false, s.wrap(fmt.Errorf("the report does not read back: %w", err), "append")
	}
	sum := sha256.Sum256(buf.Bytes())
	row, err := newRunRow(back, hex.EncodeToString(sum[:]), buf.String())
	if err != nil {
		return 0, false, s.wrap(err, "append")
	}
	id, added, err = s.insert(ctx, row)
	return id, added, s.wrap(err, "append")
}

// runRow is a run as stored, computed before the transaction.
type runRow struct {
	key, json string
	r         *report.Report
	injected  string
	scenarios []scenarioRow
}

type scenarioRow struct {
	s       report.Scenario
	figures []figure
}

// figure is one stored figure; Valid false is n/a (NULL).
type figure struct {
	name  string
	value sql.NullFloat64
}

func newRunRow(r *report.Report, key, js string) (*runRow, error) {
	row := &runRow{key: key, json: js, r: r}
	if len(r.Injected) > 0 {
		b, err := json.Marshal(r.Injected)
		if err != nil {
			return nil, err
		}
		row.injected = string(b)
	}
	for _, sc := range r.Scenarios {
		fs, err := figuresOf(sc)
		if err != nil {
			return nil, err
		}
		row.scenarios = append(row.scenarios, scenarioRow{s: sc, figures: fs})
	}
	return row, nil
}

// figuresOf returns every figure a threshold can name for s, under the
// name it gives it, in a stable order: the figures every scenario has
// (ops, errors, throughput, duration, min, mean, stdev, max), the
// StoredPercentiles, s's metrics and counters, then each kind of
// operation's (read.ops, ..., read.p99.99). A figure that cannot be
// computed (no latency, a metric n/a) is there, not Valid.
func figuresOf(s report.Scenario) ([]figure, error) {
	f, err := merge.Figures(s)
	if err != nil {
		return nil, err
	}
	src := f.Source()
	var out []figure
	seen := map[string]bool{}
	add := func(m threshold.Metric) {
		if seen[m.Name] {
			return
		}
		seen[m.Name] = true
		v, ok := src(m)
		out = append(out, figure{name: m.Name, value: sql.NullFloat64{Float64: v, Valid: ok && !math.IsNaN(v) && !math.IsInf(v, 0)}})
	}
	for _, name := range metric.Names(func(d metric.Def) bool { return d.Every && d.Source == metric.Measured }) {
		add(threshold.Metric{Name: name})
	}
	for _, p := range storedPercentiles {
		add(p)
	}
	for _, name := range sortedKeys(s.Metrics) {
		add(threshold.Metric{Name: name})
	}
	for _, name := range sortedKeys(s.Counters) {
		add(threshold.Metric{Name: name})
	}
	for _, op := range s.Operations {
		for _, name := range threshold.KindMetrics() {
			add(threshold.Metric{Name: op.Name + "." + name, Kind: op.Name})
		}
		for _, p := range storedPercentiles {
			add(threshold.Metric{Name: op.Name + "." + p.Name, Kind: op.Name, Percentile: p.Percentile})
		}
	}
	return out, nil
}

// storedPercentiles are StoredPercentiles as thresholds name them.
var storedPercentiles = func() []threshold.Metric {
	var out []threshold.Metric
	for _, p := range StoredPercentiles {
		m, err := threshold.ParseMetric("p(" + strconv.FormatFloat(p, 'f', -1, 64) + ")")
		if err != nil {
			panic(fmt.Sprintf("history: stored percentile %g: %v", p, err)) // a build defect: the list is constant
		}
		out = append(out, m)
	}
	return out
}()

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// canaryRate is a canary's measure as stored: NULL when not taken.
func canaryRate(v float64) any {
	if v > 0 {
		return v
	}
	return nil
}

// insert writes row in one transaction; a run already stored under its
// key is left as it was, and its id returned with added false.
func (s *Store) insert(ctx context.Context, row *runRow) (id int64, added bool, err error) {
	tx, err := s.db.BeginTx(ctx, nil) // BEGIN IMMEDIATE in SQLite: writers queue
	if err != nil {
		return 0, false, err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	r := row.r
	var p report.Provenance
	if r.Provenance != nil {
		p = *r.Provenance
	}
	if p.Tool.Version == "" {
		p.Tool.Version = r.ToolVersion
	}
	var ci report.CI
	if p.CI != nil {
		ci = *p.CI
	}
	var canary report.Canary
	if r.Environment.Canary != nil {
		canary = *r.Environment.Canary
	}
	err = tx.QueryRowContext(ctx, s.rebind(`INSERT INTO runs (content_key, started_at_ns, finished_at_ns, added_at_ns,
		tool_version, tool_revision, tool_modified, commit_sha, branch, ci_provider, ci_run_id, ci_run_url, ci_job,
		passed, interrupted, injected, hostname, report_json, canary_workload, canary_before, canary_after)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (content_key) DO NOTHING RETURNING id`),
		row.key, r.StartedAt.UnixNano(), r.FinishedAt.UnixNano(), time.Now().UnixNano(),
		p.Tool.Version, p.Tool.Revision, b2i(p.Tool.Modified), p.Commit, p.Branch, ci.Provider, ci.RunID, ci.RunURL, ci.Job,
		b2i(r.Passed), b2i(r.Interrupted), row.injected, r.Environment.Hostname, row.json,
		canary.Workload, canaryRate(canary.BeforeOpsPerSec), canaryRate(canary.AfterOpsPerSec)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		// Already stored: by an earlier append, or by another process
		// whose transaction committed while this one waited.
		if err := tx.QueryRowContext(ctx, s.rebind("SELECT id FROM runs WHERE content_key = ?"), row.key).Scan(&id); err != nil {
			return 0, false, fmt.Errorf("find the run already stored: %w", err)
		}
		return id, false, tx.Commit()
	}
	if err != nil {
		return 0, false, fmt.Errorf("insert the run: %w", err)
	}
	for _, k := range sortedKeys(p.Labels) {
		if _, err := tx.ExecContext(ctx, s.rebind("INSERT INTO run_labels (run_id, key, value) VALUES (?, ?, ?)"), id, k, p.Labels[k]); err != nil {
			return 0, false, fmt.Errorf("insert label %s: %w", k, err)
		}
	}
	fig, err := tx.PrepareContext(ctx, s.rebind("INSERT INTO figures (scenario_id, name, value) VALUES (?, ?, ?)"))
	if err != nil {
		return 0, false, err
	}
	defer fig.Close()
	for _, sr := range row.scenarios {
		sc := sr.s
		var sid int64
		if err := tx.QueryRowContext(ctx, s.rebind(`INSERT INTO scenarios (run_id, name, grp, status, ops, errors, duration_ns,
			throughput_ops_per_sec, histogram, histogram_uncorrected) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
			id, sc.Name, sc.Group, sc.Status, sc.Ops, sc.Errors, sc.DurationNS, finiteOr0(sc.ThroughputOpsPerSec),
			sc.Histogram, sc.HistogramUncorrected).Scan(&sid); err != nil {
			return 0, false, fmt.Errorf("insert scenario %s: %w", sc.Name, err)
		}
		for _, op := range sc.Operations {
			if _, err := tx.ExecContext(ctx, s.rebind("INSERT INTO scenario_kinds (scenario_id, kind, histogram) VALUES (?, ?, ?)"), sid, op.Name, op.Histogram); err != nil {
				return 0, false, fmt.Errorf("insert scenario %s, %s operations: %w", sc.Name, op.Name, err)
			}
		}
		for _, f := range sr.figures {
			if _, err := fig.ExecContext(ctx, sid, f.name, f.value); err != nil {
				return 0, false, fmt.Errorf("insert scenario %s, figure %s: %w", sc.Name, f.name, err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, false, fmt.Errorf("commit: %w", err)
	}
	return id, true, nil
}

func finiteOr0(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}
