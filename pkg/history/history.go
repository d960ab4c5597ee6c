// Package history keeps every run's report in a database, so that a figure
// can be followed across runs: a SQLite file by default (pure Go, no cgo),
// or PostgreSQL, which CI runners can share.
//
// The model. A run is one report (report.Report), kept whole as its JSON
// so that it can be rendered again in any format, under a content key (a
// SHA-256 of that JSON): appending the same report twice adds nothing the
// second time, and says so. Beside it, what a query filters on: when it
// started and finished, the tool that made it, the system under test's
// commit, branch and CI run, the user's labels (report.Provenance), whether
// it passed, whether it was interrupted, the faults injected into it, the
// host. Each of its scenarios is a row with its status, counts and encoded
// latency histograms (each kind of operation's too, so that a percentile
// not stored can be computed later, exactly), and each scenario has its
// figures: every figure a threshold can name for it, under the name the
// threshold gives it (threshold.ParseMetric's canonical name: ops, errors,
// throughput, duration, min, mean, stdev, max, p50, p90, p95, p99, p99.9,
// p99.99, its metrics, its counters, and each kind's, read.p99), NULL
// when it cannot be computed. The report's scenario becomes figures in one
// place, merge.Figures, the conversion merge judges its thresholds on.
//
// A Series is one figure of one scenario across runs, oldest first. It
// leaves out what is not a measurement of the system as it is: an
// interrupted run, a scenario that did not run to a verdict (error,
// skipped, interrupted), a figure that cannot be computed (n/a), and, unless
// asked for (Query.Injected), a run with faults injected, whose figures
// measure the faults. A failed scenario's figures are kept: a regression
// is what a trend is for.
//
// Concurrency. Several processes may open, migrate and append to one store
// at once and nothing is lost: SQLite runs in WAL mode with a busy timeout,
// every transaction takes the write lock at its start (BEGIN IMMEDIATE),
// so two writers queue rather than fail; PostgreSQL's transactions are
// what they are, and a report appended by two processes at once is added
// by one (the content key is unique). Migrations are versioned SQL files
// embedded in the binary (migrations/DIALECT/NNNN_name.sql), each applied
// in its own transaction under a lock (SQLite's write lock; a transaction
// advisory lock in PostgreSQL) after reading the version again inside it,
// so two processes migrating one store at once apply each migration once.
//
// Credentials in a PostgreSQL URL never leave the package: its errors and
// String mask them (Redact).
package history

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/rustci/rustci-perf/pkg/redisconn"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver
)

// dialect is the SQL a store speaks.
type dialect int

const (
	sqliteDialect dialect = iota
	postgresDialect
)

func (d dialect) String() string {
	if d == postgresDialect {
		return "postgres"
	}
	return "sqlite"
}

// busyTimeout is how long a SQLite connection waits for another process's
// write lock before it fails: long enough for the other to append a run
// (milliseconds) many times over.
const busyTimeout = 30 * time.Second

// openTimeout bounds connecting to PostgreSQL and migrating: an address
// that never answers is an error before anything runs, not a hang.
const openTimeout = 15 * time.Second

// Store is an open history: a SQLite file or a PostgreSQL database.
type Store struct {
	db      *sql.DB
	dialect dialect
	// dsn is what Open was given; shown is it with its credentials masked.
	dsn, shown string
}

// IsPostgres reports whether dsn names a PostgreSQL database (a
// postgres:// or postgresql:// URL) rather than a SQLite file.
func IsPostgres(dsn string) bool {
	lower := strings.ToLower(dsn)
	return strings.HasPrefix(lower, "postgres://") || strings.HasPrefix(lower, "postgresql://")
}

// Redact returns dsn for display: a PostgreSQL URL with its user name,
// password and any secret query parameter masked, a SQLite path as it is.
func Redact(dsn string) string {
	if !IsPostgres(dsn) {
		return dsn
	}
	if _, err := url.Parse(dsn); err != nil {
		return "(unparsable PostgreSQL URL)"
	}
	return redisconn.Redact(dsn)
}

