package engine

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/riverqueue/river"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/notify"
	"github.com/foyer-dev/foyer/store"
)

// Extensions (docs/sweep.md, "Expiry"): the guest (through the link of
// the expiry notice), a sponsor (on /extend/{id}, extension_sponsor.go),
// an approver (on the approver UI) or an application (the API) asks for
// more time; the profile's approval policy decides it
// as it decides a request (route): at once for the automatic domains,
// else through its stages, each with its time limit as a River job. An
// approved extension appends, in the same transaction, the audit entry
// `expiry extend` that PlanExpiry reads as the new end, the same entry
// foyer guests extend writes. When access ends while an extension is
// pending, it lapses (revoke.go). A profile whose policy cannot decide
// for the guest's domain is extended by an administrator only.

// Audit operations of extensions.
const (
	opAskExtension     = "ask extension"
	opApproveExtension = "approve extension"
	opExtensionStage   = "approve extension stage"
	opRejectExtension  = "reject extension"
	opLapseExtension   = "lapse extension"
)

// AskExtension asks, in who's name (a signed-in employee or an
// application), for the access of a request to end at until instead.
// Errors are *foyer.Error meant for who asked: ENOTFOUND for an unknown
// request, EFORBIDDEN for a guest of the tenant or a profile whose policy
// cannot decide for the guest, ECONFLICT for a request that holds no
// access or has an extension pending, EINVALID for an end not later than
// the current one or beyond the profile's extension_max.
func (e *Engine) AskExtension(ctx context.Context, requestID string, who foyer.Principal, until time.Time, justification string) (*foyer.Extension, error) {
	if who.Guest() {
		return nil, foyer.Errorf(foyer.EFORBIDDEN, "guests of the tenant ask for more time through the link of the notice they were sent")
	}
	return e.askExtension(ctx, requestID, who.String(), until, justification)
}

// AskExtensionByLink asks, in the guest's name, for more time for the
// access of the request a link (the expiry notice's, or any status link
// whose address was proved) shows. Errors are AskExtension's, and
// Status's for the link.
func (e *Engine) AskExtensionByLink(ctx context.Context, token string, until time.Time, justification string) (*foyer.Extension, error) {
	v, err := e.Status(ctx, token)
	if err != nil {
		return nil, err
	}
	if !v.Verified {
		return nil, foyer.Errorf(foyer.EFORBIDDEN, "confirm your address first")
	}
	return e.askExtension(ctx, v.Request.ID, foyer.GuestAsker(v.Request.Email), until, justification)
}

