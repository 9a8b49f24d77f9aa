package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/store"
)

var _ store.Audit = (*tx)(nil)

func (t *tx) AppendAudit(ctx context.Context, e store.AuditEntry) error {
	if err := e.Check(); err != nil {
		return err
	}
	if e.At.IsZero() {
		e.At = t.now
	}
	if _, err := t.tx.Exec(ctx, `INSERT INTO audit (at, kind, actor, run_id, request_id, op,
		target, graph_id, error, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		e.At.UTC(), string(e.Kind), e.Actor, e.RunID, e.RequestID, e.Op, e.Target, e.GraphID,
		e.Error, e.Detail); err != nil {
		return fmt.Errorf("append audit entry %s %s: %w", e.Kind, e.Op, err)
	}
	return nil
}

func (t *tx) AuditLog(ctx context.Context, f store.AuditFilter, fn func(store.AuditEntry) error) error {
	if f.Limit < 0 {
		return foyer.Errorf(foyer.EINVALID, "audit limit %d is negative", f.Limit)
	}
	var (
		where = []string{"seq > $1"}
		args  = []any{f.AfterSeq}
	)
	if f.RunID != "" {
		args = append(args, f.RunID)
		where = append(where, fmt.Sprintf("run_id = $%d", len(args)))
	}
	if f.RequestID != "" {
		args = append(args, f.RequestID)
		where = append(where, fmt.Sprintf("request_id = $%d", len(args)))
	}
	args = append(args, 0) // the limit
	query := `SELECT seq, at, kind, actor, run_id, request_id, op, target, graph_id, error, detail
		FROM audit WHERE ` + strings.Join(where, " AND ") + fmt.Sprintf(` ORDER BY seq LIMIT $%d`, len(args))
	left := f.Limit
	for {
		n := pageSize
		if f.Limit > 0 {
			n = min(n, left)
		}
		args[len(args)-1] = n
		page, err := t.auditPage(ctx, query, args)
		if err != nil {
			return fmt.Errorf("read audit log: %w", err)
		}
		for _, e := range page {
			if err := fn(e); err != nil {
				return err
			}
		}
		left -= len(page)
		if len(page) < n || (f.Limit > 0 && left == 0) {
			return nil
		}
		args[0] = page[len(page)-1].Seq
	}
}

func (t *tx) auditPage(ctx context.Context, query string, args []any) ([]store.AuditEntry, error) {
	rows, err := t.tx.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var page []store.AuditEntry
	for rows.Next() {
		var (
			e    store.AuditEntry
			kind string
		)
		if err := rows.Scan(&e.Seq, &e.At, &kind, &e.Actor, &e.RunID, &e.RequestID, &e.Op, &e.Target,
			&e.GraphID, &e.Error, &e.Detail); err != nil {
			return nil, err
		}
		e.Kind, e.At = store.AuditKind(kind), e.At.UTC()
		page = append(page, e)
	}
	return page, rows.Err()
}
