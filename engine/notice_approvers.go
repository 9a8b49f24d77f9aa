package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/directory"
	"github.com/foyer-dev/foyer/store"
)

// A stage whose approvers include groups is told by a job, inserted with
// the move that enters the stage: reading a group's members is a directory
// call, which must not hold the ledger's transaction open. The job reads
// the members of every group of the stage (nested groups included), adds
// the approvers named by address and the sponsor, and inserts the notices,
// one per address, in the transaction that completes it, so that a retry
// after a crash never sends them twice. A request that moved on meanwhile
// (decided, timed out) is not told about.
//
// Approvers named by app role are not reached by email: the directory
// interface has no read of who holds one of foyer's own app roles. They
// are told through the Slack or Teams channel, when one is configured.

// maxApproverMails bounds how many approvers one stage emails: a stage
// given a tenant-wide group would otherwise mail everyone.
const maxApproverMails = 500

// ApproverNoticeArgs is the job that emails a stage's approvers when some
// are named by group.
type ApproverNoticeArgs struct {
	RequestID string `json:"request_id"`
	Stage     int    `json:"stage"`
	Escalated bool   `json:"escalated,omitempty"`
	// ExtensionID, when set, names the request's extension whose stage
	// is told about, rather than the request's own.
	ExtensionID string `json:"extension_id,omitempty"`
}

// Kind names the job in River.
func (ApproverNoticeArgs) Kind() string { return "foyer.approver_notice" }

// InsertOpts puts it on the notice queue, one live job per stage of a
// request, tried for about a day.
func (ApproverNoticeArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queueNotice, MaxAttempts: reportAttempts, UniqueOpts: uniqueAmongLive()}
}

// tellApprovers tells, in tx, the approvers of the stage req entered: at
// once by address, or through an ApproverNoticeArgs job when groups are
// named, whose members the directory must be asked about.
func (e *Engine) tellApprovers(ctx context.Context, tx store.Tx, q store.Queue, req *foyer.Request, approvers foyer.Approvers) error {
	if e.Postman == nil {
		return nil
	}
	if len(approvers.Groups) > 0 {
		args := ApproverNoticeArgs{RequestID: req.ID, Stage: req.Stage, Escalated: req.Escalated}
		if _, _, err := q.InsertTx(ctx, tx, args, nil); err != nil {
			return fmt.Errorf("enqueue the approvers' notice of request %s: %w", req.ID, err)
		}
		return nil
	}
	to := mailable(approvers, req.Details.Sponsor)
	if len(to) == 0 {
		e.Log.Info("no approver of this stage has an address to email", "request", req.ID, "stage", req.Stage, "escalated", req.Escalated)
		return nil
	}
	return e.notify(ctx, tx, e.awaitNotice(req, to))
}

// stageApprovers returns who decides the stage a request waits at, and
// false when it no longer waits at the stage a job was made for.
func (e *Engine) stageApprovers(req *foyer.Request, a ApproverNoticeArgs) (foyer.Approvers, bool) {
	p, ok := e.Profiles[req.Profile]
	if !ok || req.State != foyer.StatePendingApproval || req.Stage != a.Stage || req.Escalated != a.Escalated ||
		a.Stage < 1 || a.Stage > len(p.Approval.Stages) {
		return foyer.Approvers{}, false
	}
	return p.Approval.Stages[a.Stage-1].Deciders(a.Escalated), true
}

// extensionStageApprovers returns who decides the stage an extension
// waits at, and false when it no longer waits at the stage a job was made
// for.
func (e *Engine) extensionStageApprovers(req *foyer.Request, x *foyer.Extension, a ApproverNoticeArgs) (foyer.Approvers, bool) {
	p, ok := e.Profiles[req.Profile]
	if !ok || x.RequestID != req.ID || x.State != foyer.ExtensionPending || x.Stage != a.Stage || x.Escalated != a.Escalated ||
		a.Stage < 1 || a.Stage > len(p.Approval.Stages) {
		return foyer.Approvers{}, false
	}
	return p.Approval.Stages[a.Stage-1].Deciders(a.Escalated), true
}

type approverNoticeWorker struct {
	river.WorkerDefaults[ApproverNoticeArgs]
	e *Engine
}

func (w *approverNoticeWorker) NextRetry(job *river.Job[ApproverNoticeArgs]) time.Time {
	return w.e.Clock.Now().Add(reportBackoff(job.Attempt))
}

