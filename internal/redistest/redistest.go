// Package redistest starts real redis-server processes for tests: each on a
// free loopback port, with no persistence, stopped when the test ends.
//
// When redis-server is not installed the test is skipped with the reason,
// unless RUSTCI_PERF_REQUIRE_REDIS=1 (CI sets it), which makes it fail.
package redistest

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/rustci/rustci-perf/internal/blackhole"
)

// init silences go-redis's own log lines ("failed to dial ...") in test
// binaries that use this package: tests of a dead Redis provoke them on
// purpose, and they would bury the test output. Failures are asserted, not
// logged.
func init() { redis.SetLogger(quiet{}) }

type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

// Server is a running redis-server.
type Server struct {
	// Addr is host:port on 127.0.0.1.
	Addr string
	t    testing.TB
	args []string
	cmd  *exec.Cmd
	dir  string
	port int
	// tls: the server listens for TLS only (StartTLS).
	tls bool
}

// URL is the server's redis:// URL.
func (s *Server) URL() string { return "redis://" + s.Addr }

// Binary returns the path of the named Redis binary (redis-server,
// redis-cli, redis-benchmark), or skips t (fails it when Redis is required).
func Binary(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	msg := fmt.Sprintf("%s not found in PATH (install Debian's redis-server package)", name)
	if os.Getenv("RUSTCI_PERF_REQUIRE_REDIS") == "1" {
		t.Fatalf("%s, and RUSTCI_PERF_REQUIRE_REDIS=1", msg)
	}
	t.Skip(msg)
	return ""
}

// Start starts a redis-server with extra configuration args (as on its
// command line: "--requirepass", "secret") and stops it at the end of t.
func Start(t testing.TB, args ...string) *Server {
	t.Helper()
	s := &Server{t: t, args: args, dir: t.TempDir()}
	s.port = FreePort(t)
	s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port))
	s.start()
	t.Cleanup(s.Stop)
	return s
}

func (s *Server) start() {
	s.t.Helper()
	bin := Binary(s.t, "redis-server")
	port := strconv.Itoa(s.port)
	if s.tls {
		port = "0" // no plain-text listener
	}
	args := append([]string{
		"--port", port, "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", s.dir,
		"--logfile", filepath.Join(s.dir, "redis.log"),
	}, s.args...)
	s.cmd = exec.Command(bin, args...)
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("start redis-server: %v", err)
	}
	if err := waitReady(s.Addr, s.tls, 10*time.Second); err != nil {
		s.Stop()
		log, _ := os.ReadFile(filepath.Join(s.dir, "redis.log"))
		s.t.Fatalf("redis-server on %s: %v\n%s", s.Addr, err, log)
	}
}

// Stop kills the server (as a crash would) and waits for it to exit.
func (s *Server) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

// Pause stops the server's process (SIGSTOP) until Resume: it keeps its
// port and connections and answers nothing, as a hung server does. Stop
// still kills it.
func (s *Server) Pause() {
	s.t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		s.t.Fatalf("pause redis-server: %v", err)
	}
}

// Resume continues a paused server (SIGCONT).
func (s *Server) Resume() {
	s.t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		s.t.Fatalf("resume redis-server: %v", err)
	}
}

// Calls returns how many times the server has run command cmd ("get",
// "evalsha"), from INFO commandstats: a test can wait for a run to be
// under way by it, since its own INFO calls are not counted there.
func (s *Server) Calls(cmd string) (int64, error) {
	c := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1})
	defer c.Close()
	info, err := c.Info(context.Background(), "commandstats").Result()
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(info, "\n") {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "cmdstat_"+strings.ToLower(cmd)+":calls=")
		if !ok {
			continue
		}
		n, _, _ := strings.Cut(rest, ",")
		return strconv.ParseInt(n, 10, 64)
	}
	return 0, nil
}

// Restart starts the server again on the same port, empty.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	s.start()
}

// WaitReady waits until a Redis server at addr answers PING.
func WaitReady(addr string, within time.Duration) error { return waitReady(addr, false, within) }

