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

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/directory"
	"github.com/foyer-dev/foyer/store"
)

// Expiry (docs/sweep.md, "Expiry"): a request of a profile with an expiry
// whose access was granted (it became invited or active) more than the
// expiry ago is expired. Its profile's grants are taken back by a revoke
// run recorded in the name of ExpiryActor (the same path as foyer revoke:
// one row per address, every directory write fenced and recorded), and the
// request ends in expired rather than revoked. Expiry needs no table of
// its own: the request's history says when access was granted, and the
// audit log keeps the notices sent before the end and the extensions an
// admin gave.

// ExpiryActor is who records and approves the revoke runs of expiry: the
// runs' recorded_by, by which the revoke rows move their requests to
// expired.
const ExpiryActor = "expiry"

// Audit operations of expiry, read back by PlanExpiry.
const (
	opExpiryNotice = "expiry notice" // change: the notice before the end is owed (its jobs inserted); Detail: the end
	opExpiryExtend = "expiry extend" // change: an admin moved the end; Detail: the new end
)

// ExpiryItem is one request whose profile has an expiry: when its access
// was granted, when it ends, and what the ledger says was done about it.
type ExpiryItem struct {
	Request    *foyer.Request
	GrantedAt  time.Time
	Ends       time.Time
	Extended   bool      // the end was set by an admin (foyer guests extend)
	NoticeAt   time.Time // when the notice is due; zero when the profile sends none
	NoticeSent bool      // the notice for this end was sent (owed) already
}

// ExpiryPlan is what expiry would do now.
type ExpiryPlan struct {
	Now     time.Time
	Items   []ExpiryItem // every granted request of a profile with an expiry, by end
	Expire  []ExpiryItem // ended: to expire
	Notices []ExpiryItem // the notice is due and not sent (and the end has not come)
	// Open lists the expiry runs approved and not finished (a command
	// killed, or foyer serve's run job still at work): their people are
	// not planned again; a command resumes them first.
	Open []*foyer.Run
}

