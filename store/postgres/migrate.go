package postgres

import (
	"context"
	"embed"
	"fmt"
	"hash/fnv"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/foyer-dev/foyer/store/internal/ledger"
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
	return db.ledger.Migrate(ctx, func(ctx context.Context) (ledger.Txn, error) { return begin(ctx, conn) }, ms)
}
