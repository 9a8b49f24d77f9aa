package graph

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/directory"
)

// permAuditLogRead is what selecting or filtering signInActivity needs
// besides User.Read.All (microsoft-graph-docs-contrib
// api-reference/v1.0/resources/user.md, signInActivity).
const permAuditLogRead = "AuditLog.Read.All"

// activitySelect is what a sweep reads of every guest: everything but
// signInActivity, which would hold the page to 120 users.
const activitySelect = "id,mail,userPrincipalName,otherMails,userType,externalUserState," +
	"externalUserStateChangeDateTime,accountEnabled,createdDateTime"

// signInFields are the three sign-in times, each filtered on by a query of
// its own: Graph filters signInActivity on one property at a time, never
// with another property (user.md: "not with any other filterable
// properties"; `or` of two of them is reported not to work,
// KelvinTegelaar/CIPP-API#1119).
var signInFields = []string{"lastSignInDateTime", "lastNonInteractiveSignInDateTime", "lastSuccessfulSignInDateTime"}

// signInPage is the page size of a query on signInActivity: Graph holds
// such a page to 120 users whatever $top says (user-list.md).
const signInPage = "120"

// activityUser is a user as GuestActivity reads it.
type activityUser struct {
	ID                string     `json:"id"`
	Mail              string     `json:"mail"`
	UserPrincipalName string     `json:"userPrincipalName"`
	OtherMails        []string   `json:"otherMails"`
	ExternalUserState string     `json:"externalUserState"`
	StateChanged      *time.Time `json:"externalUserStateChangeDateTime"`
	AccountEnabled    *bool      `json:"accountEnabled"`
	CreatedDateTime   time.Time  `json:"createdDateTime"`
}

// signInUser is a user as the sign-in queries read it.
type signInUser struct {
	ID             string `json:"id"`
	SignInActivity *struct {
		LastSignIn         *time.Time `json:"lastSignInDateTime"`
		LastNonInteractive *time.Time `json:"lastNonInteractiveSignInDateTime"`
		LastSuccessful     *time.Time `json:"lastSuccessfulSignInDateTime"`
	} `json:"signInActivity"`
}

func (u activityUser) activity() foyer.GuestActivity {
	return foyer.GuestActivity{
		ID: u.ID, Mail: u.Mail, UserPrincipalName: u.UserPrincipalName, OtherMails: u.OtherMails,
		ExternalUserState: u.ExternalUserState, StateChangedAt: orZero(u.StateChanged),
		AccountEnabled: u.AccountEnabled == nil || *u.AccountEnabled, CreatedAt: u.CreatedDateTime,
	}
}

func (u signInUser) signIn() *foyer.SignInActivity {
	s := u.SignInActivity
	if s == nil {
		return nil
	}
	return &foyer.SignInActivity{
		LastInteractive: orZero(s.LastSignIn), LastNonInteractive: orZero(s.LastNonInteractive), LastSuccessful: orZero(s.LastSuccessful),
	}
}

func orZero(t *time.Time) time.Time {
	if t == nil || t.Year() <= 1 { // Graph writes an unknown time as 0001-01-01T00:00:00Z
		return time.Time{}
	}
	return t.UTC()
}

// GuestActivity reads every guest with what a sweep decides on, in two
// parts so that 100,000 guests take about 200 reads rather than 834:
//
//  1. every guest, in pages of 999, without signInActivity (a page that
//     selects it holds 120 users);
//  2. when since is not zero, the users who signed in at or after since,
//     one query per sign-in time (signInActivity/F ge since), 120 a page.
//     These queries cannot name userType, so members come too; they are
//     dropped. A guest they do not return has its latest sign-in, if any,
//     before since: its SignIn is nil and its SignInSince is since.
//
// The reads cost ceil(guests/999) + Σ ceil(users signed in since, by that
// time/120) pages (at least one per query). With since zero no sign-in
// data is read, which a tenant without Entra ID P1 also answers.
func (c *Client) GuestActivity(ctx context.Context, since time.Time) ([]foyer.GuestActivity, error) {
	var out []foyer.GuestActivity
	err := c.pages(ctx, call{path: "/v1.0/users", query: [][2]string{
		{"$filter", "userType eq " + quote("Guest")}, {"$select", activitySelect}, {"$top", "999"}},
		op: "read all guests for a sweep", perm: permUserRead},
		func(body []byte) error {
			var page struct {
				Value []activityUser `json:"value"`
			}
			if err := json.Unmarshal(body, &page); err != nil {
				return err
			}
			for _, u := range page.Value {
				out = append(out, u.activity())
			}
			return nil
		})
	if err != nil {
		return nil, err
	}
	if since.IsZero() {
		return out, nil
	}
	// Rounded down to the second: a query that asks from slightly earlier
	// returns a few more users, never fewer.
	since = since.UTC().Truncate(time.Second)
	byID := make(map[string]int, len(out))
	for i := range out {
		byID[out[i].ID] = i
		out[i].SignInSince = since
	}
	for _, f := range signInFields {
		err := c.pages(ctx, call{path: "/v1.0/users", query: [][2]string{
			{"$filter", "signInActivity/" + f + " ge " + since.Format(time.RFC3339)},
			{"$select", "id,signInActivity"}, {"$top", signInPage}},
			op: "read who signed in since " + since.Format(time.RFC3339), perm: permUserRead + " and " + permAuditLogRead},
			func(body []byte) error {
				var page struct {
					Value []signInUser `json:"value"`
				}
				if err := json.Unmarshal(body, &page); err != nil {
					return err
				}
				for _, u := range page.Value {
					if i, ok := byID[u.ID]; ok && out[i].SignIn == nil {
						out[i].SignIn = u.signIn()
					}
				}
				return nil
			})
		var de *directory.Error
		if errors.As(err, &de) && de.Kind == directory.ErrNoPremium {
			de.Fix = "Graph reports sign-in activity only in tenants with Microsoft Entra ID P1 or P2; " +
				"a sweep's no-sign-in rule cannot be decided without it"
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
