package main

import (
	"context"
	"errors"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/rustci/rustci-perf/internal/blackhole"
	"github.com/rustci/rustci-perf/internal/wait"
	"github.com/rustci/rustci-perf/pkg/livemetrics"
)

// metricsURL matches the line run prints on stderr when it serves metrics.
var metricsURL = regexp.MustCompile(`rustci-perf: metrics: (http://\S+/metrics)`)

// scrape gets url and parses it as Prometheus's text format; ok is false
// when nothing answers.
func scrape(t *testing.T, url string) (map[string]*dto.MetricFamily, bool) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return nil, false
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: parse: %v", url, err)
	}
	return fams, true
}

// series returns the metric of family name whose labels include want.
func series(fams map[string]*dto.MetricFamily, name string, want map[string]string) *dto.Metric {
	f := fams[name]
	if f == nil {
		return nil
	}
	for _, m := range f.GetMetric() {
		ok := true
		for k, v := range want {
			has := false
			for _, lp := range m.GetLabel() {
				has = has || (lp.GetName() == k && lp.GetValue() == v)
			}
			ok = ok && has
		}
		if ok {
			return m
		}
	}
	return nil
}

// value is the value of a counter or gauge; NaN when there is none.
func value(m *dto.Metric) float64 {
	switch {
	case m == nil:
		return math.NaN()
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	}
	return math.NaN()
}

// TestLiveMetricsMidRun starts a real run serving its metrics on a port
// of its choice, scrapes them twice while the scenario runs, and checks
// what they say and that they agree with each other; then interrupts the
// run and checks that nothing serves them any more.
func TestLiveMetricsMidRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stderr := &syncBuffer{}
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, []string{"run", "cache-read", "--duration", "60s", "--concurrency", "1", "--keys", "1000", "--warmup", "0",
			"-q", "--metrics-addr", "127.0.0.1:0", "--config", noTiming(t)}, io.Discard, stderr)
	}()
	var url string
	wait.Until(t, 30*time.Second, "the metrics address on stderr", func() bool {
		m := metricsURL.FindStringSubmatch(stderr.String())
		if m != nil {
			url = m[1]
		}
		return m != nil
	})
	sc := map[string]string{"scenario": "cache-read"}
	l1 := map[string]string{"scenario": "cache-read", "tier": "l1"}
	var first map[string]*dto.MetricFamily
	wait.Until(t, 30*time.Second, "operations and L1 hits counted while cache-read runs", func() bool {
		fams, ok := scrape(t, url)
		first = fams
		return ok && value(series(fams, "rustci_perf_operations_total", sc)) > 0 && value(series(fams, "rustci_perf_cache_hits_total", l1)) > 0
	})
	ops := value(series(first, "rustci_perf_operations_total", sc))
	var second map[string]*dto.MetricFamily
	wait.Until(t, 30*time.Second, "more operations in a later scrape", func() bool {
		fams, _ := scrape(t, url)
		second = fams
		return value(series(fams, "rustci_perf_operations_total", sc)) > ops
	})

	for _, fams := range []map[string]*dto.MetricFamily{first, second} {
		if v := value(series(fams, "rustci_perf_scenario_status", map[string]string{"scenario": "cache-read", "status": "running"})); v != 1 {
			t.Errorf("scenario_status{status=running} = %g; want 1 while it runs", v)
		}
		if v := value(series(fams, "rustci_perf_scenario_runs", sc)); v != 1 {
			t.Errorf("scenario_runs = %g; want 1", v)
		}
		h := series(fams, "rustci_perf_latency_seconds", sc)
		if h == nil || h.Histogram == nil {
			t.Fatal("no latency histogram for cache-read")
		}
		n := value(series(fams, "rustci_perf_operations_total", sc))
		if got := float64(h.Histogram.GetSampleCount()); got != n {
			t.Errorf("latency_seconds_count %g, operations_total %g; want equal (one figure)", got, n)
		}
		// The classic buckets are cumulative and end at the count.
		var prev uint64
		for _, b := range h.Histogram.GetBucket() {
			if b.GetCumulativeCount() < prev {
				t.Errorf("bucket le=%g holds %d, fewer than the one below (%d)", b.GetUpperBound(), b.GetCumulativeCount(), prev)
			}
			prev = b.GetCumulativeCount()
		}
		if mean := h.Histogram.GetSampleSum() / n; !(mean > 0 && mean < 1) {
			t.Errorf("mean latency %gs; want a positive figure in seconds", mean)
		}
		if v := value(series(fams, "rustci_perf_errors_total", sc)); v != 0 {
			t.Errorf("errors_total = %g; want 0", v)
		}
		if v := value(series(fams, "rustci_perf_rate_operations_per_second", sc)); !(v > 0) {
			t.Errorf("rate_operations_per_second = %g; want more than 0 while it runs", v)
		}
		if m := series(fams, "rustci_perf_run_info", nil); m == nil {
			t.Error("no run_info")
		}
		if fams["go_goroutines"] == nil {
			t.Error("no Go runtime metrics beside the run's")
		}
	}
	// Every counter only grows from one scrape to the next.
	for name, f := range first {
		if f.GetType() != dto.MetricType_COUNTER {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, lp := range m.GetLabel() {
				labels[lp.GetName()] = lp.GetValue()
			}
			if later := value(series(second, name, labels)); !(later >= value(m)) {
				t.Errorf("%s%v: %g, then %g; want a counter that never decreases", name, labels, value(m), later)
			}
		}
	}

	cancel()
	select {
	case c := <-code:
		if c != exitInterrupted {
			t.Errorf("exit %d; want %d (interrupted)\n%s", c, exitInterrupted, stderr)
		}
	case <-time.After(time.Minute):
		t.Fatal("run did not end after its context did")
	}
	if _, ok := scrape(t, url); ok {
		t.Errorf("%s still answers after the run", url)
	}
}

