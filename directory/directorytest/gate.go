package directorytest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/directory"
)

// inviteOnce invites as foyer's engine does, looking the person up after a
// call whose outcome is unknown instead of inviting blindly again. With the
// sim, whose direct reads see a new guest at once, a person not found
// after such a call was not invited.
func inviteOnce(ctx context.Context, d directory.Directory, inv directory.Invitation) (directory.Invited, error) {
	for try := 0; ; try++ {
		got, err := d.Invite(ctx, inv)
		if !directory.OutcomeUnknown(err) || try == 4 {
			return got, err
		}
		p, ok, lerr := d.Lookup(ctx, inv.Email)
		if lerr != nil {
			return got, fmt.Errorf("%w (and the look-up after it: %v)", err, lerr)
		}
		if ok {
			return directory.Invited{UserID: p.ID, Existing: true}, nil
		}
	}
}

// lookupNewGuest: Lookup finds a guest invited moments ago, before it
// replicates to list queries, so that a lost invitation's answer is
// settled at once.
func lookupNewGuest(t *testing.T, newHarness func(t *testing.T) Harness) {
	h, ctx := setup(t, newHarness)
	a := addr(t, "lookup")
	if _, ok, err := h.Directory.Lookup(ctx, a); err != nil || ok {
		t.Fatalf("Lookup before the invitation = %v, %v; want not found", ok, err)
	}
	inv, err := inviteOnce(ctx, h.Directory, directory.Invitation{Email: a, RedirectURL: redirectURL})
	if err != nil {
		t.Fatal(err)
	}
	p, ok, err := h.Directory.Lookup(ctx, a)
	if err != nil || !ok || p.ID != inv.UserID || !p.Guest() {
		t.Fatalf("Lookup right after the invitation = %+v, %v, %v; want guest %s", p, ok, err, inv.UserID)
	}
}

type countingGate struct {
	n   atomic.Int64
	err error
}

func (g *countingGate) Admit(context.Context) error { g.n.Add(1); return g.err }

// gateRefusesWrites: a write whose gate refuses is not sent (the tenant
// counts no invitation, the grant is not held) and fails with a
// GateError; an admitting gate is asked once per write sent; reads never
// pass it.
func gateRefusesWrites(t *testing.T, newHarness func(t *testing.T) Harness) {
	h, ctx := setup(t, newHarness)
	tenant := needTenant(t, h)
	needFixture(t, h.Fixtures.Group, "group")
	d := h.Directory
	g, err := d.Resolve(ctx, foyer.Grant{Kind: foyer.GrantGroup, Ref: h.Fixtures.Group})
	if err != nil {
		t.Fatal(err)
	}
	lost := errors.New("the lease was lost")
	no := &countingGate{err: lost}
	refused := addr(t, "refused")
	_, err = d.Invite(directory.WithGate(ctx, no), directory.Invitation{Email: refused, RedirectURL: redirectURL})
	if !directory.Refused(err) || !errors.Is(err, lost) {
		t.Fatalf("Invite through a refusing gate = %v; want a GateError wrapping the reason", err)
	}
	if _, err := d.Find(directory.WithGate(ctx, no), []foyer.Address{refused}); err != nil {
		t.Fatalf("a read through a refusing gate: %v", err)
	}
	yes := &countingGate{}
	a := addr(t, "admitted")
	inv, err := inviteOnce(directory.WithGate(ctx, yes), d, directory.Invitation{Email: a, RedirectURL: redirectURL})
	if err != nil {
		t.Fatal(err)
	}
	if yes.n.Load() < 1 {
		t.Errorf("an invitation went out without asking its gate")
	}
	to := directory.Grantee{UserID: inv.UserID, Email: a}
	_, err = d.Grant(directory.WithGate(ctx, no), to, g)
	if !directory.Refused(err) {
		t.Fatalf("Grant through a refusing gate = %v; want a GateError", err)
	}
	eventually(ctx, t, h, "the refused grant is not held", func() (bool, error) {
		held, err := d.Holders(ctx, g)
		return !held[strings.ToLower(inv.UserID)], err
	})
	got, err := tenant.Invitations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n := got[refused.Key()]; n != 0 {
		t.Errorf("the tenant counted %d invitations for %s, whose gate refused it", n, refused)
	}
	if no.n.Load() != 2 {
		t.Errorf("the refusing gate was asked %d times, want 2 (the invitation and the grant, never the read)", no.n.Load())
	}
}
