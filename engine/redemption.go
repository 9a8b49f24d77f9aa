package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/directory"
	"github.com/foyer-dev/foyer/notify"
	"github.com/foyer-dev/foyer/store"
)

// Redemption tracking: foyer keeps, for every request it holds as invited
// or active, its guest's redemption state current. Where the directory
// offers Graph's delta query (directory.RedemptionDelta), a sync reads
// only the users that changed since the last round (redemption_delta.go),
// which also shows a redemption reset or a guest deleted outside foyer;
// otherwise, or when the delta query is refused, it reads the guests foyer
// holds as invited by object id (directory.Redemptions, 15 a read). A guest
// who redeemed moves its request invited → active, in one transaction with
// the guest's record, an audit entry that keeps the change time Entra
// reported, an email to the request's sponsor (or the profile's sponsors
// named by address) and to whoever asked on the guest's behalf when known
// by address, inserted as foyer.notice jobs, and a post to the channels
// that take announcements (an application that asked has no address).

// RedemptionSync is what one sync did.
type RedemptionSync struct {
	Pending  int // requests foyer held as invited, with a known guest
	Accepted int // moved to active
	Missing  int // guests a read by id did not show (deleted, or not replicated yet)
	Reset    int // active requests moved back to invited: the redemption was reset outside foyer
	Removed  int // requests moved to removed: the guest was deleted outside foyer
	Changes  int // users the delta rounds reported (every user of the tenant in a full round)
	Resynced int // tenants whose delta token had expired, read in full again
}

// errNoRedemptions is returned when the directory cannot read redemption
// states.
var errNoRedemptions = errors.New("this directory cannot read redemption states")

// pendingRequests lists the requests in state invited whose guest is known.
func (e *Engine) pendingRequests(ctx context.Context) ([]*foyer.Request, error) {
	return e.requestsIn(ctx, foyer.StateInvited)
}

