package report

import (
	"fmt"
	"html/template"
	"math"
	"sort"
	"strconv"
	"strings"
)

// The HTML report's time series plot: a scenario's intervals (Scenario.
// Intervals) drawn over time, throughput per interval in the upper panel
// (linear, from 0) and latency per interval in the lower one (p50, p99 and
// max, on a log scale so that a stall's max does not flatten the p50).
// Each interval's value holds for its length, so every line is drawn in
// steps; an interval with no successful operation has no latency and
// leaves a gap. With --count every run starts at 0 and the runs are
// overlaid, each a line of its own, so their spread shows. The worst
// window of a threshold judged per window that failed is shaded.

// seriesGeometry is the plot's layout in SVG units.
const (
	seriesW, seriesH         = 720.0, 400.0
	seriesLeft, seriesRight  = 72.0, 40.0
	tputTop, tputBottom      = 28.0, 150.0
	latTop, latBottom        = 190.0, 352.0
	seriesTicks, seriesXAxis = 6, 368.0
)

// seriesLines are the lines drawn per run: the class naming its colour,
// its legend, its panel, and its value in an interval (ok false: none).
var seriesLines = []struct {
	class, label string
	latency      bool
	value        func(Interval) (float64, bool)
}{
	{"tput", "throughput", false, func(iv Interval) (float64, bool) { return iv.ThroughputOpsPerSec, iv.DurationNS > 0 }},
	{"p50", "p50", true, func(iv Interval) (float64, bool) { return float64(iv.P50NS), iv.Ops > 0 && iv.P50NS > 0 }},
	{"p99", "p99", true, func(iv Interval) (float64, bool) { return float64(iv.P99NS), iv.Ops > 0 && iv.P99NS > 0 }},
	{"max", "max", true, func(iv Interval) (float64, bool) { return float64(iv.MaxNS), iv.Ops > 0 && iv.MaxNS > 0 }},
}

