package slowproxy

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"
)

// echo starts a server that sends back whatever it reads.
func echo(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { _, _ = io.Copy(c, c); c.Close() }()
		}
	}()
	return l.Addr().String()
}

// roundTrip sends msg through c and reads as many bytes back.
func roundTrip(t *testing.T, c net.Conn, msg []byte) []byte {
	t.Helper()
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatal(err)
	}
	return got
}

func TestProxy(t *testing.T) {
	p := Start(t, echo(t))
	c, err := net.Dial("tcp", p.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	small, large := []byte("PING\r\n"), bytes.Repeat([]byte{'v'}, 4*CorruptMin)

	// No fault: bytes pass unchanged.
	if got := roundTrip(t, c, small); !bytes.Equal(got, small) {
		t.Errorf("no fault: got %q; want %q", got, small)
	}
	// Delayed: a reply never comes back sooner than the delay (a lower
	// bound, which a loaded machine cannot break).
	p.Delay(20*time.Millisecond, 1)
	start := time.Now()
	roundTrip(t, c, small)
	if took := time.Since(start); took < 20*time.Millisecond {
		t.Errorf("delayed 20ms: reply after %s", took)
	}
	p.Delay(0, 1)
	// Corrupt: a short reply passes intact, a long one is changed but
	// keeps its length.
	p.Corrupt(true)
	if got := roundTrip(t, c, small); !bytes.Equal(got, small) {
		t.Errorf("corrupt, short reply: got %q; want it intact", got)
	}
	if got := roundTrip(t, c, large); bytes.Equal(got, large) {
		t.Error("corrupt, long reply: passed intact")
	}
	p.Corrupt(false)
	// Closed: the connection is cut, and new ones are refused.
	p.Close()
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Error("read after Close: no error")
	}
	if c2, err := net.Dial("tcp", p.Addr); err == nil {
		c2.Close()
		t.Error("dial after Close: connected")
	}
}
