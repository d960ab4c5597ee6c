// --metrics-addr and --metrics-push: a run's live metrics, served and
// pushed by package livemetrics, fed by the engine beside the progress
// on stderr.

package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"time"

	"github.com/rustci/rustci-perf/pkg/engine"
	"github.com/rustci/rustci-perf/pkg/livemetrics"
	"github.com/rustci/rustci-perf/pkg/redisconn"
)

// metricsOptions are the flags of the live metrics.
type metricsOptions struct {
	addr, push string
}

// liveMetrics are a run's exporter, and where it goes: nil when neither
// flag was given.
type liveMetrics struct {
	exp    *livemetrics.Exporter
	runID  string
	srv    *livemetrics.Server
	pusher *livemetrics.Pusher
}

// newLiveMetrics makes the exporter the flags ask for (version is the
// report's tool version), and checks the
// Pushgateway URL; nothing listens or pushes yet (start).
func (o metricsOptions) newLiveMetrics(version string, stderr io.Writer) (*liveMetrics, error) {
	if o.addr == "" && o.push == "" {
		return nil, nil
	}
	lm := &liveMetrics{runID: livemetrics.NewRunID()}
	var err error
	if lm.exp, err = livemetrics.New(livemetrics.Options{RunID: lm.runID, Version: version}); err != nil {
		return nil, err
	}
	if o.push != "" {
		warn := func(err error) {
			fmt.Fprintf(stderr, "rustci-perf: warning: --metrics-push: %s\n", oneLine(err.Error()))
		}
		if lm.pusher, err = livemetrics.NewPusher(o.push, lm.exp, lm.runID, warn); err != nil {
			// The URL as shown: a Pushgateway's basic-auth password
			// (or a token in its query) is not for stderr or CI logs.
			return nil, fmt.Errorf("--metrics-push %q: %w", shownPushURL(o.push), err)
		}
	}
	return lm, nil
}

// progress is p, told to the exporter as well.
func (lm *liveMetrics) progress(p engine.Progress) engine.Progress {
	if lm == nil {
		return p
	}
	return engine.Fanout(p, lm.exp)
}

// start publishes the plan's scenarios as pending, listens on addr
// (an error is the user's: a bad address, a port in use) and says where
// on stderr, and starts pushing.
func (lm *liveMetrics) start(plan *engine.Plan, addr string, stderr io.Writer) error {
	if lm == nil {
		return nil
	}
	lm.exp.Plan(plan.Names())
	if addr != "" {
		srv, err := livemetrics.Serve(addr, lm.exp)
		if err != nil {
			return fmt.Errorf("--metrics-addr %q: %w", addr, err)
		}
		lm.srv = srv
		fmt.Fprintf(stderr, "rustci-perf: metrics: %s\n", srv.URL())
	}
	if lm.pusher != nil {
		lm.pusher.Start()
	}
	return nil
}

// stop pushes the final figures and stops serving, each within a few
// seconds, one after an interruption (ctx ended: a user waiting on
// Ctrl-C): a Pushgateway or a scraper that hangs does not hold the exit
// up. Neither changes the exit code; a failure is a warning.
func (lm *liveMetrics) stop(ctx context.Context, stderr io.Writer) {
	if lm == nil {
		return
	}
	within := 5 * time.Second
	if ctx.Err() != nil {
		within = time.Second
	}
	if lm.pusher != nil {
		ctx, cancel := context.WithTimeout(context.Background(), within)
		lm.pusher.Stop(ctx)
		cancel()
	}
	if lm.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), min(within, 2*time.Second))
		if err := lm.srv.Close(ctx); err != nil {
			fmt.Fprintf(stderr, "rustci-perf: warning: --metrics-addr: %s\n", oneLine(err.Error()))
		}
		cancel()
	}
}

// shownPushURL is a --metrics-push URL for a message: its user name,
// password and any secret query parameter masked (redisconn.Redact's
// rules), or a placeholder when it does not parse, since where a
// credential ends in it is then anyone's guess.
func shownPushURL(raw string) string {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return "(unparsable URL)"
	case u.User == nil && u.RawQuery == "" && u.Opaque == "":
		return raw // nothing to mask: as the user wrote it
	}
	return redisconn.Redact(raw)
}
