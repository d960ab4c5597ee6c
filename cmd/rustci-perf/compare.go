// The compare command, and the flags run --baseline shares with it.

package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/rustci/rustci-perf/pkg/compare"
	"github.com/rustci/rustci-perf/pkg/report"
	"github.com/spf13/cobra"
)

// compareFlags are the options of compare and of run --baseline.
type compareFlags struct {
	alpha     float64
	minEffect string
}

func (c *compareFlags) register(cmd *cobra.Command) {
	cmd.Flags().Float64Var(&c.alpha, "alpha", compare.Defaults.Alpha, "significance level of the tests against the baseline")
	cmd.Flags().StringVar(&c.minEffect, "min-effect", "5%", "smallest change against the baseline that counts, in percent")
}

// options checks the flags and returns the comparison's options.
func (c *compareFlags) options() (compare.Options, error) {
	o := compare.Defaults
	o.Alpha = c.alpha
	v, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(c.minEffect, "%")), 64)
	if err != nil || !(v >= 0 && v < 10000) {
		return o, fmt.Errorf("--min-effect %q: want a percentage such as 5%%", c.minEffect)
	}
	o.MinEffect = v / 100
	if err := o.Validate(); err != nil {
		return o, fmt.Errorf("--alpha: %w", err)
	}
	return o, nil
}

// compareOptions are the compare command's arguments and flags.
type compareOptions struct {
	files   [2]string
	format  string
	outputs []string
	compareFlags
	// formatGiven says --format was given.
	formatGiven bool
	// stdin is read for a file given as -.
	stdin io.Reader
}

func newCompareCmd(stdout io.Writer) *cobra.Command {
	o := &compareOptions{}
	cmd := &cobra.Command{
		Use:   "compare BASE.json NEW.json (either may be -, stdin)",
		Short: "Say whether NEW is a regression against BASE, tail latency included",
		Long: `Compare two JSON reports scenario by scenario: throughput, p50, p95, p99,
p99.9, errors, hit and other rates, and the counters that say something went
wrong or that a threshold names. Each gets base, new, the change, what
decided and a verdict: regression, improvement or ~ (no significant change
of at least --min-effect).

With repeated runs (--count N) on both sides, a Mann-Whitney U test over the
runs at --alpha, as benchstat does (and a note when there are too few runs
for significance); p99 and p99.9 by a bootstrap confidence interval from the
encoded histograms. With single runs, the minimum effect alone decides
the figures other than tail percentiles, and the output says so.

A scenario measured in BASE that NEW did not measure (no successful
operation, could not run, skipped) is a regression, and its row says why.

Exit 1 when a regression is found, 0 otherwise, 2 on bad input (an
unreadable file, another schema, a report the schema or the writer's
invariants forbid, no scenario measured in both, an --output that cannot
be written), 4 when an output could not be written after all (the others
were; stderr names it), which beats 1.`,
		Example: `  rustci-perf compare baseline.json report.json
  rustci-perf compare baseline.json report.json --min-effect 10% --output "$GITHUB_STEP_SUMMARY"
  rustci-perf run cache --format json | rustci-perf compare baseline.json -`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, files []string) error {
			o.files = [2]string{files[0], files[1]}
			o.formatGiven, o.stdin = cmd.Flags().Changed("format"), cmd.InOrStdin()
			return runCompare(cmd.Context(), o, stdout)
		},
	}
	o.compareFlags.register(cmd)
	cmd.Flags().StringVar(&o.format, "format", "text", "comparison format: "+strings.Join(comparisonFormats, ", "))
	completions(cmd, map[string]cobra.CompletionFunc{"format": completeWords(comparisonFormats...)}, nil, nil)
	cmd.Flags().StringArrayVar(&o.outputs, "output", nil, "write the comparison to a file instead of stdout (atomically; $GITHUB_STEP_SUMMARY appended to), as FORMAT=PATH or in --format, else by extension (.json, .md, .txt; others text; .xml and .html are errors); repeatable; PATH - is stdout")
	return cmd
}

// runCompare compares o's two reports and writes the comparison; a
// regression is exit 1.
func runCompare(ctx context.Context, o *compareOptions, stdout io.Writer) error {
	write, ok := report.ComparisonFormats[o.format]
	if !ok {
		return fmt.Errorf("--format %q: want %s", o.format, strings.Join(slices.Sorted(maps.Keys(report.ComparisonFormats)), ", "))
	}
	copts, err := o.options()
	if err != nil {
		return err
	}
	outs, err := parseOutputs(o.outputs, o.format, o.formatGiven, comparisonFormat, stdout)
	if err != nil {
		return err
	}
	defer closeOutputs(outs)
	if err := outputsClear(outs, o.files[:]); err != nil {
		return err
	}
	reps, names, err := readReports(o.files[:], o.stdin)
	if err != nil {
		return fmt.Errorf("compare: %w", err)
	}
	var sides [2]compare.Side
	for i := range sides {
		sides[i] = compare.Side{Name: names[i], Report: reps[i]}
	}
	c, err := compare.Reports(sides[0], sides[1], copts)
	if err != nil {
		return err
	}
	return emitResult(ctx, outs, stdout, write, c, "comparison", c.Regressions > 0)
}

// sharesScenario checks that baseline has one of the scenarios named.
func sharesScenario(baseline *report.Report, names []string) error {
	for _, s := range baseline.Scenarios {
		for _, n := range names {
			if s.Name == n {
				return nil
			}
		}
	}
	var have []string
	for _, s := range baseline.Scenarios {
		have = append(have, s.Name)
	}
	return fmt.Errorf("it has none of the scenarios to run (it has %s)", strings.Join(have, ", "))
}
