package engine_test

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/engine"
	"github.com/foyer-dev/foyer/sim"
	"github.com/foyer-dev/foyer/source"
	"github.com/foyer-dev/foyer/store"
)

// applyProfile plans csv for profile p and applies it, as w.apply does
// for partners.
func (w *world) applyProfile(t *testing.T, p *foyer.Profile, csv []byte, digest string) *foyer.Run {
	t.Helper()
	ctx := context.Background()
	verified, err := w.dir.Domains(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pl := &engine.Planner{Dir: w.dir, Profile: p}
	held, err := pl.Holdings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var rows []foyer.Row
	err = pl.Plan(ctx, func(yield func(foyer.Row) error) error {
		_, err := source.Read(ctx, bytes.NewReader(csv), source.Options{VerifiedDomains: verified, Profile: p}, yield)
		return err
	}, held, func(r foyer.Row) error {
		rows = append(rows, r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.eng.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer w.eng.Stop(ctx)
	run, err := w.eng.Apply(ctx, engine.ApplyInput{Profile: p.Name, Source: "test.csv", Digest: digest, Plan: planOf(rows)})
	if err != nil {
		t.Fatal(err)
	}
	return run
}

// guestRow reads the ledger's row of a guest; nil when it has none.
func guestRow(t *testing.T, s store.Store, userID string) *foyer.Guest {
	t.Helper()
	var g *foyer.Guest
	err := s.InTx(context.Background(), func(tx store.Tx) error {
		var err error
		g, err = tx.Guest(context.Background(), userID)
		if foyer.ErrorCode(err) == foyer.ENOTFOUND {
			g, err = nil, nil
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestApplyAndRevokeKeepGuestProfiles: a guest's row lists the profiles
// it holds through foyer, as the guest list (API, admin) shows them: an
// invitation through partners lists partners, an apply of vendors to the
// same guest (an existing guest: no new invitation) adds vendors, and a
// revoke of partners takes partners off and leaves vendors; a guest never
// applied to vendors holds partners alone until its revoke, and then
// nothing.
func TestApplyAndRevokeKeepGuestProfiles(t *testing.T) {
	t.Parallel()
	for name, ledger := range ledgers {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			w := newWorldOn(t, ledger, sim.Options{})
			vendors := &foyer.Profile{Name: "vendors", RedirectURL: w.profile.RedirectURL, Sender: foyer.SenderMicrosoft}
			var err error
			if vendors.Grants, err = engine.ResolveGrants(ctx, w.dir, []foyer.Grant{{Kind: foyer.GrantGroup, Ref: "Partners"}}, nil); err != nil {
				t.Fatal(err)
			}
			w.eng.Profiles["vendors"] = vendors

			both := people(2, "rows")
			w.apply(t, both, "partners")
			kim, lee := findRequest(t, w.store, "rows.000@partner0.example"), findRequest(t, w.store, "rows.001@partner1.example")
			want := func(what string, r *foyer.Request, profiles ...string) {
				t.Helper()
				g := guestRow(t, w.store, r.UserID)
				if g == nil {
					t.Fatalf("%s: %s (%s) has no guest row", what, r.Email, r.UserID)
				}
				if !slices.Equal(g.Profiles, profiles) {
					t.Errorf("%s: the row of %s lists %q, want %q", what, r.Email, g.Profiles, profiles)
				}
			}
			want("after the apply of partners", kim, "partners")
			want("after the apply of partners", lee, "partners")

			run := w.applyProfile(t, vendors, people(1, "rows"), "vendors")
			if run.Summary.Results[foyer.ResultGranted] != 1 {
				t.Fatalf("the apply of vendors to kim: %v, want her granted", run.Summary.Results)
			}
			want("after the apply of vendors", kim, "partners", "vendors")
			want("after the apply of vendors", lee, "partners")

			if err := w.eng.Start(ctx); err != nil {
				t.Fatal(err)
			}
			revoked, err := w.eng.Revoke(ctx, "partners", []foyer.Address{kim.Email, lee.Email}, nil)
			_ = w.eng.Stop(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if revoked.Summary.Results[foyer.ResultRevoked] != 2 {
				t.Fatalf("the revoke: %v", revoked.Summary.Results)
			}
			want("after the revoke of partners", kim, "vendors")
			want("after the revoke of partners", lee)
		})
	}
}

// TestSweepDeleteRemovesGuestFromLedger: the sweep's disable marks the
// guest's row disabled, and its delete moves the guest's requests to
// removed and takes the row out, in the transactions that record them; an
// expiry then plans nothing for the deleted guest. Listed again, the
// person is invited again, a new object with a new row, and the request
// goes removed → provisioning → invited.
func TestSweepDeleteRemovesGuestFromLedger(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rules := foyer.SweepRules{NeverRedeemedDays: 30, DeleteAfterDays: 10}
	w := newSweepWorld(t, rules)
	p := &foyer.Profile{Name: "partners", RedirectURL: "https://myapps.microsoft.com", Sender: foyer.SenderMicrosoft,
		Expiry: 365 * 24 * time.Hour}
	w.eng.Profiles = map[string]*foyer.Profile{"partners": p}
	const email = "gone@partner.example"
	invite := func(digest string) *foyer.Request {
		t.Helper()
		rows := []foyer.Row{{Line: 2, Email: email, DisplayName: "Gone", Action: foyer.ActionInvite}}
		run, err := w.eng.Apply(ctx, engine.ApplyInput{Profile: "partners", Source: "test.csv", Digest: digest, Plan: planOf(rows)})
		if err != nil {
			t.Fatal(err)
		}
		if run.Summary.Results[foyer.ResultInvited] != 1 {
			t.Fatalf("apply %s: %v, want the guest invited", digest, run.Summary.Results)
		}
		var r *foyer.Request
		if err := w.store.InTx(ctx, func(tx store.Tx) (err error) {
			r, err = tx.FindRequest(ctx, "partners", email)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return r
	}
	first := invite("first")
	if g := guestRow(t, w.store, first.UserID); g == nil || !g.Enabled || !slices.Equal(g.Profiles, []string{"partners"}) {
		t.Fatalf("after the invitation, the guest's row is %+v, want enabled with partners", g)
	}

	// Never redeemed for 31 days: disabled.
	w.days(31)
	run, _ := w.sweep(t, nil)
	if r := w.results(t, run); r[email] != "disable disabled" {
		t.Fatalf("day 31: results %v", r)
	}
	if g := guestRow(t, w.store, first.UserID); g == nil || g.Enabled || !slices.Equal(g.Profiles, []string{"partners"}) {
		t.Fatalf("after the disable, the guest's row is %+v, want disabled, still with partners", g)
	}

	// 10 days later: deleted.
	w.days(10)
	run, _ = w.sweep(t, nil)
	if r := w.results(t, run); r[email] != "delete deleted" {
		t.Fatalf("day 41: results %v", r)
	}
	if g := guestRow(t, w.store, first.UserID); g != nil {
		t.Errorf("after the delete, the guest's row is still there: %+v", g)
	}
	var removed *foyer.Request
	var hist []foyer.Transition
	if err := w.store.InTx(ctx, func(tx store.Tx) (err error) {
		if removed, err = tx.Request(ctx, first.ID); err != nil {
			return err
		}
		hist, err = tx.History(ctx, first.ID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if last := hist[len(hist)-1]; removed.State != foyer.StateRemoved || last.Note != "deleted by sweep run "+run.ID {
		t.Errorf("after the delete, the request is %s (last move %+v), want removed by sweep run %s", removed.State, last, run.ID)
	}
	ep, err := w.eng.PlanExpiry(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range ep.Items {
		if it.Request.ID == first.ID {
			t.Errorf("the expiry plans the deleted guest's request: %+v", it)
		}
	}

	// Listed again: invited again, a new object, a new row.
	again := invite("second")
	if got := w.sim.Stats().InvitationsByEmail[email]; got != 2 {
		t.Errorf("%s invited %d times, want 2", email, got)
	}
	if again.ID != first.ID || again.State != foyer.StateInvited || again.UserID == "" || again.UserID == first.UserID {
		t.Errorf("listed again: request %s %s of %q, want %s invited, of a new guest (not %s)", again.ID, again.State, again.UserID,
			first.ID, first.UserID)
	}
	if err := w.store.InTx(ctx, func(tx store.Tx) (err error) {
		hist, err = tx.History(ctx, first.ID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	var path []foyer.State
	for _, tr := range hist[len(hist)-3:] {
		path = append(path, tr.To)
	}
	if want := []foyer.State{foyer.StateRemoved, foyer.StateProvisioning, foyer.StateInvited}; !slices.Equal(path, want) {
		t.Errorf("the request's last moves: %v, want %v", path, want)
	}
	if g := guestRow(t, w.store, again.UserID); g == nil || !g.Enabled || !slices.Equal(g.Profiles, []string{"partners"}) {
		t.Errorf("the new guest's row is %+v, want enabled with partners", g)
	}
	ep, err = w.eng.PlanExpiry(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ep.Items) != 1 || ep.Items[0].Request.ID != first.ID || ep.Items[0].Request.UserID != again.UserID {
		t.Errorf("expiry plans %d items, want the request again, of the new guest", len(ep.Items))
	}
}

// TestExistingGuestGetsARow: a guest that was in the tenant before foyer
// (invited by hand, found by the plan as "exists") and is granted a
// profile gets a row listing it, with the state the tenant showed; the
// revoke of that profile leaves the row with none.
func TestExistingGuestGetsARow(t *testing.T) {
	t.Parallel()
	for name, ledger := range ledgers {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			w := newWorldOn(t, ledger, sim.Options{})
			if _, err := w.sim.Seed(sim.SeedData{Users: []sim.SeedUser{
				{DisplayName: "Ola Berg", Mail: "ola@wingtip.example", UserType: "Guest", ExternalUserState: "Accepted"},
				{DisplayName: "Per Lund", Mail: "per@wingtip.example", UserType: "Guest", ExternalUserState: "PendingAcceptance"},
			}}); err != nil {
				t.Fatal(err)
			}
			run := w.apply(t, []byte("name,email\nOla Berg,ola@wingtip.example\nPer Lund,per@wingtip.example\n"), "existing")
			if run.Summary.Results[foyer.ResultGranted] != 2 {
				t.Fatalf("the apply: %v, want both granted", run.Summary.Results)
			}
			for addr, state := range map[string]string{"ola@wingtip.example": foyer.Accepted, "per@wingtip.example": foyer.PendingAcceptance} {
				r := findRequest(t, w.store, addr)
				g := guestRow(t, w.store, r.UserID)
				if g == nil {
					t.Fatalf("%s (%s), found in the tenant and granted partners, has no guest row", addr, r.UserID)
				}
				if !slices.Equal(g.Profiles, []string{"partners"}) || g.Redemption != state || !g.Enabled || g.Email.Key() != addr {
					t.Errorf("the row of %s: %+v; want partners, %s, enabled", addr, g, state)
				}
			}
			if err := w.eng.Start(ctx); err != nil {
				t.Fatal(err)
			}
			_, err := w.eng.Revoke(ctx, "partners", []foyer.Address{"ola@wingtip.example"}, nil)
			_ = w.eng.Stop(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if g := guestRow(t, w.store, findRequest(t, w.store, "ola@wingtip.example").UserID); g == nil || len(g.Profiles) != 0 {
				t.Errorf("after the revoke the row of ola is %+v, want one without profiles", g)
			}
		})
	}
}
