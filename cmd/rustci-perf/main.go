// Command rustci-perf runs performance scenarios against built-in components
// and fails (exit 1) when a threshold is missed. See README.md.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/redis/go-redis/v9"
	"github.com/rustci/rustci-perf/internal/tempdir"
)

// quietRedis drops go-redis's log lines ("failed to dial after ..."): while
// Redis is down they would flood stderr once per call, and every failure is
// already counted per tier and shown in the report.
type quietRedis struct{}

func (quietRedis) Printf(context.Context, string, ...any) {}

func main() {
	redis.SetLogger(quietRedis{})
	// A reader that went away (rustci-perf run ... | head) makes a write to
	// stdout fail with EPIPE, an output that could not be written (exit 4,
	// the other outputs still written), rather than kill the process with
	// SIGPIPE before it writes them.
	signal.Ignore(syscall.SIGPIPE)
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go onSignals(sigs, cancel, func() error {
		// A third signal, should the removal hang, kills.
		signal.Reset(os.Interrupt, syscall.SIGTERM)
		return tempdir.RemoveAll()
	}, os.Stderr, os.Exit)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	cancel()
	os.Exit(code)
}

// onSignals handles Ctrl-C and SIGTERM. The first cancels the run: it
// stops within a second or two, closes its components (which removes their
// temporary directories) and writes the report of what ran, and run
// returns 130. A second does not wait for that (a call to a hung Redis
// lasts its timeout): it removes the temporary directories (cleanup) and
// exits 130 at once, without a report.
func onSignals(sigs <-chan os.Signal, cancel func(), cleanup func() error, stderr io.Writer, exit func(int)) {
	<-sigs
	fmt.Fprintln(stderr, "rustci-perf: interrupted: stopping, then writing the report of what ran (interrupt again to exit at once)")
	cancel()
	<-sigs
	if err := cleanup(); err != nil {
		fmt.Fprintf(stderr, "rustci-perf: %v\n", err)
	}
	fmt.Fprintln(stderr, "rustci-perf: interrupted again: exiting at once, without a report")
	exit(exitInterrupted)
}
