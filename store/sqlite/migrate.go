package sqlite

import (
	"context"
	"embed"
	"fmt"

	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/foyer-dev/foyer/store/internal/ledger"
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
	return db.ledger.Migrate(ctx, db.begin, ms)
}

func (db *DB) migrateRiver(ctx context.Context) error {
	migrator, err := rivermigrate.New(riversqlite.New(db.sql), &rivermigrate.Config{Logger: db.log})
	if err != nil {
		return fmt.Errorf("prepare River migrations: %w", err)
	}
	err = ledger.InPlainTx(ctx, db.begin, func(c ledger.Txn) error {
		// MigrateTx is deprecated because some PostgreSQL migrations cannot
		// share a transaction; SQLite's DDL is transactional and River's
		// SQLite migrations have no such step.
		_, err := migrator.MigrateTx(ctx, c.(*conn).tx, rivermigrate.DirectionUp, nil) //nolint:staticcheck // see above
		return err
	})
	if err != nil {
		return fmt.Errorf("apply River migrations: %w", err)
	}
	return nil
}