// pushgateway records what a Pushgateway is sent.
type pushgateway struct {
	mu     sync.Mutex
	bodies []map[string]*dto.MetricFamily
	paths  []string
	errs   []error
}

func (p *pushgateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if r.Method != http.MethodPut {
		p.errs = append(p.errs, errors.New("method "+r.Method+"; want PUT"))
	}
	dec := expfmt.NewDecoder(r.Body, expfmt.ResponseFormat(r.Header))
	fams := map[string]*dto.MetricFamily{}
	for {
		var f dto.MetricFamily
		if err := dec.Decode(&f); err != nil {
			if !errors.Is(err, io.EOF) {
				p.errs = append(p.errs, err)
			}
			break
		}
		fams[f.GetName()] = &f
	}
	p.bodies, p.paths = append(p.bodies, fams), append(p.paths, r.URL.Path)
	w.WriteHeader(http.StatusOK)
}

// TestMetricsPush: a run pushgateway its metrics to a Pushgateway, the last
// push after every scenario finished, with their final figures: a
// mixed scenario's by kind, native buckets included, and a count that is
// the report's.
func TestMetricsPush(t *testing.T) {
	gw := &pushgateway{}
	srv := httptest.NewServer(gw)
	defer srv.Close()
	var stdout, stderr strings.Builder
	c := run(context.Background(), []string{"run", "latency", "--ops", "20000", "--concurrency", "2", "--keys", "1000",
		"-q", "--format", "json", "--metrics-push", srv.URL, "--config", noTiming(t)}, &stdout, &stderr)
	if c != exitOK {
		t.Fatalf("exit %d; want 0\n%s", c, stderr.String())
	}
	gw.mu.Lock()
	defer gw.mu.Unlock()
	for _, err := range gw.errs {
		t.Error(err)
	}
	if len(gw.bodies) == 0 {
		t.Fatalf("nothing pushed\n%s", stderr.String())
	}
	// client_golang's push writes the grouping labels in map order: either.
	if p := gw.paths[len(gw.paths)-1]; !regexp.MustCompile(`^/metrics/job/rustci-perf/(run_id/[0-9a-f]{8}/instance/[^/]+|instance/[^/]+/run_id/[0-9a-f]{8})$`).MatchString(p) {
		t.Errorf("pushed to %s; want /metrics/job/rustci-perf/run_id/ID/instance/HOST", p)
	}
	last := gw.bodies[len(gw.bodies)-1]
	if v := value(series(last, "rustci_perf_scenario_status", map[string]string{"scenario": "latency", "status": "passed"})); v != 1 {
		t.Errorf("last push: scenario_status{status=passed} = %g; want 1", v)
	}
	var total float64
	for _, kind := range []string{"read", "write"} {
		labels := map[string]string{"scenario": "latency", "kind": kind}
		h := series(last, "rustci_perf_latency_seconds", labels)
		if h == nil || h.Histogram == nil {
			t.Fatalf("last push: no latency histogram of %s", kind)
		}
		n := value(series(last, "rustci_perf_operations_total", labels))
		if float64(h.Histogram.GetSampleCount()) != n {
			t.Errorf("%s: histogram count %d, operations_total %g; want equal", kind, h.Histogram.GetSampleCount(), n)
		}
		if h.Histogram.GetSchema() != livemetrics.Schema || len(h.Histogram.GetPositiveSpan()) == 0 {
			t.Errorf("%s: schema %d, %d spans; want native buckets of schema %d", kind, h.Histogram.GetSchema(), len(h.Histogram.GetPositiveSpan()), livemetrics.Schema)
		}
		total += n
	}
	if total != 20000 {
		t.Errorf("operations_total over kinds %g; want the run's 20000", total)
	}
	if !strings.Contains(stdout.String(), `"ops": 20000`) {
		t.Errorf("report does not say 20000 ops:\n%s", stdout.String())
	}
}

