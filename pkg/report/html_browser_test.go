package report

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestHTMLInChromium opens the HTML report in a real headless Chromium
// (Debian's): no console error or exception, every percentile plot drawn
// with a size and its curves (a mixed scenario's kinds among them), and
// every time series with its lines. Without chromium it skips, unless
// RUSTCI_PERF_REQUIRE_TOOLS=1 (set by CI) makes that a failure.
func TestHTMLInChromium(t *testing.T) {
	browser, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("RUSTCI_PERF_REQUIRE_TOOLS") == "1" {
			t.Fatal("chromium is not installed and RUSTCI_PERF_REQUIRE_TOOLS=1 (on Debian: apt-get install chromium)")
		}
		t.Skip("chromium is not installed (on Debian: apt-get install chromium)")
	}
	page := filepath.Join(t.TempDir(), "report.html")
	if err := WriteFile(page, withBaseline(t), HTML); err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(t.TempDir()))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ctx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	ctx, cancelTab := chromedp.NewContext(ctx)
	defer cancelTab()

	type plot struct {
		Scenario string  `json:"scenario"`
		Width    float64 `json:"width"`
		Height   float64 `json:"height"`
		Curves   int     `json:"curves"`
		Drawn    float64 `json:"drawn"`
	}
	// Subscribed before the page loads; a marker logged after the checks
	// ends the reading, since messages come in order.
	messages := chromedp.Console(ctx)
	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+page), chromedp.WaitReady("svg.plot")); err != nil {
		t.Fatalf("chromium: %v", err)
	}
	plots, err := chromedp.Run(ctx, chromedp.Evaluate[[]plot](`[...document.querySelectorAll("svg.plot")].map(s => {
		const r = s.getBoundingClientRect();
		const lines = [...s.querySelectorAll("polyline.curve")];
		return {scenario: s.dataset.scenario, width: r.width, height: r.height, curves: lines.length,
			drawn: Math.min(...lines.map(l => l.getTotalLength()))};
	})`))
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	type series struct {
		Scenario string  `json:"scenario"`
		Width    float64 `json:"width"`
		Lines    int     `json:"lines"`
		Drawn    float64 `json:"drawn"`
	}
	timeSeries, err := chromedp.Run(ctx, chromedp.Evaluate[[]series](`[...document.querySelectorAll("svg.timeseries")].map(s => {
		const lines = [...s.querySelectorAll("path.line")];
		return {scenario: s.dataset.scenario, width: s.getBoundingClientRect().width, lines: lines.length,
			drawn: Math.min(...lines.map(l => l.getTotalLength()))};
	})`))
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	const marker = "rustci-perf-test-end"
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](`console.log("`+marker+`")`)); err != nil {
		t.Fatalf("chromium: %v", err)
	}
	var problems []string
	for m, err := range messages {
		if err != nil {
			t.Fatalf("chromium console: %v", err)
		}
		if m.Text == marker {
			break
		}
		if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleWarning || m.IsException() {
			problems = append(problems, m.String())
		}
	}
	if len(problems) > 0 {
		t.Errorf("the page logged problems: %s", strings.Join(problems, "; "))
	}
	// cache-read: this run and the baseline; latency: all operations,
	// read and write.
	want := map[string]int{"cache-read": 2, "latency": 3}
	if len(plots) != len(want) {
		t.Fatalf("%d plots rendered (%+v); want %d", len(plots), plots, len(want))
	}
	for _, p := range plots {
		if p.Width < 100 || p.Height < 50 || p.Curves != want[p.Scenario] || !(p.Drawn > 100) {
			t.Errorf("plot %s: %gx%g px, %d curves, shortest %g px long; want a drawn plot with %d curves", p.Scenario, p.Width, p.Height, p.Curves, p.Drawn, want[p.Scenario])
		}
	}
	// A time series per scenario with intervals: throughput, p50, p99 and
	// max, each drawn across the plot.
	if len(timeSeries) != len(want) {
		t.Fatalf("%d time series rendered (%+v); want %d", len(timeSeries), timeSeries, len(want))
	}
	for _, s := range timeSeries {
		if s.Width < 100 || s.Lines != 4 || !(s.Drawn > 100) {
			t.Errorf("time series %s: %g px wide, %d lines, shortest %g px long; want 4 lines drawn", s.Scenario, s.Width, s.Lines, s.Drawn)
		}
	}
}
