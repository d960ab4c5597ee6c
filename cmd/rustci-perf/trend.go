// The trend command: a figure's series across the runs of a history store,
// its change points, and whether the latest run sits after a regression.

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/rustci/rustci-perf/pkg/history"
	"github.com/rustci/rustci-perf/pkg/provenance"
	"github.com/rustci/rustci-perf/pkg/threshold"
	"github.com/rustci/rustci-perf/pkg/trend"
	"github.com/spf13/cobra"
)

// trendOptions are the trend command's flags.
type trendOptions struct {
	*historyOptions
	scenarios  []string
	metrics    []string
	branch     string
	labels     provenance.Labels
	limit      int
	injected   bool
	falseAlarm float64
	minEffect  string
	format     string
	outputs    []string
	// formatGiven says --format was given.
	formatGiven bool
}

// defaultTrendMetrics are the figures trended when --metric is not given.
var defaultTrendMetrics = []string{"p99", "throughput"}

func newTrendCmd(stdout io.Writer) *cobra.Command {
	o := &trendOptions{historyOptions: &historyOptions{}}
	cmd := &cobra.Command{
		Use:   "trend",
		Short: "Find where figures moved across the runs of a history store, and alert on a regression",
		Long: `Read a figure of each scenario (p99 and throughput unless --metric says)
across the runs kept in a history store (run --history), oldest first, and
find its change points: E-divisive means with a permutation test
(Matteson & James 2014), as MongoDB and Apache Otava use it. Each change
is given with its magnitude, its p-value and the commits between which
it happened.

A series alerts when its most recent change point is a regression of at
least --min-effect: the latest run sits after it. Over all the series
judged at once, the chance of an alert where nothing changed is at most
--false-alarm (each series is tested at --false-alarm / their number).
Runs that were interrupted, a scenario that did not run (error, skipped)
and, unless --injected, runs with faults injected are left out.

Exit 1 when a series alerts, 0 otherwise, 2 on bad input (no store, an
unknown figure, an --output that cannot be written), 4 when an output
could not be written after all (stderr names it), which beats 1.`,
		Example: `  rustci-perf trend --history perf.db --branch main
  rustci-perf trend --history perf.db --scenario cache-read --metric p99 --metric hit_rate
  rustci-perf trend --history postgres://perf@db/perf --branch main --format html --output trend.html`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.origin = flagOrigin(cmd.Flags(), "history")
			o.formatGiven = cmd.Flags().Changed("format")
			return runTrend(cmd.Context(), o, stdout)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.store, "history", "", "the history store: "+historyFlagHelp)
	f.StringVar(&o.configFile, "config", "", "YAML file whose history key names the store")
	f.StringArrayVar(&o.scenarios, "scenario", nil, "only this scenario (repeatable; default: every scenario in the store)")
	f.StringArrayVar(&o.metrics, "metric", nil, "the figure to trend, as a threshold names it: p99, throughput, hit_rate, read.p99, p99.99 (repeatable; default p99 and throughput)")
	f.StringVar(&o.branch, "branch", "", "only the runs of this branch (provenance)")
	f.Var(labels{&o.labels}, "label", "only the runs with this label, as KEY=VALUE (repeatable: all must match)")
	f.IntVar(&o.limit, "limit", 200, "the last N runs of each series (0: all)")
	f.BoolVar(&o.injected, "injected", false, "keep the runs with faults injected (--inject), which are left out otherwise")
	f.Float64Var(&o.falseAlarm, "false-alarm", trend.Defaults.FalseAlarm, "bound on the chance that the invocation alerts where nothing changed, over all its series")
	f.StringVar(&o.minEffect, "min-effect", "5%", "smallest regression of a series' level that alerts, in percent")
	f.StringVar(&o.format, "format", "text", "format: "+strings.Join(slices.Sorted(maps.Keys(trend.Formats)), ", "))
	completions(cmd, map[string]cobra.CompletionFunc{
		"format":   completeWords(trendFormats...),
		"scenario": completeScenarios(false),
	}, nil, map[string][]string{"config": {"yaml", "yml"}})
	f.StringArrayVar(&o.outputs, "output", nil, "write the trend to a file instead of stdout (atomically; $GITHUB_STEP_SUMMARY appended to), as FORMAT=PATH or in --format, else by extension (.json, .md, .html, .txt; others text); repeatable; PATH - is stdout")
	return cmd
}

