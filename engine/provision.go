package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/directory"
	"github.com/foyer-dev/foyer/store"
)

// provisionWorker invites one person if needed and gives them a profile's
// grants. Every directory write is recorded as a step before it is sent and
// after it answers, so that a job that dies anywhere is resumed without a
// second invitation.
type provisionWorker struct {
	river.WorkerDefaults[ProvisionArgs]
	e *Engine
}

// stepInvite is a request's one invitation: once done, the request knows its
// guest; once started, a later attempt (of any run) looks the person up
// before inviting.
const stepInvite = "invite"

// stepGrant names a grant's step within one run: a later run may find the
// grant missing again (someone removed it) and give it again.
func stepGrant(runID, key string) string { return "grant " + key + " @" + runID }

func (w *provisionWorker) Work(ctx context.Context, job *river.Job[ProvisionArgs]) error {
	e, a := w.e, job.Args
	if err := e.lostLease(); err != nil {
		return err
	}
	ctx, end := e.beginAttempt(ctx)
	defer end()
	mine, err := e.claim(ctx, job.JobRow, a.RunID, a.Line)
	if err != nil || !mine {
		return err
	}
	if !e.take(a.RequestID) {
		return river.JobSnooze(time.Second) // its other fetch is still at work here
	}
	defer e.release(a.RequestID)
	p := &provisioning{e: e, args: a, job: job}
	last := job.Attempt >= job.MaxAttempts
	if err := p.load(ctx); err != nil {
		switch {
		case ctx.Err() != nil && context.Cause(ctx) != errAttemptTimedOut:
			// Shutting down while the request was read (its transaction
			// cut off, even after the read itself succeeded): not the
			// row's failure. The job is available again at once.
			return river.JobSnooze(0)
		case !last && !permanent(err):
			return err
		case p.req != nil:
			return p.finish(ctx, err)
		}
		return e.failRow(ctx, a, err) // the request is gone: at least the row says why
	}
	err = p.run(ctx)
	var snooze *river.JobSnoozeError
	switch {
	case err == nil:
		return p.finish(ctx, nil)
	case errors.As(err, &snooze):
		return err // waiting: River puts the job back
	case errors.Is(err, ErrLeaseLost):
		return err // another process works the row now
	case context.Cause(ctx) == errAttemptTimedOut && !last:
		e.Log.Info("row attempt timed out; it will be retried", "line", a.Line, "attempt", job.Attempt)
		return err
	case context.Cause(ctx) == errAttemptTimedOut:
		return p.finish(ctx, foyer.Errorf(foyer.EINTERNAL, "gave up after %d attempts, the last cut off after %s: %s",
			job.Attempt, e.attemptTimeout(), e.safeMessage(err)))
	case ctx.Err() != nil:
		// Shutting down: the job is available again at once, without
		// counting an attempt.
		return river.JobSnooze(0)
	case !permanent(err) && !last:
		e.Log.Info("row will be retried", "line", a.Line, "attempt", job.Attempt, "err", err)
		return err
	default:
		return p.finish(ctx, err)
	}
}

// beginAttempt bounds one attempt of a row's job: it ends with its
// deadline (AttemptTimeout) and with the engine's work (Stop, or the lease
// lost), and every directory write it sends passes the lease's fence.
func (e *Engine) beginAttempt(ctx context.Context) (context.Context, func()) {
	ctx, cancel := context.WithTimeoutCause(ctx, e.attemptTimeout(), errAttemptTimedOut)
	stop := context.AfterFunc(e.workContext(), cancel)
	return directory.WithGate(ctx, fence{e}), func() { stop(); cancel() }
}

// errAttemptTimedOut is the cause of an attempt cut off by AttemptTimeout.
var errAttemptTimedOut = errors.New("the attempt timed out")

func (e *Engine) attemptTimeout() time.Duration {
	if e.AttemptTimeout <= 0 {
		return 10 * time.Minute
	}
	return e.AttemptTimeout
}

