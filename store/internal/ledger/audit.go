package ledger

import (
	"context"
	"fmt"
	"strings"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/store"
)

var _ store.Audit = (*Tx)(nil)

func (t *Tx) AppendAudit(ctx context.Context, e store.AuditEntry) error {
	if err := e.Check(); err != nil {
		return err
	}
	if e.At.IsZero() {
		e.At = t.now
	}
	if _, err := t.c.Exec(ctx, `INSERT INTO audit (at, kind, actor, run_id, request_id, op,
		target, graph_id, error, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		e.At, string(e.Kind), e.Actor, e.RunID, e.RequestID, e.Op, e.Target, e.GraphID,
		e.Error, e.Detail); err != nil {
		return fmt.Errorf("append audit entry %s %s: %w", e.Kind, e.Op, err)
	}
	return nil
}

func (t *Tx) AuditLog(ctx context.Context, f store.AuditFilter, fn func(store.AuditEntry) error) error {
	if f.Limit < 0 {
		return foyer.Errorf(foyer.EINVALID, "audit limit %d is negative", f.Limit)
	}
	var args params
	where := []string{"seq > " + args.add(f.AfterSeq)} // the first argument: where the next page starts
	if f.RunID != "" {
		where = append(where, "run_id = "+args.add(f.RunID))
	}
	if f.RequestID != "" {
		where = append(where, "request_id = "+args.add(f.RequestID))
	}
	if f.Target != "" {
		where = append(where, "target = "+args.add(f.Target))
	}
	if f.Op != "" {
		where = append(where, "op = "+args.add(f.Op))
	}
	query := `SELECT seq, at, kind, actor, run_id, request_id, op, target, graph_id, error, detail
		FROM audit WHERE ` + strings.Join(where, " AND ") + ` ORDER BY seq LIMIT ` + args.add(0) // the last: the page's size
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

func (t *Tx) auditPage(ctx context.Context, query string, args []any) ([]store.AuditEntry, error) {
	rows, err := t.c.Query(ctx, query, args...)
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
