package sim

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// invitationBody is POST /invitations' request (GD resources/invitation.md,
// docs/graph-reference.md §1). invitedUserSponsors is accepted on v1.0 as on beta.
type invitationBody struct {
	ODataType               string       `json:"@odata.type"`
	InvitedUserEmailAddress string       `json:"invitedUserEmailAddress"`
	InviteRedirectURL       string       `json:"inviteRedirectUrl"`
	InvitedUserDisplayName  *string      `json:"invitedUserDisplayName"`
	SendInvitationMessage   bool         `json:"sendInvitationMessage"`
	InvitedUserMessageInfo  *messageInfo `json:"invitedUserMessageInfo"`
	InvitedUserType         string       `json:"invitedUserType"`
	ResetRedemption         bool         `json:"resetRedemption"`
	InvitedUser             *struct {
		ID string `json:"id"`
	} `json:"invitedUser"`
	InvitedUserSponsors []directoryRef `json:"invitedUserSponsors"`
	// Read-only members a client may echo back; ignored as Graph does.
	ID              string `json:"id"`
	Status          string `json:"status"`
	InviteRedeemURL string `json:"inviteRedeemUrl"`
}

type directoryRef struct {
	ODataType string `json:"@odata.type"`
	ID        string `json:"id"`
}

type messageInfo struct {
	CCRecipients          []recipient `json:"ccRecipients"`
	CustomizedMessageBody *string     `json:"customizedMessageBody"`
	MessageLanguage       *string     `json:"messageLanguage"`
}

type recipient struct {
	EmailAddress struct {
		Name    *string `json:"name"`
		Address *string `json:"address"`
	} `json:"emailAddress"`
}

// ticket is an invitation's redemption ticket, the secret in inviteRedeemUrl.
type ticket struct {
	userID       string
	invitationID string
	email        string
	redirectURL  string
}

// parseInvitation decodes and validates an invitation body. Texts marked
// [unverified] follow Graph's style; Graph does not document them.
func parseInvitation(body []byte) (*invitationBody, *apiError) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, errOData("Empty Payload. JSON content expected.")
	}
	var in invitationBody
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return nil, invitationDecodeError(err)
	}
	if dec.More() {
		return nil, errOData("Invalid request body: more than one JSON value.")
	}
	in.InvitedUserEmailAddress = strings.TrimSpace(in.InvitedUserEmailAddress)
	return &in, in.validate()
}

func invitationDecodeError(err error) *apiError {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return errUnknownBodyProperty(strings.Trim(name, `"`), "invitation")
	}
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		return errOData("Cannot convert a value of type '%s' for property '%s'.", typeErr.Value, typeErr.Field)
	}
	return errBody(err)
}

func (in *invitationBody) validate() *apiError {
	switch {
	case in.InvitedUserEmailAddress == "":
		return errOData("Missing required property 'invitedUserEmailAddress'.") // [unverified]
	case strings.TrimSpace(in.InviteRedirectURL) == "":
		return errOData("Missing required property 'inviteRedirectUrl'.") // [unverified]
	case !validAddress(in.InvitedUserEmailAddress):
		return errOData("The email address '%s' is invalid.", in.InvitedUserEmailAddress) // [unverified]
	}
	if u, err := url.Parse(in.InviteRedirectURL); err != nil || !u.IsAbs() || u.Host == "" {
		return errOData("Invalid value specified for property 'inviteRedirectUrl'.") // [unverified]
	}
	switch {
	case in.InvitedUserType == "" || strings.EqualFold(in.InvitedUserType, "Guest"):
		in.InvitedUserType = "Guest"
	case strings.EqualFold(in.InvitedUserType, "Member"):
		in.InvitedUserType = "Member"
	default:
		return errOData("Invalid value specified for property 'invitedUserType'.") // [unverified]
	}
	if in.ResetRedemption && (in.InvitedUser == nil || in.InvitedUser.ID == "") {
		// Verbatim from the invitation model's description (msgraph-sdk-go
		// models/invitation.go, docs/graph-reference.md §1).
		return errBadRequest("The id property is required in the request body to reset a redemption status.")
	}
	if mi := in.InvitedUserMessageInfo; mi != nil {
		if len(mi.CCRecipients) > 1 {
			// "Only 1 ccRecipient supported" (GD invitedusermessageinfo.md).
			return errOData("Only one recipient is supported in ccRecipients.") // [unverified text]
		}
		for _, r := range mi.CCRecipients {
			if a := r.EmailAddress.Address; a != nil && *a != "" && !validAddress(*a) {
				return errOData("The email address '%s' is invalid.", *a) // [unverified]
			}
		}
	}
	return nil
}

