package graph

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/foyer-dev/foyer/directory"
)

// permLifecyclePolicyRead is the least privileged permission that reads
// guest lifecycle policies (identitygovernance-lifecycleworkflowscontainer-list-lifecyclepolicies.md,
// "Guest policies").
const permLifecyclePolicyRead = "LifecyclePolicies-Guests.Read.All"

// guestPolicyType is the @odata.type of a guest lifecycle policy in the
// polymorphic list (identitygovernance-guestlifecyclepolicy.md); agent
// identity policies share the list and are left out.
const guestPolicyType = "#microsoft.graph.identityGovernance.guestLifecyclePolicy"

// GuestLifecyclePolicies is GET
// /identityGovernance/lifecycleWorkflows/lifecyclePolicies (v1.0), the
// guest policies kept: one page, a tenant holds at most 20 of them. An
// empty list is a tenant without any. 403 is ErrForbidden with the
// permission named and a Fix.
func (c *Client) GuestLifecyclePolicies(ctx context.Context) ([]directory.LifecyclePolicy, error) {
	var out []directory.LifecyclePolicy
	err := c.pages(ctx, call{path: "/v1.0/identityGovernance/lifecycleWorkflows/lifecyclePolicies",
		query: [][2]string{{"$select", "id,displayName,isEnabled,scope"}},
		op:    "read the guest lifecycle policies", perm: permLifecyclePolicyRead},
		func(body []byte) error {
			var page struct {
				Value []struct {
					Type        string `json:"@odata.type"`
					ID          string `json:"id"`
					DisplayName string `json:"displayName"`
					IsEnabled   bool   `json:"isEnabled"`
					Scope       *struct {
						Type string `json:"@odata.type"`
					} `json:"scope"`
				} `json:"value"`
			}
			if err := json.Unmarshal(body, &page); err != nil {
				return err
			}
			for _, p := range page.Value {
				if p.Type != guestPolicyType {
					continue
				}
				lp := directory.LifecyclePolicy{ID: p.ID, DisplayName: p.DisplayName, Enabled: p.IsEnabled}
				if p.Scope != nil {
					lp.ScopeType = p.Scope.Type
				}
				out = append(out, lp)
			}
			return nil
		})
	var de *directory.Error
	if errors.As(err, &de) && de.Kind == directory.ErrForbidden {
		de.Fix = "grant the app " + permLifecyclePolicyRead + " (the tenant also needs Microsoft Entra ID Governance), " +
			"or set lifecycle.microsoft_policies: ignore and take responsibility for guests Microsoft governs"
	}
	if err != nil {
		return nil, err
	}
	if out == nil {
		out = []directory.LifecyclePolicy{}
	}
	return out, nil
}
