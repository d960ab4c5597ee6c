// Flags from the environment: every flag of every command is also
// RUSTCI_PERF_<NAME>, its long name upper-cased with dashes as
// underscores (--ops: RUSTCI_PERF_OPS, --redis-url: RUSTCI_PERF_REDIS_URL),
// but for the flags that say what a command writes where (--format,
// --output), which mean another thing in each command:
// RUSTCI_PERF_<COMMAND>_<NAME> (RUSTCI_PERF_RUN_FORMAT,
// RUSTCI_PERF_HISTORY_LIST_FORMAT), so that a variable exported for run
// does not make compare write its comparison over run's report.

package main

import (
	"errors"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// envPrefix begins the name of every flag's environment variable.
const envPrefix = "RUSTCI_PERF_"

const envHelp = `Environment:
  Every flag is also an environment variable: RUSTCI_PERF_ and its name
  upper-cased, dashes as underscores (RUSTCI_PERF_OPS=2000,
  RUSTCI_PERF_REDIS_URL, RUSTCI_PERF_HISTORY), for every command that has
  the flag; --format and --output, which each command reads its own way,
  are RUSTCI_PERF_<COMMAND>_FORMAT and _OUTPUT (RUSTCI_PERF_RUN_FORMAT,
  RUSTCI_PERF_TREND_OUTPUT). A flag given beats its variable, which beats the config file,
  which beats the defaults. An empty variable is unset. A repeatable flag
  (--threshold, --output, --inject, --meta, --slo, --label, --scenario,
  --metric) takes one value a line; a flag given replaces them all. A bad
  value is exit 2, naming the variable.`

// envAnnotation marks a flag set from its variable; its value is the
// variable's name.
const envAnnotation = "rustci-perf-env"

// perCommand are the flags whose variable names its command: what a
// command writes, and where, is its own.
var perCommand = map[string]bool{"format": true, "output": true}

// envName is the variable of the flag named name of the command whose
// path below the root is command ("run", "history list").
func envName(command, name string) string {
	if perCommand[name] && command != "" {
		name = command + "_" + name
	}
	return envPrefix + strings.ToUpper(strings.NewReplacer("-", "_", " ", "_").Replace(name))
}

// repeatable reports whether f adds a value each time it is given.
func repeatable(f *pflag.Flag) bool {
	switch f.Value.Type() {
	case "stringArray", "stringSlice", "spec", "key=value":
		return true
	}
	return false
}

// flagsFromEnv sets each flag of fs, command's (its path below the root),
// not given on the command line from
// its variable, when lookup finds it set and not empty, as if it were
// given (pflag.Flag.Changed), and marks it so (envAnnotation). help and
// version are not read from the environment.
func flagsFromEnv(fs *pflag.FlagSet, command string, lookup func(string) (string, bool)) error {
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		if err != nil || f.Changed || f.Name == "help" || f.Name == "version" {
			return
		}
		name := envName(command, f.Name)
		v, ok := lookup(name)
		if !ok || v == "" {
			return
		}
		values := []string{v}
		if repeatable(f) {
			values = nil
			for line := range strings.Lines(v) {
				if line = strings.TrimSpace(line); line != "" {
					values = append(values, line)
				}
			}
		}
		for _, val := range values {
			if e := fs.Set(f.Name, val); e != nil {
				var bad *pflag.InvalidValueError
				if errors.As(e, &bad) {
					if named := badValue("$"+name, bad); named != nil {
						e = named
					}
				}
				err = e
				return
			}
		}
		if e := fs.SetAnnotation(f.Name, envAnnotation, []string{name}); e != nil {
			err = e
		}
	})
	return err
}

// flagOrigin names where the value of cmd's flag name came from: its
// variable ("$RUSTCI_PERF_HISTORY") or the flag ("--history"); "" when it
// was not given.
func flagOrigin(fs *pflag.FlagSet, name string) string {
	f := fs.Lookup(name)
	switch {
	case f == nil || !f.Changed:
		return ""
	case len(f.Annotations[envAnnotation]) > 0:
		return "$" + f.Annotations[envAnnotation][0]
	}
	return "--" + name
}

// namingEnv rewrites a usage error of cmd that begins with a flag set
// from its variable ("--format "x": want ...") to begin with the
// variable ("$RUSTCI_PERF_FORMAT "x": want ..."): the user did not type
// the flag.
func namingEnv(cmd *cobra.Command, err error) error {
	if cmd == nil {
		return err
	}
	msg := err.Error()
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		origin := flagOrigin(cmd.Flags(), f.Name)
		if !strings.HasPrefix(origin, "$") {
			return
		}
		for _, sep := range []string{" ", ":", "="} {
			if rest, ok := strings.CutPrefix(msg, "--"+f.Name+sep); ok {
				msg = origin + sep + rest
				return
			}
		}
	})
	if msg == err.Error() {
		return err
	}
	return errors.New(msg)
}
