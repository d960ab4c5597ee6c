package trend

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"strings"
)

//go:embed html.tmpl
var htmlPage string

var page = template.Must(template.New("trend").Funcs(template.FuncMap{
	"plot":    plot,
	"value":   value,
	"change":  change,
	"pvalue":  pValue,
	"between": between,
}).Parse(htmlPage))

// HTML writes r as one self-contained page: the conclusion, then each
// series drawn (plot) with its change points in a table.
func HTML(w io.Writer, r *Result) error {
	if err := page.Execute(w, struct {
		*Result
		Notes []string
	}{r, r.notes()}); err != nil {
		return fmt.Errorf("html trend: %w", err)
	}
	return nil
}

// The plot's layout in SVG units.
const (
	plotW, plotH          = 720.0, 280.0
	plotLeft, plotRight   = 72.0, 24.0
	plotTop, plotBottom   = 24.0, 240.0
	plotXAxis, plotYTicks = 256.0, 4
	plotMark              = 2.5
)

// plot draws s as an inline SVG: each run's value as a point, joined in
// order; each segment's mean a horizontal step; each change point a
// vertical line, red for a regression, green for an improvement, grey
// for a change. "" when s has no point.
func plot(s SeriesResult) template.HTML {
	n := len(s.Points)
	if n == 0 {
		return ""
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, p := range s.Points {
		lo, hi = math.Min(lo, p.Value), math.Max(hi, p.Value)
	}
	if pad := (hi - lo) * 0.05; pad > 0 {
		lo, hi = lo-pad, hi+pad
	} else {
		lo, hi = lo-math.Max(math.Abs(lo)*0.05, 1), hi+math.Max(math.Abs(hi)*0.05, 1)
	}
	span := hi - lo
	if !(span > 0) || math.IsInf(span, 0) {
		return ""
	}
	// Run i is at the middle of its slot: change points fall between runs.
	px := func(i float64) float64 { return plotLeft + (i+0.5)/float64(n)*(plotW-plotLeft-plotRight) }
	py := func(v float64) float64 { return plotBottom - (v-lo)/span*(plotBottom-plotTop) }

	var b strings.Builder
	esc := template.HTMLEscapeString
	fmt.Fprintf(&b, `<svg class="trend" data-scenario="%s" data-metric="%s" data-runs="%d" viewBox="0 0 %g %g" width="%g" height="%g" role="img" aria-label="%s %s over %d runs">`,
		esc(s.Scenario), esc(s.Metric), n, plotW, plotH, plotW, plotH, esc(s.Scenario), esc(s.Metric), n)
	for i := 0; i <= plotYTicks; i++ {
		v := lo + span*float64(i)/plotYTicks
		y := py(v)
		fmt.Fprintf(&b, `<line class="grid" x1="%g" y1="%.1f" x2="%g" y2="%.1f"/>`, plotLeft, y, plotW-plotRight, y)
		fmt.Fprintf(&b, `<text class="tick" x="%g" y="%.1f" text-anchor="end">%s</text>`, plotLeft-6, y+4, esc(value(s.Unit, v)))
	}
	// A run id under the first and last runs and each change point.
	ticks := []int{0, n - 1}
	for _, c := range s.Changes {
		ticks = append(ticks, c.Index)
	}
	for _, i := range ticks {
		fmt.Fprintf(&b, `<text class="tick" x="%.1f" y="%g" text-anchor="middle">%d</text>`, px(float64(i)), plotXAxis, s.Points[i].RunID)
	}
	fmt.Fprintf(&b, `<text class="axis" x="%g" y="%g" text-anchor="middle">run</text>`, (plotLeft+plotW-plotRight)/2, plotH-8)
	fmt.Fprintf(&b, `<text class="axis" x="%g" y="%g">%s (%s)</text>`, plotLeft, plotTop-8, esc(s.Metric), esc(unitWords(s.Unit)))
	for _, c := range s.Changes {
		x := px(float64(c.Index) - 0.5)
		class := map[string]string{Regression: "regression", Improvement: "improvement"}[c.Direction]
		if class == "" {
			class = "moved"
		}
		title := fmt.Sprintf("run %d, %s: %s → %s (%s), %s, %s", c.RunID, between(c), value(s.Unit, c.Before.Mean), value(s.Unit, c.After.Mean),
			change(c.MeanChange), pValue(c.PValue), c.Direction)
		switch {
		case c.Alert:
			class += " alert"
			title += ": ALERT"
		case c.Machine != nil:
			class = "moved machine"
			title += ": the machine's canary moved too"
		}
		fmt.Fprintf(&b, `<line class="cp %s" data-index="%d" x1="%.1f" y1="%g" x2="%.1f" y2="%g"><title>%s</title></line>`,
			class, c.Index, x, plotTop, x, plotBottom, esc(title))
	}
	var d strings.Builder
	for i, p := range s.Points {
		cmd := "L"
		if i == 0 {
			cmd = "M"
		}
		fmt.Fprintf(&d, "%s%.1f,%.1f ", cmd, px(float64(i)), py(p.Value))
	}
	fmt.Fprintf(&b, `<path class="line" d="%s"/>`, strings.TrimSpace(d.String()))
	d.Reset()
	for i, g := range s.Segments {
		cmd := "L"
		if i == 0 {
			cmd = "M"
		}
		y := py(g.Mean)
		fmt.Fprintf(&d, "%s%.1f,%.1f L%.1f,%.1f ", cmd, px(float64(g.From)-0.5), y, px(float64(g.To)-0.5), y)
	}
	fmt.Fprintf(&b, `<path class="mean" d="%s"><title>segment means</title></path>`, strings.TrimSpace(d.String()))
	for i, p := range s.Points {
		fmt.Fprintf(&b, `<circle class="point" data-run="%d" cx="%.1f" cy="%.1f" r="%g"><title>%s</title></circle>`, p.RunID, px(float64(i)), py(p.Value), plotMark,
			esc(fmt.Sprintf("run %d, %s, %s: %s", p.RunID, orUnknown(p.Commit), p.At.UTC().Format("2006-01-02 15:04"), value(s.Unit, p.Value))))
	}
	fmt.Fprintf(&b, `<text class="legend" x="%g" y="%g" text-anchor="end">runs · segment means · <tspan class="regression">regression</tspan> · <tspan class="improvement">improvement</tspan></text>`,
		plotW-plotRight, plotTop-8)
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // built here from numbers and escaped names
}

func unitWords(unit string) string {
	switch unit {
	case "":
		return "count or ratio"
	case "ns":
		return "latency"
	}
	return unit
}
