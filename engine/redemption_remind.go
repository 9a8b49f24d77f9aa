package engine

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/directory"
	"github.com/foyer-dev/foyer/store"
)

// Reminders: an invitation still pending Reminders.After after it was
// sent (then after the last reminder) is sent again, at most
// Reminders.Max times. Sending it again is POST /invitations for the same
// address: Entra answers with the existing guest (the same object, not a
// second guest) and a new redeem URL, and the previous one stops working.
// Each reminder is a step of its request, "remind N", started in the
// transaction that checks the lease and the tenant's block right before
// the invitation goes out (intent, with an audit entry) and finished with
// Graph's answer (outcome): the ledger counts them, so a reminder is never
// sent twice, even by a process killed half-way (a reminder whose outcome
// was lost counts as sent). Entra sends its own email for a profile whose
// sender is microsoft; for sender foyer, foyer's own email goes out with
// the new redeem URL, as step "remind N mail" (sent again with the same
// Message-ID if its outcome was lost). A profile whose sender is none gets
// no reminders: nobody would tell the guest.

func stepRemind(n int) string     { return "remind " + strconv.Itoa(n) }
func stepRemindMail(n int) string { return stepRemind(n) + " mail" }

// reminderState reads a request's reminder steps: how many were started,
// when the last one was started, and the number of one whose email is
// still owed (0: none).
func reminderState(steps []store.Step) (sent int, last time.Time, mailOwed int) {
	done := map[string]bool{}
	for _, s := range steps {
		if s.State == store.StepDone {
			done[s.Name] = true
		}
	}
	for _, s := range steps {
		rest, ok := strings.CutPrefix(s.Name, "remind ")
		if !ok || strings.HasSuffix(rest, " mail") {
			continue
		}
		n, err := strconv.Atoi(rest)
		if err != nil {
			continue
		}
		sent = max(sent, n)
		if s.StartedAt.After(last) {
			last = s.StartedAt
		}
		if s.State == store.StepDone && !done[stepRemindMail(n)] && (mailOwed == 0 || n > mailOwed) {
			mailOwed = n
		}
	}
	return sent, last, mailOwed
}

// invitedAt is when a request's invitation went out: its invite step's
// end, or when the request became invited.
func invitedAt(r *foyer.Request, steps []store.Step) time.Time {
	for _, s := range steps {
		if s.Name == stepInvite && s.State == store.StepDone && !s.FinishedAt.IsZero() {
			return s.FinishedAt
		}
	}
	return r.UpdatedAt
}

// RemindPending sends the reminders that are due, and the reminder emails
// foyer still owes. It needs the engine started (the lease fences every
// invitation). It returns how many invitations it sent again.
func (e *Engine) RemindPending(ctx context.Context) (int, error) {
	reqs, err := e.pendingRequests(ctx)
	if err != nil {
		return 0, err
	}
	now := e.now()
	sent := 0
	var errs []error
	for _, r := range reqs {
		p := e.Profiles[r.Profile]
		if p == nil || !p.Reminders.On() || p.Sender == foyer.SenderNone {
			continue
		}
		var steps []store.Step
		if err := e.Store.InTx(ctx, func(tx store.Tx) error {
			var err error
			steps, err = tx.RequestSteps(ctx, r.ID)
			return err
		}); err != nil {
			return sent, fmt.Errorf("read the steps of request %s: %w", r.ID, err)
		}
		n, last, owed := reminderState(steps)
		if owed > 0 && p.Sender == foyer.SenderFoyer {
			if err := e.reminderMail(ctx, r, p, owed); err != nil {
				errs = append(errs, err)
			}
			continue
		}
		if last.IsZero() {
			last = invitedAt(r, steps)
		}
		if n >= p.Reminders.Max || now.Before(last.Add(p.Reminders.After)) {
			continue
		}
		ok, err := e.remind(ctx, r, p, n+1)
		if err != nil {
			if errors.Is(err, ErrLeaseLost) {
				return sent, err
			}
			errs = append(errs, err)
		}
		if ok {
			sent++
		}
	}
	return sent, errors.Join(errs...)
}

