// The merge command.

package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/rustci/rustci-perf/pkg/merge"
	"github.com/rustci/rustci-perf/pkg/report"
	"github.com/spf13/cobra"
)

func newMergeCmd(stdout io.Writer) *cobra.Command {
	var format string
	var outputs []string
	cmd := &cobra.Command{
		Use:   "merge REPORT.json REPORT.json...",
		Short: "Combine JSON reports of the same scenarios run at the same time on several machines",
		Long: `Merge the JSON reports of the same scenarios run at the same time on several
machines, pods or CI runners: histograms merged exactly, operations, workers
and counters summed, throughput the sum of each machine's, hit rates
recomputed; every source's thresholds judged again on the whole (exit 1 if
one is missed). Reports of other scenarios, or that did not run at the same
time, the same report twice (one file, a link to it, or a copy), and a
report the schema or the writer's invariants forbid are refused (exit 2).

` + exitCodesHelp,
		Example: `  rustci-perf merge runner-*.json --output json=all.json --output junit=junit.xml`,
		Args:    cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, files []string) error {
			f, err := report.Lookup(format)
			if err != nil {
				return fmt.Errorf("--format: %w", err)
			}
			outs, err := parseOutputs(outputs, format, cmd.Flags().Changed("format"), reportFormat, stdout)
			if err != nil {
				return err
			}
			if err := outputsClear(outs, files); err != nil {
				closeOutputs(outs)
				return err
			}
			defer closeOutputs(outs)
			var ins []merge.Input
			for _, file := range files {
				r, err := report.ReadFile(file)
				if err != nil {
					return fmt.Errorf("merge: %w", err)
				}
				ins = append(ins, merge.Input{File: file, Report: r})
			}
			rep, err := merge.Reports(ins, version)
			if err != nil {
				return err
			}
			return emit(cmd.Context(), rep, outs, f, stdout, nil)
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "report format: "+strings.Join(report.Formats(), ", "))
	cmd.Flags().StringArrayVar(&outputs, "output", nil, "write the merged report to a file (atomically; $GITHUB_STEP_SUMMARY appended to), as FORMAT=PATH or in --format, else by extension (.json, .xml junit, .md, .html, .txt; others text); repeatable; PATH - is stdout, which then gets that instead of the text report")
	return cmd
}
