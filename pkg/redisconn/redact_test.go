package redisconn_test

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/rustci/rustci-perf/pkg/redisconn"
)

// The credentials the tests put in URLs: none may be shown.
var secrets = []string{"us3rname", "S3cr3tPW", "p@ss", "p%40ss"}

func shows(s string) (string, bool) {
	for _, sec := range secrets {
		if strings.Contains(s, sec) {
			return sec, true
		}
	}
	return "", false
}

func TestRedact(t *testing.T) {
	for _, tt := range []struct{ raw, want string }{
		// a password alone
		{"redis://:S3cr3tPW@h:6379", "redis://:xxxxx@h:6379"},
		// an ACL user and its password: both masked
		{"redis://us3rname:S3cr3tPW@h:6379/0", "redis://xxxxx:xxxxx@h:6379/0"},
		// a password written without its colon is a user name: masked
		{"redis://S3cr3tPW@h:6379", "redis://xxxxx@h:6379"},
		// TLS, the same
		{"rediss://us3rname:S3cr3tPW@h:6380/1", "rediss://xxxxx:xxxxx@h:6380/1"},
		{"rediss://S3cr3tPW@h:6380", "rediss://xxxxx@h:6380"},
		// an escaped character in the password
		{"redis://us3rname:p%40ss@h:1", "redis://xxxxx:xxxxx@h:1"},
		// a user with an empty password: the password's place shows
		{"redis://us3rname:@h:1", "redis://xxxxx:xxxxx@h:1"},
		// an empty user-info shows nothing to mask
		{"redis://@h:1", "redis://@h:1"},
		// more Cluster nodes stay visible
		{"redis://:S3cr3tPW@h:1?addr=h2:2&addr=h3:3", "redis://:xxxxx@h:1?addr=h2:2&addr=h3:3"},
		// a Unix socket (go-redis's unix://, which Options refuses)
		{"unix://us3rname:S3cr3tPW@/run/redis.sock?db=1", "unix://xxxxx:xxxxx@/run/redis.sock?db=1"},
		// credentials in the query, which go-redis does not read: masked
		{"redis://h:1?password=S3cr3tPW&username=us3rname", "redis://h:1?password=xxxxx&username=xxxxx"},
		{"redis://h:1?addr=h2:2&sentinel_password=S3cr3tPW", "redis://h:1?addr=h2%3A2&sentinel_password=xxxxx"},
		{"redis://h:1?dial_timeout=1s&AuthToken=S3cr3tPW", "redis://h:1?AuthToken=xxxxx&dial_timeout=1s"},
		// no credentials: unchanged
		{"redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"},
		{"", ""},
		// no // after the scheme: all after it hidden
		{"redis:S3cr3tPW@h:6379", "redis:xxxxx"},
		{"localhost:S3cr3tPW", "localhost:xxxxx"},
		// unparsable: hidden whole
		{"redis://S3cr3tPW@[::1", "(unparsable Redis URL)"},
		{"redis://us3rname:S3cr3tPW@h:1/%zz", "(unparsable Redis URL)"},
		{"::S3cr3tPW", "(unparsable Redis URL)"},
		{"redis://us3rname:S3cr3tPW@h\x7f:1", "(unparsable Redis URL)"},
	} {
		got := redisconn.Redact(tt.raw)
		if got != tt.want {
			t.Errorf("Redact(%q) = %q; want %q", tt.raw, got, tt.want)
		}
		if sec, ok := shows(got); ok {
			t.Errorf("Redact(%q) = %q shows %q", tt.raw, got, sec)
		}
	}
}

// TestRedactError: a message that quotes the URL, or a credential of it,
// as written or decoded, shows none of them.
func TestRedactError(t *testing.T) {
	for _, tt := range []struct{ raw, msg, want string }{
		// the URL quoted whole
		{"redis://us3rname:S3cr3tPW@h:1", `parse "redis://us3rname:S3cr3tPW@h:1": bad`, `parse "redis://xxxxx:xxxxx@h:1": bad`},
		// a user name alone, quoted
		{"redis://S3cr3tPW@h:1", `WRONGPASS for "S3cr3tPW"`, `WRONGPASS for "xxxxx"`},
		// the password decoded, and as written
		{"redis://:p%40ss@h:1", "auth p@ss and p%40ss", "auth xxxxx and xxxxx"},
		// nothing of the URL: unchanged
		{"redis://:S3cr3tPW@h:1", "dial tcp h:1: connection refused", "dial tcp h:1: connection refused"},
		// an unparsable URL quoted whole
		{"redis://S3cr3tPW@[::1", `bad "redis://S3cr3tPW@[::1"`, `bad "(unparsable Redis URL)"`},
	} {
		got := redisconn.RedactError(errors.New(tt.msg), tt.raw)
		if got != tt.want {
			t.Errorf("RedactError(%q, %q) = %q; want %q", tt.msg, tt.raw, got, tt.want)
		}
		if sec, ok := shows(got); ok {
			t.Errorf("RedactError(%q, %q) = %q shows %q", tt.msg, tt.raw, got, sec)
		}
	}
}

// TestOptionsErrorsHideCredentials: a URL that Options refuses is named in
// the error with its credentials masked, whatever is wrong with it.
func TestOptionsErrorsHideCredentials(t *testing.T) {
	for _, raw := range []string{
		"redis://us3rname:S3cr3tPW@h:1/notadb",     // go-redis: bad database
		"redis://S3cr3tPW@h:1?bogus=1",             // go-redis: unknown option
		"redis://S3cr3tPW@h:1?addr=h2:2&bogus=1",   // go-redis, Cluster: unknown option
		"redis:S3cr3tPW@h:1",                       // no //
		"http://us3rname:S3cr3tPW@h:1",             // not Redis
		"unix://us3rname:S3cr3tPW@/run/redis.sock", // a socket: not supported
		"redis://S3cr3tPW@[::1",                    // unparsable
		"redis://us3rname:S3cr3tPW@",               // no host
	} {
		_, _, err := redisconn.Options(redisconn.Config{URL: raw})
		if err == nil {
			t.Errorf("Options(%q): no error", raw)
			continue
		}
		if sec, ok := shows(err.Error()); ok {
			t.Errorf("Options(%q) error %q shows %q", raw, err, sec)
		}
	}
	_, desc, err := redisconn.Options(redisconn.Config{URL: "redis://S3cr3tPW@h:1/2"})
	if err != nil || desc != "redis://xxxxx@h:1/2" {
		t.Errorf("Options: desc %q, %v; want redis://xxxxx@h:1/2", desc, err)
	}
}

// FuzzRedact: Redact never panics, and what it returns, read as a URL,
// holds no user name or password but the mask.
func FuzzRedact(f *testing.F) {
	for _, s := range []string{"redis://:pw@h:1", "redis://u:pw@h:1/0", "redis://pw@h", "rediss://u@h:1?addr=h:2",
		"unix://u:p@/s", "redis:pw@h", "::", "redis://u:p%40@h", "redis://@h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got := redisconn.Redact(raw)
		u, err := url.Parse(got)
		if err != nil || u.User == nil {
			return
		}
		if name := u.User.Username(); name != "" && name != redisconn.Mask {
			t.Errorf("Redact(%q) = %q shows user %q", raw, got, name)
		}
		if pw, ok := u.User.Password(); ok && pw != redisconn.Mask {
			t.Errorf("Redact(%q) = %q shows password %q", raw, got, pw)
		}
	})
}
