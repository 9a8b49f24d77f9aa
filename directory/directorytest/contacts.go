package directorytest

import (
	"errors"
	"strings"
	"testing"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/directory"
)

// Mail contacts: a contact that holds a person's address must be found
// before that person is invited (a guest invited for such an address cannot
// redeem by direct link); foyer takes back the contacts it made before, and
// makes none.
func runContacts(t *testing.T, newHarness func(t *testing.T) Harness) {
	t.Run("a contact holding an address is found", func(t *testing.T) { t.Parallel(); contactFound(t, newHarness) })
	t.Run("contacts are taken back, never made", func(t *testing.T) { t.Parallel(); contactNotMade(t, newHarness) })
	t.Run("address book for a guest a contact conflicts with", func(t *testing.T) { t.Parallel(); addressBookConflict(t, newHarness) })
}

func contactFound(t *testing.T, newHarness func(t *testing.T) Harness) {
	h, ctx := setup(t, newHarness)
	needFixture(t, yes(h.Fixtures.MailContacts), "Exchange Online")
	tenant := needTenant(t, h)
	d := h.Directory
	held, free := addr(t, "held"), addr(t, "free")
	if err := tenant.AddMailContact(ctx, "Held Contact "+held.Key(), held); err != nil {
		t.Fatalf("make a mail contact for %s: %v", held, err)
	}
	eventually(ctx, t, h, "the contact is found by its address, in any case", func() (bool, error) {
		upper, err := foyer.ParseAddress(strings.ToUpper(held.String()))
		if err != nil {
			return false, err
		}
		c, ok, err := d.MailContact(ctx, upper)
		if ok && (!strings.EqualFold(c.Email, held.String()) || c.Name != "Held Contact "+held.Key()) {
			t.Errorf("contact %+v, want name %q and address %s", c, "Held Contact "+held.Key(), held)
		}
		return ok, err
	})
	if c, ok, err := d.MailContact(ctx, free); err != nil || ok {
		t.Errorf("an address no contact holds: %+v, %v, %v", c, ok, err)
	}
	// A guest is a mail recipient too, but not a contact.
	guest := invited(ctx, t, d, "guest")
	if c, ok, err := d.MailContact(ctx, guest.Email); err != nil || ok {
		t.Errorf("a guest's address: %+v, %v, %v", c, ok, err)
	}
}

func contactNotMade(t *testing.T, newHarness func(t *testing.T) Harness) {
	h, ctx := setup(t, newHarness)
	needFixture(t, yes(h.Fixtures.MailContacts), "Exchange Online")
	d := h.Directory
	g, err := d.Resolve(ctx, foyer.Grant{Kind: foyer.GrantMailContact})
	if err != nil {
		t.Fatalf("resolve a mail contact grant: %v", err)
	}
	to := directory.Grantee{Email: addr(t, "never"), DisplayName: "Never"}
	if _, err := d.Grant(ctx, to, g); !errors.Is(err, directory.ErrInvalid) {
		t.Errorf("grant a mail contact: %v, want ErrInvalid", err)
	}
	if c, ok, err := d.MailContact(ctx, to.Email); err != nil || ok {
		t.Errorf("after the refused grant: %+v, %v, %v", c, ok, err)
	}

	// One made before (by foyer, or by an admin) is taken back.
	tenant := needTenant(t, h)
	old := directory.Grantee{Email: addr(t, "old"), DisplayName: "Old"}
	if err := tenant.AddMailContact(ctx, "Old "+old.Email.Key(), old.Email); err != nil {
		t.Fatal(err)
	}
	eventually(ctx, t, h, "the old contact holds its address", func() (bool, error) {
		holders, err := d.Holders(ctx, g)
		return holders[old.Email.Key()], err
	})
	for i := range 2 { // the second finds nothing to remove: success
		if _, err := d.Revoke(ctx, old, g); err != nil {
			t.Fatalf("revoke the mail contact (%d): %v", i+1, err)
		}
	}
	eventually(ctx, t, h, "the old contact is gone", func() (bool, error) {
		holders, err := d.Holders(ctx, g)
		_, found, ferr := d.MailContact(ctx, old.Email)
		return !holders[old.Email.Key()] && !found, errors.Join(err, ferr)
	})
}

func yes(b bool) string {
	if b {
		return "yes"
	}
	return ""
}

// addressBookConflict: a guest invited while a contact held its address
// (made outside foyer) cannot be shown in the address book under it; the
// grant says so at once instead of waiting for Exchange.
func addressBookConflict(t *testing.T, newHarness func(t *testing.T) Harness) {
	h, ctx := setup(t, newHarness)
	needFixture(t, yes(h.Fixtures.MailContacts), "Exchange Online")
	tenant := needTenant(t, h)
	d := h.Directory
	a := addr(t, "conflict")
	if err := tenant.AddMailContact(ctx, "Conflict "+a.Key(), a); err != nil {
		t.Fatal(err)
	}
	if err := tenant.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	inv, err := inviteOnce(ctx, d, directory.Invitation{Email: a, DisplayName: "Conflict", RedirectURL: redirectURL})
	if err != nil {
		t.Fatalf("invite %s: %v", a, err)
	}
	if err := tenant.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	g, err := d.Resolve(ctx, foyer.Grant{Kind: foyer.GrantAddressBook})
	if err != nil {
		t.Fatal(err)
	}
	_, err = d.Grant(ctx, directory.Grantee{UserID: inv.UserID, Email: a, DisplayName: "Conflict"}, g)
	if err == nil || directory.Retryable(err) || !strings.Contains(err.Error(), "Conflict "+a.Key()) || !strings.Contains(err.Error(), "Remove-MailContact") {
		t.Errorf("address book for a guest a contact left without its address: %v (retryable %v)", err, directory.Retryable(err))
	}
}
