package graph

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/directory"
)

// invitation is the body of POST /invitations and its answer
// (microsoft-graph-docs-contrib api-reference/v1.0/resources/invitation.md,
// docs/graph-reference.md §1).
type invitation struct {
	InvitedUserEmailAddress string       `json:"invitedUserEmailAddress"`
	InviteRedirectURL       string       `json:"inviteRedirectUrl"`
	InvitedUserDisplayName  string       `json:"invitedUserDisplayName,omitempty"`
	SendInvitationMessage   bool         `json:"sendInvitationMessage"`
	InvitedUserMessageInfo  *messageInfo `json:"invitedUserMessageInfo,omitempty"`
	ResetRedemption         bool         `json:"resetRedemption,omitempty"`
	InvitedUser             *idRef       `json:"invitedUser,omitempty"`
	InvitedUserSponsors     []idRef      `json:"invitedUserSponsors,omitempty"`
	// answer only
	InviteRedeemURL string `json:"inviteRedeemUrl,omitempty"`
	Status          string `json:"status,omitempty"`
}

type messageInfo struct {
	CustomizedMessageBody string        `json:"customizedMessageBody,omitempty"`
	MessageLanguage       string        `json:"messageLanguage,omitempty"`
	CCRecipients          []ccRecipient `json:"ccRecipients,omitempty"`
}

type ccRecipient struct {
	EmailAddress struct {
		Address string `json:"address"`
	} `json:"emailAddress"`
}

type idRef struct {
	ID string `json:"id"`
}

// Invite sends POST /invitations. The address is checked with
// foyer.ParseAddress first, so characters Entra refuses never reach it.
//
// An invitation is not idempotent, so one call never sends it twice: after a
// 5xx, a dropped connection or a timeout the person is looked up (Lookup,
// which sees a new guest at once); found, the invitation happened and the
// person is returned as Existing (without a redeem URL: that answer was
// lost); not found, the call fails with Unknown set, since the invitation
// may yet show once it replicates: the caller decides when it is safe to
// invite again. A reset (resetRedemption) is sent again without the
// look-up, since the person always exists and a second reset changes
// nothing. 429s are retried by the pipeline: a throttled request was not
// carried out.
func (c *Client) Invite(ctx context.Context, inv directory.Invitation) (directory.Invited, error) {
	op := "invite " + string(inv.Email)
	body, addr, err := c.invitationBody(ctx, op, inv)
	if err != nil {
		return directory.Invited{}, err
	}
	deadline := c.o.Clock.Now().Add(c.o.Pacing.ReplicationWait)
	for attempt := 0; ; attempt++ {
		var res invitation
		r, err := c.getJSON(ctx, call{method: http.MethodPost, path: "/v1.0/invitations", body: body,
			op: op, perm: permUserInvite, kind: kindInvite, noRetry: true}, &res)
		if err == nil {
			if res.InvitedUser == nil || res.InvitedUser.ID == "" {
				return directory.Invited{}, &directory.Error{Op: op, Kind: directory.ErrUnavailable, Status: r.status,
					RequestID: r.requestID, Message: "the invitation answer has no invitedUser.id", Unknown: true}
			}
			return directory.Invited{UserID: res.InvitedUser.ID, RedeemURL: res.InviteRedeemURL,
				Status: res.Status, RequestID: r.requestID}, nil
		}
		e := errOf(err)
		switch {
		case e == nil:
			return directory.Invited{}, err
		case e.Kind == directory.ErrUnavailable && inv.Reset && ctx.Err() == nil:
			if attempt >= c.o.Pacing.MaxRetries {
				return directory.Invited{}, e
			}
			if err := c.sleep(ctx, c.backoff(attempt)); err != nil {
				return directory.Invited{}, e
			}
		case e.Kind == directory.ErrUnavailable:
			// The answer was lost: the invitation may have happened.
			e.Unknown = true
			lctx := ctx
			if ctx.Err() != nil {
				// Cut off by our own deadline: the look-up still tells.
				var cancel context.CancelFunc
				lctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
				defer cancel()
			}
			p, ok, ferr := c.Lookup(lctx, addr)
			switch {
			case ferr != nil:
				e.Message = strings.TrimSpace(e.Message + " (outcome unknown: the look-up afterwards failed too; look the person up before inviting again)")
			case ok:
				return directory.Invited{UserID: p.ID, Status: p.ExternalUserState, Existing: true}, nil
			default:
				e.Message = strings.TrimSpace(e.Message + " (outcome unknown: the person is not found yet; the invitation may still show once it replicates)")
			}
			return directory.Invited{}, e
		case e.Status == http.StatusNotFound && c.o.Clock.Now().Before(deadline):
			// The invitation names an object not replicated yet (a reset
			// of a guest invited moments ago): refused, so safe to send
			// again once it is visible.
			if err := c.sleep(ctx, min(time.Duration(attempt+1)*500*time.Millisecond, 5*time.Second)); err != nil {
				return directory.Invited{}, e
			}
		case e.Status == http.StatusBadRequest:
			return directory.Invited{}, c.refusal(ctx, addr, e)
		default:
			return directory.Invited{}, e
		}
	}
}

