package riverq

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/store"
)

// The operator's calls use River's client API rather than SQL on River's
// table: River owns that table and its state machine (a retry clears the
// job's end and allows one more attempt if it had none left; a cancel of
// a running job marks it and wakes the process running it), and its
// columns change with its migrations.

// defaultJobLimit bounds a list when the filter does not.
const defaultJobLimit = 100

// ListJobsTx returns the jobs matching f, newest first.
func (q *Queue[TTx, TDriver]) ListJobsTx(ctx context.Context, t store.Tx, f store.JobFilter) ([]store.Job, error) {
	tx, err := q.own(t)
	if err != nil {
		return nil, err
	}
	limit := f.Limit
	if limit <= 0 {
		limit = defaultJobLimit
	}
	p := river.NewJobListParams().OrderBy(river.JobListOrderByID, river.SortOrderDesc).First(limit)
	if len(f.States) > 0 {
		p = p.States(f.States...)
	}
	if len(f.Queues) > 0 {
		p = p.Queues(f.Queues...)
	}
	if len(f.Kinds) > 0 {
		p = p.Kinds(f.Kinds...)
	}
	if len(f.IDs) > 0 {
		p = p.IDs(f.IDs...)
	}
	res, err := q.client.JobListTx(ctx, tx, p)
	if err != nil {
		return nil, fmt.Errorf("list the jobs on %s: %w", q.where, err)
	}
	jobs := make([]store.Job, 0, len(res.Jobs))
	for _, r := range res.Jobs {
		jobs = append(jobs, jobOf(r))
	}
	return jobs, nil
}

// RetryJobTx makes a job that ended without doing its work available again.
func (q *Queue[TTx, TDriver]) RetryJobTx(ctx context.Context, t store.Tx, id int64) (store.Job, error) {
	tx, err := q.own(t)
	if err != nil {
		return store.Job{}, err
	}
	row, err := q.jobTx(ctx, tx, id)
	if err != nil {
		return store.Job{}, err
	}
	job := jobOf(row)
	switch row.State {
	case rivertype.JobStateDiscarded, rivertype.JobStateCancelled, rivertype.JobStateRetryable:
	case rivertype.JobStateCompleted:
		return job, foyer.Errorf(foyer.ECONFLICT, "job %d completed its work; running it again would do it twice", id)
	case rivertype.JobStateScheduled:
		return job, foyer.Errorf(foyer.ECONFLICT, "job %d waits for its time (%s); running it now would act early", id, row.ScheduledAt.UTC().Format("2006-01-02 15:04:05Z"))
	default:
		return job, foyer.Errorf(foyer.ECONFLICT, "job %d is %s: it runs without being retried", id, row.State)
	}
	if job.RunID != "" && job.Line > 0 {
		res, err := t.RunRowResult(ctx, job.RunID, job.Line)
		switch {
		case foyer.ErrorCode(err) == foyer.ENOTFOUND:
			// The run is gone or never had the row: nothing recorded to protect.
		case err != nil:
			return job, fmt.Errorf("retry job %d: %w", id, err)
		case res != "":
			return job, foyer.Errorf(foyer.ECONFLICT, "job %d is for line %d of run %s, which already has a result (%s): running it again would act on a row whose outcome is recorded", id, job.Line, job.RunID, res)
		default:
			// A resumed run gave the row a new job: this one would do
			// nothing, and River's unique key may be the new job's.
			other, err := t.RunRowJob(ctx, job.RunID, job.Line)
			if err != nil {
				return job, fmt.Errorf("retry job %d: %w", id, err)
			}
			if other != 0 && other != id {
				return job, foyer.Errorf(foyer.ECONFLICT, "line %d of run %s is now job %d's, not job %d's: retry job %d instead", job.Line, job.RunID, other, id, other)
			}
		}
	}
	row, err = q.client.JobRetryTx(ctx, tx, id)
	if err != nil {
		return job, fmt.Errorf("retry job %d on %s: %w", id, q.where, err)
	}
	return jobOf(row), nil
}

// DiscardJobTx cancels a job that has not completed.
func (q *Queue[TTx, TDriver]) DiscardJobTx(ctx context.Context, t store.Tx, id int64) (store.Job, error) {
	tx, err := q.own(t)
	if err != nil {
		return store.Job{}, err
	}
	row, err := q.jobTx(ctx, tx, id)
	if err != nil {
		return store.Job{}, err
	}
	switch row.State {
	case rivertype.JobStateCancelled, rivertype.JobStateDiscarded:
		return jobOf(row), nil
	case rivertype.JobStateCompleted:
		return jobOf(row), foyer.Errorf(foyer.ECONFLICT, "job %d completed its work; there is nothing to discard", id)
	}
	row, err = q.client.JobCancelTx(ctx, tx, id)
	if err != nil {
		return store.Job{}, fmt.Errorf("discard job %d on %s: %w", id, q.where, err)
	}
	return jobOf(row), nil
}

// jobTx reads a job; ENOTFOUND if there is none.
func (q *Queue[TTx, TDriver]) jobTx(ctx context.Context, tx TTx, id int64) (*rivertype.JobRow, error) {
	row, err := q.client.JobGetTx(ctx, tx, id)
	switch {
	case errors.Is(err, rivertype.ErrNotFound):
		return nil, foyer.Errorf(foyer.ENOTFOUND, "there is no job %d", id)
	case err != nil:
		return nil, fmt.Errorf("read job %d on %s: %w", id, q.where, err)
	}
	return row, nil
}

// jobArgs are the keys foyer's jobs use for what they belong to.
type jobArgs struct {
	RunID     string `json:"run_id"`
	Line      int    `json:"line"`
	RequestID string `json:"request_id"`
}

func jobOf(r *rivertype.JobRow) store.Job {
	j := store.Job{
		ID:          r.ID,
		Kind:        r.Kind,
		Queue:       r.Queue,
		State:       r.State,
		Attempt:     r.Attempt,
		MaxAttempts: r.MaxAttempts,
		CreatedAt:   r.CreatedAt.UTC(),
		At:          r.ScheduledAt.UTC(),
	}
	if n := len(r.Errors); n > 0 {
		j.LastError = r.Errors[n-1].Error
	}
	var a jobArgs
	if json.Unmarshal(r.EncodedArgs, &a) == nil {
		j.RunID, j.Line, j.RequestID = a.RunID, a.Line, a.RequestID
	}
	switch {
	case r.FinalizedAt != nil:
		j.At = r.FinalizedAt.UTC()
	case r.AttemptedAt != nil:
		j.At = r.AttemptedAt.UTC()
	}
	return j
}