// askExtension checks and records an extension and routes it by the
// profile's policy, in one transaction.
func (e *Engine) askExtension(ctx context.Context, requestID, askedBy string, until time.Time, justification string) (*foyer.Extension, error) {
	justification = strings.TrimSpace(justification)
	if n := utf8.RuneCountInString(justification); n > maxJustification {
		return nil, foyer.Errorf(foyer.EINVALID, "the justification has %d characters, over %d", n, maxJustification)
	}
	// The end is kept to the second, as the audit entry that moves it.
	until = until.UTC().Truncate(time.Second)
	q, err := e.currentQueue()
	if err != nil {
		return nil, foyer.Errorf(foyer.EUNAVAILABLE, "extensions cannot be asked for now; try again later")
	}
	var x *foyer.Extension
	err = e.Store.InTx(ctx, func(tx store.Tx) error {
		req, err := tx.Request(ctx, requestID)
		if err != nil {
			return err
		}
		p, ok := e.Profiles[req.Profile]
		if !ok {
			return foyer.Errorf(foyer.EINVALID, "request %s names profile %q, which is not in the configuration", req.ID, req.Profile)
		}
		end, err := e.checkExtensible(ctx, tx, req, p)
		if err != nil {
			return err
		}
		now := e.now()
		limit := now.Add(p.ExtensionMaxOf())
		switch {
		case !until.After(end):
			return foyer.Errorf(foyer.EINVALID, "the end asked for, %s, is not later than the current end of access, %s",
				until.Format(time.RFC3339), end.UTC().Format(time.RFC3339))
		case until.After(limit):
			return foyer.Errorf(foyer.EINVALID, "the end asked for, %s, is beyond profile %s's extension_max (%s from now): at most %s",
				until.Format(time.RFC3339), p.Name, days(p.ExtensionMaxOf()), limit.Format(time.RFC3339))
		}
		x = &foyer.Extension{ID: e.NewID(), RequestID: req.ID, Until: until, Justification: justification, AskedBy: askedBy,
			State: foyer.ExtensionPending}
		detail := "until " + until.Format(time.RFC3339)
		if justification != "" {
			detail += ": " + justification
		}
		if err := tx.AppendAudit(ctx, store.AuditEntry{Kind: store.AuditChange, Actor: askedBy, RequestID: req.ID, Op: opAskExtension,
			Target: x.ID, Detail: detail}); err != nil {
			return err
		}
		if p.Approval.Automatic(req.Email) {
			x.State, x.DecidedBy, x.Note = foyer.ExtensionApproved, policyActor, "approved by the profile's policy for "+req.Email.Domain()
			if err := tx.CreateExtension(ctx, x); err != nil {
				return err
			}
			return e.extensionApproved(ctx, tx, req, x)
		}
		s := p.Approval.Stages[0]
		x.Stage, x.StageDue = 1, s.Due(now)
		if err := tx.CreateExtension(ctx, x); err != nil {
			return err
		}
		return e.enterExtensionStage(ctx, tx, q, req, x, p)
	})
	if err != nil {
		return nil, fmt.Errorf("ask for more time for request %s: %w", requestID, err)
	}
	return x, nil
}

// days writes a duration in days when it is whole days.
func days(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}

// checkExtensible returns the current end of a request's access, or why
// no extension of it may be asked for: its profile's access does not end,
// it holds no access, or the profile's policy cannot decide for the
// guest's domain.
func (e *Engine) checkExtensible(ctx context.Context, tx store.Tx, req *foyer.Request, p *foyer.Profile) (time.Time, error) {
	switch {
	case !ends(p):
		return time.Time{}, foyer.Errorf(foyer.EINVALID, "profile %s has neither expiry nor expires_on: its access does not end", p.Name)
	case req.State != foyer.StateInvited && req.State != foyer.StateActive:
		return time.Time{}, foyer.Errorf(foyer.ECONFLICT, "the request of %s for profile %s is %s: only access granted (invited or active) is extended",
			req.Email, p.Name, req.State)
	case !p.Approval.CanDecide(req.Email):
		return time.Time{}, foyer.Errorf(foyer.EFORBIDDEN, "profile %s has no approval policy for %s: an administrator extends with foyer guests extend",
			p.Name, req.Email.Domain())
	}
	end, ok, err := e.accessEnd(ctx, tx, req, p)
	if err != nil {
		return time.Time{}, err
	}
	if !ok {
		return time.Time{}, foyer.Errorf(foyer.ECONFLICT, "the request of %s for profile %s has no record of its grant", req.Email, p.Name)
	}
	return end, nil
}

// accessEnd returns when a request's access ends, as PlanExpiry reads it:
// the profile's end from the grant, moved by the latest extension since
// (foyer guests extend or an approved extension); false when the
// request holds no access or its profile's access does not end.
func (e *Engine) accessEnd(ctx context.Context, tx store.Tx, req *foyer.Request, p *foyer.Profile) (time.Time, bool, error) {
	if !ends(p) || (req.State != foyer.StateInvited && req.State != foyer.StateActive) {
		return time.Time{}, false, nil
	}
	hist, err := tx.History(ctx, req.ID)
	if err != nil {
		return time.Time{}, false, err
	}
	granted := grantedAt(hist)
	if granted.IsZero() {
		return time.Time{}, false, nil
	}
	end := endOf(p, granted)
	err = tx.AuditLog(ctx, store.AuditFilter{RequestID: req.ID}, func(a store.AuditEntry) error {
		if a.Op == opExpiryExtend && !a.At.Before(granted) {
			if t, err := time.Parse(time.RFC3339, a.Detail); err == nil {
				end = t
			}
		}
		return nil
	})
	if err != nil {
		return time.Time{}, false, err
	}
	return end.UTC(), true, nil
}

