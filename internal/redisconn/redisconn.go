// Package redisconn turns one Redis configuration (a URL, and Cluster,
// Sentinel and TLS options) into a go-redis UniversalClient with the short
// timeouts a cache tier or a rate limiter needs, shared by both.
package redisconn

import (
	"crypto/x509"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Config says how to reach Redis.
type Config struct {
	// URL is redis://[user:password@]host:port[/db] or rediss:// for TLS.
	// More Cluster nodes (or Sentinels) may follow as ?addr=host:port.
	URL string
	// Cluster forces Redis Cluster mode with a single seed address.
	Cluster bool
	// SentinelMaster, when set, names the master that the Sentinels at the
	// URL's address(es) watch.
	SentinelMaster string
	// Timeout bounds every dial, read and write (DefaultTimeout when 0).
	Timeout time.Duration
	// PoolSize is the connection pool size (0: go-redis's default).
	PoolSize int
	// CAFile, for rediss://, is a PEM file of CAs to trust.
	CAFile string
}

// DefaultTimeout is the per-call timeout when Config.Timeout is 0.
const DefaultTimeout = 50 * time.Millisecond

// New returns a client for cfg, and the URL with its password masked. It
// does not connect: a Redis that is down makes calls fail, fast.
func New(cfg Config) (redis.UniversalClient, string, error) {
	o, desc, err := Options(cfg)
	if err != nil {
		return nil, "", err
	}
	return redis.NewUniversalClient(o), desc, nil
}

// Redact returns raw with any password replaced by "xxxxx"; an unparsable
// URL is replaced whole, since it may hold a password anywhere.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable Redis URL)"
	}
	return u.Redacted()
}

// Options maps cfg onto go-redis options, with timeouts short enough that a
// dead Redis costs milliseconds, and no retries (a circuit breaker, not a
// retry loop, handles a Redis that is down). It returns the URL with its
// password masked, for reports and errors.
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
		return nil, "", fmt.Errorf("redis url %q: want redis://[user:password@]host:port[/db] or rediss://...", desc)
	}
	o := &redis.UniversalOptions{}
	if cfg.Cluster && cfg.SentinelMaster != "" {
		return nil, "", fmt.Errorf("redis url %q: cluster and sentinel_master exclude each other", desc)
	}
	if cfg.Cluster || cfg.SentinelMaster != "" || u.Query().Has("addr") {
		co, err := redis.ParseClusterURL(cfg.URL)
		if err != nil {
			return nil, "", fmt.Errorf("redis url %q: %s", desc, redactErr(err, cfg.URL))
		}
		o.Addrs, o.Username, o.Password, o.TLSConfig = co.Addrs, co.Username, co.Password, co.TLSConfig
		// Several addresses are a Cluster's nodes, or with a master
		// name the Sentinels that watch it.
		o.IsClusterMode = cfg.SentinelMaster == ""
		o.MasterName = cfg.SentinelMaster
	} else {
		so, err := redis.ParseURL(cfg.URL)
		if err != nil {
			return nil, "", fmt.Errorf("redis url %q: %s", desc, redactErr(err, cfg.URL))
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

// redactErr returns err's text with the URL's password, if any, removed:
// go-redis quotes parts of the URL in its errors.
func redactErr(err error, raw string) string {
	msg := err.Error()
	if u, perr := url.Parse(raw); perr == nil {
		if p, ok := u.User.Password(); ok && p != "" {
			msg = strings.ReplaceAll(msg, p, "xxxxx")
		}
	}
	return msg
}

// RedactError returns err's message with the password of the URL raw, if
// any, masked: go-redis may quote what it was given.
func RedactError(err error, raw string) string { return redactErr(err, raw) }
