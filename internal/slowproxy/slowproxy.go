// Package slowproxy is a TCP proxy for tests that stands between a client
// and a server (a redis-server) on loopback and spoils what the server
// sends back, as a slow, jittery, lossy or dying network or server would.
//
// Model: each connection accepted on Addr gets a connection of its own to
// the target. What the client sends is passed on as it comes. What the
// server sends back is read in chunks (one read each, as the bytes arrive)
// and each chunk, before it is passed on, may be held for a while (Delay)
// or have a byte flipped (Corrupt). A chunk held back holds back those after
// it on the same connection, as a slow link does: a reply can never arrive
// sooner than the delay, nor overtake an earlier one. Close cuts every
// connection and stops listening, so that the server looks dead: connections
// to Addr are refused from then on.
//
// The faults can be changed while connections are open; they apply from the
// next chunk.
package slowproxy

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Proxy is a running proxy.
type Proxy struct {
	// Addr is host:port on 127.0.0.1.
	Addr   string
	target string
	l      net.Listener

	delay   atomic.Int64 // time.Duration each affected chunk is held
	every   atomic.Int64 // which chunks: every nth of a connection (1: each)
	corrupt atomic.Bool

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// CorruptMin is the size of the smallest chunk Corrupt spoils: a reply
// that carries a value of several KiB is corrupted, while the short
// replies of the protocol itself (+OK, :1, a handshake) pass intact.
const CorruptMin = 1024

// Start listens on a free loopback port and forwards to target (host:port);
// the proxy is closed at the end of t.
func Start(t testing.TB, target string) *Proxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{Addr: l.Addr().String(), target: target, l: l, conns: map[net.Conn]struct{}{}}
	p.every.Store(1)
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.Close)
	return p
}

// URL is the proxy's redis:// URL.
func (p *Proxy) URL() string { return "redis://" + p.Addr }

// Delay holds every nth chunk the server sends on each connection (n 1:
// each chunk) for d before passing it on; d 0 passes chunks at once.
func (p *Proxy) Delay(d time.Duration, n int) {
	p.every.Store(int64(max(n, 1)))
	p.delay.Store(int64(d))
}

// Corrupt, when on, flips the bits of the middle byte of each chunk of at
// least CorruptMin bytes the server sends: the length of a reply is kept, a
// value it carries is not.
func (p *Proxy) Corrupt(on bool) { p.corrupt.Store(on) }

// Close stops listening and cuts every connection, both ways, and waits for
// the proxy's goroutines to end. It may be called more than once.
func (p *Proxy) Close() {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		p.l.Close()
		for c := range p.conns {
			c.Close()
		}
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// track registers c to be cut by Close; it reports false, having closed c,
// when the proxy is already closed.
func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		c.Close()
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		client, err := p.l.Accept()
		if err != nil {
			return
		}
		if !p.track(client) {
			return
		}
		p.wg.Add(1)
		go p.serve(client)
	}
}

// serve forwards one connection until either side closes it.
func (p *Proxy) serve(client net.Conn) {
	defer p.wg.Done()
	server, err := net.Dial("tcp", p.target)
	if err != nil || !p.track(server) {
		client.Close()
		if server != nil {
			server.Close()
		}
		return
	}
	done := make(chan struct{})
	go func() {
		// Requests pass as they come; when the client goes, so does the
		// server's side, which ends the reply loop below.
		_, _ = io.Copy(server, client)
		server.Close()
		close(done)
	}()
	buf := make([]byte, 64<<10)
	for n := int64(1); ; n++ {
		k, err := server.Read(buf)
		if k > 0 {
			chunk := buf[:k]
			if d := time.Duration(p.delay.Load()); d > 0 && n%p.every.Load() == 0 {
				time.Sleep(d)
			}
			if p.corrupt.Load() && k >= CorruptMin {
				chunk[k/2] ^= 0xff
			}
			if _, werr := client.Write(chunk); werr != nil {
				break
			}
		}
		if err != nil { // EOF: the server closed; or Close cut it
			break
		}
	}
	client.Close()
	server.Close()
	<-done
	p.mu.Lock()
	delete(p.conns, client)
	delete(p.conns, server)
	p.mu.Unlock()
}
