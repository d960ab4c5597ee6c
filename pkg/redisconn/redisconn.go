// Package redisconn turns one Redis configuration (a URL, and Cluster,
// Sentinel and TLS options) into a go-redis UniversalClient with the short
// timeouts a cache tier or a rate limiter needs, shared by both.
//
// The timeout bounds a call as a whole, not each step of it: go-redis's
// dial, read and write timeouts bound one step each, and a call may take
// several (a new connection's HELLO, then the command; a pipeline whose
// connection failed to start goes on to another connection and starts it
// too). A hook gives every command and pipeline a context deadline of the
// timeout, which go-redis applies to every step, so a dead, hung or slow
// Redis costs a call the timeout at most. The package also masks the
// credentials of a Redis URL wherever it is shown.
package redisconn

import (
	"context"
	"crypto/x509"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Config says how to reach Redis: the one connection type of the L2 tier,
// the limiter and the configuration file (its YAML keys).
type Config struct {
	// URL is redis://[user:password@]host:port[/db] or rediss:// for TLS.
	// More Cluster nodes (or Sentinels) may follow as ?addr=host:port.
	URL string `yaml:"url"`
	// Cluster forces Redis Cluster mode with a single seed address.
	Cluster bool `yaml:"cluster"`
	// SentinelMaster, when set, names the master that the Sentinels at the
	// URL's address(es) watch: go-redis asks them where it is and follows
	// failovers. The URL's password is the master's.
	SentinelMaster string `yaml:"sentinel_master"`
	// Timeout bounds every call as a whole, dial and handshake included,
	// and every dial, read and write in it (DefaultTimeout when 0): a dead,
	// hung or slow Redis costs a call this long at most (go-redis's
	// defaults are 5s and more).
	Timeout time.Duration `yaml:"timeout"`
	// PoolSize is the connection pool size (0: go-redis's default, 10 per
	// CPU).
	PoolSize int `yaml:"pool_size"`
	// CAFile, for rediss://, is a PEM file of the certificate authorities
	// to trust instead of the system's.
	CAFile string `yaml:"tls_ca_file"`
}

// DefaultTimeout is the per-call timeout when Config.Timeout is 0.
const DefaultTimeout = 50 * time.Millisecond

// New returns a client for cfg, and the URL with its credentials masked.
// It does not connect: a Redis that is down makes calls fail, fast. Every
// command and pipeline of the client ends within the timeout (see the
// package doc).
func New(cfg Config) (redis.UniversalClient, string, error) {
	o, desc, err := Options(cfg)
	if err != nil {
		return nil, "", err
	}
	c := redis.NewUniversalClient(o)
	// o.ReadTimeout is cfg's timeout, resolved. Through Sentinels, finding
	// the master waits on the context's Done alone: it needs a timer.
	c.AddHook(deadline{d: o.ReadTimeout, timer: o.MasterName != ""})
	return c, desc, nil
}

// deadline is a go-redis hook that bounds every command and pipeline, all
// of its steps together, by a context deadline d from its start: a
// deadlineCtx, or, with timer, a context.WithTimeout that also closes Done
// at the deadline, for a client that has a wait on Done with no timeout of
// its own.
type deadline struct {
	d     time.Duration
	timer bool
}

var _ redis.Hook = deadline{}

// DialHook leaves dials alone: a dial is one step of a command, under the
// command's deadline.
func (deadline) DialHook(next redis.DialHook) redis.DialHook { return next }

func (d deadline) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		ctx, cancel := d.bound(ctx)
		defer cancel()
		return next(ctx, cmd)
	}
}

func (d deadline) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		ctx, cancel := d.bound(ctx)
		defer cancel()
		return next(ctx, cmds)
	}
}

func nothing() {}

// bound returns ctx with a deadline d from now, or ctx itself when its own
// deadline comes sooner.
func (d deadline) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	at := time.Now().Add(d.d)
	if dl, ok := ctx.Deadline(); ok && !dl.After(at) {
		return ctx, nothing
	}
	if d.timer {
		return context.WithDeadline(ctx, at)
	}
	return deadlineCtx{ctx, at}, nothing
}

// deadlineCtx is a context whose deadline is at, with no timer behind it:
// nothing waits for the deadline to cancel it. go-redis (with
// ContextTimeoutEnabled) and net.Dialer read Deadline to bound every dial,
// read and write, and each wait of go-redis's own (a free connection, a
// pipeline's) has its timeout too, so the call ends by at without the
// allocations and timer-heap work of context.WithTimeout on every call:
// about a tenth of a check's CPU at 50 concurrent calls here. Done and Err
// are the parent's: cancelling it still stops the call.
type deadlineCtx struct {
	context.Context
	at time.Time
}

func (c deadlineCtx) Deadline() (time.Time, bool) { return c.at, true }

// Mask is what Redact and RedactError show in place of a credential.
const Mask = "xxxxx"

