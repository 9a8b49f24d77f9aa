package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/store"
)

var _ store.Requests = (*tx)(nil)

// failureArgs are the failure columns of a request: all empty (code NULL)
// when there is no failure.
func failureArgs(f *foyer.Failure) []any {
	if f == nil {
		return []any{nil, "", 0, ""}
	}
	return []any{f.Code, f.Message, boolInt(f.Retryable), f.Step}
}

func (t *tx) CreateRequest(ctx context.Context, r *foyer.Request) error {
	if r != nil && r.State == "" {
		r.State = foyer.StateReceived
	}
	if err := r.Check(); err != nil {
		return err
	}
	created := r.CreatedAt
	if created.IsZero() {
		created = t.now
	}
	args := []any{r.ID, r.RunID, string(r.Origin), r.Line, string(r.Email), r.Email.Key(), r.DisplayName,
		r.Profile, string(r.State), r.UserID, r.RedeemURL}
	args = append(args, failureArgs(r.Failure)...)
	args = append(args, formatTime(created), formatTime(t.now))
	ok, err := changed(t.tx.ExecContext(ctx, `INSERT INTO requests (id, run_id, origin, line, email,
		email_key, display_name, profile, state, user_id, redeem_url, failure_code, failure_message,
		failure_retryable, failure_step, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, args...))
	if err != nil {
		return fmt.Errorf("create request %s: %w", r.ID, err)
	}
	if !ok {
		if _, err := t.FindRequest(ctx, r.Profile, r.Email); err == nil {
			return foyer.Errorf(foyer.ECONFLICT, "a request for %s and profile %s already exists", r.Email, r.Profile)
		}
		return foyer.Errorf(foyer.ECONFLICT, "request %s already exists", r.ID)
	}
	if err := t.appendHistory(ctx, r.ID, "", r.State, "created"); err != nil {
		return err
	}
	r.CreatedAt, r.UpdatedAt = created, t.now
	return nil
}

const requestColumns = `id, run_id, origin, line, email, display_name, profile, state, user_id,
	redeem_url, failure_code, failure_message, failure_retryable, failure_step, created_at, updated_at`

type scanner interface{ Scan(dest ...any) error }

func scanRequest(row scanner) (*foyer.Request, error) {
	var (
		r                                      foyer.Request
		origin, email, state, created, updated string
		failCode                               sql.NullString
		failMessage, failStep                  string
		failRetryable                          int
	)
	if err := row.Scan(&r.ID, &r.RunID, &origin, &r.Line, &email, &r.DisplayName, &r.Profile, &state,
		&r.UserID, &r.RedeemURL, &failCode, &failMessage, &failRetryable, &failStep, &created, &updated); err != nil {
		return nil, err
	}
	r.Origin, r.Email, r.State = foyer.Origin(origin), foyer.Address(email), foyer.State(state)
	if failCode.Valid {
		r.Failure = &foyer.Failure{Code: failCode.String, Message: failMessage, Retryable: failRetryable != 0, Step: failStep}
	}
	var err error
	if r.CreatedAt, err = parseTime(created); err != nil {
		return nil, err
	}
	if r.UpdatedAt, err = parseTime(updated); err != nil {
		return nil, err
	}
	return &r, nil
}

func (t *tx) Request(ctx context.Context, id string) (*foyer.Request, error) {
	r, err := scanRequest(t.tx.QueryRowContext(ctx, `SELECT `+requestColumns+` FROM requests WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, foyer.Errorf(foyer.ENOTFOUND, "no request %s", id)
	}
	if err != nil {
		return nil, fmt.Errorf("read request %s: %w", id, err)
	}
	return r, nil
}

func (t *tx) FindRequest(ctx context.Context, profile string, email foyer.Address) (*foyer.Request, error) {
	r, err := scanRequest(t.tx.QueryRowContext(ctx, `SELECT `+requestColumns+` FROM requests
		WHERE profile = ? AND email_key = ?`, profile, email.Key()))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, foyer.Errorf(foyer.ENOTFOUND, "no request for %s and profile %s", email, profile)
	}
	if err != nil {
		return nil, fmt.Errorf("find request for %s and profile %s: %w", email, profile, err)
	}
	return r, nil
}

func (t *tx) MoveRequest(ctx context.Context, r *foyer.Request, next foyer.State, note string) error {
	if r == nil {
		return foyer.Errorf(foyer.EINVALID, "request is missing")
	}
	if err := r.State.CheckMove(next); err != nil {
		return err
	}
	if next == foyer.StateFailed && r.Failure == nil {
		return foyer.Errorf(foyer.EINVALID, "request %s cannot fail without a failure", r.ID)
	}
	args := []any{string(next), r.RunID, r.Line, r.UserID, r.RedeemURL}
	args = append(args, failureArgs(r.Failure)...)
	args = append(args, formatTime(t.now), r.ID, string(r.State))
	ok, err := changed(t.tx.ExecContext(ctx, `UPDATE requests SET state = ?, run_id = ?, line = ?,
		user_id = ?, redeem_url = ?, failure_code = ?, failure_message = ?, failure_retryable = ?,
		failure_step = ?, updated_at = ? WHERE id = ? AND state = ?`, args...))
	if err != nil {
		return fmt.Errorf("move request %s from %s to %s: %w", r.ID, r.State, next, err)
	}
	if !ok {
		return t.stateConflict(ctx, r)
	}
	if err := t.appendHistory(ctx, r.ID, r.State, next, note); err != nil {
		return err
	}
	r.State, r.UpdatedAt = next, t.now
	return nil
}