// claim says whether job is still the job its row names and its run is
// being applied by this engine. A job its row no longer names (a newer job
// replaced it) is completed doing nothing. A job of a run this engine is not
// applying (an interrupted run of another profile, left in the queue) is
// given back: its row forgets it, so the next apply of that run enqueues it
// again, and the job is completed.
func (e *Engine) claim(ctx context.Context, job *rivertype.JobRow, runID string, line int) (bool, error) {
	q, err := e.currentQueue()
	if err != nil {
		return false, err
	}
	active := e.isActive(runID) || e.Service
	mine := false
	err = e.Store.InTx(ctx, func(tx store.Tx) error {
		id, err := tx.RunRowJob(ctx, runID, line)
		switch {
		case foyer.ErrorCode(err) == foyer.ENOTFOUND:
		case err != nil:
			return err
		case id == job.ID && active:
			mine = true
			return nil
		case id == job.ID:
			if err := tx.SetRunRowJob(ctx, runID, line, 0); err != nil {
				return err
			}
		}
		return q.CompleteTx(ctx, tx, job)
	})
	if err != nil {
		return false, fmt.Errorf("claim the job of line %d of run %s: %w", line, runID, err)
	}
	return mine, nil
}

// permanent reports whether trying again cannot help: the directory refused
// the request for what it is, or foyer found it wrong. Throttling, faults,
// replication and ledger hiccups are worth another attempt.
func permanent(err error) bool {
	var de *directory.Error
	if errors.As(err, &de) {
		return !directory.Retryable(err)
	}
	var fe *foyer.Error
	return errors.As(err, &fe) && fe.Code != foyer.EINTERNAL
}

// provisioning is one job's work in progress.
type provisioning struct {
	e       *Engine
	args    ProvisionArgs
	job     *river.Job[ProvisionArgs]
	req     *foyer.Request
	profile *foyer.Profile
	tenant  *Tenant  // the run's tenant: every directory call of the job goes to it
	invited bool     // this run invited the person (this attempt, or an earlier one of this run)
	mailed  bool     // this job sends an invitation email an earlier run owed the guest
	granted []string // grants given by this job, by key
}

func (p *provisioning) load(ctx context.Context) error {
	var r *foyer.Request
	err := p.e.Store.InTx(ctx, func(tx store.Tx) error {
		var err error
		r, err = tx.Request(ctx, p.args.RequestID)
		return err
	})
	if err != nil {
		return fmt.Errorf("load request %s: %w", p.args.RequestID, err)
	}
	p.req = r
	prof, ok := p.e.Profiles[p.req.Profile]
	if !ok {
		return foyer.Errorf(foyer.EINVALID, "request %s names profile %q, which is not in the configuration", p.req.ID, p.req.Profile)
	}
	p.profile = prof
	if p.tenant, err = p.e.tenantFor(p.args.Tenant, p.req.Profile); err != nil {
		return fmt.Errorf("request %s: %w", p.req.ID, err)
	}
	return nil
}

func (p *provisioning) run(ctx context.Context) error {
	want := map[string]bool{}
	for _, k := range p.args.Grants {
		want[k] = true
	}
	// No mail contact before the invitation: a contact that holds the
	// address makes Entra create the guest without it, and the guest cannot
	// redeem. A profile that shows guests in the address book looks for one
	// first and refuses the row (contact.go).
	if err := p.refuseContactConflict(ctx); err != nil {
		return err
	}
	if err := p.invite(ctx); err != nil {
		return err
	}
	if err := p.mail(ctx); err != nil {
		return err
	}
	var held []foyer.Grant
	for _, g := range p.profile.Grants {
		if !want[g.Key()] {
			held = append(held, g)
			continue
		}
		if err := p.grant(ctx, g); err != nil {
			return err
		}
	}
	return p.share(ctx, held)
}