// postInvitation is POST /invitations (GD api-reference/v1.0/api/invitation-post.md).
func postInvitation(c *call) *reply {
	in, err := parseInvitation(c.body)
	if err != nil {
		return c.fail(err)
	}
	t := c.t
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := c.s.inviteAllowed(c); err != nil {
		return c.fail(err)
	}
	u, err := c.invitee(in)
	if err != nil {
		return c.fail(err)
	}
	inv := c.issueInvitation(u, in)
	c.s.stats.invited(in.InvitedUserEmailAddress)
	if in.ResetRedemption {
		c.s.stats.redemptionReset(u.id)
	}
	return replyCreated(inv)
}

// invitee finds or creates the user an invitation is for.
func (c *call) invitee(in *invitationBody) (*user, *apiError) {
	t := c.t
	email := in.InvitedUserEmailAddress
	if in.ResetRedemption {
		return c.resetRedemption(in)
	}
	// The portal and Graph refuse addresses in the tenant's own domains
	// (wording as observed live, see docs/sim.md).
	if t.isVerifiedDomain(domainOf(email)) {
		return nil, errOData("This user cannot be invited because the domain of the user's email address is a verified domain of this directory.")
	}
	existing := t.byAddress(strings.ToLower(email))
	for _, u := range existing {
		if !u.isGuest() && u.CreationType != "Invitation" {
			// msgraph-beta-sdk-dotnet#798: an internal user with this address.
			return nil, errOData("The invited user already exists in the directory as objectID: %s. They can use that account to sign in to shared apps and resources.", u.id)
		}
	}
	if len(existing) > 0 {
		return bySeq(existing)[0], nil
	}
	return c.createGuest(in)
}

func (c *call) createGuest(in *invitationBody) (*user, *apiError) {
	t := c.t
	if err := c.quotaAllows(); err != nil {
		return nil, err
	}
	email := in.InvitedUserEmailAddress
	sponsors, err := c.sponsors(in.InvitedUserSponsors)
	if err != nil {
		return nil, err
	}
	upn, nick := guestUPN(email, t.initialDomain, func(s string) bool { _, ok := t.byUPN[strings.ToLower(s)]; return ok })
	local, _, _ := strings.Cut(email, "@")
	name := local
	if in.InvitedUserDisplayName != nil && strings.TrimSpace(*in.InvitedUserDisplayName) != "" {
		name = *in.InvitedUserDisplayName
	}
	hidden := false
	u := &user{
		objMeta:                         t.nextMeta(c.s.ids.guid(), c.now, c.s.replicationDelay()),
		AccountEnabled:                  true,
		CreationType:                    "Invitation",
		DisplayName:                     name,
		ExternalUserState:               "PendingAcceptance",
		ExternalUserStateChangeDateTime: c.now,
		Identities:                      []identity{{SignInType: "userPrincipalName", Issuer: t.initialDomain, IssuerAssignedID: &upn}},
		Mail:                            email,
		MailNickname:                    nick,
		OtherMails:                      []string{email},
		ShowInAddressList:               &hidden,
		UserPrincipalName:               upn,
		UserType:                        in.InvitedUserType,
		Sponsors:                        sponsors,
	}
	// A mail contact holding the address keeps the guest from getting it as
	// a proxy address (ED docs/external-id/troubleshoot.md).
	if !t.contactHas(email) {
		u.ProxyAddresses = []string{"SMTP:" + email}
	}
	t.users.add(u)
	t.indexUser(u)
	t.userChanged(u)
	return u, nil
}

