// The root command, and the one place errors become exit codes.

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/rustci/rustci-perf/pkg/report"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Exit codes.
const (
	exitOK          = 0
	exitThreshold   = 1
	exitUsage       = 2
	exitComponent   = 3
	exitOutput      = 4
	exitInterrupted = 130
)

const exitCodesHelp = `Exit codes:
  0    every threshold held
  1    a threshold was missed, or a regression against the baseline
       (compare, run --baseline), or trend alerts
  2    usage or configuration error (unknown command or scenario, bad flag
       or RUSTCI_PERF_* value, bad threshold, bad YAML, an output that
       cannot be written); nothing ran
  3    a scenario could not run (a component error, or a panic in it: its
       value and stack on stderr, the report written); or rustci-perf
       itself panicked
  4    the run finished but a report output could not be written (--output,
       --hgrm, --hlog, --profile, --history, stdout): every other output was
       written, and stderr names each that failed
  130  interrupted (Ctrl-C or SIGTERM), after writing the report of what ran
When several apply, the first of 130, 4, 3, 1 wins.`

// exitError carries an exit code other than 2 out of a command, and the
// failures run prints for it (outputs that could not be written), each on
// a line of its own.
type exitError struct {
	code int
	errs []error
}

func (e *exitError) Error() string { return fmt.Sprintf("exit %d: %v", e.code, errors.Join(e.errs...)) }

// exitWith returns the error a command ends with for code and the outputs
// that failed (nil when there is nothing to say): an output that failed
// makes it exitOutput, which beats every code but an interruption's. A
// missed threshold or a scenario that could not run is in every report
// written; an output that is missing is known only from the exit code and
// stderr.
func exitWith(code int, failed []error) error {
	if len(failed) > 0 && code != exitInterrupted {
		code = exitOutput
	}
	if code == exitOK && len(failed) == 0 {
		return nil
	}
	return &exitError{code: code, errs: failed}
}

// run is the whole program, minus the process: main only adds signals and
// os.Exit. Every error that is not an exitError is a usage error. A panic
// that reaches it exits 3, never 2 (Go's own exit code for a panic, which
// would pass for a usage error), with its value and stack on stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "rustci-perf: panic: %v\n%s", r, debug.Stack())
			code = exitComponent
		}
	}()
	root := newRoot(ctx, stdout, stderr)
	root.SetArgs(args)
	cmd, err := root.ExecuteC()
	var ee *exitError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ee):
		for _, e := range ee.errs {
			fmt.Fprintf(stderr, "rustci-perf: %s\n", oneLine(e.Error()))
		}
		return ee.code
	}
	fmt.Fprintf(stderr, "rustci-perf: %s\n", usageText(namingEnv(cmd, err)))
	return exitUsage
}

// usageText is a usage error as printed: on one line, except cobra's
// suggestions for a mistyped command, which keep their lines
// ("Did you mean this?" and the commands under it, one a line).
func usageText(err error) string {
	msg := strings.TrimSpace(err.Error())
	if strings.HasPrefix(msg, "unknown command ") && strings.Contains(msg, "\nDid you mean this?\n") {
		return msg
	}
	return oneLine(msg)
}

func oneLine(s string) string { return strings.ReplaceAll(strings.TrimSpace(s), "\n", "; ") }

func newRoot(ctx context.Context, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "rustci-perf",
		Short: "Prove that core components are fast enough, and fail the pipeline when they are not",
		Long: `rustci-perf runs named scenarios against built-in components (a multi-tier
cache, a rate limiter), records every operation's latency in an HdrHistogram,
checks thresholds, and exits non-zero when one is missed.

` + envHelp + `

` + exitCodesHelp,
		Example: `  rustci-perf list
  rustci-perf run cache --ops 2000
  rustci-perf compare baseline.json report.json
  source <(rustci-perf completion bash)`,
		Version:       versionLine(),
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetVersionTemplate("{{.Version}}\n")
	// Every command's flags are read from the environment first, before
	// any command's own hooks (history's) look at them.
	cobra.EnableTraverseRunHooks = true
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		return flagsFromEnv(cmd.Flags(), strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()+" "), os.LookupEnv)
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetContext(ctx)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return flagError(err) })
	root.AddCommand(newRunCmd(stdout, stderr), newCompareCmd(stdout), newMergeCmd(stdout), newListCmd(stdout), newVersionCmd(stdout), newHistoryCmd(stdout), newTrendCmd(stdout))
	// cobra adds completion as Execute starts; added now, it is one of
	// the groups refuseUnknown walks.
	root.InitDefaultCompletionCmd()
	refuseUnknown(root)
	return root
}

