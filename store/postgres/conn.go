package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/foyer-dev/foyer/store/internal/ledger"
)

// conn is a ledger transaction's pgx.Tx as package ledger uses it. pgx
// stores times as timestamptz, lists as text[] and booleans as boolean
// without help, so values pass through as they are.
type conn struct {
	tx pgx.Tx
}

var _ ledger.Txn = (*conn)(nil)

// beginner is a pool or one of its connections.
type beginner interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

// begin starts a transaction at the database's default isolation level,
// READ COMMITTED unless it was changed.
func begin(ctx context.Context, b beginner) (ledger.Txn, error) {
	ptx, err := b.Begin(ctx)
	if err != nil {
		return nil, err
	}
	return &conn{tx: ptx}, nil
}

func (c *conn) Commit(ctx context.Context) error { return c.tx.Commit(ctx) }

// Rollback rolls back even if ctx has ended.
func (c *conn) Rollback(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := c.tx.Rollback(ctx); err != nil && !errors.Is(err, pgx.ErrTxClosed) {
		return err
	}
	return nil
}

func (c *conn) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	tag, err := c.tx.Exec(ctx, query, args...)
	return tag.RowsAffected(), err
}

// ExecEach sends the statements in one batch, one round trip.
func (c *conn) ExecEach(ctx context.Context, query string, args [][]any) (done int, err error) {
	var b pgx.Batch
	for _, a := range args {
		b.Queue(query, a...)
	}
	res := c.tx.SendBatch(ctx, &b)
	defer func() {
		if cerr := res.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	for i := range args {
		if _, err := res.Exec(); err != nil {
			return i, err
		}
	}
	return len(args), nil
}

func (c *conn) Query(ctx context.Context, query string, args ...any) (ledger.Rows, error) {
	rows, err := c.tx.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return closingRows{rows}, nil
}

func (c *conn) QueryRow(ctx context.Context, query string, args ...any) ledger.Row {
	return c.tx.QueryRow(ctx, query, args...)
}

// closingRows are pgx's rows with the Close of ledger.Rows (pgx reports
// what ended them in Err only).
type closingRows struct{ pgx.Rows }

func (r closingRows) Close() error {
	r.Rows.Close()
	return nil
}