// AccessEnds returns when the access of a request ends, and false when it
// does not (its profile's access does not end, or it holds none).
// ENOTFOUND for an unknown request.
func (e *Engine) AccessEnds(ctx context.Context, requestID string) (time.Time, bool, error) {
	var (
		end time.Time
		ok  bool
	)
	err := e.Store.InTx(ctx, func(tx store.Tx) error {
		req, err := tx.Request(ctx, requestID)
		if err != nil {
			return err
		}
		p := e.Profiles[req.Profile]
		if p == nil {
			end, ok = time.Time{}, false
			return nil
		}
		end, ok, err = e.accessEnd(ctx, tx, req, p)
		return err
	})
	if err != nil {
		return time.Time{}, false, fmt.Errorf("read the end of the access of request %s: %w", requestID, err)
	}
	return end, ok, nil
}

// extensionView fills, in tx, what a RequestView shows of the end of
// access: the end, the latest extension, and whether more time may be
// asked for now.
func (e *Engine) extensionView(ctx context.Context, tx store.Tx, v *foyer.RequestView) error {
	req := v.Request
	err := tx.Extensions(ctx, store.ExtensionFilter{RequestID: req.ID}, func(x *foyer.Extension) error {
		v.Extension = x
		return nil
	})
	if err != nil {
		return err
	}
	p := e.Profiles[req.Profile]
	if p == nil {
		return nil
	}
	end, ok, err := e.accessEnd(ctx, tx, req, p)
	if err != nil || !ok {
		return err
	}
	v.AccessEnds = end
	v.CanExtend = p.Approval.CanDecide(req.Email) && (v.Extension == nil || v.Extension.State != foyer.ExtensionPending)
	return nil
}

// enterExtensionStage sends a pending extension to the stage x.Stage
// names (its alternates when escalated): its time limit's job and the
// notice to the approvers email reaches.
func (e *Engine) enterExtensionStage(ctx context.Context, tx store.Tx, q store.Queue, req *foyer.Request, x *foyer.Extension, p *foyer.Profile) error {
	args := ExtensionTimeoutArgs{ExtensionID: x.ID, Stage: x.Stage, Escalated: x.Escalated}
	if _, _, err := q.InsertTx(ctx, tx, args, &river.InsertOpts{Queue: queueIntake, ScheduledAt: x.StageDue}); err != nil {
		return fmt.Errorf("enqueue the time limit of extension %s: %w", x.ID, err)
	}
	approvers := p.Approval.Stages[x.Stage-1].Deciders(x.Escalated)
	if err := e.announce(ctx, tx, e.extensionAnnouncement(req, x, len(p.Approval.Stages))); err != nil {
		return err
	}
	if e.Postman == nil {
		return nil
	}
	if len(approvers.Groups) > 0 {
		// Reading the groups' members is a directory call: a job does it,
		// as for a request's stage.
		args := ApproverNoticeArgs{RequestID: req.ID, Stage: x.Stage, Escalated: x.Escalated, ExtensionID: x.ID}
		if _, _, err := q.InsertTx(ctx, tx, args, nil); err != nil {
			return fmt.Errorf("enqueue the approvers' notice of extension %s: %w", x.ID, err)
		}
		return nil
	}
	to := mailable(approvers, req.Details.Sponsor)
	if len(to) == 0 {
		return nil
	}
	return e.notify(ctx, tx, e.extensionAwaitNotice(req, x, to))
}

