// The history command (list, show, import), and run --history.

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rustci/rustci-perf/pkg/config"
	"github.com/rustci/rustci-perf/pkg/history"
	"github.com/rustci/rustci-perf/pkg/provenance"
	"github.com/rustci/rustci-perf/pkg/report"
	"github.com/spf13/cobra"
)

// historyEnv names the environment variable of --history (envName).
const historyEnv = "RUSTCI_PERF_HISTORY"

const historyFlagHelp = "a SQLite file (run and history import create it if missing; list, show and trend want it to exist) or a postgres:// URL (default $" + historyEnv + ", then the config file's history key)"

// historyFromFlags sets l's history store from --history, or its
// variable, when given (origin names which, flagOrigin; "" when neither):
// an empty --history means none.
func historyFromFlags(l *config.Layer, origin string, value string) {
	if origin != "" {
		l.History = value
		l.Set("history", origin)
	}
}

// openHistory opens cfg's history store, nil when none is set; a SQLite
// file that does not exist is created when create is true (run, import),
// an error otherwise (list, show, trend read a store, and a mistyped path
// must not leave an empty one behind). Its errors name where the store
// was set, and mask a URL's credentials.
func openHistory(ctx context.Context, cfg *config.Config, create bool) (*history.Store, error) {
	if cfg.History == "" {
		return nil, nil
	}
	open := history.OpenExisting
	if create {
		open = history.Open
	}
	st, err := open(ctx, cfg.History)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cfg.HistoryFrom, err)
	}
	return st, nil
}

// appendRun appends the run's report to st after the run, whatever its
// verdict (a failed run is data too), and says so on stderr with the
// run's id, even with -q: it is a result, not progress. It returns the
// failure, if any, as an output that could not be written (exit 4). An
// interrupted run is not appended: its figures are of a phase cut short,
// which no series keeps, and the user asked it to stop.
func appendRun(ctx context.Context, st *history.Store, rep *report.Report, stderr io.Writer) []error {
	if rep.Interrupted {
		fmt.Fprintf(stderr, "rustci-perf: history %s: the run was interrupted: not appended\n", st)
		return nil
	}
	id, _, err := st.Append(ctx, rep)
	if err != nil {
		return []error{err}
	}
	fmt.Fprintf(stderr, "rustci-perf: history %s: appended as run %d\n", st, id)
	return nil
}

// historyOptions are the flags every history subcommand has.
type historyOptions struct {
	configFile string
	store      string
	// origin names where the store was given: --history or its variable
	// (flagOrigin); "" when neither.
	origin string
}

// open opens the store the flags, the environment or the config file
// name, in that order; none is a usage error. create says whether a
// SQLite file that does not exist is created (import) or an error.
func (o *historyOptions) open(ctx context.Context, create bool) (*history.Store, error) {
	l := config.CommandLine()
	historyFromFlags(l, o.origin, o.store)
	cfg, err := loadConfig(o.configFile, l)
	if err != nil {
		return nil, err
	}
	if cfg.History == "" {
		return nil, errors.New("no history store: give --history PATH (a SQLite file) or a postgres:// URL, or set $" + historyEnv + ", or history: in --config FILE")
	}
	return openHistory(ctx, cfg, create)
}

func newHistoryCmd(stdout io.Writer) *cobra.Command {
	o := &historyOptions{}
	cmd := &cobra.Command{
		Use:   "history",
		Short: "List, show and import the runs kept in a history store (run --history appends to it)",
		Long: `A history store keeps every run appended to it (run --history, history
import): the whole report, its provenance (commit, branch, CI run, labels)
and every figure a threshold can name, per scenario. It is a SQLite file,
or a PostgreSQL database (a postgres:// URL) that CI runners share.

` + exitCodesHelp,
		Example: `  rustci-perf run all --history perf.db
  rustci-perf history list --history perf.db --branch main
  rustci-perf history show latest --format markdown
  RUSTCI_PERF_HISTORY=postgres://perf@db/perf rustci-perf history import reports/*.json`,
		PersistentPreRun: func(cmd *cobra.Command, _ []string) {
			o.origin = flagOrigin(cmd.Flags(), "history")
		},
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&o.store, "history", "", "the history store: "+historyFlagHelp)
	pf.StringVar(&o.configFile, "config", "", "YAML file whose history key names the store")
	cmd.AddCommand(newHistoryListCmd(o, stdout), newHistoryShowCmd(o, stdout), newHistoryImportCmd(o, stdout))
	return cmd
}

