package ledger

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/store"
	"github.com/foyer-dev/foyer/store/internal/migrations"
)

// Txn is a backend's open transaction.
type Txn interface {
	Conn
	Commit(ctx context.Context) error
	// Rollback ends the transaction without its changes, even once ctx
	// has ended. A transaction already ended is no error.
	Rollback(ctx context.Context) error
}

// Retry says which failed transactions InTx runs again.
type Retry struct {
	If       func(error) bool // whether a failure may pass if run again
	Why      string           // what such a failure means, for the log
	Attempts int              // how many runs at most, the first included
	Pause    time.Duration    // the wait before run n+1 is n times Pause
}

// DB is a backend's database as the ledger runs transactions on it. The
// backend fills every field.
type DB struct {
	Where   string // the database, for messages; never a password
	Dialect Dialect
	Clock   foyer.Clock
	Log     *slog.Logger
	Begin   func(context.Context) (Txn, error)
	Retry   Retry
}

// InTx runs fn in one transaction, committed if fn returns nil and rolled
// back otherwise, and runs it again (up to Retry.Attempts in all) while it
// fails in a way Retry.If accepts.
func (db *DB) InTx(ctx context.Context, fn func(store.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := db.inTx(ctx, fn)
		if err == nil || attempt >= db.Retry.Attempts || !db.Retry.If(err) {
			return err
		}
		db.Log.WarnContext(ctx, "ledger transaction retried: "+db.Retry.Why, "attempt", attempt, "err", err)
		if err := pause(ctx, time.Duration(attempt)*db.Retry.Pause); err != nil {
			return err
		}
	}
}

func (db *DB) inTx(ctx context.Context, fn func(store.Tx) error) (err error) {
	c, err := db.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin ledger transaction: %w", err)
	}
	defer func() {
		if err != nil {
			if rerr := c.Rollback(ctx); rerr != nil {
				err = errors.Join(err, fmt.Errorf("roll back ledger transaction: %w", rerr))
			}
		}
	}()
	t := &Tx{db: db, c: c, now: db.Clock.Now().UTC().Truncate(time.Microsecond)}
	if err := fn(t); err != nil {
		return err
	}
	if err := c.Commit(ctx); err != nil {
		return fmt.Errorf("commit ledger transaction: %w", err)
	}
	return nil
}

// pause waits d or until ctx ends.
func pause(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Own returns the backend's transaction inside t, which must come from
// db's InTx: a job inserted in another ledger's transaction would land in
// a database that transaction does not cover.
func Own[T Txn](db *DB, t store.Tx) (T, error) {
	var none T
	x, ok := t.(*Tx)
	if !ok {
		return none, fmt.Errorf("%T is not a transaction of a SQL ledger", t)
	}
	if x.db != db {
		return none, fmt.Errorf("the transaction belongs to another ledger (%s)", x.db.Where)
	}
	c, ok := x.c.(T)
	if !ok {
		return none, fmt.Errorf("the transaction is a %T, not a %T", x.c, none)
	}
	return c, nil
}

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
