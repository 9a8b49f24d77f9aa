package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/store"
)

var _ store.Runs = (*tx)(nil)

// pageSize is how many rows the iterating methods read at a time. They read a
// page, close it, then call fn for each row, so fn may use the transaction.
const pageSize = 500

func (t *tx) CreateRun(ctx context.Context, r *foyer.Run) error {
	switch {
	case r == nil:
		return foyer.Errorf(foyer.EINVALID, "run is missing")
	case r.ID == "":
		return foyer.Errorf(foyer.EINVALID, "run has no id")
	case r.Kind == "":
		return foyer.Errorf(foyer.EINVALID, "run %s has no kind", r.ID)
	}
	if r.StartedAt.IsZero() {
		r.StartedAt = t.now
	}
	ok, err := changed(t.tx.ExecContext(ctx, `INSERT INTO runs (id, kind, profile, source, digest, started_at, saved)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		r.ID, string(r.Kind), r.Profile, r.Source, r.Digest, formatTime(r.StartedAt), r.Saved))
	if err != nil {
		return fmt.Errorf("create run %s: %w", r.ID, err)
	}
	if !ok {
		return foyer.Errorf(foyer.ECONFLICT, "run %s already exists", r.ID)
	}
	return nil
}

const runColumns = `id, kind, profile, source, digest, started_at, sealed_at, finished_at, summary,
	approved_at, approved_by, discarded_at, saved`

func (t *tx) Run(ctx context.Context, id string) (*foyer.Run, error) {
	row := t.tx.QueryRowContext(ctx, `SELECT `+runColumns+` FROM runs WHERE id = ?`, id)
	r, err := t.scanRun(ctx, row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, foyer.Errorf(foyer.ENOTFOUND, "no run %s", id)
	}
	if err != nil {
		return nil, fmt.Errorf("read run %s: %w", id, err)
	}
	return r, nil
}

func (t *tx) RunIDs(ctx context.Context, prefix string, limit int) ([]string, error) {
	if limit <= 0 {
		return nil, foyer.Errorf(foyer.EINVALID, "run ids: limit %d is not positive", limit)
	}
	rows, err := t.tx.QueryContext(ctx, `SELECT id FROM runs WHERE substr(id, 1, length(?)) = ? ORDER BY id LIMIT ?`, prefix, prefix, limit)
	if err != nil {
		return nil, fmt.Errorf("find runs whose id starts with %q: %w", prefix, err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("find runs whose id starts with %q: %w", prefix, err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find runs whose id starts with %q: %w", prefix, err)
	}
	return ids, nil
}

func (t *tx) OpenRun(ctx context.Context, kind foyer.RunKind, profile, digest string) (*foyer.Run, error) {
	row := t.tx.QueryRowContext(ctx, `SELECT `+runColumns+` FROM runs
		WHERE kind = ? AND profile = ? AND digest = ? AND finished_at IS NULL AND discarded_at IS NULL
		ORDER BY seq DESC LIMIT 1`, string(kind), profile, digest)
	r, err := t.scanRun(ctx, row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, foyer.Errorf(foyer.ENOTFOUND, "no open %s run for profile %q and this input", kind, profile)
	}
	if err != nil {
		return nil, fmt.Errorf("find open %s run for profile %q: %w", kind, profile, err)
	}
	return r, nil
}

// scanRun reads a run; an unfinished run's summary is counted from its rows.
func (t *tx) scanRun(ctx context.Context, row scanner) (*foyer.Run, error) {
	r, counted, err := scanRunRow(row)
	if err != nil || counted {
		return r, err
	}
	if r.Summary, err = t.RunSummary(ctx, r.ID); err != nil {
		return nil, err
	}
	return r, nil
}

// scanRunRow reads a run's columns; counted says its summary was stored
// (it is finished).
func scanRunRow(row scanner) (*foyer.Run, bool, error) {
	var (
		r                                     foyer.Run
		kind, started                         string
		sealed, approved, discarded, finished sql.NullString
		summary                               sql.NullString
	)
	if err := row.Scan(&r.ID, &kind, &r.Profile, &r.Source, &r.Digest, &started, &sealed, &finished, &summary,
		&approved, &r.ApprovedBy, &discarded, &r.Saved); err != nil {
		return nil, false, err
	}
	r.Kind = foyer.RunKind(kind)
	var err error
	if r.StartedAt, err = parseTime(started); err != nil {
		return nil, false, err
	}
	for _, f := range []struct {
		dst *time.Time
		src sql.NullString
	}{{&r.SealedAt, sealed}, {&r.ApprovedAt, approved}, {&r.DiscardedAt, discarded}, {&r.FinishedAt, finished}} {
		if *f.dst, err = parseNullTime(f.src); err != nil {
			return nil, false, err
		}
	}
	if summary.Valid {
		if err := json.Unmarshal([]byte(summary.String), &r.Summary); err != nil {
			return nil, false, fmt.Errorf("read summary of run %s: %w", r.ID, err)
		}
		return &r, true, nil
	}
	return &r, false, nil
}

func (t *tx) ListRuns(ctx context.Context, limit int, fn func(*foyer.Run) error) error {
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	rows, err := t.tx.QueryContext(ctx, `SELECT `+runColumns+` FROM runs ORDER BY seq DESC LIMIT ?`, limit)
	if err != nil {
		return fmt.Errorf("list runs: %w", err)
	}
	var (
		runs    []*foyer.Run
		counted []bool
	)
	for rows.Next() {
		r, c, err := scanRunRow(rows)
		if err != nil {
			rows.Close()
			return fmt.Errorf("list runs: %w", err)
		}
		runs, counted = append(runs, r), append(counted, c)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return fmt.Errorf("list runs: %w", err)
	}
	for i, r := range runs {
		if !counted[i] {
			if r.Summary, err = t.RunSummary(ctx, r.ID); err != nil {
				return err
			}
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

func (t *tx) ApproveRun(ctx context.Context, id, by string) error {
	ok, err := changed(t.tx.ExecContext(ctx, `UPDATE runs SET approved_at = ?, approved_by = ?
		WHERE id = ? AND sealed_at IS NOT NULL AND approved_at IS NULL AND discarded_at IS NULL`, formatTime(t.now), by, id))
	if err != nil {
		return fmt.Errorf("approve run %s: %w", id, err)
	}
	if !ok {
		return t.lifecycleConflict(ctx, id, "approve")
	}
	return nil
}

func (t *tx) DiscardRun(ctx context.Context, id string) error {
	ok, err := changed(t.tx.ExecContext(ctx, `UPDATE runs SET discarded_at = coalesce(discarded_at, ?)
		WHERE id = ? AND approved_at IS NULL AND finished_at IS NULL`, formatTime(t.now), id))
	if err != nil {
		return fmt.Errorf("discard run %s: %w", id, err)
	}
	if !ok {
		return t.lifecycleConflict(ctx, id, "discard")
	}
	return nil
}

// lifecycleConflict explains why run id could not be approved or
// discarded.
func (t *tx) lifecycleConflict(ctx context.Context, id, what string) error {
	r, err := t.Run(ctx, id)
	if err != nil {
		return err
	}
	return foyer.Errorf(foyer.ECONFLICT, "cannot %s run %s: it is %s", what, id, r.State())
}

func (t *tx) FinishRun(ctx context.Context, id string, s foyer.Summary) error {
	b, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("finish run %s: encode summary: %w", id, err)
	}
	ok, err := changed(t.tx.ExecContext(ctx, `UPDATE runs SET finished_at = ?, summary = ?
		WHERE id = ? AND finished_at IS NULL AND approved_at IS NOT NULL`, formatTime(t.now), string(b), id))
	if err != nil {
		return fmt.Errorf("finish run %s: %w", id, err)
	}
	if !ok {
		return t.lifecycleConflict(ctx, id, "finish")
	}
	return nil
}

func (t *tx) SealRun(ctx context.Context, id string) error {
	ok, err := changed(t.tx.ExecContext(ctx, `UPDATE runs SET sealed_at = ? WHERE id = ? AND sealed_at IS NULL`,
		formatTime(t.now), id))
	if err != nil {
		return fmt.Errorf("seal run %s: %w", id, err)
	}
	if !ok {
		return t.runConflict(ctx, id, "run %s is already sealed")
	}
	return nil
}

func (t *tx) DeleteRun(ctx context.Context, id string) error {
	if _, err := t.tx.ExecContext(ctx, `DELETE FROM run_rows WHERE run_id IN
		(SELECT id FROM runs WHERE id = ? AND sealed_at IS NULL)`, id); err != nil {
		return fmt.Errorf("delete run %s: %w", id, err)
	}
	ok, err := changed(t.tx.ExecContext(ctx, `DELETE FROM runs WHERE id = ? AND sealed_at IS NULL`, id))
	if err != nil {
		return fmt.Errorf("delete run %s: %w", id, err)
	}
	if !ok {
		return t.runConflict(ctx, id, "run %s is sealed: its rows are history")
	}
	return nil
}

// runConflict explains why a change to run id matched no row: ENOTFOUND if
// there is no such run, else ECONFLICT with format (given the id).
func (t *tx) runConflict(ctx context.Context, id, format string) error {
	if err := t.runExists(ctx, id); err != nil {
		return err
	}
	return foyer.Errorf(foyer.ECONFLICT, format, id)
}

// runExists returns ENOTFOUND if there is no run id.
func (t *tx) runExists(ctx context.Context, id string) error {
	var one int
	err := t.tx.QueryRowContext(ctx, `SELECT 1 FROM runs WHERE id = ?`, id).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return foyer.Errorf(foyer.ENOTFOUND, "no run %s", id)
	case err != nil:
		return fmt.Errorf("look up run %s: %w", id, err)
	}
	return nil
}

func (t *tx) PutRunRows(ctx context.Context, runID string, rows []foyer.Row) error {
	if err := t.runExists(ctx, runID); err != nil {
		return err
	}
	stmt, err := t.tx.PrepareContext(ctx, `INSERT INTO run_rows (run_id, line, email, raw, display_name,
		given_name, surname, company, profile, redirect_url, message, send_email, action, reason,
		user_id, grants, result, error, guest_state)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (run_id, line) DO UPDATE SET email = excluded.email, raw = excluded.raw,
		display_name = excluded.display_name, given_name = excluded.given_name,
		surname = excluded.surname, company = excluded.company, profile = excluded.profile,
		redirect_url = excluded.redirect_url, message = excluded.message,
		send_email = excluded.send_email, action = excluded.action, reason = excluded.reason,
		user_id = excluded.user_id, grants = excluded.grants, result = excluded.result,
		error = excluded.error, guest_state = excluded.guest_state`)
	if err != nil {
		return fmt.Errorf("record rows of run %s: %w", runID, err)
	}
	defer stmt.Close()
	for _, r := range rows {
		if r.Line < 1 {
			return foyer.Errorf(foyer.EINVALID, "row of run %s has line %d (lines start at 1)", runID, r.Line)
		}
		grants, err := jsonList(r.Grants)
		if err != nil {
			return fmt.Errorf("record line %d of run %s: %w", r.Line, runID, err)
		}
		if _, err := stmt.ExecContext(ctx, runID, r.Line, string(r.Email), r.Raw, r.DisplayName,
			r.GivenName, r.Surname, r.Company, r.Profile, r.RedirectURL, r.Message, r.SendEmail,
			string(r.Action), r.Reason, r.UserID, grants, string(r.Result), r.Error, r.GuestState); err != nil {
			return fmt.Errorf("record line %d of run %s: %w", r.Line, runID, err)
		}
	}
	return nil
}

func (t *tx) UpdateRunRow(ctx context.Context, runID string, r foyer.Row) error {
	grants, err := jsonList(r.Grants)
	if err != nil {
		return fmt.Errorf("update line %d of run %s: %w", r.Line, runID, err)
	}
	ok, err := changed(t.tx.ExecContext(ctx, `UPDATE run_rows SET result = ?, user_id = ?, grants = ?, error = ?
		WHERE run_id = ? AND line = ?`, string(r.Result), r.UserID, grants, r.Error, runID, r.Line))
	if err != nil {
		return fmt.Errorf("update line %d of run %s: %w", r.Line, runID, err)
	}
	if !ok {
		return foyer.Errorf(foyer.ENOTFOUND, "run %s has no line %d", runID, r.Line)
	}
	return nil
}

func (t *tx) RunRows(ctx context.Context, runID string, after int, fn func(foyer.Row) error) error {
	if err := t.runExists(ctx, runID); err != nil {
		return err
	}
	for {
		page, err := t.runRowsPage(ctx, runID, after)
		if err != nil {
			return fmt.Errorf("read rows of run %s: %w", runID, err)
		}
		for _, r := range page {
			if err := fn(r); err != nil {
				return err
			}
		}
		if len(page) < pageSize {
			return nil
		}
		after = page[len(page)-1].Line
	}
}

// runRowColumns are the columns scanRunRows reads, as r.*.
const runRowColumns = `r.line, r.email, r.raw, r.display_name, r.given_name, r.surname,
	r.company, r.profile, r.redirect_url, r.message, r.send_email, r.action, r.reason, r.user_id,
	r.grants, r.result, r.error, r.guest_state`

func (t *tx) runRowsPage(ctx context.Context, runID string, after int) ([]foyer.Row, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT `+runRowColumns+`
		FROM run_rows r WHERE r.run_id = ? AND r.line > ? ORDER BY r.line LIMIT ?`, runID, after, pageSize)
	if err != nil {
		return nil, err
	}
	return scanRunRows(rows)
}

// scanRunRows reads rows of runRowColumns and closes them.
func scanRunRows(rows *sql.Rows) ([]foyer.Row, error) {
	defer rows.Close()
	var page []foyer.Row
	for rows.Next() {
		var (
			r                             foyer.Row
			email, action, grants, result string
			err                           error
		)
		if err := rows.Scan(&r.Line, &email, &r.Raw, &r.DisplayName, &r.GivenName, &r.Surname,
			&r.Company, &r.Profile, &r.RedirectURL, &r.Message, &r.SendEmail, &action, &r.Reason,
			&r.UserID, &grants, &result, &r.Error, &r.GuestState); err != nil {
			return nil, err
		}
		r.Email, r.Action, r.Result = foyer.Address(email), foyer.Action(action), foyer.Result(result)
		if r.Grants, err = parseList(grants); err != nil {
			return nil, err
		}
		page = append(page, r)
	}
	return page, rows.Err()
}

func (t *tx) RunSummary(ctx context.Context, runID string) (foyer.Summary, error) {
	if err := t.runExists(ctx, runID); err != nil {
		return foyer.Summary{}, err
	}
	rows, err := t.tx.QueryContext(ctx, `SELECT action, result, count(*) FROM run_rows
		WHERE run_id = ? GROUP BY action, result`, runID)
	if err != nil {
		return foyer.Summary{}, fmt.Errorf("count rows of run %s: %w", runID, err)
	}
	defer rows.Close()
	var s foyer.Summary
	for rows.Next() {
		var (
			action, result string
			n              int
		)
		if err := rows.Scan(&action, &result, &n); err != nil {
			return foyer.Summary{}, fmt.Errorf("count rows of run %s: %w", runID, err)
		}
		s.Add(foyer.Action(action), foyer.Result(result), n)
	}
	if err := rows.Err(); err != nil {
		return foyer.Summary{}, fmt.Errorf("count rows of run %s: %w", runID, err)
	}
	return s, nil
}

func (t *tx) PendingRunRows(ctx context.Context, runID string) (int, error) {
	if err := t.runExists(ctx, runID); err != nil {
		return 0, err
	}
	var n int
	if err := t.tx.QueryRowContext(ctx, `SELECT count(*) FROM run_rows WHERE run_id = ? AND result = ''`, runID).Scan(&n); err != nil {
		return 0, fmt.Errorf("count pending rows of run %s: %w", runID, err)
	}
	return n, nil
}
