// A scenario's capacity search (run --find-max-rate): its answer, every
// step, and how each format shows them.

package report

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/rustci/rustci-perf/pkg/metric"
)

// Capacity is a scenario's capacity search: the highest open-loop rate at
// which its objectives held (package capacity), the uncertainty of that
// answer, and every step the search took, which together are the
// scenario's throughput–latency curve. The scenario's own figures are
// those of the step at the answer (or, when no rate held, of the lowest
// rate tried).
type Capacity struct {
	// SLO are the objectives every step was judged on, as written; the
	// generator's check, achieved_rate_ratio>0.99, last.
	SLO []string `json:"slo"`
	// BudgetNS is the scenario's share of --budget; ElapsedNS how long
	// its search took, the closed-loop estimate and every step's setup
	// included.
	BudgetNS  int64 `json:"budget_ns"`
	ElapsedNS int64 `json:"elapsed_ns"`
	// Precision is the relative width of the bracket at which the search
	// stops: converged when FirstFailingRate <= MaxRate × (1 + Precision).
	Precision float64 `json:"precision"`
	// EstimateOpsPerSec is the closed-loop throughput the search started
	// from.
	EstimateOpsPerSec float64 `json:"closed_loop_throughput_ops_per_sec"`
	// MaxRate is the highest target rate that held, null when none did;
	// FirstFailingRate the lowest that failed, null when none did (the
	// answer is then a lower bound). The capacity lies between the two.
	MaxRate          *float64 `json:"max_rate_ops_per_sec"`
	FirstFailingRate *float64 `json:"first_failing_rate_ops_per_sec"`
	// Stop says why the search ended (capacity.Stop): converged, budget,
	// none-held, ceiling or interrupted; Converged is Stop == converged.
	Stop      string `json:"stop"`
	Converged bool   `json:"converged"`
	// Steps are in the order they ran.
	Steps []CapacityStep `json:"steps"`
}

// CapacityStep is one open-loop run of a capacity search.
type CapacityStep struct {
	// Phase is climb, descend or bisect.
	Phase                 string  `json:"phase"`
	TargetRateOpsPerSec   float64 `json:"target_rate_ops_per_sec"`
	AchievedRateOpsPerSec float64 `json:"achieved_rate_ops_per_sec"`
	Ops                   int64   `json:"ops"`
	Errors                int64   `json:"errors"`
	// DurationNS is the measured phase's wall time; WallNS the whole
	// step's: setting the component up, filling it, the warmup and the
	// measured phase.
	DurationNS int64 `json:"duration_ns"`
	WallNS     int64 `json:"wall_ns"`
	// Latency is from when each operation was due.
	Latency Latency `json:"latency_ns"`
	// SLO is each objective judged on this step, as thresholds are.
	SLO []Threshold `json:"slo"`
	// Held is true when every objective held.
	Held bool `json:"held"`
}

// Stops of a capacity search, as package capacity names them.
const (
	StopConverged = "converged"
	StopBudget    = "budget"
	StopNoneHeld  = "none-held"
	StopCeiling   = "ceiling"
	StopInterrupt = "interrupted"
)

// answer says a search's answer in words: the rate, its bracket and why
// the search stopped.
func (c *Capacity) answer() string {
	rate := func(p *float64) string {
		if p == nil {
			return NA
		}
		return Throughput(*p)
	}
	var b strings.Builder
	if c.MaxRate == nil {
		fmt.Fprintf(&b, "max_rate n/a: no rate held")
		if c.FirstFailingRate != nil {
			fmt.Fprintf(&b, ", down to %s", rate(c.FirstFailingRate))
		}
	} else {
		fmt.Fprintf(&b, "max_rate %s", rate(c.MaxRate))
		if c.FirstFailingRate != nil {
			fmt.Fprintf(&b, ", first failing %s", rate(c.FirstFailingRate))
		}
	}
	switch c.Stop {
	case StopConverged:
		fmt.Fprintf(&b, " (converged to %s)", share(c.Precision))
	case StopBudget:
		fmt.Fprintf(&b, " (not converged to %s: the budget ran out)", share(c.Precision))
	case StopCeiling:
		b.WriteString(" (a lower bound: every rate tried held, up to the search's ceiling)")
	case StopInterrupt:
		b.WriteString(" (interrupted)")
	}
	return b.String()
}

// share writes a fraction as a whole percentage, or with one decimal.
func share(v float64) string {
	return strings.TrimSuffix(fmt.Sprintf("%.1f", 100*v), ".0") + "%"
}

