package ledger

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/store"
)

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

// Tx is one ledger transaction; it implements store.Tx.
type Tx struct {
	db  *DB
	c   Txn
	now time.Time
}

var _ store.Tx = (*Tx)(nil)

// Now returns the transaction's time.
func (t *Tx) Now() time.Time { return t.now }

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