// historyListOptions are history list's flags.
type historyListOptions struct {
	*historyOptions
	query  history.ListQuery
	format string
}

func newHistoryListCmd(h *historyOptions, stdout io.Writer) *cobra.Command {
	o := &historyListOptions{historyOptions: h}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the runs kept, newest first: id, time, commit, branch, verdict, scenarios, labels",
		Example: `  rustci-perf history list --history perf.db
  rustci-perf history list --branch main --label runner=ci-large --limit 20
  rustci-perf history list --scenario cache-read --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runHistoryList(cmd.Context(), o, stdout)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.query.Branch, "branch", "", "only the runs of this branch")
	f.Var(labels{(*provenance.Labels)(&o.query.Labels)}, "label", "only the runs with this label, as KEY=VALUE (repeatable: all must match)")
	f.StringVar(&o.query.Scenario, "scenario", "", "only the runs that have this scenario")
	f.IntVar(&o.query.Limit, "limit", 0, "the newest N runs (0: all)")
	f.StringVar(&o.format, "format", "text", "text, or json (an array, for scripts)")
	completions(cmd, map[string]cobra.CompletionFunc{"format": completeWords(historyFormats...)}, nil, nil)
	return cmd
}

// runHistoryList lists the runs o selects.
func runHistoryList(ctx context.Context, o *historyListOptions, stdout io.Writer) error {
	if o.format != "text" && o.format != "json" {
		return fmt.Errorf("--format %q: want text or json", o.format)
	}
	if o.query.Limit < 0 {
		return fmt.Errorf("--limit %d: want 0 (all) or more", o.query.Limit)
	}
	st, err := o.open(ctx, false)
	if err != nil {
		return err
	}
	defer st.Close()
	runs, err := st.Runs(ctx, o.query)
	if err != nil {
		return err
	}
	if err := writeRuns(stdout, runs, o.format); err != nil {
		return exitWith(exitOK, []error{fmt.Errorf("write to stdout: %w", err)})
	}
	return nil
}

// writeRuns writes runs as a table, or as a JSON array.
func writeRuns(w io.Writer, runs []history.RunSummary, format string) error {
	if format == "json" {
		if runs == nil {
			runs = []history.RunSummary{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(runs)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTARTED (UTC)\tCOMMIT\tBRANCH\tVERDICT\tSCENARIOS\tLABELS")
	for _, r := range runs {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.StartedAt.UTC().Format(time.DateTime),
			orDash(shortCommit(r.Commit)), orDash(r.Branch), verdict(r), strings.Join(r.Scenarios, ","), orDash(labelList(r.Labels)))
	}
	return tw.Flush()
}

// verdict says how a run ended: pass, FAIL or interrupted, and whether
// faults were injected into it.
func verdict(r history.RunSummary) string {
	v := "FAIL"
	switch {
	case r.Interrupted:
		v = "interrupted"
	case r.Passed:
		v = "pass"
	}
	if len(r.Injected) > 0 {
		v += " (faults injected)"
	}
	return v
}

// shortCommit is a commit's first 12 characters, as git abbreviates a
// hash; anything shorter as it is.
func shortCommit(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}

func labelList(m map[string]string) string {
	var out []string
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	slices.Sort(out)
	return strings.Join(out, ",")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// historyShowOptions are history show's argument and flags.
type historyShowOptions struct {
	*historyOptions
	run    string
	format string
}

func newHistoryShowCmd(h *historyOptions, stdout io.Writer) *cobra.Command {
	o := &historyShowOptions{historyOptions: h}
	cmd := &cobra.Command{
		Use:   "show RUN",
		Short: "Write a kept run's report again, in any format (RUN: an id from history list, or latest)",
		Example: `  rustci-perf history show latest
  rustci-perf history show 42 --format markdown`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.run = args[0]
			return runHistoryShow(cmd.Context(), o, stdout)
		},
	}
	cmd.Flags().StringVar(&o.format, "format", "text", "report format: "+strings.Join(report.Formats(), ", "))
	completions(cmd, map[string]cobra.CompletionFunc{"format": completeWords(reportFormats...)}, nil, nil)
	return cmd
}

// runHistoryShow writes the report of the run o names.
func runHistoryShow(ctx context.Context, o *historyShowOptions, stdout io.Writer) error {
	format, err := report.Lookup(o.format)
	if err != nil {
		return fmt.Errorf("--format: %w", err)
	}
	var id int64
	if o.run != "latest" {
		if id, err = strconv.ParseInt(o.run, 10, 64); err != nil || id < 1 {
			return fmt.Errorf("run %q: want a run's id (history list) or latest", o.run)
		}
	}
	st, err := o.open(ctx, false)
	if err != nil {
		return err
	}
	defer st.Close()
	if o.run == "latest" {
		runs, err := st.Runs(ctx, history.ListQuery{Limit: 1})
		if err != nil {
			return err
		}
		if len(runs) == 0 {
			return fmt.Errorf("history %s holds no run", st)
		}
		id = runs[0].ID
	}
	rep, err := st.Report(ctx, id)
	if err != nil {
		return err
	}
	if err := format(stdout, rep); err != nil {
		return exitWith(exitOK, []error{fmt.Errorf("write report to stdout: %w", err)})
	}
	return nil
}

// historyImportOptions are history import's arguments.
type historyImportOptions struct {
	*historyOptions
	files []string
}

func newHistoryImportCmd(h *historyOptions, stdout io.Writer) *cobra.Command {
	o := &historyImportOptions{historyOptions: h}
	cmd := &cobra.Command{
		Use:   "import REPORT.json...",
		Short: "Add JSON reports to the history; one already kept is left as it is",
		Long: `Add JSON reports (run --format json, merge's) to the history, each in a
transaction of its own. Every file is read and checked first (report.ReadFile:
the schema and the writer's invariants): one that is not a report is named,
exit 2, and nothing is imported. A report already kept (the same report) is
not added again. A store that fails while importing exits 4; the files
before it are kept, as the lines before the error say.`,
		Example: `  rustci-perf history import reports/*.json --history perf.db`,
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			o.files = files
			return runHistoryImport(cmd.Context(), o, stdout)
		},
	}
	return cmd
}

// runHistoryImport reads every file, then appends each, saying of each
// whether it was added.
func runHistoryImport(ctx context.Context, o *historyImportOptions, stdout io.Writer) error {
	reps := make([]*report.Report, len(o.files))
	for i, file := range o.files {
		r, err := report.ReadFile(file)
		if err != nil {
			return fmt.Errorf("import: %w", err)
		}
		reps[i] = r
	}
	st, err := o.open(ctx, true)
	if err != nil {
		return err
	}
	defer st.Close()
	for i, file := range o.files {
		id, added, err := st.Append(ctx, reps[i])
		if err != nil {
			return exitWith(exitOK, []error{fmt.Errorf("import %s: %w", file, err)})
		}
		what := "added as run"
		if !added {
			what = "already present as run"
		}
		if _, err := fmt.Fprintf(stdout, "%s: %s %d\n", file, what, id); err != nil {
			return exitWith(exitOK, []error{fmt.Errorf("write to stdout: %w", err)})
		}
	}
	return nil
}