// search says how a search ran: what it judged, from what estimate, how
// many steps in how long.
func (c *Capacity) search() string {
	return fmt.Sprintf("slo %s; from a closed-loop estimate of %s; %s in %s of a %s budget",
		strings.Join(c.SLO, ", "), Throughput(c.EstimateOpsPerSec), plural(len(c.Steps), "step"),
		Duration(float64(c.ElapsedNS)), Duration(float64(c.BudgetNS)))
}

// curve returns the steps in order of target rate, each with its number
// in the order they ran (from 1).
func (c *Capacity) curve() ([]CapacityStep, []int) {
	order := make([]int, len(c.Steps))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return cmpFloat(c.Steps[a].TargetRateOpsPerSec, c.Steps[b].TargetRateOpsPerSec)
	})
	steps, nums := make([]CapacityStep, len(order)), make([]int, len(order))
	for i, j := range order {
		steps[i], nums[i] = c.Steps[j], j+1
	}
	return steps, nums
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// verdict says whether a step held, and when it did not, which objectives
// failed and at what value.
func (st CapacityStep) verdict() string {
	if st.Held {
		return "held"
	}
	var failed []string
	for _, t := range st.SLO {
		if !t.Pass {
			failed = append(failed, fmt.Sprintf("%s (%s)", t.Expr, actual(t)))
		}
	}
	return "failed: " + strings.Join(failed, ", ")
}

// capacityText writes s's search for the text report: its answer and
// search on a line each, then the steps by target rate, as a table.
func capacityText(w io.Writer, c *Capacity) error {
	ew := &errWriter{w: w}
	ew.printf("  capacity: %s\n  search: %s; the figures above are the step at max_rate\n", c.answer(), c.search())
	if len(c.Steps) == 0 {
		return ew.err
	}
	var b bytes.Buffer
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  STEP\tPHASE\tTARGET\tACHIEVED\tP50\tP99\tMAX\tRESULT")
	steps, nums := c.curve()
	for i, st := range steps {
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", nums[i], st.Phase, Throughput(st.TargetRateOpsPerSec),
			Throughput(st.AchievedRateOpsPerSec), stepLatency(st, st.Latency.P50), stepLatency(st, st.Latency.P99),
			stepLatency(st, st.Latency.Max), st.verdict())
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, line := range strings.SplitAfter(b.String(), "\n") {
		if line = strings.TrimRight(line, " \n"); line != "" {
			ew.printf("%s\n", line)
		}
	}
	return ew.err
}

// stepLatency writes one of a step's latencies, "-" when no operation
// succeeded.
func stepLatency(st CapacityStep, ns int64) string {
	if st.Latency.Count == 0 {
		return "-"
	}
	return Duration(float64(ns))
}

