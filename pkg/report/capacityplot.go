package report

import (
	"fmt"
	"html/template"
	"math"
	"slices"
	"strings"
)

// The HTML report's throughput–latency plot of a capacity search: each
// step's p50, p99 and max (from when each operation was due, on a log
// scale) against the rate it achieved, the steps joined in order of that
// rate; a step that held is a filled mark, one that failed a hollow one.
// Each latency objective is a horizontal line at its limit, and the knee,
// the step at max_rate, a vertical line, with the band up to the first
// failing rate shaded: the capacity lies in it.

// capacityGeometry is the plot's layout in SVG units.
const (
	capW, capH          = 720.0, 360.0
	capLeft, capRight   = 72.0, 40.0
	capTop, capBottom   = 28.0, 312.0
	capXAxis, capXTicks = 328.0, 5
	capMark             = 3.5
)

// capacityStyle is the plot's style sheet, inside the SVG so that the
// page's own does not grow for reports without a search.
const capacityStyle = `<style>
svg.capacity {  max-width: 100%; height: auto; background: #fff; }
svg .line.p50 { stroke: #1a7f37; } svg .mark { stroke-width: 1.5; } svg .mark.held.p50 { fill: #1a7f37; stroke: #1a7f37; } svg .mark.held.p99 { fill: #bc4c00; stroke: #bc4c00; } svg .mark.held.max { fill: #8c959f; stroke: #8c959f; }
svg .mark.failed { fill: #fff; } svg .mark.failed.p50 { stroke: #1a7f37; } svg .mark.failed.p99 { stroke: #bc4c00; } svg .mark.failed.max { stroke: #8c959f; }
svg line.slo { stroke: #cf222e; stroke-width: 1.5; stroke-dasharray: 6 3; } svg text.slo { font-size: 11px; fill: #cf222e; }
svg line.knee { stroke: #0969da; stroke-width: 1.5; } svg text.knee { font-size: 11px; fill: #0969da; } svg .bracket { fill: rgba(9, 105, 218, .1); }
</style>`

// capacityFigures are the latency figures drawn per step.
var capacityFigures = []struct {
	class, label string
	value        func(Latency) int64
}{
	{"p50", "p50", func(l Latency) int64 { return l.P50 }},
	{"p99", "p99", func(l Latency) int64 { return l.P99 }},
	{"max", "max", func(l Latency) int64 { return l.Max }},
}

// capacityRow is one step of the HTML report's table of a search.
type capacityRow struct {
	Step                                            int
	Phase, Target, Achieved, P50, P99, Max, Verdict string
	Held                                            bool
}

// capacityRows is a search's table, by target rate.
func capacityRows(c *Capacity) []capacityRow {
	steps, nums := c.curve()
	rows := make([]capacityRow, len(steps))
	for i, st := range steps {
		rows[i] = capacityRow{Step: nums[i], Phase: st.Phase, Target: Throughput(st.TargetRateOpsPerSec), Achieved: Throughput(st.AchievedRateOpsPerSec),
			P50: stepLatency(st, st.Latency.P50), P99: stepLatency(st, st.Latency.P99), Max: stepLatency(st, st.Latency.Max),
			Verdict: st.verdict(), Held: st.Held}
	}
	return rows
}

