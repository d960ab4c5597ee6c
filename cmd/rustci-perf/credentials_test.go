package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rustci/rustci-perf/internal/redistest"
)

// shownSecret returns the first of secrets that appears in the run's
// stdout or stderr, or in any file it wrote under dir, with where.
func shownSecret(t *testing.T, r result, dir string, secrets ...string) (string, string) {
	t.Helper()
	texts := map[string]string{"stdout": r.stdout, "stderr": r.stderr}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		texts[path] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for where, s := range texts {
		for _, sec := range secrets {
			if strings.Contains(s, sec) {
				return sec, where
			}
		}
	}
	return "", ""
}

// TestRedisCredentialsHidden runs the scenarios that use Redis with
// credentials in the URL, written in every format: no part of them shows
// anywhere, the user name included, and the component names the URL with
// each part masked. redis://S3cr3tPW@host, a password written without its
// colon, is read as a user name, and used to be printed in full.
func TestRedisCredentialsHidden(t *testing.T) {
	for _, tt := range []struct {
		name, url string
		shown     string // the URL's start as the component shows it
		srv       *redistest.Server
	}{
		// a user name alone (a password missing its colon), on a Redis
		// without authentication
		{"user name alone", "redis://S3cr3tPW@%s/0", "redis://xxxxx@", redistest.Start(t)},
		// an ACL user and its password
		{"user and password", "redis://us3rname:S3cr3tPW@%s/0", "redis://xxxxx:xxxxx@",
			redistest.Start(t, "--user", "us3rname", "on", ">S3cr3tPW", "~*", "&*", "+@all")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			url := strings.Replace(tt.url, "%s", tt.srv.Addr, 1)
			args := append([]string{"run", "cache-l2", "cache-read", "limiter", "--ops", "300", "--redis-url", url,
				"--config", noTiming(t)}, everyFormat(t, dir)...)
			r := rustciPerf(t, dir, args...)
			if r.code != 0 {
				t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
			}
			if sec, where := shownSecret(t, r, dir, "S3cr3tPW", "us3rname"); sec != "" {
				t.Errorf("%q shown in %s", sec, where)
			}
			for name, s := range byScenario(checkFormats(t, dir)) {
				if name == "limiter-fallback" { // on a Redis of its own, unreachable
					continue
				}
				if !strings.Contains(s.Component, tt.shown+tt.srv.Addr) {
					t.Errorf("%s: component %q; want the URL as %s%s", name, s.Component, tt.shown, tt.srv.Addr)
				}
			}
		})
	}
}

// TestRedisCredentialsHiddenInErrors: a Redis URL refused as bad input
// (exit 2) or one that cannot be reached (exit 3) is named in the error
// with no part of its credentials.
func TestRedisCredentialsHiddenInErrors(t *testing.T) {
	refused := redistest.Refused(t)
	for _, tt := range []struct {
		url  string
		code int
	}{
		{"redis:S3cr3tPW@" + refused, 2},                      // no //
		{"redis://us3rname:S3cr3tPW@" + refused + "/nodb", 2}, // a bad database
		{"redis://S3cr3tPW@" + refused + "?bogus=1", 2},       // an unknown option
		{"redis://S3cr3tPW@[::1", 2},                          // unparsable
		{"unix://us3rname:S3cr3tPW@/run/redis.sock", 2},       // a socket: not supported
		{"redis://us3rname:S3cr3tPW@" + refused, 3},           // cannot be reached
		{"redis://S3cr3tPW@" + refused, 3},
	} {
		dir := t.TempDir()
		r := rustciPerf(t, dir, "run", "limiter", "--ops", "100", "--redis-url", tt.url, "--config", noTiming(t),
			"--format", "json", "--output", "r.json")
		if r.code != tt.code {
			t.Errorf("%s: exit %d; want %d\n%s%s", tt.url, r.code, tt.code, r.stdout, r.stderr)
		}
		if sec, where := shownSecret(t, r, dir, "S3cr3tPW", "us3rname"); sec != "" {
			t.Errorf("%s: %q shown in %s:\n%s%s", tt.url, sec, where, r.stdout, r.stderr)
		}
	}
}
