package engine

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/directory"
	"github.com/foyer-dev/foyer/store"
)

// Redemption sync with Graph's delta query on users
// (directory.RedemptionDelta; docs/sweep.md, "Redemption and reminders").
// The ledger keeps one token per tenant (kind "users"). A sync reads the
// users changed since it (none kept: a full round, every user once),
// applies what concerns the requests foyer holds, and keeps the new token
// in the same transaction as the moves: a process killed before that
// commits reads the same changes again, and applying a change twice is
// harmless because every move checks the request's current state.
//
//   - invited, guest now Accepted: invited → active, as the read by id
//     does (acceptedTx: guest record, audit, notices, announcements);
//   - active, guest now PendingAcceptance with a change time after the
//     request's last change: the redemption was reset outside foyer
//     (the portal); active → provisioning → invited, so the reminders
//     apply again;
//   - invited or active, guest removed: the guest was deleted outside
//     foyer; → removed, a pending extension lapses, and the guest's row
//     goes (as when the sweep deletes it).
//
// An expired token is forgotten and a full round read instead. A delta
// query the directory refuses (403, 400) falls back to the read by id.

// deltaKindUsers is the kind of the users delta token in the ledger.
const deltaKindUsers = "users"

// deltaMargin widens the window of requests read by id after a delta
// round: a request whose last change is this close to (or after) the
// previous round's commit may have become invited after that round read
// its requests, for a guest whose change the round had already passed.
const deltaMargin = 10 * time.Minute

// errDeltaRefused marks a delta query the directory refused: the sync
// reads by id instead.
var errDeltaRefused = errors.New("the directory refused the delta query on users")

// Notes and audit operations of the moves a delta round causes.
const (
	noteResetOutside = "redemption reset outside foyer"
	// The sync cannot tell who deleted the object: someone outside foyer,
	// or foyer's own sweep whose outcome is not recorded yet (its delete
	// answered, its transaction to come). The note says what is known;
	// the audit log has the sweep's own entries when it was the sweep.
	noteDeletedOutside = "the guest object was deleted in the tenant (seen by the redemption sync)"
	opResetOutside     = "redemption " + foyer.PendingAcceptance
	opDeletedOutside   = "guest deleted"
)

// deltaTenantKey names tenant t's token in the ledger: its name in the
// configuration, else its id (an engine with one unnamed tenant).
func deltaTenantKey(t *Tenant) string { return cmp.Or(t.Name, t.ID, "default") }

