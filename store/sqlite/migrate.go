package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"

	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/foyer-dev/foyer/store/internal/migrations"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migrate applies River's migrations, then foyer's.
//
// River's go first: they are the older, independent part (foyer's tables
// never reference River's), and a foyer migration may one day need them
// (an index or view over river_job), never the reverse.
//
// Two processes may open the same file at once. Every transaction here is
// BEGIN IMMEDIATE (see dsn), which takes SQLite's write lock before reading
// which versions are applied, so the second process waits on the busy timeout
// and then finds the work done. River's migrator reads its versions outside
// of the transaction it applies them in, so it is run through MigrateTx
// inside one of ours.
func (db *DB) migrate(ctx context.Context) error {
	ms, err := migrations.Read(migrationFS, "migrations")
	if err != nil {
		return err
	}
	if err := db.migrateRiver(ctx); err != nil {
		return err
	}
	if err := db.exec(ctx, func(stx *sql.Tx) error {
		_, err := stx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS foyer_migrations (
			version    INTEGER PRIMARY KEY,
			name       TEXT NOT NULL,
			applied_at TEXT NOT NULL
		)`)
		return err
	}); err != nil {
		return fmt.Errorf("create foyer_migrations: %w", err)
	}
	for _, m := range ms {
		if err := db.exec(ctx, func(stx *sql.Tx) error { return db.apply(ctx, stx, m, len(ms)) }); err != nil {
			return fmt.Errorf("apply migration %04d_%s: %w", m.Version, m.Name, err)
		}
	}
	return nil
}

// apply applies m in stx unless it is recorded as applied. It refuses a
// database already migrated past the newest version this binary knows.
func (db *DB) apply(ctx context.Context, stx *sql.Tx, m migrations.Migration, known int) error {
	var newest int
	if err := stx.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM foyer_migrations`).Scan(&newest); err != nil {
		return err
	}
	if newest > known {
		return fmt.Errorf("the database is at ledger version %d, newer than this foyer knows (%d): upgrade foyer", newest, known)
	}
	if newest >= m.Version {
		return nil
	}
	if _, err := stx.ExecContext(ctx, m.SQL); err != nil {
		return err
	}
	_, err := stx.ExecContext(ctx, `INSERT INTO foyer_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
		m.Version, m.Name, formatTime(db.clock.Now()))
	if err == nil {
		db.log.InfoContext(ctx, "ledger migration applied", "version", m.Version, "name", m.Name)
	}
	return err
}

func (db *DB) migrateRiver(ctx context.Context) error {
	migrator, err := rivermigrate.New(riversqlite.New(db.sql), &rivermigrate.Config{Logger: db.log})
	if err != nil {
		return fmt.Errorf("prepare River migrations: %w", err)
	}
	err = db.exec(ctx, func(stx *sql.Tx) error {
		// MigrateTx is deprecated because some PostgreSQL migrations cannot
		// share a transaction; SQLite's DDL is transactional and River's
		// SQLite migrations have no such step.
		_, err := migrator.MigrateTx(ctx, stx, rivermigrate.DirectionUp, nil) //nolint:staticcheck // see above
		return err
	})
	if err != nil {
		return fmt.Errorf("apply River migrations: %w", err)
	}
	return nil
}

// exec runs fn in a plain transaction, for migrations.
func (db *DB) exec(ctx context.Context, fn func(*sql.Tx) error) error {
	stx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(stx); err != nil {
		return errors.Join(err, ignoreDone(stx.Rollback()))
	}
	return stx.Commit()
}

func ignoreDone(err error) error {
	if errors.Is(err, sql.ErrTxDone) {
		return nil
	}
	return err
}