// extensionApproved moves the end, in tx, for an extension just approved
// (x already in its final state): the audit entry expiry reads, and the
// notice to the guest, the sponsors and whoever asked.
func (e *Engine) extensionApproved(ctx context.Context, tx store.Tx, req *foyer.Request, x *foyer.Extension) error {
	if err := tx.AppendAudit(ctx, store.AuditEntry{Kind: store.AuditChange, Actor: x.DecidedBy, RequestID: req.ID,
		Op: opApproveExtension, Target: x.ID, Detail: x.Note}); err != nil {
		return err
	}
	if err := tx.AppendAudit(ctx, store.AuditEntry{Kind: store.AuditChange, Actor: x.DecidedBy, RequestID: req.ID,
		Op: opExpiryExtend, Target: req.UserID, Detail: x.Until.UTC().Format(time.RFC3339)}); err != nil {
		return err
	}
	return e.notify(ctx, tx, extensionDecisionNotice(req, x, e.extensionParties(req, x)))
}

// extensionRejected records, in tx, an extension denied (x already in its
// final state) and tells the guest, the sponsors and whoever asked.
func (e *Engine) extensionRejected(ctx context.Context, tx store.Tx, req *foyer.Request, x *foyer.Extension) error {
	if err := tx.AppendAudit(ctx, store.AuditEntry{Kind: store.AuditChange, Actor: x.DecidedBy, RequestID: req.ID,
		Op: opRejectExtension, Target: x.ID, Detail: x.Note}); err != nil {
		return err
	}
	return e.notify(ctx, tx, extensionDecisionNotice(req, x, e.extensionParties(req, x)))
}

// extensionParties are who is told of an extension's decision: the
// guest, the sponsors the ledger knows by address, and whoever asked
// when their name is an address.
func (e *Engine) extensionParties(req *foyer.Request, x *foyer.Extension) []foyer.Address {
	to := append([]foyer.Address{req.Email}, e.sponsorsOf(req)...)
	if strings.Contains(x.AskedBy, "@") && !strings.HasPrefix(x.AskedBy, "guest ") {
		if a, err := foyer.ParseAddress(x.AskedBy); err == nil {
			to = append(to, a)
		}
	}
	return to
}

