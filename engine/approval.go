package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/store"
)

// Approval: a request that counts (proved, or made by a signed-in person
// or an application) is routed by its profile's policy: approved at once
// for the automatic domains, else sent through the policy's stages (at
// most foyer.MaxStages), each with approvers, a time limit and what
// happens when it runs out; with no stage it is rejected. Each stage's
// time limit is a River job scheduled at the stage's due time, inserted
// with the move that enters the stage. An approved request is provisioned
// by a job that records and approves a run of one row.

// route decides, in tx, what happens to a request that counts now.
func (e *Engine) route(ctx context.Context, tx store.Tx, q store.Queue, req *foyer.Request, actor string) error {
	p, ok := e.Profiles[req.Profile]
	if !ok {
		return foyer.Errorf(foyer.EINVALID, "request %s names profile %q, which is not in the configuration", req.ID, req.Profile)
	}
	switch {
	case p.Approval.Automatic(req.Email):
		return e.approve(ctx, tx, q, req, policyActor, "approved by the profile's policy for "+req.Email.Domain())
	case len(p.Approval.Stages) == 0:
		return e.reject(ctx, tx, req, actor, "nobody approves requests for this profile from "+req.Email.Domain())
	default:
		return e.enterStage(ctx, tx, q, req, p, 1, false)
	}
}

// policyActor names the automatic approval in the ledger.
const policyActor = "policy"

// approve moves a request to approved, tells the requester, and enqueues
// its provisioning (ProvisionRequestArgs), all in tx.
func (e *Engine) approve(ctx context.Context, tx store.Tx, q store.Queue, req *foyer.Request, by, note string) error {
	req.Stage, req.StageDue, req.Escalated = 0, time.Time{}, false
	if err := tx.MoveRequest(ctx, req, foyer.StateApproved, note); err != nil {
		return err
	}
	if err := tx.AppendAudit(ctx, store.AuditEntry{Kind: store.AuditChange, Actor: by, RequestID: req.ID, Op: "approve request",
		Target: string(req.Email), Detail: note}); err != nil {
		return err
	}
	if _, _, err := q.InsertTx(ctx, tx, ProvisionRequestArgs{RequestID: req.ID, By: by}, nil); err != nil {
		return fmt.Errorf("enqueue the provisioning of request %s: %w", req.ID, err)
	}
	if err := e.announce(ctx, tx, e.decisionAnnouncement(req, true, note)); err != nil {
		return err
	}
	return e.notify(ctx, tx, decisionNotice(req, true, ""))
}

// reject moves a request to rejected and tells the requester why.
func (e *Engine) reject(ctx context.Context, tx store.Tx, req *foyer.Request, by, reason string) error {
	req.StageDue = time.Time{}
	if err := tx.MoveRequest(ctx, req, foyer.StateRejected, reason); err != nil {
		return err
	}
	if err := tx.AppendAudit(ctx, store.AuditEntry{Kind: store.AuditChange, Actor: by, RequestID: req.ID, Op: "reject request",
		Target: string(req.Email), Detail: reason}); err != nil {
		return err
	}
	if err := e.announce(ctx, tx, e.decisionAnnouncement(req, false, reason)); err != nil {
		return err
	}
	return e.notify(ctx, tx, decisionNotice(req, false, reason))
}

