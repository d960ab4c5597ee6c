// The CSV format: every figure of a report in one flat table.

package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/rustci/rustci-perf/pkg/metric"
)

// CSVHeader is the CSV format's header row: the columns of every row.
var CSVHeader = []string{"scenario", "kind", "figure", "value", "unit", "better", "injected"}

// CSV writes r as one flat table, as hyperfine exports its results, for a
// spreadsheet or a data frame: a header row (CSVHeader), then one row per
// scenario and figure, quoted as RFC 4180 has it (encoding/csv). Its
// columns:
//
//   - scenario: the scenario's name;
//   - kind: empty for the whole scenario; in a scenario that mixes kinds of
//     operation, the kind (read, write) for that kind's own figures;
//   - figure: as the metric catalogue and thresholds name it (ops, errors,
//     throughput, duration (the scenario's only), min, mean, stdev, p50, p90, p95, p99, p99.9,
//     max, then the scenario's counters and metrics, each sorted by name);
//   - value: a plain decimal number (2325581.4, 0.016); empty when the
//     figure cannot be computed (n/a: a metric that is, the latencies of
//     a scenario or kind with no successful operation), never NaN or Inf;
//   - unit: the catalogue's (ns, ops/s, bytes; empty for a count or a
//     ratio, and for a figure the catalogue does not define);
//   - better: which way the figure is better, from the catalogue (higher,
//     lower, zero: nearer 0; empty when neither);
//   - injected: the faults the run was injected with, as text shows them
//     (l2:latency=2ms,error=0.01; limiter:stall=2s@5s), on every row so
//     that tables of several runs concatenated keep them apart; empty for
//     a clean run.
//
// A scenario that could not run or was skipped measured nothing and has no
// row (the text and JSON reports say why). With --count the figures are
// over all runs, as the scenario's are in JSON; each run's are in JSON and
// gobench.
func CSV(w io.Writer, r *Report) error {
	cw := csv.NewWriter(w)
	injected := strings.Join(r.Injected, "; ")
	cw.Write(CSVHeader)
	for _, s := range r.Scenarios {
		if s.Status == StatusError || s.Status == StatusSkipped {
			continue
		}
		row := func(kind string, f csvFigure) {
			d, _ := metric.Lookup(f.name)
			cw.Write([]string{s.Name, kind, f.name, f.value, d.Unit, d.Better, injected})
		}
		// The measured wall time after throughput, which is over it: a
		// kind of operation shares the scenario's.
		whole := slices.Insert(measuredFigures(s.Ops, s.Errors, s.ThroughputOpsPerSec, s.Latency), 3,
			csvFigure{"duration", strconv.FormatInt(s.DurationNS, 10)})
		for _, f := range whole {
			row("", f)
		}
		for _, name := range slices.Sorted(maps.Keys(s.Counters)) {
			row("", csvFigure{name, strconv.FormatInt(s.Counters[name], 10)})
		}
		for _, name := range slices.Sorted(maps.Keys(s.Metrics)) {
			row("", csvFigure{name, csvFloat(s.Metrics[name])})
		}
		for _, o := range s.Operations {
			for _, f := range measuredFigures(o.Ops, o.Errors, o.ThroughputOpsPerSec, o.Latency) {
				row(o.Name, f)
			}
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("csv report: %w", err)
	}
	return nil
}

// csvFigure is a row's figure and its value, written.
type csvFigure struct{ name, value string }

// measuredFigures are the harness's figures of a scenario or a kind of
// operation, as the catalogue names them: its operations, errors and
// throughput, then its latencies, empty (n/a) when no operation succeeded.
func measuredFigures(ops, errs int64, tput float64, l Latency) []csvFigure {
	out := []csvFigure{{"ops", strconv.FormatInt(ops, 10)}, {"errors", strconv.FormatInt(errs, 10)}, {"throughput", csvFloat(tput)}}
	lat := func(v float64) string {
		if l.Count == 0 {
			return "" // no latency: the zeros of the report mean nothing
		}
		return csvFloat(v)
	}
	return append(out,
		csvFigure{"min", lat(float64(l.Min))}, csvFigure{"mean", lat(l.Mean)}, csvFigure{"stdev", lat(l.Stdev)},
		csvFigure{"p50", lat(float64(l.P50))}, csvFigure{"p90", lat(float64(l.P90))}, csvFigure{"p95", lat(float64(l.P95))},
		csvFigure{"p99", lat(float64(l.P99))}, csvFigure{"p99.9", lat(float64(l.P999))}, csvFigure{"max", lat(float64(l.Max))})
}

// csvFloat is v as a plain decimal, as short as reads back exactly
// (2325581.4, 0.016), in exponent form only far from 1 (1e-09, 1e+21);
// empty when v is not a number: a figure that cannot be computed.
func csvFloat(v float64) string {
	if !metric.Valid(v) {
		return ""
	}
	if a := math.Abs(v); a != 0 && (a < 1e-6 || a >= 1e21) {
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}
