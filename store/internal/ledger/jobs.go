package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/store"
)

var _ store.Jobs = (*Tx)(nil)

// liveStates are River's job states in which a job may still run.
const liveStates = `('available', 'pending', 'retryable', 'running', 'scheduled')`

func (t *Tx) ReclaimJobs(ctx context.Context, queue string) (int, error) {
	n, err := t.c.Exec(ctx, `UPDATE river_job SET state = 'available' WHERE state = 'running' AND queue = $1`, queue)
	if err != nil {
		return 0, fmt.Errorf("reclaim the running jobs of queue %s: %w", queue, err)
	}
	return int(n), nil
}

func (t *Tx) ReclaimJobsOf(ctx context.Context, client string) (int, error) {
	if client == "" {
		return 0, foyer.Errorf(foyer.EINVALID, "reclaim jobs: the client is empty")
	}
	n, err := t.c.Exec(ctx, `UPDATE river_job SET state = 'available' WHERE state = 'running' AND `+
		t.db.Dialect.LastAttemptBy+` = $1`, client)
	if err != nil {
		return 0, fmt.Errorf("reclaim the running jobs of %s: %w", client, err)
	}
	return int(n), nil
}

func (t *Tx) LiveJobs(ctx context.Context, queue string) (int, error) {
	var n int
	err := t.c.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE queue = $1 AND state IN `+liveStates, queue).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count the live jobs of queue %s: %w", queue, err)
	}
	return n, nil
}

func (t *Tx) WakeJobs(ctx context.Context, queue string) (int, error) {
	n, err := t.c.Exec(ctx, `UPDATE river_job SET state = 'available', scheduled_at = `+t.db.Dialect.RiverNow+`
		WHERE queue = $1 AND state IN ('retryable', 'scheduled')`, queue)
	if err != nil {
		return 0, fmt.Errorf("wake the jobs of queue %s: %w", queue, err)
	}
	return int(n), nil
}

func (t *Tx) SetRunRowJob(ctx context.Context, runID string, line int, jobID int64) error {
	var id *int64
	if jobID != 0 {
		id = &jobID
	}
	n, err := t.c.Exec(ctx, `UPDATE run_rows SET job_id = $1 WHERE run_id = $2 AND line = $3`, id, runID, line)
	if err != nil {
		return fmt.Errorf("record the job of line %d of run %s: %w", line, runID, err)
	}
	if n == 0 {
		return foyer.Errorf(foyer.ENOTFOUND, "run %s has no line %d", runID, line)
	}
	return nil
}

func (t *Tx) RunRowJob(ctx context.Context, runID string, line int) (int64, error) {
	var id *int64
	err := t.c.QueryRow(ctx, `SELECT job_id FROM run_rows WHERE run_id = $1 AND line = $2`, runID, line).Scan(&id)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, foyer.Errorf(foyer.ENOTFOUND, "run %s has no line %d", runID, line)
	case err != nil:
		return 0, fmt.Errorf("read the job of line %d of run %s: %w", line, runID, err)
	case id == nil:
		return 0, nil
	}
	return *id, nil
}

func (t *Tx) UnqueuedRunRows(ctx context.Context, runID string, after, limit int) ([]foyer.Row, error) {
	if err := t.runExists(ctx, runID); err != nil {
		return nil, err
	}
	rows, err := t.c.Query(ctx, `SELECT `+runRowColumns+` FROM run_rows r
		LEFT JOIN river_job j ON j.id = r.job_id
		WHERE r.run_id = $1 AND r.line > $2 AND r.result = '' AND r.action IN ('invite', 'exists', 'disable', 'delete', 'notice_disable', 'notice_delete')
		AND (j.id IS NULL OR j.state NOT IN `+liveStates+`)
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

func (t *Tx) RunRowResult(ctx context.Context, runID string, line int) (foyer.Result, error) {
	var res string
	err := t.c.QueryRow(ctx, `SELECT result FROM run_rows WHERE run_id = $1 AND line = $2`, runID, line).Scan(&res)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", foyer.Errorf(foyer.ENOTFOUND, "run %s has no line %d", runID, line)
	case err != nil:
		return "", fmt.Errorf("read the result of line %d of run %s: %w", line, runID, err)
	}
	return foyer.Result(res), nil
}
