// Serving the metrics over HTTP, and pushing them to a Pushgateway.

package livemetrics

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/push"
)

// Server serves an Exporter's metrics, with the Go runtime's and the
// process's, at /metrics.
type Server struct {
	l    net.Listener
	srv  *http.Server
	done chan error
}

// Serve listens on addr (host:port; port 0 picks one) and serves e's
// metrics there until Close. It returns an error, and serves nothing, for
// an address that does not parse or cannot be listened on (a port in
// use).
func Serve(addr string, e *Exporter) (*Server, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	runtime := prometheus.NewRegistry()
	if err := errors.Join(
		runtime.Register(collectors.NewGoCollector()),
		runtime.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})),
	); err != nil {
		l.Close()
		return nil, fmt.Errorf("live metrics: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(prometheus.Gatherers{e.Registry(), runtime}, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}))
	s := &Server{l: l, srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}, done: make(chan error, 1)}
	go func() { s.done <- s.srv.Serve(l) }()
	return s, nil
}

// URL is where the metrics are served.
func (s *Server) URL() string { return "http://" + s.l.Addr().String() + "/metrics" }

// Close stops serving: it waits for scrapes under way, until ctx ends,
// then closes their connections. The listener is closed when it returns.
func (s *Server) Close(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if err != nil {
		err = errors.Join(err, s.srv.Close())
	}
	if serr := <-s.done; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}

// Job is the Pushgateway job rustci-perf pushes as.
const Job = "rustci-perf"

// PushEvery is how often a Pusher pushes while a run runs.
const PushEvery = 5 * time.Second

// Pusher pushes an Exporter's metrics to a Pushgateway, as job Job
// grouped by run id and instance (the host), every so often and once
// more at the end, each push replacing the group's metrics. A push that
// fails is a warning, never the run's error.
type Pusher struct {
	p    *push.Pusher
	warn func(error)
	// every is how often it pushes; PushEvery unless a test sets it.
	every   time.Duration
	stop    chan struct{}
	done    chan struct{}
	started bool
	// last is the last failure warned about, so that a Pushgateway that
	// stays down is warned about once, not every push.
	mu   sync.Mutex
	last string
}

// NewPusher checks rawURL (an http or https URL with a host, and no query
// or fragment) and returns a Pusher of e's metrics there, grouped by
// runID, that tells warn of pushes that fail. Start starts it.
//
// Its errors never quote rawURL: a Pushgateway behind basic auth has its
// password in it (http://user:password@gw:9091), and url.Parse's error
// would repeat it. A query or fragment is refused because the push
// client appends the group's path (/metrics/job/...) to the URL as a
// string: it would land inside the query (and a ?token=... would then be
// echoed in every failed push's warning).
func NewPusher(rawURL string, e *Exporter, runID string, warn func(error)) (*Pusher, error) {
	u, err := url.Parse(rawURL)
	switch {
	case err != nil:
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // without the URL
		}
		return nil, fmt.Errorf("not a URL: %w", err)
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("want an http:// or https:// URL")
	case u.Host == "":
		return nil, fmt.Errorf("want a host")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return nil, fmt.Errorf("want no query or fragment: the Pushgateway's path is appended to the URL")
	}
	host, _ := os.Hostname()
	if host == "" {
		host = "unknown"
	}
	p := push.New(rawURL, Job).Gatherer(e.Registry()).Grouping("run_id", runID).Grouping("instance", host).
		Client(&http.Client{Timeout: 5 * time.Second})
	return &Pusher{p: p, warn: warn, every: PushEvery, stop: make(chan struct{}), done: make(chan struct{})}, nil
}

// Start pushes every PushEvery until Stop; call it once, on the
// goroutine that calls Stop.
func (p *Pusher) Start() {
	p.started = true
	go func() {
		defer close(p.done)
		t := time.NewTicker(p.every)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				p.push(context.Background(), false)
			}
		}
	}()
}

// Stop stops the pushes every PushEvery, then pushes once more, within
// ctx: the run's final figures.
func (p *Pusher) Stop(ctx context.Context) {
	if p.started {
		close(p.stop)
		<-p.done
	}
	p.push(ctx, true)
}

// push pushes once, and warns of a failure: always when final, else
// unless it is the one warned about last.
func (p *Pusher) push(ctx context.Context, final bool) {
	err := p.p.PushContext(ctx)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err == nil {
		p.last = ""
		return
	}
	if msg := err.Error(); final || msg != p.last {
		p.last = msg
		if final {
			err = fmt.Errorf("final push: %w", err)
		}
		p.warn(err)
	}
}

// NewRunID returns a run id: 8 random hex digits.
func NewRunID() string {
	b := make([]byte, 4)
	_, _ = crand.Read(b)
	return hex.EncodeToString(b)
}
