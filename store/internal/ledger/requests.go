package ledger

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/store"
)

var _ store.Requests = (*Tx)(nil)

// failureArgs are the failure columns of a request: all empty (code NULL)
// when there is no failure.
func failureArgs(f *foyer.Failure) []any {
	if f == nil {
		return []any{nil, "", false, ""}
	}
	return []any{f.Code, f.Message, f.Retryable, f.Step}
}

// insertRequest inserts a request unless its id, or its profile and
// address, are taken.
const insertRequest = `INSERT INTO requests (id, run_id, origin, line, email, email_key, display_name,
	profile, state, user_id, redeem_url, failure_code, failure_message, failure_retryable, failure_step,
	details, stage, stage_due, escalated, created_at, updated_at)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)
	ON CONFLICT DO NOTHING`

func (t *Tx) CreateRequest(ctx context.Context, r *foyer.Request) error {
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
	approval, err := approvalArgs(r)
	if err != nil {
		return err
	}
	args = append(args, approval...)
	args = append(args, created, t.now)
	query := insertRequest
	if t.db.Dialect.WritableWith {
		// The request and its first transition in one statement.
		query = `WITH created AS (` + insertRequest + ` RETURNING id, state, updated_at)
			INSERT INTO request_history (request_id, from_state, to_state, at, note)
			SELECT id, '', state, updated_at, 'created' FROM created`
	}
	n, err := t.c.Exec(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("create request %s: %w", r.ID, err)
	}
	if n == 0 {
		if _, err := t.FindRequest(ctx, r.Profile, r.Email); err == nil {
			return foyer.Errorf(foyer.ECONFLICT, "a request for %s and profile %s already exists", r.Email, r.Profile)
		}
		return foyer.Errorf(foyer.ECONFLICT, "request %s already exists", r.ID)
	}
	if !t.db.Dialect.WritableWith {
		if err := t.appendHistory(ctx, r.ID, "", r.State, "created"); err != nil {
			return err
		}
	}
	r.CreatedAt, r.UpdatedAt = created, t.now
	return nil
}

// approvalArgs are the columns of what the request page and the API add
// to a request: details (JSON), stage, stage_due, escalated.
func approvalArgs(r *foyer.Request) ([]any, error) {
	details, err := json.Marshal(r.Details)
	if err != nil {
		return nil, fmt.Errorf("encode the details of request %s: %w", r.ID, err)
	}
	return []any{string(details), r.Stage, nullTime(r.StageDue.UTC().Truncate(time.Microsecond)), r.Escalated}, nil
}

const requestColumns = `id, run_id, origin, line, email, display_name, profile, state, user_id,
	redeem_url, failure_code, failure_message, failure_retryable, failure_step,
	details, stage, stage_due, escalated, created_at, updated_at`

func scanRequest(row scanner) (*foyer.Request, error) {
	var (
		r                     foyer.Request
		origin, email, state  string
		created, updated      time.Time
		failCode              *string
		failMessage, failStep string
		failRetryable         bool
		details               string
		stageDue              *time.Time
	)
	if err := row.Scan(&r.ID, &r.RunID, &origin, &r.Line, &email, &r.DisplayName, &r.Profile, &state,
		&r.UserID, &r.RedeemURL, &failCode, &failMessage, &failRetryable, &failStep,
		&details, &r.Stage, &stageDue, &r.Escalated, &created, &updated); err != nil {
		return nil, err
	}
	r.Origin, r.Email, r.State = foyer.Origin(origin), foyer.Address(email), foyer.State(state)
	if failCode != nil {
		r.Failure = &foyer.Failure{Code: *failCode, Message: failMessage, Retryable: failRetryable, Step: failStep}
	}
	if details != "" && details != "{}" {
		if err := json.Unmarshal([]byte(details), &r.Details); err != nil {
			return nil, fmt.Errorf("read the details of request %s: %w", r.ID, err)
		}
	}
	r.StageDue = readTime(stageDue)
	r.CreatedAt, r.UpdatedAt = created.UTC(), updated.UTC()
	return &r, nil
}

