package sim

import (
	"fmt"
	"net/http"
	"slices"
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
// list answers without them. Which users a policy's scope holds is set
// through the side door (Subjects, or AllGuests), and the policy's report
// (GET .../{id}/report and .../{id}/report/subjects) is computed from it:
// a guest in the scope of several enabled policies is governed by the
// first in the list (effective), the others list it as
// inScopeButIneffective with that policy as effectivePolicy. Not
// modelled: rules, notification settings, priority, soft delete, the
// pending relationship, compliance and enforcement (null), $filter on
// subjects; the answer of a tenant without the ID Governance licence (not
// documented; docs/graph-reference.md).

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
	// Subjects are the object ids of the users the policy's scope holds;
	// AllGuests puts every guest in it instead. What the report lists.
	Subjects  []string `json:"subjects,omitempty"`
	AllGuests bool     `json:"allGuests,omitempty"`
	// Report is the state of the policy's report: "" or "completed" (its
	// scope processed), "none" (no report yet: 404), "processing" (never
	// processed, processing now).
	Report string `json:"report,omitempty"`
}

// The states of a policy's report the side door sets.
var lifecycleReportStates = []string{"", "completed", "none", "processing"}

// holds reports whether the policy's scope holds the user.
func (p *lifecyclePolicy) holds(u *user) bool {
	if p.AllGuests {
		return u.isGuest()
	}
	for _, id := range p.Subjects {
		if strings.EqualFold(id, u.id) {
			return true
		}
	}
	return false
}

type lifecyclePolicy struct {
	objMeta
	LifecyclePolicy
	version int // versionNumber; the report is of this version
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
		{"versionNumber", p.version},
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
	if !slices.Contains(lifecycleReportStates, p.Report) {
		return p, fmt.Errorf("lifecycle policy: report %q: want one of %q", p.Report, lifecycleReportStates)
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
	t.lcPolicies.add(&lifecyclePolicy{objMeta: t.nextMeta(p.ID, now, 0), LifecyclePolicy: p, version: 1})
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

// policy finds the policy of the path's {id}.
func (c *call) lifecyclePolicy() (*lifecyclePolicy, *apiError) {
	p, ok := c.t.lcPolicies.get(c.params["id"])
	if !ok {
		return nil, errNotFound(c.params["id"])
	}
	return p, nil
}

// errNoReport is the answer for a policy without a report yet. Graph's
// pages document no such answer; a 404 with the sim's own message
// (docs/graph-reference.md §18, unverified).
func errNoReport(id string) *apiError {
	return newError(http.StatusNotFound, "ResourceNotFound", "No report exists yet for lifecycle policy '%s'.", id)
}

var lifecycleReportFields = []string{"id", "policyVersion", "scopeProcessing", "subjectsInScopeCount"}

// getLifecyclePolicyReport is GET .../lifecyclePolicies/{id}/report
// (GD api/identitygovernance-lifecyclepolicy-list-report.md), with
// $select.
func getLifecyclePolicyReport(c *call) *reply {
	q, err := c.listQuery(listSpec{typ: "identityGovernance.lifecyclePolicyReport", fields: fieldsOf(lifecycleReportFields), defaultTop: 1, maxTop: 1})
	if err != nil {
		return c.fail(err)
	}
	c.t.mu.RLock()
	defer c.t.mu.RUnlock()
	p, err := c.lifecyclePolicy()
	if err != nil {
		return c.fail(err)
	}
	if p.Report == "none" {
		return c.fail(errNoReport(p.id))
	}
	ts := func(t time.Time) string { return t.UTC().Format(time.RFC3339) }
	processing := object{{"currentStatus", "idle"}, {"currentStartedDateTime", nil},
		{"latestAttempt", object{{"status", "completed"}, {"startedDateTime", ts(p.created)}, {"completedDateTime", ts(p.created)}, {"error", nil}}},
		{"lastSuccessfulProcessingDateTime", ts(p.created)}}
	if p.Report == "processing" {
		processing = object{{"currentStatus", "processing"}, {"currentStartedDateTime", ts(p.created)},
			{"latestAttempt", object{{"status", "processing"}, {"startedDateTime", ts(p.created)}, {"completedDateTime", nil}, {"error", nil}}},
			{"lastSuccessfulProcessingDateTime", nil}}
	}
	n := 0
	for _, u := range c.t.users.list {
		if c.listable(&u.objMeta) && p.holds(u) {
			n++
		}
	}
	o := object{{"id", p.id}, {"policyVersion", p.version}, {"scopeProcessing", processing}, {"subjectsInScopeCount", n}}
	if len(q.sel) > 0 {
		o = selectMembers(o, q.sel)
	}
	set := "identityGovernance/lifecycleWorkflows/lifecyclePolicies('" + p.id + "')/report"
	return replyOK(append(object{{"@odata.context", c.context(set, q.sel, true)}}, o...))
}

var lifecycleSubjectFields = []string{"id", "subject", "relationship", "compliance", "effectivePolicy", "enforcement"}

// listLifecyclePolicySubjects is GET .../lifecyclePolicies/{id}/report/subjects
// (GD api/identitygovernance-lifecyclepolicyreport-list-subjects.md):
// the users the policy's scope holds, in creation order, $top a page
// (default 100, at most 999: the page documents no bound, docs/graph-reference.md
// §18) with a nextLink, and $select. No subjects before the report exists.
func listLifecyclePolicySubjects(c *call) *reply {
	q, err := c.listQuery(listSpec{typ: "identityGovernance.lifecyclePolicySubjectReport", fields: fieldsOf(lifecycleSubjectFields), defaultTop: 100, maxTop: 999})
	if err != nil {
		return c.fail(err)
	}
	t := c.t
	t.mu.RLock()
	defer t.mu.RUnlock()
	p, err := c.lifecyclePolicy()
	if err != nil {
		return c.fail(err)
	}
	if p.Report == "none" {
		return c.fail(errNoReport(p.id))
	}
	keep := func(u *user) bool { return c.listable(&u.objMeta) && p.holds(u) }
	items, last, more := page(t.users.list, q, keep)
	value := make([]object, len(items))
	for i, u := range items {
		rel, eff := "effective", object(nil)
		for _, o := range t.lcPolicies.list {
			if o.IsEnabled && o.holds(u) {
				if o != p {
					rel, eff = "inScopeButIneffective", object{{"id", o.id}, {"version", o.version}}
				}
				break
			}
		}
		var effective any
		if eff != nil {
			effective = eff
		}
		v := object{{"id", u.id},
			{"subject", object{{"@odata.type", "#microsoft.graph.identityGovernance.lifecyclePolicyUserSubjectReference"}, {"id", u.id}}},
			{"relationship", rel}, {"compliance", nil}, {"effectivePolicy", effective}, {"enforcement", nil}}
		if len(q.sel) > 0 {
			v = selectMembers(v, q.sel)
		}
		value[i] = v
	}
	set := "identityGovernance/lifecycleWorkflows/lifecyclePolicies('" + p.id + "')/report/subjects"
	body := object{{"@odata.context", c.context(set, q.sel, false)}}
	if more {
		body = append(body, member{"@odata.nextLink", nextLink(c.base, c.path, c.query, encodeSkipToken(last, t.generation.Load()))})
	}
	return replyOK(append(body, member{"value", value}))
}
