// The run command: flags, configuration, the run, and its report.

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/rustci/rustci-perf/pkg/compare"
	"github.com/rustci/rustci-perf/pkg/config"
	"github.com/rustci/rustci-perf/pkg/engine"
	"github.com/rustci/rustci-perf/pkg/profile"
	"github.com/rustci/rustci-perf/pkg/report"
	"github.com/rustci/rustci-perf/pkg/scenarios"
	"github.com/rustci/rustci-perf/pkg/workload"
	"github.com/spf13/cobra"
)

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

// flagParams turns the flags the user set into config overrides. A value's
// range is checked once, with the settings it resolves to
// (config.Settings), which names the flag; only what a flag means
// differently from the same key in a file is checked here (--rate 0 and
// --keys 0 are refused, where rate: 0 and keys: 0 mean closed loop and the
// scenario's choice).
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
		p.Count = &o.count
	}
	if set("judge") {
		p.Judge = &o.judge
	}
	if set("stages") {
		// The stages are the run's length and rate.
		for _, f := range []string{"duration", "ops"} {
			if set(f) {
				return p, fmt.Errorf("--stages and --%s: the stages set how long the run lasts; give one", f)
			}
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
	if err := outputsClear(outs, []string{o.baseline}, fills{"--hgrm", o.hgrm, ".hgrm"}, fills{"--profile", o.profile, ".pprof"}); err != nil {
		return err
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
	// Bars redraw in place: only for a person watching a terminal.
	live := o.live || (isTerminal(stderr) && os.Getenv("CI") == "")
	plan, err := engine.NewPlan(engine.Options{
		Names:      args,
		Config:     cfg,
		Flags:      flags,
		Thresholds: o.thresholds,
		Version:    version,
		Progress:   newProgress(stderr, o.quiet, live),
		Require:    o.require,
		Profile:    prof,
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

	var failed []error
	if o.hgrm != "" {
		if err := report.WriteHgrm(o.hgrm, rep); err != nil {
			for _, e := range unjoin(err) {
				failed = append(failed, fmt.Errorf("--hgrm: %w", e))
			}
		}
	}
	if prof != nil {
		if err := prof.Err(); err != nil {
			for _, e := range unjoin(err) {
				failed = append(failed, fmt.Errorf("--profile: %w", e))
			}
		}
	}
	return emit(cmd.Context(), rep, outs, format, stdout, failed)
}

// emit writes rep to every output, then to stdout unless an output is
// stdout (in format, or as text when files were written), and returns the
// error for the exit code rep calls for, with the outputs that failed,
// here or before (failed, as --hgrm's). A signal while it writes is
// honoured (writing ends, see writing) and makes the exit 130.
func emit(ctx context.Context, rep *report.Report, outs []output[report.Formatter], format report.Formatter, stdout io.Writer, failed []error) error {
	more, done := writing(ctx, func() (failed []error) {
		failed = writeOutputs(outs, stdout, func(w io.Writer, f report.Formatter) error { return f(w, rep) })
		if !toStdout(outs) {
			if len(outs) > 0 {
				format = report.Text
			}
			if err := format(stdout, rep); err != nil {
				failed = append(failed, fmt.Errorf("write report to stdout: %w", err))
			}
		}
		return failed
	})
	failed = append(failed, more...)
	code := exitCode(rep)
	if !done || ctx.Err() != nil {
		code = exitInterrupted
	}
	return exitWith(code, failed)
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}