func waitReady(addr string, useTLS bool, within time.Duration) error {
	deadline := time.Now().Add(within)
	var last error
	for time.Now().Before(deadline) {
		if last = ping(addr, useTLS); last == nil {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("not ready after %s: %v", within, last)
}

func ping(addr string, useTLS bool) error {
	var c net.Conn
	var err error
	if useTLS {
		// Readiness only: the test's client verifies the certificate.
		c, err = tls.DialWithDialer(&net.Dialer{Timeout: time.Second}, "tcp", addr, &tls.Config{InsecureSkipVerify: true})
	} else {
		c, err = net.DialTimeout("tcp", addr, time.Second)
	}
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	// A server that wants a password answers NOAUTH: it is up all the same.
	if !strings.HasPrefix(line, "+PONG") && !strings.HasPrefix(line, "-NOAUTH") {
		return fmt.Errorf("PING answered %q", strings.TrimSpace(line))
	}
	return nil
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// DeadTimeout is the per-call timeout tests of a dead or hung Redis give
// their clients: long enough that CallBound tells a call that waited one
// timeout from one that waited two.
const DeadTimeout = 300 * time.Millisecond

// CallBound is the longest a Redis call with the given per-call timeout may
// take against a Redis that never answers: the timeout, and a margin for a
// loaded machine (half the timeout and 50ms). It is a bound, not a speed:
// a call that waits out the timeout twice over passes it once the timeout
// is over 100ms (DeadTimeout is).
func CallBound(timeout time.Duration) time.Duration { return timeout*3/2 + 50*time.Millisecond }

// Silent returns the address of a listener that accepts connections and
// never answers, like a hung server; it closes at the end of t.
func Silent(t testing.TB) string {
	t.Helper()
	addr, stop, err := blackhole.Silent()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return addr
}

// Refused returns a loopback address where nothing listens.
func Refused(t testing.TB) string {
	t.Helper()
	addr, err := blackhole.Refused()
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

// Cluster is a running Redis Cluster of masters with no replicas.
type Cluster struct {
	Nodes []*Server
}

// URL is a redis:// URL that names every node (?addr=...), which
// rustci-perf's L2 reads as Cluster mode.
func (c *Cluster) URL() string {
	u := "redis://" + c.Nodes[0].Addr
	for i, n := range c.Nodes[1:] {
		sep := "&"
		if i == 0 {
			sep = "?"
		}
		u += sep + "addr=" + n.Addr
	}
	return u
}

// StartCluster starts n redis-server processes in cluster mode, joins them
// with redis-cli --cluster create, and waits until the cluster is ok.
func StartCluster(t testing.TB, n int) *Cluster {
	t.Helper()
	cli := Binary(t, "redis-cli")
	c := &Cluster{}
	for i := 0; i < n; i++ {
		s := &Server{t: t, dir: t.TempDir(), args: []string{"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"}}
		// The cluster bus listens on port+10000, which must be free too.
		for {
			s.port = FreePort(t)
			if s.port+10000 < 65536 && portFree(s.port+10000) {
				break
			}
		}
		s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port))
		s.start()
		t.Cleanup(s.Stop)
		c.Nodes = append(c.Nodes, s)
	}
	args := []string{"--cluster", "create"}
	for _, s := range c.Nodes {
		args = append(args, s.Addr)
	}
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command(cli, args...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, s := range c.Nodes {
		for {
			out, _ := exec.Command(cli, "-h", "127.0.0.1", "-p", strconv.Itoa(s.port), "cluster", "info").Output()
			if strings.Contains(string(out), "cluster_state:ok") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("cluster node %s not ok after 30s:\n%s", s.Addr, out)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return c
}

func portFree(port int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// StartSentinel starts a Redis Sentinel on a free port watching the server
// master under the name name, and waits until it knows the master.
func StartSentinel(t testing.TB, master *Server, name string) *Server {
	t.Helper()
	s := &Server{t: t, dir: t.TempDir()}
	s.port = FreePort(t)
	s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port))
	conf := filepath.Join(s.dir, "sentinel.conf")
	body := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\nsentinel monitor %s 127.0.0.1 %d 1\nsentinel down-after-milliseconds %s 5000\n",
		s.port, s.dir, name, master.port, name)
	if err := os.WriteFile(conf, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	s.cmd = exec.Command(Binary(t, "redis-server"), conf, "--sentinel", "--logfile", filepath.Join(s.dir, "sentinel.log"))
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start redis sentinel: %v", err)
	}
	t.Cleanup(s.Stop)
	cli := Binary(t, "redis-cli")
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, _ := exec.Command(cli, "-p", strconv.Itoa(s.port), "sentinel", "get-master-addr-by-name", name).Output()
		if strings.Contains(string(out), strconv.Itoa(master.port)) {
			return s
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(s.dir, "sentinel.log"))
			t.Fatalf("sentinel on %s does not know master %s after 10s: %q\n%s", s.Addr, name, out, log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// StartTLS starts a redis-server that speaks only TLS, with a certificate
// for 127.0.0.1 signed by a new CA, and returns it with the path of the
// CA's PEM file. Its URL is rediss://Addr.
func StartTLS(t testing.TB, args ...string) (*Server, string) {
	t.Helper()
	dir := t.TempDir()
	ca, cert, key := writeCerts(t, dir)
	s := &Server{t: t, dir: t.TempDir(), tls: true}
	s.port = FreePort(t)
	s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port))
	s.args = append([]string{"--tls-port", strconv.Itoa(s.port), "--tls-cert-file", cert, "--tls-key-file", key,
		"--tls-ca-cert-file", ca, "--tls-auth-clients", "no"}, args...)
	s.start()
	t.Cleanup(s.Stop)
	return s, ca
}

// writeCerts writes a CA and a server certificate for 127.0.0.1 it signed.
func writeCerts(t testing.TB, dir string) (ca, cert, key string) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "rustci-perf test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	srvKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	srvTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTmpl, caTmpl, &srvKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(srvKey)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	return write("ca.pem", "CERTIFICATE", caDER), write("server.pem", "CERTIFICATE", srvDER), write("server.key", "EC PRIVATE KEY", keyDER)
}
