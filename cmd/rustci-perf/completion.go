// Shell completion beyond cobra's commands and flag names: scenario and
// group names for run and trend --scenario, and the values of the flags
// that take one of a few words (formats, --judge, --distribution, --tiers,
// --profile-kinds). "rustci-perf completion bash|zsh|fish|powershell"
// writes the script that asks for them.

package main

import (
	"maps"
	"slices"
	"strings"

	"github.com/rustci/rustci-perf/pkg/profile"
	"github.com/rustci/rustci-perf/pkg/report"
	"github.com/rustci/rustci-perf/pkg/scenarios"
	"github.com/rustci/rustci-perf/pkg/trend"
	"github.com/spf13/cobra"
)

// completeScenarios completes scenario names (trend --scenario), and
// group names too when withGroups (run's arguments), each with what it
// is, leaving out those already given. A name that is both a group and a
// scenario (limiter) is the group, as run reads it.
func completeScenarios(withGroups bool) cobra.CompletionFunc {
	return func(_ *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		groups := scenarios.Groups()
		var out []cobra.Completion
		seen := map[string]bool{}
		add := func(name, desc string) {
			if strings.HasPrefix(name, toComplete) && !slices.Contains(args, name) && !seen[name] {
				out = append(out, cobra.CompletionWithDesc(name, desc))
			}
			seen[name] = true
		}
		group := func(g string) {
			if scs := groups[g]; len(scs) > 1 || scs[0].Name != g {
				add(g, "group: "+strings.Join(scenarioNames(scs), ", "))
			}
		}
		for _, sc := range scenarios.All() {
			if withGroups && groups[sc.Name] != nil {
				group(sc.Name)
			}
			add(sc.Name, sc.Summary)
		}
		if withGroups {
			for _, g := range scenarios.GroupNames() {
				group(g)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

func scenarioNames(scs []*scenarios.Scenario) []string {
	var out []string
	for _, sc := range scs {
		out = append(out, sc.Name)
	}
	return out
}

// completeWords completes a flag whose value is one of words.
func completeWords(words ...string) cobra.CompletionFunc {
	return func(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		var out []cobra.Completion
		for _, w := range words {
			if strings.HasPrefix(w, toComplete) {
				out = append(out, w)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// completeCommaList completes a flag whose value is a comma-separated
// list of words (--tiers l1,l3): the word after the last comma, among
// those not yet in the list.
func completeCommaList(words ...string) cobra.CompletionFunc {
	return func(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		i := strings.LastIndex(toComplete, ",")
		done, last := toComplete[:i+1], toComplete[i+1:]
		have := strings.Split(strings.TrimSuffix(done, ","), ",")
		var out []cobra.Completion
		for _, w := range words {
			if strings.HasPrefix(w, last) && !slices.Contains(have, w) {
				out = append(out, done+w)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
	}
}

// Each command's formats, for --format's completion and help.
var (
	reportFormats     = report.Formats()
	comparisonFormats = slices.Sorted(maps.Keys(report.ComparisonFormats))
	trendFormats      = slices.Sorted(maps.Keys(trend.Formats))
	historyFormats    = []string{"text", "json"}
)

// completions registers the completion of flags' values on cmd: by flag
// name, a function, and the flags whose value is a directory or a file
// (of the extensions given).
func completions(cmd *cobra.Command, funcs map[string]cobra.CompletionFunc, dirs []string, files map[string][]string) {
	for name, f := range funcs {
		if err := cmd.RegisterFlagCompletionFunc(name, f); err != nil {
			panic(err) // a flag renamed without its completion: a build defect, caught by the tests
		}
	}
	for _, name := range dirs {
		if err := cmd.MarkFlagDirname(name); err != nil {
			panic(err)
		}
	}
	for name, exts := range files {
		if err := cmd.MarkFlagFilename(name, exts...); err != nil {
			panic(err)
		}
	}
}

// profileKinds is what --profile-kinds completes.
var profileKinds = profile.Kinds