// capacityPlot draws c's steps as an inline SVG; "" when no step measured
// a latency.
func capacityPlot(name string, c *Capacity) template.HTML {
	type point struct {
		n  int
		st CapacityStep
	}
	var pts []point
	var xmax, lmin, lmax float64
	for i, st := range c.Steps {
		xmax = math.Max(xmax, math.Max(st.AchievedRateOpsPerSec, st.TargetRateOpsPerSec))
		if st.Latency.Count == 0 {
			continue
		}
		pts = append(pts, point{i + 1, st})
		for _, l := range capacityFigures {
			v := float64(l.value(st.Latency))
			if v > 0 && (lmin == 0 || v < lmin) {
				lmin = v
			}
			lmax = math.Max(lmax, v)
		}
	}
	if len(pts) == 0 {
		return ""
	}
	slices.SortStableFunc(pts, func(a, b point) int { return cmpFloat(a.st.AchievedRateOpsPerSec, b.st.AchievedRateOpsPerSec) })
	// The latency objectives' limits, each once.
	var slos []Threshold
	for _, t := range c.Steps[0].SLO {
		if t.Unit == "ns" && t.Limit > 0 && !slices.ContainsFunc(slos, func(o Threshold) bool { return o.Expr == t.Expr }) {
			slos = append(slos, t)
			lmin, lmax = math.Min(lmin, t.Limit), math.Max(lmax, t.Limit)
		}
	}

	xend := niceCeil(math.Max(xmax, 1))
	lo := math.Pow(10, math.Floor(math.Log10(math.Max(lmin, 1))))
	hi := math.Pow(10, math.Ceil(math.Log10(math.Max(lmax, 1))))
	if hi <= lo {
		hi = lo * 10
	}
	px := func(rate float64) float64 { return capLeft + rate/xend*(capW-capLeft-capRight) }
	py := func(ns float64) float64 {
		return capBottom - (math.Log10(math.Max(ns, 1))-math.Log10(lo))/(math.Log10(hi)-math.Log10(lo))*(capBottom-capTop)
	}

	var b strings.Builder
	esc := template.HTMLEscapeString(name)
	fmt.Fprintf(&b, `<svg class="capacity" data-scenario="%s" data-steps="%d" viewBox="0 0 %g %g" width="%g" height="%g" role="img" aria-label="%s: latency against achieved rate, step by step">`,
		esc, len(c.Steps), capW, capH, capW, capH, esc)
	b.WriteString(capacityStyle)
	// The band the capacity lies in, and the knee.
	if c.MaxRate != nil {
		x0 := px(*c.MaxRate)
		if c.FirstFailingRate != nil {
			fmt.Fprintf(&b, `<rect class="bracket" x="%.1f" y="%g" width="%.1f" height="%g"><title>the capacity lies between %s and %s</title></rect>`,
				x0, capTop, math.Max(px(*c.FirstFailingRate)-x0, 1), capBottom-capTop, Throughput(*c.MaxRate), Throughput(*c.FirstFailingRate))
		}
		fmt.Fprintf(&b, `<line class="knee" x1="%.1f" y1="%g" x2="%.1f" y2="%g"/>`, x0, capTop, x0, capBottom)
		anchor, dx := "start", 4.0
		if x0 > capW/2 {
			anchor, dx = "end", -4
		}
		fmt.Fprintf(&b, `<text class="knee" x="%.1f" y="%g" text-anchor="%s">knee: max_rate %s</text>`, x0+dx, capTop+12, anchor, rateLabel(*c.MaxRate)+" ops/s")
	}
	// Axes.
	for i := 0; i <= capXTicks; i++ {
		v := xend * float64(i) / capXTicks
		x := px(v)
		fmt.Fprintf(&b, `<line class="grid" x1="%.1f" y1="%g" x2="%.1f" y2="%g"/>`, x, capTop, x, capBottom)
		fmt.Fprintf(&b, `<text class="tick" x="%.1f" y="%g" text-anchor="middle">%s</text>`, x, capXAxis, rateLabel(v))
	}
	fmt.Fprintf(&b, `<text class="axis" x="%g" y="%g" text-anchor="middle">achieved rate (ops/s)</text>`, (capLeft+capW-capRight)/2, capH-8)
	for v := lo; v <= hi*1.001; v *= 10 {
		y := py(v)
		fmt.Fprintf(&b, `<line class="grid" x1="%g" y1="%.1f" x2="%g" y2="%.1f"/>`, capLeft, y, capW-capRight, y)
		fmt.Fprintf(&b, `<text class="tick" x="%g" y="%.1f" text-anchor="end">%s</text>`, capLeft-6, y+4, decadeLabel(v))
	}
	fmt.Fprintf(&b, `<text class="axis" x="%g" y="%g">latency from when due (log scale)</text>`, capLeft, capTop-10)
	// The objectives.
	for _, t := range slos {
		y := py(t.Limit)
		fmt.Fprintf(&b, `<line class="slo" x1="%g" y1="%.1f" x2="%g" y2="%.1f"/>`, capLeft, y, capW-capRight, y)
		// At the left, where the latencies of low rates are under it.
		fmt.Fprintf(&b, `<text class="slo" x="%g" y="%.1f">SLO %s</text>`, capLeft+4, y-4, template.HTMLEscapeString(t.Expr))
	}
	// A line per figure through the steps, then each step's marks.
	for _, l := range capacityFigures {
		var d strings.Builder
		for i, p := range pts {
			cmd := "L"
			if i == 0 {
				cmd = "M"
			}
			fmt.Fprintf(&d, "%s%.1f,%.1f ", cmd, px(p.st.AchievedRateOpsPerSec), py(float64(l.value(p.st.Latency))))
		}
		fmt.Fprintf(&b, `<path class="line %s" d="%s"><title>%s</title></path>`, l.class, strings.TrimSpace(d.String()), l.label)
	}
	for _, p := range pts {
		held := "held"
		if !p.st.Held {
			held = "failed"
		}
		title := template.HTMLEscapeString(fmt.Sprintf("step %d (%s): target %s, achieved %s; p50 %s, p99 %s, max %s; %s", p.n, p.st.Phase,
			Throughput(p.st.TargetRateOpsPerSec), Throughput(p.st.AchievedRateOpsPerSec), Duration(float64(p.st.Latency.P50)),
			Duration(float64(p.st.Latency.P99)), Duration(float64(p.st.Latency.Max)), p.st.verdict()))
		for _, l := range capacityFigures {
			fmt.Fprintf(&b, `<circle class="mark %s %s" data-step="%d" cx="%.1f" cy="%.1f" r="%g"><title>%s</title></circle>`,
				l.class, held, p.n, px(p.st.AchievedRateOpsPerSec), py(float64(l.value(p.st.Latency))), capMark, title)
		}
	}
	x := capW - capRight
	fmt.Fprintf(&b, `<text class="legend" x="%g" y="%g" text-anchor="end"><tspan class="p50">p50</tspan> · <tspan class="p99">p99</tspan> · <tspan class="max">max</tspan> · filled: held, hollow: failed</text>`, x, capTop-10)
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // built here from numbers and escaped names
}
