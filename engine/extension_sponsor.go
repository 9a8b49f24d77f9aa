package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/directory"
	"github.com/foyer-dev/foyer/store"
)

// A sponsor asks for more time (docs/sweep.md, "Expiry"): the expiry
// notice sends the guest's sponsors to the request page's /extend/{id},
// which any signed-in employee reaches; only a sponsor of the guest gets
// past sponsorOf. The ask then goes through askExtension as every other
// ask does: the profile's policy decides.

// errNotSponsor is what anyone but a sponsor is told.
func errNotSponsor() error {
	return foyer.Errorf(foyer.EFORBIDDEN, "only a sponsor of this guest asks for more time here")
}

// SponsorView shows a request to one of its guest's sponsors: the
// person, the profile, the state, when access ends, the latest extension
// and whether more time may be asked for now. It holds no history and no
// decisions: their notes are the ledger's. Errors are *foyer.Error:
// ENOTFOUND for an unknown request, EFORBIDDEN for who is not a sponsor
// (sponsorOf) or a guest of the tenant, EUNAVAILABLE when the guest's
// sponsors in the directory could not be read.
func (e *Engine) SponsorView(ctx context.Context, requestID string, who foyer.Principal) (foyer.RequestView, error) {
	if err := e.sponsorOf(ctx, requestID, who); err != nil {
		return foyer.RequestView{}, fmt.Errorf("show request %s to %s: %w", requestID, who, err)
	}
	var v foyer.RequestView
	err := e.Store.InTx(ctx, func(tx store.Tx) error {
		req, err := tx.Request(ctx, requestID)
		if err != nil {
			return err
		}
		v = foyer.RequestView{Request: req, Verified: true}
		return e.extensionView(ctx, tx, &v)
	})
	if err != nil {
		return foyer.RequestView{}, fmt.Errorf("show request %s to %s: %w", requestID, who, err)
	}
	return v, nil
}

// AskExtensionAsSponsor asks, in the name of who, a sponsor of the
// guest (sponsorOf), for the access of a request to end at until
// instead. Errors are SponsorView's, then AskExtension's.
func (e *Engine) AskExtensionAsSponsor(ctx context.Context, requestID string, who foyer.Principal, until time.Time, justification string) (*foyer.Extension, error) {
	if err := e.sponsorOf(ctx, requestID, who); err != nil {
		return nil, fmt.Errorf("ask for more time for request %s: %w", requestID, err)
	}
	return e.askExtension(ctx, requestID, who.String(), until, justification)
}

// sponsorOf returns nil when who sponsors the guest of a request: who is
// the request's sponsor, or one of its profile's sponsors (by object id,
// user principal name or address), or one of the guest's sponsors in the
// directory (directory.Lifecycle.Sponsors on the profile's tenant, which
// gives addresses, a group's members' mail for a group), by address or
// user principal name. The directory is asked only when the ledger does
// not already say so. A guest of the tenant is refused as AskExtension
// refuses it, whoever sponsors it.
func (e *Engine) sponsorOf(ctx context.Context, requestID string, who foyer.Principal) error {
	if who.Guest() {
		return foyer.Errorf(foyer.EFORBIDDEN, "guests of the tenant ask for more time through the link of the notice they were sent")
	}
	var req *foyer.Request
	err := e.Store.InTx(ctx, func(tx store.Tx) error {
		var err error
		req, err = tx.Request(ctx, requestID)
		return err
	})
	if err != nil {
		return err
	}
	if who.Is(req.Details.Sponsor) {
		return nil
	}
	if p := e.Profiles[req.Profile]; p != nil {
		for _, ref := range p.Sponsors {
			if who.Is(ref) || sameAddress(who, ref) {
				return nil
			}
		}
	}
	if req.UserID == "" || (who.Email == "" && who.UPN == "") {
		return errNotSponsor()
	}
	t, err := e.TenantOf(req.Profile)
	if err != nil {
		return errNotSponsor() // a profile no longer served: nobody in the directory to ask
	}
	lc, ok := t.Dir.(directory.Lifecycle)
	if !ok {
		return errNotSponsor()
	}
	sponsors, err := lc.Sponsors(ctx, req.UserID)
	if err != nil {
		// Who is asking is not told about the directory's trouble; the
		// log keeps it.
		e.Log.WarnContext(ctx, "read the guest's sponsors to let a sponsor ask for more time", "request", req.ID, "err", err)
		return foyer.Errorf(foyer.EUNAVAILABLE, "the guest's sponsors could not be read from the directory; try again later")
	}
	for _, a := range sponsors {
		if sameAddress(who, string(a)) {
			return nil
		}
	}
	return errNotSponsor()
}

// sameAddress reports whether ref, read as an address, is who's address
// or user principal name (compared as addresses are, without case).
func sameAddress(who foyer.Principal, ref string) bool {
	a, err := foyer.ParseAddress(ref)
	if err != nil {
		return false
	}
	if who.Email != "" && who.Email.Key() == a.Key() {
		return true
	}
	if u, err := foyer.ParseAddress(who.UPN); err == nil && u.Key() == a.Key() {
		return true
	}
	return false
}