// PlanExpiry reads, for every request invited or active of a profile the
// engine serves that has an expiry or an expires_on day, when its access
// was granted and ends (the earlier of the two), and decides what is due:
// the expiries (at or after the end) and the notices (from end −
// expiry_notice until the end, once per end, only when the engine has a
// postman).
func (e *Engine) PlanExpiry(ctx context.Context) (*ExpiryPlan, error) {
	p := &ExpiryPlan{Now: e.Clock.Now()}
	some := false
	for _, prof := range e.Profiles {
		some = some || ends(prof)
	}
	if !some {
		return p, nil
	}
	var items []ExpiryItem
	err := e.Store.InTx(ctx, func(tx store.Tx) error {
		items, p.Open = items[:0], nil
		err := tx.ListRuns(ctx, 0, func(r *foyer.Run) error {
			if r.Kind == foyer.RunRevoke && r.RecordedBy == ExpiryActor && r.State() == foyer.RunApplying && e.Profiles[r.Profile] != nil {
				p.Open = append(p.Open, r)
			}
			return nil
		})
		if err != nil {
			return err
		}
		inRun := map[string]bool{} // profile and address key of the open runs' rows
		for _, r := range p.Open {
			err := tx.RunRows(ctx, r.ID, 0, func(row foyer.Row) error {
				inRun[r.Profile+"\x00"+row.Email.Key()] = true
				return nil
			})
			if err != nil {
				return err
			}
		}
		var reqs []*foyer.Request
		err = tx.Requests(ctx, store.RequestFilter{States: []foyer.State{foyer.StateInvited, foyer.StateActive}}, func(r *foyer.Request) error {
			if prof := e.Profiles[r.Profile]; prof != nil && ends(prof) && !inRun[r.Profile+"\x00"+r.Email.Key()] {
				reqs = append(reqs, r)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, r := range reqs {
			hist, err := tx.History(ctx, r.ID)
			if err != nil {
				return err
			}
			granted := grantedAt(hist)
			if granted.IsZero() {
				continue
			}
			prof := e.Profiles[r.Profile]
			it := ExpiryItem{Request: r, GrantedAt: granted, Ends: endOf(prof, granted)}
			var notices []string
			err = tx.AuditLog(ctx, store.AuditFilter{RequestID: r.ID}, func(a store.AuditEntry) error {
				if a.At.Before(granted) {
					return nil // of an earlier grant
				}
				switch a.Op {
				case opExpiryExtend:
					if t, err := time.Parse(time.RFC3339, a.Detail); err == nil {
						it.Ends, it.Extended = t, true
					}
				case opExpiryNotice:
					notices = append(notices, a.Detail)
				}
				return nil
			})
			if err != nil {
				return err
			}
			for _, n := range notices {
				it.NoticeSent = it.NoticeSent || n == it.Ends.UTC().Format(time.RFC3339)
			}
			if prof.ExpiryNotice > 0 && e.Postman != nil {
				it.NoticeAt = it.Ends.Add(-prof.ExpiryNotice)
			}
			items = append(items, it)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the requests of profiles with an expiry: %w", err)
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].Ends.Before(items[j].Ends) })
	p.Items = items
	for _, it := range items {
		switch {
		case !p.Now.Before(it.Ends):
			p.Expire = append(p.Expire, it)
		case !it.NoticeAt.IsZero() && !it.NoticeSent && !p.Now.Before(it.NoticeAt):
			p.Notices = append(p.Notices, it)
		}
	}
	return p, nil
}

// ends reports whether a profile's access ends: it has an expiry or an
// expires_on day.
func ends(p *foyer.Profile) bool { return p.Expiry > 0 || !p.ExpiresOn.IsZero() }

// endOf returns when access granted at granted ends by the profile: after
// its expiry, or on its expires_on day, whichever comes first.
func endOf(p *foyer.Profile, granted time.Time) time.Time {
	var end time.Time
	if p.Expiry > 0 {
		end = granted.Add(p.Expiry)
	}
	if !p.ExpiresOn.IsZero() && (end.IsZero() || p.ExpiresOn.Before(end)) {
		end = p.ExpiresOn
	}
	return end
}

// grantedAt returns when the current grant of a request began: its first
// move into invited or active since it last lost its access (expired,
// revoked, removed, rejected). Provisioning it again while it holds its
// access (a second apply) does not move it; zero when it holds none.
func grantedAt(hist []store.Transition) time.Time {
	var at time.Time
	for _, h := range hist {
		switch h.To {
		case foyer.StateInvited, foyer.StateActive:
			if at.IsZero() {
				at = h.At
			}
		case foyer.StateExpired, foyer.StateRevoked, foyer.StateRemoved, foyer.StateRejected:
			at = time.Time{}
		}
	}
	return at
}

// ExpiryDone is what Expire did.
type ExpiryDone struct {
	Notices int          // requests whose guest and sponsors were told
	Runs    []*foyer.Run // the revoke runs of the expiries, one per profile
	Expired int          // requests in those runs
	Resumed []*foyer.Run // unfinished expiry runs a command finished first
}

// Expire does what PlanExpiry finds due: it owes the notices (recorded in
// the audit log with their jobs, in one transaction, so each is sent once)
// and, per profile, records and approves in ExpiryActor's name a revoke run
// of the requests whose access ended. In service mode the run's job works
// it; otherwise Expire first finishes the expiry runs an interrupted
// command left, then applies the new ones and waits (sink gets their
// events). A person in an unfinished expiry run is not put in another.
// The engine must be started.
func (e *Engine) Expire(ctx context.Context, sink Sink) (ExpiryDone, error) {
	var done ExpiryDone
	p, err := e.PlanExpiry(ctx)
	if err != nil {
		return done, err
	}
	if !e.Service && len(p.Open) > 0 {
		// Finish what an interrupted command began before planning again
		// (in service mode each run's own job works it).
		for _, open := range p.Open {
			run, err := e.ApplyRun(ctx, open.ID, RunOptions{Events: sink, Resumed: true})
			if err != nil {
				return done, fmt.Errorf("resume the expiry run %s of profile %s: %w", open.ID, open.Profile, err)
			}
			done.Resumed = append(done.Resumed, run)
		}
		if p, err = e.PlanExpiry(ctx); err != nil {
			return done, err
		}
	}
	// A notice that cannot be owed does not hold the expiries back.
	var noticeErr error
	for _, it := range p.Notices {
		sent, err := e.expiryNotice(ctx, it)
		if err != nil {
			noticeErr = errors.Join(noticeErr, err)
			continue
		}
		if sent {
			done.Notices++
		}
	}
	byProfile := map[string][]foyer.Address{}
	var profiles []string
	for _, it := range p.Expire {
		name := it.Request.Profile
		if byProfile[name] == nil {
			profiles = append(profiles, name)
		}
		byProfile[name] = append(byProfile[name], it.Request.Email)
	}
	sort.Strings(profiles)
	for _, name := range profiles {
		emails := byProfile[name]
		run, resumed, err := e.recordExpiry(ctx, name, emails)
		if err != nil {
			return done, fmt.Errorf("expire %d requests of profile %s: %w", len(emails), name, err)
		}
		done.Runs = append(done.Runs, run)
		done.Expired += len(emails)
		if e.Service {
			continue // the run's job works it
		}
		if run, err = e.ApplyRun(ctx, run.ID, RunOptions{Events: sink, Resumed: resumed}); err != nil {
			return done, fmt.Errorf("expire %d requests of profile %s (run %s): %w", len(emails), name, run.ID, err)
		}
		done.Runs[len(done.Runs)-1] = run
	}
	if done.Notices > 0 || done.Expired > 0 {
		e.Log.Info("expiry", "notices", done.Notices, "expired", done.Expired, "runs", len(done.Runs))
	}
	return done, noticeErr
}

// recordExpiry returns the unfinished expiry run of the same people of
// profile (resumed), or records one and approves it in ExpiryActor's name.
func (e *Engine) recordExpiry(ctx context.Context, profile string, emails []foyer.Address) (run *foyer.Run, resumed bool, err error) {
	digest := expiryDigest(profile, emails)
	if run, err = e.Resumable(ctx, foyer.RunRevoke, profile, digest); err != nil || run != nil {
		return run, run != nil, err
	}
	rows := make([]foyer.Row, len(emails))
	for i, a := range emails {
		rows[i] = foyer.Row{Line: i + 1, Email: a, Action: foyer.ActionExists, Reason: "expiry of profile " + profile}
	}
	names, err := e.heldNames(ctx, profile, emails)
	if err != nil {
		return nil, false, err
	}
	run, err = e.Record(ctx, RecordInput{Kind: foyer.RunRevoke, Profile: profile, Source: "expiry of profile " + profile,
		Digest: digest, GrantNames: names, RecordedBy: ExpiryActor, Plan: planOfRows(rows)})
	if err != nil {
		return nil, false, fmt.Errorf("record the expiry run: %w", err)
	}
	if run, err = e.Approve(ctx, run.ID, ExpiryActor); err != nil {
		return run, false, err
	}
	return run, false, nil
}

// expiryDigest names an expiry run by its profile and people, apart from
// a revoke of the same people.
func expiryDigest(profile string, emails []foyer.Address) string {
	keys := make([]string, len(emails))
	for i, a := range emails {
		keys[i] = a.Key()
	}
	sort.Strings(keys)
	h := sha256.Sum256([]byte("expire\x00" + profile + "\x00" + strings.Join(keys, "\x00")))
	return hex.EncodeToString(h[:])
}

// expiryNotice owes the notice before the end to the guest and the
// sponsors, with the audit entry that keeps it from being sent again, in
// one transaction, if the request is still as planned.
func (e *Engine) expiryNotice(ctx context.Context, it ExpiryItem) (bool, error) {
	sent := false
	end := it.Ends.UTC().Format(time.RFC3339)
	// The guest's sponsors in the directory (those named by object id
	// too), beside the request's and the profile's named by address.
	var entra []foyer.Address
	if t, err := e.TenantOf(it.Request.Profile); err == nil {
		if lc, ok := t.Dir.(directory.Lifecycle); ok && it.Request.UserID != "" {
			if entra, err = lc.Sponsors(ctx, it.Request.UserID); err != nil {
				e.Log.Warn("read the guest's sponsors for the expiry notice; telling those the ledger knows", "request", it.Request.ID, "err", err)
			}
		}
	}
	err := e.Store.InTx(ctx, func(tx store.Tx) error {
		if err := e.holdLease(ctx, tx); err != nil {
			return err
		}
		r, err := tx.Request(ctx, it.Request.ID)
		if err != nil {
			return err
		}
		if r.State != it.Request.State || r.UserID != it.Request.UserID {
			return nil // moved meanwhile: the next plan decides
		}
		if err := tx.AppendAudit(ctx, store.AuditEntry{Kind: store.AuditChange, Actor: e.actor(), RequestID: r.ID,
			Op: opExpiryNotice, Target: r.UserID, Detail: end}); err != nil {
			return err
		}
		sent = true
		sponsors := append(e.sponsorsOf(r), entra...)
		prof := e.Profiles[r.Profile]
		if prof == nil || !prof.Approval.CanDecide(r.Email) || e.PublicURL == "" {
			return e.notify(ctx, tx, expiryNoticeOf(r, it.Ends, append([]foyer.Address{r.Email}, sponsors...), ""))
		}
		// The policy can decide more time: the guest's notice carries a
		// status link of its own (extension.go), the sponsors' the page
		// where a signed-in sponsor asks (extension_sponsor.go): most
		// sponsors are no approvers, and /admin is for approvers.
		token := e.newToken()
		now := e.now()
		if err := tx.PutToken(ctx, store.Token{Hash: tokenHash(token), RequestID: r.ID, CreatedAt: now, VerifyBy: now, VerifiedAt: now,
			ExpiresAt: it.Ends.Add(e.statusTTL())}); err != nil {
			return fmt.Errorf("record the link of the expiry notice: %w", err)
		}
		if err := e.notify(ctx, tx, expiryNoticeOf(r, it.Ends, []foyer.Address{r.Email}, e.link("/r/"+token))); err != nil {
			return err
		}
		n := expiryNoticeOf(r, it.Ends, sponsors, e.link("/extend/"+r.ID))
		n.ID += ".sponsors"
		return e.notify(ctx, tx, n)
	})
	if err != nil {
		return false, fmt.Errorf("owe the expiry notice of request %s: %w", it.Request.ID, err)
	}
	return sent, nil
}

// expiryNoticeOf tells the guest and the sponsors when access ends, and,
// when more can be asked for, where: askAt is the guest's status link or
// the sponsors' /extend/{id} page ("" when the profile's policy cannot
// decide: an administrator extends).
func expiryNoticeOf(r *foyer.Request, ends time.Time, to []foyer.Address, askAt string) Notice {
	who := guestName(r)
	day := ends.UTC().Format("2006-01-02 15:04 MST")
	more := "An administrator can extend the access (foyer guests extend).\n"
	if askAt != "" {
		more = "To ask for more time, open this page, say until when and why; the profile's approvers decide:\n\n" + askAt + "\n"
	}
	return Notice{To: to, Language: "en", ID: noticeID(r.ID, "expiry", ends.UTC().Format("20060102T150405")),
		Subject: "Guest access of " + who + " to " + r.Profile + " ends on " + day,
		Text: "Hello,\n\nThe guest access of " + who + " to " + r.Profile + " ends on " + day +
			": foyer then takes back what the profile " + r.Profile + " gave.\n\n" +
			"You are told because you are this guest or sponsor this guest. " + more}
}

// Extend moves the end of the access of addr's request of profile to
// until, in the name of by, recorded in the audit log: the notice before
// the new end is sent again, and the request expires at the new end. The
// request must be invited or active and its profile must have an expiry;
// until must be later than now. The profile's approval policy is not
// asked.
func (e *Engine) Extend(ctx context.Context, addr foyer.Address, profile string, until time.Time, by string) (*foyer.Request, error) {
	prof := e.Profiles[profile]
	switch {
	case prof == nil:
		return nil, foyer.Errorf(foyer.ENOTFOUND, "no profile %q is loaded", profile)
	case !ends(prof):
		return nil, foyer.Errorf(foyer.EINVALID, "profile %s has neither expiry nor expires_on: its access does not end", profile)
	case !until.After(e.Clock.Now()):
		return nil, foyer.Errorf(foyer.EINVALID, "the new end %s is not in the future", until.UTC().Format(time.RFC3339))
	}
	var req *foyer.Request
	err := e.Store.InTx(ctx, func(tx store.Tx) error {
		var err error
		if req, err = tx.FindRequest(ctx, profile, addr); err != nil {
			return err
		}
		if req.State != foyer.StateInvited && req.State != foyer.StateActive {
			return foyer.Errorf(foyer.ECONFLICT, "the request of %s for profile %s is %s: only access granted (invited or active) is extended", addr, profile, req.State)
		}
		return tx.AppendAudit(ctx, store.AuditEntry{Kind: store.AuditChange, Actor: by, RequestID: req.ID,
			Op: opExpiryExtend, Target: req.UserID, Detail: until.UTC().Format(time.RFC3339)})
	})
	if err != nil {
		return nil, fmt.Errorf("extend the access of %s to profile %s: %w", addr, profile, err)
	}
	return req, nil
}
