package sim

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Guest lifecycle policies of Lifecycle Workflows (Microsoft Entra ID
// Governance): GET /identityGovernance/lifecycleWorkflows/lifecyclePolicies
// (GD api/identitygovernance-lifecycleworkflowscontainer-list-lifecyclepolicies.md),
// a polymorphic list whose guest policies are
// #microsoft.graph.identityGovernance.guestLifecyclePolicy
// (GD resources/identitygovernance-guestlifecyclepolicy.md). Only guest
// policies are modelled, created and removed through the side door (an
// admin does it in the Entra admin center). A scope is rendered as its
// @odata.type alone: excludedGroups and excludedObjects are relationships
// of the scope types, not properties (GD
// resources/identitygovernance-allexcludinggroupssubjectset.md), and a
// list answers without them. Not modelled: rules, notification settings,
// the policy's report, priority, soft delete; the answer of a tenant
// without the ID Governance licence (not documented; docs/graph-reference.md).

// permLifecyclePolicyRead is the guest policies' read permission, least
// privileged first (the list page's "Guest policies" table).
const permLifecyclePolicyRead = "LifecyclePolicies-Guests.Read.All|LifecyclePolicies-Guests.ReadWrite.All"

// The scope types a guest policy's scope may have (GD
// api/identitygovernance-lifecycleworkflowscontainer-post-lifecyclepolicies.md);
// "" is a null scope: every guest.
var lifecycleScopeTypes = []string{
	"",
	"#microsoft.graph.identityGovernance.selectedObjectsSubjectSet",
	"#microsoft.graph.identityGovernance.allExcludingSpecificObjectsSubjectSet",
	"#microsoft.graph.identityGovernance.allExcludingGroupsSubjectSet",
}

// LifecyclePolicy is a guest lifecycle policy for the side door.
type LifecyclePolicy struct {
	ID          string `json:"id,omitempty"` // made up when empty
	DisplayName string `json:"displayName"`
	Description string `json:"description,omitempty"`
	IsEnabled   bool   `json:"isEnabled"`
	// ScopeType is the @odata.type of the policy's scope; empty for a
	// null scope (every guest).
	ScopeType string `json:"scopeType,omitempty"`
}

type lifecyclePolicy struct {
	objMeta
	LifecyclePolicy
}

func (p *lifecyclePolicy) render() object {
	var scope any
	if p.ScopeType != "" {
		scope = object{{"@odata.type", p.ScopeType}}
	}
	ts := p.created.UTC().Format(time.RFC3339)
	return object{
		{"@odata.type", "#microsoft.graph.identityGovernance.guestLifecyclePolicy"},
		{"id", p.id},
		{"displayName", p.DisplayName},
		{"description", nullable(p.Description)},
		{"isEnabled", p.IsEnabled},
		{"policySource", "userCreated"},
		{"versionNumber", 1},
		{"createdDateTime", ts},
		{"lastModifiedDateTime", ts},
		{"gracePeriodInDays", 7},
		{"enforcementAction", object{
			{"@odata.type", "#microsoft.graph.identityGovernance.disableThenDeleteEnforcementAction"},
			{"deletionGracePeriodInDays", 30},
		}},
		{"scope", scope},
	}
}

var lifecyclePolicyFields = []string{"id", "displayName", "description", "isEnabled", "policySource", "versionNumber",
	"createdDateTime", "lastModifiedDateTime", "gracePeriodInDays", "enforcementAction", "scope"}

// listLifecyclePolicies is GET
// /identityGovernance/lifecycleWorkflows/lifecyclePolicies, with $select.
// A tenant holds at most 20 guest policies (ED
// id-governance/guest-lifecycle-policies.md), so one page holds them all.
func listLifecyclePolicies(c *call) *reply {
	q, err := c.listQuery(listSpec{typ: "identityGovernance.lifecyclePolicy", fields: fieldsOf(lifecyclePolicyFields), defaultTop: 100, maxTop: 100})
	if err != nil {
		return c.fail(err)
	}
	c.t.mu.RLock()
	defer c.t.mu.RUnlock()
	value := []object{}
	for _, p := range c.t.lcPolicies.list {
		o := p.render()
		if len(q.sel) > 0 { // @odata.type stays: the list is polymorphic
			o = append(object{o[0]}, selectMembers(o, q.sel)...)
		}
		value = append(value, o)
	}
	return replyOK(object{{"@odata.context", c.context("identityGovernance/lifecycleWorkflows/lifecyclePolicies", q.sel, false)}, {"value", value}})
}

// maxGuestPolicies is the most guest lifecycle policies a tenant may have
// (ED id-governance/guest-lifecycle-policies.md).
const maxGuestPolicies = 20

// AddLifecyclePolicy creates a guest lifecycle policy in the default
// tenant, as an admin would in the Entra admin center, and returns it with
// its id.
func (s *Server) AddLifecyclePolicy(p LifecyclePolicy) (LifecyclePolicy, error) {
	if strings.TrimSpace(p.DisplayName) == "" {
		return p, fmt.Errorf("lifecycle policy: displayName is required")
	}
	known := false
	for _, st := range lifecycleScopeTypes {
		known = known || st == p.ScopeType
	}
	if !known {
		return p, fmt.Errorf("lifecycle policy: scopeType %q: want one of %q", p.ScopeType, lifecycleScopeTypes)
	}
	if p.ID == "" {
		p.ID = s.ids.guid()
	}
	t := s.def
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.lcPolicies.len() >= maxGuestPolicies {
		return p, fmt.Errorf("lifecycle policy: a tenant holds at most %d guest lifecycle policies", maxGuestPolicies)
	}
	if _, ok := t.lcPolicies.get(p.ID); ok {
		return p, fmt.Errorf("lifecycle policy %s exists", p.ID)
	}
	now := s.Now()
	t.lcPolicies.add(&lifecyclePolicy{objMeta: t.nextMeta(p.ID, now, 0), LifecyclePolicy: p})
	return p, nil
}

// RemoveLifecyclePolicy deletes a guest lifecycle policy by id.
func (s *Server) RemoveLifecyclePolicy(id string) error {
	t := s.def
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.lcPolicies.get(id); !ok {
		return fmt.Errorf("lifecycle policy %s: no such policy", id)
	}
	t.lcPolicies.remove(id)
	return nil
}

func sideLifecyclePolicy(s *Server, _ *http.Request, b []byte) (int, any, error) {
	var in LifecyclePolicy
	if err := strictJSON(b, &in); err != nil {
		return 400, nil, fmt.Errorf(`body: want {"displayName":"...", "isEnabled": true, "scopeType": "..."}: %w`, err)
	}
	p, err := s.AddLifecyclePolicy(in)
	if err != nil {
		return 400, nil, err
	}
	return http.StatusCreated, p, nil
}

func sideLifecyclePolicyDelete(s *Server, _ *http.Request, b []byte) (int, any, error) {
	var in struct {
		ID string `json:"id"`
	}
	if err := strictJSON(b, &in); err != nil || in.ID == "" {
		return 400, nil, fmt.Errorf(`body: want {"id":"..."}`)
	}
	if err := s.RemoveLifecyclePolicy(in.ID); err != nil {
		return 404, nil, err
	}
	return 200, map[string]string{"deleted": in.ID}, nil
}