// runTrend analyses o's series and writes the result; an alert is exit 1.
func runTrend(ctx context.Context, o *trendOptions, stdout io.Writer) error {
	write, err := trend.Lookup(o.format)
	if err != nil {
		return fmt.Errorf("--format: %w", err)
	}
	opts := trend.Options{FalseAlarm: o.falseAlarm}
	// Below 0.001 the permutations each series needs (5 × series /
	// false alarm) would take minutes over a long history.
	if !(o.falseAlarm >= 0.001 && o.falseAlarm <= 0.5) {
		return fmt.Errorf("--false-alarm %g: want a probability from 0.001 to 0.5, as 0.05", o.falseAlarm)
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(o.minEffect, "%")), 64)
	if err != nil || !(v >= 0 && v < 10000) {
		return fmt.Errorf("--min-effect %q: want a percentage such as 5%%", o.minEffect)
	}
	// 0 would read as "the default" to trend.Options.
	opts.MinEffect = max(v/100, 1e-12)
	if o.limit < 0 {
		return fmt.Errorf("--limit %d: want 0 (all) or more", o.limit)
	}
	metrics := o.metrics
	if len(metrics) == 0 {
		metrics = defaultTrendMetrics
	}
	// Each figure once, by its canonical name: p999, p(99.9) and p99.9
	// are one series, which trended twice would alert twice and, counted
	// twice by Bonferroni, halve every series' significance.
	var canonical []string
	for _, m := range metrics {
		pm, err := threshold.ParseMetric(m)
		if err != nil {
			return fmt.Errorf("--metric %q: %w", m, err)
		}
		if !slices.Contains(canonical, pm.Name) {
			canonical = append(canonical, pm.Name)
		}
	}
	metrics = canonical
	var scenarios []string
	for _, s := range o.scenarios {
		if !slices.Contains(scenarios, s) {
			scenarios = append(scenarios, s)
		}
	}
	o.scenarios = scenarios
	outs, err := parseOutputs(o.outputs, o.format, o.formatGiven, trendFormat, stdout)
	if err != nil {
		return err
	}
	defer closeOutputs(outs)
	if err := outputsClear(outs, nil); err != nil {
		return err
	}
	st, err := o.open(ctx, false)
	if err != nil {
		return err
	}
	defer st.Close()

	series, err := trendSeries(ctx, st, o, metrics)
	if err != nil {
		return err
	}
	res, err := trend.Analyze(series, opts)
	if err != nil {
		return err
	}
	return emitResult(ctx, outs, stdout, write, res, "trend", res.Verdict == trend.Alert)
}

// trendSeries reads from st the series o asks for: each scenario's
// (every one the store has under o's filter, or o's) figures in metrics.
// A scenario named that the store does not hold is a usage error; a
// figure a scenario lacks (hit_rate of the limiter) is left out of that
// scenario, and one no scenario has is an error.
func trendSeries(ctx context.Context, st *history.Store, o *trendOptions, metrics []string) ([]trend.Series, error) {
	q := history.Query{Branch: o.branch, Labels: o.labels, Limit: o.limit, Injected: o.injected}
	keys, err := st.SeriesKeys(ctx, q)
	if err != nil {
		return nil, err
	}
	have := map[string]bool{} // scenario names in the store, under the filter
	for _, k := range keys {
		have[k.Scenario] = true
	}
	scenarios := o.scenarios
	if len(scenarios) == 0 {
		scenarios = slices.Sorted(maps.Keys(have))
		if len(scenarios) == 0 {
			return nil, errors.New("no runs in the store under the filter given (" + st.String() + ")")
		}
	}
	for _, s := range scenarios {
		if !have[s] {
			return nil, fmt.Errorf("--scenario %s: no run of it in the store under the filter given", s)
		}
	}
	var out []trend.Series
	found := map[string]bool{}
	for _, s := range scenarios {
		for _, m := range metrics {
			q.Scenario, q.Figure = s, m
			pts, err := st.Series(ctx, q)
			if err != nil {
				return nil, err
			}
			if len(pts) == 0 {
				continue
			}
			found[m] = true
			ser := trend.Series{Scenario: s, Metric: m, Points: make([]trend.Point, len(pts))}
			for i, p := range pts {
				ser.Points[i] = trend.Point{RunID: p.RunID, At: p.At, Commit: p.Commit, Branch: p.Branch, Value: p.Value, Canary: p.Canary}
			}
			out = append(out, ser)
		}
	}
	for _, m := range metrics {
		if !found[m] {
			return nil, fmt.Errorf("--metric %s: no scenario selected has it", m)
		}
	}
	return out, nil
}

// trendFormat looks up a trend format for parseOutputs. An extension that
// calls for another (.xml) is a usage error rather than text in a file
// named for something else.
func trendFormat(name string, byExt bool) (func(io.Writer, *trend.Result) error, error) {
	f, err := trend.Lookup(name)
	if err != nil && byExt {
		return nil, fmt.Errorf("its extension calls for %s, and trend writes %s: name one (html=FILE) or give --format", name, strings.Join(slices.Sorted(maps.Keys(trend.Formats)), ", "))
	}
	return f, err
}