func (t *Tx) Request(ctx context.Context, id string) (*foyer.Request, error) {
	r, err := scanRequest(t.c.QueryRow(ctx, `SELECT `+requestColumns+` FROM requests WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, foyer.Errorf(foyer.ENOTFOUND, "no request %s", id)
	}
	if err != nil {
		return nil, fmt.Errorf("read request %s: %w", id, err)
	}
	return r, nil
}

func (t *Tx) FindRequest(ctx context.Context, profile string, email foyer.Address) (*foyer.Request, error) {
	r, err := scanRequest(t.c.QueryRow(ctx, `SELECT `+requestColumns+` FROM requests
		WHERE profile = $1 AND email_key = $2`, profile, email.Key()))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, foyer.Errorf(foyer.ENOTFOUND, "no request for %s and profile %s", email, profile)
	}
	if err != nil {
		return nil, fmt.Errorf("find request for %s and profile %s: %w", email, profile, err)
	}
	return r, nil
}

// moveRequest is MoveRequest's compare-and-set: $16 is the state the
// request must still be in, $1 the next one.
const moveRequest = `UPDATE requests SET state = $1, run_id = $2, line = $3, user_id = $4, redeem_url = $5,
	failure_code = $6, failure_message = $7, failure_retryable = $8, failure_step = $9,
	details = $10, stage = $11, stage_due = $12, escalated = $13, updated_at = $14
	WHERE id = $15 AND state = $16`

func (t *Tx) MoveRequest(ctx context.Context, r *foyer.Request, next foyer.State, note string) error {
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
	approval, err := approvalArgs(r)
	if err != nil {
		return err
	}
	args = append(args, approval...)
	args = append(args, t.now, r.ID, string(r.State))
	query := moveRequest
	if t.db.Dialect.WritableWith {
		// The compare-and-set and the transition in one statement: the
		// history row is written only if the UPDATE matched.
		query = `WITH moved AS (` + moveRequest + ` RETURNING id)
			INSERT INTO request_history (request_id, from_state, to_state, at, note)
			SELECT id, $16, $1, $14, $17 FROM moved`
		args = append(args, note)
	}
	n, err := t.c.Exec(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("move request %s from %s to %s: %w", r.ID, r.State, next, err)
	}
	if n == 0 {
		return t.stateConflict(ctx, r)
	}
	if !t.db.Dialect.WritableWith {
		if err := t.appendHistory(ctx, r.ID, r.State, next, note); err != nil {
			return err
		}
	}
	r.State, r.UpdatedAt = next, t.now
	return nil
}

func (t *Tx) UpdateRequest(ctx context.Context, r *foyer.Request) error {
	if err := r.Check(); err != nil {
		return err
	}
	args := []any{r.RunID, string(r.Origin), r.Line, r.DisplayName, r.UserID, r.RedeemURL}
	args = append(args, failureArgs(r.Failure)...)
	approval, err := approvalArgs(r)
	if err != nil {
		return err
	}
	args = append(args, approval...)
	args = append(args, t.now, r.ID, string(r.State))
	n, err := t.c.Exec(ctx, `UPDATE requests SET run_id = $1, origin = $2, line = $3,
		display_name = $4, user_id = $5, redeem_url = $6, failure_code = $7, failure_message = $8,
		failure_retryable = $9, failure_step = $10, details = $11, stage = $12, stage_due = $13,
		escalated = $14, updated_at = $15 WHERE id = $16 AND state = $17`, args...)
	if err != nil {
		return fmt.Errorf("update request %s: %w", r.ID, err)
	}
	if n == 0 {
		return t.stateConflict(ctx, r)
	}
	r.UpdatedAt = t.now
	return nil
}

// stateConflict explains why a compare-and-set on r's state changed nothing.
func (t *Tx) stateConflict(ctx context.Context, r *foyer.Request) error {
	var state string
	err := t.c.QueryRow(ctx, `SELECT state FROM requests WHERE id = $1`, r.ID).Scan(&state)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return foyer.Errorf(foyer.ENOTFOUND, "no request %s", r.ID)
	case err != nil:
		return fmt.Errorf("read state of request %s: %w", r.ID, err)
	}
	return foyer.Errorf(foyer.ECONFLICT, "request %s is %s, no longer %s: someone else changed it", r.ID, state, r.State)
}

// appendHistory records a transition, where the change and its history
// row are two statements (no Dialect.WritableWith).
func (t *Tx) appendHistory(ctx context.Context, id string, from, to foyer.State, note string) error {
	if _, err := t.c.Exec(ctx, `INSERT INTO request_history (request_id, from_state, to_state, at, note)
		VALUES ($1, $2, $3, $4, $5)`, id, string(from), string(to), t.now, note); err != nil {
		return fmt.Errorf("record history of request %s: %w", id, err)
	}
	return nil
}

func (t *Tx) History(ctx context.Context, id string) ([]store.Transition, error) {
	rows, err := t.c.Query(ctx, `SELECT from_state, to_state, at, note FROM request_history
		WHERE request_id = $1 ORDER BY seq`, id)
	if err != nil {
		return nil, fmt.Errorf("read history of request %s: %w", id, err)
	}
	defer rows.Close()
	var h []store.Transition
	for rows.Next() {
		var (
			tr       store.Transition
			from, to string
		)
		if err := rows.Scan(&from, &to, &tr.At, &tr.Note); err != nil {
			return nil, fmt.Errorf("read history of request %s: %w", id, err)
		}
		tr.From, tr.To, tr.At = foyer.State(from), foyer.State(to), tr.At.UTC()
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

// Requests lists by seq, the order the ledger recorded the requests in:
// unique, so a page ends between two requests however many share a
// creation time.
func (t *Tx) Requests(ctx context.Context, f store.RequestFilter, fn func(*foyer.Request) error) error {
	var (
		where []string
		args  params
	)
	if f.RunID != "" {
		where = append(where, "run_id = "+args.add(f.RunID))
	}
	if f.Profile != "" {
		where = append(where, "profile = "+args.add(f.Profile))
	}
	if f.Email != "" {
		where = append(where, "email_key = "+args.add(f.Email.Key()))
	}
	if f.UserID != "" {
		where = append(where, "user_id = "+args.add(f.UserID))
	}
	if len(f.States) > 0 {
		states := make([]string, len(f.States))
		for i, s := range f.States {
			if !s.Valid() {
				return foyer.Errorf(foyer.EINVALID, "unknown request state %q", s)
			}
			states[i] = args.add(string(s))
		}
		where = append(where, "state IN ("+strings.Join(states, ", ")+")")
	}
	if len(f.Origins) > 0 {
		origins := make([]string, len(f.Origins))
		for i, o := range f.Origins {
			origins[i] = args.add(string(o))
		}
		where = append(where, "origin IN ("+strings.Join(origins, ", ")+")")
	}
	if f.Limit < 0 {
		return foyer.Errorf(foyer.EINVALID, "list requests: limit %d is negative", f.Limit)
	}
	after, cmp, order := int64(0), ">", "seq"
	if f.Newest {
		after, cmp, order = math.MaxInt64, "<", "seq DESC"
	}
	if f.AfterID != "" {
		err := t.c.QueryRow(ctx, `SELECT seq FROM requests WHERE id = $1`, f.AfterID).Scan(&after)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return foyer.Errorf(foyer.ENOTFOUND, "no request %s to list requests after", f.AfterID)
		case err != nil:
			return fmt.Errorf("list requests after %s: %w", f.AfterID, err)
		}
	}
	// The last two arguments: where the next page starts, and its size.
	where = append(where, "seq "+cmp+" "+args.add(after))
	query := `SELECT seq, ` + requestColumns + ` FROM requests WHERE ` + strings.Join(where, " AND ") +
		` ORDER BY ` + order + ` LIMIT ` + args.add(pageSize)
	left := f.Limit
	for {
		size := pageSize
		if f.Limit > 0 {
			size = min(size, left)
		}
		args[len(args)-1] = size
		page, last, err := t.requestsPage(ctx, query, args)
		if err != nil {
			return fmt.Errorf("list requests: %w", err)
		}
		for _, r := range page {
			if err := fn(r); err != nil {
				return err
			}
		}
		left -= len(page)
		if len(page) < size || (f.Limit > 0 && left == 0) {
			return nil
		}
		args[len(args)-2] = last
	}
}

func (t *Tx) requestsPage(ctx context.Context, query string, args []any) ([]*foyer.Request, int64, error) {
	rows, err := t.c.Query(ctx, query, args...)
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
	rows Rows
	seq  *int64
}

func (s seqScanner) Scan(dest ...any) error { return s.rows.Scan(append([]any{s.seq}, dest...)...) }
