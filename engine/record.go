package engine

import (
	"context"
	"errors"
	"fmt"
	"maps"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/store"
)

// A run's life: its plan is recorded (Record), shown from the ledger,
// approved (Approve) or discarded (Discard), then applied (ApplyRun) and
// finished, with its report sent as a job. What is applied is what was
// recorded and shown, row for row; every row is still checked against the
// directory when its job runs, so a plan that went stale does no harm.

// RecordInput is a plan to record as a run.
type RecordInput struct {
	Kind    foyer.RunKind // RunApply if empty
	Profile string        // the profile's name
	// Tenant is the name of the tenant the run acts on; empty means the
	// profile's (TenantOf).
	Tenant string
	Source string // where the rows came from, safe to show (no secrets)
	Digest string // SHA-256 of the input: an interrupted run of the same input is resumed
	// Saved marks a plan saved to be applied later (foyer plan --save).
	// A plan that is not saved belongs to the command that recorded it:
	// the next one that records the same input discards it if it was
	// neither approved nor discarded (its command died at the question).
	Saved bool
	// Plan produces the planned rows in line order; each is recorded as it
	// comes, a batch per transaction.
	Plan func(ctx context.Context, emit func(foyer.Row) error) error
	// GrantNames names the grant keys the rows hold, beside those of the
	// profile (when the engine has it loaded).
	GrantNames map[string]string
	// RecordedBy names who recorded the plan (the CLI's user, the
	// approver of a request, "policy"); "" is the engine's Actor. Four
	// eyes: they may not approve it themselves (ApproveRunAs).
	RecordedBy string
}

// recordBatch is how many rows are recorded per transaction: memory does
// not grow with the input, and the ledger is never held for long (the
// workers, and on SQLite everyone else, wait while a transaction writes).
const recordBatch = 1000

