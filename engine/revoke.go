package engine

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/directory"
	"github.com/foyer-dev/foyer/store"
)

// Revoke takes back from each person what profile granted them through
// foyer, and only that: a grant that another profile also gave them stays.
// It records a revoke run with one row per address, each directory write as
// a step with its intent and outcome, and moves each request to revoked.
// It runs in the caller, under the ledger's lease: the engine must be
// started, so that a revoke and an apply never race, and every write passes
// the lease's fence.
func (e *Engine) Revoke(ctx context.Context, profile string, emails []foyer.Address, sink Sink) (*foyer.Run, error) {
	if sink == nil {
		sink = func(Event) {}
	}
	if err := e.CheckLease(ctx); err != nil {
		return nil, err
	}
	ctx = directory.WithGate(ctx, fence{e})
	run := &foyer.Run{ID: e.NewID(), Kind: foyer.RunRevoke, Profile: profile, Source: "command line"}
	rows := make([]foyer.Row, len(emails))
	for i, a := range emails {
		rows[i] = foyer.Row{Line: i + 1, Email: a, Action: foyer.ActionExists, Reason: "revoke profile " + profile}
	}
	err := e.Store.InTx(ctx, func(tx store.Tx) error {
		run.StartedAt = tx.Now()
		if err := tx.CreateRun(ctx, run); err != nil {
			return err
		}
		if err := tx.PutRunRows(ctx, run.ID, rows); err != nil {
			return err
		}
		if err := tx.SealRun(ctx, run.ID); err != nil {
			return err
		}
		return tx.ApproveRun(ctx, run.ID, e.actor())
	})
	if err != nil {
		return nil, fmt.Errorf("record the revoke run: %w", err)
	}
	sink(Event{Kind: EventRunStarted, At: e.Clock.Now(), RunID: run.ID})
	for _, r := range rows {
		r = e.revokeOne(ctx, run, r)
		if err := e.Store.InTx(ctx, func(tx store.Tx) error { return tx.UpdateRunRow(ctx, run.ID, r) }); err != nil {
			return run, fmt.Errorf("record the result for %s: %w", r.Email, err)
		}
		sink(Event{Kind: EventRowDone, At: e.Clock.Now(), RunID: run.ID, Row: &r})
		if ctx.Err() != nil {
			return run, ctx.Err()
		}
	}
	var sum foyer.Summary
	err = e.Store.InTx(ctx, func(tx store.Tx) error {
		var err error
		if sum, err = tx.RunSummary(ctx, run.ID); err != nil {
			return err
		}
		return tx.FinishRun(ctx, run.ID, sum)
	})
	if err != nil {
		return run, fmt.Errorf("finish the revoke run: %w", err)
	}
	run.Summary, run.FinishedAt = sum, e.Clock.Now()
	sink(Event{Kind: EventRunFinished, At: run.FinishedAt, RunID: run.ID, Summary: &sum})
	return run, nil
}

// revokeOne takes one person's grants of the run's profile back and returns
// the row with its result.
func (e *Engine) revokeOne(ctx context.Context, run *foyer.Run, r foyer.Row) foyer.Row {
	var req *foyer.Request
	var held []store.HeldGrant
	err := e.Store.InTx(ctx, func(tx store.Tx) error {
		var err error
		if req, err = tx.FindRequest(ctx, run.Profile, r.Email); err != nil {
			return err
		}
		if req.UserID == "" {
			return nil
		}
		held, err = tx.HeldGrants(ctx, req.UserID)
		return err
	})
	switch {
	case foyer.ErrorCode(err) == foyer.ENOTFOUND:
		r.Result, r.Reason = foyer.ResultUnchanged, fmt.Sprintf("foyer never granted profile %s to this address", run.Profile)
		return r
	case err != nil:
		r.Result, r.Error = foyer.ResultFailed, safeMessage(err)
		return r
	}
	r.UserID = req.UserID
	// Which profiles hold each key, and the keys this profile holds.
	holders := map[string][]string{}
	var mine []store.HeldGrant
	for _, h := range held {
		holders[h.Key] = append(holders[h.Key], h.Profile)
		if h.Profile == run.Profile {
			mine = append(mine, h)
		}
	}
	sort.Slice(mine, func(i, j int) bool { return mine[i].Key < mine[j].Key })
	for _, h := range mine {
		removed, err := e.revokeGrant(ctx, run, req, h, len(holders[h.Key]) > 1)
		if err != nil {
			r.Result, r.Error = foyer.ResultFailed, safeMessage(err)
			return r
		}
		if removed {
			r.Grants = append(r.Grants, h.Grant)
		}
	}
	if req.State != foyer.StateRevoked && req.State.CanMove(foyer.StateRevoked) {
		err := e.Store.InTx(ctx, func(tx store.Tx) error { return tx.MoveRequest(ctx, req, foyer.StateRevoked, "revoked by "+e.actor()) })
		if err != nil {
			r.Result, r.Error = foyer.ResultFailed, safeMessage(err)
			return r
		}
	}
	r.Result = foyer.ResultRevoked
	if len(r.Grants) == 0 {
		r.Result, r.Reason = foyer.ResultUnchanged, "nothing of profile "+run.Profile+" was held"
	}
	return r
}

// revokeGrant removes one held grant from the directory unless another
// profile also gives it (shared), and forgets that this profile holds it.
func (e *Engine) revokeGrant(ctx context.Context, run *foyer.Run, req *foyer.Request, h store.HeldGrant, shared bool) (removed bool, err error) {
	g, err := foyer.ParseGrantKey(h.Key)
	if err != nil {
		return false, err
	}
	name := "revoke " + h.Key + " @" + run.ID
	op := "revoke " + h.Grant
	err = e.Store.InTx(ctx, func(tx store.Tx) error {
		if err := e.holdLease(ctx, tx); err != nil {
			return err
		}
		if _, err := tx.StartStep(ctx, req.ID, name); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, store.AuditEntry{Kind: store.AuditIntent, Actor: e.actor(), RunID: run.ID, RequestID: req.ID, Op: op, Target: req.UserID})
	})
	if err != nil {
		return false, fmt.Errorf("record the intent to %s: %w", op, err)
	}
	var dirErr error
	var graphIDs string
	if !shared {
		rctx, log := directory.WithRequestLog(ctx)
		dirErr = e.Dir.Revoke(rctx, directory.Grantee{UserID: req.UserID, Email: req.Email, DisplayName: req.DisplayName}, g)
		graphIDs = strings.Join(log.IDs(), " ")
	}
	ctx = context.WithoutCancel(ctx) // the outcome is recorded whatever happens to ctx
	err = e.Store.InTx(ctx, func(tx store.Tx) error {
		step := store.Step{RequestID: req.ID, Name: name, State: store.StepDone, GraphID: graphIDs}
		entry := store.AuditEntry{Kind: store.AuditOutcome, Actor: e.actor(), RunID: run.ID, RequestID: req.ID, Op: op, Target: req.UserID, GraphID: graphIDs}
		if shared {
			entry.Detail = "kept: another profile also grants it"
		}
		if dirErr != nil {
			step.State, step.Error, entry.Error = store.StepFailed, safeMessage(dirErr), safeMessage(dirErr)
		} else if err := tx.DropGrant(ctx, req.UserID, run.Profile, h.Key); err != nil {
			return err
		}
		if err := tx.FinishStep(ctx, step); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, entry)
	})
	if dirErr != nil {
		return false, dirErr
	}
	if err != nil {
		return false, fmt.Errorf("record the outcome of %s: %w", op, err)
	}
	return !shared, nil
}
