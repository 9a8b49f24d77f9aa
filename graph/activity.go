package graph

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/directory"
)

// permAuditLogRead is what selecting signInActivity needs besides
// User.Read.All (microsoft-graph-docs-contrib api-reference/v1.0/resources/user.md,
// signInActivity).
const permAuditLogRead = "AuditLog.Read.All"

// activitySelect is what a sweep reads of every guest.
const activitySelect = "id,mail,userPrincipalName,otherMails,userType,externalUserState," +
	"externalUserStateChangeDateTime,accountEnabled,createdDateTime,signInActivity"

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
	SignInActivity    *struct {
		LastSignIn         *time.Time `json:"lastSignInDateTime"`
		LastNonInteractive *time.Time `json:"lastNonInteractiveSignInDateTime"`
		LastSuccessful     *time.Time `json:"lastSuccessfulSignInDateTime"`
	} `json:"signInActivity"`
}

func (u activityUser) activity() foyer.GuestActivity {
	g := foyer.GuestActivity{
		ID: u.ID, Mail: u.Mail, UserPrincipalName: u.UserPrincipalName, OtherMails: u.OtherMails,
		ExternalUserState: u.ExternalUserState, StateChangedAt: orZero(u.StateChanged),
		AccountEnabled: u.AccountEnabled == nil || *u.AccountEnabled, CreatedAt: u.CreatedDateTime,
	}
	if s := u.SignInActivity; s != nil {
		g.SignIn = &foyer.SignInActivity{
			LastInteractive: orZero(s.LastSignIn), LastNonInteractive: orZero(s.LastNonInteractive), LastSuccessful: orZero(s.LastSuccessful),
		}
	}
	return g
}

func orZero(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// GuestActivity reads every guest with what a sweep decides on, asking for
// pages of 999. Graph holds a page that selects signInActivity to 120
// users whatever $top says (user-list.md; the sim does the same), so
// 100,000 guests take about 834 reads. No ConsistencyLevel header: the
// filter is on userType only, which is not an advanced query, and
// signInActivity is selected, not filtered.
func (c *Client) GuestActivity(ctx context.Context) ([]foyer.GuestActivity, error) {
	const op = "read the sign-in activity of all guests"
	var out []foyer.GuestActivity
	err := c.pages(ctx, call{path: "/v1.0/users", query: [][2]string{
		{"$filter", "userType eq " + quote("Guest")}, {"$select", activitySelect}, {"$top", "999"}},
		op: op, perm: permUserRead + " and " + permAuditLogRead},
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
	var de *directory.Error
	if errors.As(err, &de) && de.Kind == directory.ErrNoPremium {
		de.Fix = "Graph reports sign-in activity only in tenants with Microsoft Entra ID P1 or P2; " +
			"a sweep cannot read guests without it"
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}
