// Versioned migrations: embedded SQL files, a version table, each
// migration in a transaction under a lock.

package history

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

//go:embed migrations
var migrationFiles embed.FS

// migration is one schema change: the version it brings the store to,
// and its SQL in the store's dialect.
type migration struct {
	version int
	name    string
	sql     string
}

// migrationsLock is the PostgreSQL advisory lock key every migration takes:
// "rustci-perf history" in eight bytes of ASCII, a number no other user of
// the database is likely to pick.
const migrationsLock int64 = 0x7275737463696869 // "rustcihi"

// migrations returns d's migrations in order of version. Their files are
// NNNN_name.sql: a file named otherwise, two of one version, or a gap is
// a build defect, which the tests catch.
func migrations(d dialect) ([]migration, error) {
	dir := path.Join("migrations", d.String())
	entries, err := fs.ReadDir(migrationFiles, dir)
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, e := range entries {
		num, name, ok := strings.Cut(strings.TrimSuffix(e.Name(), ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || !strings.HasSuffix(e.Name(), ".sql") {
			return nil, fmt.Errorf("migration file %s: want NNNN_name.sql", e.Name())
		}
		b, err := fs.ReadFile(migrationFiles, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: name, sql: string(b)})
	}
	slices.SortFunc(out, func(a, b migration) int { return a.version - b.version })
	for i, m := range out {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %04d_%s: want version %d (versions count from 1, with no gap)", m.version, m.name, i+1)
		}
	}
	return out, nil
}

// SchemaVersion is the schema version this package writes: that of its
// last migration.
func SchemaVersion() int {
	ms, err := migrations(sqliteDialect)
	if err != nil || len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].version
}

// migrate brings the store's schema to the last migration's version, one
// migration per transaction. Each transaction takes the lock first (in
// SQLite, BEGIN IMMEDIATE: the database's write lock; in PostgreSQL, a
// transaction advisory lock), then creates the version table if it is
// missing and reads the version again: a process that waited on the lock
// while another migrated finds the work done and does nothing.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := migrations(s.dialect)
	if err != nil {
		return err
	}
	for _, m := range ms {
		if err := s.apply(ctx, m, ms[len(ms)-1].version); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) apply(ctx context.Context, m migration, latest int) (err error) {
	tx, err := s.db.BeginTx(ctx, nil) // BEGIN IMMEDIATE in SQLite (_txlock)
	if err != nil {
		return fmt.Errorf("migration %d: %w", m.version, err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if s.dialect == postgresDialect {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", migrationsLock); err != nil {
			return fmt.Errorf("migration %d: lock: %w", m.version, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
		version        INTEGER NOT NULL,
		applied_at_ns  BIGINT  NOT NULL
	)`); err != nil {
		return fmt.Errorf("migration %d: version table: %w", m.version, err)
	}
	var have int
	switch err := tx.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_version").Scan(&have); {
	case err != nil:
		return fmt.Errorf("read the schema version: %w", err)
	case have > latest:
		return fmt.Errorf("schema version %d is newer than this rustci-perf knows (%d): use a later rustci-perf", have, latest)
	case have >= m.version:
		return tx.Rollback()
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return fmt.Errorf("migration %04d_%s: %w", m.version, m.name, err)
	}
	if _, err := tx.ExecContext(ctx, s.rebind("INSERT INTO schema_version (version, applied_at_ns) VALUES (?, ?)"), m.version, time.Now().UnixNano()); err != nil {
		return fmt.Errorf("migration %d: record the version: %w", m.version, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migration %04d_%s: commit: %w", m.version, m.name, err)
	}
	return nil
}

// Version returns the store's schema version.
func (s *Store) Version(ctx context.Context) (int, error) {
	var v int
	if err := s.db.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_version").Scan(&v); err != nil {
		return 0, s.wrap(err, "read the schema version")
	}
	return v, nil
}

// pgxConfig parses a postgres:// URL, with a connect timeout unless it
// sets one (connect_timeout=N).
func pgxConfig(dsn string) (*pgx.ConnConfig, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = openTimeout
	}
	return cfg, nil
}