// refuseUnknown makes each command under root that only groups others
// (history, completion) refuse an argument that names none of them, exit
// 2 with cobra's suggestion, as root does: cobra would show its help and
// exit 0, so that "history lst" in a script passed. Alone, it still shows
// its help.
func refuseUnknown(c *cobra.Command) {
	for _, sub := range c.Commands() {
		refuseUnknown(sub)
	}
	if !c.HasParent() || !c.HasSubCommands() || c.Runnable() {
		return
	}
	c.SuggestionsMinimumDistance = 2 // cobra's default, set only on root
	c.Args = func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return nil
		}
		msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
		if near := cmd.SuggestionsFor(args[0]); len(near) > 0 {
			msg += "\n\nDid you mean this?\n\t" + strings.Join(near, "\n\t") + "\n"
		}
		return errors.New(msg)
	}
	c.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
}

// flagError words a flag's bad value as the configuration's errors are:
// a value's parser names what it reads ("distribution "x": want ..."),
// which, when it is the flag, becomes the flag ("--distribution "x": want
// ..."); a number that does not parse is named with what the flag
// wants; any other error follows the flag's name.
func flagError(err error) error {
	var bad *pflag.InvalidValueError
	if !errors.As(err, &bad) {
		return err
	}
	if named := badValue("--"+bad.GetFlag().Name, bad); named != nil {
		return named
	}
	return err
}

// badValue words a flag's bad value, the flag named as label: "--ops",
// or "$RUSTCI_PERF_OPS" when the value came from the environment; nil
// when pflag gave no cause.
func badValue(label string, bad *pflag.InvalidValueError) error {
	name, cause := bad.GetFlag().Name, errors.Unwrap(bad)
	if cause == nil {
		return nil
	}
	msg := cause.Error()
	for _, key := range []string{name, strings.ReplaceAll(name, "-", "_")} {
		if rest, ok := strings.CutPrefix(msg, key+" "); ok {
			return errors.New(label + " " + rest)
		}
		if rest, ok := strings.CutPrefix(msg, key+": "); ok {
			return errors.New(label + ": " + rest)
		}
	}
	var num *strconv.NumError
	switch typ := bad.GetFlag().Value.Type(); {
	case typ == "duration":
		return fmt.Errorf("%s %q: want a number with a unit, as in 500ms or 2s", label, bad.GetValue())
	case typ == "bool":
		return fmt.Errorf("%s %q: want true or false", label, bad.GetValue())
	case errors.As(cause, &num) && typ == "float64":
		return fmt.Errorf("%s %q: want a number", label, bad.GetValue())
	case errors.As(cause, &num):
		return fmt.Errorf("%s %q: want a whole number", label, bad.GetValue())
	}
	return fmt.Errorf("%s: %s", label, msg)
}

// exitCode maps a report to the process's exit code: an interruption first,
// then a scenario that could not run, then a missed threshold.
func exitCode(r *report.Report) int {
	if r.Interrupted {
		return exitInterrupted
	}
	for _, s := range r.Scenarios {
		if s.Status == report.StatusError {
			return exitComponent
		}
	}
	if !r.Passed || (r.Comparison != nil && r.Comparison.Regressions > 0) {
		return exitThreshold
	}
	return exitOK
}

// unjoin returns the errors err joins (errors.Join), or err alone.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
