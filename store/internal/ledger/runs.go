package ledger

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

var _ store.Runs = (*Tx)(nil)

func (t *Tx) CreateRun(ctx context.Context, r *foyer.Run) error {
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
	names, err := json.Marshal(r.GrantNames)
	if err != nil || r.GrantNames == nil {
		names = []byte("{}")
	}
	n, err := t.c.Exec(ctx, `INSERT INTO runs (id, kind, profile, source, digest, started_at, saved, grant_names,
		recorded_by, tenant) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING`,
		r.ID, string(r.Kind), r.Profile, r.Source, r.Digest, r.StartedAt, r.Saved, string(names), r.RecordedBy, r.Tenant)
	if err != nil {
		return fmt.Errorf("create run %s: %w", r.ID, err)
	}
	if n == 0 {
		return foyer.Errorf(foyer.ECONFLICT, "run %s already exists", r.ID)
	}
	return nil
}

const runColumns = `id, kind, profile, source, digest, started_at, sealed_at, finished_at, summary,
	approved_at, approved_by, discarded_at, saved, grant_names, recorded_by, tenant`

func (t *Tx) Run(ctx context.Context, id string) (*foyer.Run, error) {
	row := t.c.QueryRow(ctx, `SELECT `+runColumns+` FROM runs WHERE id = $1`, id)
	r, err := t.scanRun(ctx, row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, foyer.Errorf(foyer.ENOTFOUND, "no run %s", id)
	}
	if err != nil {
		return nil, fmt.Errorf("read run %s: %w", id, err)
	}
	return r, nil
}

