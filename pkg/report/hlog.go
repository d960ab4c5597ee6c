package report

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/rustci/rustci-perf/pkg/latency"
)

// HlogTag is the tag of a scenario's intervals in an interval log
// (WriteHlog): its name, and for one kind of operation of a scenario that
// mixes several its name after a dot, "latency.read". A tag holds no
// comma, space or line break, as the format requires.
func HlogTag(scenario, kind string) string {
	if kind == "" {
		return scenario
	}
	return scenario + "." + kind
}

// WriteHlog writes the time series of every scenario of r with one (its
// intervals, every run's with --count) as an HdrHistogram interval log,
// the .hlog format of HdrHistogram's HistogramLogWriter that
// HistogramLogAnalyzer and hdrhistogram-go's HistogramLogReader read:
// a header (format version, StartTime and BaseTime: r's start), then one
// line per interval, tagged with its scenario (HlogTag; in a scenario that
// mixes kinds of operation, each kind's intervals too, under its own tag),
// its start in seconds from r's start, its length, its max in ms, and its
// histogram (V2 compressed, base64), values in nanoseconds. An interval
// is placed on the wall clock from when its run's measured phase began
// (measured_at); in a report without that time (one written before it was
// recorded), each scenario's first run is placed at r's start. An interval
// with no successful operation has an empty histogram, so the series has
// no gap. Scenarios with no interval (skipped, or merged from several
// machines) have no line.
func WriteHlog(w io.Writer, r *Report) error {
	comment := fmt.Sprintf("[rustci-perf %s: latency per interval of each scenario's measured phase, in ns; tags: scenario, scenario.kind]", r.ToolVersion)
	if len(r.Injected) > 0 {
		// As every other format says at its top: never taken for a
		// clean run's.
		comment += " FAULTS INJECTED, not a clean run: " + strings.Join(r.Injected, "; ")
	}
	log, err := latency.NewLog(w, r.StartedAt, comment)
	if err != nil {
		return err
	}
	for _, s := range r.Scenarios {
		for _, iv := range s.Intervals {
			began := s.MeasuredAt
			if s.Repeat != nil && iv.Run < len(s.Repeat.Runs) && !s.Repeat.Runs[iv.Run].MeasuredAt.IsZero() {
				began = s.Repeat.Runs[iv.Run].MeasuredAt
			}
			if began.IsZero() {
				began = r.StartedAt
			}
			from := began.Add(time.Duration(iv.StartNS))
			to := from.Add(time.Duration(iv.DurationNS))
			if err := hlogLine(log, HlogTag(s.Name, ""), iv.Histogram, from, to); err != nil {
				return fmt.Errorf("hlog: %s: %w", s.Name, err)
			}
			for _, o := range iv.Operations {
				if err := hlogLine(log, HlogTag(s.Name, o.Name), o.Histogram, from, to); err != nil {
					return fmt.Errorf("hlog: %s: %w", HlogTag(s.Name, o.Name), err)
				}
			}
		}
	}
	return nil
}

// hlogLine writes one interval's histogram (encoded; "" for none, an empty
// one), tagged, from and to as given.
func hlogLine(log *latency.Log, tag, enc string, from, to time.Time) error {
	rec := latency.NewRecorder()
	if enc != "" {
		var err error
		if rec, err = latency.Decode(enc); err != nil {
			return err
		}
	}
	return log.Write(tag, rec, from, to)
}
