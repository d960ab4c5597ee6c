// The run command: flags, configuration, the run, and its report.

package main

import (
	"context"
	"encoding"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rustci/rustci-perf/pkg/compare"
	"github.com/rustci/rustci-perf/pkg/config"
	"github.com/rustci/rustci-perf/pkg/engine"
	"github.com/rustci/rustci-perf/pkg/fault"
	"github.com/rustci/rustci-perf/pkg/profile"
	"github.com/rustci/rustci-perf/pkg/provenance"
	"github.com/rustci/rustci-perf/pkg/report"
	"github.com/rustci/rustci-perf/pkg/scenarios"
	"github.com/rustci/rustci-perf/pkg/workload"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"
)

// runOptions are the run command's flags. Those that set a scenario's
// settings are parsed into params, a configuration layer, as they are read.
type runOptions struct {
	configFile string
	params     *config.Layer
	thresholds []string
	format     string
	outputs    []string
	hgrm       string
	hlog       string
	profile    string
	profKinds  string
	quiet      bool
	live       bool
	require    bool
	canary     bool
	baseline   string
	// history is --history: the store the run is appended to.
	history string
	// findMaxRate, slos and budget ask for a capacity search.
	findMaxRate bool
	slos        []string
	budget      time.Duration
	compareFlags
	metrics metricsOptions
	// given are the flags the user gave, on the command line or in the
	// environment; from names where each came from ("--ops",
	// "$RUSTCI_PERF_OPS").
	given map[string]bool
	from  map[string]string
}