// Open opens the history at dsn, a SQLite file's path (created when
// missing, in a directory that exists) or a postgres:// URL, and brings
// its schema up to date. Its errors name the store with its credentials
// masked; a store written by a later version of rustci-perf, whose schema
// this one does not know, is refused.
func Open(ctx context.Context, dsn string) (*Store, error) {
	return openStore(ctx, dsn, true)
}

// OpenExisting is Open for a reader (list, show, trend): a SQLite file
// that does not exist is an error (wrapping fs.ErrNotExist), not an empty
// store created where a mistyped path points.
func OpenExisting(ctx context.Context, dsn string) (*Store, error) {
	return openStore(ctx, dsn, false)
}

func openStore(ctx context.Context, dsn string, create bool) (*Store, error) {
	s := &Store{dsn: dsn, shown: Redact(dsn)}
	if !create && !IsPostgres(dsn) && dsn != "" {
		if _, err := os.Stat(dsn); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				err = fmt.Errorf("no such file (a store is created by run --history or history import): %w", fs.ErrNotExist)
			}
			return nil, s.wrap(err, "open")
		}
	}
	if err := s.open(ctx); err != nil {
		if s.db != nil {
			s.db.Close()
		}
		return nil, s.wrap(err, "open")
	}
	return s, nil
}

func (s *Store) open(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, openTimeout)
	defer cancel()
	var err error
	if IsPostgres(s.dsn) {
		s.dialect = postgresDialect
		cfg, perr := pgxConfig(s.dsn)
		if perr != nil {
			return perr
		}
		s.db = stdlib.OpenDB(*cfg)
	} else {
		if s.dsn == "" {
			return errors.New("no path given")
		}
		if s.db, err = sql.Open("sqlite", sqliteDSN(s.dsn)); err != nil {
			return err
		}
	}
	if err := s.db.PingContext(ctx); err != nil {
		return err
	}
	return s.migrate(ctx)
}

// sqliteDSN is the modernc.org/sqlite name of the file at path: a file:
// URI (so that a path with ? or # in it is one path), in WAL mode, with a
// busy timeout, foreign keys on, and every transaction begun IMMEDIATE:
// it takes the write lock at its start, so that two processes' writers
// queue on the busy timeout instead of one failing at once when it would
// upgrade a read lock.
func sqliteDSN(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(path)}
	q := url.Values{}
	q.Set("_busy_timeout", strconv.FormatInt(busyTimeout.Milliseconds(), 10))
	q.Set("_journal_mode", "WAL")
	q.Set("_foreign_keys", "1")
	q.Set("_txlock", "immediate")
	// The URI form needs an empty authority: file:///abs/path.
	return "file://" + u.EscapedPath() + "?" + q.Encode()
}

// Close closes the store.
func (s *Store) Close() error { return s.db.Close() }

// String names the store for messages, its credentials masked.
func (s *Store) String() string { return s.shown }

// wrap gives err the store's name and what was being done, every
// credential of a PostgreSQL URL masked wherever the driver quoted it.
func (s *Store) wrap(err error, doing string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if IsPostgres(s.dsn) {
		if _, perr := url.Parse(s.dsn); perr != nil {
			// Where a credential ends in a URL that does not parse
			// is anyone's guess: the driver's words are dropped.
			msg = "not a URL: want postgres://[user[:password]@]host[:port]/database[?param=value&...]"
		} else {
			msg = redisconn.RedactError(err, s.dsn)
		}
	}
	return &Error{Store: s.shown, Doing: doing, msg: msg, err: err}
}

// Error is a store's error: which store (credentials masked), what it was
// doing, and the cause with every credential masked.
type Error struct {
	Store, Doing string
	msg          string
	err          error
}

func (e *Error) Error() string { return fmt.Sprintf("history %s: %s: %s", e.Store, e.Doing, e.msg) }

// Unwrap returns the cause, for errors.Is (context.Canceled) and
// errors.As. Its own message may hold credentials: show Error's.
func (e *Error) Unwrap() error { return e.err }

// rebind writes q's ? placeholders as PostgreSQL's $1, $2, ...; the
// queries here hold no ? in a literal.
func (s *Store) rebind(q string) string {
	if s.dialect != postgresDialect {
		return q
	}
	var b strings.Builder
	n := 0
	for _, c := range q {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