func (t *Tx) RunIDs(ctx context.Context, prefix string, limit int) ([]string, error) {
	if limit <= 0 {
		return nil, foyer.Errorf(foyer.EINVALID, "run ids: limit %d is not positive", limit)
	}
	rows, err := t.c.Query(ctx, `SELECT id FROM runs WHERE substr(id, 1, length($1)) = $1
		ORDER BY id`+t.db.Dialect.ByteOrder+` LIMIT $2`, prefix, limit)
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

func (t *Tx) OpenRun(ctx context.Context, kind foyer.RunKind, profile, digest string) (*foyer.Run, error) {
	row := t.c.QueryRow(ctx, `SELECT `+runColumns+` FROM runs
		WHERE kind = $1 AND profile = $2 AND digest = $3 AND finished_at IS NULL AND discarded_at IS NULL
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
func (t *Tx) scanRun(ctx context.Context, row scanner) (*foyer.Run, error) {
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
		kind                                  string
		started                               time.Time
		sealed, approved, discarded, finished *time.Time
		summary                               []byte
		names                                 string
	)
	if err := row.Scan(&r.ID, &kind, &r.Profile, &r.Source, &r.Digest, &started, &sealed, &finished, &summary,
		&approved, &r.ApprovedBy, &discarded, &r.Saved, &names, &r.RecordedBy, &r.Tenant); err != nil {
		return nil, false, err
	}
	if names != "" && names != "{}" {
		if err := json.Unmarshal([]byte(names), &r.GrantNames); err != nil {
			return nil, false, fmt.Errorf("read the grant names of run %s: %w", r.ID, err)
		}
	}
	r.Kind, r.StartedAt, r.SealedAt, r.FinishedAt = foyer.RunKind(kind), started.UTC(), readTime(sealed), readTime(finished)
	r.ApprovedAt, r.DiscardedAt = readTime(approved), readTime(discarded)
	if summary != nil {
		if err := json.Unmarshal(summary, &r.Summary); err != nil {
			return nil, false, fmt.Errorf("read summary of run %s: %w", r.ID, err)
		}
		return &r, true, nil
	}
	return &r, false, nil
}

func (t *Tx) ListRuns(ctx context.Context, limit int, fn func(*foyer.Run) error) error {
	var args params
	query := `SELECT ` + runColumns + ` FROM runs ORDER BY seq DESC`
	if limit > 0 {
		query += ` LIMIT ` + args.add(limit)
	}
	rows, err := t.c.Query(ctx, query, args...)
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
	if err := errors.Join(rows.Close(), rows.Err()); err != nil {
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

func (t *Tx) ApproveRun(ctx context.Context, id, by string) error {
	n, err := t.c.Exec(ctx, `UPDATE runs SET approved_at = $1, approved_by = $2
		WHERE id = $3 AND sealed_at IS NOT NULL AND approved_at IS NULL AND discarded_at IS NULL`, t.now, by, id)
	if err != nil {
		return fmt.Errorf("approve run %s: %w", id, err)
	}
	if n == 0 {
		return t.lifecycleConflict(ctx, id, "approve")
	}
	return nil
}

func (t *Tx) DiscardRun(ctx context.Context, id string) error {
	n, err := t.c.Exec(ctx, `UPDATE runs SET discarded_at = coalesce(discarded_at, $1)
		WHERE id = $2 AND approved_at IS NULL AND finished_at IS NULL`, t.now, id)
	if err != nil {
		return fmt.Errorf("discard run %s: %w", id, err)
	}
	if n == 0 {
		return t.lifecycleConflict(ctx, id, "discard")
	}
	return nil
}

// lifecycleConflict explains why run id could not be approved, discarded
// or finished.
func (t *Tx) lifecycleConflict(ctx context.Context, id, what string) error {
	r, err := t.Run(ctx, id)
	if err != nil {
		return err
	}
	return foyer.Errorf(foyer.ECONFLICT, "cannot %s run %s: it is %s", what, id, r.State())
}

func (t *Tx) FinishRun(ctx context.Context, id string, s foyer.Summary) error {
	b, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("finish run %s: encode summary: %w", id, err)
	}
	// As text: SQLite keeps it as TEXT, PostgreSQL reads it into jsonb.
	n, err := t.c.Exec(ctx, `UPDATE runs SET finished_at = $1, summary = $2
		WHERE id = $3 AND finished_at IS NULL AND approved_at IS NOT NULL`, t.now, string(b), id)
	if err != nil {
		return fmt.Errorf("finish run %s: %w", id, err)
	}
	if n == 0 {
		return t.lifecycleConflict(ctx, id, "finish")
	}
	return nil
}

func (t *Tx) SealRun(ctx context.Context, id string) error {
	n, err := t.c.Exec(ctx, `UPDATE runs SET sealed_at = $1 WHERE id = $2 AND sealed_at IS NULL`, t.now, id)
	if err != nil {
		return fmt.Errorf("seal run %s: %w", id, err)
	}
	if n == 0 {
		return t.runConflict(ctx, id, "run %s is already sealed")
	}
	return nil
}

func (t *Tx) DeleteRun(ctx context.Context, id string) error {
	if _, err := t.c.Exec(ctx, `DELETE FROM run_rows WHERE run_id IN
		(SELECT id FROM runs WHERE id = $1 AND sealed_at IS NULL)`, id); err != nil {
		return fmt.Errorf("delete run %s: %w", id, err)
	}
	n, err := t.c.Exec(ctx, `DELETE FROM runs WHERE id = $1 AND sealed_at IS NULL`, id)
	if err != nil {
		return fmt.Errorf("delete run %s: %w", id, err)
	}
	if n == 0 {
		return t.runConflict(ctx, id, "run %s is sealed: its rows are history")
	}
	return nil
}

// runConflict explains why a change to run id matched no row: ENOTFOUND if
// there is no such run, else ECONFLICT with format (given the id).
func (t *Tx) runConflict(ctx context.Context, id, format string) error {
	if err := t.runExists(ctx, id); err != nil {
		return err
	}
	return foyer.Errorf(foyer.ECONFLICT, format, id)
}

// runExists returns ENOTFOUND if there is no run id.
func (t *Tx) runExists(ctx context.Context, id string) error {
	var one int
	err := t.c.QueryRow(ctx, `SELECT 1 FROM runs WHERE id = $1`, id).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return foyer.Errorf(foyer.ENOTFOUND, "no run %s", id)
	case err != nil:
		return fmt.Errorf("look up run %s: %w", id, err)
	}
	return nil
}

// PutRunRows checks every row before it writes any, then writes them a
// page at a time (Conn.ExecEach: one round trip a page on PostgreSQL).
func (t *Tx) PutRunRows(ctx context.Context, runID string, rows []foyer.Row) error {
	if err := t.runExists(ctx, runID); err != nil {
		return err
	}
	for _, r := range rows {
		if r.Line < 1 {
			return foyer.Errorf(foyer.EINVALID, "row of run %s has line %d (lines start at 1)", runID, r.Line)
		}
	}
	const put = `INSERT INTO run_rows (run_id, line, email, raw, display_name,
		given_name, surname, company, profile, redirect_url, message, send_email, action, reason,
		user_id, grants, result, error, guest_state)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
		ON CONFLICT (run_id, line) DO UPDATE SET email = excluded.email, raw = excluded.raw,
		display_name = excluded.display_name, given_name = excluded.given_name,
		surname = excluded.surname, company = excluded.company, profile = excluded.profile,
		redirect_url = excluded.redirect_url, message = excluded.message,
		send_email = excluded.send_email, action = excluded.action, reason = excluded.reason,
		user_id = excluded.user_id, grants = excluded.grants, result = excluded.result,
		error = excluded.error, guest_state = excluded.guest_state`
	for start := 0; start < len(rows); start += pageSize {
		page := rows[start:min(start+pageSize, len(rows))]
		args := make([][]any, len(page))
		for i, r := range page {
			args[i] = []any{runID, r.Line, string(r.Email), r.Raw, r.DisplayName, r.GivenName, r.Surname,
				r.Company, r.Profile, r.RedirectURL, r.Message, r.SendEmail, string(r.Action), r.Reason,
				r.UserID, list(r.Grants), string(r.Result), r.Error, r.GuestState}
		}
		if done, err := t.c.ExecEach(ctx, put, args); err != nil {
			return fmt.Errorf("record line %d of run %s: %w", page[done].Line, runID, err)
		}
	}
	return nil
}

func (t *Tx) UpdateRunRow(ctx context.Context, runID string, r foyer.Row) error {
	n, err := t.c.Exec(ctx, `UPDATE run_rows SET result = $1, user_id = $2, grants = $3, error = $4
		WHERE run_id = $5 AND line = $6`, string(r.Result), r.UserID, list(r.Grants), r.Error, runID, r.Line)
	if err != nil {
		return fmt.Errorf("update line %d of run %s: %w", r.Line, runID, err)
	}
	if n == 0 {
		return foyer.Errorf(foyer.ENOTFOUND, "run %s has no line %d", runID, r.Line)
	}
	return nil
}

func (t *Tx) RunRows(ctx context.Context, runID string, after int, fn func(foyer.Row) error) error {
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

func (t *Tx) runRowsPage(ctx context.Context, runID string, after int) ([]foyer.Row, error) {
	rows, err := t.c.Query(ctx, `SELECT `+runRowColumns+`
		FROM run_rows r WHERE r.run_id = $1 AND r.line > $2 ORDER BY r.line LIMIT $3`, runID, after, pageSize)
	if err != nil {
		return nil, err
	}
	return scanRunRows(rows)
}

// scanRunRows reads rows of runRowColumns and closes them.
func scanRunRows(rows Rows) ([]foyer.Row, error) {
	defer rows.Close()
	var page []foyer.Row
	for rows.Next() {
		var (
			r                     foyer.Row
			email, action, result string
			grants                []string
		)
		if err := rows.Scan(&r.Line, &email, &r.Raw, &r.DisplayName, &r.GivenName, &r.Surname,
			&r.Company, &r.Profile, &r.RedirectURL, &r.Message, &r.SendEmail, &action, &r.Reason,
			&r.UserID, &grants, &result, &r.Error, &r.GuestState); err != nil {
			return nil, err
		}
		r.Email, r.Action, r.Result, r.Grants = foyer.Address(email), foyer.Action(action), foyer.Result(result), readList(grants)
		page = append(page, r)
	}
	return page, rows.Err()
}

func (t *Tx) RunSummary(ctx context.Context, runID string) (foyer.Summary, error) {
	if err := t.runExists(ctx, runID); err != nil {
		return foyer.Summary{}, err
	}
	rows, err := t.c.Query(ctx, `SELECT action, result, count(*) FROM run_rows
		WHERE run_id = $1 GROUP BY action, result`, runID)
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

func (t *Tx) PendingRunRows(ctx context.Context, runID string) (int, error) {
	if err := t.runExists(ctx, runID); err != nil {
		return 0, err
	}
	var n int
	if err := t.c.QueryRow(ctx, `SELECT count(*) FROM run_rows WHERE run_id = $1 AND result = ''`, runID).Scan(&n); err != nil {
		return 0, fmt.Errorf("count pending rows of run %s: %w", runID, err)
	}
	return n, nil
}
