package engine

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/directory"
	"github.com/foyer-dev/foyer/store"
)

// The audit operations of a reset: the reset itself, and the plain
// invitation that gets a new redeem URL when a reset's answer was lost.
const (
	opResetRedemption = "reset redemption"
	opResetRedeemURL  = "reset redemption: new redeem URL"
)

// ResetResult is what a reset of a guest's redemption did.
type ResetResult struct {
	UserID    string
	RedeemURL string   // for a profile whose sender is none: nobody else tells the guest
	Requests  []string // requests moved back to invited
	MessageID string   // foyer's email, for a profile whose sender is foyer
}

// resetGate records the reset's intent right before it goes out, in the
// transaction that checks the lease and the tenant's block.
type resetGate struct {
	e      *Engine
	t      *Tenant
	op     string
	target string
	actor  string
	tries  atomic.Int32
}

func (g *resetGate) Admit(ctx context.Context) error {
	err := g.e.Store.InTx(ctx, func(tx store.Tx) error {
		if err := g.e.holdLease(ctx, tx); err != nil {
			return err
		}
		if err := g.e.checkBlock(ctx, tx, g.t); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, store.AuditEntry{Kind: store.AuditIntent, Actor: g.actor, Op: g.op, Target: g.target})
	})
	if err == nil {
		g.tries.Add(1)
	}
	return err
}

// ResetRedemption resets the redemption of the guest who holds email: POST
// /invitations with resetRedemption and invitedUser.id, which keeps the
// guest's object (id, groups, licenses) and makes it PendingAcceptance
// again with a new redeem URL; the guest redeems again, with whatever
// account now holds the address. The profile gives the redirect URL and
// who tells the guest. It is an admin's explicit action: by names who,
// for the audit log. The guest's active requests go back to invited
// (through provisioning, in one transaction), so the sync sees the new
// redemption and reminders apply again. A reset carried out by a command
// stopped before its answer came back (resetLost) is recorded, not sent
// again.
func (e *Engine) ResetRedemption(ctx context.Context, email foyer.Address, profile, by string) (ResetResult, error) {
	var res ResetResult
	p := e.Profiles[profile]
	if p == nil {
		return res, foyer.Errorf(foyer.ENOTFOUND, "no profile %q", profile)
	}
	t, err := e.TenantOf(profile)
	if err != nil {
		return res, err
	}
	person, found, err := t.Dir.Lookup(ctx, email)
	if err != nil {
		return res, fmt.Errorf("look %s up: %w", email, err)
	}
	if !found || !person.Guest() {
		return res, foyer.Errorf(foyer.ENOTFOUND, "no guest holds %s in the tenant", email)
	}
	res.UserID = person.ID
	actor := "cli:" + by
	gate := &resetGate{e: e, t: t, op: opResetRedemption, target: email.String() + " (" + person.ID + ")", actor: actor}
	lost, redeemedSince, err := e.resetLost(ctx, person)
	if err != nil {
		return res, fmt.Errorf("reset the redemption of %s: %w", email, err)
	}
	if redeemedSince {
		// The lost reset landed and the guest redeemed its new invitation
		// already: record it; nothing to send, its requests stay active.
		out := store.AuditEntry{Kind: store.AuditOutcome, Actor: actor, Op: opResetRedemption, Target: gate.target,
			Detail: "carried out by an earlier command stopped before its answer came back: the guest has redeemed again since " +
				person.ExternalUserStateChangedAt.UTC().Format(time.RFC3339)}
		if err := e.Store.InTx(ctx, func(tx store.Tx) error {
			if err := e.holdLease(ctx, tx); err != nil {
				return err
			}
			return tx.AppendAudit(ctx, out)
		}); err != nil {
			return res, fmt.Errorf("record the reset of %s: %w", email, err)
		}
		return res, nil
	}
	wctx := context.WithoutCancel(ctx)
	var inv directory.Invited
	var outcomes []store.AuditEntry // recorded with the requests moved back
	if lost {
		outcomes = append(outcomes, store.AuditEntry{Kind: store.AuditOutcome, Actor: actor, Op: opResetRedemption, Target: gate.target,
			Detail: "carried out by an earlier command stopped before its answer came back: the tenant shows the guest PendingAcceptance"})
	}
	// A lost reset is not sent again. For sender microsoft Entra sent its
	// email with it; for the others its redeem URL was lost with the
	// answer, and a plain invitation of the guest, pending again, gives a
	// new one (as a reminder does) without resetting the guest twice.
	if !lost || p.Sender != foyer.SenderMicrosoft {
		in := directory.Invitation{Email: email, RedirectURL: p.RedirectURL, SendEmail: p.Sender == foyer.SenderMicrosoft,
			Message: p.Message, Language: p.Language, CC: p.CC, Reset: true, UserID: person.ID}
		if lost {
			gate.op, in.Reset, in.UserID = opResetRedeemURL, false, ""
		}
		inv, err = t.Dir.Invite(directory.WithGate(ctx, gate), in)
		if gate.tries.Load() == 0 {
			if err == nil {
				err = fmt.Errorf("the reset was not sent")
			}
			return res, fmt.Errorf("reset the redemption of %s: %w", email, err)
		}
		out := store.AuditEntry{Kind: store.AuditOutcome, Actor: actor, Op: gate.op, Target: gate.target, GraphID: inv.RequestID}
		if err != nil {
			out.Error = e.safeMessage(err)
			if terr := e.Store.InTx(wctx, func(tx store.Tx) error { return tx.AppendAudit(wctx, out) }); terr != nil {
				e.Log.Error("the outcome of a reset was not recorded", "err", terr)
			}
			return res, fmt.Errorf("reset the redemption of %s: %w", email, err)
		}
		outcomes = append(outcomes, out)
	}
	res.RedeemURL = inv.RedeemURL
	err = e.Store.InTx(wctx, func(tx store.Tx) error {
		res.Requests = nil
		if gate.tries.Load() == 0 {
			// Nothing was sent: the lease is checked here.
			if err := e.holdLease(wctx, tx); err != nil {
				return err
			}
		}
		for _, out := range outcomes {
			if err := tx.AppendAudit(wctx, out); err != nil {
				return err
			}
		}
		var active []*foyer.Request
		if err := tx.Requests(wctx, store.RequestFilter{Email: email, States: []foyer.State{foyer.StateActive}}, func(r *foyer.Request) error {
			if strings.EqualFold(r.UserID, person.ID) {
				active = append(active, r)
			}
			return nil
		}); err != nil {
			return err
		}
		for _, r := range active {
			if err := tx.MoveRequest(wctx, r, foyer.StateProvisioning, "redemption reset by "+by); err != nil {
				return err
			}
			if err := tx.MoveRequest(wctx, r, foyer.StateInvited, "the guest must redeem again"); err != nil {
				return err
			}
			res.Requests = append(res.Requests, r.ID)
		}
		if g, err := tx.Guest(wctx, person.ID); err == nil {
			g.Redemption = foyer.PendingAcceptance
			if err := tx.PutGuest(wctx, g); err != nil {
				return err
			}
		} else if foyer.ErrorCode(err) != foyer.ENOTFOUND {
			return err
		}
		// The requests are invited again: the profiles stay, and a row
		// written before foyer kept them gets them.
		return syncGuestRow(wctx, tx, person.ID)
	})
	if err != nil {
		return res, fmt.Errorf("record the reset of %s: %w", email, err)
	}
	if p.Sender == foyer.SenderFoyer {
		if e.Mailer == nil {
			return res, foyer.Errorf(foyer.EINVALID, "profile %s sends its own invitation emails, but no SMTP server is configured: "+
				"the guest was reset but not told", p.Name)
		}
		id := strings.NewReplacer("-", "", "_", "").Replace("foyer.reset." + person.ID + "." + inv.RequestID)
		res.MessageID, err = e.Mailer.SendInvitation(ctx, InvitationMail{ID: id, Profile: p.Name, To: email, ToName: person.DisplayName,
			RedeemURL: inv.RedeemURL, Message: p.Message, Language: p.Language, CC: p.CC})
		if err != nil {
			return res, fmt.Errorf("the guest was reset; send foyer's invitation email: %w", err)
		}
	}
	if p.Sender != foyer.SenderNone {
		res.RedeemURL = ""
	}
	return res, nil
}