// enterStage sends a request to an approval stage (its alternates when
// escalated): its due time, the job that acts when it passes, the notice
// to the approvers email reaches (notice_approvers.go) and the post to
// the channels (notice_channels.go).
func (e *Engine) enterStage(ctx context.Context, tx store.Tx, q store.Queue, req *foyer.Request, p *foyer.Profile, stage int, escalated bool) error {
	s := p.Approval.Stages[stage-1]
	req.Stage, req.Escalated, req.StageDue = stage, escalated, s.Due(e.now())
	note := fmt.Sprintf("waiting for approval stage %d", stage)
	if escalated {
		note = fmt.Sprintf("approval stage %d escalated to its alternates", stage)
	}
	var err error
	if req.State == foyer.StatePendingApproval {
		if err = tx.UpdateRequest(ctx, req); err == nil {
			err = tx.AppendAudit(ctx, store.AuditEntry{Kind: store.AuditChange, Actor: e.actor(), RequestID: req.ID, Op: "approval stage",
				Target: string(req.Email), Detail: note})
		}
	} else {
		err = tx.MoveRequest(ctx, req, foyer.StatePendingApproval, note)
	}
	if err != nil {
		return err
	}
	args := TimeoutArgs{RequestID: req.ID, Stage: stage, Escalated: escalated}
	if _, _, err := q.InsertTx(ctx, tx, args, &river.InsertOpts{Queue: queueIntake, ScheduledAt: req.StageDue}); err != nil {
		return fmt.Errorf("enqueue the time limit of request %s: %w", req.ID, err)
	}
	approvers := s.Deciders(escalated)
	if err := e.announce(ctx, tx, e.awaitAnnouncement(req, len(p.Approval.Stages))); err != nil {
		return err
	}
	return e.tellApprovers(ctx, tx, q, req, approvers)
}

// Decide records an approver's decision on a request pending approval, at
// the stage it waits at: a denial rejects it, an approval sends it to the
// next stage or, at the last one, approves it (and it is provisioned).
// d.Stage, when set, must be the stage the request waits at (a decision
// made on a page that went stale is refused). Errors are those of
// foyer.CheckDecision, and ECONFLICT for an approver who decided the
// same stage already.
func (e *Engine) Decide(ctx context.Context, requestID string, who foyer.Principal, d foyer.Decision) (*foyer.Request, error) {
	q, err := e.currentQueue()
	if err != nil {
		return nil, foyer.Errorf(foyer.EUNAVAILABLE, "decisions cannot be taken now; try again later")
	}
	var req *foyer.Request
	err = e.Store.InTx(ctx, func(tx store.Tx) error {
		var err error
		if req, err = tx.Request(ctx, requestID); err != nil {
			return err
		}
		p, ok := e.Profiles[req.Profile]
		if !ok {
			return foyer.Errorf(foyer.EINVALID, "request %s names profile %q, which is not in the configuration", req.ID, req.Profile)
		}
		if d.Stage != 0 && req.State == foyer.StatePendingApproval && d.Stage != req.Stage {
			return foyer.Errorf(foyer.ECONFLICT, "request %s moved on to approval stage %d", req.ID, req.Stage)
		}
		d.RequestID, d.Stage, d.Approver, d.ApproverName, d.At = req.ID, req.Stage, who.ID, who.String(), tx.Now()
		if err := foyer.CheckDecision(req, p.Approval, req.Stage, req.Escalated, who, d); err != nil {
			return err
		}
		if err := tx.AddDecision(ctx, d); err != nil {
			if foyer.ErrorCode(err) == foyer.ECONFLICT {
				return foyer.Errorf(foyer.ECONFLICT, "%s already decided stage %d of request %s", who, d.Stage, req.ID)
			}
			return err
		}
		switch {
		case !d.Approve:
			return e.reject(ctx, tx, req, who.String(), fmt.Sprintf("denied by %s at stage %d: %s", who, d.Stage, d.Justification))
		case d.Stage < len(p.Approval.Stages):
			if err := tx.AppendAudit(ctx, store.AuditEntry{Kind: store.AuditChange, Actor: who.String(), RequestID: req.ID,
				Op: "approve stage", Target: string(req.Email), Detail: fmt.Sprintf("stage %d", d.Stage)}); err != nil {
				return err
			}
			return e.enterStage(ctx, tx, q, req, p, d.Stage+1, false)
		default:
			return e.approve(ctx, tx, q, req, who.String(), fmt.Sprintf("approved by %s at stage %d", who, d.Stage))
		}
	})
	if err != nil {
		return req, fmt.Errorf("decide request %s: %w", requestID, err)
	}
	return req, nil
}