// Redact returns raw for display with its credentials masked: the user
// name and the password each become Mask when present
// (redis://xxxxx:xxxxx@host:port, redis://:xxxxx@host:port), so the
// shape of what was given shows, and none of it. A user name alone is
// masked too: redis://S3cr3t@host, a password written without its colon,
// is read as a user name. A URL that does not parse is replaced whole, and
// one without // (redis:S3cr3t@host) keeps only its scheme: a secret may
// be anywhere in them.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable Redis URL)"
	}
	if u.Opaque != "" {
		return u.Scheme + ":" + Mask
	}
	// go-redis reads no credential from the query, but a user may put one
	// there (?password=...): the value of any parameter whose name says
	// secret is masked too.
	if q := u.Query(); len(q) > 0 {
		masked := false
		for k := range q {
			if secretParam(k) {
				q.Set(k, Mask)
				masked = true
			}
		}
		if masked {
			u.RawQuery = q.Encode()
		}
	}
	if u.User != nil {
		var name string
		if u.User.Username() != "" {
			name = Mask
		}
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(name, Mask)
		} else {
			u.User = url.User(name)
		}
	}
	return u.String()
}

// secretParam reports whether a URL query parameter's name says its value
// is a credential.
func secretParam(name string) bool {
	n := strings.ToLower(name)
	for _, s := range []string{"pass", "user", "auth", "secret", "token", "key"} {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}

// RedactError returns err's message with the credentials of the URL raw
// masked: go-redis, or what it calls, may quote what it was given. The URL
// itself is replaced by Redact's form, then every credential wherever it
// appears, as written and as decoded.
func RedactError(err error, raw string) string {
	msg := err.Error()
	if raw == "" {
		return msg
	}
	msg = strings.ReplaceAll(msg, raw, Redact(raw))
	u, perr := url.Parse(raw)
	if perr != nil {
		return msg
	}
	var creds []string
	for k, vs := range u.Query() {
		if secretParam(k) {
			creds = append(creds, vs...)
		}
	}
	if u.User != nil {
		creds = append(creds, u.User.Username(), u.User.String())
		if p, ok := u.User.Password(); ok {
			creds = append(creds, p)
		}
		if name, pw, ok := strings.Cut(u.User.String(), ":"); ok {
			creds = append(creds, name, pw)
		}
	}
	// Longest first, so that a credential inside another is not left half
	// masked.
	slices.SortFunc(creds, func(a, b string) int { return len(b) - len(a) })
	for _, c := range creds {
		if c != "" {
			msg = strings.ReplaceAll(msg, c, Mask)
		}
	}
	return msg
}

// Options maps cfg onto go-redis options, with timeouts short enough that a
// dead Redis costs milliseconds, and no retries (a circuit breaker, not a
// retry loop, handles a Redis that is down). It returns the URL with its
// credentials masked, for reports and errors.
func Options(cfg Config) (*redis.UniversalOptions, string, error) {
	desc := Redact(cfg.URL)
	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	if timeout < 0 {
		return nil, "", fmt.Errorf("l2 timeout %s: want more than 0", timeout)
	}
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
		return nil, "", fmt.Errorf("redis url %q: want redis://[user:password@]host:port[/db], or rediss:// for TLS", desc)
	}
	o := &redis.UniversalOptions{}
	if cfg.Cluster && cfg.SentinelMaster != "" {
		return nil, "", fmt.Errorf("redis url %q: cluster and sentinel_master exclude each other", desc)
	}
	if cfg.Cluster || cfg.SentinelMaster != "" || u.Query().Has("addr") {
		co, err := redis.ParseClusterURL(cfg.URL)
		if err != nil {
			return nil, "", fmt.Errorf("redis url %q: %s", desc, RedactError(err, cfg.URL))
		}
		o.Addrs, o.Username, o.Password, o.TLSConfig = co.Addrs, co.Username, co.Password, co.TLSConfig
		// Several addresses are a Cluster's nodes, or with a master
		// name the Sentinels that watch it.
		o.IsClusterMode = cfg.SentinelMaster == ""
		o.MasterName = cfg.SentinelMaster
	} else {
		so, err := redis.ParseURL(cfg.URL)
		if err != nil {
			return nil, "", fmt.Errorf("redis url %q: %s", desc, RedactError(err, cfg.URL))
		}
		o.Addrs, o.Username, o.Password, o.TLSConfig, o.DB = []string{so.Addr}, so.Username, so.Password, so.TLSConfig, so.DB
	}
	if cfg.CAFile != "" {
		if o.TLSConfig == nil {
			return nil, "", fmt.Errorf("redis url %q: a CA file is for rediss:// URLs", desc)
		}
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, "", fmt.Errorf("redis CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, "", fmt.Errorf("redis CA file %s: no PEM certificate in it", cfg.CAFile)
		}
		o.TLSConfig.RootCAs = pool
	}
	o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.PoolTimeout = timeout, timeout, timeout, timeout
	o.MaxRetries = -1
	// go-redis also retries a failed dial 5 times, 100ms apart: 800ms per
	// call to a Redis that refuses connections. One attempt; the breaker
	// decides when to try again.
	o.DialerRetries, o.DialerRetryTimeout = 1, timeout
	o.ContextTimeoutEnabled = true
	o.PoolSize = cfg.PoolSize
	return o, desc, nil
}
