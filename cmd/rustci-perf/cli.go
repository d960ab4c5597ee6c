package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/rustci/rustci-perf/pkg/compare"
	"github.com/rustci/rustci-perf/pkg/config"
	"github.com/rustci/rustci-perf/pkg/harness"
	"github.com/rustci/rustci-perf/pkg/merge"
	"github.com/rustci/rustci-perf/pkg/profile"
	"github.com/rustci/rustci-perf/pkg/report"
	"github.com/rustci/rustci-perf/pkg/scenarios"
	"github.com/rustci/rustci-perf/pkg/suite"
	"github.com/rustci/rustci-perf/pkg/threshold"
	"github.com/rustci/rustci-perf/pkg/workload"
	"github.com/spf13/cobra"
)

// version is set at build time: -ldflags "-X main.version=v1.2.3".
var version = "dev"

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
       (compare, run --baseline)
  2    usage or configuration error (unknown scenario, bad flag value, bad
       threshold, bad YAML, an output that cannot be written); nothing ran
  3    a scenario could not run (a component error, or a panic in it: its
       value and stack on stderr, the report written); or rustci-perf
       itself panicked
  4    the run finished but a report output could not be written (--output,
       --hgrm, --profile, stdout): every other output was written, and
       stderr names each that failed
  130  interrupted (Ctrl-C or SIGTERM), after writing the report of what ran
When several apply, the first of 130, 4, 3, 1 wins.`

// exitError carries an exit code other than 2 out of a command.
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

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
	err := root.Execute()
	var ee *exitError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ee):
		return ee.code
	}
	fmt.Fprintf(stderr, "rustci-perf: %s\n", oneLine(err.Error()))
	return exitUsage
}

func oneLine(s string) string { return strings.ReplaceAll(strings.TrimSpace(s), "\n", "; ") }

func newRoot(ctx context.Context, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "rustci-perf",
		Short: "Prove that core components are fast enough, and fail the pipeline when they are not",
		Long: `rustci-perf runs named scenarios against built-in components (a multi-tier
cache, a rate limiter), records every operation's latency in an HdrHistogram,
checks thresholds, and exits non-zero when one is missed.

` + exitCodesHelp,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetContext(ctx)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return err })
	root.AddCommand(newRunCmd(stdout, stderr), newCompareCmd(stdout, stderr), newMergeCmd(stdout, stderr), newListCmd(stdout), newVersionCmd(stdout))
	return root
}

// runOptions are the run command's flags.
type runOptions struct {
	configFile  string
	ops         int
	concurrency int
	duration    time.Duration
	warmup      string
	seed        int64
	valueSize   string
	keys        int
	dist        string
	rate        float64
	stages      string
	count       int
	judge       string
	readRatio   float64
	trace       string
	thresholds  []string
	format      string
	outputs     []string
	hgrm        string
	profile     string
	profKinds   string
	quiet       bool
	live        bool
	redisURL    string
	tiers       []string
	l3Dir       string
	require     bool
	baseline    string
	compareFlags
}

func newRunCmd(stdout, stderr io.Writer) *cobra.Command {
	o := &runOptions{}
	cmd := &cobra.Command{
		Use:   "run SCENARIO|GROUP...",
		Short: "Run scenarios and judge their thresholds",
		Long: `Run the named scenarios or groups (see "rustci-perf list"), print a report,
and exit 1 if any threshold is missed.