// sponsors resolves invitedUserSponsors: users or groups (GD
// resources/invitation.md: "the users or groups who are sponsors").
func (c *call) sponsors(refs []directoryRef) ([]string, *apiError) {
	var out []string
	for _, r := range refs {
		id, ok := c.t.sponsorByKey(r.ID)
		if !ok {
			return nil, errNotFound(r.ID)
		}
		out = append(out, id)
	}
	return out, nil
}

// sponsorByKey finds a user (by id or userPrincipalName) or a group (by
// id) that can be a sponsor, and returns its object id; the caller holds
// t.mu.
func (t *tenant) sponsorByKey(key string) (string, bool) {
	if u, ok := t.userByKey(key); ok {
		return u.id, true
	}
	if g, ok := t.groups.get(key); ok {
		return g.id, true
	}
	return "", false
}

// resetRedemption sends a new invitation to an existing user, keeping its
// object id, groups and assignments (ED docs/external-id/reset-redemption-status.md).
// The address may change. App-only calls cannot reset a user who holds a
// directory role (same page).
func (c *call) resetRedemption(in *invitationBody) (*user, *apiError) {
	t := c.t
	u, err := c.writableUser(in.InvitedUser.ID)
	if err != nil {
		return nil, err
	}
	for _, other := range t.byAddress(strings.ToLower(in.InvitedUserEmailAddress)) {
		if other != u {
			return nil, errOData("The invited user already exists in the directory as objectID: %s. They can use that account to sign in to shared apps and resources.", other.id)
		}
	}
	for _, a := range t.roleAssigns.list {
		if strings.EqualFold(a.PrincipalID, u.id) {
			return nil, errForbidden()
		}
	}
	t.unindexUser(u)
	email := in.InvitedUserEmailAddress
	u.ExternalUserState = "PendingAcceptance"
	u.ExternalUserStateChangeDateTime = c.now
	u.Mail = email
	u.OtherMails = []string{email}
	u.ProxyAddresses = primaryProxy(u.ProxyAddresses, email)
	u.Identities = onlyUPNIdentity(u.Identities)
	t.indexUser(u)
	t.userChanged(u, "externalUserState", "externalUserStateChangeDateTime", "mail", "otherMails", "proxyAddresses", "identities")
	return u, nil
}

func onlyUPNIdentity(ids []identity) []identity {
	var out []identity
	for _, id := range ids {
		if id.SignInType != "federated" {
			out = append(out, id)
		}
	}
	return out
}

// issueInvitation makes the invitation answer: a new invitation id, a new
// redemption ticket (the previous ones of the user stop working, as live
// tenants show) and, when asked, the invitation email.
func (c *call) issueInvitation(u *user, in *invitationBody) object {
	t := c.t
	invID := c.s.ids.guid()
	tk := c.s.ids.token(32)
	t.setTicket(tk, &ticket{userID: u.id, invitationID: invID, email: in.InvitedUserEmailAddress, redirectURL: in.InviteRedirectURL})
	u.invitedEmail = in.InvitedUserEmailAddress
	u.redirectURL = in.InviteRedirectURL
	redeem := redeemURL(c.base, t.id, invID, tk)
	if in.SendInvitationMessage {
		t.mails = append(t.mails, c.invitationMail(u, in, invID, redeem))
	}
	return object{
		{"@odata.context", c.context("invitations", nil, true)},
		{"id", invID},
		{"inviteRedeemUrl", redeem},
		{"invitedUserDisplayName", invDisplayName(in)},
		{"invitedUserType", in.InvitedUserType},
		{"invitedUserEmailAddress", in.InvitedUserEmailAddress},
		{"sendInvitationMessage", in.SendInvitationMessage},
		{"resetRedemption", in.ResetRedemption},
		{"inviteRedirectUrl", in.InviteRedirectURL},
		// Live tenants answer PendingAcceptance even for a guest who
		// redeemed (microsoftgraph/microsoft-graph-docs#2645).
		{"status", "PendingAcceptance"},
		{"invitedUserMessageInfo", messageInfoOut(in.InvitedUserMessageInfo)},
		{"invitedUser", object{{"id", u.id}}},
	}
}

func invDisplayName(in *invitationBody) any {
	if in.InvitedUserDisplayName == nil {
		return nil
	}
	return *in.InvitedUserDisplayName
}

