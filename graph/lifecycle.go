package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/directory"
)

var _ directory.Lifecycle = (*Client)(nil)

// Account reads one user: GET
// /users/{id}?$select=id,mail,accountEnabled,signInActivity (user-get.md;
// signInActivity needs AuditLog.Read.All and Entra ID P1, like
// GuestActivity). 404 is a user that is gone, not an error.
func (c *Client) Account(ctx context.Context, userID string) (directory.Account, bool, error) {
	op := "read the account of user " + userID
	r, err := c.send(ctx, call{method: http.MethodGet, path: "/v1.0/users/" + seg(userID),
		query: [][2]string{{"$select", "id,mail,accountEnabled,signInActivity"}}, op: op, perm: permUserRead + " and " + permAuditLogRead})
	if e := errOf(err); e != nil && e.Status == http.StatusNotFound {
		return directory.Account{}, false, nil
	}
	if err != nil {
		return directory.Account{}, false, err
	}
	var u struct {
		activityUser
		SignInActivity json.RawMessage `json:"signInActivity"`
	}
	var si signInUser
	if err := errors.Join(json.Unmarshal(r.body, &u), json.Unmarshal(r.body, &si)); err != nil {
		return directory.Account{}, false, &directory.Error{Op: op, Kind: directory.ErrUnavailable, Err: fmt.Errorf("decode the user: %w", err)}
	}
	g := u.activity()
	return directory.Account{ID: g.ID, Mail: g.Mail, Enabled: g.AccountEnabled, LastSignIn: si.signIn().Latest()}, true, nil
}

// DisableUser is PATCH /users/{id} {"accountEnabled": false}: 204 No
// Content (user-update.md). Setting it again is harmless, so the call is
// retried like any idempotent write.
func (c *Client) DisableUser(ctx context.Context, userID string) (string, error) {
	r, err := c.send(ctx, call{method: http.MethodPatch, path: "/v1.0/users/" + seg(userID),
		body: map[string]any{"accountEnabled": false},
		op:   "disable user " + userID, perm: permUserWrite, kind: kindWrite})
	if r != nil {
		return r.requestID, err
	}
	return "", err
}

// DeleteUser is DELETE /users/{id}: 204 No Content (user-delete.md). A
// 404 means the user is gone already: an earlier delete whose answer was
// lost, or someone else's.
func (c *Client) DeleteUser(ctx context.Context, userID string) (string, bool, error) {
	r, err := c.send(ctx, call{method: http.MethodDelete, path: "/v1.0/users/" + seg(userID),
		op: "delete user " + userID, perm: permUserWrite, kind: kindWrite})
	id := ""
	if r != nil {
		id = r.requestID
	}
	if e := errOf(err); e != nil && e.Status == http.StatusNotFound {
		return id, true, nil
	}
	return id, false, err
}

// GuestsWith lists the guests whose property equals value: GET
// /users?$filter=userType eq 'Guest' and {property} eq '{value}', an
// advanced query ($count=true, ConsistencyLevel: eventual), since
// companyName and officeLocation filter only so (user.md).
func (c *Client) GuestsWith(ctx context.Context, property, value string) ([]string, error) {
	if err := directory.CheckExcludable(property); err != nil {
		return nil, &directory.Error{Op: "list guests by " + property, Kind: directory.ErrInvalid, Message: err.Error()}
	}
	var out []string
	err := c.pages(ctx, call{path: "/v1.0/users", query: [][2]string{
		{"$filter", "userType eq " + quote("Guest") + " and " + property + " eq " + quote(value)},
		{"$select", "id"}, {"$count", "true"}, {"$top", "999"}},
		header: map[string]string{"ConsistencyLevel": "eventual"},
		op:     fmt.Sprintf("list the guests whose %s is %q", property, value), perm: permUserRead},
		func(body []byte) error {
			var page struct {
				Value []struct {
					ID string `json:"id"`
				} `json:"value"`
			}
			if err := json.Unmarshal(body, &page); err != nil {
				return err
			}
			for _, u := range page.Value {
				out = append(out, strings.ToLower(u.ID))
			}
			return nil
		})
	return out, err
}