// remindGate starts reminder n's step right before the invitation goes
// out, in the transaction that checks the lease, the tenant's block and
// that the request is still invited.
type remindGate struct {
	e     *Engine
	t     *Tenant
	r     *foyer.Request
	n     int
	tries atomic.Int32
}

func (g *remindGate) Admit(ctx context.Context) error {
	err := g.e.Store.InTx(ctx, func(tx store.Tx) error {
		if err := g.e.holdLease(ctx, tx); err != nil {
			return err
		}
		if err := g.e.checkBlock(ctx, tx, g.t); err != nil {
			return err
		}
		cur, err := tx.Request(ctx, g.r.ID)
		if err != nil {
			return err
		}
		if cur.State != foyer.StateInvited {
			return foyer.Errorf(foyer.ECONFLICT, "request %s is %s now, no longer invited", g.r.ID, cur.State)
		}
		if g.tries.Load() == 0 {
			// The step is started once: a second try within the same call
			// (a retried 429) is the same reminder. A step that exists
			// already was started by another call meanwhile: this one
			// sends nothing (the transaction, with its new attempt, is
			// rolled back).
			prev, err := tx.StartStep(ctx, g.r.ID, stepRemind(g.n))
			if err != nil {
				return err
			}
			if prev.Attempts > 0 {
				return foyer.Errorf(foyer.ECONFLICT, "reminder %d of request %s was already sent", g.n, g.r.ID)
			}
		}
		return tx.AppendAudit(ctx, store.AuditEntry{Kind: store.AuditIntent, Actor: g.e.actor(), RequestID: g.r.ID,
			Op: "remind " + strconv.Itoa(g.n), Target: g.r.Email.String()})
	})
	if err == nil {
		g.tries.Add(1)
	}
	return err
}

// remind sends reminder n of request r: the invitation again.
func (e *Engine) remind(ctx context.Context, r *foyer.Request, p *foyer.Profile, n int) (bool, error) {
	t, err := e.TenantOf(r.Profile)
	if err != nil {
		return false, err
	}
	if err := e.blockedErr(ctx, t); err != nil {
		return false, err
	}
	gate := &remindGate{e: e, t: t, r: r, n: n}
	inv, err := t.Dir.Invite(directory.WithGate(ctx, gate), directory.Invitation{
		Email: r.Email, DisplayName: r.DisplayName, RedirectURL: p.RedirectURL,
		SendEmail: p.Sender == foyer.SenderMicrosoft, Message: p.Message, Language: p.Language, CC: p.CC,
	})
	if gate.tries.Load() == 0 {
		if err != nil && foyer.ErrorCode(err) != foyer.ECONFLICT {
			return false, fmt.Errorf("remind %s: %w", r.Email, err)
		}
		// Nothing sent: another call sent this reminder meanwhile, or the
		// request is no longer invited.
		return false, nil
	}
	op := "remind " + strconv.Itoa(n)
	step := store.Step{RequestID: r.ID, Name: stepRemind(n), State: store.StepDone, Result: inv.UserID, GraphID: inv.RequestID}
	var audit store.AuditEntry
	switch {
	case err == nil:
		audit = store.AuditEntry{Kind: store.AuditOutcome, Actor: e.actor(), RequestID: r.ID, Op: op, Target: r.Email.String(), GraphID: inv.RequestID}
	case directory.OutcomeUnknown(err):
		// Left started: it counts as sent, and is never sent again.
		wctx := context.WithoutCancel(ctx)
		return true, errors.Join(fmt.Errorf("remind %s: %w", r.Email, err), e.Store.InTx(wctx, func(tx store.Tx) error {
			return tx.AppendAudit(wctx, store.AuditEntry{Kind: store.AuditOutcome, Actor: e.actor(), RequestID: r.ID, Op: op,
				Target: r.Email.String(), Error: e.safeMessage(err), Detail: "outcome unknown"})
		}))
	default:
		step.State, step.Result, step.Error = store.StepFailed, "", e.safeMessage(err)
		audit = store.AuditEntry{Kind: store.AuditOutcome, Actor: e.actor(), RequestID: r.ID, Op: op, Target: r.Email.String(), Error: step.Error}
	}
	wctx := context.WithoutCancel(ctx)
	if terr := e.Store.InTx(wctx, func(tx store.Tx) error {
		if err := tx.FinishStep(wctx, step); err != nil {
			return err
		}
		if err := tx.AppendAudit(wctx, audit); err != nil {
			return err
		}
		if step.State != store.StepDone || p.Sender != foyer.SenderFoyer {
			return nil
		}
		// Kept until foyer's email with it is out.
		cur, err := tx.Request(wctx, r.ID)
		if err != nil {
			return err
		}
		cur.RedeemURL = inv.RedeemURL
		*r = *cur
		return tx.UpdateRequest(wctx, cur)
	}); terr != nil {
		return true, errors.Join(err, fmt.Errorf("record reminder %d of request %s: %w", n, r.ID, terr))
	}
	if err != nil {
		return true, fmt.Errorf("remind %s: %w", r.Email, err)
	}
	e.Log.Info("invitation sent again", "request", r.ID, "reminder", n, "to_domain", r.Email.Domain())
	if p.Sender == foyer.SenderFoyer {
		return true, e.reminderMail(ctx, r, p, n)
	}
	return true, nil
}