// resetLost reports whether a reset of the guest was carried out by a
// command stopped before its answer came back: the ledger holds the
// reset's intent without an outcome (the last reset entry for the guest's
// object is an intent), and the tenant shows the guest PendingAcceptance
// (lost), or Accepted since a time no earlier than that intent (the reset
// landed and the guest already redeemed the new invitation: redeemedSince).
// Either counts as done and is not sent again. An intent without an
// outcome for a guest the tenant shows Accepted since before it was not
// carried out: it is sent. The two clocks compared are the ledger's and
// Entra's; a reset is written as an intent before it is sent, so Entra's
// change for it comes after the intent unless the clocks differ by more
// than the round trip.
func (e *Engine) resetLost(ctx context.Context, person directory.Person) (lost, redeemedSince bool, err error) {
	suffix := strings.ToLower(" (" + person.ID + ")")
	var intent *store.AuditEntry
	err = e.Store.InTx(ctx, func(tx store.Tx) error {
		intent = nil
		return tx.AuditLog(ctx, store.AuditFilter{Op: opResetRedemption}, func(a store.AuditEntry) error {
			if strings.HasSuffix(strings.ToLower(a.Target), suffix) {
				intent = nil
				if a.Kind == store.AuditIntent {
					intent = &a
				}
			}
			return nil
		})
	})
	if err != nil {
		return false, false, fmt.Errorf("read the ledger's resets: %w", err)
	}
	switch {
	case intent == nil:
		return false, false, nil
	case person.ExternalUserState == foyer.PendingAcceptance:
		return true, false, nil
	case person.ExternalUserState == foyer.Accepted && !person.ExternalUserStateChangedAt.IsZero() &&
		!person.ExternalUserStateChangedAt.Before(intent.At):
		return true, true, nil
	}
	return false, false, nil
}
