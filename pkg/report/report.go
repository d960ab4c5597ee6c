// Package report holds the report of a run, the one registry of formats it
// is written in (text for people, JSON for archives, and which a file's
// extension calls for), file output (Output): checked before anything
// runs, then a file replaced atomically or appended to, a device or FIFO
// written in place, each as what is at the path calls for; and reading a
// JSON report back, checked against the published schema and the
// invariants the writer keeps (read.go, check.go): compare, merge and run
// --baseline read through it.
//
// A Report is data: it is filled by the run, then handed once to a Formatter.
// Every JSON field carries its unit in its name (duration_ns, p99 under
// latency_ns, throughput_ops_per_sec), and maps are written with sorted keys.
package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/rustci/rustci-perf/pkg/latency"
	"github.com/rustci/rustci-perf/pkg/metric"
)

// Schema identifies the JSON report's version.
const Schema = "rustci-perf/report/v1"

// Report is one invocation's results.
type Report struct {
	Schema      string      `json:"schema"`
	ToolVersion string      `json:"tool_version"`
	StartedAt   time.Time   `json:"started_at"`
	FinishedAt  time.Time   `json:"finished_at"`
	Environment Environment `json:"environment"`
	// Provenance says which binary made the report and what it measured:
	// the system under test's commit, branch, CI run and the user's
	// labels. Absent only in reports written before it existed.
	Provenance *Provenance `json:"provenance,omitempty"`
	// Passed is true when every scenario ran to the end and met every
	// threshold.
	Passed bool `json:"passed"`
	// Interrupted is true when the run was stopped (Ctrl-C) before its end.
	Interrupted bool `json:"interrupted"`
	// Injected lists the faults injected into the components (package
	// fault), one spec per target as --inject writes it: a report with
	// any is not a clean run's, and every format says so at its top.
	Injected  []string   `json:"injected,omitempty"`
	Scenarios []Scenario `json:"scenarios"`
	// Sources, in a merged report, are the reports it combines.
	Sources []Source `json:"sources,omitempty"`
	// Comparison, with run --baseline, sets this report against the
	// baseline's; its regressions fail the run like missed thresholds.
	Comparison *Comparison `json:"comparison,omitempty"`
}

// Source is one report a merged report combines.
type Source struct {
	File        string      `json:"file"`
	StartedAt   time.Time   `json:"started_at"`
	FinishedAt  time.Time   `json:"finished_at"`
	Environment Environment `json:"environment"`
	Provenance  *Provenance `json:"provenance,omitempty"`
}

// Provenance is where a report came from: the binary that wrote it
// (Tool), and the system under test's commit, branch and CI run, from the
// CI's variables or --meta (package provenance). Labels are the user's
// own key=value pairs: the one place a report holds names of the user's
// choosing.
type Provenance struct {
	Tool   Tool              `json:"tool"`
	Commit string            `json:"commit,omitempty"`
	Branch string            `json:"branch,omitempty"`
	CI     *CI               `json:"ci,omitempty"`
	Labels map[string]string `json:"labels,omitempty"`
}

// Tool is the rustci-perf binary: its version (stamped at build time, else
// the module's version from its build information), and the revision of
// the source it was built from, Modified when that tree had uncommitted
// changes.
type Tool struct {
	Version  string `json:"version"`
	Revision string `json:"revision,omitempty"`
	Modified bool   `json:"modified,omitempty"`
}

// CI is the CI run a report was made in.
type CI struct {
	// Provider is github-actions, gitlab-ci, jenkins or buildkite.
	Provider string `json:"provider"`
	RunID    string `json:"run_id,omitempty"`
	RunURL   string `json:"run_url,omitempty"`
	Job      string `json:"job,omitempty"`
}