// reminderMail sends foyer's email for reminder n, recorded before and
// after like the invitation's own email.
func (e *Engine) reminderMail(ctx context.Context, r *foyer.Request, p *foyer.Profile, n int) error {
	if e.Mailer == nil {
		return foyer.Errorf(foyer.EINVALID, "profile %s sends its own invitation emails, but no SMTP server is configured", p.Name)
	}
	name := stepRemindMail(n)
	op := "send reminder " + strconv.Itoa(n) + "'s email"
	if err := e.Store.InTx(ctx, func(tx store.Tx) error {
		if err := e.holdLease(ctx, tx); err != nil {
			return err
		}
		if _, err := tx.StartStep(ctx, r.ID, name); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, store.AuditEntry{Kind: store.AuditIntent, Actor: e.actor(), RequestID: r.ID, Op: op, Target: r.Email.String()})
	}); err != nil {
		return err
	}
	redeem := r.RedeemURL
	if redeem == "" {
		redeem = p.RedirectURL // the answer was lost: the guest redeems just in time there
	}
	id := strings.NewReplacer("-", "", "_", "").Replace("foyer." + r.ID + ".remind" + strconv.Itoa(n))
	msgID, err := e.Mailer.SendInvitation(ctx, InvitationMail{ID: id, Profile: p.Name, To: r.Email, ToName: r.DisplayName,
		RedeemURL: redeem, Message: p.Message, Language: p.Language, CC: p.CC})
	wctx := context.WithoutCancel(ctx)
	return errors.Join(err, e.Store.InTx(wctx, func(tx store.Tx) error {
		step := store.Step{RequestID: r.ID, Name: name, State: store.StepDone, Result: msgID}
		audit := store.AuditEntry{Kind: store.AuditOutcome, Actor: e.actor(), RequestID: r.ID, Op: op, Target: r.Email.String(), Detail: "Message-ID " + msgID}
		if err != nil {
			step.State, step.Result, step.Error = store.StepFailed, "", e.safeMessage(err)
			audit.Error, audit.Detail = step.Error, ""
		}
		if err := tx.FinishStep(wctx, step); err != nil {
			return err
		}
		if err := tx.AppendAudit(wctx, audit); err != nil {
			return err
		}
		if step.State != store.StepDone {
			return nil
		}
		cur, err := tx.Request(wctx, r.ID)
		if err != nil {
			return err
		}
		if cur.RedeemURL == "" || cur.State != foyer.StateInvited {
			return nil
		}
		cur.RedeemURL = ""
		return tx.UpdateRequest(wctx, cur)
	}))
}
