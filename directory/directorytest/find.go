package directorytest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/foyer-dev/foyer"
)

// addr returns a unique outside address with the given local part.
func addr(t *testing.T, local string) foyer.Address {
	t.Helper()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	a, err := foyer.ParseAddress(local + "." + hex.EncodeToString(b) + "@fabrikam.example")
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func runFind(t *testing.T, newHarness func(t *testing.T) Harness) {

	for _, tc := range []struct {
		name string
		f    func(*testing.T, func(*testing.T) Harness)
	}{
		{"every address form, any case", findEveryForm},
		{"a quote in the address", findQuote},
		{"many addresses", findMany},
		{"nothing to find", findNothing},
		{"the guest index answers as Find does for guests", findInGuestIndex},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.f(t, newHarness)
		})
	}
}

func findEveryForm(t *testing.T, newHarness func(t *testing.T) Harness) {
	h, ctx := setup(t, newHarness)
	ten := needTenant(t, h)
	mail, other, proxy, ext, member, missing := addr(t, "mail"), addr(t, "other"), addr(t, "proxy"), addr(t, "ext"), addr(t, "member"), addr(t, "missing")
	ids := map[foyer.Address]string{}
	seed := func(a foyer.Address, u User) {
		id, err := ten.AddUser(ctx, u)
		if err != nil {
			t.Fatalf("seed %s: %v", a, err)
		}
		ids[a] = id
	}
	seed(mail, User{DisplayName: "Mail", Mail: strings.ToUpper(string(mail)), Guest: true})
	seed(other, User{DisplayName: "Other", Mail: string(addr(t, "primary")), OtherMails: []string{string(other)}, Guest: true})
	seed(proxy, User{DisplayName: "Proxy", Mail: string(addr(t, "primary")), ProxyAddresses: []string{"SMTP:" + string(proxy)}, Guest: true})
	seed(ext, User{DisplayName: "Ext", Mail: string(addr(t, "primary")), UserPrincipalName: ext.Local() + "_" + ext.Domain() + "#EXT#@" + h.Fixtures.domain(), Guest: true})
	seed(member, User{DisplayName: "Member", Mail: string(member)})
	ask := []foyer.Address{foyer.Address(strings.ToUpper(string(mail))), other, proxy, ext, member, missing}
	got, err := h.Directory.Find(ctx, ask)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []foyer.Address{mail, other, proxy, ext, member} {
		p, ok := got[a.Key()]
		switch {
		case !ok:
			t.Errorf("%s not found", a)
		case p.ID != ids[a]:
			t.Errorf("%s found as %s, want %s", a, p.ID, ids[a])
		}
	}
	if p, ok := got[mail.Key()]; ok && (!p.Guest() || p.UserPrincipalName == "") {
		t.Errorf("person %+v: want a guest with a UPN", p)
	}
	if p, ok := got[member.Key()]; ok && p.Guest() {
		t.Errorf("member %s reported as a guest", member)
	}
	if _, ok := got[missing.Key()]; ok {
		t.Errorf("%s found but never created", missing)
	}
}

