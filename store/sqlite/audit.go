package sqlite

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
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO audit (at, kind, actor, run_id, request_id, op,
		target, graph_id, error, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		formatTime(e.At), string(e.Kind), e.Actor, e.RunID, e.RequestID, e.Op, e.Target, e.GraphID,
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
		where = []string{"seq > ?"}
		args  []any
	)
	if f.RunID != "" {
		where, args = append(where, "run_id = ?"), append(args, f.RunID)
	}
	if f.RequestID != "" {
		where, args = append(where, "request_id = ?"), append(args, f.RequestID)
	}
	query := `SELECT seq, at, kind, actor, run_id, request_id, op, target, graph_id, error, detail
		FROM audit WHERE ` + strings.Join(where, " AND ") + ` ORDER BY seq LIMIT ?`
	after, left := f.AfterSeq, f.Limit
	for {
		n := pageSize
		if f.Limit > 0 {
			n = min(n, left)
		}
		page, err := t.auditPage(ctx, query, append([]any{after}, append(args, n)...))
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
		after = page[len(page)-1].Seq
	}
}

func (t *tx) auditPage(ctx context.Context, query string, args []any) ([]store.AuditEntry, error) {
	rows, err := t.tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var page []store.AuditEntry
	for rows.Next() {
		var (
			e        store.AuditEntry
			at, kind string
		)
		if err := rows.Scan(&e.Seq, &at, &kind, &e.Actor, &e.RunID, &e.RequestID, &e.Op, &e.Target,
			&e.GraphID, &e.Error, &e.Detail); err != nil {
			return nil, err
		}
		e.Kind = store.AuditKind(kind)
		if e.At, err = parseTime(at); err != nil {
			return nil, err
		}
		page = append(page, e)
	}
	return page, rows.Err()
}