// DecideExtension records an approver's decision on a pending extension,
// at the stage it waits at: a denial rejects it, an approval sends it to
// the next stage or, at the last one, approves it and moves the end.
// d.Stage, when set, must be the stage the extension waits at (a decision
// made on a page that went stale is refused). Errors are those of
// foyer.CheckExtensionDecision, ENOTFOUND for an unknown extension, and
// ECONFLICT when the request no longer holds access or the stage moved.
func (e *Engine) DecideExtension(ctx context.Context, id string, who foyer.Principal, d foyer.Decision) (*foyer.Extension, error) {
	approve, justification := d.Approve, d.Justification
	q, err := e.currentQueue()
	if err != nil {
		return nil, foyer.Errorf(foyer.EUNAVAILABLE, "decisions cannot be taken now; try again later")
	}
	justification = strings.TrimSpace(justification)
	var x *foyer.Extension
	err = e.Store.InTx(ctx, func(tx store.Tx) error {
		var err error
		if x, err = tx.Extension(ctx, id); err != nil {
			return err
		}
		req, err := tx.Request(ctx, x.RequestID)
		if err != nil {
			return err
		}
		p, ok := e.Profiles[req.Profile]
		if !ok {
			return foyer.Errorf(foyer.EINVALID, "request %s names profile %q, which is not in the configuration", req.ID, req.Profile)
		}
		if err := foyer.CheckExtensionDecision(req, x, p.Approval, who, approve, justification); err != nil {
			return err
		}
		if d.Stage != 0 && d.Stage != x.Stage {
			return foyer.Errorf(foyer.ECONFLICT, "the extension %s waits at stage %d now, not %d: look at it again before deciding", x.ID, x.Stage, d.Stage)
		}
		if req.State != foyer.StateInvited && req.State != foyer.StateActive {
			return foyer.Errorf(foyer.ECONFLICT, "the request of %s for profile %s is %s: its access is not extended", req.Email, p.Name, req.State)
		}
		stage := x.Stage
		switch {
		case !approve:
			x.State, x.Stage, x.StageDue, x.DecidedBy = foyer.ExtensionRejected, 0, time.Time{}, who.String()
			x.Note = justification // DecidedBy names the approver; the guest is told this
			if err := tx.MoveExtension(ctx, x, foyer.ExtensionPending); err != nil {
				return err
			}
			return e.extensionRejected(ctx, tx, req, x)
		case stage < len(p.Approval.Stages):
			if err := tx.AppendAudit(ctx, store.AuditEntry{Kind: store.AuditChange, Actor: who.String(), RequestID: req.ID,
				Op: opExtensionStage, Target: x.ID, Detail: fmt.Sprintf("stage %d", stage)}); err != nil {
				return err
			}
			x.Stage, x.Escalated, x.StageDue = stage+1, false, p.Approval.Stages[stage].Due(e.now())
			if err := tx.MoveExtension(ctx, x, foyer.ExtensionPending); err != nil {
				return err
			}
			return e.enterExtensionStage(ctx, tx, q, req, x, p)
		default:
			x.State, x.Stage, x.StageDue, x.DecidedBy = foyer.ExtensionApproved, 0, time.Time{}, who.String()
			x.Note = fmt.Sprintf("approved by %s at stage %d", who, stage)
			if justification != "" {
				x.Note += ": " + justification
			}
			if err := tx.MoveExtension(ctx, x, foyer.ExtensionPending); err != nil {
				return err
			}
			return e.extensionApproved(ctx, tx, req, x)
		}
	})
	if err != nil {
		return x, fmt.Errorf("decide extension %s: %w", id, err)
	}
	return x, nil
}

