package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/store"
)

var (
	_ store.Blocks  = (*Tx)(nil)
	_ store.Reports = (*Tx)(nil)
)

func (t *Tx) PutBlock(ctx context.Context, b store.Block) error {
	if b.Tenant == "" {
		return foyer.Errorf(foyer.EINVALID, "a tenant block names no tenant")
	}
	if b.Since.IsZero() {
		b.Since = t.now
	}
	_, err := t.c.Exec(ctx, `INSERT INTO tenant_blocks (tenant, since, run_id, reason) VALUES ($1, $2, $3, $4)
		ON CONFLICT (tenant) DO NOTHING`, b.Tenant, b.Since, b.RunID, b.Reason)
	if err != nil {
		return fmt.Errorf("record the block of tenant %s: %w", b.Tenant, err)
	}
	return nil
}

func (t *Tx) TenantBlock(ctx context.Context, tenant string) (store.Block, error) {
	b := store.Block{Tenant: tenant}
	err := t.c.QueryRow(ctx, `SELECT since, run_id, reason FROM tenant_blocks WHERE tenant = $1`, tenant).
		Scan(&b.Since, &b.RunID, &b.Reason)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return b, foyer.Errorf(foyer.ENOTFOUND, "tenant %s is not blocked", tenant)
	case err != nil:
		return b, fmt.Errorf("read the block of tenant %s: %w", tenant, err)
	}
	b.Since = b.Since.UTC()
	return b, nil
}

func (t *Tx) ClearBlock(ctx context.Context, tenant string) error {
	n, err := t.c.Exec(ctx, `DELETE FROM tenant_blocks WHERE tenant = $1`, tenant)
	if err != nil {
		return fmt.Errorf("clear the block of tenant %s: %w", tenant, err)
	}
	if n == 0 {
		return foyer.Errorf(foyer.ENOTFOUND, "tenant %s is not blocked", tenant)
	}
	return nil
}

func (t *Tx) OweReport(ctx context.Context, runID string, channels []string) error {
	for _, ch := range channels {
		if _, err := t.c.Exec(ctx, `INSERT INTO report_deliveries (run_id, channel, state) VALUES ($1, $2, 'owed')
			ON CONFLICT (run_id, channel) DO NOTHING`, runID, ch); err != nil {
			return fmt.Errorf("record the report of run %s as owed through %s: %w", runID, ch, err)
		}
	}
	return nil
}

func (t *Tx) RecordDelivery(ctx context.Context, runID, channel, errMsg string) error {
	state, sent := "sent", t.now
	if errMsg != "" {
		state, sent = "owed", time.Time{}
	}
	n, err := t.c.Exec(ctx, `UPDATE report_deliveries SET state = $1, attempts = attempts + 1,
		last_error = $2, sent_at = $3 WHERE run_id = $4 AND channel = $5`, state, errMsg, nullTime(sent), runID, channel)
	if err != nil {
		return fmt.Errorf("record the delivery of run %s's report through %s: %w", runID, channel, err)
	}
	if n == 0 {
		return foyer.Errorf(foyer.ENOTFOUND, "run %s owes no report through %s", runID, channel)
	}
	return nil
}

func (t *Tx) Deliveries(ctx context.Context, runID string) ([]store.Delivery, error) {
	rows, err := t.c.Query(ctx, `SELECT channel, state, attempts, last_error, sent_at FROM report_deliveries
		WHERE run_id = $1 ORDER BY channel`, runID)
	if err != nil {
		return nil, fmt.Errorf("read the report deliveries of run %s: %w", runID, err)
	}
	defer rows.Close()
	var ds []store.Delivery
	for rows.Next() {
		d := store.Delivery{RunID: runID}
		var (
			state string
			sent  *time.Time
		)
		if err := rows.Scan(&d.Channel, &state, &d.Attempts, &d.LastError, &sent); err != nil {
			return nil, fmt.Errorf("read the report deliveries of run %s: %w", runID, err)
		}
		d.Sent, d.SentAt = state == "sent", readTime(sent)
		ds = append(ds, d)
	}
	return ds, rows.Err()
}