// Record records a plan as a run awaiting approval. Rows without work
// (invalid, duplicate, skip) get their result, skipped, at once. The run is
// sealed once every row is in; a recording cut off is not sealed, never
// runs, and is deleted by the next Record of the same input. Record needs
// no lease: it writes the ledger only.
func (e *Engine) Record(ctx context.Context, in RecordInput) (*foyer.Run, error) {
	if in.Kind == "" {
		in.Kind = foyer.RunApply
	}
	if err := e.clearStale(ctx, in); err != nil {
		return nil, err
	}
	if in.RecordedBy == "" {
		in.RecordedBy = e.actor()
	}
	if in.Tenant == "" {
		t, err := e.TenantOf(in.Profile)
		if err != nil {
			return nil, fmt.Errorf("record run: %w", err)
		}
		in.Tenant = t.Name
	}
	run := &foyer.Run{ID: e.NewID(), Kind: in.Kind, Profile: in.Profile, Tenant: in.Tenant, Source: in.Source, Digest: in.Digest,
		Saved: in.Saved, RecordedBy: in.RecordedBy, GrantNames: map[string]string{}}
	if p := e.Profiles[in.Profile]; p != nil {
		maps.Copy(run.GrantNames, foyer.GrantNames(p.Grants))
	}
	maps.Copy(run.GrantNames, in.GrantNames)
	if err := e.Store.InTx(ctx, func(tx store.Tx) error {
		run.StartedAt = tx.Now()
		return tx.CreateRun(ctx, run)
	}); err != nil {
		return nil, fmt.Errorf("record run: %w", err)
	}
	rows := make([]foyer.Row, 0, recordBatch)
	flush := func() error {
		if len(rows) == 0 {
			return nil
		}
		err := e.Store.InTx(ctx, func(tx store.Tx) error { return tx.PutRunRows(ctx, run.ID, rows) })
		rows = rows[:0]
		return err
	}
	err := in.Plan(ctx, func(r foyer.Row) error {
		if !r.Action.Work() {
			r.Result = foyer.ResultSkipped
		}
		run.Summary.Count(r)
		if rows = append(rows, r); len(rows) == recordBatch {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err == nil {
		err = e.Store.InTx(ctx, func(tx store.Tx) error {
			run.SealedAt = tx.Now()
			if err := tx.SealRun(ctx, run.ID); err != nil {
				return err
			}
			return tx.AppendAudit(ctx, store.AuditEntry{Kind: store.AuditChange, Actor: in.RecordedBy, RunID: run.ID, Op: "record plan",
				Target: in.Profile, Detail: fmt.Sprintf("%s %s: %d rows", in.Kind, in.Source, run.Summary.Rows)})
		})
	}
	if err != nil {
		return nil, fmt.Errorf("record run %s: %w", run.ID, err)
	}
	return run, nil
}

// clearStale deletes a recording of the same input that was cut off, and
// discards a plan of it that its command left unanswered. It stops at an
// approved run (the caller should have resumed it) or a saved plan.
func (e *Engine) clearStale(ctx context.Context, in RecordInput) error {
	for {
		open, err := e.openRun(ctx, in.Kind, in.Profile, in.Digest)
		if err != nil || open == nil {
			return err
		}
		switch open.State() {
		case foyer.RunRecording:
			e.Log.Info("deleting a run whose recording was cut off", "run", open.ID)
			err = e.Store.InTx(ctx, func(tx store.Tx) error { return tx.DeleteRun(ctx, open.ID) })
		case foyer.RunPlanned:
			if open.Saved {
				return nil
			}
			e.Log.Info("discarding a plan of the same input that was never answered", "run", open.ID)
			err = e.discard(ctx, open.ID, e.actor(), "a newer plan of the same input was recorded")
		default:
			return nil
		}
		if err != nil {
			return fmt.Errorf("clear the earlier run %s of the same input: %w", open.ID, err)
		}
	}
}

// Approve approves a recorded plan, in the name of by, so that ApplyRun
// applies it (in service mode, the run's job, inserted in the same
// transaction). An approved run stays approved: approving it again
// changes nothing.
func (e *Engine) Approve(ctx context.Context, runID, by string) (*foyer.Run, error) {
	var run *foyer.Run
	err := e.Store.InTx(ctx, func(tx store.Tx) error {
		r, err := tx.Run(ctx, runID)
		if err != nil {
			return err
		}
		if r.State() == foyer.RunPlanned {
			if err := tx.ApproveRun(ctx, runID, by); err != nil {
				return err
			}
			if err := tx.AppendAudit(ctx, store.AuditEntry{Kind: store.AuditChange, Actor: by, RunID: runID, Op: "approve plan", Target: r.Profile}); err != nil {
				return err
			}
			if err := e.enqueueRun(ctx, tx, runID); err != nil {
				return err
			}
			r.ApprovedAt, r.ApprovedBy = tx.Now(), by
		}
		run = r
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("approve run %s: %w", runID, err)
	}
	if s := run.State(); s != foyer.RunApplying && s != foyer.RunFinished {
		return run, foyer.Errorf(foyer.ECONFLICT, "run %s is %s: it cannot be approved", runID, s)
	}
	return run, nil
}

// Discard records that a plan will not be applied (the answer was no).
func (e *Engine) Discard(ctx context.Context, runID, by string) error {
	if err := e.discard(ctx, runID, by, "not approved"); err != nil {
		return fmt.Errorf("discard run %s: %w", runID, err)
	}
	return nil
}

func (e *Engine) discard(ctx context.Context, runID, by, why string) error {
	return e.Store.InTx(ctx, func(tx store.Tx) error {
		if err := tx.DiscardRun(ctx, runID); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, store.AuditEntry{Kind: store.AuditChange, Actor: by, RunID: runID, Op: "discard plan", Detail: why})
	})
}

// Run reads a run from the ledger; ENOTFOUND if there is none.
func (e *Engine) Run(ctx context.Context, id string) (*foyer.Run, error) {
	var run *foyer.Run
	err := e.Store.InTx(ctx, func(tx store.Tx) error {
		var err error
		run, err = tx.Run(ctx, id)
		return err
	})
	return run, err
}

// Resumable returns the approved, unfinished run of the same kind, input
// and profile, which ApplyRun would resume, or nil.
func (e *Engine) Resumable(ctx context.Context, kind foyer.RunKind, profile, digest string) (*foyer.Run, error) {
	run, err := e.openRun(ctx, kind, profile, digest)
	if err != nil || run == nil || run.State() != foyer.RunApplying {
		return nil, err
	}
	return run, nil
}

// openRun returns the newest run of the input and profile that is neither
// finished nor discarded, or nil.
func (e *Engine) openRun(ctx context.Context, kind foyer.RunKind, profile, digest string) (*foyer.Run, error) {
	var run *foyer.Run
	err := e.Store.InTx(ctx, func(tx store.Tx) error {
		r, err := tx.OpenRun(ctx, kind, profile, digest)
		if foyer.ErrorCode(err) == foyer.ENOTFOUND {
			return nil
		}
		run = r
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("look for an unfinished run: %w", err)
	}
	return run, nil
}

// ErrFinished is returned by ApplyRun for a run that was applied already:
// applying it again does nothing.
var ErrFinished = errors.New("the run was applied already")
