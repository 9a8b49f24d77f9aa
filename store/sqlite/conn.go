package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/foyer-dev/foyer/store/internal/ledger"
)

// conn is a ledger transaction's *sql.Tx as package ledger uses it. SQLite
// has no time or list types: a time is stored as fixed-width text (see
// timeFormat) and a list as a JSON array, and conn converts arguments and
// scan destinations of those types on their way.
type conn struct {
	tx *sql.Tx
}

var _ ledger.Txn = (*conn)(nil)

func (c *conn) Commit(context.Context) error { return c.tx.Commit() }

func (c *conn) Rollback(context.Context) error {
	if err := c.tx.Rollback(); err != nil && !errors.Is(err, sql.ErrTxDone) {
		return err
	}
	return nil
}

func (c *conn) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := c.tx.ExecContext(ctx, query, encode(args)...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// ExecEach prepares query once and runs it for each args.
func (c *conn) ExecEach(ctx context.Context, query string, args [][]any) (int, error) {
	stmt, err := c.tx.PrepareContext(ctx, query)
	if err != nil {
		return 0, err
	}
	defer stmt.Close()
	for i, a := range args {
		if _, err := stmt.ExecContext(ctx, encode(a)...); err != nil {
			return i, err
		}
	}
	return len(args), nil
}

func (c *conn) Query(ctx context.Context, query string, args ...any) (ledger.Rows, error) {
	rows, err := c.tx.QueryContext(ctx, query, encode(args)...)
	if err != nil {
		return nil, err
	}
	return decodingRows{rows}, nil
}

func (c *conn) QueryRow(ctx context.Context, query string, args ...any) ledger.Row {
	return decodingRow{c.tx.QueryRowContext(ctx, query, encode(args)...)}
}

type decodingRows struct{ *sql.Rows }

func (r decodingRows) Scan(dest ...any) error { return scan(r.Rows.Scan, dest) }

type decodingRow struct{ *sql.Row }

func (r decodingRow) Scan(dest ...any) error { return scan(r.Row.Scan, dest) }

// timeFormat is how times are stored: UTC, fixed width, to the microsecond,
// so that they sort as text and read back as PostgreSQL's timestamptz does.
const timeFormat = "2006-01-02T15:04:05.000000Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeFormat) }

func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(timeFormat, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("read stored time %q: %w", s, err)
	}
	return t, nil
}

// encode returns args with times and lists as SQLite stores them. args is
// copied before the first change: the caller's slice is left alone.
func encode(args []any) []any {
	out, copied := args, false
	for i, a := range args {
		var v any
		switch a := a.(type) {
		case time.Time:
			v = formatTime(a)
		case []string:
			if a == nil {
				a = []string{}
			}
			b, _ := json.Marshal(a) // a []string always encodes
			v = string(b)
		default:
			continue
		}
		if !copied {
			out, copied = slices.Clone(args), true
		}
		out[i] = v
	}
	return out
}

// scan reads a row with read into dest, reading times and lists from the
// text they are stored as.
func scan(read func(...any) error, dest []any) error {
	var (
		dst   = dest
		after []func() error
	)
	// via scans column i into v and then runs f, once read has returned.
	via := func(i int, v any, f func() error) {
		if after == nil {
			dst = slices.Clone(dest)
		}
		dst[i], after = v, append(after, f)
	}
	for i, d := range dest {
		switch d := d.(type) {
		case *time.Time:
			var s string
			via(i, &s, func() (err error) { *d, err = parseTime(s); return err })
		case **time.Time:
			var s sql.NullString
			via(i, &s, func() error {
				if !s.Valid {
					*d = nil
					return nil
				}
				t, err := parseTime(s.String)
				*d = &t
				return err
			})
		case *[]string:
			var s string
			via(i, &s, func() error {
				if err := json.Unmarshal([]byte(s), d); err != nil {
					return fmt.Errorf("read stored list %q: %w", s, err)
				}
				return nil
			})
		}
	}
	if err := read(dst...); err != nil {
		return err
	}
	for _, f := range after {
		if err := f(); err != nil {
			return err
		}
	}
	return nil
}