// Sponsors is GET /users/{id}/sponsors (user-list-sponsors.md): users
// and groups, each with its @odata.type. A user is told at its mail; a
// group at its own mail when it is mail-enabled, otherwise through its
// direct members who are users with mail (sponsorGroupMembers). Users
// without mail are left out; the addresses are returned once each.
func (c *Client) Sponsors(ctx context.Context, userID string) ([]foyer.Address, error) {
	var (
		out    []foyer.Address
		groups []string
	)
	seen := map[foyer.Address]bool{}
	add := func(mail string) {
		if a, err := foyer.ParseAddress(mail); err == nil && !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	err := c.pages(ctx, call{path: "/v1.0/users/" + seg(userID) + "/sponsors",
		op: "read the sponsors of user " + userID, perm: permUserRead},
		func(body []byte) error {
			var page struct {
				Value []struct {
					Type        string `json:"@odata.type"`
					ID          string `json:"id"`
					Mail        string `json:"mail"`
					MailEnabled bool   `json:"mailEnabled"`
				} `json:"value"`
			}
			if err := json.Unmarshal(body, &page); err != nil {
				return err
			}
			for _, s := range page.Value {
				switch s.Type {
				case "", "#microsoft.graph.user":
					add(s.Mail)
				case "#microsoft.graph.group":
					if s.MailEnabled && s.Mail != "" {
						add(s.Mail)
					} else if s.ID != "" {
						groups = append(groups, s.ID)
					}
				}
			}
			return nil
		})
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		mails, err := c.sponsorGroupMembers(ctx, userID, g)
		if err != nil {
			return nil, err
		}
		for _, m := range mails {
			add(m)
		}
	}
	return out, nil
}

// SponsorGroupMembers is the most members of a sponsor group without mail
// that are told: one page of GET /groups/{id}/members/microsoft.graph.user.
// A group of more is logged, and only its first members are told.
const SponsorGroupMembers = 50

// sponsorGroupMembers reads the mail of a sponsor group's direct members
// that are users (group-list-members.md, the OData cast to user), one
// page of at most SponsorGroupMembers: nested groups are not followed.
func (c *Client) sponsorGroupMembers(ctx context.Context, userID, groupID string) ([]string, error) {
	op := "read the members of sponsor group " + groupID
	r, err := c.send(ctx, call{method: http.MethodGet, path: "/v1.0/groups/" + seg(groupID) + "/members/microsoft.graph.user",
		query: [][2]string{{"$select", "id,mail,userPrincipalName"}, {"$top", strconv.Itoa(SponsorGroupMembers)}},
		op:    op, perm: permGroupRead})
	if e := errOf(err); e != nil && e.Status == http.StatusNotFound {
		return nil, nil // the group is gone: nobody to tell through it
	}
	if err != nil {
		return nil, err
	}
	var page struct {
		Value []struct {
			Mail              string `json:"mail"`
			UserPrincipalName string `json:"userPrincipalName"`
		} `json:"value"`
		NextLink string `json:"@odata.nextLink"`
	}
	if err := json.Unmarshal(r.body, &page); err != nil {
		return nil, &directory.Error{Op: op, Kind: directory.ErrUnavailable, RequestID: r.requestID, Message: "unreadable page", Err: err}
	}
	var mails, without []string
	for _, m := range page.Value {
		if m.Mail == "" {
			without = append(without, m.UserPrincipalName)
			continue
		}
		mails = append(mails, m.Mail)
	}
	if page.NextLink != "" {
		c.log.Warn("a sponsor group has more members than are told", "user", userID, "group", groupID, "told", SponsorGroupMembers)
	}
	if len(without) > 0 {
		c.log.Info("members of a sponsor group without mail are not told", "user", userID, "group", groupID, "members", without)
	}
	return mails, nil
}
