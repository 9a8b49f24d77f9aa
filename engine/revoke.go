package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/directory"
	"github.com/foyer-dev/foyer/store"
)

// Revoke takes back from each person what profile granted them through
// foyer, and only that: a grant that another profile also gave them stays.
// It is a run like an apply: recorded (one row per address), approved in
// the engine's name, each row worked as a job under the ledger's lease,
// every directory write a step with its intent and outcome and fenced by
// the lease, and reported when finished. Revoking the same people from the
// same profile again resumes an interrupted revoke instead of starting
// another. The engine must be started.
func (e *Engine) Revoke(ctx context.Context, profile string, emails []foyer.Address, sink Sink) (*foyer.Run, error) {
	run, resumed, err := e.recordRevoke(ctx, profile, emails, e.actor())
	if err != nil {
		return run, err
	}
	return e.ApplyRun(ctx, run.ID, RunOptions{Events: sink, Resumed: resumed})
}

// recordRevoke returns the unfinished revoke of the same people from the
// same profile (resumed), or records one and approves it in the name of by.
func (e *Engine) recordRevoke(ctx context.Context, profile string, emails []foyer.Address, by string) (run *foyer.Run, resumed bool, err error) {
	digest := revokeDigest(profile, emails)
	run, err = e.Resumable(ctx, foyer.RunRevoke, profile, digest)
	if err != nil {
		return nil, false, err
	}
	resumed = run != nil
	if run == nil {
		rows := make([]foyer.Row, len(emails))
		for i, a := range emails {
			rows[i] = foyer.Row{Line: i + 1, Email: a, Action: foyer.ActionExists, Reason: "revoke profile " + profile}
		}
		names, err := e.heldNames(ctx, profile, emails)
		if err != nil {
			return nil, false, err
		}
		source := "command line"
		if by != e.actor() {
			source = "revoked by " + by
		}
		run, err = e.Record(ctx, RecordInput{Kind: foyer.RunRevoke, Profile: profile, Source: source, Digest: digest,
			GrantNames: names, RecordedBy: by,
			Plan: func(_ context.Context, emit func(foyer.Row) error) error {
				for _, r := range rows {
					if err := emit(r); err != nil {
						return err
					}
				}
				return nil
			}})
		if err != nil {
			return nil, false, fmt.Errorf("record the revoke run: %w", err)
		}
		if run, err = e.Approve(ctx, run.ID, by); err != nil {
			return run, false, err
		}
	}
	return run, resumed, nil
}