` + exitCodesHelp,
		Example: `  rustci-perf run all
  rustci-perf run cache --ops 2000
  rustci-perf run latency limiter --concurrency 8
  rustci-perf run all --format json --output report.json
  rustci-perf run cache-read --threshold 'cache-read:p99<2ms' --config configs/ci.yaml`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRun(cmd, o, args, stdout, stderr)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.configFile, "config", "", "YAML file laid over the embedded defaults (unknown keys are errors)")
	f.IntVar(&o.ops, "ops", 0, "measured operations per scenario, across all workers")
	f.IntVar(&o.concurrency, "concurrency", 0, "workers (goroutines) per scenario")
	f.DurationVar(&o.duration, "duration", 0, "run each scenario for this long instead of --ops operations")
	f.StringVar(&o.warmup, "warmup", "", "unrecorded operations (500) or time (2s) before measuring")
	f.Int64Var(&o.seed, "seed", 0, "seed of generated keys, values and mixes")
	f.StringVar(&o.valueSize, "value-size", "", "bytes per cache value, or a range MIN-MAX drawn uniformly (default 128)")
	f.IntVar(&o.keys, "keys", 0, "key space of the reading scenarios (default: one key per operation)")
	f.Float64Var(&o.rate, "rate", 0, "open loop: operations per second in all, each timed from when it was due (default: closed loop)")
	f.IntVar(&o.count, "count", 1, "run each scenario N times; the report keeps each run and the median, min, max and CV of each figure")
	f.StringVar(&o.judge, "judge", "median", "with --count: judge thresholds on the runs' median, worst, or each run")
	f.StringVar(&o.stages, "stages", "", "open loop with a ramping rate, as 10s:1000,30s:5000,10s:0 (linear between stages, from 0)")
	f.StringVar(&o.trace, "trace", "", "replay this file's keys (one per line) in the reading scenarios instead of generated ones")
	f.Float64Var(&o.readRatio, "read-ratio", 0, "share of reads in the mixed scenarios, concurrent (0.8) and latency (0.9)")
	f.StringVar(&o.dist, "distribution", "", "how reads pick keys: uniform, sequential, zipfian or zipfian:THETA")
	f.StringArrayVar(&o.thresholds, "threshold", nil, "add a threshold, as 'p99<10ms' or 'cache-read:hit_rate>0.95' (repeatable)")
	f.StringVar(&o.format, "format", "text", "report format: "+strings.Join(report.Formats(), ", "))
	f.StringArrayVar(&o.outputs, "output", nil, "write the report to a file (atomically; $GITHUB_STEP_SUMMARY appended to), as FORMAT=PATH (json=r.json, junit=junit.xml, markdown=summary.md) or in --format, else by extension (.json, .xml junit, .md, .html, .txt; others text); repeatable; stdout then gets the text report, unless PATH is - (stdout: json=- writes JSON there instead)")
	f.StringVar(&o.hgrm, "hgrm", "", "write each scenario's percentile distribution as DIR/<scenario>.hgrm (HdrHistogram's format, µs)")
	f.StringVar(&o.profile, "profile", "", "write Go runtime profiles of each scenario's measured phase as DIR/<scenario>.<kind>.pprof, for go tool pprof")
	f.StringVar(&o.profKinds, "profile-kinds", strings.Join(profile.Default, ","), "with --profile: the profiles to write, from "+strings.Join(profile.Kinds, ","))
	f.BoolVarP(&o.quiet, "quiet", "q", false, "no progress on stderr")
	f.BoolVar(&o.live, "progress", false, "live progress bars on stderr even when it is not a terminal or CI is set (default: bars on a terminal outside CI, plain lines otherwise)")
	f.StringVar(&o.redisURL, "redis-url", "", "Redis for the L2 tier and cache-l2: redis://[user:password@]host:port[/db], rediss:// for TLS (default $"+redisURLEnv+")")
	f.StringSliceVar(&o.tiers, "tiers", nil, "cache tiers to stack, from l1,l2,l3 (default l1,l3, with l2 when a Redis URL is set)")
	f.StringVar(&o.l3Dir, "l3-dir", "", "keep the L3 tier's store in this directory across runs (default: a temporary one per scenario)")
	f.BoolVar(&o.require, "require", false, "make a scenario that would be skipped (cache-l2 with no Redis URL) an error")
	f.StringVar(&o.baseline, "baseline", "", "compare with this JSON report after the thresholds (as rustci-perf compare does); a regression exits 1")
	o.compareFlags.register(cmd)
	return cmd
}

// redisURLEnv names the environment variable that sets the Redis URL when
// --redis-url is not given; it beats the config file.
const redisURLEnv = "RUSTCI_PERF_REDIS_URL"

// applyCacheFlags lays the cache flags (and $RUSTCI_PERF_REDIS_URL) over the
// configuration's cache section, which applies to every scenario.
func applyCacheFlags(cmd *cobra.Command, o *runOptions, c *config.Cache) {
	set := cmd.Flags().Changed
	if env := os.Getenv(redisURLEnv); env != "" {
		c.L2.URL = env
	}
	if set("redis-url") {
		c.L2.URL = o.redisURL
	}
	if set("tiers") {
		c.Tiers = o.tiers
	}
	if set("l3-dir") {
		c.L3.Dir = o.l3Dir
	}
}

// flagParams turns the flags the user set into config overrides, checking
// each value here so the error names the flag.
func flagParams(cmd *cobra.Command, o *runOptions) (config.Params, error) {
	var p config.Params
	set := cmd.Flags().Changed
	if set("ops") {
		if o.ops < 1 {
			return p, fmt.Errorf("--ops %d: want at least 1", o.ops)
		}
		p.Ops = &o.ops
	}
	if set("concurrency") {
		if o.concurrency < 1 {
			return p, fmt.Errorf("--concurrency %d: want at least 1", o.concurrency)
		}
		p.Concurrency = &o.concurrency
	}
	if set("duration") {
		if o.duration <= 0 {
			return p, fmt.Errorf("--duration %s: want more than 0", o.duration)
		}
		d := config.Duration(o.duration)
		p.Duration = &d
	}
	if set("warmup") {
		w, err := config.ParseWarmup(o.warmup)
		if err != nil {
			return p, fmt.Errorf("--%w", err)
		}
		p.Warmup = &w
	}
	if set("seed") {
		p.Seed = &o.seed
	}
	if set("value-size") {
		lo, hi, err := parseSizeRange(o.valueSize)
		if err != nil {
			return p, err
		}
		p.ValueSize, p.ValueSizeMax = &lo, &hi
	}
	if set("rate") {
		if !(o.rate > 0 && o.rate <= 1e9) {
			return p, fmt.Errorf("--rate %g: want more than 0, at most 1e9 operations per second", o.rate)
		}
		p.Rate = &o.rate
	}
	if set("count") {
		if o.count < 1 || o.count > config.MaxCount {
			return p, fmt.Errorf("--count %d: want 1 to %d", o.count, config.MaxCount)
		}
		p.Count = &o.count
	}
	if set("judge") {
		if o.judge != "median" && o.judge != "worst" && o.judge != "each" {
			return p, fmt.Errorf("--judge %q: want median, worst or each", o.judge)
		}
		p.Judge = &o.judge
	}
	if set("stages") {
		if set("rate") {
			return p, errors.New("--rate and --stages: give one")
		}
		if _, err := harness.ParseStages(o.stages); err != nil {
			return p, fmt.Errorf("--stages: %w", err)
		}
		p.Stages = &o.stages
	}
	if set("trace") {
		f, err := os.Open(o.trace)
		if err != nil {
			return p, fmt.Errorf("--trace: %w", err)
		}
		defer f.Close()
		t, err := workload.ReadTrace(f)
		if err != nil {
			return p, fmt.Errorf("--trace %s: %w", o.trace, err)
		}
		p.Trace = t
	}
	if set("read-ratio") {
		if !(o.readRatio >= 0 && o.readRatio <= 1) {
			return p, fmt.Errorf("--read-ratio %g: want 0 to 1", o.readRatio)
		}
		p.ReadRatio = &o.readRatio
	}
	if set("keys") {
		if o.keys < 1 || o.keys > config.MaxKeys {
			return p, fmt.Errorf("--keys %d: want 1 to %d", o.keys, config.MaxKeys)
		}
		p.Keys = &o.keys
	}
	if set("distribution") {
		if _, err := workload.ParseDistribution(o.dist); err != nil {
			return p, fmt.Errorf("--%w", err)
		}
		p.Distribution = &o.dist
	}
	return p, nil
}

// parseSizeRange reads --value-size: "128" or "64-1024".
func parseSizeRange(s string) (lo, hi int, err error) {
	a, b, isRange := strings.Cut(s, "-")
	lo, err1 := strconv.Atoi(strings.TrimSpace(a))
	hi, err2 := lo, error(nil)
	if isRange {
		hi, err2 = strconv.Atoi(strings.TrimSpace(b))
	}
	if err1 != nil || err2 != nil || lo < 1 || hi < lo || hi > config.MaxValueSize {
		return 0, 0, fmt.Errorf("--value-size %q: want bytes from 1 to %d, or a range MIN-MAX", s, config.MaxValueSize)
	}
	return lo, hi, nil
}

// loadConfig reads the embedded defaults and, if named, the user's file;
// l2 says the cache stack has L2, whose embedded defaults then apply.
func loadConfig(file string, l2 bool) (*config.Config, error) {
	if file == "" {
		return config.LoadStack(nil, "", scenarios.Names(), l2)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", file, errors.Unwrap(err))
	}
	return config.LoadStack(data, file, scenarios.Names(), l2)
}

// loadStackConfig loads the configuration with the cache flags laid over
// it, choosing the embedded defaults for the stack that results: whether
// L2 is in it depends on the file, the flags and $RUSTCI_PERF_REDIS_URL
// together, so the file is read once to know, and again with the L2
// defaults under it when L2 is.
func loadStackConfig(cmd *cobra.Command, o *runOptions) (*config.Config, error) {
	cfg, err := loadConfig(o.configFile, false)
	if err != nil {
		return nil, err
	}
	applyCacheFlags(cmd, o, &cfg.Cache)
	if !slices.Contains(cfg.Cache.StackTiers(), "l2") {
		return cfg, nil
	}
	if cfg, err = loadConfig(o.configFile, true); err != nil {
		return nil, err
	}
	applyCacheFlags(cmd, o, &cfg.Cache)
	return cfg, nil
}

func runRun(cmd *cobra.Command, o *runOptions, args []string, stdout, stderr io.Writer) error {
	// Everything the user gave is checked before anything runs.
	format, err := report.Lookup(o.format)
	if err != nil {
		return fmt.Errorf("--format: %w", err)
	}
	outs, err := parseOutputs(o.outputs, o.format, cmd.Flags().Changed("format"), reportFormat, stdout)
	if err != nil {
		return err
	}
	defer closeOutputs(outs)
	if o.hgrm != "" {
		if err := report.CheckDir(o.hgrm); err != nil {
			return fmt.Errorf("--hgrm: %w", err)
		}
	}
	var prof *profile.Dir
	if o.profile != "" {
		if err := report.CheckDir(o.profile); err != nil {
			return fmt.Errorf("--profile: %w", err)
		}
		kinds, err := profile.ParseKinds(o.profKinds)
		if err != nil {
			return fmt.Errorf("--profile-kinds: %w", err)
		}
		prof = profile.New(o.profile, kinds)
	} else if cmd.Flags().Changed("profile-kinds") {
		return errors.New("--profile-kinds: give --profile DIR too")
	}
	flags, err := flagParams(cmd, o)
	if err != nil {
		return err
	}
	cfg, err := loadStackConfig(cmd, o)
	if err != nil {
		return err
	}
	copts, err := o.compareFlags.options()
	if err != nil {
		return err
	}
	var baseline *report.Report
	if o.baseline != "" {
		if baseline, err = report.ReadFile(o.baseline); err != nil {
			return fmt.Errorf("--baseline: %w", err)
		}
	}
	var progress io.Writer
	if !o.quiet {
		progress = stderr
	}
	// Bars redraw in place: only for a person watching a terminal.
	live := o.live || (isTerminal(stderr) && os.Getenv("CI") == "")
	plan, err := suite.NewPlan(suite.Options{
		Names:      args,
		Config:     cfg,
		Flags:      flags,
		Thresholds: o.thresholds,
		Version:    version,
		Progress:   progress,
		Require:    o.require,
		Live:       live && !o.quiet,
		Profile:    prof,
		Panics:     stderr,
	})
	if err != nil {
		return err
	}
	if baseline != nil {
		if err := sharesScenario(baseline, plan.Names()); err != nil {
			return fmt.Errorf("--baseline %s: %w", o.baseline, err)
		}
	}

	rep := plan.Run(cmd.Context())
	if baseline != nil && !rep.Interrupted {
		c, err := compare.Reports(compare.Side{Name: o.baseline, Report: baseline}, compare.Side{Name: "this run", Report: rep}, copts)
		if err != nil {
			// Every scenario in common was skipped or failed to run:
			// there is nothing to compare, and the report says why.
			fmt.Fprintf(stderr, "rustci-perf: --baseline: %s\n", oneLine(err.Error()))
		} else {
			rep.Comparison = c
		}
	}

	written := true
	if o.hgrm != "" {
		if err := report.WriteHgrm(o.hgrm, rep); err != nil {
			for _, e := range unjoin(err) {
				fmt.Fprintf(stderr, "rustci-perf: --hgrm: %s\n", oneLine(e.Error()))
			}
			written = false
		}
	}
	if prof != nil {
		if err := prof.Err(); err != nil {
			for _, e := range unjoin(err) {
				fmt.Fprintf(stderr, "rustci-perf: --profile: %s\n", oneLine(e.Error()))
			}
			written = false
		}
	}
	return emit(rep, outs, format, stdout, stderr, written)
}

// emit writes rep to every output, then to stdout unless an output is
// stdout (in format, or as text when files were written), and returns the
// exit code rep calls for, or exitOutput when an output could not be
// written, this one or one before (written false, as for --hgrm).
func emit(rep *report.Report, outs []output[report.Formatter], format report.Formatter, stdout, stderr io.Writer, written bool) error {
	written = writeOutputs(outs, stdout, stderr, func(w io.Writer, f report.Formatter) error { return f(w, rep) }) && written
	if !toStdout(outs) {
		if len(outs) > 0 {
			format = report.Text
		}
		if err := format(stdout, rep); err != nil {
			fmt.Fprintf(stderr, "rustci-perf: write report to stdout: %s\n", oneLine(err.Error()))
			written = false
		}
	}
	if code := withOutputs(exitCode(rep), written); code != exitOK {
		return &exitError{code}
	}
	return nil
}

// withOutputs is the exit code when outputs could not all be written
// (written false): exitOutput, which beats every code but an
// interruption's. A missed threshold or a scenario that could not run is
// in every report written; an output that is missing is known only from
// the exit code and stderr.
func withOutputs(code int, written bool) int {
	if !written && code != exitInterrupted {
		return exitOutput
	}
	return code
}

// output is one --output: the value given, to name it in messages, the
// format to write (a report's or a comparison's), and where: a file
// opened before the run, or stdout when file is nil.
type output[F any] struct {
	value  string
	format F
	file   *report.Output
}

// writeOutputs writes to each output what write makes of its format,
// going on past one that fails: stderr names each failure. It reports
// whether every output was written.
func writeOutputs[F any](outs []output[F], stdout, stderr io.Writer, write func(io.Writer, F) error) bool {
	ok := true
	for _, o := range outs {
		var err error
		if o.file == nil {
			err = write(stdout, o.format)
		} else {
			err = o.file.Write(func(w io.Writer) error { return write(w, o.format) })
		}
		if err != nil {
			fmt.Fprintf(stderr, "rustci-perf: --output %q: %s\n", o.value, oneLine(err.Error()))
			ok = false
		}
	}
	return ok
}

// toStdout reports whether one of outs is stdout.
func toStdout[F any](outs []output[F]) bool {
	return slices.ContainsFunc(outs, func(o output[F]) bool { return o.file == nil })
}

// closeOutputs releases outputs not written, such as FIFOs held open when
// a later usage error stops the command.
func closeOutputs[F any](outs []output[F]) {
	for _, o := range outs {
		if o.file != nil {
			o.file.Close()
		}
	}
}

// unjoin returns the errors err joins (errors.Join), or err alone.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// stepSummaryEnv names the file GitHub Actions shows as a job's summary.
// Steps append to it, as GitHub documents: it is never replaced.
const stepSummaryEnv = "GITHUB_STEP_SUMMARY"

// parseOutputs reads the --output values, FORMAT=PATH or PATH, before
// anything runs: each format looked up, each path opened as
// report.OpenOutput does (checked writable; a device or FIFO held open),
// no file named twice. A bare PATH is written in the first of: --format
// when the user gave it (formatSet); markdown when PATH is
// $GITHUB_STEP_SUMMARY; the format its extension calls for
// (report.FormatForPath; lookup is told, byExt); text.
// $GITHUB_STEP_SUMMARY is appended to, every other regular file replaced
// atomically. PATH "-", or a path that is stdout itself (/dev/stdout, or
// the file stdout is redirected to), is stdout, which then gets that
// output alone: writing it through its own descriptor would put two
// reports in one stream, or rename a file from under the shell's
// redirection. The caller closes the outputs (closeOutputs) it does not
// write.
func parseOutputs[F any](values []string, format string, formatSet bool, lookup func(name string, byExt bool) (F, error), stdout io.Writer) (outs []output[F], err error) {
	summary := os.Getenv(stepSummaryEnv)
	isSummary := func(path string) bool { return summary != "" && samePath(path, summary) }
	defer func() {
		if err != nil {
			closeOutputs(outs)
			outs = nil
		}
	}()
	for _, v := range values {
		name, path, named := strings.Cut(v, "=")
		byExt := false
		switch {
		case named:
		case formatSet:
			name, path = format, v
		case isSummary(v):
			name, path = "markdown", v
		default:
			path = v
			if name, byExt = report.FormatForPath(v); !byExt {
				name = "text"
			}
		}
		f, err := lookup(name, byExt)
		if err != nil {
			return outs, fmt.Errorf("--output %q: %w", v, err)
		}
		o := output[F]{value: v, format: f}
		if !isStdout(path, stdout) {
			mode := report.Replace
			if isSummary(path) {
				mode = report.Append
			}
			if o.file, err = report.OpenOutput(path, mode); err != nil {
				return outs, fmt.Errorf("--output %q: %w", v, err)
			}
		}
		for _, prev := range outs {
			switch {
			case prev.file == nil && o.file == nil:
				return outs, fmt.Errorf("--output %q and --output %q both write to stdout: give one", prev.value, v)
			case prev.file != nil && o.file != nil && prev.file.Same(o.file):
				o.file.Close()
				return outs, fmt.Errorf("--output %q and --output %q write the same file: give each its own", prev.value, v)
			}
		}
		outs = append(outs, o)
	}
	return outs, nil
}

// isStdout reports whether path is "-" or names the file stdout is.
func isStdout(path string, stdout io.Writer) bool {
	if path == "-" {
		return true
	}
	f, ok := stdout.(*os.File)
	if !ok {
		return false
	}
	a, err1 := f.Stat()
	b, err2 := os.Stat(path)
	return err1 == nil && err2 == nil && os.SameFile(a, b)
}

// reportFormat looks up a report format for parseOutputs.
func reportFormat(name string, _ bool) (report.Formatter, error) { return report.Lookup(name) }

// comparisonFormat looks up a comparison format for parseOutputs: text,
// json or markdown. An extension that calls for another (.xml, .html) is a
// usage error rather than text in a file named for something else.
func comparisonFormat(name string, byExt bool) (func(io.Writer, *report.Comparison) error, error) {
	if f, ok := report.ComparisonFormats[name]; ok {
		return f, nil
	}
	if byExt {
		return nil, fmt.Errorf("its extension calls for %s, and compare writes text, json or markdown: name one (markdown=FILE) or give --format", name)
	}
	return nil, fmt.Errorf("unknown comparison format %q: want text, json or markdown", name)
}

// samePath reports whether a and b name one file: the same absolute path,
// or, when both exist, the same file (through a link).
func samePath(a, b string) bool {
	aa, err1 := filepath.Abs(a)
	bb, err2 := filepath.Abs(b)
	if err1 == nil && err2 == nil && aa == bb {
		return true
	}
	ai, err1 := os.Stat(a)
	bi, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(ai, bi)
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
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

func newMergeCmd(stdout, stderr io.Writer) *cobra.Command {
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
			return emit(rep, outs, f, stdout, stderr, true)
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "report format: "+strings.Join(report.Formats(), ", "))
	cmd.Flags().StringArrayVar(&outputs, "output", nil, "write the merged report to a file (atomically; $GITHUB_STEP_SUMMARY appended to), as FORMAT=PATH or in --format, else by extension (.json, .xml junit, .md, .html, .txt; others text); repeatable; PATH - is stdout, which then gets that instead of the text report")
	return cmd
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

func newCompareCmd(stdout, stderr io.Writer) *cobra.Command {
	var cf compareFlags
	var format string
	var outputs []string
	cmd := &cobra.Command{
		Use:   "compare BASE.json NEW.json",
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
  rustci-perf compare baseline.json report.json --min-effect 10% --output "$GITHUB_STEP_SUMMARY"`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, files []string) error {
			write, ok := report.ComparisonFormats[format]
			if !ok {
				return fmt.Errorf("--format %q: want text, json or markdown", format)
			}
			o, err := cf.options()
			if err != nil {
				return err
			}
			outs, err := parseOutputs(outputs, format, cmd.Flags().Changed("format"), comparisonFormat, stdout)
			if err != nil {
				return err
			}
			defer closeOutputs(outs)
			var sides [2]compare.Side
			for i, file := range files {
				r, err := report.ReadFile(file)
				if err != nil {
					return fmt.Errorf("compare: %w", err)
				}
				sides[i] = compare.Side{Name: file, Report: r}
			}
			c, err := compare.Reports(sides[0], sides[1], o)
			if err != nil {
				return err
			}
			written := writeOutputs(outs, stdout, stderr, func(w io.Writer, f func(io.Writer, *report.Comparison) error) error { return f(w, c) })
			if len(outs) == 0 { // otherwise the outputs hold it, and stdout gets nothing else
				if err := write(stdout, c); err != nil {
					fmt.Fprintf(stderr, "rustci-perf: write comparison to stdout: %s\n", oneLine(err.Error()))
					written = false
				}
			}
			if !written {
				return &exitError{exitOutput}
			}
			if c.Regressions > 0 {
				return &exitError{exitThreshold}
			}
			return nil
		},
	}
	cf.register(cmd)
	cmd.Flags().StringVar(&format, "format", "text", "comparison format: text, json, markdown")
	cmd.Flags().StringArrayVar(&outputs, "output", nil, "write the comparison to a file instead of stdout (atomically; $GITHUB_STEP_SUMMARY appended to), as FORMAT=PATH or in --format, else by extension (.json, .md, .txt; others text; .xml and .html are errors); repeatable; PATH - is stdout")
	return cmd
}

func newListCmd(stdout io.Writer) *cobra.Command {
	var configFile string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List scenarios, groups, what each measures, and their thresholds",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			cfg, err := loadConfig(configFile, false)
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
		s, err := cfg.Settings(sc.Name, config.Params{})
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

func newVersionCmd(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprintf(stdout, "rustci-perf %s (%s %s/%s)\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return err
		},
	}
}