// PendingExtensions returns the extensions pending approval that who may
// decide now, oldest first, at most limit (0: 100), each as a view of its
// request with the extension and the current end of access (no history).
func (e *Engine) PendingExtensions(ctx context.Context, who foyer.Principal, limit int) ([]foyer.RequestView, error) {
	if limit <= 0 {
		limit = 100
	}
	var out []foyer.RequestView
	err := e.Store.InTx(ctx, func(tx store.Tx) error {
		out = out[:0]
		var xs []*foyer.Extension
		err := tx.Extensions(ctx, store.ExtensionFilter{States: []foyer.ExtensionState{foyer.ExtensionPending}}, func(x *foyer.Extension) error {
			xs = append(xs, x)
			return nil
		})
		if err != nil {
			return err
		}
		for _, x := range xs {
			req, err := tx.Request(ctx, x.RequestID)
			if err != nil {
				return err
			}
			p, ok := e.Profiles[req.Profile]
			if !ok || foyer.CheckExtensionDecision(req, x, p.Approval, who, true, "") != nil {
				continue
			}
			end, _, err := e.accessEnd(ctx, tx, req, p)
			if err != nil {
				return err
			}
			if out = append(out, foyer.RequestView{Request: req, Extension: x, AccessEnds: end, Verified: true}); len(out) >= limit {
				return nil
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list the extensions %s may decide: %w", who, err)
	}
	return out, nil
}

// lapseExtensions moves, in tx, the pending extensions of a request whose
// access ended (or was taken back) to lapsed: nobody decides them any
// more.
func (e *Engine) lapseExtensions(ctx context.Context, tx store.Tx, requestID, why string) error {
	var xs []*foyer.Extension
	err := tx.Extensions(ctx, store.ExtensionFilter{RequestID: requestID, States: []foyer.ExtensionState{foyer.ExtensionPending}},
		func(x *foyer.Extension) error {
			xs = append(xs, x)
			return nil
		})
	if err != nil {
		return err
	}
	for _, x := range xs {
		x.State, x.Stage, x.StageDue, x.DecidedBy, x.Note = foyer.ExtensionLapsed, 0, time.Time{}, e.actor(), why
		if err := tx.MoveExtension(ctx, x, foyer.ExtensionPending); err != nil {
			return err
		}
		if err := tx.AppendAudit(ctx, store.AuditEntry{Kind: store.AuditChange, Actor: e.actor(), RequestID: requestID,
			Op: opLapseExtension, Target: x.ID, Detail: why}); err != nil {
			return err
		}
	}
	return nil
}

// ExtensionTimeoutArgs is the job that acts when an extension's approval
// stage's time runs out: it is scheduled at the stage's due time.
type ExtensionTimeoutArgs struct {
	ExtensionID string `json:"extension_id"`
	Stage       int    `json:"stage"`
	Escalated   bool   `json:"escalated,omitempty"`
}

// Kind names the job in River.
func (ExtensionTimeoutArgs) Kind() string { return "foyer.extension_timeout" }

// extensionTimeoutWorker escalates or rejects an extension whose stage
// timed out, as timeoutWorker does for a request. An extension that moved
// on is left alone.
type extensionTimeoutWorker struct {
	river.WorkerDefaults[ExtensionTimeoutArgs]
	e *Engine
}

func (w *extensionTimeoutWorker) Work(ctx context.Context, job *river.Job[ExtensionTimeoutArgs]) error {
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
		x, err := tx.Extension(ctx, a.ExtensionID)
		if foyer.ErrorCode(err) == foyer.ENOTFOUND {
			return nil
		}
		if err != nil {
			return err
		}
		if x.State != foyer.ExtensionPending || x.Stage != a.Stage || x.Escalated != a.Escalated {
			return nil // decided, lapsed, or at another stage, in time
		}
		if now := e.now(); now.Before(x.StageDue) {
			wait = x.StageDue.Sub(now)
			return nil
		}
		req, err := tx.Request(ctx, x.RequestID)
		if err != nil {
			return err
		}
		p, ok := e.Profiles[req.Profile]
		if ok && a.Stage <= len(p.Approval.Stages) {
			s := p.Approval.Stages[a.Stage-1]
			if s.OnTimeout == foyer.TimeoutEscalate && !a.Escalated && !s.Alternates.Empty() {
				x.Escalated, x.StageDue = true, s.Due(e.now())
				if err := tx.MoveExtension(ctx, x, foyer.ExtensionPending); err != nil {
					return err
				}
				if err := tx.AppendAudit(ctx, store.AuditEntry{Kind: store.AuditChange, Actor: e.actor(), RequestID: req.ID,
					Op: "extension stage", Target: x.ID, Detail: fmt.Sprintf("approval stage %d escalated to its alternates", a.Stage)}); err != nil {
					return err
				}
				return e.enterExtensionStage(ctx, tx, q, req, x, p)
			}
		}
		x.State, x.Stage, x.StageDue, x.DecidedBy = foyer.ExtensionRejected, 0, time.Time{}, e.actor()
		x.Note = fmt.Sprintf("nobody decided in time (approval stage %d)", a.Stage)
		if err := tx.MoveExtension(ctx, x, foyer.ExtensionPending); err != nil {
			return err
		}
		return e.extensionRejected(ctx, tx, req, x)
	})
	if err != nil {
		return fmt.Errorf("time out approval stage %d of extension %s: %w", a.Stage, a.ExtensionID, err)
	}
	if wait > 0 {
		return river.JobSnooze(wait)
	}
	return nil
}

// extensionAwaitNotice tells a stage's approvers that an extension awaits
// them, with the link to the request's page.
func (e *Engine) extensionAwaitNotice(r *foyer.Request, x *foyer.Extension, to []foyer.Address) Notice {
	kind := "extension-await"
	if x.Escalated {
		kind = "extension-escalated"
	}
	n := Notice{To: to, Language: "en", ID: noticeID(r.ID, kind, x.ID+"."+fmt.Sprint(x.Stage))}
	who := guestName(r)
	n.Subject = "More time for the access of " + who + " to " + r.Profile + " awaits your decision"
	var b strings.Builder
	fmt.Fprintf(&b, "Hello,\n\n%s asks that the access of %s to %s end on %s.\n", x.AskedBy, who, r.Profile,
		x.Until.UTC().Format("2 January 2006 15:04 MST"))
	if x.Justification != "" {
		fmt.Fprintf(&b, "Justification: %s\n", x.Justification)
	}
	fmt.Fprintf(&b, "\nApproval stage %d", x.Stage)
	if x.Escalated {
		b.WriteString(" (escalated: nobody decided in time)")
	}
	fmt.Fprintf(&b, "; it times out on %s.\n\nDecide here (you will be asked to sign in):\n\n%s\n",
		x.StageDue.UTC().Format("2 January 2006 15:04 MST"), e.link("/admin/requests/"+r.ID))
	n.Text = b.String()
	return n
}

// extensionAnnouncement tells a channel that an extension awaits a stage's
// approvers (its alternates once escalated). Like every announcement it
// carries no guest's link, only the approvers' page of the request.
func (e *Engine) extensionAnnouncement(r *foyer.Request, x *foyer.Extension, stages int) notify.Announcement {
	kind := "extension-await"
	head := fmt.Sprintf("More time for the access of %s to %s awaits approval (stage %d of %d)", r.Email, r.Profile, x.Stage, stages)
	if x.Escalated {
		kind = "extension-escalated"
		head = fmt.Sprintf("More time for the access of %s to %s was escalated: nobody decided stage %d of %d in time", r.Email, r.Profile, x.Stage, stages)
	}
	a := e.requestAnnouncement(r, kind, x.ID+"."+fmt.Sprint(x.Stage), head)
	a.Facts = append(a.Facts,
		notify.Fact{Label: "Asked by", Value: x.AskedBy},
		notify.Fact{Label: "Until", Value: x.Until.UTC().Format("2 January 2006 15:04 MST")},
		notify.Fact{Label: "Times out", Value: x.StageDue.UTC().Format("2 January 2006 15:04 MST")})
	if x.Justification != "" {
		a.Text = "Justification: " + x.Justification
	}
	a.LinkText = "Decide (sign-in required)"
	return a
}

// extensionDecisionNotice tells the guest, the sponsors and whoever asked
// that an extension was approved (and the new end) or not (and why).
func extensionDecisionNotice(r *foyer.Request, x *foyer.Extension, to []foyer.Address) Notice {
	who := guestName(r)
	day := x.Until.UTC().Format("2006-01-02 15:04 MST")
	n := Notice{To: to, Language: "en", ID: noticeID(r.ID, "extension-"+string(x.State), x.ID)}
	if x.State == foyer.ExtensionApproved {
		n.Subject = "The guest access of " + who + " to " + r.Profile + " now ends on " + day
		n.Text = "Hello,\n\nMore time was given: the guest access of " + who + " to " + r.Profile + " now ends on " + day + ".\n"
		return n
	}
	n.Subject = "More time for the guest access of " + who + " to " + r.Profile + " was not given"
	n.Text = "Hello,\n\nThe access of " + who + " to " + r.Profile + " was not extended to " + day + ". " + x.Note + "\n"
	return n
}

// guestName is a request's person as notices name them.
func guestName(r *foyer.Request) string {
	if r.DisplayName != "" {
		return r.DisplayName + " <" + string(r.Email) + ">"
	}
	return string(r.Email)
}