// TestMetricsPushFailureWarns: a Pushgateway that refuses is a warning,
// not a changed verdict.
func TestMetricsPushFailureWarns(t *testing.T) {
	addr, err := blackhole.Refused()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	c := run(context.Background(), []string{"run", "cache-read", "--ops", "2000", "--keys", "100", "-q", "--metrics-push", "http://" + addr, "--config", noTiming(t)}, io.Discard, &stderr)
	if c != exitOK {
		t.Errorf("exit %d; want 0: a failed push changes no verdict\n%s", c, stderr.String())
	}
	if !strings.Contains(stderr.String(), "rustci-perf: warning: --metrics-push: final push:") {
		t.Errorf("stderr %q; want a warning about the final push", stderr.String())
	}
}

// TestMetricsFlagsExit2: a bad address, a port in use and a bad
// Pushgateway URL are usage errors, each one line naming the value, and
// nothing runs.
func TestMetricsFlagsExit2(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--metrics-addr", "nope"}, `--metrics-addr "nope": listen tcp: address nope: missing port in address`},
		{[]string{"--metrics-addr", busy.Addr().String()}, `--metrics-addr "` + busy.Addr().String() + `": listen tcp ` + busy.Addr().String() + `: bind: address already in use`},
		{[]string{"--metrics-push", "ftp://gw:9091"}, `--metrics-push "ftp://gw:9091": want an http:// or https:// URL`},
		{[]string{"--metrics-push", "http://"}, `--metrics-push "http://": want a host`},
		// A Pushgateway's basic-auth credentials are never echoed,
		// whatever is wrong with the URL.
		{[]string{"--metrics-push", "ftp://gw:s3cret@gw:9091"}, `--metrics-push "ftp://xxxxx:xxxxx@gw:9091": want an http:// or https:// URL`},
		{[]string{"--metrics-push", "http://gw:s3cret@/"}, `--metrics-push "http://xxxxx:xxxxx@/": want a host`},
		{[]string{"--metrics-push", "http://gw:s3cret@gw:bad/"}, `--metrics-push "(unparsable URL)": not a URL: invalid port ":bad" after host`},
		// A query would be mangled by the push client, which appends
		// /metrics/job/... to the URL as a string; its token masked.
		{[]string{"--metrics-push", "http://gw:9091/?token=s3cret"}, `--metrics-push "http://gw:9091/?token=xxxxx": want no query or fragment: the Pushgateway's path is appended to the URL`},
		{[]string{"--metrics-push", "http://gw:9091/#frag"}, `--metrics-push "http://gw:9091/#frag": want no query or fragment: the Pushgateway's path is appended to the URL`},
	} {
		var stdout, stderr strings.Builder
		c := run(context.Background(), append([]string{"run", "cache-read", "--ops", "100"}, tt.args...), &stdout, &stderr)
		lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
		if c != exitUsage || stdout.Len() > 0 || len(lines) != 1 || lines[0] != "rustci-perf: "+tt.want {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2, nothing on stdout, one line %q", tt.args, c, stdout.String(), stderr.String(), "rustci-perf: "+tt.want)
		}
	}
}
