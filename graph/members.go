package graph

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/foyer-dev/foyer/directory"
)

// memberSelect is what Members reads of each user: enough to reach them.
const memberSelect = "id,mail,userPrincipalName,displayName"

// Members reads the users of a group, nested groups included, with GET
// /groups/{id}/transitiveMembers/microsoft.graph.user (microsoft-graph-docs
// api-reference/v1.0/api/group-list-transitivemembers.md): the cast keeps
// users only; pages of 999 (the maximum) follow @odata.nextLink. It needs
// GroupMember.Read.All; without a user read permission as well (foyer's
// app has User.Read.All) Graph returns the users "with limited
// information", ids without mail. Throttling is the directory's usual
// 429 with Retry-After, paced and retried like every read.
func (c *Client) Members(ctx context.Context, groupID string) ([]directory.Person, error) {
	op := "list the users of group " + groupID
	if strings.TrimSpace(groupID) == "" {
		return nil, &directory.Error{Op: op, Kind: directory.ErrInvalid, Message: "no group id"}
	}
	var out []directory.Person
	seen := map[string]bool{}
	err := c.pages(ctx, call{path: "/v1.0/groups/" + seg(groupID) + "/transitiveMembers/microsoft.graph.user",
		query: [][2]string{{"$select", memberSelect}, {"$top", "999"}}, op: op, perm: permGroupRead},
		func(body []byte) error {
			var page struct {
				Value []user `json:"value"`
			}
			if err := json.Unmarshal(body, &page); err != nil {
				return err
			}
			for _, u := range page.Value {
				// A user in two nested groups is listed once by Graph;
				// a page boundary must not make it twice.
				if id := strings.ToLower(u.ID); id != "" && !seen[id] {
					seen[id] = true
					out = append(out, u.person())
				}
			}
			return nil
		})
	if err != nil {
		return nil, err
	}
	return out, nil
}
