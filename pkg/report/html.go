package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"strings"

	"github.com/rustci/rustci-perf/pkg/latency"
)

//go:embed html.tmpl
var htmlTemplate string

var htmlPage = template.Must(template.New("report").Funcs(template.FuncMap{
	"duration":   func(ns int64) string { return Duration(float64(ns)) },
	"throughput": Throughput,
	"actual":     actual,
	"p99pm": func(p *Precision) string {
		if p == nil {
			return "-"
		}
		return plusMinus(p.P99Pct)
	},
	"value":  value,
	"change": changePct,
	"test":   testWords,
}).Parse(htmlTemplate))

// HTML writes r as one self-contained page (no script, style sheet or font
// from anywhere else): the summary, and per scenario a latency-by-percentile
// plot drawn as inline SVG, with the percentile axis log-scaled as
// HdrHistogram's plotter draws it (0%, 90%, 99%, 99.9%, ... equally
// spaced) and, in a scenario that mixes kinds of operation, each kind's
// curve beside the whole's; each kind's figures and the precision reached;
// a time series plot of throughput and latency per interval (every run's,
// overlaid, with --count); what the measured phase cost the process; the
// thresholds, with how each judged per window went and its worst window
// marked on the time series; and, with a baseline, the
// baseline's curve on the percentile plot and the comparison.
func HTML(w io.Writer, r *Report) error {
	type section struct {
		Scenario
		Plot          template.HTML
		Series        template.HTML
		SeriesLine    string
		PrecisionLine string
		CostLine      string
		Kinds         []kindRow
		Change        *ScenarioChange
		// Limits are the thresholds as shown, and Windowed says whether
		// one is judged per window (a column says how its windows went).
		Limits   []thresholdRow
		Windowed bool
		// CapacityPlot and CapacityRows draw a capacity search.
		CapacityPlot   template.HTML
		CapacityRows   []capacityRow
		CapacityAnswer string
		CapacitySearch string
	}
	page := struct {
		*Report
		Verdict  string
		Summary  string
		Precise  bool
		Sections []section
		// ProvenanceLine is what the report measured (ProvenanceLine).
		ProvenanceLine string
	}{Report: r, Verdict: Verdict(r), ProvenanceLine: ProvenanceLine(r.Provenance)}
	if r.Comparison != nil {
		page.Summary = r.Comparison.Summary()
	}
	for _, s := range r.Scenarios {
		sec := section{Scenario: s, SeriesLine: seriesLine(s), CostLine: costLine(s), Kinds: kindRows(s)}
		for _, t := range s.Thresholds {
			row := thresholdRow{Threshold: t, Windows: windowsWords(t, s.Repeat != nil)}
			sec.Limits = append(sec.Limits, row)
			sec.Windowed = sec.Windowed || row.Windows != ""
		}
		if !noteSaysPrecision(s) {
			sec.PrecisionLine = precisionLine(s)
		}
		page.Precise = page.Precise || s.Precision != nil
		var curves []curve
		label := "this run"
		if len(s.Operations) > 0 {
			label = "all operations"
		}
		if c, err := curveOf(label, "new", s.Histogram); err != nil {
			return fmt.Errorf("html report: %s: %w", s.Name, err)
		} else if c != nil {
			curves = append(curves, *c)
		}
		for i, o := range s.Operations {
			c, err := curveOf(o.Name, fmt.Sprintf("kind k%d", i%kindColours), o.Histogram)
			if err != nil {
				return fmt.Errorf("html report: %s: %s: %w", s.Name, o.Name, err)
			}
			if c != nil {
				curves = append(curves, *c)
			}
		}
		if r.Comparison != nil {
			for i := range r.Comparison.Scenarios {
				if r.Comparison.Scenarios[i].Name == s.Name {
					sec.Change = &r.Comparison.Scenarios[i]
				}
			}
			if b := r.Comparison.BaseReport; b != nil && sec.Change != nil {
				for _, bs := range b.Scenarios {
					if bs.Name != s.Name {
						continue
					}
					if c, err := curveOf("baseline", "base", bs.Histogram); err == nil && c != nil {
						curves = append(curves, *c)
					}
				}
			}
		}
		if len(curves) > 0 {
			sec.Plot = plot(s.Name, curves)
		}
		sec.Series = seriesPlot(s)
		if c := s.Capacity; c != nil {
			sec.CapacityPlot, sec.CapacityRows = capacityPlot(s.Name, c), capacityRows(c)
			sec.CapacityAnswer, sec.CapacitySearch = c.answer(), c.search()
		}
		page.Sections = append(page.Sections, sec)
	}
	if err := htmlPage.Execute(w, page); err != nil {
		return fmt.Errorf("html report: %w", err)
	}
	return nil
}

// thresholdRow is one line of a scenario's table of thresholds: the
// threshold, and for one judged per window how its windows went.
type thresholdRow struct {
	Threshold
	Windows string
}

// kindColours is the number of colours the page's style sheet has for
// kinds of operation (classes k0, k1, ...); more kinds reuse them.
const kindColours = 4

// kindRow is one line of a scenario's table of operations, as shown.
type kindRow struct {
	Name, Throughput, P50, P95, P99, P999, Max, PlusMinus string
	Ops, Errors                                           int64
	Measured                                              bool
}

