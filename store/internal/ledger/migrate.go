package ledger

import (
	"context"
	"errors"
	"fmt"

	"github.com/foyer-dev/foyer/store/internal/migrations"
)

// Migrate applies the migrations of ms the database does not have yet,
// each in one transaction from begin together with its row in
// foyer_migrations (created first with Dialect.MigrationsTable). It
// refuses a database already migrated past the newest of ms.
func (db *DB) Migrate(ctx context.Context, begin func(context.Context) (Txn, error), ms []migrations.Migration) error {
	err := InPlainTx(ctx, begin, func(c Txn) error {
		_, err := c.Exec(ctx, db.Dialect.MigrationsTable)
		return err
	})
	if err != nil {
		return fmt.Errorf("create foyer_migrations: %w", err)
	}
	for _, m := range ms {
		var applied bool
		err := InPlainTx(ctx, begin, func(c Txn) (err error) {
			applied, err = db.apply(ctx, c, m, len(ms))
			return err
		})
		if err != nil {
			return fmt.Errorf("apply migration %04d_%s: %w", m.Version, m.Name, err)
		}
		if applied {
			db.Log.InfoContext(ctx, "ledger migration applied", "version", m.Version, "name", m.Name)
		}
	}
	return nil
}

// apply applies m in c unless it is recorded as applied.
func (db *DB) apply(ctx context.Context, c Txn, m migrations.Migration, known int) (bool, error) {
	var newest int
	if err := c.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM foyer_migrations`).Scan(&newest); err != nil {
		return false, err
	}
	if newest > known {
		return false, fmt.Errorf("the database is at ledger version %d, newer than this foyer knows (%d): upgrade foyer", newest, known)
	}
	if newest >= m.Version {
		return false, nil
	}
	if _, err := c.Exec(ctx, m.SQL); err != nil {
		return false, err
	}
	_, err := c.Exec(ctx, `INSERT INTO foyer_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
		m.Version, m.Name, db.Clock.Now())
	return err == nil, err
}

// inMigration runs fn in a transaction from begin, committed if fn returns
// nil.
func InPlainTx(ctx context.Context, begin func(context.Context) (Txn, error), fn func(Txn) error) error {
	c, err := begin(ctx)
	if err != nil {
		return err
	}
	if err := fn(c); err != nil {
		return errors.Join(err, c.Rollback(ctx))
	}
	return c.Commit(ctx)
}
