package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

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
	res, err := t.tx.ExecContext(ctx, `UPDATE river_job SET state = 'available' WHERE state = 'running' AND queue = ?`, queue)
	if err != nil {
		return 0, fmt.Errorf("reclaim the running jobs of queue %s: %w", queue, err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

func (t *tx) LiveJobs(ctx context.Context, queue string) (int, error) {
	var n int
	err := t.tx.QueryRowContext(ctx, `SELECT count(*) FROM river_job WHERE queue = ? AND state IN `+liveStates, queue).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count the live jobs of queue %s: %w", queue, err)
	}
	return n, nil
}

func (t *tx) SetRunRowJob(ctx context.Context, runID string, line int, jobID int64) error {
	var id any
	if jobID != 0 {
		id = jobID
	}
	ok, err := changed(t.tx.ExecContext(ctx, `UPDATE run_rows SET job_id = ? WHERE run_id = ? AND line = ?`, id, runID, line))
	if err != nil {
		return fmt.Errorf("record the job of line %d of run %s: %w", line, runID, err)
	}
	if !ok {
		return foyer.Errorf(foyer.ENOTFOUND, "run %s has no line %d", runID, line)
	}
	return nil
}

func (t *tx) RunRowJob(ctx context.Context, runID string, line int) (int64, error) {
	var id sql.NullInt64
	err := t.tx.QueryRowContext(ctx, `SELECT job_id FROM run_rows WHERE run_id = ? AND line = ?`, runID, line).Scan(&id)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, foyer.Errorf(foyer.ENOTFOUND, "run %s has no line %d", runID, line)
	case err != nil:
		return 0, fmt.Errorf("read the job of line %d of run %s: %w", line, runID, err)
	}
	return id.Int64, nil
}

func (t *tx) UnqueuedRunRows(ctx context.Context, runID string, after, limit int) ([]foyer.Row, error) {
	if err := t.runExists(ctx, runID); err != nil {
		return nil, err
	}
	rows, err := t.tx.QueryContext(ctx, `SELECT `+runRowColumns+` FROM run_rows r
		LEFT JOIN river_job j ON j.id = r.job_id
		WHERE r.run_id = ? AND r.line > ? AND r.result = '' AND r.action IN ('invite', 'exists')
		AND (j.id IS NULL OR j.state NOT IN `+liveStates+`)
		ORDER BY r.line LIMIT ?`, runID, after, limit)
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
	_, err := t.tx.ExecContext(ctx, `INSERT INTO tenant_blocks (tenant, since, run_id, reason) VALUES (?, ?, ?, ?)
		ON CONFLICT (tenant) DO NOTHING`, b.Tenant, formatTime(b.Since), b.RunID, b.Reason)
	if err != nil {
		return fmt.Errorf("record the block of tenant %s: %w", b.Tenant, err)
	}
	return nil
}

func (t *tx) TenantBlock(ctx context.Context, tenant string) (store.Block, error) {
	b := store.Block{Tenant: tenant}
	var since string
	err := t.tx.QueryRowContext(ctx, `SELECT since, run_id, reason FROM tenant_blocks WHERE tenant = ?`, tenant).
		Scan(&since, &b.RunID, &b.Reason)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return b, foyer.Errorf(foyer.ENOTFOUND, "tenant %s is not blocked", tenant)
	case err != nil:
		return b, fmt.Errorf("read the block of tenant %s: %w", tenant, err)
	}
	if b.Since, err = parseTime(since); err != nil {
		return b, fmt.Errorf("read the block of tenant %s: %w", tenant, err)
	}
	return b, nil
}

func (t *tx) ClearBlock(ctx context.Context, tenant string) error {
	ok, err := changed(t.tx.ExecContext(ctx, `DELETE FROM tenant_blocks WHERE tenant = ?`, tenant))
	if err != nil {
		return fmt.Errorf("clear the block of tenant %s: %w", tenant, err)
	}
	if !ok {
		return foyer.Errorf(foyer.ENOTFOUND, "tenant %s is not blocked", tenant)
	}
	return nil
}

func (t *tx) WakeJobs(ctx context.Context, queue string) (int, error) {
	// River's SQLite driver compares scheduled_at with datetime('now', 'subsec').
	res, err := t.tx.ExecContext(ctx, `UPDATE river_job SET state = 'available', scheduled_at = datetime('now', 'subsec')
		WHERE queue = ? AND state IN ('retryable', 'scheduled')`, queue)
	if err != nil {
		return 0, fmt.Errorf("wake the jobs of queue %s: %w", queue, err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

var _ store.Reports = (*tx)(nil)

func (t *tx) OweReport(ctx context.Context, runID string, channels []string) error {
	for _, ch := range channels {
		if _, err := t.tx.ExecContext(ctx, `INSERT INTO report_deliveries (run_id, channel, state) VALUES (?, ?, 'owed')
			ON CONFLICT (run_id, channel) DO NOTHING`, runID, ch); err != nil {
			return fmt.Errorf("record the report of run %s as owed through %s: %w", runID, ch, err)
		}
	}
	return nil
}

func (t *tx) RecordDelivery(ctx context.Context, runID, channel, errMsg string) error {
	state, sent := "sent", any(formatTime(t.now))
	if errMsg != "" {
		state, sent = "owed", nil
	}
	ok, err := changed(t.tx.ExecContext(ctx, `UPDATE report_deliveries SET state = ?, attempts = attempts + 1,
		last_error = ?, sent_at = ? WHERE run_id = ? AND channel = ?`, state, errMsg, sent, runID, channel))
	if err != nil {
		return fmt.Errorf("record the delivery of run %s's report through %s: %w", runID, channel, err)
	}
	if !ok {
		return foyer.Errorf(foyer.ENOTFOUND, "run %s owes no report through %s", runID, channel)
	}
	return nil
}

func (t *tx) Deliveries(ctx context.Context, runID string) ([]store.Delivery, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT channel, state, attempts, last_error, sent_at FROM report_deliveries
		WHERE run_id = ? ORDER BY channel`, runID)
	if err != nil {
		return nil, fmt.Errorf("read the report deliveries of run %s: %w", runID, err)
	}
	defer rows.Close()
	var ds []store.Delivery
	for rows.Next() {
		d := store.Delivery{RunID: runID}
		var (
			state string
			sent  sql.NullString
		)
		if err := rows.Scan(&d.Channel, &state, &d.Attempts, &d.LastError, &sent); err != nil {
			return nil, fmt.Errorf("read the report deliveries of run %s: %w", runID, err)
		}
		d.Sent = state == "sent"
		if d.SentAt, err = parseNullTime(sent); err != nil {
			return nil, err
		}
		ds = append(ds, d)
	}
	return ds, rows.Err()
}