// seriesPlot draws s's time series as an inline SVG; "" without
// intervals.
func seriesPlot(s Scenario) template.HTML {
	runs := map[int][]Interval{}
	var xmax, tmax, lmin, lmax float64
	for _, iv := range s.Intervals {
		if iv.DurationNS <= 0 {
			continue
		}
		runs[iv.Run] = append(runs[iv.Run], iv)
		xmax = math.Max(xmax, float64(iv.StartNS+iv.DurationNS))
		tmax = math.Max(tmax, iv.ThroughputOpsPerSec)
		for _, l := range seriesLines {
			if v, ok := l.value(iv); ok && l.latency {
				if lmin == 0 || v < lmin {
					lmin = v
				}
				lmax = math.Max(lmax, v)
			}
		}
	}
	if len(runs) == 0 {
		return ""
	}
	order := make([]int, 0, len(runs))
	for r := range runs {
		order = append(order, r)
	}
	sort.Ints(order)
	for _, r := range order {
		sort.Slice(runs[r], func(i, j int) bool { return runs[r][i].StartNS < runs[r][j].StartNS })
	}

	// The time axis ends with the last interval, its ticks at round
	// steps; it is rounded up to the next step only when that adds
	// little, so a run's short last interval does not cost a fifth of
	// the width.
	step := niceCeil(xmax / seriesTicks)
	xend := xmax
	if up := math.Ceil(xmax/step) * step; up <= xmax*1.05 {
		xend = up
	}
	tend := niceCeil(math.Max(tmax, 1))
	// The latency axis spans whole decades.
	lo := math.Pow(10, math.Floor(math.Log10(math.Max(lmin, 1))))
	hi := math.Pow(10, math.Ceil(math.Log10(math.Max(lmax, 1))))
	if hi <= lo {
		hi = lo * 10
	}
	px := func(ns float64) float64 { return seriesLeft + ns/xend*(seriesW-seriesLeft-seriesRight) }
	py := func(v float64, latency bool) float64 {
		if latency {
			return latBottom - (math.Log10(v)-math.Log10(lo))/(math.Log10(hi)-math.Log10(lo))*(latBottom-latTop)
		}
		return tputBottom - v/tend*(tputBottom-tputTop)
	}

	var b strings.Builder
	name := template.HTMLEscapeString(s.Name)
	fmt.Fprintf(&b, `<svg class="timeseries" data-scenario="%s" data-runs="%d" viewBox="0 0 %g %g" width="%g" height="%g" role="img" aria-label="%s: throughput and latency per interval of %s">`,
		name, len(runs), seriesW, seriesH, seriesW, seriesH, name, Duration(float64(s.IntervalNS)))
	// Time axis, shared by both panels.
	for t := 0.0; t <= xend*1.0001; t += step {
		x := px(t)
		fmt.Fprintf(&b, `<line class="grid" x1="%.1f" y1="%g" x2="%.1f" y2="%g"/>`, x, tputTop, x, tputBottom)
		fmt.Fprintf(&b, `<line class="grid" x1="%.1f" y1="%g" x2="%.1f" y2="%g"/>`, x, latTop, x, latBottom)
		fmt.Fprintf(&b, `<text class="tick" x="%.1f" y="%g" text-anchor="middle">%s</text>`, x, seriesXAxis, timeLabel(t))
	}
	fmt.Fprintf(&b, `<text class="axis" x="%g" y="%g" text-anchor="middle">time into the measured phase</text>`, (seriesLeft+seriesW-seriesRight)/2, seriesH-12)
	// Throughput axis.
	for i := 0; i <= 2; i++ {
		v := tend * float64(i) / 2
		y := py(v, false)
		fmt.Fprintf(&b, `<line class="grid" x1="%g" y1="%.1f" x2="%g" y2="%.1f"/>`, seriesLeft, y, seriesW-seriesRight, y)
		fmt.Fprintf(&b, `<text class="tick" x="%g" y="%.1f" text-anchor="end">%s</text>`, seriesLeft-6, y+4, rateLabel(v))
	}
	fmt.Fprintf(&b, `<text class="axis" x="%g" y="%g">throughput per interval (ops/s)</text>`, seriesLeft, tputTop-10)
	// Latency axis, one line a decade.
	for v := lo; v <= hi*1.001; v *= 10 {
		y := py(v, true)
		fmt.Fprintf(&b, `<line class="grid" x1="%g" y1="%.1f" x2="%g" y2="%.1f"/>`, seriesLeft, y, seriesW-seriesRight, y)
		fmt.Fprintf(&b, `<text class="tick" x="%g" y="%.1f" text-anchor="end">%s</text>`, seriesLeft-6, y+4, decadeLabel(v))
	}
	fmt.Fprintf(&b, `<text class="axis" x="%g" y="%g">latency per interval (log scale)</text>`, seriesLeft, latTop-10)

	// The worst window of each threshold judged per window that failed,
	// shaded across both panels (runs start together at 0, so it spans
	// the same time in each).
	for _, t := range s.Thresholds {
		w := t.Windows
		if t.Pass || w == nil || w.Worst == nil {
			continue
		}
		x0 := px(float64(w.Worst.StartNS))
		x1 := px(math.Min(float64(w.Worst.StartNS+w.LengthNS), xend))
		fmt.Fprintf(&b, `<rect class="worst" x="%.1f" y="%g" width="%.1f" height="%g"><title>%s</title></rect>`,
			x0, tputTop, math.Max(x1-x0, 0.5), latBottom-tputTop,
			template.HTMLEscapeString(fmt.Sprintf("%s missed: worst window %s; %s", t.Expr, actual(t), windowsWords(t, len(runs) > 1))))
	}
	overlay := ""
	if len(runs) > 1 {
		overlay = " overlay"
	}
	for _, r := range order {
		for _, l := range seriesLines {
			d := stepPath(runs[r], func(iv Interval) (float64, float64, bool) {
				v, ok := l.value(iv)
				return px(float64(iv.StartNS)), py(v, l.latency), ok
			}, func(iv Interval) float64 { return px(float64(iv.StartNS + iv.DurationNS)) })
			if d == "" {
				continue
			}
			fmt.Fprintf(&b, `<path class="line %s%s" data-run="%d" d="%s"><title>%s</title></path>`, l.class, overlay, r, d, lineTitle(l.label, r, len(runs)))
		}
	}
	// Legend, right-aligned above each panel.
	x := seriesW - seriesRight
	legend := []string{}
	if len(runs) > 1 {
		legend = append(legend, fmt.Sprintf("%d runs overlaid", len(runs)))
	}
	fmt.Fprintf(&b, `<text class="legend tput" x="%g" y="%g" text-anchor="end">%s</text>`, x, tputTop-10, strings.Join(append(legend, "throughput"), " · "))
	fmt.Fprintf(&b, `<text class="legend" x="%g" y="%g" text-anchor="end"><tspan class="p50">p50</tspan> · <tspan class="p99">p99</tspan> · <tspan class="max">max</tspan></text>`, x, latTop-10)
	// With one run, each interval tells its figures on hover.
	if len(runs) == 1 {
		for _, iv := range runs[order[0]] {
			x0, x1 := px(float64(iv.StartNS)), px(float64(iv.StartNS+iv.DurationNS))
			fmt.Fprintf(&b, `<rect class="hover" x="%.1f" y="%g" width="%.1f" height="%g"><title>%s</title></rect>`,
				x0, tputTop, math.Max(x1-x0, 0.5), latBottom-tputTop, template.HTMLEscapeString(intervalTitle(iv)))
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // built here from numbers and escaped names
}

// stepPath draws ivs as steps: at (x, y) from each interval's start to its
// end (end), joined to the next one; an interval with no value (ok false)
// breaks the line. "" when no interval has a value.
func stepPath(ivs []Interval, at func(Interval) (x, y float64, ok bool), end func(Interval) float64) string {
	var d strings.Builder
	open := false
	for _, iv := range ivs {
		x, y, ok := at(iv)
		if !ok {
			open = false
			continue
		}
		cmd := "L"
		if !open {
			cmd = "M"
		}
		fmt.Fprintf(&d, "%s%.1f,%.1f H%.1f ", cmd, x, y, end(iv))
		open = true
	}
	return strings.TrimSpace(d.String())
}

// lineTitle names a line for a hover: "p99", or "p99, run 2" with runs.
func lineTitle(label string, run, runs int) string {
	if runs > 1 {
		return fmt.Sprintf("%s, run %d", label, run+1)
	}
	return label
}

// intervalTitle is one interval's figures, shown on hover.
func intervalTitle(iv Interval) string {
	t := fmt.Sprintf("%s to %s: %d ops, %s, %s", timeLabel(float64(iv.StartNS)), timeLabel(float64(iv.StartNS+iv.DurationNS)),
		iv.Ops, plural(int(iv.Errors), "error"), Throughput(iv.ThroughputOpsPerSec))
	if iv.Ops > 0 {
		t += fmt.Sprintf("; p50 %s, p99 %s, max %s", Duration(float64(iv.P50NS)), Duration(float64(iv.P99NS)), Duration(float64(iv.MaxNS)))
	}
	for _, o := range iv.Operations {
		if o.Ops > 0 {
			t += fmt.Sprintf("; %s p50 %s, p99 %s", o.Name, Duration(float64(o.P50NS)), Duration(float64(o.P99NS)))
		}
	}
	return t
}

// timeLabel writes a time into the run: "0" at the start, else a duration.
func timeLabel(ns float64) string {
	if ns == 0 {
		return "0"
	}
	return Duration(ns)
}

// decadeLabel writes a power of ten of nanoseconds: "100ns", "1µs",
// "10ms".
func decadeLabel(ns float64) string {
	d := Duration(ns)
	for _, z := range []string{".00", ".0"} {
		d = strings.Replace(d, z, "", 1)
	}
	return d
}

// rateLabel writes an axis' operations per second compactly: 0, 500k,
// 1.5M.
func rateLabel(v float64) string {
	switch {
	case v >= 1e9:
		return strconv.FormatFloat(v/1e9, 'g', 3, 64) + "G"
	case v >= 1e6:
		return strconv.FormatFloat(v/1e6, 'g', 3, 64) + "M"
	case v >= 1e3:
		return strconv.FormatFloat(v/1e3, 'g', 3, 64) + "k"
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}
