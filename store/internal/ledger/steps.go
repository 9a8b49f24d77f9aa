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

var _ store.Steps = (*Tx)(nil)

const stepColumns = `request_id, name, state, attempts, started_at, finished_at, result, graph_id, error`

func scanStep(row scanner) (store.Step, error) {
	var (
		s        store.Step
		state    string
		started  time.Time
		finished *time.Time
	)
	if err := row.Scan(&s.RequestID, &s.Name, &state, &s.Attempts, &started, &finished,
		&s.Result, &s.GraphID, &s.Error); err != nil {
		return store.Step{}, err
	}
	s.State, s.StartedAt, s.FinishedAt = store.StepState(state), started.UTC(), readTime(finished)
	return s, nil
}

// StartStep records a new attempt: the step is started again with its
// result, directory request id and error cleared, and the step as it was is
// returned. The step's row is locked until the transaction ends
// (Dialect.LockRow), so two transactions starting one step take turns.
func (t *Tx) StartStep(ctx context.Context, requestID, name string) (store.Step, error) {
	if name == "" {
		return store.Step{}, foyer.Errorf(foyer.EINVALID, "step of request %s has no name", requestID)
	}
	prev, err := t.lockStep(ctx, requestID, name)
	if errors.Is(err, sql.ErrNoRows) {
		if err := t.requestExists(ctx, requestID); err != nil {
			return store.Step{}, err
		}
		n, err := t.c.Exec(ctx, `INSERT INTO steps (request_id, name, state, attempts, started_at)
			VALUES ($1, $2, $3, 1, $4) ON CONFLICT DO NOTHING`, requestID, name, string(store.StepStarted), t.now)
		if err != nil {
			return store.Step{}, fmt.Errorf("start step %s of request %s: %w", name, requestID, err)
		}
		if n > 0 {
			return store.Step{}, nil
		}
		// Another transaction started it first.
		prev, err = t.lockStep(ctx, requestID, name)
	}
	if err != nil {
		return store.Step{}, fmt.Errorf("read step %s of request %s: %w", name, requestID, err)
	}
	if _, err := t.c.Exec(ctx, `UPDATE steps SET state = $1, attempts = attempts + 1,
		started_at = $2, finished_at = NULL, result = '', graph_id = '', error = ''
		WHERE request_id = $3 AND name = $4`, string(store.StepStarted), t.now, requestID, name); err != nil {
		return store.Step{}, fmt.Errorf("start step %s of request %s again: %w", name, requestID, err)
	}
	return prev, nil
}

func (t *Tx) lockStep(ctx context.Context, requestID, name string) (store.Step, error) {
	return scanStep(t.c.QueryRow(ctx, `SELECT `+stepColumns+` FROM steps
		WHERE request_id = $1 AND name = $2`+t.db.Dialect.LockRow, requestID, name))
}

// requestExists returns ENOTFOUND if there is no request id.
func (t *Tx) requestExists(ctx context.Context, id string) error {
	var one int
	err := t.c.QueryRow(ctx, `SELECT 1 FROM requests WHERE id = $1`, id).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return foyer.Errorf(foyer.ENOTFOUND, "no request %s", id)
	case err != nil:
		return fmt.Errorf("look up request %s: %w", id, err)
	}
	return nil
}

// FinishStep records the outcome of the started step s names.
func (t *Tx) FinishStep(ctx context.Context, s store.Step) error {
	if s.State != store.StepDone && s.State != store.StepFailed {
		return foyer.Errorf(foyer.EINVALID, "step %s of request %s cannot finish as %q", s.Name, s.RequestID, s.State)
	}
	n, err := t.c.Exec(ctx, `UPDATE steps SET state = $1, finished_at = $2, result = $3,
		graph_id = $4, error = $5 WHERE request_id = $6 AND name = $7 AND state = $8`,
		string(s.State), t.now, s.Result, s.GraphID, s.Error, s.RequestID, s.Name, string(store.StepStarted))
	if err != nil {
		return fmt.Errorf("finish step %s of request %s: %w", s.Name, s.RequestID, err)
	}
	if n > 0 {
		return nil
	}
	var state string
	err = t.c.QueryRow(ctx, `SELECT state FROM steps WHERE request_id = $1 AND name = $2`, s.RequestID, s.Name).Scan(&state)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return foyer.Errorf(foyer.ENOTFOUND, "step %s of request %s was never started", s.Name, s.RequestID)
	case err != nil:
		return fmt.Errorf("read step %s of request %s: %w", s.Name, s.RequestID, err)
	}
	return foyer.Errorf(foyer.ECONFLICT, "step %s of request %s is already %s", s.Name, s.RequestID, state)
}

func (t *Tx) RequestSteps(ctx context.Context, requestID string) ([]store.Step, error) {
	rows, err := t.c.Query(ctx, `SELECT `+stepColumns+` FROM steps WHERE request_id = $1 ORDER BY seq`, requestID)
	if err != nil {
		return nil, fmt.Errorf("read steps of request %s: %w", requestID, err)
	}
	defer rows.Close()
	var steps []store.Step
	for rows.Next() {
		s, err := scanStep(rows)
		if err != nil {
			return nil, fmt.Errorf("read steps of request %s: %w", requestID, err)
		}
		steps = append(steps, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read steps of request %s: %w", requestID, err)
	}
	return steps, nil
}