// heldNames names the grants the people hold through foyer, as they were
// named when given: the revoke's rows list the keys it takes back.
func (e *Engine) heldNames(ctx context.Context, profile string, emails []foyer.Address) (map[string]string, error) {
	names := map[string]string{}
	err := e.Store.InTx(ctx, func(tx store.Tx) error {
		for _, a := range emails {
			req, err := tx.FindRequest(ctx, profile, a)
			if foyer.ErrorCode(err) == foyer.ENOTFOUND || (err == nil && req.UserID == "") {
				continue
			}
			if err != nil {
				return err
			}
			held, err := tx.HeldGrants(ctx, req.UserID)
			if err != nil {
				return err
			}
			for _, h := range held {
				names[h.Key] = h.Grant
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read what the people hold: %w", err)
	}
	return names, nil
}

// revokeDigest names a revoke by its profile and people, in any order, so
// that the same revoke run again resumes.
func revokeDigest(profile string, emails []foyer.Address) string {
	keys := make([]string, len(emails))
	for i, a := range emails {
		keys[i] = a.Key()
	}
	sort.Strings(keys)
	h := sha256.Sum256([]byte("revoke\x00" + profile + "\x00" + strings.Join(keys, "\x00")))
	return hex.EncodeToString(h[:])
}

// RevokeArgs is the job that takes one person's grants of a profile back.
type RevokeArgs struct {
	RunID   string        `json:"run_id" river:"unique"`
	Line    int           `json:"line" river:"unique"`
	Profile string        `json:"profile"`
	Email   foyer.Address `json:"email"`
	// Tenant is the run's tenant (its name); empty in a job enqueued
	// before jobs named it, which acts on its profile's tenant.
	Tenant string `json:"tenant,omitempty"`
	// Expire: the run is expiry's (recorded by ExpiryActor): the request
	// ends in expired, not revoked.
	Expire bool `json:"expire,omitempty"`
}

// Kind names the job in River.
func (RevokeArgs) Kind() string { return "foyer.revoke" }

// InsertOpts puts revoke jobs with the provisioning ones (they share the
// pace of directory writes), unique by run and line among live jobs.
func (RevokeArgs) InsertOpts() river.InsertOpts {
	o := ProvisionArgs{}.InsertOpts()
	return o
}

// enqueueRevoke inserts a revoke row's job and records it as the row's.
func (e *Engine) enqueueRevoke(ctx context.Context, tx store.Tx, q store.Queue, run *foyer.Run, r foyer.Row) error {
	return e.insertRowJob(ctx, tx, q, run.ID, r.Line, RevokeArgs{RunID: run.ID, Line: r.Line, Profile: run.Profile, Email: r.Email, Tenant: run.Tenant,
		Expire: run.RecordedBy == ExpiryActor})
}

// revokeWorker works one revoke row.
type revokeWorker struct {
	river.WorkerDefaults[RevokeArgs]
	e *Engine
}

func (w *revokeWorker) Work(ctx context.Context, job *river.Job[RevokeArgs]) error {
	e, a := w.e, job.Args
	if err := e.lostLease(); err != nil {
		return err
	}
	ctx, end := e.beginAttempt(ctx)
	defer end()
	if mine, err := e.claim(ctx, job.JobRow, a.RunID, a.Line); err != nil || !mine {
		return err
	}
	run := &foyer.Run{ID: a.RunID, Kind: foyer.RunRevoke, Profile: a.Profile, Tenant: a.Tenant}
	if a.Expire {
		run.RecordedBy = ExpiryActor
	}
	key := "revoke " + run.Profile + " " + a.Email.Key()
	if !e.take(key) {
		return river.JobSnooze(time.Second)
	}
	defer e.release(key)
	row, err := e.revokeOne(ctx, run, foyer.Row{Line: a.Line, Email: a.Email})
	if err := e.endAttempt(ctx, "revoke", job.JobRow, &row, err); err != nil {
		return err
	}
	q, err := e.currentQueue()
	if err != nil {
		return err
	}
	wctx := context.WithoutCancel(ctx)
	err = e.Store.InTx(wctx, func(tx store.Tx) error {
		if err := e.holdLease(wctx, tx); err != nil {
			return err
		}
		if err := tx.UpdateRunRow(wctx, a.RunID, row); err != nil {
			return err
		}
		return q.CompleteTx(wctx, tx, job.JobRow)
	})
	if err != nil {
		return fmt.Errorf("record the result of line %d: %w", a.Line, err)
	}
	e.emitRow(row)
	return nil
}

// revokeOne takes one person's grants of the run's profile back and returns
// the row with its result, or the error that stopped it (which may be
// worth another attempt).
func (e *Engine) revokeOne(ctx context.Context, run *foyer.Run, r foyer.Row) (foyer.Row, error) {
	var req *foyer.Request
	var held []store.HeldGrant
	var steps []store.Step
	err := e.Store.InTx(ctx, func(tx store.Tx) error {
		var err error
		if req, err = tx.FindRequest(ctx, run.Profile, r.Email); err != nil {
			return err
		}
		if req.UserID == "" {
			return nil
		}
		if held, err = tx.HeldGrants(ctx, req.UserID); err != nil {
			return err
		}
		steps, err = tx.RequestSteps(ctx, req.ID)
		return err
	})
	switch {
	case foyer.ErrorCode(err) == foyer.ENOTFOUND:
		r.Result, r.Reason = foyer.ResultUnchanged, fmt.Sprintf("foyer never granted profile %s to this address", run.Profile)
		return r, nil
	case err != nil:
		return r, err
	}
	r.UserID = req.UserID
	// What an earlier attempt of this run took back already.
	for _, st := range steps {
		if st.State == store.StepDone && strings.HasPrefix(st.Name, "revoke ") && strings.HasSuffix(st.Name, " @"+run.ID) && st.Result != "" {
			r.Grants = append(r.Grants, st.Result)
		}
	}
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
			return r, err
		}
		if removed {
			r.Grants = append(r.Grants, h.Key)
		}
	}
	// An expiry run's request ends in expired, any other's in revoked.
	final, note := foyer.StateRevoked, "revoked by "+e.actor()
	if run.RecordedBy == ExpiryActor {
		final, note = foyer.StateExpired, "access expired: revoke run "+run.ID+" of expiry"
	}
	if req.State != final && req.State.CanMove(final) {
		err := e.Store.InTx(ctx, func(tx store.Tx) error {
			if err := e.holdLease(ctx, tx); err != nil {
				return err
			}
			if err := tx.MoveRequest(ctx, req, final, note); err != nil {
				return err
			}
			if err := syncGuestRow(ctx, tx, req.UserID); err != nil {
				return err
			}
			// Nobody decides more time for access that ended.
			return e.lapseExtensions(ctx, tx, req.ID, "access "+string(final)+" before a decision")
		})
		if err != nil {
			return r, err
		}
	}
	r.Result = foyer.ResultRevoked
	if len(r.Grants) == 0 {
		r.Result, r.Reason = foyer.ResultUnchanged, "nothing of profile "+run.Profile+" was held"
	}
	return r, nil
}

// revokeGrant removes one held grant from the directory unless another
// profile also gives it (shared), and forgets that this profile holds it.
func (e *Engine) revokeGrant(ctx context.Context, run *foyer.Run, req *foyer.Request, h store.HeldGrant, shared bool) (removed bool, err error) {
	g, err := foyer.ParseGrantKey(h.Key)
	if err != nil {
		return false, err
	}
	t, err := e.runTenant(run)
	if err != nil {
		return false, err
	}
	name := "revoke " + h.Key + " @" + run.ID
	op := "revoke " + h.Grant
	var (
		prev     store.Step
		prevDone bool // an earlier attempt took it back already
	)
	err = e.Store.InTx(ctx, func(tx store.Tx) error {
		if err := e.holdLease(ctx, tx); err != nil {
			return err
		}
		var err error
		if prev, err = tx.StartStep(ctx, req.ID, name); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, store.AuditEntry{Kind: store.AuditIntent, Actor: e.actor(), RunID: run.ID, RequestID: req.ID, Op: op, Target: req.UserID})
	})
	if err != nil {
		return false, fmt.Errorf("record the intent to %s: %w", op, err)
	}
	var dirErr error
	var graphIDs string
	if !shared && (prev.State == store.StepStarted || prev.State == store.StepFailed) {
		// An earlier attempt may have taken it back and died, or lost the
		// answer, before recording so: look before sending it again.
		held, err := t.Dir.Holders(ctx, g)
		if err != nil {
			return false, fmt.Errorf("look whether %s still holds %s: %w", req.Email, h.Grant, err)
		}
		if !held[strings.ToLower(req.UserID)] && !held[req.Email.Key()] {
			prevDone = true
		}
	}
	if !shared && !prevDone {
		var ids []string
		ids, dirErr = t.Dir.Revoke(ctx, directory.Grantee{UserID: req.UserID, Email: req.Email, DisplayName: req.DisplayName}, g)
		graphIDs = strings.Join(ids, " ")
	}
	if dirErr != nil && ctx.Err() != nil && context.Cause(ctx) != errAttemptTimedOut {
		return false, dirErr // stopped, not failed: the step stays started for the next attempt
	}
	ctx = context.WithoutCancel(ctx) // the outcome is recorded whatever happens to ctx
	err = e.Store.InTx(ctx, func(tx store.Tx) error {
		step := store.Step{RequestID: req.ID, Name: name, State: store.StepDone, GraphID: graphIDs}
		if !shared {
			step.Result = h.Key // what this run took back, should it be attempted again
		}
		entry := store.AuditEntry{Kind: store.AuditOutcome, Actor: e.actor(), RunID: run.ID, RequestID: req.ID, Op: op, Target: req.UserID, GraphID: graphIDs}
		if shared {
			entry.Detail = "kept: another profile also grants it"
		}
		if dirErr != nil {
			step.State, step.Error, entry.Error = store.StepFailed, e.safeMessage(dirErr), e.safeMessage(dirErr)
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

// endAttempt decides what a revoke's or a sweep's row job does with the
// error its attempt ended with: it returns the error to give River (the
// lease lost, shutting down, or worth another attempt), or nil once the
// row has its result, failed with the reason if err was final.
func (e *Engine) endAttempt(ctx context.Context, what string, job *rivertype.JobRow, row *foyer.Row, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrLeaseLost):
		return err
	case ctx.Err() != nil && context.Cause(ctx) != errAttemptTimedOut:
		return river.JobSnooze(0) // shutting down
	case !permanent(err) && job.Attempt < job.MaxAttempts:
		e.Log.Info(what+" row will be retried", "line", row.Line, "attempt", job.Attempt, "err", err)
		return err
	}
	row.Result, row.Error = foyer.ResultFailed, e.safeMessage(err)
	return nil
}
