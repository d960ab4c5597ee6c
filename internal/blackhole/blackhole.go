// Package blackhole makes loopback addresses that fail the way a dead
// server does: one where connections are refused, and one whose listener
// accepts connections and never answers, like a hung process.
package blackhole

import (
	"fmt"
	"net"
	"sync"
)

// Refused returns a loopback address where nothing listens (it was free a
// moment ago), so connecting to it is refused.
func Refused() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("blackhole: %w", err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr, nil
}

// Silent returns the address of a listener that accepts every connection
// and never reads or writes, and a function that closes it and them.
func Silent() (string, func(), error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("blackhole: %w", err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c) // held open, never answered
			mu.Unlock()
		}
	}()
	return l.Addr().String(), func() {
		l.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	}, nil
}
