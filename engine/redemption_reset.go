package engine

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/directory"
	"github.com/foyer-dev/foyer/store"
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
		return tx.AppendAudit(ctx, store.AuditEntry{Kind: store.AuditIntent, Actor: g.actor, Op: "reset redemption", Target: g.target})
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
// redemption and reminders apply again.
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
	gate := &resetGate{e: e, t: t, target: email.String() + " (" + person.ID + ")", actor: actor}
	inv, err := t.Dir.Invite(directory.WithGate(ctx, gate), directory.Invitation{
		Email: email, RedirectURL: p.RedirectURL, SendEmail: p.Sender == foyer.SenderMicrosoft,
		Message: p.Message, Language: p.Language, CC: p.CC, Reset: true, UserID: person.ID,
	})
	if gate.tries.Load() == 0 {
		if err == nil {
			err = fmt.Errorf("the reset was not sent")
		}
		return res, fmt.Errorf("reset the redemption of %s: %w", email, err)
	}
	wctx := context.WithoutCancel(ctx)
	out := store.AuditEntry{Kind: store.AuditOutcome, Actor: actor, Op: "reset redemption", Target: gate.target, GraphID: inv.RequestID}
	if err != nil {
		out.Error = e.safeMessage(err)
		if terr := e.Store.InTx(wctx, func(tx store.Tx) error { return tx.AppendAudit(wctx, out) }); terr != nil {
			e.Log.Error("the outcome of a reset was not recorded", "err", terr)
		}
		return res, fmt.Errorf("reset the redemption of %s: %w", email, err)
	}
	res.RedeemURL = inv.RedeemURL
	err = e.Store.InTx(wctx, func(tx store.Tx) error {
		res.Requests = nil
		if err := tx.AppendAudit(wctx, out); err != nil {
			return err
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
			return tx.PutGuest(wctx, g)
		} else if foyer.ErrorCode(err) != foyer.ENOTFOUND {
			return err
		}
		return nil
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