func (t *tx) UpdateRequest(ctx context.Context, r *foyer.Request) error {
	if err := r.Check(); err != nil {
		return err
	}
	args := []any{r.RunID, string(r.Origin), r.Line, r.DisplayName, r.UserID, r.RedeemURL}
	args = append(args, failureArgs(r.Failure)...)
	args = append(args, formatTime(t.now), r.ID, string(r.State))
	ok, err := changed(t.tx.ExecContext(ctx, `UPDATE requests SET run_id = ?, origin = ?, line = ?,
		display_name = ?, user_id = ?, redeem_url = ?, failure_code = ?, failure_message = ?,
		failure_retryable = ?, failure_step = ?, updated_at = ? WHERE id = ? AND state = ?`, args...))
	if err != nil {
		return fmt.Errorf("update request %s: %w", r.ID, err)
	}
	if !ok {
		return t.stateConflict(ctx, r)
	}
	r.UpdatedAt = t.now
	return nil
}

// stateConflict explains why a compare-and-set on r's state changed nothing.
func (t *tx) stateConflict(ctx context.Context, r *foyer.Request) error {
	var state string
	err := t.tx.QueryRowContext(ctx, `SELECT state FROM requests WHERE id = ?`, r.ID).Scan(&state)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return foyer.Errorf(foyer.ENOTFOUND, "no request %s", r.ID)
	case err != nil:
		return fmt.Errorf("read state of request %s: %w", r.ID, err)
	}
	return foyer.Errorf(foyer.ECONFLICT, "request %s is %s, no longer %s: someone else changed it", r.ID, state, r.State)
}

func (t *tx) appendHistory(ctx context.Context, id string, from, to foyer.State, note string) error {
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO request_history (request_id, from_state, to_state, at, note)
		VALUES (?, ?, ?, ?, ?)`, id, string(from), string(to), formatTime(t.now), note); err != nil {
		return fmt.Errorf("record history of request %s: %w", id, err)
	}
	return nil
}

func (t *tx) History(ctx context.Context, id string) ([]store.Transition, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT from_state, to_state, at, note FROM request_history
		WHERE request_id = ? ORDER BY seq`, id)
	if err != nil {
		return nil, fmt.Errorf("read history of request %s: %w", id, err)
	}
	defer rows.Close()
	var h []store.Transition
	for rows.Next() {
		var (
			tr           store.Transition
			from, to, at string
		)
		if err := rows.Scan(&from, &to, &at, &tr.Note); err != nil {
			return nil, fmt.Errorf("read history of request %s: %w", id, err)
		}
		tr.From, tr.To = foyer.State(from), foyer.State(to)
		if tr.At, err = parseTime(at); err != nil {
			return nil, fmt.Errorf("read history of request %s: %w", id, err)
		}
		h = append(h, tr)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read history of request %s: %w", id, err)
	}
	if len(h) == 0 {
		return nil, foyer.Errorf(foyer.ENOTFOUND, "no request %s", id)
	}
	return h, nil
}

func (t *tx) Requests(ctx context.Context, f store.RequestFilter, fn func(*foyer.Request) error) error {
	var (
		where []string
		args  []any
	)
	if f.RunID != "" {
		where, args = append(where, "run_id = ?"), append(args, f.RunID)
	}
	if f.Profile != "" {
		where, args = append(where, "profile = ?"), append(args, f.Profile)
	}
	if f.Email != "" {
		where, args = append(where, "email_key = ?"), append(args, f.Email.Key())
	}
	if len(f.States) > 0 {
		marks := make([]string, len(f.States))
		for i, s := range f.States {
			if !s.Valid() {
				return foyer.Errorf(foyer.EINVALID, "unknown request state %q", s)
			}
			marks[i] = "?"
			args = append(args, string(s))
		}
		where = append(where, "state IN ("+strings.Join(marks, ", ")+")")
	}
	where = append(where, "seq > ?")
	query := `SELECT seq, ` + requestColumns + ` FROM requests WHERE ` + strings.Join(where, " AND ") +
		` ORDER BY seq LIMIT ` + fmt.Sprint(pageSize)
	var after int64
	for {
		page, last, err := t.requestsPage(ctx, query, append(args, after))
		if err != nil {
			return fmt.Errorf("list requests: %w", err)
		}
		for _, r := range page {
			if err := fn(r); err != nil {
				return err
			}
		}
		if len(page) < pageSize {
			return nil
		}
		after = last
	}
}

func (t *tx) requestsPage(ctx context.Context, query string, args []any) ([]*foyer.Request, int64, error) {
	rows, err := t.tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var (
		page []*foyer.Request
		seq  int64
	)
	for rows.Next() {
		r, err := scanRequest(seqScanner{rows, &seq})
		if err != nil {
			return nil, 0, err
		}
		page = append(page, r)
	}
	return page, seq, rows.Err()
}

// seqScanner reads a leading seq column before the ones a scan function
// expects.
type seqScanner struct {
	rows *sql.Rows
	seq  *int64
}

func (s seqScanner) Scan(dest ...any) error { return s.rows.Scan(append([]any{s.seq}, dest...)...) }

// pageSize is how many requests Requests reads at a time.
const pageSize = 500
