// Package pgtest starts a real PostgreSQL server for tests: initdb into a
// temporary directory, then postgres listening on 127.0.0.1 on a free port
// (never 5432, never a shared instance) with trust authentication, stopped
// (pg_ctl stop -m immediate) and removed when the test ends.
//
// The binaries are found on PATH, else under /usr/lib/postgresql/*/bin
// (where Debian's postgresql package puts them). PostgreSQL refuses to run
// as root: as root, they run as the postgres user, which owns the
// temporary directory. When the binaries or that user are missing the test
// is skipped with the reason, unless RUSTCI_PERF_REQUIRE_POSTGRES=1 (CI
// sets it), which makes it fail.
package pgtest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Server is a running PostgreSQL.
type Server struct {
	// Addr is 127.0.0.1:port.
	Addr string
	t    testing.TB
	bin  string
	dir  string
	cmd  *exec.Cmd
	cred *syscall.Credential
	log  string
	dbs  atomic.Int64
	// exited receives the server process's exit.
	exited chan error
}

// URL is the URL of database name on the server, as the superuser
// postgres, with no TLS.
func (s *Server) URL(name string) string {
	u := url.URL{Scheme: "postgres", User: url.User("postgres"), Host: s.Addr, Path: "/" + name, RawQuery: "sslmode=disable"}
	return u.String()
}

// skipOrFail skips t with msg, or fails it when PostgreSQL is required.
func skipOrFail(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("RUSTCI_PERF_REQUIRE_POSTGRES") == "1" {
		t.Fatalf("%s, and RUSTCI_PERF_REQUIRE_POSTGRES=1", msg)
	}
	t.Skip(msg)
}

// BinDir returns the directory of initdb, postgres and pg_ctl, or skips t
// (fails it when PostgreSQL is required).
func BinDir(t testing.TB) string {
	t.Helper()
	var dirs []string
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			dirs = append(dirs, filepath.Dir(real))
		}
		dirs = append(dirs, filepath.Dir(p))
	}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	// The latest version first: 9.6 sorts after 15 as text, so by number.
	sort.Slice(found, func(i, j int) bool { return version(found[i]) > version(found[j]) })
	dirs = append(dirs, found...)
	for _, d := range dirs {
		ok := true
		for _, b := range []string{"initdb", "postgres", "pg_ctl"} {
			if _, err := os.Stat(filepath.Join(d, b)); err != nil {
				ok = false
			}
		}
		if ok {
			return d
		}
	}
	skipOrFail(t, "PostgreSQL not found: no initdb, postgres and pg_ctl on PATH or under /usr/lib/postgresql/*/bin (install Debian's postgresql package)")
	return ""
}

func version(binDir string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(binDir)), 64)
	return v
}

// Start starts a PostgreSQL server and stops it, removing its files, at
// the end of t.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{t: t, bin: BinDir(t)}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			skipOrFail(t, "running as root, and PostgreSQL refuses root: no postgres user to run it as ("+err.Error()+")")
		}
		uid, _ := strconv.ParseUint(u.Uid, 10, 32)
		gid, _ := strconv.ParseUint(u.Gid, 10, 32)
		s.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	// Not t.TempDir: the postgres user must reach the directory, and
	// t.TempDir's parent is root's alone.
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		t.Fatal(err)
	}
	s.dir, s.log = dir, filepath.Join(dir, "postgres.log")
	t.Cleanup(s.stop)
	if s.cred != nil {
		if err := os.Chown(dir, int(s.cred.Uid), int(s.cred.Gid)); err != nil {
			t.Fatalf("chown %s to postgres: %v", dir, err)
		}
	}
	data := filepath.Join(dir, "data")
	if out, err := s.command("initdb", "-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C").CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	port := freePort(t)
	s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	logf, err := os.Create(s.log)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	if s.cred != nil {
		_ = logf.Chown(int(s.cred.Uid), int(s.cred.Gid))
	}
	s.cmd = s.command("postgres", "-D", data, "-p", strconv.Itoa(port), "-k", dir,
		"-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=50")
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start postgres: %v", err)
	}
	if err := s.waitReady(30 * time.Second); err != nil {
		log, _ := os.ReadFile(s.log)
		t.Fatalf("postgres on %s: %v\n%s", s.Addr, err, log)
	}
	return s
}

// command runs a PostgreSQL binary, as the postgres user when t runs as
// root, in the server's directory (initdb changes to its working
// directory, which root's would refuse).
func (s *Server) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(s.bin, name), args...)
	cmd.Dir = s.dir
	cmd.Env = append(os.Environ(), "LC_ALL=C", "LANG=C")
	if s.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	}
	return cmd
}

// waitReady polls a connection until the server answers, the server
// exits, or within passes.
func (s *Server) waitReady(within time.Duration) error {
	s.exited = make(chan error, 1)
	go func(cmd *exec.Cmd, exited chan<- error) { exited <- cmd.Wait() }(s.cmd, s.exited)
	deadline := time.Now().Add(within)
	var last error
	for time.Now().Before(deadline) {
		select {
		case err := <-s.exited:
			s.cmd, s.exited = nil, nil
			return fmt.Errorf("postgres exited: %v", err)
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		c, err := pgx.Connect(ctx, s.URL("postgres"))
		if err == nil {
			err = c.Ping(ctx)
			c.Close(ctx)
		}
		cancel()
		if err == nil {
			return nil
		}
		last = err
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("not ready after %s: %v", within, last)
}

// Database creates a new, empty database on s and returns its URL.
func (s *Server) Database(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("test%d", s.dbs.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, s.URL("postgres"))
	if err != nil {
		t.Fatalf("connect to %s: %v", s.Addr, err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	return s.URL(name)
}

// stop stops the server at once (pg_ctl stop -m immediate; a kill if
// that fails) and removes its files.
func (s *Server) stop() {
	if s.cmd != nil {
		out, err := s.command("pg_ctl", "stop", "-D", filepath.Join(s.dir, "data"), "-m", "immediate", "-w").CombinedOutput()
		if err != nil {
			s.t.Logf("pg_ctl stop: %v\n%s", err, bytes.TrimSpace(out))
			_ = s.cmd.Process.Kill()
		}
		if s.exited != nil {
			<-s.exited
		}
		s.cmd = nil
	}
	if err := os.RemoveAll(s.dir); err != nil {
		s.t.Errorf("remove %s: %v", s.dir, err)
	}
}

// freePort returns a free loopback port other than PostgreSQL's own 5432.
func freePort(t testing.TB) int {
	t.Helper()
	for {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if port != 5432 {
			return port
		}
	}
}
