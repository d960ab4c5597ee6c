package trend

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/rustci/rustci-perf/pkg/metric"
)

// The JSON form of a Result, under Schema. Field names are stable and
// sorted as written here; a figure that cannot be computed is null, never
// NaN or infinite. Values of a series (value, *_mean, *_median) are in its
// "unit", the catalogue's: "ns" for latencies, "ops/s" for throughput,
// "bytes" for sizes, "" for counts and ratios. Changes are in percent
// (*_pct): (after − before)/|before|·100, null when before is 0. Times
// are RFC 3339 in UTC, null when unknown.
type jsonResult struct {
	Schema       string       `json:"schema"`
	Verdict      string       `json:"verdict"` // alert or ok
	Alerts       int          `json:"alerts"`
	FalseAlarm   *float64     `json:"false_alarm"` // the whole invocation's bound, a fraction
	MinEffectPct *float64     `json:"min_effect_pct"`
	Significance *float64     `json:"significance"` // each series'
	Permutations int          `json:"permutations"`
	MinSize      int          `json:"min_segment_runs"`
	Series       []jsonSeries `json:"series"`
}

type jsonSeries struct {
	Scenario  string         `json:"scenario"`
	Metric    string         `json:"metric"`
	Unit      string         `json:"unit"`
	Better    string         `json:"better"` // higher, lower, zero, or "" (not judged)
	Status    string         `json:"status"` // alert, ok, too few runs, not judged
	Points    []jsonPoint    `json:"points"`
	Segments  []jsonSegment  `json:"segments"`
	Changes   []jsonChange   `json:"changes"`
	Regressed *jsonRegressed `json:"regressed"`
	Notes     []string       `json:"notes"`
}

type jsonPoint struct {
	RunID  int64    `json:"run_id"`
	At     *string  `json:"at"`
	Commit string   `json:"commit"`
	Branch string   `json:"branch"`
	Value  *float64 `json:"value"`
	// CanaryOpsPerSec is the machine's canary around the run, null when
	// unknown.
	CanaryOpsPerSec *float64 `json:"canary_ops_per_sec"`
}

type jsonSegment struct {
	From   int      `json:"from_index"` // the first point's index
	To     int      `json:"to_index"`   // one past the last point's
	Mean   *float64 `json:"mean"`
	Median *float64 `json:"median"`
}

type jsonChange struct {
	Index           int      `json:"index"` // the first point of the new segment
	RunID           int64    `json:"run_id"`
	At              *string  `json:"at"`
	FromCommit      string   `json:"from_commit"` // the last commit before it
	ToCommit        string   `json:"to_commit"`   // the first commit after
	BeforeMean      *float64 `json:"before_mean"`
	AfterMean       *float64 `json:"after_mean"`
	MeanChangePct   *float64 `json:"mean_change_pct"`
	BeforeMedian    *float64 `json:"before_median"`
	AfterMedian     *float64 `json:"after_median"`
	MedianChangePct *float64 `json:"median_change_pct"`
	PValue          *float64 `json:"p_value"`
	Statistic       *float64 `json:"statistic"` // E-divisive's Q, in the unit to the power 1
	Direction       string   `json:"direction"` // regression, improvement, change
	Alert           bool     `json:"alert"`
	// Machine is the canary's move at the change, when it explains it.
	Machine *jsonMachine `json:"machine"`
	Note    string       `json:"note"`
}

// jsonMachine is a Machine: the canary's mean rate before and after, in
// its operations per second.
type jsonMachine struct {
	BeforeOpsPerSec *float64 `json:"before_ops_per_sec"`
	AfterOpsPerSec  *float64 `json:"after_ops_per_sec"`
	ChangePct       *float64 `json:"change_pct"`
}

type jsonRegressed struct {
	Index         int      `json:"index"`
	RunID         int64    `json:"run_id"`
	Changes       int      `json:"changes"`
	FromCommit    string   `json:"from_commit"`
	ToCommit      string   `json:"to_commit"`
	BeforeMean    *float64 `json:"before_mean"`
	AfterMean     *float64 `json:"after_mean"`
	MeanChangePct *float64 `json:"mean_change_pct"`
}

func canaryJSON(v float64) *float64 {
	if v > 0 {
		return num(v)
	}
	return nil
}

func machineJSON(m *Machine) *jsonMachine {
	if m == nil {
		return nil
	}
	return &jsonMachine{BeforeOpsPerSec: num(m.Before), AfterOpsPerSec: num(m.After), ChangePct: pctOf(m.Change)}
}

// num is v, or nil (null) when it is n/a.
func num(v float64) *float64 {
	if !metric.Valid(v) {
		return nil
	}
	return &v
}

func pctOf(v float64) *float64 { return num(v * 100) }

func timeOf(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(time.RFC3339Nano)
	return &s
}

// JSON writes r as indented JSON under Schema.
func JSON(w io.Writer, r *Result) error {
	out := jsonResult{Schema: Schema, Verdict: r.Verdict, Alerts: r.Alerts, FalseAlarm: num(r.FalseAlarm),
		MinEffectPct: pctOf(r.MinEffect), Significance: num(r.Significance), Permutations: r.Permutations, MinSize: r.MinSize,
		Series: []jsonSeries{}}
	for _, s := range r.Series {
		js := jsonSeries{Scenario: s.Scenario, Metric: s.Metric, Unit: s.Unit, Better: s.Better, Status: s.Status,
			Points: []jsonPoint{}, Segments: []jsonSegment{}, Changes: []jsonChange{}, Notes: append([]string{}, s.Notes...)}
		for _, p := range s.Points {
			js.Points = append(js.Points, jsonPoint{RunID: p.RunID, At: timeOf(p.At), Commit: p.Commit, Branch: p.Branch, Value: num(p.Value), CanaryOpsPerSec: canaryJSON(p.Canary)})
		}
		for _, g := range s.Segments {
			js.Segments = append(js.Segments, jsonSegment{From: g.From, To: g.To, Mean: num(g.Mean), Median: num(g.Median)})
		}
		for _, c := range s.Changes {
			js.Changes = append(js.Changes, jsonChange{Index: c.Index, RunID: c.RunID, At: timeOf(c.At), FromCommit: c.FromCommit, ToCommit: c.ToCommit,
				BeforeMean: num(c.Before.Mean), AfterMean: num(c.After.Mean), MeanChangePct: pctOf(c.MeanChange),
				BeforeMedian: num(c.Before.Median), AfterMedian: num(c.After.Median), MedianChangePct: pctOf(c.MedianChange),
				PValue: num(c.PValue), Statistic: num(c.Statistic), Direction: c.Direction, Alert: c.Alert, Machine: machineJSON(c.Machine), Note: c.Note})
		}
		if g := s.Regressed; g != nil {
			js.Regressed = &jsonRegressed{Index: g.Index, RunID: g.RunID, Changes: g.Changes, FromCommit: g.FromCommit, ToCommit: g.ToCommit,
				BeforeMean: num(g.Before.Mean), AfterMean: num(g.After.Mean), MeanChangePct: pctOf(g.MeanChange)}
		}
		out.Series = append(out.Series, js)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(&out); err != nil {
		return fmt.Errorf("json trend: %w", err)
	}
	return nil
}