// messageInfoOut echoes invitedUserMessageInfo; without cc recipients Graph
// answers one recipient with null name and address (the documented sample).
func messageInfoOut(mi *messageInfo) object {
	out := messageInfo{}
	if mi != nil {
		out = *mi
	}
	ccs := []object{}
	for _, r := range out.CCRecipients {
		ccs = append(ccs, object{{"emailAddress", object{{"name", r.EmailAddress.Name}, {"address", r.EmailAddress.Address}}}})
	}
	if len(ccs) == 0 {
		ccs = append(ccs, object{{"emailAddress", object{{"name", nil}, {"address", nil}}}})
	}
	return object{
		{"messageLanguage", out.MessageLanguage},
		{"customizedMessageBody", out.CustomizedMessageBody},
		{"ccRecipients", ccs},
	}
}

// redeemURL has the shape of Graph's inviteRedeemUrl (docs/graph-reference.md §1), pointed
// at the sim: /redeem?rd=<url-encoded https://HOST/redeem/?tenant=..&user=..&ticket=..&ver=2.0>.
func redeemURL(base, tenantID, invitationID, tk string) string {
	inner := base + "/redeem/?tenant=" + tenantID + "&user=" + invitationID + "&ticket=" + url.QueryEscape(tk) + "&ver=2.0"
	return base + "/redeem?rd=" + url.QueryEscape(inner)
}

// inviteAllowed applies the optional invitation cap: above it, the tenant
// answers as Entra does when it blocks invitations for suspicious activity
// (Microsoft Q&A "recommended rate limit for bulk B2B guest invitations",
// 2026: 403, code Forbidden, this text).
func (s *Server) inviteAllowed(c *call) *apiError {
	if s.inviteCapReached(c.t, c.now) {
		return newError(http.StatusForbidden, "Forbidden", "Invitations are blocked for this directory due to suspicious activity. Please contact Microsoft support for help.")
	}
	return nil
}

// Mail is an invitation email the tenant "sent" (GET /_sim/mail).
type Mail struct {
	ID                string    `json:"id"`
	From              string    `json:"from"`
	To                string    `json:"to"`
	CC                []string  `json:"cc"`
	Subject           string    `json:"subject"`
	Body              string    `json:"body"`
	Language          string    `json:"language"`
	CustomizedMessage string    `json:"customized_message,omitempty"`
	RedeemURL         string    `json:"redeem_url"`
	InvitationID      string    `json:"invitation_id"`
	UserID            string    `json:"user_id"`
	SentAt            time.Time `json:"sent_at"`
}

// invitationMail records the email Entra would send. The sender is
// Invites@microsoft.com (ED docs/external-id/troubleshoot.md).
func (c *call) invitationMail(u *user, in *invitationBody, invID, redeem string) Mail {
	m := Mail{
		ID:           c.s.ids.guid(),
		From:         "Invites@microsoft.com",
		To:           in.InvitedUserEmailAddress,
		CC:           []string{},
		Subject:      "You're invited to the " + c.t.displayName + " organization",
		Language:     "en-US",
		RedeemURL:    redeem,
		InvitationID: invID,
		UserID:       u.id,
		SentAt:       c.now,
	}
	if mi := in.InvitedUserMessageInfo; mi != nil {
		for _, r := range mi.CCRecipients {
			if r.EmailAddress.Address != nil && *r.EmailAddress.Address != "" {
				m.CC = append(m.CC, *r.EmailAddress.Address)
			}
		}
		if mi.MessageLanguage != nil && *mi.MessageLanguage != "" {
			m.Language = *mi.MessageLanguage
		}
		if mi.CustomizedMessageBody != nil {
			m.CustomizedMessage = *mi.CustomizedMessageBody
		}
	}
	var b strings.Builder
	b.WriteString(c.t.displayName + " invited you to access applications within their organization.\n\n")
	if m.CustomizedMessage != "" {
		b.WriteString("Message from " + c.t.displayName + ":\n" + m.CustomizedMessage + "\n\n")
	}
	b.WriteString("Accept invitation: " + redeem + "\n")
	m.Body = b.String()
	return m
}
