package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/foyer-dev/foyer/directory"
)

// redemptionBatch is how many ids one request asks about: `id in (...)`
// with at most 15 values, the directory's bound on clauses joined by
// `or` (docs/sim.md); a bound of `in`'s own is not documented, so foyer
// stays within that one.
const redemptionBatch = 15

var _ directory.Redemptions = (*Client)(nil)

// Redemptions reads externalUserState and its change time of the users
// with these ids, 15 a request: GET /users?$filter=id in ('…',…)&$select=
// id,externalUserState,externalUserStateChangeDateTime (id supports eq and
// in, filter-directory-objects.md). A sync of P pending guests costs
// ceil(P/15) reads whatever the size of the tenant.
func (c *Client) Redemptions(ctx context.Context, ids []string) (map[string]directory.Redemption, error) {
	out := make(map[string]directory.Redemption, len(ids))
	want := make(map[string]string, len(ids)) // lowercased → as given
	var uniq []string
	for _, id := range ids {
		k := strings.ToLower(strings.TrimSpace(id))
		if k == "" || want[k] != "" {
			continue
		}
		want[k] = id
		uniq = append(uniq, k)
	}
	for start := 0; start < len(uniq); start += redemptionBatch {
		chunk := uniq[start:min(start+redemptionBatch, len(uniq))]
		quoted := make([]string, len(chunk))
		for i, id := range chunk {
			quoted[i] = quote(id)
		}
		err := c.pages(ctx, call{path: "/v1.0/users", query: [][2]string{
			{"$filter", "id in (" + strings.Join(quoted, ",") + ")"},
			{"$select", "id,externalUserState,externalUserStateChangeDateTime"}},
			op: fmt.Sprintf("read the redemption state of %d guests", len(chunk)), perm: permUserRead},
			func(body []byte) error {
				var page struct {
					Value []struct {
						ID           string     `json:"id"`
						State        string     `json:"externalUserState"`
						StateChanged *time.Time `json:"externalUserStateChangeDateTime"`
					} `json:"value"`
				}
				if err := json.Unmarshal(body, &page); err != nil {
					return err
				}
				for _, u := range page.Value {
					if id, ok := want[strings.ToLower(u.ID)]; ok {
						out[id] = directory.Redemption{UserID: u.ID, State: u.State, ChangedAt: orZero(u.StateChanged)}
					}
				}
				return nil
			})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
