package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

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

// lcPolicyFix is what to do when the policies or their reports cannot be
// read for want of the permission.
const lcPolicyFix = "grant the app " + permLifecyclePolicyRead + " (the tenant also needs Microsoft Entra ID Governance), " +
	"or set lifecycle.microsoft_policies: ignore and take responsibility for guests Microsoft governs"

// GuestLifecyclePolicies is GET
// /identityGovernance/lifecycleWorkflows/lifecyclePolicies (v1.0), the
// guest policies kept: one page, a tenant holds at most 20 of them. An
// empty list is a tenant without any. 403 is ErrForbidden with the
// permission named and a Fix.
func (c *Client) GuestLifecyclePolicies(ctx context.Context) ([]directory.LifecyclePolicy, error) {
	var out []directory.LifecyclePolicy
	err := c.pages(ctx, call{path: "/v1.0/identityGovernance/lifecycleWorkflows/lifecyclePolicies",
		query: [][2]string{{"$select", "id,displayName,isEnabled,versionNumber,scope"}},
		op:    "read the guest lifecycle policies", perm: permLifecyclePolicyRead},
		func(body []byte) error {
			var page struct {
				Value []struct {
					Type        string `json:"@odata.type"`
					ID          string `json:"id"`
					DisplayName string `json:"displayName"`
					IsEnabled   bool   `json:"isEnabled"`
					Version     int    `json:"versionNumber"`
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
				lp := directory.LifecyclePolicy{ID: p.ID, DisplayName: p.DisplayName, Enabled: p.IsEnabled, Version: p.Version}
				if p.Scope != nil {
					lp.ScopeType = p.Scope.Type
				}
				out = append(out, lp)
			}
			return nil
		})
	var de *directory.Error
	if errors.As(err, &de) && de.Kind == directory.ErrForbidden {
		de.Fix = lcPolicyFix
	}
	if err != nil {
		return nil, err
	}
	if out == nil {
		out = []directory.LifecyclePolicy{}
	}
	return out, nil
}

// subjectsPage is the $top a policy's subjects are read with. The page
// (identitygovernance-lifecyclepolicyreport-list-subjects) documents $top
// without a maximum; 999 is the directory's usual one, and a service that
// refuses it leaves the policy unread (every guest governed), not the
// sweep refused.
const subjectsPage = "999"

// errBudget stops the paging of a policy's subjects when the budget is
// spent with pages left.
var errBudget = errors.New("request budget spent")

// PolicySubjects is GET .../lifecyclePolicies/{id}/report (one request)
// and, when its scope processing is complete and the report is of p's
// version, GET .../lifecyclePolicies/{id}/report/subjects with $select and
// $top, following @odata.nextLink while the budget lasts. 404 (no report
// yet) and 400 (a query refused) leave the subjects unread; 403 is
// ErrForbidden with the permission and a Fix; anything else is an error.
func (c *Client) PolicySubjects(ctx context.Context, p directory.LifecyclePolicy, budget int) (directory.PolicyReport, error) {
	var out directory.PolicyReport
	if budget < 2 {
		out.Unread = "the sweep's request budget for policy reports is spent"
		return out, nil
	}
	base := "/v1.0/identityGovernance/lifecycleWorkflows/lifecyclePolicies/" + seg(p.ID) + "/report"
	name := fmt.Sprintf("%s (%s)", p.DisplayName, p.ID)
	out.Requests++
	r, err := c.send(ctx, call{method: "GET", path: base,
		query: [][2]string{{"$select", "policyVersion,scopeProcessing,subjectsInScopeCount"}},
		op:    "read the report of lifecycle policy " + name, perm: permLifecyclePolicyRead})
	if unread, err := c.reportError(err); unread != "" || err != nil {
		out.Unread = unread
		return out, err
	}
	var rep struct {
		PolicyVersion   int `json:"policyVersion"`
		ScopeProcessing *struct {
			CurrentStatus  string     `json:"currentStatus"`
			LastSuccessful *time.Time `json:"lastSuccessfulProcessingDateTime"`
			LatestAttempt  *struct {
				Status string `json:"status"`
			} `json:"latestAttempt"`
		} `json:"scopeProcessing"`
	}
	if err := json.Unmarshal(r.body, &rep); err != nil {
		return out, &directory.Error{Op: "read the report of lifecycle policy " + name, Kind: directory.ErrUnavailable,
			RequestID: r.requestID, Message: "unreadable report", Err: err}
	}
	sp := rep.ScopeProcessing
	switch {
	case sp == nil || sp.LastSuccessful == nil:
		out.Unread = "its scope was never processed"
		return out, nil
	case sp.CurrentStatus != "idle":
		out.Unread = "its scope is being processed (" + sp.CurrentStatus + ")"
		return out, nil
	case sp.LatestAttempt == nil || sp.LatestAttempt.Status != "completed":
		st := "none"
		if sp.LatestAttempt != nil {
			st = sp.LatestAttempt.Status
		}
		out.Unread = "its latest scope processing is " + st + ", not completed"
		return out, nil
	case p.Version > 0 && rep.PolicyVersion < p.Version:
		out.Unread = fmt.Sprintf("the report is of version %d, the policy is at version %d", rep.PolicyVersion, p.Version)
		return out, nil
	}
	err = c.pages(ctx, call{path: base + "/subjects",
		query: [][2]string{{"$select", "subject,relationship,effectivePolicy"}, {"$top", subjectsPage}},
		op:    "read the subjects of lifecycle policy " + name, perm: permLifecyclePolicyRead},
		func(body []byte) error {
			out.Requests++
			var page struct {
				Next  string `json:"@odata.nextLink"`
				Value []struct {
					Subject *struct {
						ID string `json:"id"`
					} `json:"subject"`
					Relationship    string `json:"relationship"`
					EffectivePolicy *struct {
						ID string `json:"id"`
					} `json:"effectivePolicy"`
				} `json:"value"`
			}
			if err := json.Unmarshal(body, &page); err != nil {
				return err
			}
			for _, v := range page.Value {
				if v.Subject == nil || v.Subject.ID == "" {
					continue
				}
				s := directory.PolicySubject{UserID: strings.ToLower(v.Subject.ID), Relationship: v.Relationship}
				if v.EffectivePolicy != nil {
					s.EffectivePolicyID = v.EffectivePolicy.ID
				}
				out.Subjects = append(out.Subjects, s)
			}
			if page.Next != "" && out.Requests >= budget {
				return errBudget
			}
			return nil
		})
	if errors.Is(err, errBudget) {
		return directory.PolicyReport{Requests: out.Requests,
			Unread: fmt.Sprintf("its subjects take more than the sweep's %d requests for policy reports", budget)}, nil
	}
	if unread, err := c.reportError(err); unread != "" || err != nil {
		return directory.PolicyReport{Requests: out.Requests, Unread: unread}, err
	}
	return out, nil
}

// reportError sorts the error of a report read: 404 and 400 leave the
// policy unread (the reason returned), 403 gets its Fix, the rest stays
// an error.
func (c *Client) reportError(err error) (unread string, _ error) {
	var de *directory.Error
	switch {
	case err == nil:
		return "", nil
	case errors.As(err, &de) && de.Kind == directory.ErrNotFound:
		return fmt.Sprintf("no report yet (%d %s)", de.Status, de.Code), nil
	case errors.As(err, &de) && de.Kind == directory.ErrInvalid && de.Status == 400:
		return fmt.Sprintf("the service refused the query (%d %s: %s)", de.Status, de.Code, de.Message), nil
	case errors.As(err, &de) && de.Kind == directory.ErrForbidden:
		de.Fix = lcPolicyFix
	}
	return "", err
}