// kindRows is the table of a scenario's kinds of operation, the whole
// first ("all"); none for a scenario of one kind.
func kindRows(s Scenario) []kindRow {
	if len(s.Operations) == 0 {
		return nil
	}
	row := func(name string, ops, errs int64, tput float64, l Latency, pct *float64) kindRow {
		k := kindRow{Name: name, Ops: ops, Errors: errs, Measured: l.Count > 0, PlusMinus: "-"}
		if s.Precision != nil {
			k.PlusMinus = plusMinus(pct)
		}
		if k.Measured {
			k.Throughput, k.P50, k.P95 = Throughput(tput), Duration(float64(l.P50)), Duration(float64(l.P95))
			k.P99, k.P999, k.Max = Duration(float64(l.P99)), Duration(float64(l.P999)), Duration(float64(l.Max))
		}
		return k
	}
	var p99 *float64
	if s.Precision != nil {
		p99 = s.Precision.P99Pct
	}
	rows := []kindRow{row("all", s.Ops, s.Errors, s.ThroughputOpsPerSec, s.Latency, p99)}
	for _, o := range s.Operations {
		rows = append(rows, row(o.Name, o.Ops, o.Errors, o.ThroughputOpsPerSec, o.Latency, kindPrecision(s.Precision, o.Name)))
	}
	return rows
}

// curve is one latency-by-percentile line: points (x, ns) with x the
// percentile's position on the log axis, log10(1 / (1 - q)).
type curve struct {
	label, class string
	x, y         []float64
}

// plotPoints is the number of points drawn per curve.
const plotPoints = 240

func curveOf(label, class, encoded string) (*curve, error) {
	if encoded == "" {
		return nil, nil
	}
	h, err := latency.Decode(encoded)
	if err != nil {
		return nil, err
	}
	n := h.Count()
	if n == 0 {
		return nil, nil
	}
	c := &curve{label: label, class: class}
	end := math.Log10(float64(max(n, 10)))
	for i := 0; i <= plotPoints; i++ {
		x := end * float64(i) / plotPoints
		q := 1 - math.Pow(10, -x)
		c.x = append(c.x, x)
		c.y = append(c.y, float64(h.Percentile(q*100)))
	}
	c.x = append(c.x, end)
	c.y = append(c.y, float64(h.Max()))
	return c, nil
}

// plot draws curves as an inline SVG.
func plot(name string, curves []curve) template.HTML {
	const w, h, left, right, top, bottom = 720.0, 340.0, 72.0, 40.0, 16.0, 40.0
	var xmax, ymax float64
	for _, c := range curves {
		xmax = math.Max(xmax, c.x[len(c.x)-1])
		for _, v := range c.y {
			ymax = math.Max(ymax, v)
		}
	}
	xmax = math.Max(1, math.Ceil(xmax))
	ymax = niceCeil(math.Max(ymax, 1))
	px := func(x float64) float64 { return left + x/xmax*(w-left-right) }
	py := func(y float64) float64 { return h - bottom - y/ymax*(h-top-bottom) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="plot" data-scenario="%s" viewBox="0 0 %g %g" width="%g" height="%g" role="img" aria-label="%s: latency by percentile">`,
		template.HTMLEscapeString(name), w, h, w, h, template.HTMLEscapeString(name))
	for i := 0; i <= int(xmax); i++ {
		x := px(float64(i))
		fmt.Fprintf(&b, `<line class="grid" x1="%.1f" y1="%g" x2="%.1f" y2="%g"/>`, x, top, x, h-bottom)
		fmt.Fprintf(&b, `<text class="tick" x="%.1f" y="%g" text-anchor="middle">%s</text>`, x, h-bottom+16, percentLabel(i))
	}
	for i := 0; i <= 4; i++ {
		v := ymax * float64(i) / 4
		y := py(v)
		fmt.Fprintf(&b, `<line class="grid" x1="%g" y1="%.1f" x2="%g" y2="%.1f"/>`, left, y, w-right, y)
		fmt.Fprintf(&b, `<text class="tick" x="%g" y="%.1f" text-anchor="end">%s</text>`, left-6, y+4, Duration(v))
	}
	fmt.Fprintf(&b, `<text class="axis" x="%g" y="%g" text-anchor="middle">percentile</text>`, (left+w-right)/2, h-4)
	for i, c := range curves {
		var pts strings.Builder
		for j := range c.x {
			fmt.Fprintf(&pts, "%.1f,%.1f ", px(c.x[j]), py(c.y[j]))
		}
		fmt.Fprintf(&b, `<polyline class="curve %s" points="%s"/>`, c.class, strings.TrimSpace(pts.String()))
		fmt.Fprintf(&b, `<text class="legend %s" x="%g" y="%g">%s</text>`, c.class, left+12, top+16+float64(i)*16, template.HTMLEscapeString(c.label))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // built here from numbers and escaped names
}

// percentLabel names the percentile at log position i: 0%, 90%, 99%, ...
func percentLabel(i int) string {
	if i == 0 {
		return "0%"
	}
	return strings.TrimSuffix(strings.TrimSuffix(fmt.Sprintf("%.*f", max(i-2, 0), 100-100*math.Pow(10, -float64(i))), "."), ".0") + "%"
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}