func (w *approverNoticeWorker) Work(ctx context.Context, job *river.Job[ApproverNoticeArgs]) error {
	e, a := w.e, job.Args
	if err := e.lostLease(); err != nil {
		return err
	}
	q, err := e.currentQueue()
	if err != nil {
		return err
	}
	var req *foyer.Request
	var x *foyer.Extension
	err = e.Store.InTx(ctx, func(tx store.Tx) error {
		if req, err = tx.Request(ctx, a.RequestID); err != nil || a.ExtensionID == "" {
			return err
		}
		x, err = tx.Extension(ctx, a.ExtensionID)
		return err
	})
	if foyer.ErrorCode(err) == foyer.ENOTFOUND {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read request %s to tell its approvers: %w", a.RequestID, err)
	}
	approvers, ok := e.stageApprovers(req, a)
	if x != nil {
		approvers, ok = e.extensionStageApprovers(req, x, a)
	}
	if !ok {
		return nil // decided or timed out before anyone was told
	}
	rctx, cancel := context.WithTimeout(ctx, e.attemptTimeout())
	defer cancel()
	defer context.AfterFunc(e.workContext(), cancel)()
	to, err := e.approverAddresses(rctx, req, approvers)
	if err != nil {
		e.Log.Warn("the approvers' groups could not be read; it will be tried again", "request", req.ID, "stage", a.Stage,
			"attempt", job.Attempt, "err", e.safeMessage(err))
		return err
	}
	return e.Store.InTx(ctx, func(tx store.Tx) error {
		req, err := tx.Request(ctx, a.RequestID)
		if err != nil {
			return err
		}
		if a.ExtensionID != "" {
			x, err := tx.Extension(ctx, a.ExtensionID)
			if err != nil {
				return err
			}
			if _, ok := e.extensionStageApprovers(req, x, a); ok && len(to) > 0 {
				if err := e.notify(ctx, tx, e.extensionAwaitNotice(req, x, to)); err != nil {
					return err
				}
			}
			return q.CompleteTx(ctx, tx, job.JobRow)
		}
		if _, ok := e.stageApprovers(req, a); ok && len(to) > 0 {
			if err := e.notify(ctx, tx, e.awaitNotice(req, to)); err != nil {
				return err
			}
		}
		return q.CompleteTx(ctx, tx, job.JobRow)
	})
}

// approverAddresses returns the addresses that reach a stage's approvers:
// those named by address, the sponsor, and every member of its groups who
// has a mail address or an address as user principal name; each once,
// never the requester, at most maxApproverMails. A group that no longer
// exists is skipped (and logged); any other failure is returned, to try
// again.
func (e *Engine) approverAddresses(ctx context.Context, req *foyer.Request, approvers foyer.Approvers) ([]foyer.Address, error) {
	seen := map[string]bool{req.Email.Key(): true}
	var to []foyer.Address
	add := func(a foyer.Address) {
		if !seen[a.Key()] && len(to) < maxApproverMails {
			seen[a.Key()] = true
			to = append(to, a)
		}
	}
	for _, a := range mailable(approvers, req.Details.Sponsor) {
		add(a)
	}
	var t *Tenant
	if len(approvers.Groups) > 0 {
		var err error
		if t, err = e.TenantOf(req.Profile); err != nil {
			return nil, fmt.Errorf("read the approvers groups of request %s: %w", req.ID, err)
		}
	}
	for _, g := range approvers.Groups {
		members, err := t.Dir.Members(ctx, g)
		if errors.Is(err, directory.ErrNotFound) {
			e.Log.Warn("an approvers group does not exist; its members are not told", "request", req.ID, "group", g)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read the members of approvers group %s: %w", g, err)
		}
		unreachable := 0
		for _, m := range members {
			if addr, ok := m.Reach(); ok {
				add(addr)
			} else {
				unreachable++
			}
		}
		if unreachable > 0 {
			e.Log.Info("members of an approvers group have no address to email", "request", req.ID, "group", g, "count", unreachable)
		}
	}
	if len(to) == maxApproverMails {
		e.Log.Warn("a stage's approvers are more than foyer emails; the rest are not told", "request", req.ID, "stage", req.Stage,
			"emailed", maxApproverMails)
	}
	return to, nil
}
