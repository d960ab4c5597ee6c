// The list command.

package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/rustci/rustci-perf/pkg/config"
	"github.com/rustci/rustci-perf/pkg/metric"
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
			// The thresholds run would judge: of the L2 stack when a
			// Redis URL is set, by the file or the environment.
			env := config.CommandLine()
			redisURLFromEnv(env)
			cfg, err := loadConfig(configFile, env)
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
	fmt.Fprintln(w, "\nMETRICS a threshold can name: unit (a limit in ns takes one: p99<2ms, cpu_per_op<2µs; any other, a plain number: alloc_bytes_per_op<64), which way is better, what it is")
	listMetrics(w)
	return nil
}

// listMetrics writes the metric catalogue, each figure once under the
// scenarios that report it: those of every scenario, what each kind of
// operation has, what every scenario's measured phase cost, the
// scenarios' own, and the counters of each tier.
func listMetrics(w io.Writer) {
	type group struct {
		head string
		defs []metric.Def
	}
	var groups []*group
	add := func(head string, d metric.Def) {
		for _, g := range groups {
			if g.head == head {
				g.defs = append(g.defs, d)
				return
			}
		}
		groups = append(groups, &group{head: head, defs: []metric.Def{d}})
	}
	reporters := func(name string) string {
		var out []string
		for _, sc := range scenarios.All() {
			if slices.Contains(sc.Metrics, name) {
				out = append(out, sc.Name)
			}
		}
		if len(out) == 0 {
			return "no built-in scenario"
		}
		return strings.Join(out, ", ")
	}
	add("every scenario", metric.Percentile)
	for _, d := range metric.All() {
		switch {
		case d.Cost:
			add("every scenario, what its measured phase cost the whole process (every goroutine, rustci-perf's own too)", d)
		case d.Every:
			add("every scenario", d)
		case d.Tier == "":
			add(reporters(d.Name), d)
		}
	}
	tiers := strings.Join(metric.Tiers, ", ")
	for _, d := range metric.TierCounters() {
		head := fmt.Sprintf("each tier in the stack (%s) of %s, as TIER_NAME", tiers, reporters(metric.Tiers[0]+"_"+d.Name))
		d.Name = "TIER_" + d.Name
		add(head, d)
	}
	width := 0
	for _, g := range groups {
		for _, d := range g.defs {
			width = max(width, len(d.Name))
		}
	}
	or := func(s, none string) string {
		if s == "" {
			return none
		}
		return s
	}
	for i, g := range groups {
		fmt.Fprintf(w, "  %s:\n", g.head)
		for _, d := range g.defs {
			fmt.Fprintf(w, "    %-*s  %-5s  %-6s  %s\n", width, d.Name, or(d.Unit, "-"), or(d.Better, "-"), d.Doc)
		}
		if i == 0 {
			listKinds(w)
			fmt.Fprintf(w, "  per window, as METRIC[1s] or METRIC[5s, 95%%] (p99[1s]<10ms): %s, and percentiles, each kind's too\n",
				strings.Join(metric.Names(func(d metric.Def) bool { return d.Windowed }), ", "))
		}
	}
}

// listKinds writes the figures each kind of operation has, in the
// scenarios that mix several.
func listKinds(w io.Writer) {
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
}