// share records that this profile also relies on grants the guest already
// had through another of foyer's profiles, so that revoking that other
// profile leaves them. A grant the guest had without foyer is not recorded:
// revoking takes back only what foyer gave.
func (p *provisioning) share(ctx context.Context, held []foyer.Grant) error {
	if len(held) == 0 || p.req.UserID == "" {
		return nil
	}
	return p.e.Store.InTx(ctx, func(tx store.Tx) error {
		have, err := tx.HeldGrants(ctx, p.req.UserID)
		if err != nil {
			return err
		}
		byFoyer := map[string]string{}
		for _, h := range have {
			byFoyer[h.Key] = h.Profile
		}
		for _, g := range held {
			if other, ok := byFoyer[g.Key()]; ok && other != p.req.Profile {
				err := tx.RecordGrant(ctx, store.HeldGrant{UserID: p.req.UserID, Profile: p.req.Profile, Key: g.Key(), Grant: g.String(), GrantedAt: tx.Now()})
				if err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// invite creates the invitation unless the request already knows its
// guest. Whatever the ledger says, the person is looked up right before:
// the plan may be stale (another apply invited them since), or an earlier
// attempt may have invited them and lost the answer (it died, or the
// answer never came). The look-up includes the direct read that sees a new
// guest at once. Found, the guest is recorded; not found after an attempt
// whose outcome is unknown, the job waits until a grace period after that
// attempt was sent, so that replication can show a guest it created, and
// only then invites again. The invitation's intent is recorded by its gate,
// once the pacer let it go and the lease is checked, so that the grace runs
// from when it was really sent.
func (p *provisioning) invite(ctx context.Context) error {
	prev, err := p.step(ctx, stepInvite)
	if err != nil {
		return err
	}
	if p.req.UserID != "" {
		// An earlier attempt of this run may have invited them and died
		// before recording the row's result.
		p.invited = prev.State == store.StepDone && !prev.FinishedAt.Before(p.args.RunStarted)
		return nil
	}
	if err := p.checkMail(); err != nil {
		return err
	}
	person, found, err := p.tenant.Dir.Lookup(ctx, p.req.Email)
	if err != nil {
		return fmt.Errorf("look %s up before inviting: %w", p.req.Email, err)
	}
	if found {
		return p.recordFound(ctx, person, prev.State == store.StepStarted)
	}
	if prev.State == store.StepStarted {
		if wait := p.graceLeft(prev); wait > 0 {
			return river.JobSnooze(wait)
		}
	}
	if err := p.e.blockedErr(ctx, p.tenant); err != nil {
		return err
	}
	gate := &inviteGate{p: p, seen: prev.Attempts}
	inv, err := p.tenant.Dir.Invite(directory.WithGate(ctx, gate), p.invitation())
	switch {
	case err == nil:
		return p.recordInvited(ctx, inv)
	case !gate.sent() && errors.Is(err, errInviteRaced):
		// Another worker (of another replica, which fetched the job
		// again after a takeover) started the invitation since this one
		// looked: the next attempt looks again and waits out its grace.
		p.e.Log.Info("the invitation was started by another worker; looking again", "request", p.req.ID)
		return river.JobSnooze(time.Second)
	case !gate.sent() && context.Cause(ctx) == errAttemptTimedOut:
		// The whole attempt went waiting for the invitation's turn (a slow
		// pace, such as a real tenant's first minutes): not a failure.
		return river.JobSnooze(0)
	case !gate.sent() && errors.Is(err, directory.ErrBlocked):
		// The gate found the tenant blocked in the ledger (by another run
		// or process): the tenant's next invitations are refused before
		// they wait for their turn.
		p.e.sawBlock(p.tenant)
		return err
	case !gate.sent():
		return err // nothing was sent: refused before (an invalid invitation) or by the gate
	case directory.OutcomeUnknown(err):
		// The step stays started: the next attempt looks the person up
		// and waits out the grace before inviting again.
		wctx := context.WithoutCancel(ctx)
		return errors.Join(err, p.e.Store.InTx(wctx, func(tx store.Tx) error {
			return p.audit(wctx, tx, store.AuditOutcome, "invite", p.req.Email.String(), "", p.e.safeMessage(err), "outcome unknown")
		}))
	case errors.Is(err, directory.ErrBlocked):
		return errors.Join(p.failStep(ctx, stepInvite, "invite", err), p.e.block(ctx, p.tenant, p.args, err))
	default:
		return p.failStep(ctx, stepInvite, "invite", err)
	}
}

// inviteGate records an invitation's intent right before it is sent, in the
// transaction that checks the lease and the tenant's block: the intent's
// time is when the invitation went out, not when it began to wait for the
// pacer.
type inviteGate struct {
	p     *provisioning
	tries atomic.Int32
	// seen is how many times the invite step had been started when this
	// attempt looked the person up (then once more per try it sent): a
	// start it did not make means another worker is inviting them.
	seen int
}

// errInviteRaced refuses an invitation whose step another worker started
// after this one looked the person up.
var errInviteRaced = errors.New("another worker started this invitation")

func (g *inviteGate) Admit(ctx context.Context) error {
	p := g.p
	err := p.e.Store.InTx(ctx, func(tx store.Tx) error {
		if err := p.e.holdLease(ctx, tx); err != nil {
			return err
		}
		if err := p.e.checkBlock(ctx, tx, p.tenant); err != nil {
			return err
		}
		prev, err := tx.StartStep(ctx, p.req.ID, stepInvite)
		if err != nil {
			return err
		}
		if prev.Attempts != g.seen {
			return errInviteRaced // rolled back: the step stays the other worker's
		}
		return p.audit(ctx, tx, store.AuditIntent, "invite", p.req.Email.String(), "", "", "")
	})
	if err == nil {
		g.tries.Add(1)
		g.seen++
	}
	return err
}

// sent reports whether the invitation went out at least once.
func (g *inviteGate) sent() bool { return g.tries.Load() > 0 }

// recordFound records a person found by the look-up before an invitation.
// ours says an earlier attempt of this request invited and lost the
// answer: the guest is the one it created, so the invite step is done.
// Otherwise the person came another way since the plan (another run, the
// portal): the request takes the guest without an invitation of its own.
// A member with the address is not invited and gets no guest's grants.
func (p *provisioning) recordFound(ctx context.Context, person directory.Person, ours bool) error {
	if !person.Guest() {
		return foyer.Errorf(foyer.ECONFLICT, "a member of the tenant has this address now (%s): not invited", person.UserPrincipalName)
	}
	inv := directory.Invited{UserID: person.ID, Existing: true}
	if ours {
		return p.recordInvited(ctx, inv)
	}
	return p.e.Store.InTx(ctx, func(tx store.Tx) error {
		if err := p.e.holdLease(ctx, tx); err != nil {
			return err
		}
		p.req.UserID = person.ID
		if err := tx.UpdateRequest(ctx, p.req); err != nil {
			return err
		}
		if err := p.putGuest(ctx, tx, person.ID); err != nil {
			return err
		}
		return p.audit(ctx, tx, store.AuditChange, "find before inviting", person.ID, "", "",
			"the person exists already (invited since the plan was made): not invited again")
	})
}

// recordInvited records the invitation's outcome: the step done, the
// request's guest, the guest. inv.Existing says the guest was found by a
// look-up after an attempt whose answer was lost.
func (p *provisioning) recordInvited(ctx context.Context, inv directory.Invited) error {
	p.invited = true
	return p.e.Store.InTx(ctx, func(tx store.Tx) error {
		p.req.UserID = inv.UserID
		p.req.RedeemURL = ""
		if p.mailOwedFor() {
			// Kept only until foyer's own invitation email is sent.
			p.req.RedeemURL = inv.RedeemURL
		}
		if err := tx.FinishStep(ctx, store.Step{RequestID: p.req.ID, Name: stepInvite, State: store.StepDone, Result: inv.UserID, GraphID: inv.RequestID}); err != nil {
			return err
		}
		if err := tx.UpdateRequest(ctx, p.req); err != nil {
			return err
		}
		if err := p.putGuest(ctx, tx, inv.UserID); err != nil {
			return err
		}
		detail := "new invitation"
		if inv.Existing {
			detail = "found by a look-up after an attempt whose answer was lost"
		}
		return p.audit(ctx, tx, store.AuditOutcome, "invite", inv.UserID, inv.RequestID, "", detail)
	})
}

// putGuest records the guest the request invited or found, with the
// profiles its other requests give it (this one is still provisioning:
// finish adds it).
func (p *provisioning) putGuest(ctx context.Context, tx store.Tx, userID string) error {
	if err := tx.PutGuest(ctx, &foyer.Guest{UserID: userID, Email: p.req.Email, DisplayName: p.req.DisplayName,
		Redemption: foyer.PendingAcceptance, Enabled: true, InvitedAt: tx.Now()}); err != nil {
		return err
	}
	return syncGuestRow(ctx, tx, userID)
}

// step returns a request's step as recorded, without starting it (zero
// State if it never started).
func (p *provisioning) step(ctx context.Context, name string) (store.Step, error) {
	steps, err := p.steps(ctx)
	for _, s := range steps {
		if s.Name == name {
			return s, err
		}
	}
	return store.Step{}, err
}

// steps returns the request's steps, of every run, in the order they first
// started.
func (p *provisioning) steps(ctx context.Context) ([]store.Step, error) {
	var steps []store.Step
	err := p.e.Store.InTx(ctx, func(tx store.Tx) error {
		var err error
		steps, err = tx.RequestSteps(ctx, p.req.ID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read the steps of request %s: %w", p.req.ID, err)
	}
	return steps, nil
}

// graceLeft is how long to keep looking for a guest that an unanswered
// invitation may have created, counted from when it was sent.
func (p *provisioning) graceLeft(prev store.Step) time.Duration {
	grace := p.e.UnknownOutcomeGrace
	if grace == 0 {
		grace = DefaultUnknownOutcomeGrace
	}
	return prev.StartedAt.Add(grace).Sub(p.e.Clock.Now())
}

func (p *provisioning) invitation() directory.Invitation {
	prof := p.profile
	inv := directory.Invitation{
		Email:       p.req.Email,
		DisplayName: p.req.DisplayName,
		RedirectURL: prof.RedirectURL,
		SendEmail:   prof.Sender == foyer.SenderMicrosoft,
		Message:     prof.Message,
		Language:    prof.Language,
		CC:          prof.CC,
		Sponsors:    slices.Clone(prof.Sponsors),
	}
	// A request from the request page or the API names its sponsor (the
	// employee who asked, or the one the requester named).
	if s := p.req.Details.Sponsor; s != "" && !slices.ContainsFunc(inv.Sponsors, func(x string) bool { return strings.EqualFold(x, s) }) {
		inv.Sponsors = append(inv.Sponsors, s)
	}
	if a := p.args; a.RedirectURL != "" {
		inv.RedirectURL = a.RedirectURL
	}
	if p.args.Message != "" {
		inv.Message = p.args.Message
	}
	switch strings.ToLower(p.args.SendEmail) {
	case "true", "yes", "1":
		inv.SendEmail = prof.Sender == foyer.SenderMicrosoft
	case "false", "no", "0":
		inv.SendEmail = false
	}
	return inv
}

// grant gives one grant unless an earlier attempt of this run already did,
// and records that the guest holds it through the profile.
func (p *provisioning) grant(ctx context.Context, g foyer.Grant) error {
	name := stepGrant(p.args.RunID, g.Key())
	prev, err := p.startStep(ctx, name, "grant "+g.String())
	if err != nil {
		return err
	}
	var graphIDs string
	if prev.State != store.StepDone {
		to := directory.Grantee{UserID: p.req.UserID, Email: p.req.Email, DisplayName: p.req.DisplayName}
		ids, err := p.tenant.Dir.Grant(ctx, to, g)
		graphIDs = strings.Join(ids, " ")
		if err != nil {
			return p.failStep(ctx, name, "grant "+g.String(), err)
		}
		p.granted = append(p.granted, g.Key())
	}
	return p.e.Store.InTx(ctx, func(tx store.Tx) error {
		if err := tx.FinishStep(ctx, store.Step{RequestID: p.req.ID, Name: name, State: store.StepDone, GraphID: graphIDs}); err != nil {
			return err
		}
		if err := tx.RecordGrant(ctx, store.HeldGrant{UserID: p.req.UserID, Profile: p.req.Profile, Key: g.Key(), Grant: g.String(), GrantedAt: tx.Now()}); err != nil {
			return err
		}
		detail := ""
		if prev.State == store.StepDone {
			detail = "given by an earlier attempt"
		}
		return p.audit(ctx, tx, store.AuditOutcome, "grant "+g.String(), p.req.UserID, graphIDs, "", detail)
	})
}

// startStep records the intent to do a step, with an audit entry, and
// returns the step as it was.
func (p *provisioning) startStep(ctx context.Context, name, op string) (store.Step, error) {
	var prev store.Step
	err := p.e.Store.InTx(ctx, func(tx store.Tx) error {
		if err := p.e.holdLease(ctx, tx); err != nil {
			return err
		}
		var err error
		if prev, err = tx.StartStep(ctx, p.req.ID, name); err != nil {
			return err
		}
		target := p.req.UserID
		if target == "" {
			target = p.req.Email.String()
		}
		return p.audit(ctx, tx, store.AuditIntent, op, target, "", "", "")
	})
	if err != nil {
		return prev, fmt.Errorf("record the intent to %s: %w", op, err)
	}
	return prev, nil
}

// failStep records that a directory call failed and returns its error.
func (p *provisioning) failStep(ctx context.Context, name, op string, cause error) error {
	if ctx.Err() != nil && context.Cause(ctx) != errAttemptTimedOut {
		// Stopped (Ctrl-C, the lease lost), not failed: the step stays
		// started and the next attempt takes it up.
		return cause
	}
	ctx = context.WithoutCancel(ctx) // recorded even if the attempt's time ran out
	var de *directory.Error
	graphID := ""
	if errors.As(cause, &de) {
		graphID = de.RequestID
	}
	err := p.e.Store.InTx(ctx, func(tx store.Tx) error {
		if err := tx.FinishStep(ctx, store.Step{RequestID: p.req.ID, Name: name, State: store.StepFailed, GraphID: graphID, Error: p.e.safeMessage(cause)}); err != nil {
			return err
		}
		target := p.req.UserID
		if target == "" {
			target = p.req.Email.String()
		}
		return p.audit(ctx, tx, store.AuditOutcome, op, target, graphID, p.e.safeMessage(cause), "")
	})
	return errors.Join(cause, err)
}

func (p *provisioning) audit(ctx context.Context, tx store.Tx, kind store.AuditKind, op, target, graphID, errMsg, detail string) error {
	return tx.AppendAudit(ctx, store.AuditEntry{Kind: kind, Actor: p.e.actor(), RunID: p.args.RunID, RequestID: p.req.ID,
		Op: op, Target: target, GraphID: graphID, Error: errMsg, Detail: detail})
}

// finish records the row's result and the request's new state, and
// completes the job in the same transaction.
func (p *provisioning) finish(ctx context.Context, cause error) error {
	// The result is recorded even if the attempt's time ran out.
	ctx = context.WithoutCancel(ctx)
	row := foyer.Row{Line: p.args.Line, Email: p.req.Email, UserID: p.req.UserID, Grants: p.granted}
	next := foyer.StateInvited
	if p.args.Accepted {
		next = foyer.StateActive
	}
	switch {
	case cause != nil:
		row.Result, row.Error, next = foyer.ResultFailed, p.e.safeMessage(cause), foyer.StateFailed
		p.req.Failure = &foyer.Failure{Code: directory.Code(cause), Message: p.e.safeMessage(cause), Retryable: directory.Retryable(cause)}
	case p.invited || p.mailed:
		row.Result = foyer.ResultInvited
	case len(p.granted) > 0:
		row.Result = foyer.ResultGranted
	default:
		row.Result = foyer.ResultUnchanged
	}
	if cause == nil {
		p.req.Failure = nil
	}
	if p.args.Accepted {
		p.req.RedeemURL = "" // redeemed: the link is spent
	}
	q, err := p.e.currentQueue()
	if err != nil {
		return err
	}
	err = p.e.Store.InTx(ctx, func(tx store.Tx) error {
		if err := p.e.holdLease(ctx, tx); err != nil {
			return err
		}
		if p.args.RunID != "" {
			if err := tx.UpdateRunRow(ctx, p.args.RunID, row); err != nil {
				return err
			}
		}
		if p.req.State != next {
			if err := tx.MoveRequest(ctx, p.req, next, string(row.Result)); err != nil {
				return err
			}
			if p.args.Notify && cause == nil {
				if err := p.e.notify(ctx, tx, invitedNotice(p.req, p.args.RunID)); err != nil {
					return err
				}
				if err := p.e.announce(ctx, tx, p.e.invitedAnnouncement(p.req, p.args.RunID)); err != nil {
					return err
				}
			}
		} else if err := tx.UpdateRequest(ctx, p.req); err != nil {
			return err
		}
		if err := ensureGuestRow(ctx, tx, p.req); err != nil {
			return err
		}
		if err := syncGuestRow(ctx, tx, p.req.UserID); err != nil {
			return err
		}
		return q.CompleteTx(ctx, tx, p.job.JobRow)
	})
	if err != nil {
		return fmt.Errorf("record the result of line %d: %w", p.args.Line, err)
	}
	p.e.emitRow(row)
	return nil
}

// safeMessage is what users, the ledger and the reports see of an error:
// foyer.ErrorMessage, which never shows a library's error as it is. An
// error it hides is logged, so that the operator still has it.
func (e *Engine) safeMessage(err error) string {
	msg := foyer.ErrorMessage(err)
	var c foyer.Coder
	if err != nil && !errors.As(err, &c) && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		e.Log.Error("an error without a code was hidden from the ledger and the reports", "err", err)
	}
	return msg
}
