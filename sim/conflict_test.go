package sim_test

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/foyer-dev/foyer/sim"
)

// TestContactConflictBreaksDirectRedemption: an invitation for an address a
// mail contact holds makes a guest without that proxy address, who cannot
// redeem by direct link; the invitation email's link still works, except
// for a Microsoft account. Microsoft's fix (delete the contact and the
// guest, invite again) gives a guest who redeems.
func TestContactConflictBreaksDirectRedemption(t *testing.T) {
	t.Parallel()
	tn := start(t, sim.Options{})
	if _, err := tn.s.AddMailContact(sim.MailContact{Name: "Jane (contact)", ExternalEmailAddress: "jane@partner.example"}); err != nil {
		t.Fatal(err)
	}
	if _, err := tn.s.AddMailContact(sim.MailContact{Name: "Sam", ExternalEmailAddress: "sam@outlook.com"}); err != nil {
		t.Fatal(err)
	}
	if _, err := tn.s.AddMailContact(sim.MailContact{Name: "Sam again", ExternalEmailAddress: "SAM@outlook.com"}); err == nil {
		t.Error("a second contact for the same address was accepted")
	}

	jane := tn.invite("jane@partner.example")
	wantStatus(t, jane, http.StatusCreated)
	janeID := jane.str("invitedUser.id")
	if got := tn.g("GET", "/users/"+janeID+"?$select=proxyAddresses,mail", nil); len(got.list("proxyAddresses")) != 0 || got.str("mail") != "jane@partner.example" {
		t.Fatalf("a guest invited for a contact's address: %s", got.raw)
	}

	// By direct link (the guest signs in and is looked up by address).
	err := tn.s.Redeem("jane@partner.example")
	if !errors.Is(err, sim.ErrNoProxyAddress) || !strings.Contains(err.Error(), "AADSTS50020: User account 'jane@partner.example' from identity provider") {
		t.Fatalf("direct redemption of the conflicting guest: %v", err)
	}
	side := tn.side("POST", "/redeem", map[string]any{"email": "jane@partner.example"})
	if side.status == http.StatusOK || !strings.Contains(string(side.raw), "AADSTS50020") {
		t.Errorf("side door redemption: %d %s", side.status, side.raw)
	}
	if st := tn.g("GET", "/users/"+janeID+"?$select=externalUserState", nil).str("externalUserState"); st != "PendingAcceptance" {
		t.Errorf("after failed redemptions the guest is %s", st)
	}

	// By the invitation email's link: works for an Entra account...
	if code, body := get(t, tn, jane.str("inviteRedeemUrl")); code != http.StatusOK {
		t.Errorf("email link of an Entra account: %d %s", code, body)
	}
	if st := tn.g("GET", "/users/"+janeID+"?$select=externalUserState", nil).str("externalUserState"); st != "Accepted" {
		t.Errorf("after the email link the guest is %s", st)
	}
	// ... not for a Microsoft account, which the documentation leaves out.
	sam := tn.invite("sam@outlook.com")
	code, body := get(t, tn, sam.str("inviteRedeemUrl"))
	if code != http.StatusForbidden || !strings.Contains(body, "AADSTS50020") || !strings.Contains(body, "live.com") {
		t.Errorf("email link of a Microsoft account: %d %s", code, body)
	}
	if st := tn.g("GET", "/users/"+sam.str("invitedUser.id")+"?$select=externalUserState", nil).str("externalUserState"); st != "PendingAcceptance" {
		t.Errorf("after the refused link sam is %s", st)
	}

	// Microsoft's fix: delete the contact and the guest, invite again.
	if err := tn.s.RemoveMailContact("sam@outlook.com"); err != nil {
		t.Fatal(err)
	}
	if err := tn.s.RemoveMailContact("sam@outlook.com"); !errors.Is(err, sim.ErrNoMailContact) {
		t.Errorf("removing a contact twice: %v", err)
	}
	wantStatus(t, tn.g("DELETE", "/users/"+sam.str("invitedUser.id"), nil), http.StatusNoContent)
	again := tn.invite("sam@outlook.com")
	if got := tn.g("GET", "/users/"+again.str("invitedUser.id")+"?$select=proxyAddresses", nil).list("proxyAddresses"); len(got) != 1 {
		t.Errorf("reinvited without the contact: proxyAddresses %v", got)
	}
	if err := tn.s.Redeem("sam@outlook.com"); err != nil {
		t.Errorf("direct redemption after the fix: %v", err)
	}

	// A guest invited without any contact redeems by direct link.
	wantStatus(t, tn.invite("kim@partner.example"), http.StatusCreated)
	if err := tn.s.Redeem("kim@partner.example"); err != nil {
		t.Errorf("direct redemption without a conflict: %v", err)
	}
}