func findQuote(t *testing.T, newHarness func(t *testing.T) Harness) {
	h, ctx := setup(t, newHarness)
	ten := needTenant(t, h)
	a := addr(t, "o'brien")
	decoy := addr(t, "o") // a filter broken by the quote might match it
	id, err := ten.AddUser(ctx, User{DisplayName: "O'Brien", Mail: string(a), Guest: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ten.AddUser(ctx, User{DisplayName: "Decoy", Mail: string(decoy), Guest: true}); err != nil {
		t.Fatal(err)
	}
	got, err := h.Directory.Find(ctx, []foyer.Address{a})
	if err != nil {
		t.Fatal(err)
	}
	if got[a.Key()].ID != id || len(got) != 1 {
		t.Fatalf("found %+v, want only %s", got, id)
	}
}

func findMany(t *testing.T, newHarness func(t *testing.T) Harness) {
	h, ctx := setup(t, newHarness)
	ten := needTenant(t, h)
	var ask []foyer.Address
	want := map[string]string{}
	for i := range 60 {
		a := addr(t, fmt.Sprintf("bulk%d", i))
		u := User{DisplayName: a.Local(), Mail: string(a), Guest: true}
		if i%3 == 1 { // found through otherMails
			u.Mail, u.OtherMails = string(addr(t, "primary")), []string{string(a)}
		}
		id, err := ten.AddUser(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		want[a.Key()] = id
		ask = append(ask, a)
	}
	for i := range 15 {
		ask = append(ask, addr(t, fmt.Sprintf("absent%d", i)))
	}
	got, err := h.Directory.Find(ctx, ask)
	if err != nil {
		t.Fatal(err)
	}
	for k, id := range want {
		if got[k].ID != id {
			t.Errorf("%s: found %q, want %s", k, got[k].ID, id)
		}
	}
	if len(got) != len(want) {
		t.Errorf("found %d people, want %d", len(got), len(want))
	}
}

func findNothing(t *testing.T, newHarness func(t *testing.T) Harness) {
	h, ctx := setup(t, newHarness)
	got, err := h.Directory.Find(ctx, nil)
	if err != nil || len(got) != 0 {
		t.Fatalf("Find(nil) = %v, %v", got, err)
	}
}

func (f Fixtures) domain() string {
	if f.Domain != "" {
		return f.Domain
	}
	return "contoso.onmicrosoft.com"
}

// findInGuestIndex seeds guests carrying an address in each form Find
// matches, and a member: the index of all guests finds each guest as Find
// does, with its id, user type and state, and neither the member nor an
// address nobody has.
func findInGuestIndex(t *testing.T, newHarness func(t *testing.T) Harness) {
	h, ctx := setup(t, newHarness)
	ten := needTenant(t, h)
	mail, other, proxy, ext, member, missing := addr(t, "mail"), addr(t, "other"), addr(t, "proxy"), addr(t, "ext"), addr(t, "member"), addr(t, "missing")
	seed := func(u User) {
		if _, err := ten.AddUser(ctx, u); err != nil {
			t.Fatalf("seed %+v: %v", u, err)
		}
	}
	seed(User{DisplayName: "Mail", Mail: strings.ToUpper(string(mail)), Guest: true})
	seed(User{DisplayName: "Other", Mail: string(addr(t, "primary")), OtherMails: []string{string(other)}, Guest: true})
	seed(User{DisplayName: "Proxy", Mail: string(addr(t, "primary")), ProxyAddresses: []string{"SMTP:" + string(proxy)}, Guest: true})
	seed(User{DisplayName: "Ext", Mail: string(addr(t, "primary")), UserPrincipalName: ext.Local() + "_" + ext.Domain() + "#EXT#@" + h.Fixtures.domain(), Guest: true})
	seed(User{DisplayName: "Member", Mail: string(member)})
	guests := []foyer.Address{foyer.Address(strings.ToUpper(string(mail))), other, proxy, ext}
	want, err := h.Directory.Find(ctx, guests)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := h.Directory.Guests(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if idx.Len() < len(guests) {
		t.Errorf("the index holds %d guests, want at least %d", idx.Len(), len(guests))
	}
	got := idx.Find(append(guests, member, missing))
	for _, a := range guests {
		w, g := want[a.Key()], got[a.Key()]
		if w.ID == "" || g.ID != w.ID || !g.Guest() || g.ExternalUserState != w.ExternalUserState {
			t.Errorf("%s: index has %+v, Find has %+v", a, g, w)
		}
	}
	for _, a := range []foyer.Address{member, missing} {
		if p, ok := got[a.Key()]; ok {
			t.Errorf("%s found in the guest index: %+v", a, p)
		}
	}
}
