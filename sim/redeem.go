package sim

import (
	"errors"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Redemption. There is no redemption API on Graph (GD resources/invitation.md):
// the guest opens inviteRedeemUrl and signs in. The sim's redeem URL
// redeems when opened (as the real one does after sign-in), and the side
// door and Server.Redeem redeem by address.

// federatedIdentity is the identity a guest gains on redemption: the
// issuer of the account they signed in with (ED docs/external-id/user-properties.md).
func federatedIdentity(email string) identity {
	switch domainOf(email) {
	case "gmail.com", "googlemail.com":
		addr := email
		return identity{SignInType: "federated", Issuer: "google.com", IssuerAssignedID: &addr}
	case "outlook.com", "hotmail.com", "live.com", "msn.com":
		return identity{SignInType: "federated", Issuer: "MicrosoftAccount"}
	}
	return identity{SignInType: "federated", Issuer: "ExternalAzureAD"}
}

// redeem marks a guest's invitation accepted.
func (t *tenant) redeem(u *user, now time.Time) {
	if u.ExternalUserState == "Accepted" {
		return
	}
	u.ExternalUserState = "Accepted"
	u.ExternalUserStateChangeDateTime = now
	email := u.invitedEmail
	if email == "" && len(u.OtherMails) > 0 {
		email = u.OtherMails[0]
	}
	u.Identities = append([]identity{federatedIdentity(email)}, onlyUPNIdentity(u.Identities)...)
	t.dropTicket(u.id)
	t.userChanged(u, "externalUserState", "externalUserStateChangeDateTime", "identities")
}

// ErrNoInvitation is returned by Redeem for an address with no invited
// guest.
var ErrNoInvitation = errors.New("no invited guest with that address")

// ErrNoProxyAddress is returned by Redeem for a guest who does not have the
// address as a proxy address because a mail contact held it when the guest
// was invited: "the invited user object may not have an email address
// because of a conflict with a contact object … In this case, the user
// must select the redemption URL in the invitation email" (ED
// external-id/redemption-experience.md, MicrosoftDocs/azure-docs PR 76235).
var ErrNoProxyAddress = errors.New("the guest lacks this address as a proxy address (a mail contact held it when the guest was invited): redeem with the invitation email's link")

// Redeem accepts the invitation of the guest with this address, as the
// guest would by following a direct link to the tenant and signing in,
// which finds the guest by its proxy addresses; see ErrNoProxyAddress.
func (s *Server) Redeem(email string) error {
	_, err := s.redeemAddress(s.def, email)
	return err
}

func (s *Server) redeemAddress(t *tenant, email string) (*user, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	email = strings.TrimSpace(email)
	for _, u := range t.byAddress(strings.ToLower(email)) {
		switch {
		case u.ExternalUserState == "":
			continue
		case u.ExternalUserState != "Accepted" && !u.hasProxy(email):
			return nil, fmt.Errorf("redeem %s: %s: %w", email, t.notInTenant(email), ErrNoProxyAddress)
		}
		t.redeem(u, s.clock.Now())
		return u, nil
	}
	return nil, fmt.Errorf("redeem %s: %w", email, ErrNoInvitation)
}

// notInTenant is the sign-in error a guest sees whom the tenant does not
// find for the account they signed in with (learn.microsoft.com
// troubleshoot/entra/entra-id/app-integration/
// error-code-aadsts50020-user-account-identity-provider-does-not-exist).
func (t *tenant) notInTenant(email string) string {
	idp := "ExternalAzureAD"
	switch federatedIdentity(email).Issuer {
	case "MicrosoftAccount":
		idp = "live.com"
	case "google.com":
		idp = "google.com"
	}
	return fmt.Sprintf("AADSTS50020: User account '%s' from identity provider '%s' does not exist in tenant '%s'.", email, idp, t.displayName)
}

// emailLinkRefused reports whether the invitation email's link fails for
// u: a guest without its address as a proxy address redeems through that
// link with SAML/WS-Fed, one-time passcode and Google accounts; the
// documentation leaves Microsoft accounts out of that list (ED
// external-id/redemption-experience.md, "Redemption process limitation
// with conflicting Contact object"), so the sim refuses them.
func emailLinkRefused(u *user, email string) bool {
	return u.ExternalUserState != "Accepted" && !u.hasProxy(email) && federatedIdentity(email).Issuer == "MicrosoftAccount"
}

// serveRedeem is GET /redeem?rd=… (and the inner /redeem/?ticket=…): it
// redeems the ticket and sends the guest on to the invitation's redirect
// URL when that is on this machine, or shows a page with the link.
func (s *Server) serveRedeem(w http.ResponseWriter, r *http.Request) {
	tk := redeemTicket(r.URL.Query())
	var dest, refused string
	var found bool
	s.mu.RLock()
	tenants := make([]*tenant, 0, len(s.tenants))
	for _, t := range s.tenants {
		tenants = append(tenants, t)
	}
	s.mu.RUnlock()
	for _, t := range tenants {
		t.mu.Lock()
		if x, ok := t.tickets[tk]; ok {
			if u, ok := t.users.get(x.userID); ok && emailLinkRefused(u, x.email) {
				refused, found = t.notInTenant(x.email), true
			} else if ok {
				t.redeem(u, s.clock.Now())
				dest, found = x.redirectURL, true
			}
		}
		t.mu.Unlock()
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if !found {
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, htmlPage("Invitation not valid", "This invitation link is not valid: it was used, replaced by a newer invitation, or never issued."))
		return
	}
	if refused != "" {
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, htmlPage("Sign in failed", html.EscapeString(refused)))
		return
	}
	if isLocalURL(dest) {
		http.Redirect(w, r, dest, http.StatusFound)
		return
	}
	fmt.Fprint(w, htmlPage("Invitation accepted", `You accepted the invitation. Continue to <a href="`+html.EscapeString(dest)+`">`+html.EscapeString(dest)+`</a>.`))
}

func redeemTicket(q url.Values) string {
	if tk := q.Get("ticket"); tk != "" {
		return tk
	}
	if rd, err := url.Parse(q.Get("rd")); err == nil {
		return rd.Query().Get("ticket")
	}
	return ""
}

// isLocalURL reports whether a redirect URL points at this machine, where
// following it works offline.
func isLocalURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	host := u.Hostname()
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func htmlPage(title, body string) string {
	return `<!doctype html><html><head><meta charset="utf-8"><title>` + html.EscapeString(title) +
		`</title></head><body><h1>` + html.EscapeString(title) + `</h1><p>` + body + `</p></body></html>`
}
