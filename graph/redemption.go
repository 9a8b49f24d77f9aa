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

var _ directory.RedemptionDelta = (*Client)(nil)

// redemptionDeltaSelect is what a delta round tracks: only these
// properties' changes bring a user into a round ("Only properties
// included in $select are tracked for changes", delta-query-users.md).
const redemptionDeltaSelect = "externalUserState,externalUserStateChangeDateTime"

// RedemptionChanges reads the users changed since token with the delta
// query on users: GET /users/delta?$select=externalUserState,
// externalUserStateChangeDateTime, then the nextLinks to the deltaLink,
// which is the next token (the whole link, as user-delta.md asks to
// keep it). "" starts a full round, every user once. A deleted user
// comes as @removed. An expired token is ErrResync (400
// syncStateNotFound, or 410 Gone); so is a token that is not a link of
// this client's Graph endpoint (a configuration that changed).
func (c *Client) RedemptionChanges(ctx context.Context, token string) ([]directory.RedemptionChange, string, error) {
	const op = "read the users changed since the last sync"
	k := call{path: "/v1.0/users/delta", query: [][2]string{{"$select", redemptionDeltaSelect}}, op: op, perm: permUserRead}
	if token != "" {
		path, query, err := c.sameHost(svcGraph, token)
		if err != nil || !strings.HasSuffix(strings.TrimSuffix(path, "/"), "/users/delta") {
			return nil, "", &directory.Error{Op: op, Kind: directory.ErrResync, Message: "the stored delta token is not a users delta link of this Graph endpoint"}
		}
		k.path, k.query, k.rawQuery = path, nil, query
	}
	var (
		out  []directory.RedemptionChange
		next string
	)
	err := c.pages(ctx, k, func(body []byte) error {
		var page struct {
			DeltaLink string `json:"@odata.deltaLink"`
			Value     []struct {
				ID           string          `json:"id"`
				State        string          `json:"externalUserState"`
				StateChanged *time.Time      `json:"externalUserStateChangeDateTime"`
				Removed      json.RawMessage `json:"@removed"`
			} `json:"value"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			return err
		}
		for _, u := range page.Value {
			if u.ID == "" {
				continue
			}
			removed := len(u.Removed) > 0 && string(u.Removed) != "null"
			out = append(out, directory.RedemptionChange{UserID: u.ID, State: u.State, StateChangedAt: orZero(u.StateChanged), Removed: removed})
		}
		if page.DeltaLink != "" {
			next = page.DeltaLink
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	if next == "" {
		return nil, "", &directory.Error{Op: op, Kind: directory.ErrUnavailable, Message: "the delta round ended without a deltaLink"}
	}
	return out, next, nil
}