// invitationBody validates inv and builds the request body. Every problem
// is found before any call.
func (c *Client) invitationBody(ctx context.Context, op string, inv directory.Invitation) (*invitation, foyer.Address, error) {
	addr, err := foyer.ParseAddress(string(inv.Email))
	if err != nil {
		return nil, "", &directory.Error{Op: op, Kind: directory.ErrInvalidAddress, Message: foyer.ErrorMessage(err)}
	}
	var problems []string
	if u, err := url.Parse(inv.RedirectURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		problems = append(problems, "the redirect URL must be an absolute http(s) URL")
	}
	if inv.Reset && inv.UserID == "" {
		problems = append(problems, "a reset needs the user's object id (invitedUser.id)")
	}
	var cc foyer.Address
	if inv.CC != "" {
		if cc, err = foyer.ParseAddress(inv.CC); err != nil {
			return nil, "", &directory.Error{Op: op, Kind: directory.ErrInvalidAddress, Message: "cc: " + foyer.ErrorMessage(err)}
		}
	}
	if len(problems) > 0 {
		return nil, "", &directory.Error{Op: op, Kind: directory.ErrInvalid, Message: strings.Join(problems, "; ")}
	}
	body := &invitation{
		InvitedUserEmailAddress: string(addr),
		InviteRedirectURL:       inv.RedirectURL,
		InvitedUserDisplayName:  inv.DisplayName,
		SendInvitationMessage:   inv.SendEmail,
		ResetRedemption:         inv.Reset,
	}
	if inv.Message != "" || inv.Language != "" || cc != "" {
		mi := &messageInfo{CustomizedMessageBody: inv.Message, MessageLanguage: inv.Language}
		if cc != "" {
			var r ccRecipient
			r.EmailAddress.Address = string(cc)
			mi.CCRecipients = []ccRecipient{r} // Graph supports one cc recipient
		}
		body.InvitedUserMessageInfo = mi
	}
	if inv.Reset {
		body.InvitedUser = &idRef{ID: inv.UserID}
	}
	for _, s := range inv.Sponsors {
		id, err := c.sponsorID(ctx, op, s)
		if err != nil {
			return nil, "", err
		}
		body.InvitedUserSponsors = append(body.InvitedUserSponsors, idRef{ID: id})
	}
	return body, addr, nil
}

// sponsorID turns a sponsor given as object id or UPN into an object id,
// reading the directory once per UPN.
func (c *Client) sponsorID(ctx context.Context, op, s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", &directory.Error{Op: op, Kind: directory.ErrInvalid, Message: "a sponsor is empty"}
	}
	if isGUID(s) {
		return s, nil
	}
	key := strings.ToLower(s)
	c.mu.Lock()
	id, ok := c.sponsors[key]
	c.mu.Unlock()
	if ok {
		return id, nil
	}
	var u user
	if _, err := c.getJSON(ctx, call{path: "/v1.0/users/" + seg(s), query: [][2]string{{"$select", "id"}},
		op: op + ": find sponsor " + s, perm: permUserRead}, &u); err != nil {
		return "", err
	}
	c.mu.Lock()
	c.sponsors[key] = u.ID
	c.mu.Unlock()
	return u.ID, nil
}

// Lookup looks up a person whose invitation may have just happened. A
// new guest may be missing from list queries until it replicates
// ("New/changed users may not appear in list queries immediately",
// api-reference/v1.0/api/user-list.md), so after the filtered look-up
// comes a direct read of the UPN Entra gives an invited guest,
// local_domain#EXT#@{initial domain} (entra-docs
// external-id/user-properties.md), which reads the object at once. A guest
// whose UPN needed a numeric suffix to be unique is found by the first
// look-up only.
func (c *Client) Lookup(ctx context.Context, addr foyer.Address) (directory.Person, bool, error) {
	found, err := c.Find(ctx, []foyer.Address{addr})
	if err != nil {
		return directory.Person{}, false, err
	}
	if p, ok := found[addr.Key()]; ok {
		return p, true, nil
	}
	initial, err := c.initialDomain(ctx)
	if err != nil || initial == "" {
		return directory.Person{}, false, err
	}
	var u user
	_, err = c.getJSON(ctx, call{path: "/v1.0/users/" + seg(extPrefix(addr)+initial), query: [][2]string{{"$select", personSelect}},
		op: "find " + string(addr), perm: permUserRead}, &u)
	switch e := errOf(err); {
	case err == nil && u.rank(addr.Key()) < rankNone:
		return u.person(), true, nil
	case err == nil, e != nil && e.Status == http.StatusNotFound:
		return directory.Person{}, false, nil
	}
	return directory.Person{}, false, err
}

// refusal explains a 400 to an invitation. Graph gives no documented code
// for "this address belongs to the organisation" (docs/graph-reference.md §1: a
// verified domain or an existing member is refused with 400), so rather
// than read the message, check: an address in a verified domain, or one a
// member carries, is ErrInternal; anything else stays ErrInvalid.
func (c *Client) refusal(ctx context.Context, addr foyer.Address, e *directory.Error) error {
	if ds, err := c.Domains(ctx); err == nil && addr.InDomains(ds) {
		e.Kind = directory.ErrInternal
		return e
	}
	if found, err := c.Find(ctx, []foyer.Address{addr}); err == nil {
		if p, ok := found[addr.Key()]; ok && !p.Guest() {
			e.Kind = directory.ErrInternal
		}
	}
	return e
}

// isGUID reports whether s looks like an object id.
func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, r := range s {
		switch i {
		case 8, 13, 18, 23:
			if r != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
				return false
			}
		}
	}
	return true
}