// syncTenantDelta reads tenant t's users changed since its token and
// applies them. It returns the invited requests of invited that still
// need a read by id: those whose last change came after the previous
// round was kept (within deltaMargin), when the directory reads by id.
func (e *Engine) syncTenantDelta(ctx context.Context, t *Tenant, rd directory.RedemptionDelta, invited []*foyer.Request, sum *RedemptionSync) ([]*foyer.Request, error) {
	key := deltaTenantKey(t)
	var (
		token string
		at    time.Time
	)
	err := e.Store.InTx(ctx, func(tx store.Tx) (err error) {
		token, at, err = tx.DeltaToken(ctx, key, deltaKindUsers)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read the delta token of tenant %s: %w", key, err)
	}
	changes, next, err := rd.RedemptionChanges(ctx, token)
	if token != "" && errors.Is(err, directory.ErrResync) {
		e.Log.Warn("the delta token of the users expired: reading every user of the tenant again", "tenant", key, "err", err)
		sum.Resynced++
		if err := e.Store.InTx(ctx, func(tx store.Tx) error { return tx.PutDeltaToken(ctx, key, deltaKindUsers, "") }); err != nil {
			return nil, fmt.Errorf("forget the expired delta token of tenant %s: %w", key, err)
		}
		token, at = "", time.Time{}
		changes, next, err = rd.RedemptionChanges(ctx, "")
	}
	switch {
	case errors.Is(err, directory.ErrForbidden), errors.Is(err, directory.ErrInvalid):
		return nil, fmt.Errorf("%w: %w", errDeltaRefused, err)
	case err != nil:
		return nil, fmt.Errorf("read the users of tenant %s changed since the last sync: %w", key, err)
	}
	sum.Changes += len(changes)
	if err := e.applyChanges(ctx, t, key, changes, next, sum); err != nil {
		return nil, err
	}
	if token == "" {
		return nil, nil // a full round saw every guest as it is now
	}
	if _, ok := t.Dir.(directory.Redemptions); !ok {
		return nil, nil
	}
	var recent []*foyer.Request
	for _, r := range invited {
		if !r.UpdatedAt.Before(at.Add(-deltaMargin)) {
			recent = append(recent, r)
		}
	}
	return recent, nil
}

// applyChanges applies a delta round's changes to the requests foyer
// holds in tenant t, and keeps next as its token, in one transaction.
func (e *Engine) applyChanges(ctx context.Context, t *Tenant, key string, changes []directory.RedemptionChange, next string, sum *RedemptionSync) error {
	last := make(map[string]directory.RedemptionChange, len(changes))
	var order []string
	for _, c := range changes {
		k := strings.ToLower(c.UserID)
		if _, ok := last[k]; !ok {
			order = append(order, k)
		}
		last[k] = c // a user may come more than once: the last wins
	}
	var got RedemptionSync
	err := e.Store.InTx(ctx, func(tx store.Tx) error {
		got = RedemptionSync{}
		held := map[string][]*foyer.Request{}
		err := tx.Requests(ctx, store.RequestFilter{States: []foyer.State{foyer.StateInvited, foyer.StateActive}}, func(r *foyer.Request) error {
			k := strings.ToLower(r.UserID)
			if _, ok := last[k]; !ok || e.Profiles[r.Profile] == nil {
				return nil
			}
			if rt, err := e.TenantOf(r.Profile); err != nil || deltaTenantKey(rt) != key {
				return nil
			}
			held[k] = append(held[k], r)
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range order {
			c := last[k]
			if c.Removed {
				// The object is gone: so is its row, whatever its
				// requests hold (their history stays).
				if err := tx.DeleteGuest(ctx, c.UserID); err != nil {
					return err
				}
			}
			for _, r := range held[k] {
				var moved bool
				switch {
				case c.Removed:
					moved, err = e.deletedOutside(ctx, tx, r)
					if moved {
						got.Removed++
					}
				case strings.EqualFold(c.State, foyer.Accepted):
					moved, err = e.acceptedTx(ctx, tx, r, directory.Redemption{UserID: c.UserID, State: c.State, ChangedAt: c.StateChangedAt})
					if moved {
						got.Accepted++
					}
				case strings.EqualFold(c.State, foyer.PendingAcceptance):
					moved, err = e.resetOutside(ctx, tx, r, c)
					if moved {
						got.Reset++
					}
				}
				if err != nil {
					return fmt.Errorf("request %s: %w", r.ID, err)
				}
			}
		}
		if e.deltaApplied != nil {
			if err := e.deltaApplied(); err != nil {
				return err
			}
		}
		return tx.PutDeltaToken(ctx, key, deltaKindUsers, next)
	})
	if err != nil {
		return fmt.Errorf("record the changes of %d users of tenant %s: %w", len(last), key, err)
	}
	sum.Accepted += got.Accepted
	sum.Reset += got.Reset
	sum.Removed += got.Removed
	return nil
}

// resetOutside moves r back to invited when it is active and its guest
// is PendingAcceptance since after r's last change: someone reset the
// redemption outside foyer. A guest pending since before r went active
// (an older state the round reports again) leaves it.
func (e *Engine) resetOutside(ctx context.Context, tx store.Tx, r *foyer.Request, c directory.RedemptionChange) (bool, error) {
	if r.State != foyer.StateActive || c.StateChangedAt.IsZero() || !c.StateChangedAt.After(r.UpdatedAt) {
		return false, nil
	}
	if err := tx.MoveRequest(ctx, r, foyer.StateProvisioning, noteResetOutside); err != nil {
		return false, err
	}
	if err := tx.MoveRequest(ctx, r, foyer.StateInvited, noteResetOutside+": the guest must redeem again"); err != nil {
		return false, err
	}
	if g, err := tx.Guest(ctx, r.UserID); err == nil {
		g.Redemption = foyer.PendingAcceptance
		if err := tx.PutGuest(ctx, g); err != nil {
			return false, err
		}
	} else if foyer.ErrorCode(err) != foyer.ENOTFOUND {
		return false, err
	}
	err := tx.AppendAudit(ctx, store.AuditEntry{Kind: store.AuditChange, Actor: e.actor(), RequestID: r.ID,
		Op: opResetOutside, Target: r.UserID, Detail: noteResetOutside + " on " + c.StateChangedAt.UTC().Format(time.RFC3339)})
	return err == nil, err
}

// deletedOutside moves r to removed when it is invited or active: its
// guest was deleted outside foyer.
func (e *Engine) deletedOutside(ctx context.Context, tx store.Tx, r *foyer.Request) (bool, error) {
	if r.State != foyer.StateInvited && r.State != foyer.StateActive {
		return false, nil
	}
	r.RedeemURL = ""
	if err := tx.MoveRequest(ctx, r, foyer.StateRemoved, noteDeletedOutside); err != nil {
		return false, err
	}
	if err := e.lapseExtensions(ctx, tx, r.ID, "the guest was deleted before a decision"); err != nil {
		return false, err
	}
	err := tx.AppendAudit(ctx, store.AuditEntry{Kind: store.AuditChange, Actor: e.actor(), RequestID: r.ID,
		Op: opDeletedOutside, Target: r.UserID, Detail: noteDeletedOutside})
	return err == nil, err
}
