// The list command.

package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/rustci/rustci-perf/pkg/config"
	"github.com/rustci/rustci-perf/pkg/scenarios"
	"github.com/rustci/rustci-perf/pkg/threshold"
	"github.com/spf13/cobra"
)

func newListCmd(stdout io.Writer) *cobra.Command {
	var configFile string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List scenarios, groups, what each measures, and their thresholds",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			cfg, err := loadConfig(configFile)
			if err != nil {
				return err
			}
			return list(stdout, cfg)
		},
	}
	cmd.Flags().StringVar(&configFile, "config", "", "show thresholds with this YAML file laid over the defaults")
	return cmd
}

func list(w io.Writer, cfg *config.Config) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SCENARIO\tGROUP\tKINDS\tMEASURES\tTHRESHOLDS")
	for _, sc := range scenarios.All() {
		s, err := cfg.Settings(sc.Name)
		if err != nil {
			return err
		}
		kinds := "-"
		if len(sc.Kinds) > 0 {
			kinds = strings.Join(sc.Kinds, ", ")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", sc.Name, sc.Group, kinds, sc.Summary, strings.Join(s.Thresholds, ", "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nGROUPS")
	groups := scenarios.Groups()
	for _, g := range scenarios.GroupNames() {
		var names []string
		for _, sc := range groups[g] {
			names = append(names, sc.Name)
		}
		fmt.Fprintf(w, "  %-11s %s\n", g, strings.Join(names, ", "))
	}
	fmt.Fprintln(w, "\nMETRICS a threshold can name")
	fmt.Fprintf(w, "  every scenario: %s, and percentiles (p50, p99, p999, p(99.95))\n", strings.Join(scenarios.Common, ", "))
	var mixed []string
	for _, sc := range scenarios.All() {
		if len(sc.Kinds) > 0 {
			mixed = append(mixed, fmt.Sprintf("%s (%s)", sc.Name, strings.Join(sc.Kinds, ", ")))
		}
	}
	if len(mixed) > 0 {
		fmt.Fprintf(w, "  each kind of operation of %s, as KIND.METRIC (read.p99<1ms, write.ops, read.p99/read.p50<20): %s, and percentiles\n",
			strings.Join(mixed, " and "), strings.Join(threshold.KindMetrics(), ", "))
	}
	for _, sc := range scenarios.All() {
		fmt.Fprintf(w, "  %s: %s\n", sc.Name, strings.Join(sc.Metrics, ", "))
	}
	return nil
}