// Environment is the machine the run was on.
type Environment struct {
	GoVersion  string `json:"go_version"`
	OS         string `json:"os"`
	Arch       string `json:"arch"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	NumCPU     int    `json:"num_cpu"`
	CPUModel   string `json:"cpu_model"`
	Hostname   string `json:"hostname"`
	// Canary, in a run kept in a history (or given --canary), is how fast
	// the machine was around the run, by a fixed workload (package
	// canary): a trend tells a change of the machine from one of the code
	// by it.
	Canary *Canary `json:"canary,omitempty"`
}

// Canary is the machine's speed by the fixed workload Workload, measured
// before the run's first scenario and after its last, in the workload's
// operations per second (0: not measured, the run interrupted first).
type Canary struct {
	Workload        string  `json:"workload"`
	BeforeOpsPerSec float64 `json:"before_ops_per_sec"`
	AfterOpsPerSec  float64 `json:"after_ops_per_sec"`
}

// Rate is the slower of the canary's two measures, those taken: the
// machine at its slowest around the run; 0 when neither was.
func (c *Canary) Rate() float64 {
	if c == nil {
		return 0
	}
	switch {
	case c.BeforeOpsPerSec > 0 && c.AfterOpsPerSec > 0:
		return min(c.BeforeOpsPerSec, c.AfterOpsPerSec)
	case c.BeforeOpsPerSec > 0:
		return c.BeforeOpsPerSec
	}
	return c.AfterOpsPerSec
}

// Status values of a scenario.
const (
	StatusPassed      = "passed"
	StatusFailed      = "failed"
	StatusError       = "error"
	StatusInterrupted = "interrupted"
	StatusSkipped     = "skipped"
)

// Scenario is one scenario's results.
type Scenario struct {
	Name  string `json:"name"`
	Group string `json:"group"`
	// Status is passed, failed (a threshold missed), error (it could not
	// run; see Error), skipped (it needs something not configured; see
	// Reason) or interrupted (its thresholds were not judged).
	Status string `json:"status"`
	Passed bool   `json:"passed"`
	Error  string `json:"error,omitempty"`
	Reason string `json:"reason,omitempty"`
	// Component says what was measured and how it was configured.
	Component string `json:"component,omitempty"`
	// Mode is how load was applied: "closed-loop" (each worker starts an
	// operation when its previous one ends) or "open-loop" (operations due
	// at fixed times, TargetRate per second; latency from when due).
	Mode string `json:"mode"`
	// TargetRateOpsPerSec is the open-loop target; achieved_rate_ratio, in
	// metrics, is the rate achieved over it (metric.AchievedRateRatio).
	TargetRateOpsPerSec float64 `json:"target_rate_ops_per_sec,omitempty"`
	Concurrency         int     `json:"concurrency"`
	// Ops counts successful measured operations, Errors failed ones;
	// WarmupOps were run before and are in no other figure.
	Ops       int64 `json:"ops"`
	Errors    int64 `json:"errors"`
	WarmupOps int64 `json:"warmup_ops"`
	// DurationNS is the measured wall time, first operation's start to
	// last one's end; throughput is Ops over it.
	DurationNS          int64   `json:"duration_ns"`
	ThroughputOpsPerSec float64 `json:"throughput_ops_per_sec"`
	// Latency is the distribution of successful operations' latencies; in
	// open loop from when each was due (coordinated omission corrected).
	Latency Latency `json:"latency_ns"`
	// LatencyUncorrected, in open loop only, is from when each started.
	LatencyUncorrected *Latency `json:"latency_uncorrected_ns,omitempty"`
	// Histogram is the whole latency distribution in HdrHistogram's
	// interchange form (V2 compressed encoding, base64, values in ns), so
	// any percentile can be recomputed exactly later; HistogramUncorrected
	// likewise for the open-loop uncorrected view.
	Histogram            string `json:"histogram,omitempty"`
	HistogramUncorrected string `json:"histogram_uncorrected,omitempty"`
	// Operations, in a scenario that mixes kinds of operation (reads and
	// writes), are each kind's own figures.
	Operations []Operation `json:"operations,omitempty"`
	// MeasuredAt is when the measured phase began on the wall clock (the
	// first run's, with --count): Intervals' starts count from it, so an
	// interval log (WriteHlog) places them in time. Absent in a merge of
	// machines, which keeps no intervals.
	MeasuredAt time.Time `json:"measured_at,omitzero"`
	// IntervalNS is the length of the Intervals the measured phase was cut
	// into: the run's time series. Precision is what they say of how
	// precise the figures are.
	IntervalNS int64      `json:"interval_ns,omitempty"`
	Intervals  []Interval `json:"intervals,omitempty"`
	Precision  *Precision `json:"precision,omitempty"`
	// Counters are counts over the measured phase; Metrics are derived,
	// n/a (null in JSON) when they cannot be computed.
	Counters   map[string]int64 `json:"counters"`
	Metrics    metric.Values    `json:"metrics"`
	Thresholds []Threshold      `json:"thresholds"`
	// Notes say what a reader needs to trust the figures.
	Notes []string `json:"notes,omitempty"`
	// Tiers are the cache tiers, top first, for scenarios that measure
	// the cache: each one's counts are among Counters (TierCounter).
	Tiers []Tier `json:"tiers,omitempty"`
	// Capacity, with --find-max-rate, is the scenario's capacity search:
	// its answer and every step; the scenario's figures are then those of
	// the step at the answer.
	Capacity *Capacity `json:"capacity,omitempty"`
	// Repeat, with --count N > 1, keeps each run and the spread of each
	// figure across runs. The scenario's own figures are then over all
	// runs (merge.Sequential): ops, errors, durations and counters summed,
	// the latency histograms merged exactly, the metrics counters give
	// back derived again from the sums, the others the median of the
	// runs'.
	Repeat *Repeat `json:"repeat,omitempty"`
}

// Repeat is a scenario run several times.
type Repeat struct {
	Count int `json:"count"`
	// Judge is how thresholds were judged: on the median of the runs'
	// values, on the worst, or on each run (all must pass).
	Judge string `json:"judge"`
	// Stats are, per figure (throughput, mean, p50, ..., and the
	// scenario's metrics), its median, min, max and coefficient of
	// variation (stdev / mean) over the runs.
	Stats map[string]Stat `json:"stats"`
	Runs  []Run           `json:"runs"`
}

// Stat is one figure's spread over runs. A field that cannot be computed
// (the figure is n/a in a run; the CV of values whose mean is 0) is NaN,
// null in JSON.
type Stat struct {
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	CV     float64 `json:"cv"`
}

// statJSON is Stat as written: null for what cannot be computed.
type statJSON struct {
	Median *float64 `json:"median"`
	Min    *float64 `json:"min"`
	Max    *float64 `json:"max"`
	CV     *float64 `json:"cv"`
}

// MarshalJSON writes st, null for each field that is not a number.
func (st Stat) MarshalJSON() ([]byte, error) {
	return json.Marshal(statJSON{Float(st.Median), Float(st.Min), Float(st.Max), Float(st.CV)})
}

// UnmarshalJSON reads a Stat, null as NaN, refusing unknown fields as
// ReadJSON does.
func (st *Stat) UnmarshalJSON(data []byte) error {
	var j statJSON
	if err := decodeStrict(data, &j); err != nil {
		return err
	}
	val := func(p *float64) float64 {
		if p == nil {
			return metric.NA
		}
		return *p
	}
	*st = Stat{Median: val(j.Median), Min: val(j.Min), Max: val(j.Max), CV: val(j.CV)}
	return nil
}

// Run is one run of a repeated scenario.
type Run struct {
	// MeasuredAt is when the run's measured phase began (its intervals'
	// starts count from it).
	MeasuredAt          time.Time `json:"measured_at,omitzero"`
	Ops                 int64     `json:"ops"`
	Errors              int64     `json:"errors"`
	DurationNS          int64     `json:"duration_ns"`
	ThroughputOpsPerSec float64   `json:"throughput_ops_per_sec"`
	Latency             Latency   `json:"latency_ns"`
	// Histogram is the run's own latency histogram, encoded as the
	// scenario's is, so a comparison can resample runs as well as
	// operations.
	Histogram string           `json:"histogram,omitempty"`
	Counters  map[string]int64 `json:"counters"`
	Metrics   metric.Values    `json:"metrics"`
}

// Tier is one cache tier of a scenario that measures the cache: what of
// it is not a count. Its counts over the measured phase are the scenario's
// Counters named TierCounter(name, "hits"), ..., where thresholds, compare
// and merge read them too.
type Tier struct {
	Name string `json:"name"`
	// Latency is the distribution of the tier's own calls; absent for L1,
	// whose latency is the operation's, and in a merged scenario: only
	// its summary is kept, and summaries do not merge.
	Latency *Latency `json:"latency_ns,omitempty"`
}

// TierCounter names the counter of a tier's count: "l2" and "errors" make
// "l2_errors".
func TierCounter(tier, count string) string { return tier + "_" + count }

// legacyTier is Tier as reports written before its counts moved to the
// counters have it: read, so that such a report still serves as a
// baseline, and the copies dropped.
type legacyTier struct {
	Name    string   `json:"name"`
	Latency *Latency `json:"latency_ns,omitempty"`

	// The copies of its counters, dropped.
	Hits         json.RawMessage `json:"hits"`
	Misses       json.RawMessage `json:"misses"`
	Sets         json.RawMessage `json:"sets"`
	SetsDropped  json.RawMessage `json:"sets_dropped"`
	SetsRejected json.RawMessage `json:"sets_rejected"`
	Errors       json.RawMessage `json:"errors"`
	Skipped      json.RawMessage `json:"skipped"`
	Promotions   json.RawMessage `json:"promotions"`
	Degraded     json.RawMessage `json:"degraded"`
}

// UnmarshalJSON reads a Tier, and a legacy one's copies of its counters,
// refusing unknown fields as ReadJSON does.
func (t *Tier) UnmarshalJSON(data []byte) error {
	var l legacyTier
	if err := decodeStrict(data, &l); err != nil {
		return err
	}
	*t = Tier{Name: l.Name, Latency: l.Latency}
	return nil
}

// decodeStrict decodes data's JSON value into v, refusing fields v does
// not have: what ReadJSON does, and the types it reads with their own
// UnmarshalJSON do again, since a decoder does not pass that on.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// Latency is a distribution in nanoseconds, from an HdrHistogram with three
// significant digits: every value is within 0.1% of what was measured.
type Latency struct {
	// Count is the number of values; Clamped those outside the histogram's
	// range (1ns to 1h), recorded at its edge.
	Count   int64   `json:"count"`
	Clamped int64   `json:"clamped"`
	Min     int64   `json:"min"`
	Mean    float64 `json:"mean"`
	Stdev   float64 `json:"stdev"`
	P50     int64   `json:"p50"`
	P90     int64   `json:"p90"`
	P95     int64   `json:"p95"`
	P99     int64   `json:"p99"`
	P999    int64   `json:"p999"`
	Max     int64   `json:"max"`
}

// LatencyOf is the report's form of a latency summary.
func LatencyOf(l latency.Summary) Latency {
	return Latency{
		Count: l.Count, Clamped: l.Clamped,
		Min: int64(l.Min), Mean: l.Mean, Stdev: l.Stdev,
		P50: int64(l.P50), P90: int64(l.P90), P95: int64(l.P95),
		P99: int64(l.P99), P999: int64(l.P999), Max: int64(l.Max),
	}
}

// Threshold is one judged limit.
type Threshold struct {
	Expr string `json:"expr"`
	// Metric is the compared value's name (p99, hit_rate, p99/p50).
	Metric string `json:"metric"`
	Op     string `json:"op"`
	// Limit and Actual are in Unit: "ns" for latencies, "" otherwise.
	Limit float64 `json:"limit"`
	// Actual is null when the value could not be computed.
	Actual *float64 `json:"actual"`
	Unit   string   `json:"unit"`
	Pass   bool     `json:"pass"`
	// Windows, for a threshold judged per window of the time series
	// (p99[1s]<10ms), says how its windows went; Actual is then the worst
	// window's value.
	Windows *Windows `json:"windows,omitempty"`
}

// Windows says how a threshold judged per window of the measured phase's
// time series went: of Total whole windows of LengthNS (a partial last
// window is left out), Held held, and it passes when that is at least
// SharePct percent of them (100: every one) and at least one. None at
// all (a run shorter than a window, a merge of machines, which keeps no
// intervals) means the figure cannot be computed: the threshold fails as
// n/a, and a note says why.
type Windows struct {
	LengthNS int64   `json:"length_ns"`
	SharePct float64 `json:"share_pct"`
	Held     int     `json:"held"`
	Total    int     `json:"total"`
	// Worst is the window whose value is the threshold's actual; absent
	// when there is no window.
	Worst *WindowAt `json:"worst,omitempty"`
}

// WindowAt places a window in a scenario's time series, as its intervals
// are placed: the run it is in (0-based, with --count; absent for the
// first) and its start from that run's measured phase.
type WindowAt struct {
	Run     int   `json:"run,omitempty"`
	StartNS int64 `json:"start_ns"`
}

// Formatter writes a report in one format.
type Formatter func(w io.Writer, r *Report) error

// formats is the one registry of formats.
var formats = map[string]Formatter{
	"text":     Text,
	"json":     JSON,
	"markdown": Markdown,
	"gobench":  GoBench,
	"junit":    JUnit,
	"html":     HTML,
	"csv":      CSV,
}

// Lookup returns the formatter named, or an error that lists the names.
func Lookup(name string) (Formatter, error) {
	f, ok := formats[name]
	if !ok {
		return nil, fmt.Errorf("unknown format %q (formats: %s)", name, strings.Join(Formats(), ", "))
	}
	return f, nil
}

// extensions are the formats a file's extension calls for, when --output
// names no format.
var extensions = map[string]string{
	".json": "json",
	".xml":  "junit",
	".md":   "markdown",
	".html": "html",
	".htm":  "html",
	".txt":  "text",
	".csv":  "csv",
}

// FormatForPath returns the format path's extension calls for, in any case:
// .json json, .xml junit, .md markdown, .html and .htm html, .txt text. ok
// is false for any other extension, or none.
func FormatForPath(path string) (name string, ok bool) {
	name, ok = extensions[strings.ToLower(filepath.Ext(path))]
	return name, ok
}

// Formats returns the format names, sorted.
func Formats() []string {
	var out []string
	for n := range formats {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// JSON writes r as indented JSON.
func JSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("json report: %w", err)
	}
	return nil
}

// WriteFile writes r to path in format f without ever leaving a partial
// file (Save in Replace mode).
func WriteFile(path string, r *Report, f Formatter) error {
	return Save(path, Replace, func(w io.Writer) error { return f(w, r) })
}

// WriteHgrm writes, for every scenario of r with a histogram, its
// percentile distribution in HdrHistogram's .hgrm text format (values in
// microseconds) to DIR/<scenario>.hgrm, in open loop the uncorrected view
// to DIR/<scenario>-uncorrected.hgrm, and in a scenario that mixes kinds
// of operation each kind's to DIR/<scenario>-<kind>.hgrm; each file as
// Save writes it. A file that cannot be written does not stop the others:
// the error joins one per file that failed (errors.Join).
func WriteHgrm(dir string, r *Report) error {
	var errs []error
	for _, s := range r.Scenarios {
		files := []struct{ suffix, enc string }{{"", s.Histogram}, {"-uncorrected", s.HistogramUncorrected}}
		for _, o := range s.Operations {
			files = append(files, struct{ suffix, enc string }{"-" + o.Name, o.Histogram})
		}
		for _, f := range files {
			if f.enc == "" {
				continue
			}
			rec, err := latency.Decode(f.enc)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s%s: %w", s.Name, f.suffix, err))
				continue
			}
			if err := Save(filepath.Join(dir, s.Name+f.suffix+".hgrm"), Replace, rec.WriteHgrm); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// Float returns a pointer to v, or nil when v is NaN or infinite (JSON
// has no such numbers).
func Float(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// ProvenanceLine says in one line what a report measured, when its
// provenance says anything beyond the tool: "commit 4a37e40c on main ·
// github-actions run 123 (URL) · team=cache" ("" when nothing).
func ProvenanceLine(p *Provenance) string {
	if p == nil {
		return ""
	}
	var parts []string
	switch {
	case p.Commit != "" && p.Branch != "":
		parts = append(parts, "commit "+ShortCommit(p.Commit)+" on "+p.Branch)
	case p.Commit != "":
		parts = append(parts, "commit "+ShortCommit(p.Commit))
	case p.Branch != "":
		parts = append(parts, "branch "+p.Branch)
	}
	if c := p.CI; c != nil {
		s := c.Provider
		if c.RunID != "" {
			s += " run " + c.RunID
		}
		if c.Job != "" {
			s += " job " + c.Job
		}
		if c.RunURL != "" {
			s += " (" + c.RunURL + ")"
		}
		parts = append(parts, s)
	}
	keys := make([]string, 0, len(p.Labels))
	for k := range p.Labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		parts = append(parts, k+"="+p.Labels[k])
	}
	return strings.Join(parts, " · ")
}

// ShortCommit is a commit hash cut to 12 characters, as people quote them;
// anything else (a tag, a short hash) as it is.
func ShortCommit(c string) string {
	if len(c) > 12 && strings.Trim(c, "0123456789abcdef") == "" {
		return c[:12]
	}
	return c
}