// Pending returns the requests pending approval that who may decide now,
// oldest first, after the request afterID ("" from the first), at most
// limit (0: 100).
func (e *Engine) Pending(ctx context.Context, who foyer.Principal, afterID string, limit int) ([]*foyer.Request, error) {
	if limit <= 0 {
		limit = 100
	}
	var out []*foyer.Request
	errEnough := errors.New("enough")
	err := e.Store.InTx(ctx, func(tx store.Tx) error {
		out = out[:0]
		err := tx.Requests(ctx, store.RequestFilter{States: []foyer.State{foyer.StatePendingApproval}, AfterID: afterID},
			func(r *foyer.Request) error {
				p, ok := e.Profiles[r.Profile]
				if !ok {
					return nil
				}
				if foyer.CheckDecision(r, p.Approval, r.Stage, r.Escalated, who, foyer.Decision{Approve: true}) != nil {
					return nil
				}
				if out = append(out, r); len(out) >= limit {
					return errEnough
				}
				return nil
			})
		if errors.Is(err, errEnough) {
			return nil
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list the requests %s may decide: %w", who, err)
	}
	return out, nil
}

// TimeoutArgs is the job that acts when an approval stage's time runs
// out: it is scheduled at the stage's due time.
type TimeoutArgs struct {
	RequestID string `json:"request_id"`
	Stage     int    `json:"stage"`
	Escalated bool   `json:"escalated,omitempty"`
}

// Kind names the job in River.
func (TimeoutArgs) Kind() string { return "foyer.approval_timeout" }

// timeoutWorker escalates or rejects a request whose stage timed out. A
// request that moved on (decided, or at another stage) is left alone.
type timeoutWorker struct {
	river.WorkerDefaults[TimeoutArgs]
	e *Engine
}

func (w *timeoutWorker) Work(ctx context.Context, job *river.Job[TimeoutArgs]) error {
	e, a := w.e, job.Args
	if err := e.lostLease(); err != nil {
		return err
	}
	q, err := e.currentQueue()
	if err != nil {
		return err
	}
	var wait time.Duration
	err = e.Store.InTx(ctx, func(tx store.Tx) error {
		if err := e.holdLease(ctx, tx); err != nil {
			return err
		}
		req, err := tx.Request(ctx, a.RequestID)
		if foyer.ErrorCode(err) == foyer.ENOTFOUND {
			return nil
		}
		if err != nil {
			return err
		}
		if req.State != foyer.StatePendingApproval || req.Stage != a.Stage || req.Escalated != a.Escalated {
			return nil // decided, or at another stage, in time
		}
		if now := e.now(); now.Before(req.StageDue) {
			wait = req.StageDue.Sub(now)
			return nil
		}
		p, ok := e.Profiles[req.Profile]
		if !ok || a.Stage > len(p.Approval.Stages) {
			return e.reject(ctx, tx, req, e.actor(), "nobody decided in time")
		}
		s := p.Approval.Stages[a.Stage-1]
		if s.OnTimeout == foyer.TimeoutEscalate && !a.Escalated && !s.Alternates.Empty() {
			return e.enterStage(ctx, tx, q, req, p, a.Stage, true)
		}
		return e.reject(ctx, tx, req, e.actor(), fmt.Sprintf("nobody decided in time (approval stage %d)", a.Stage))
	})
	if err != nil {
		return fmt.Errorf("time out approval stage %d of request %s: %w", a.Stage, a.RequestID, err)
	}
	if wait > 0 {
		return river.JobSnooze(wait)
	}
	return nil
}

// ProvisionRequestArgs is the job that provisions an approved request: it
// plans the request as a run of one row, records the run in the name of
// who approved the request and approves it, which enqueues the run's job.
// It is inserted with the move to approved.
type ProvisionRequestArgs struct {
	RequestID string `json:"request_id" river:"unique"`
	By        string `json:"by"`
}

// Kind names the job in River.
func (ProvisionRequestArgs) Kind() string { return "foyer.provision_request" }

// InsertOpts puts it on the intake queue, one live job per request.
func (ProvisionRequestArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queueIntake, MaxAttempts: defaultMaxAttempts, UniqueOpts: uniqueAmongLive()}
}

type provisionRequestWorker struct {
	river.WorkerDefaults[ProvisionRequestArgs]
	e *Engine
}

// requestDigest names the run that provisions a request, so that an
// attempt that follows one cut off finds its run.
func requestDigest(requestID string) string {
	h := sha256.Sum256([]byte("request\x00" + requestID))
	return hex.EncodeToString(h[:])
}

func (w *provisionRequestWorker) Work(ctx context.Context, job *river.Job[ProvisionRequestArgs]) error {
	e, a := w.e, job.Args
	if err := e.lostLease(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, e.attemptTimeout())
	defer cancel()
	defer context.AfterFunc(e.workContext(), cancel)()
	var req *foyer.Request
	err := e.Store.InTx(ctx, func(tx store.Tx) error {
		var err error
		req, err = tx.Request(ctx, a.RequestID)
		return err
	})
	if err != nil {
		return fmt.Errorf("provision request %s: %w", a.RequestID, err)
	}
	if req.State != foyer.StateApproved {
		return nil // provisioned already, or failed
	}
	p, ok := e.Profiles[req.Profile]
	if !ok {
		return river.JobCancel(fmt.Errorf("request %s names profile %q, which is not loaded", req.ID, req.Profile))
	}
	digest := requestDigest(req.ID)
	run, err := e.openRun(ctx, foyer.RunApply, req.Profile, digest)
	if err != nil {
		return err
	}
	if run != nil && run.State() == foyer.RunApplying {
		return nil // an earlier attempt approved it: its run job works it
	}
	if run == nil || run.State() != foyer.RunPlanned {
		row, err := e.planRequest(ctx, p, req)
		if err != nil {
			return err
		}
		if row.Action != foyer.ActionInvite && row.Action != foyer.ActionExists {
			return e.failRequest(ctx, req, row.Reason)
		}
		run, err = e.Record(ctx, RecordInput{Profile: req.Profile, Source: requestSource(req.ID), Digest: digest, RecordedBy: a.By,
			Plan: planRows([]foyer.Row{row})})
		if err != nil {
			return err
		}
	}
	_, err = e.Approve(ctx, run.ID, a.By)
	return err
}

// requestSource is the Source of the run that provisions a request.
func requestSource(requestID string) string { return "request " + requestID }

// planRequest plans a request as a row, with the engine's planner: who the
// directory has at the address and which of the profile's grants they hold.
func (e *Engine) planRequest(ctx context.Context, p *foyer.Profile, req *foyer.Request) (foyer.Row, error) {
	t, err := e.TenantOf(p.Name)
	if err != nil {
		return foyer.Row{}, fmt.Errorf("plan request %s: %w", req.ID, err)
	}
	pl := &Planner{Dir: t.Dir, Profile: p}
	held, err := pl.Holdings(ctx)
	if err != nil {
		return foyer.Row{}, fmt.Errorf("plan request %s: %w", req.ID, err)
	}
	in := foyer.Row{Line: 1, Email: req.Email, DisplayName: req.DisplayName, Company: req.Details.Company}
	var row foyer.Row
	err = pl.Plan(ctx, func(yield func(foyer.Row) error) error { return yield(in) }, held, func(r foyer.Row) error {
		row = r
		return nil
	})
	if err != nil {
		return row, fmt.Errorf("plan request %s: %w", req.ID, err)
	}
	return row, nil
}

// failRequest records that an approved request cannot be provisioned (a
// member of the tenant has the address now, say).
func (e *Engine) failRequest(ctx context.Context, req *foyer.Request, reason string) error {
	return e.Store.InTx(ctx, func(tx store.Tx) error {
		req.Failure = &foyer.Failure{Code: foyer.ECONFLICT, Message: reason, Step: "plan"}
		if err := tx.MoveRequest(ctx, req, foyer.StateFailed, reason); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, store.AuditEntry{Kind: store.AuditChange, Actor: e.actor(), RequestID: req.ID, Op: "fail request",
			Target: string(req.Email), Detail: reason})
	})
}

// planRows is a RecordInput.Plan that emits rows.
func planRows(rows []foyer.Row) func(context.Context, func(foyer.Row) error) error {
	return func(_ context.Context, emit func(foyer.Row) error) error {
		for _, r := range rows {
			if err := emit(r); err != nil {
				return err
			}
		}
		return nil
	}
}