// requestsIn lists the requests in these states whose guest is known.
func (e *Engine) requestsIn(ctx context.Context, states ...foyer.State) ([]*foyer.Request, error) {
	var out []*foyer.Request
	err := e.Store.InTx(ctx, func(tx store.Tx) error {
		out = out[:0]
		return tx.Requests(ctx, store.RequestFilter{States: states}, func(r *foyer.Request) error {
			if r.UserID != "" {
				out = append(out, r)
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list the requests %v: %w", states, err)
	}
	return out, nil
}

// SyncRedemptions reads the redemption state of every guest foyer holds
// as invited and moves the requests of those who redeemed to active,
// telling their sponsors. A request that changed meanwhile (revoked,
// provisioned again) is left alone. With the delta query it also moves
// the active requests of a guest whose redemption was reset outside foyer
// back to invited, and the requests of a guest deleted outside foyer to
// removed.
func (e *Engine) SyncRedemptions(ctx context.Context) (RedemptionSync, error) {
	var sum RedemptionSync
	reqs, err := e.requestsIn(ctx, foyer.StateInvited, foyer.StateActive)
	if err != nil {
		return sum, err
	}
	// A tenant is read with the delta query when foyer holds a guest
	// there, invited or active: an active guest can be reset or deleted
	// outside foyer. Only the invited ones are read by id.
	held := map[string]*Tenant{}
	var heldOrder []*Tenant
	reqs = slices.DeleteFunc(reqs, func(r *foyer.Request) bool {
		if r.State != foyer.StateActive || e.Profiles[r.Profile] == nil {
			return false
		}
		if t, err := e.TenantOf(r.Profile); err == nil && held[t.Name] == nil {
			held[t.Name] = t
			heldOrder = append(heldOrder, t)
		}
		return true
	})
	// Each request's guest is read in its profile's tenant; a request of
	// a profile this engine does not serve (another tenant's, for a
	// command run for one tenant, or a profile since removed) is left.
	byTenant := map[string][]*foyer.Request{}
	var order []*Tenant
	for _, r := range reqs {
		if e.Profiles[r.Profile] == nil {
			continue
		}
		sum.Pending++
		t, err := e.TenantOf(r.Profile)
		if err != nil {
			return sum, err
		}
		if byTenant[t.Name] == nil {
			order = append(order, t)
		}
		byTenant[t.Name] = append(byTenant[t.Name], r)
	}
	for _, t := range heldOrder {
		if _, ok := t.Dir.(directory.RedemptionDelta); ok && byTenant[t.Name] == nil {
			order = append(order, t)
		}
	}
	for _, t := range order {
		reqs := byTenant[t.Name]
		if rd, ok := t.Dir.(directory.RedemptionDelta); ok {
			recent, err := e.syncTenantDelta(ctx, t, rd, reqs, &sum)
			if err == nil {
				reqs = recent
			} else if !errors.Is(err, errDeltaRefused) {
				return sum, err
			} else {
				e.Log.Warn("the delta query on users was refused: reading the invited guests by id", "tenant", t.Name, "err", err)
			}
		}
		if len(reqs) == 0 {
			continue
		}
		if err := e.syncTenant(ctx, t, reqs, &sum); err != nil {
			return sum, err
		}
	}
	if sum.Accepted > 0 || sum.Missing > 0 || sum.Reset > 0 || sum.Removed > 0 || sum.Resynced > 0 {
		e.Log.Info("redemption states read", "pending", sum.Pending, "accepted", sum.Accepted, "missing", sum.Missing,
			"reset", sum.Reset, "removed", sum.Removed, "changes", sum.Changes, "resynced", sum.Resynced)
	}
	return sum, nil
}

// syncTenant reads the redemption states of the guests of reqs, all in
// tenant t, and records those who redeemed.
func (e *Engine) syncTenant(ctx context.Context, t *Tenant, reqs []*foyer.Request, sum *RedemptionSync) error {
	rd, ok := t.Dir.(directory.Redemptions)
	if !ok {
		return errNoRedemptions
	}
	ids := make([]string, 0, len(reqs))
	for _, r := range reqs {
		ids = append(ids, r.UserID)
	}
	states, err := rd.Redemptions(ctx, ids)
	if err != nil {
		return fmt.Errorf("read the redemption state of %d invited guests of tenant %s: %w", len(ids), t.Name, err)
	}
	for _, r := range reqs {
		st, ok := states[r.UserID]
		switch {
		case !ok:
			sum.Missing++
		case strings.EqualFold(st.State, foyer.Accepted):
			moved, err := e.accepted(ctx, r.ID, st)
			if err != nil {
				return err
			}
			if moved {
				sum.Accepted++
			}
		}
	}
	return nil
}

// accepted records that the guest of request id redeemed.
func (e *Engine) accepted(ctx context.Context, id string, st directory.Redemption) (bool, error) {
	moved := false
	err := e.Store.InTx(ctx, func(tx store.Tx) error {
		r, err := tx.Request(ctx, id)
		if err != nil {
			return err
		}
		moved, err = e.acceptedTx(ctx, tx, r, st)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("record that request %s's guest redeemed: %w", id, err)
	}
	return moved, nil
}

// acceptedTx moves r, read in tx, to active when it is still invited for
// st's guest, with the guest's record, the audit entry and the notices;
// it reports whether it moved it. Applied twice, the second finds r
// active and does nothing.
func (e *Engine) acceptedTx(ctx context.Context, tx store.Tx, r *foyer.Request, st directory.Redemption) (bool, error) {
	if r.State != foyer.StateInvited || !strings.EqualFold(r.UserID, st.UserID) {
		return false, nil
	}
	moved := false
	err := func() error {
		when := "at an unreported time"
		if !st.ChangedAt.IsZero() {
			when = "on " + st.ChangedAt.UTC().Format(time.RFC3339)
		}
		r.RedeemURL = "" // kept only while the guest had not redeemed
		if err := tx.MoveRequest(ctx, r, foyer.StateActive, "the guest redeemed the invitation "+when); err != nil {
			return err
		}
		if g, err := tx.Guest(ctx, r.UserID); err == nil {
			g.Redemption = foyer.Accepted
			if err := tx.PutGuest(ctx, g); err != nil {
				return err
			}
		} else if foyer.ErrorCode(err) != foyer.ENOTFOUND {
			return err
		}
		if err := tx.AppendAudit(ctx, store.AuditEntry{Kind: store.AuditChange, Actor: e.actor(), RequestID: r.ID,
			Op: "redemption " + foyer.Accepted, Target: r.UserID, Detail: st.ChangedAt.UTC().Format(time.RFC3339)}); err != nil {
			return err
		}
		moved = true
		// Told once per acceptance: these jobs are inserted in the
		// transaction that moves the request, which a second sync finds
		// active already.
		to := e.sponsorsOf(r)
		if len(to) > 0 {
			if err := e.notify(ctx, tx, acceptedNotice(r, to)); err != nil {
				return err
			}
		}
		if asker, ok := requesterAddress(r); ok && !slices.Contains(to, asker) {
			if err := e.notify(ctx, tx, acceptedRequesterNotice(r, asker)); err != nil {
				return err
			}
		}
		return e.announce(ctx, tx, e.acceptedAnnouncement(r, st))
	}()
	return moved, err
}

// sponsorsOf returns who to tell about a request's guest: its sponsor
// (the employee who asked, or the one the requester named) and the
// profile's sponsors, those named by address; a sponsor named by object
// id is not reached by email.
func (e *Engine) sponsorsOf(r *foyer.Request) []foyer.Address {
	var refs []string
	if r.Details.Sponsor != "" {
		refs = append(refs, r.Details.Sponsor)
	}
	if p := e.Profiles[r.Profile]; p != nil {
		refs = append(refs, p.Sponsors...)
	}
	var out []foyer.Address
	for _, ref := range refs {
		if !strings.Contains(ref, "@") {
			continue
		}
		if a, err := foyer.ParseAddress(ref); err == nil && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

// acceptedNotice tells the sponsors that the guest redeemed.
func acceptedNotice(r *foyer.Request, to []foyer.Address) Notice {
	who := string(r.Email)
	if r.DisplayName != "" {
		who = r.DisplayName + " <" + string(r.Email) + ">"
	}
	return Notice{To: to, Language: "en", ID: noticeID(r.ID, "accepted", ""),
		Subject: who + " accepted the invitation to " + r.Profile,
		Text: "Hello,\n\n" + who + " accepted the invitation to " + r.Profile +
			" and can now sign in as a guest. You are told because you sponsor this guest.\n"}
}

// requesterAddress returns the address of whoever asked for the request
// on the person's behalf, when the ledger knows it by address (a user
// principal name or mail); an application, or a principal known by object
// id only, has none.
func requesterAddress(r *foyer.Request) (foyer.Address, bool) {
	by := r.Details.RequestedBy
	if !strings.Contains(by, "@") {
		return "", false
	}
	a, err := foyer.ParseAddress(by)
	if err != nil || a.Key() == r.Email.Key() {
		return "", false
	}
	return a, true
}

// acceptedRequesterNotice tells whoever asked on the guest's behalf that
// the guest redeemed.
func acceptedRequesterNotice(r *foyer.Request, to foyer.Address) Notice {
	n := acceptedNotice(r, []foyer.Address{to})
	n.ID = noticeID(r.ID, "accepted.requester", "")
	n.Text = strings.Replace(n.Text, "You are told because you sponsor this guest.", "You are told because you asked for this access.", 1)
	return n
}

// acceptedAnnouncement tells a channel that a request's guest redeemed
// its invitation: an application that asked through the API has no
// address to email, and learns it there. Its id names the request and
// the change time Entra reported, the same on every attempt to post it.
func (e *Engine) acceptedAnnouncement(r *foyer.Request, st directory.Redemption) notify.Announcement {
	detail := ""
	if !st.ChangedAt.IsZero() {
		detail = st.ChangedAt.UTC().Format("20060102T150405Z")
	}
	a := e.requestAnnouncement(r, "accepted", detail, string(r.Email)+" accepted the invitation to "+r.Profile)
	if r.Details.RequestedBy != "" {
		a.Facts = append(a.Facts, notify.Fact{Label: "Asked by", Value: r.Details.RequestedBy})
	}
	if !st.ChangedAt.IsZero() {
		a.Facts = append(a.Facts, notify.Fact{Label: "Accepted", Value: st.ChangedAt.UTC().Format("2 January 2006 15:04 MST")})
	}
	return a
}

// redemptionEvery is how often foyer serve syncs redemption states and
// sends the reminders that are due, unless Engine.RedemptionEvery says.
const redemptionEvery = time.Hour

// RedemptionArgs is the periodic job that syncs redemption states, then
// sends the reminders that are due, then does what expiry finds due
// (Expire: the notices before the end, the revoke runs of access ended).
type RedemptionArgs struct{}

// Kind names the job in River.
func (RedemptionArgs) Kind() string { return "foyer.redemption" }

// InsertOpts puts the job on the intake queue, one at a time.
func (RedemptionArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queueIntake, MaxAttempts: 3, UniqueOpts: uniqueAmongLive()}
}

type redemptionWorker struct {
	river.WorkerDefaults[RedemptionArgs]
	e *Engine
}

func (w *redemptionWorker) Work(ctx context.Context, _ *river.Job[RedemptionArgs]) error {
	e := w.e
	if err := e.lostLease(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, e.attemptTimeout())
	defer cancel()
	defer context.AfterFunc(e.workContext(), cancel)()
	if _, err := e.SyncRedemptions(ctx); err != nil {
		if errors.Is(err, errNoRedemptions) {
			return river.JobCancel(err)
		}
		return err
	}
	_, err := e.RemindPending(ctx)
	if _, xerr := e.Expire(ctx, nil); xerr != nil {
		return errors.Join(err, xerr)
	}
	return err
}

// redemptionJobs is service mode's periodic redemption job, hourly (or
// every RedemptionEvery) and at start.
func (e *Engine) redemptionJobs(workers *river.Workers) []*river.PeriodicJob {
	river.AddWorker(workers, &redemptionWorker{e: e})
	every := e.RedemptionEvery
	switch {
	case every < 0:
		return nil
	case every == 0:
		every = redemptionEvery
	}
	return []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(every),
		func() (river.JobArgs, *river.InsertOpts) { return RedemptionArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true})}
}

// commandNotices lets a command that tells people (foyer guests sync)
// send the notices it owes: outside service mode, when a Postman is set,
// the notice worker and its queue are added. Nothing changes for a
// command without a Postman (apply, revoke).
func (e *Engine) commandNotices(workers *river.Workers, queues map[string]river.QueueConfig) {
	if e.Service || e.Postman == nil {
		return
	}
	river.AddWorker(workers, &noticeWorker{e: e})
	queues[queueNotice] = river.QueueConfig{MaxWorkers: 2}
}

// SendNotices works the notice jobs the ledger holds until none is left
// or ctx ends, for a command (foyer serve sends them as they come). It
// returns how many are left: those foyer serve, or the next command,
// sends (a notice job is tried for about a day).
func (e *Engine) SendNotices(ctx context.Context) (int, error) {
	if e.Service || e.Postman == nil {
		return 0, nil
	}
	if err := e.startWork(ctx); err != nil {
		return 0, err
	}
	for {
		var left int
		wctx := context.WithoutCancel(ctx)
		err := e.Store.InTx(wctx, func(tx store.Tx) error {
			var err error
			left, err = tx.LiveJobs(wctx, queueNotice)
			return err
		})
		if err != nil || left == 0 {
			return left, err
		}
		select {
		case <-ctx.Done():
			return left, nil
		case <-time.After(100 * time.Millisecond):
		}
	}
}