// get opens a URL with the sim's TLS client and returns the status and
// body.
func get(t *testing.T, tn *tenant, url string) (int, string) {
	t.Helper()
	resp, err := tn.plain.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestExchangeMailUsers: a guest is a mail user in Exchange, hidden from
// address lists until Set-MailUser shows it; Graph's showInAddressList is
// the same flag. A mail user appears once the guest has replicated; a
// guest created while a contact held its address is not found by it.
func TestExchangeMailUsers(t *testing.T) {
	t.Parallel()
	tn := start(t, sim.Options{ReplicationDelay: time.Second})
	url := tn.s.URL() + "/adminapi/beta/" + tn.s.TenantID() + "/InvokeCommand"
	exo := func(name string, params map[string]any, headers ...string) answer {
		t.Helper()
		return do(t, tn.exo, "POST", url, cmdlet(name, params), headers...)
	}
	inv := tn.invite("gil@partner.example")
	id := inv.str("invitedUser.id")
	early := exo("Get-MailUser", map[string]any{"Identity": "gil@partner.example"})
	if early.status != 400 || !strings.Contains(exoDetail(early), "ManagementObjectNotFoundException|The operation couldn't be performed because object 'gil@partner.example' couldn't be found") {
		t.Errorf("before replication: %s", early.raw)
	}
	tn.s.Advance(time.Second)

	g := exo("Get-MailUser", map[string]any{"Identity": "gil@partner.example"})
	wantStatus(t, g, 200)
	if g.str("value.0.ExternalDirectoryObjectId") != id || g.get("value.0.HiddenFromAddressListsEnabled") != true ||
		g.str("value.0.RecipientTypeDetails") != "GuestMailUser" || g.str("value.0.PrimarySmtpAddress") != "gil@partner.example" ||
		g.str("value.0.Guid") == "" || g.str("value.0.Guid") == id {
		t.Fatalf("a new guest's mail user: %s", g.raw)
	}
	guid := g.str("value.0.Guid")
	for _, ident := range []string{guid, g.str("value.0.Name"), "SMTP:gil@partner.example", g.str("value.0.UserPrincipalName")} {
		if r := exo("Get-MailUser", map[string]any{"Identity": ident}); r.str("value.0.ExternalDirectoryObjectId") != id {
			t.Errorf("identity %q: %s", ident, r.raw)
		}
	}

	wantStatus(t, exo("Set-MailUser", map[string]any{"Identity": guid, "HiddenFromAddressListsEnabled": false}), 200)
	if v := tn.g("GET", "/users/"+id+"?$select=showInAddressList", nil).get("showInAddressList"); v != true {
		t.Errorf("Graph's showInAddressList after Set-MailUser: %v", v)
	}
	if st := tn.s.Snapshot(); len(st.AddressBook) != 1 || st.AddressBook[0] != id {
		t.Errorf("state's address book: %v", st.AddressBook)
	}
	same := exo("Set-MailUser", map[string]any{"Identity": guid, "HiddenFromAddressListsEnabled": false})
	if same.status != 200 || !strings.Contains(string(same.raw), "no settings of") {
		t.Errorf("a Set-MailUser that changes nothing: %s", same.raw)
	}
	// Graph's PATCH hides it again: one flag.
	wantStatus(t, tn.g("PATCH", "/users/"+id, map[string]any{"showInAddressList": false}), http.StatusNoContent)
	if v := exo("Get-MailUser", map[string]any{"Identity": guid}).get("value.0.HiddenFromAddressListsEnabled"); v != true {
		t.Errorf("hidden after Graph's PATCH: %v", v)
	}

	for _, bad := range []struct {
		params map[string]any
		want   string
	}{
		{map[string]any{"Identity": guid, "HiddenFromAddressListsEnabled": "maybe"}, "ParameterBindingException"},
		{map[string]any{"Identity": guid, "Department": "x"}, "A parameter cannot be found that matches parameter name 'Department'"},
		{map[string]any{"HiddenFromAddressListsEnabled": true}, "missing mandatory parameters: Identity"},
		{map[string]any{"Identity": "nobody@partner.example", "HiddenFromAddressListsEnabled": true}, "ManagementObjectNotFoundException"},
	} {
		if r := exo("Set-MailUser", bad.params); r.status != 400 || !strings.Contains(exoDetail(r), bad.want) {
			t.Errorf("Set-MailUser %v: %s", bad.params, r.raw)
		}
	}

	// Members are not mail users; a guest made while a contact held its
	// address is not found by that address.
	if r := exo("Get-MailUser", map[string]any{"Identity": "megan@contoso.example"}); r.status != 400 {
		t.Errorf("a member as a mail user: %s", r.raw)
	}
	if _, err := tn.s.AddMailContact(sim.MailContact{Name: "Hal", ExternalEmailAddress: "hal@partner.example"}); err != nil {
		t.Fatal(err)
	}
	tn.invite("hal@partner.example")
	tn.s.Advance(time.Second)
	if r := exo("Get-MailUser", map[string]any{"Identity": "hal@partner.example"}); r.status != 400 {
		t.Errorf("the conflicting guest found by the contact's address: %s", r.raw)
	}

	// All mail users, paged: the default tenant's four guests, gil and hal.
	var ids []string
	next := url
	for next != "" {
		page := do(t, tn.exo, "POST", next, cmdlet("Get-MailUser", map[string]any{"ResultSize": "Unlimited"}), "Prefer", "odata.maxpagesize=4")
		wantStatus(t, page, 200)
		for _, v := range page.list("value") {
			ids = append(ids, v.(map[string]any)["ExternalDirectoryObjectId"].(string))
		}
		next = page.str("@odata.nextLink")
	}
	if len(ids) != 6 || !strings.Contains(strings.Join(ids, " "), id) {
		t.Errorf("all mail users: %v", ids)
	}
}