// capacityTable writes one row per scenario that searched for its
// capacity, under the scenarios' table; nothing when none did.
func capacityTable(w io.Writer, ss []Scenario) error {
	var b bytes.Buffer
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	any := false
	for _, s := range ss {
		c := s.Capacity
		if c == nil {
			continue
		}
		if !any {
			fmt.Fprintln(tw, "SCENARIO\tMAX RATE\tFIRST FAILING\tCLOSED LOOP\tSTEPS\tSEARCH")
			any = true
		}
		rate := func(p *float64) string {
			if p == nil {
				return NA
			}
			return Throughput(*p)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s in %s\n", s.Name, rate(c.MaxRate), rate(c.FirstFailingRate),
			Throughput(c.EstimateOpsPerSec), len(c.Steps), c.Stop, Duration(float64(c.ElapsedNS)))
	}
	if !any {
		return nil
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n"+b.String())
	return err
}

// capacityMarkdown writes each search of r: its answer, and its steps by
// target rate as a table.
func capacityMarkdown(ew *errWriter, r *Report) {
	for _, s := range r.Scenarios {
		c := s.Capacity
		if c == nil {
			continue
		}
		ew.printf("\n#### `%s` capacity: %s\n\n%s.\n", s.Name, c.answer(), c.search())
		if len(c.Steps) == 0 {
			continue
		}
		ew.printf("\n| step | phase | target | achieved | p50 | p99 | max | result |\n|---:|---|---:|---:|---:|---:|---:|---|\n")
		steps, nums := c.curve()
		for i, st := range steps {
			ew.printf("| %d | %s | %s | %s | %s | %s | %s | %s |\n", nums[i], st.Phase, Throughput(st.TargetRateOpsPerSec),
				Throughput(st.AchievedRateOpsPerSec), stepLatency(st, st.Latency.P50), stepLatency(st, st.Latency.P99),
				stepLatency(st, st.Latency.Max), strings.ReplaceAll(st.verdict(), "|", `\|`))
		}
	}
}

// capacityLines are a search's lines for a JUnit testcase's system-out:
// the answer, the search, and a line per step by target rate.
func capacityLines(c *Capacity) []string {
	lines := []string{"capacity: " + c.answer(), "search: " + c.search()}
	steps, nums := c.curve()
	for i, st := range steps {
		lines = append(lines, fmt.Sprintf("step %d (%s): target %s, achieved %s, p50 %s, p99 %s, max %s: %s", nums[i], st.Phase,
			Throughput(st.TargetRateOpsPerSec), Throughput(st.AchievedRateOpsPerSec), stepLatency(st, st.Latency.P50),
			stepLatency(st, st.Latency.P99), stepLatency(st, st.Latency.Max), st.verdict()))
	}
	return lines
}

// The gobench format's capacity line: a benchmark of its own per search,
// BenchmarkCacheRead/search=capacity, whose one iteration found max_rate
// (and first_failing_rate), so that benchstat compares capacities as it
// compares the other figures.
const (
	maxRateUnit = "max-rate-ops/s"
	failingUnit = "first-failing-ops/s"
)

// capacityUnits writes the Unit line of max_rate, from the catalogue,
// when a scenario of r searched for its capacity.
func capacityUnits(ew *errWriter, r *Report) {
	for _, s := range r.Scenarios {
		if s.Capacity != nil {
			ew.printf("Unit %s better=%s\n", maxRateUnit, metric.MaxRate.Better)
			return
		}
	}
}

// capacityBench writes a line per search that found a rate.
func capacityBench(ew *errWriter, r *Report) {
	for _, s := range r.Scenarios {
		c := s.Capacity
		if c == nil || c.MaxRate == nil {
			continue
		}
		ew.printf("Benchmark%s/search=capacity-%d\t1%s", camel(s.Name), r.Environment.GOMAXPROCS, benchValue(*c.MaxRate, maxRateUnit))
		if c.FirstFailingRate != nil {
			ew.printf("%s", benchValue(*c.FirstFailingRate, failingUnit))
		}
		ew.printf("\n")
	}
}

// checkCapacity checks a scenario's search against what the search keeps
// (package capacity): every step's latency counts its operations and it
// held exactly when every objective did; max_rate is the highest target
// that held and first_failing_rate the lowest that failed, the one under
// the other; a converged search's bracket is within its precision; and
// the scenario's metrics say the same.
func checkCapacity(s Scenario, bad func(string, string, ...any) error) error {
	c := s.Capacity
	lo, hi := math.NaN(), math.NaN()
	for i, st := range c.Steps {
		at := fmt.Sprintf("/capacity/steps/%d", i)
		if st.Latency.Count != st.Ops {
			return bad(at+"/latency_ns/count", "%d, but ops is %d: a latency is counted for each successful operation", st.Latency.Count, st.Ops)
		}
		all := true
		for _, t := range st.SLO {
			all = all && t.Pass
		}
		if st.Held != all {
			return bad(at+"/held", "%t, but every objective held: %t", st.Held, all)
		}
		switch {
		case st.Held && !(st.TargetRateOpsPerSec <= lo):
			lo = st.TargetRateOpsPerSec
		case !st.Held && !(st.TargetRateOpsPerSec >= hi):
			hi = st.TargetRateOpsPerSec
		}
	}
	same := func(p *float64, v float64) bool { return (p == nil && math.IsNaN(v)) || (p != nil && *p == v) }
	switch {
	case !same(c.MaxRate, lo):
		return bad("/capacity/max_rate_ops_per_sec", "%s, but the highest target that held is %s", ptrText(c.MaxRate), Number(lo))
	case !same(c.FirstFailingRate, hi):
		return bad("/capacity/first_failing_rate_ops_per_sec", "%s, but the lowest target that failed is %s", ptrText(c.FirstFailingRate), Number(hi))
	case lo >= hi:
		return bad("/capacity/max_rate_ops_per_sec", "%s, not under first_failing_rate_ops_per_sec, %s: a search only tries rates between the two", Number(lo), Number(hi))
	case c.Converged != (c.Stop == StopConverged):
		return bad("/capacity/converged", "%t with stop %s", c.Converged, c.Stop)
	case c.Converged && !(hi <= lo*(1+c.Precision)*(1+1e-9)):
		return bad("/capacity/converged", "true, but the first failing rate, %s, is more than %s above max_rate, %s", Number(hi), share(c.Precision), Number(lo))
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{metric.MaxRate.Name, lo}, {metric.FirstFailingRate.Name, hi}} {
		if m, ok := s.Metrics[f.name]; ok && !(m == f.v || (math.IsNaN(m) && math.IsNaN(f.v))) {
			return bad("/metrics/"+f.name, "%s, but the capacity search says %s", Number(m), Number(f.v))
		}
	}
	return nil
}

func ptrText(p *float64) string {
	if p == nil {
		return "null"
	}
	return Number(*p)
}
