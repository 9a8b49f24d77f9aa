package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/store"
)

var _ store.Extensions = (*Tx)(nil)

const extensionColumns = `id, request_id, until, justification, asked_by, state, stage, stage_due, escalated,
	decided_by, note, created_at, updated_at`

func scanExtension(row scanner) (*foyer.Extension, error) {
	var (
		x        foyer.Extension
		state    string
		stageDue *time.Time
	)
	if err := row.Scan(&x.ID, &x.RequestID, &x.Until, &x.Justification, &x.AskedBy, &state, &x.Stage, &stageDue,
		&x.Escalated, &x.DecidedBy, &x.Note, &x.CreatedAt, &x.UpdatedAt); err != nil {
		return nil, err
	}
	x.State, x.StageDue = foyer.ExtensionState(state), readTime(stageDue)
	x.Until, x.CreatedAt, x.UpdatedAt = x.Until.UTC(), x.CreatedAt.UTC(), x.UpdatedAt.UTC()
	return &x, nil
}

func (t *Tx) CreateExtension(ctx context.Context, x *foyer.Extension) error {
	if err := x.Check(); err != nil {
		return err
	}
	if x.State == foyer.ExtensionPending {
		// The index refuses a second pending one too; asking first names it.
		var other string
		err := t.c.QueryRow(ctx, `SELECT id FROM extensions WHERE request_id = $1 AND state = $2`+t.db.Dialect.LockRow,
			x.RequestID, string(foyer.ExtensionPending)).Scan(&other)
		switch {
		case err == nil:
			return foyer.Errorf(foyer.ECONFLICT, "request %s has a pending extension already (%s)", x.RequestID, other)
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("create extension %s of request %s: %w", x.ID, x.RequestID, err)
		}
	}
	_, err := t.c.Exec(ctx, `INSERT INTO extensions (`+extensionColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)`,
		x.ID, x.RequestID, x.Until.UTC(), x.Justification, x.AskedBy, string(x.State), x.Stage, nullTime(x.StageDue),
		x.Escalated, x.DecidedBy, x.Note, t.now)
	if err != nil {
		return fmt.Errorf("create extension %s of request %s: %w", x.ID, x.RequestID, err)
	}
	x.CreatedAt, x.UpdatedAt = t.now, t.now
	return nil
}

func (t *Tx) Extension(ctx context.Context, id string) (*foyer.Extension, error) {
	x, err := scanExtension(t.c.QueryRow(ctx, `SELECT `+extensionColumns+` FROM extensions WHERE id = $1`, id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, foyer.Errorf(foyer.ENOTFOUND, "no extension %s", id)
	case err != nil:
		return nil, fmt.Errorf("read extension %s: %w", id, err)
	}
	return x, nil
}

func (t *Tx) Extensions(ctx context.Context, f store.ExtensionFilter, fn func(*foyer.Extension) error) error {
	var (
		args  params
		where = []string{"true"}
	)
	if f.RequestID != "" {
		where = append(where, "request_id = "+args.add(f.RequestID))
	}
	if len(f.States) > 0 {
		states := make([]string, len(f.States))
		for i, s := range f.States {
			if !s.Valid() {
				return foyer.Errorf(foyer.EINVALID, "unknown extension state %q", s)
			}
			states[i] = args.add(string(s))
		}
		where = append(where, "state IN ("+strings.Join(states, ", ")+")")
	}
	// The last two arguments: where the next page starts, and its size.
	where = append(where, "seq > "+args.add(int64(0)))
	query := `SELECT seq, ` + extensionColumns + ` FROM extensions WHERE ` + strings.Join(where, " AND ") +
		` ORDER BY seq LIMIT ` + args.add(pageSize)
	for {
		page, last, err := t.extensionsPage(ctx, query, args)
		if err != nil {
			return fmt.Errorf("list extensions: %w", err)
		}
		for _, x := range page {
			if err := fn(x); err != nil {
				return err
			}
		}
		if len(page) < pageSize {
			return nil
		}
		args[len(args)-2] = last
	}
}

func (t *Tx) extensionsPage(ctx context.Context, query string, args []any) ([]*foyer.Extension, int64, error) {
	rows, err := t.c.Query(ctx, query, args...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var (
		page []*foyer.Extension
		seq  int64
	)
	for rows.Next() {
		x, err := scanExtension(seqScanner{rows, &seq})
		if err != nil {
			return nil, 0, err
		}
		page = append(page, x)
	}
	return page, seq, rows.Err()
}

func (t *Tx) MoveExtension(ctx context.Context, x *foyer.Extension, from foyer.ExtensionState) error {
	if err := x.Check(); err != nil {
		return err
	}
	if from != foyer.ExtensionPending {
		return foyer.Errorf(foyer.ECONFLICT, "extension %s is %s: it moves no more", x.ID, from)
	}
	n, err := t.c.Exec(ctx, `UPDATE extensions SET state = $1, stage = $2, stage_due = $3, escalated = $4, decided_by = $5,
		note = $6, updated_at = $7 WHERE id = $8 AND state = $9`,
		string(x.State), x.Stage, nullTime(x.StageDue), x.Escalated, x.DecidedBy, x.Note, t.now, x.ID, string(from))
	if err != nil {
		return fmt.Errorf("move extension %s to %s: %w", x.ID, x.State, err)
	}
	if n == 0 {
		cur, err := t.Extension(ctx, x.ID)
		if err != nil {
			return err
		}
		return foyer.Errorf(foyer.ECONFLICT, "extension %s is %s, not %s", x.ID, cur.State, from)
	}
	x.UpdatedAt = t.now
	return nil
}
