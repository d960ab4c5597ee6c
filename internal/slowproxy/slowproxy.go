// Package slowproxy is a TCP proxy on the loopback interface that delays
// every reply from its upstream: a dependency slowed on purpose, for tests
// that show a threshold fails when a component gets slower.
//
// Each chunk read from the upstream is held Delay before it is passed on;
// requests pass at once. For a request/response protocol such as Redis's
// that adds Delay to every round trip.
package slowproxy

import (
	"net"
	"sync"
	"testing"
	"time"
)

// Start listens on 127.0.0.1 on a free port, forwards every connection to
// upstream with each reply delayed by delay, and stops when t ends. It
// returns the address to dial instead of upstream.
func Start(t testing.TB, upstream string, delay time.Duration) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	track := func(c net.Conn) {
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			server, err := net.Dial("tcp", upstream)
			if err != nil {
				client.Close()
				continue
			}
			track(client)
			track(server)
			wg.Add(2)
			go func() { defer wg.Done(); pipe(server, client, 0) }()
			go func() { defer wg.Done(); pipe(client, server, delay) }()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

// pipe copies from src to dst, holding each chunk delay first, until
// either side closes; then it closes both.
func pipe(dst, src net.Conn, delay time.Duration) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 64<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if delay > 0 {
				time.Sleep(delay)
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return // io.EOF or a closed connection: the proxy is done
		}
	}
}
