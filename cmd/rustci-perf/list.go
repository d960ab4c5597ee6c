// The list command.

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/rustci/rustci-perf/pkg/config"
	"github.com/rustci/rustci-perf/pkg/metric"
	"github.com/rustci/rustci-perf/pkg/scenarios"
	"github.com/rustci/rustci-perf/pkg/threshold"
	"github.com/spf13/cobra"
)

// listOptions are the list command's flags.
type listOptions struct {
	configFile string
	verbose    bool
	format     string
}

// listFormats are list's formats.
var listFormats = []string{"text", "json"}

func newListCmd(stdout io.Writer) *cobra.Command {
	o := &listOptions{}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List scenarios, groups, what each measures, and their thresholds",
		Long: `List the scenarios and groups "rustci-perf run" takes, one line each with
what it measures. -v adds each scenario's kinds of operation and
thresholds (those run would judge: with --config, and of the L2 stack
when a Redis URL is set), and every metric a threshold can name, with its
unit and which way is better. --format json gives all of it to scripts.`,
		Example: `  rustci-perf list
  rustci-perf list -v --config configs/ci.yaml
  rustci-perf list --format json | jq -r '.scenarios[] | select(.group == "cache") | .name'`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return runList(o, stdout)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.configFile, "config", "", "show thresholds with this YAML file laid over the defaults")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "every scenario's kinds and thresholds, and the metrics a threshold can name")
	f.StringVar(&o.format, "format", "text", "text, or json (scenarios, groups and metrics, for scripts)")
	completions(cmd, map[string]cobra.CompletionFunc{"format": completeWords(listFormats...)}, nil, map[string][]string{"config": {"yaml", "yml"}})
	return cmd
}

func runList(o *listOptions, stdout io.Writer) error {
	if !slices.Contains(listFormats, o.format) {
		return fmt.Errorf("--format %q: want %s", o.format, strings.Join(listFormats, " or "))
	}
	// The thresholds run would judge: of the L2 stack when a Redis URL
	// is set, by the file or the environment.
	env := config.CommandLine()
	redisURLFromEnv(env)
	cfg, err := loadConfig(o.configFile, env)
	if err != nil {
		return err
	}
	var write func(io.Writer, *config.Config) error
	switch {
	case o.format == "json":
		write = listJSON
	case o.verbose:
		write = list
	default:
		write = listShort
	}
	if err := write(stdout, cfg); err != nil {
		return exitWith(exitOK, []error{fmt.Errorf("write to stdout: %w", err)})
	}
	return nil
}

// listWidth is the width every line of the short list fits in.
const listWidth = 100

// listShort writes a line per scenario, its group and what it measures
// (wrapped to fit listWidth), then the groups.
func listShort(w io.Writer, _ *config.Config) error {
	all := scenarios.All()
	nameW, groupW := len("SCENARIO"), len("GROUP")
	for _, sc := range all {
		nameW, groupW = max(nameW, len(sc.Name)), max(groupW, len(sc.Group))
	}
	indent := nameW + 2 + groupW + 2
	var b strings.Builder
	row := func(name, group, text string) {
		for i, line := range wrap(text, listWidth-indent) {
			if i > 0 {
				name, group = "", ""
			}
			fmt.Fprintf(&b, "%-*s  %-*s  %s\n", nameW, name, groupW, group, line)
		}
	}
	row("SCENARIO", "GROUP", "MEASURES")
	for _, sc := range all {
		row(sc.Name, sc.Group, sc.Summary)
	}
	b.WriteString("\n")
	for i, line := range wrap("GROUPS (run GROUP runs its scenarios): "+strings.Join(scenarios.GroupNames(), ", "), listWidth) {
		if i > 0 {
			line = "  " + line
		}
		b.WriteString(line + "\n")
	}
	b.WriteString("Thresholds, kinds and metrics: rustci-perf list -v; for scripts: --format json\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// wrap breaks s into lines of at most width characters, between words.
func wrap(s string, width int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(s) {
		switch {
		case line == "":
			line = word
		case utf8.RuneCountInString(line)+1+utf8.RuneCountInString(word) <= width:
			line += " " + word
		default:
			lines = append(lines, line)
			line = word
		}
	}
	return append(lines, line)
}

// listDoc is list --format json: field names are part of the interface.
type listDoc struct {
	Scenarios []listScenario `json:"scenarios"`
	Groups    []listGroup    `json:"groups"`
	Metrics   []listMetric   `json:"metrics"`
}

type listScenario struct {
	Name        string   `json:"name"`
	Group       string   `json:"group"`
	Description string   `json:"description"`
	Kinds       []string `json:"kinds"`
	Thresholds  []string `json:"thresholds"`
}

type listGroup struct {
	Name      string   `json:"name"`
	Scenarios []string `json:"scenarios"`
}

// listMetric is a figure a threshold can name. Unit is ns, ops/s, bytes
// or "" (a count or a ratio); Better is lower, higher or "" (neither).
type listMetric struct {
	Name    string `json:"name"`
	Unit    string `json:"unit"`
	Better  string `json:"better"`
	Meaning string `json:"meaning"`
}

// listJSON writes the scenarios with their thresholds, the groups and
// the metric catalogue (every tier's counters by their names: l1_hits)
// as one JSON document.
func listJSON(w io.Writer, cfg *config.Config) error {
	doc := listDoc{Scenarios: []listScenario{}, Groups: []listGroup{}, Metrics: []listMetric{}}
	for _, sc := range scenarios.All() {
		s, err := cfg.Settings(sc.Name)
		if err != nil {
			return err
		}
		doc.Scenarios = append(doc.Scenarios, listScenario{Name: sc.Name, Group: sc.Group, Description: sc.Summary,
			Kinds: append([]string{}, sc.Kinds...), Thresholds: append([]string{}, s.Thresholds...)})
	}
	groups := scenarios.Groups()
	for _, g := range scenarios.GroupNames() {
		lg := listGroup{Name: g, Scenarios: []string{}}
		for _, sc := range groups[g] {
			lg.Scenarios = append(lg.Scenarios, sc.Name)
		}
		doc.Groups = append(doc.Groups, lg)
	}
	for _, d := range append([]metric.Def{metric.Percentile}, metric.All()...) {
		doc.Metrics = append(doc.Metrics, listMetric{Name: d.Name, Unit: d.Unit, Better: d.Better, Meaning: d.Doc})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // thresholds read p99<10ms, not p99\u003c10ms
	return enc.Encode(doc)
}

// list is list -v: a table of the scenarios with their kinds and
// thresholds, the groups, and the metric catalogue.
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
