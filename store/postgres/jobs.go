package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/store"
)

var (
	_ store.Jobs   = (*tx)(nil)
	_ store.Blocks = (*tx)(nil)
)

// liveStates are River's job states in which a job may still run.
const liveStates = `('available', 'pending', 'retryable', 'running', 'scheduled')`

func (t *tx) ReclaimJobs(ctx context.Context, queue string) (int, error) {
	tag, err := t.tx.Exec(ctx, `UPDATE river_job SET state = 'available' WHERE state = 'running' AND queue = $1`, queue)
	if err != nil {
		return 0, fmt.Errorf("reclaim the running jobs of queue %s: %w", queue, err)
	}
	return int(tag.RowsAffected()), nil
}

func (t *tx) LiveJobs(ctx context.Context, queue string) (int, error) {
	var n int
	err := t.tx.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE queue = $1 AND state IN `+liveStates, queue).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count the live jobs of queue %s: %w", queue, err)
	}
	return n, nil
}

func (t *tx) SetRunRowJob(ctx context.Context, runID string, line int, jobID int64) error {
	var id *int64
	if jobID != 0 {
		id = &jobID
	}
	ok, err := changed(t.tx.Exec(ctx, `UPDATE run_rows SET job_id = $1 WHERE run_id = $2 AND line = $3`, id, runID, line))
	if err != nil {
		return fmt.Errorf("record the job of line %d of run %s: %w", line, runID, err)
	}
	if !ok {
		return foyer.Errorf(foyer.ENOTFOUND, "run %s has no line %d", runID, line)
	}
	return nil
}

func (t *tx) RunRowJob(ctx context.Context, runID string, line int) (int64, error) {
	var id *int64
	err := t.tx.QueryRow(ctx, `SELECT job_id FROM run_rows WHERE run_id = $1 AND line = $2`, runID, line).Scan(&id)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return 0, foyer.Errorf(foyer.ENOTFOUND, "run %s has no line %d", runID, line)
	case err != nil:
		return 0, fmt.Errorf("read the job of line %d of run %s: %w", line, runID, err)
	case id == nil:
		return 0, nil
	}
	return *id, nil
}

func (t *tx) UnqueuedRunRows(ctx context.Context, runID string, after, limit int) ([]foyer.Row, error) {
	if err := t.runExists(ctx, runID); err != nil {
		return nil, err
	}
	rows, err := t.tx.Query(ctx, `SELECT `+runRowColumns+` FROM run_rows r
		LEFT JOIN river_job j ON j.id = r.job_id
		WHERE r.run_id = $1 AND r.line > $2 AND r.result = '' AND r.action IN ('invite', 'exists')
		AND (j.id IS NULL OR j.state::text NOT IN `+liveStates+`)
		ORDER BY r.line LIMIT $3`, runID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("read the rows of run %s to enqueue: %w", runID, err)
	}
	page, err := scanRunRows(rows)
	if err != nil {
		return nil, fmt.Errorf("read the rows of run %s to enqueue: %w", runID, err)
	}
	return page, nil
}

func (t *tx) PutBlock(ctx context.Context, b store.Block) error {
	if b.Tenant == "" {
		return foyer.Errorf(foyer.EINVALID, "a tenant block names no tenant")
	}
	if b.Since.IsZero() {
		b.Since = t.now
	}
	_, err := t.tx.Exec(ctx, `INSERT INTO tenant_blocks (tenant, since, run_id, reason) VALUES ($1, $2, $3, $4)
		ON CONFLICT (tenant) DO NOTHING`, b.Tenant, b.Since.UTC(), b.RunID, b.Reason)
	if err != nil {
		return fmt.Errorf("record the block of tenant %s: %w", b.Tenant, err)
	}
	return nil
}

func (t *tx) TenantBlock(ctx context.Context, tenant string) (store.Block, error) {
	b := store.Block{Tenant: tenant}
	var since time.Time
	err := t.tx.QueryRow(ctx, `SELECT since, run_id, reason FROM tenant_blocks WHERE tenant = $1`, tenant).
		Scan(&since, &b.RunID, &b.Reason)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return b, foyer.Errorf(foyer.ENOTFOUND, "tenant %s is not blocked", tenant)
	case err != nil:
		return b, fmt.Errorf("read the block of tenant %s: %w", tenant, err)
	}
	b.Since = since.UTC()
	return b, nil
}

func (t *tx) ClearBlock(ctx context.Context, tenant string) error {
	ok, err := changed(t.tx.Exec(ctx, `DELETE FROM tenant_blocks WHERE tenant = $1`, tenant))
	if err != nil {
		return fmt.Errorf("clear the block of tenant %s: %w", tenant, err)
	}
	if !ok {
		return foyer.Errorf(foyer.ENOTFOUND, "tenant %s is not blocked", tenant)
	}
	return nil
}

func (t *tx) WakeJobs(ctx context.Context, queue string) (int, error) {
	tag, err := t.tx.Exec(ctx, `UPDATE river_job SET state = 'available', scheduled_at = now()
		WHERE queue = $1 AND state IN ('retryable', 'scheduled')`, queue)
	if err != nil {
		return 0, fmt.Errorf("wake the jobs of queue %s: %w", queue, err)
	}
	return int(tag.RowsAffected()), nil
}

var _ store.Reports = (*tx)(nil)

func (t *tx) OweReport(ctx context.Context, runID string, channels []string) error {
	for _, ch := range channels {
		if _, err := t.tx.Exec(ctx, `INSERT INTO report_deliveries (run_id, channel, state) VALUES ($1, $2, 'owed')
			ON CONFLICT (run_id, channel) DO NOTHING`, runID, ch); err != nil {
			return fmt.Errorf("record the report of run %s as owed through %s: %w", runID, ch, err)
		}
	}
	return nil
}

func (t *tx) RecordDelivery(ctx context.Context, runID, channel, errMsg string) error {
	state, sent := "sent", &t.now
	if errMsg != "" {
		state, sent = "owed", nil
	}
	ok, err := changed(t.tx.Exec(ctx, `UPDATE report_deliveries SET state = $1, attempts = attempts + 1,
		last_error = $2, sent_at = $3 WHERE run_id = $4 AND channel = $5`, state, errMsg, sent, runID, channel))
	if err != nil {
		return fmt.Errorf("record the delivery of run %s's report through %s: %w", runID, channel, err)
	}
	if !ok {
		return foyer.Errorf(foyer.ENOTFOUND, "run %s owes no report through %s", runID, channel)
	}
	return nil
}

func (t *tx) Deliveries(ctx context.Context, runID string) ([]store.Delivery, error) {
	rows, err := t.tx.Query(ctx, `SELECT channel, state, attempts, last_error, sent_at FROM report_deliveries
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
