package postgres

import (
	"context"
	"embed"
	"fmt"
	"hash/fnv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/foyer-dev/foyer/store/internal/migrations"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// lockKey is the advisory lock that serializes migrations of one schema
// across processes.
func lockKey(schema string) int64 {
	h := fnv.New64a()
	h.Write([]byte("foyer migrate " + schema))
	return int64(h.Sum64())
}

// migrate creates the schema if needed and applies River's migrations, then
// foyer's, holding a session advisory lock so that processes starting at
// once take turns; a process that dies releases the lock with its session.
//
// River's go first: they are the older, independent part (foyer's tables
// never reference River's), and a foyer migration may one day need them,
// never the reverse. River's migrator reads its applied versions outside the
// transactions it applies them in, and runs each version in its own
// transaction (some of its PostgreSQL steps cannot share one), which is why
// the lock is a session lock held on a connection of its own rather than a
// transaction lock.
func (db *DB) migrate(ctx context.Context) error {
	ms, err := migrations.Read(migrationFS, "migrations")
	if err != nil {
		return err
	}
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	key := lockKey(db.schema)
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, key); err != nil {
		return fmt.Errorf("take the migration lock: %w", err)
	}
	defer func() {
		if _, err := conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, key); err != nil {
			// Closing the connection ends the session and its lock.
			conn.Hijack().Close(context.WithoutCancel(ctx))
		}
	}()
	if db.schema != "" {
		if _, err := conn.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+pgx.Identifier{db.schema}.Sanitize()); err != nil {
			return fmt.Errorf("create schema %s: %w", db.schema, err)
		}
	}
	migrator, err := rivermigrate.New(riverpgxv5.New(db.pool), &rivermigrate.Config{Logger: db.log, Schema: db.schema})
	if err != nil {
		return fmt.Errorf("prepare River migrations: %w", err)
	}
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("apply River migrations: %w", err)
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS foyer_migrations (
		version    integer PRIMARY KEY,
		name       text NOT NULL,
		applied_at timestamptz NOT NULL
	)`); err != nil {
		return fmt.Errorf("create foyer_migrations: %w", err)
	}
	for _, m := range ms {
		if err := db.apply(ctx, conn, m, len(ms)); err != nil {
			return fmt.Errorf("apply migration %04d_%s: %w", m.Version, m.Name, err)
		}
	}
	return nil
}

// apply applies m in one transaction unless it is recorded as applied. It
// refuses a database already migrated past the newest version this binary
// knows.
func (db *DB) apply(ctx context.Context, conn *pgxpool.Conn, m migrations.Migration, known int) error {
	ptx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer ptx.Rollback(context.WithoutCancel(ctx))
	var newest int
	if err := ptx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM foyer_migrations`).Scan(&newest); err != nil {
		return err
	}
	if newest > known {
		return fmt.Errorf("the database is at ledger version %d, newer than this foyer knows (%d): upgrade foyer", newest, known)
	}
	if newest >= m.Version {
		return nil
	}
	if _, err := ptx.Exec(ctx, m.SQL); err != nil {
		return err
	}
	if _, err := ptx.Exec(ctx, `INSERT INTO foyer_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
		m.Version, m.Name, db.clock.Now().UTC()); err != nil {
		return err
	}
	if err := ptx.Commit(ctx); err != nil {
		return err
	}
	db.log.InfoContext(ctx, "ledger migration applied", "version", m.Version, "name", m.Name)
	return nil
}
