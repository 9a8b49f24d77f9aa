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
}

// ErrNoInvitation is returned by Redeem for an address with no invited
// guest.
var ErrNoInvitation = errors.New("no invited guest with that address")

// Redeem accepts the invitation of the guest with this address, as the
// guest would by opening the redeem URL and signing in.
func (s *Server) Redeem(email string) error {
	_, err := s.redeemAddress(s.def, email)
	return err
}

func (s *Server) redeemAddress(t *tenant, email string) (*user, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, u := range t.byAddress(strings.ToLower(strings.TrimSpace(email))) {
		if u.ExternalUserState != "" {
			t.redeem(u, s.clock.Now())
			return u, nil
		}
	}
	return nil, fmt.Errorf("redeem %s: %w", email, ErrNoInvitation)
}

// serveRedeem is GET /redeem?rd=… (and the inner /redeem/?ticket=…): it
// redeems the ticket and sends the guest on to the invitation's redirect
// URL when that is on this machine, or shows a page with the link.
func (s *Server) serveRedeem(w http.ResponseWriter, r *http.Request) {
	tk := redeemTicket(r.URL.Query())
	var dest string
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
			if u, ok := t.users.get(x.userID); ok {
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