func newRunCmd(stdout, stderr io.Writer) *cobra.Command {
	o := &runOptions{params: config.CommandLine()}
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
  rustci-perf run cache-read --threshold 'cache-read:p99<2ms' --config configs/ci.yaml
  rustci-perf run cache-read --duration 10s --threshold 'p99[1s]<1ms' --hlog cache-read.hlog
  rustci-perf run cache-read --find-max-rate --slo 'p99<1ms' --budget 60s --threshold 'max_rate>50000'
  rustci-perf run all --history perf.db`,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.given, o.from = map[string]bool{}, map[string]string{}
			cmd.Flags().Visit(func(f *pflag.Flag) {
				o.given[f.Name], o.from[f.Name] = true, flagOrigin(cmd.Flags(), f.Name)
			})
			return runRun(cmd.Context(), o, args, stdout, stderr)
		},
	}
	f := cmd.Flags()
	p, c := &o.params.Defaults, &o.params.Cache
	f.StringVar(&o.configFile, "config", "", "YAML file laid over the embedded defaults (unknown keys are errors)")
	f.IntVar(&p.Ops, "ops", 0, "measured operations per scenario, across all workers")
	f.IntVar(&p.Concurrency, "concurrency", 0, "workers (goroutines) per scenario; 0: one per CPU")
	f.DurationVar(&p.Duration, "duration", 0, "run each scenario for this long instead of --ops operations")
	f.Var(text{&p.Warmup, "ops|duration"}, "warmup", "unrecorded operations (500) or time (2s) before measuring")
	f.Int64Var(&p.Seed, "seed", 0, "seed of generated keys, values and mixes")
	f.Var(sizeRange{&p.ValueSize, &p.ValueSizeMax}, "value-size", "bytes per cache value, or a range MIN-MAX drawn uniformly (default 128)")
	f.IntVar(&p.Keys, "keys", 0, "key space of the reading scenarios (default: one key per operation)")
	f.Float64Var(&p.Rate, "rate", 0, "open loop: operations per second in all, each timed from when it was due (default: closed loop)")
	f.IntVar(&p.Count, "count", 1, "run each scenario N times; the report keeps each run and the median, min, max and CV of each figure")
	p.Judge = "median"
	f.Var(text{&p.Judge, "median|worst|each"}, "judge", "with --count: judge thresholds on the runs' median, worst, or each run")
	f.Var(text{&p.Stages, "stages"}, "stages", "open loop with a ramping rate, as 10s:1000,30s:5000,10s:0 (linear between stages, from 0)")
	f.Var(traceFile{&o.params.Trace}, "trace", "replay this file's keys (one per line) in the reading scenarios instead of generated ones")
	f.Float64Var(&p.ReadRatio, "read-ratio", 0, "share of reads in the mixed scenarios, concurrent (0.8) and latency (0.9)")
	f.Var(text{&p.Distribution, "name"}, "distribution", "how reads pick keys: uniform, sequential, zipfian[:THETA] or hotspot[:HOTKEYS:HOTOPS]")
	f.StringArrayVar(&o.thresholds, "threshold", nil, "add a threshold, as 'p99<10ms' or 'cache-read:hit_rate>0.95' (repeatable)")
	f.StringVar(&o.format, "format", "text", "report format: "+strings.Join(report.Formats(), ", "))
	f.StringArrayVar(&o.outputs, "output", nil, "write the report to a file (atomically; $GITHUB_STEP_SUMMARY appended to), as FORMAT=PATH (json=r.json, junit=junit.xml, markdown=summary.md) or in --format, else by extension (.json, .xml junit, .md, .html, .txt; others text); repeatable; stdout then gets the text report, unless PATH is - (stdout: json=- writes JSON there instead)")
	f.StringVar(&o.hgrm, "hgrm", "", "write each scenario's percentile distribution as DIR/<scenario>.hgrm (HdrHistogram's format, µs); DIR is made if missing")
	f.StringVar(&o.hlog, "hlog", "", "write every scenario's latency per interval (each kind's too) as an HdrHistogram interval log (.hlog), which HistogramLogAnalyzer reads")
	f.StringVar(&o.profile, "profile", "", "write Go runtime profiles of each scenario's measured phase as DIR/<scenario>.<kind>.pprof, for go tool pprof; DIR is made if missing")
	f.StringVar(&o.profKinds, "profile-kinds", strings.Join(profile.Default, ","), "with --profile: the profiles to write, from "+strings.Join(profile.Kinds, ","))
	f.BoolVarP(&o.quiet, "quiet", "q", false, "no progress on stderr")
	f.BoolVar(&o.live, "progress", false, "live progress bars on stderr even when it is not a terminal, CI is set or TERM=dumb (default: bars on a terminal outside CI, plain lines otherwise)")
	f.StringVar(&c.L2.URL, "redis-url", "", "Redis for the L2 tier and cache-l2: redis://[user:password@]host:port[/db], rediss:// for TLS (default $"+redisURLEnv+")")
	f.StringSliceVar(&c.Tiers, "tiers", nil, "cache tiers to stack, from l1,l2,l3 (default l1,l3, with l2 when a Redis URL is set)")
	f.StringVar(&c.L3.Dir, "l3-dir", "", "keep the L3 tier's store in this directory across runs (default: a temporary one per scenario)")
	f.Var(specs{&o.params.Inject}, "inject", "inject faults into a component's calls in the measured phase, as TARGET:KIND=VALUE[,KIND=VALUE]: targets l1, l2, l3, limiter (its Redis); latency=2ms, latency=uniform:1ms-5ms, latency=p=0.01:50ms, error=0.01, stall=2s@5s (repeatable)")
	f.Var(labels{&o.params.Meta}, "meta", "record KEY=VALUE in the report's provenance: commit=SHA and branch=NAME set the system under test's commit and branch (default: from the CI's variables), other keys are labels (repeatable)")
	f.BoolVar(&o.canary, "canary", false, "measure the machine's speed with a fixed workload before the first scenario and after the last (environment.canary; always with --history, whose trends use it)")
	f.BoolVar(&o.require, "require", false, "make a scenario that would be skipped (cache-l2 with no Redis URL) an error")
	f.StringVar(&o.history, "history", "", "append the run, whatever its verdict (not an interrupted one), to this history store: "+historyFlagHelp)
	f.StringVar(&o.baseline, "baseline", "", "compare with this JSON report after the thresholds (as rustci-perf compare does); a regression exits 1")
	f.BoolVar(&o.findMaxRate, "find-max-rate", false, "find each scenario's capacity: the highest open-loop rate at which every --slo holds and achieved_rate_ratio>0.99 (max_rate, thresholdable)")
	f.StringArrayVar(&o.slos, "slo", nil, "with --find-max-rate: an objective every step must meet, as 'p99<1ms' or 'cache-read:hit_rate>0.99' (repeatable; all must hold)")
	f.DurationVar(&o.budget, "budget", 60*time.Second, "with --find-max-rate: wall-clock budget of the whole search, every scenario's")
	f.StringVar(&o.metrics.addr, "metrics-addr", "", "serve live Prometheus metrics at http://ADDR/metrics while the run runs (as :9464, or 127.0.0.1:0 for any port; the address is printed on stderr)")
	f.StringVar(&o.metrics.push, "metrics-push", "", "push the live metrics to this Prometheus Pushgateway URL every 5s and at the end (job rustci-perf, grouped by run_id and instance); a failed push is a warning")
	o.compareFlags.register(cmd)
	cmd.ValidArgsFunction = completeScenarios(true)
	completions(cmd, map[string]cobra.CompletionFunc{
		"format":        completeWords(reportFormats...),
		"judge":         completeWords("median", "worst", "each"),
		"distribution":  completeWords("uniform", "sequential", "zipfian", "hotspot"),
		"tiers":         completeCommaList("l1", "l2", "l3"),
		"profile-kinds": completeCommaList(profileKinds...),
	}, []string{"hgrm", "profile", "l3-dir"}, map[string][]string{"config": {"yaml", "yml"}, "baseline": {"json"}})
	return cmd
}

// redisURLEnv names the environment variable of --redis-url (envName),
// which list, without the flag, reads too.
const redisURLEnv = "RUSTCI_PERF_REDIS_URL"

// redisURLFromEnv sets l's Redis URL from $RUSTCI_PERF_REDIS_URL, when
// it is set: for list, which has no --redis-url to read it.
func redisURLFromEnv(l *config.Layer) {
	if env := os.Getenv(redisURLEnv); env != "" {
		l.Cache.L2.URL = env
		l.Set("cache.l2.url", "$"+redisURLEnv)
	}
}

// settingFlags are the flags that set a configuration value, and the
// values' YAML paths.
var settingFlags = map[string][]string{
	"ops": {"defaults.ops"}, "concurrency": {"defaults.concurrency"}, "duration": {"defaults.duration"},
	"warmup": {"defaults.warmup"}, "seed": {"defaults.seed"}, "value-size": {"defaults.value_size", "defaults.value_size_max"},
	"keys": {"defaults.keys"}, "rate": {"defaults.rate"}, "count": {"defaults.count"}, "judge": {"defaults.judge"},
	"stages": {"defaults.stages"}, "read-ratio": {"defaults.read_ratio"}, "distribution": {"defaults.distribution"},
	"redis-url": {"cache.l2.url"}, "tiers": {"cache.tiers"}, "l3-dir": {"cache.l3.dir"}, "inject": {"inject"},
	"meta": {"meta"},
}

// commandLine completes the flags' configuration layer: it records which
// values the user gave, on the command line or in the environment, and
// where each came from. A value's range is checked once, with the settings it resolves
// to (config.Config.Settings), which names the flag; only what a flag
// means differently from the same key in a file is checked here: --rate
// 0, --keys 0, --ops 0 and --duration 0 are refused, where rate: 0 and
// keys: 0 mean closed loop and the scenario's choice. --stages sets how
// long the run lasts, so --duration and --ops with it are refused.
func (o *runOptions) commandLine() (*config.Layer, error) {
	l, p := o.params, &o.params.Defaults
	if o.given["history"] {
		historyFromFlags(l, o.origin("history"), o.history)
	}
	for name, paths := range settingFlags {
		if o.given[name] {
			for _, path := range paths {
				l.Set(path, o.origin(name))
			}
		}
	}
	switch {
	case o.given["ops"] && p.Ops < 1:
		return nil, fmt.Errorf("--ops %d: want at least 1", p.Ops)
	case o.given["duration"] && p.Duration <= 0:
		return nil, fmt.Errorf("--duration %s: want more than 0", p.Duration)
	case o.given["rate"] && !(p.Rate > 0 && p.Rate <= 1e9):
		return nil, fmt.Errorf("--rate %g: want more than 0, at most 1e9 operations per second", p.Rate)
	case o.given["keys"] && (p.Keys < 1 || p.Keys > config.MaxKeys):
		return nil, fmt.Errorf("--keys %d: want 1 to %d", p.Keys, config.MaxKeys)
	}
	for _, f := range []string{"duration", "ops"} {
		if o.given["stages"] && o.given[f] {
			return nil, fmt.Errorf("%s and %s: the stages set how long the run lasts; give one", o.origin("stages"), o.origin(f))
		}
	}
	return l, nil
}

// origin names where the value of the flag name, given, came from: its
// variable, or the flag.
func (o *runOptions) origin(name string) string {
	if from := o.from[name]; from != "" {
		return from
	}
	return "--" + name
}

// capacity is the capacity search the flags ask for, nil for none. The
// search sets the rate of each step and runs it once, so a rate, stages
// or repeated runs beside it are refused; --slo and --budget mean nothing
// without it.
func (o *runOptions) capacity() (*engine.Capacity, error) {
	if !o.findMaxRate {
		for _, f := range []string{"slo", "budget"} {
			if o.given[f] {
				return nil, fmt.Errorf("%s: give --find-max-rate too", o.origin(f))
			}
		}
		return nil, nil
	}
	for _, f := range []string{"rate", "stages"} {
		if o.given[f] {
			return nil, fmt.Errorf("%s and %s: the search sets each step's rate itself; give one", o.origin("find-max-rate"), o.origin(f))
		}
	}
	if o.given["count"] && o.params.Defaults.Count > 1 {
		return nil, fmt.Errorf("%s and %s: a search runs each step once; to see how its answer varies, run the search again", o.origin("find-max-rate"), o.origin("count"))
	}
	if o.budget <= 0 {
		return nil, fmt.Errorf("--budget %s: want more than 0", o.budget)
	}
	return &engine.Capacity{SLOs: o.slos, Budget: o.budget}, nil
}

// text is a flag whose value parses itself, as it does from YAML; typ
// names its form in the help.
type text struct {
	v interface {
		encoding.TextUnmarshaler
		encoding.TextMarshaler
	}
	typ string
}

func (t text) Set(s string) error { return t.v.UnmarshalText([]byte(s)) }

func (t text) String() string {
	if t.v == nil { // pflag's zero-value check
		return ""
	}
	b, _ := t.v.MarshalText()
	return string(b)
}

func (t text) Type() string { return t.typ }

// specs is --inject: each value parses itself, as in a file's inject
// list, and adds to the ones before.
type specs struct{ v *[]fault.Spec }

func (s specs) Set(v string) error {
	var sp fault.Spec
	if err := sp.UnmarshalText([]byte(v)); err != nil {
		return err
	}
	*s.v = append(*s.v, sp)
	return nil
}

func (s specs) String() string {
	if s.v == nil { // pflag's zero-value check
		return ""
	}
	return strings.Join(fault.Strings(*s.v), " ")
}

func (specs) Type() string { return "spec" }

// labels is --meta, and --label of history list and trend: each
// KEY=VALUE is checked as a file's meta: keys are, and a key given twice
// is refused.
type labels struct{ v *provenance.Labels }

func (l labels) Set(v string) error {
	k, val, err := provenance.ParsePair(v)
	if err != nil {
		return err
	}
	return l.v.Set(k, val)
}

func (l labels) String() string {
	if l.v == nil { // pflag's zero-value check
		return ""
	}
	return strings.Join(l.v.Strings(), " ")
}

func (labels) Type() string { return "key=value" }

// sizeRange is --value-size: "128" or "64-1024", parsed into the smallest
// and largest value sizes.
type sizeRange struct{ lo, hi *int }

func (r sizeRange) String() string {
	if r.lo == nil || *r.lo == *r.hi {
		return ""
	}
	return fmt.Sprintf("%d-%d", *r.lo, *r.hi)
}

func (sizeRange) Type() string { return "bytes" }

func (r sizeRange) Set(s string) error {
	a, b, isRange := strings.Cut(s, "-")
	lo, err1 := strconv.Atoi(strings.TrimSpace(a))
	hi, err2 := lo, error(nil)
	if isRange {
		hi, err2 = strconv.Atoi(strings.TrimSpace(b))
	}
	if err1 != nil || err2 != nil || lo < 1 || hi < lo || hi > config.MaxValueSize {
		return fmt.Errorf("value-size %q: want bytes from 1 to %d, or a range MIN-MAX", s, config.MaxValueSize)
	}
	*r.lo, *r.hi = lo, hi
	return nil
}

// traceFile is --trace: the file is read when the flag is.
type traceFile struct{ t **workload.Trace }

func (traceFile) String() string { return "" }

func (traceFile) Type() string { return "file" }

func (tf traceFile) Set(name string) error {
	f, err := os.Open(name)
	if err != nil {
		return fmt.Errorf("trace: %w", err)
	}
	defer f.Close()
	t, err := workload.ReadTrace(f)
	if err != nil {
		return fmt.Errorf("trace %s: %w", name, err)
	}
	*tf.t = t
	return nil
}

// loadConfig reads the embedded defaults and, if named, the user's file,
// with the given layers over them.
func loadConfig(file string, over ...*config.Layer) (*config.Config, error) {
	var layers []*config.Layer
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("config %s: %w", file, errors.Unwrap(err))
		}
		user, err := config.Parse(data, file, scenarios.Names())
		if err != nil {
			return nil, err
		}
		layers = append(layers, user)
	}
	return config.New(scenarios.Names(), append(layers, over...)...)
}

func runRun(ctx context.Context, o *runOptions, args []string, stdout, stderr io.Writer) (err error) {
	// Everything the user gave is checked before anything runs. The
	// directories made for --hgrm and --profile are removed again when
	// that finds an error.
	var made []string
	ran := false
	defer func() {
		if err != nil && !ran {
			removeMade(made)
		}
	}()
	format, err := report.Lookup(o.format)
	if err != nil {
		return fmt.Errorf("--format: %w", err)
	}
	outs, err := parseOutputs(o.outputs, o.format, o.given["format"], reportFormat, stdout)
	if err != nil {
		return err
	}
	defer func() { closeOutputs(outs) }()
	if o.hlog != "" {
		if outs, err = fileOutput(outs, "--hlog", o.hlog, report.Formatter(report.WriteHlog), stdout); err != nil {
			return err
		}
	}
	if o.hgrm != "" {
		if made, err = outputDir(made, "--hgrm", o.hgrm); err != nil {
			return err
		}
	}
	var prof *profile.Dir
	if o.profile != "" {
		if made, err = outputDir(made, "--profile", o.profile); err != nil {
			return err
		}
		kinds, err := profile.ParseKinds(o.profKinds)
		if err != nil {
			return fmt.Errorf("--profile-kinds: %w", err)
		}
		prof = profile.New(o.profile, kinds)
	} else if o.given["profile-kinds"] {
		return errors.New("--profile-kinds: give --profile DIR too")
	}
	if err := outputsClear(outs, []string{o.baseline}, fills{"--hgrm", o.hgrm, ".hgrm"}, fills{"--profile", o.profile, ".pprof"}); err != nil {
		return err
	}
	search, err := o.capacity()
	if err != nil {
		return err
	}
	flags, err := o.commandLine()
	if err != nil {
		return err
	}
	cfg, err := loadConfig(o.configFile, flags)
	if err != nil {
		return err
	}
	copts, err := o.compareFlags.options()
	if err != nil {
		return err
	}
	// The history store is opened, and migrated, before anything runs:
	// a bad path or URL, or a server that does not answer, is exit 2.
	store, err := openHistory(ctx, cfg, true)
	if err != nil {
		return err
	}
	if store != nil {
		defer store.Close()
	}
	var baseline *report.Report
	if o.baseline != "" {
		if baseline, err = report.ReadFile(o.baseline); err != nil {
			return fmt.Errorf("--baseline: %w", err)
		}
	}
	prov := provenance.Of(version, os.Getenv, cfg.Meta)
	metrics, err := o.metrics.newLiveMetrics(prov.Tool.Version, stderr)
	if err != nil {
		return err
	}
	live := wantBars(o.live, isTerminal(stderr), os.Getenv)
	plan, err := engine.NewPlan(engine.Options{
		Names:      args,
		Config:     cfg,
		Thresholds: o.thresholds,
		Provenance: prov,
		Progress:   metrics.progress(newProgress(stderr, o.quiet, live)),
		Require:    o.require,
		Profile:    prof,
		Capacity:   search,
		Canary:     o.canary || store != nil,
	})
	if err != nil {
		return err
	}
	if baseline != nil {
		if err := sharesScenario(baseline, plan.Names()); err != nil {
			return fmt.Errorf("--baseline %s: %w", o.baseline, err)
		}
	}

	// Listening is the last check: a port in use is the user's error,
	// and nothing has run. The metrics are served until the report is
	// written.
	if err := metrics.start(plan, o.metrics.addr, stderr); err != nil {
		return err
	}
	defer metrics.stop(ctx, stderr)

	ran = true
	rep := plan.Run(ctx)
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
	if store != nil {
		failed = append(failed, appendRun(ctx, store, rep, stderr)...)
	}
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
	return emit(ctx, rep, outs, format, stdout, failed)
}

// outputDir makes dir, and its parents, when missing (as --l3-dir's
// store is made), and checks that files can be written in it
// (report.CheckDir); made gets the directories it made, deepest last,
// for removeMade.
func outputDir(made []string, flag, dir string) ([]string, error) {
	var missing []string
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if _, err := os.Lstat(d); !errors.Is(err, fs.ErrNotExist) {
			break
		}
		missing = append(missing, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	if len(missing) > 0 {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return made, fmt.Errorf("%s: cannot make directory %q: %w", flag, dir, err)
		}
		slices.Reverse(missing)
		made = append(made, missing...)
	}
	if err := report.CheckDir(dir); err != nil {
		return made, fmt.Errorf("%s: %w", flag, err)
	}
	return made, nil
}

// removeMade removes the directories outputDir made, deepest first, as
// long as they are empty.
func removeMade(made []string) {
	for i := len(made) - 1; i >= 0; i-- {
		os.Remove(made[i])
	}
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
			if reports(outs) > 0 {
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

// wantBars says whether progress is drawn as bars, which redraw in place:
// when forced (--progress), else only for a person watching a terminal
// that can move its cursor (TERM=dumb cannot: Emacs shells, some CI
// consoles) outside CI. Otherwise progress is plain lines.
func wantBars(forced, terminal bool, getenv func(string) string) bool {
	return forced || (terminal && getenv("CI") == "" && getenv("TERM") != "dumb")
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
