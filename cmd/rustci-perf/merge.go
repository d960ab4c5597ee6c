// The merge command.

package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/rustci/rustci-perf/pkg/merge"
	"github.com/rustci/rustci-perf/pkg/provenance"
	"github.com/rustci/rustci-perf/pkg/report"
	"github.com/spf13/cobra"
)

// mergeOptions are the merge command's arguments and flags.
type mergeOptions struct {
	files   []string
	format  string
	outputs []string
	// formatGiven says --format was given.
	formatGiven bool
	// stdin is read for a file given as -.
	stdin io.Reader
}

func newMergeCmd(stdout io.Writer) *cobra.Command {
	o := &mergeOptions{}
	cmd := &cobra.Command{
		Use:   "merge REPORT.json REPORT.json... (one may be -, stdin)",
		Short: "Combine JSON reports of the same scenarios run at the same time on several machines",
		Long: `Merge the JSON reports of the same scenarios run at the same time on several
machines, pods or CI runners: histograms merged exactly, operations, workers
and counters summed, throughput the sum of each machine's, hit rates
recomputed; every source's thresholds judged again on the whole (exit 1 if
one is missed). Reports of other scenarios, or that did not run at the same
time, the same report twice (one file, a link to it, or a copy), and a
report the schema or the writer's invariants forbid are refused (exit 2).

` + exitCodesHelp,
		Example: `  rustci-perf merge runner-*.json --output json=all.json --output junit=junit.xml
  ssh runner-2 cat report.json | rustci-perf merge runner-1.json - --format markdown`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, files []string) error {
			o.files, o.formatGiven, o.stdin = files, cmd.Flags().Changed("format"), cmd.InOrStdin()
			return runMerge(cmd.Context(), o, stdout)
		},
	}
	cmd.Flags().StringVar(&o.format, "format", "text", "report format: "+strings.Join(report.Formats(), ", "))
	cmd.Flags().StringArrayVar(&o.outputs, "output", nil, "write the merged report to a file (atomically; $GITHUB_STEP_SUMMARY appended to), as FORMAT=PATH or in --format, else by extension (.json, .xml junit, .md, .html, .txt; others text); repeatable; PATH - is stdout, which then gets that instead of the text report")
	completions(cmd, map[string]cobra.CompletionFunc{"format": completeWords(reportFormats...)}, nil, nil)
	return cmd
}

// runMerge merges o's reports, judges the thresholds again on the whole,
// and writes the merged report.
func runMerge(ctx context.Context, o *mergeOptions, stdout io.Writer) error {
	f, err := report.Lookup(o.format)
	if err != nil {
		return fmt.Errorf("--format: %w", err)
	}
	outs, err := parseOutputs(o.outputs, o.format, o.formatGiven, reportFormat, stdout)
	if err != nil {
		return err
	}
	defer closeOutputs(outs)
	if err := outputsClear(outs, o.files); err != nil {
		return err
	}
	reps, names, err := readReports(o.files, o.stdin)
	if err != nil {
		return fmt.Errorf("merge: %w", err)
	}
	var ins []merge.Input
	for i, r := range reps {
		ins = append(ins, merge.Input{File: names[i], Report: r})
	}
	rep, err := merge.Reports(ins, provenance.Tool(version))
	if err != nil {
		return err
	}
	return emit(ctx, rep, outs, f, stdout, nil)
}
