package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/uuid"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/directory"
)

// armAPIVersion is the Microsoft.Authorization api-version foyer speaks
// (azure-rest-api-specs specification/authorization/resource-manager/
// Microsoft.Authorization/stable/2022-04-01).
const armAPIVersion = "2022-04-01"

// assignmentNamespace seeds the deterministic role assignment names.
var assignmentNamespace = uuid.MustParse("3b0a1c1e-6f1d-4f57-9a53-6f6f79657200")

// assignmentName is the role assignment's name: a UUIDv5 of scope, role and
// principal, so that a retried PUT addresses the same assignment and is
// idempotent.
func assignmentName(scope, roleDefinitionID, principalID string) string {
	key := strings.ToLower(strings.TrimSuffix(scope, "/") + "|" + lastSegment(roleDefinitionID) + "|" + principalID)
	return uuid.NewSHA1(assignmentNamespace, []byte(key)).String()
}

func lastSegment(id string) string {
	id = strings.TrimSuffix(id, "/")
	return strings.ToLower(id[strings.LastIndexByte(id, '/')+1:])
}

// checkScope refuses an ARM scope that is not a plain path.
func checkScope(op, scope string) error {
	if !strings.HasPrefix(scope, "/") || strings.ContainsAny(scope, "?#% ") || strings.Contains(scope, "//") {
		return &directory.Error{Op: op, Kind: directory.ErrInvalid, Message: fmt.Sprintf("scope %q is not an ARM scope such as /subscriptions/{id}/resourceGroups/{name}", scope)}
	}
	return nil
}

type armAssignment struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Properties struct {
		RoleDefinitionID string `json:"roleDefinitionId"`
		PrincipalID      string `json:"principalId"`
		PrincipalType    string `json:"principalType"`
		Scope            string `json:"scope"`
	} `json:"properties"`
}

// grantAzureRole PUTs the assignment (role-assignments-rest.md):
// principalType User avoids the replication failure for new principals, 409
// RoleAssignmentExists is success, 400 PrincipalNotFound waits for
// replication.
func (c *Client) grantAzureRole(ctx context.Context, to directory.Grantee, g foyer.Grant) error {
	op := fmt.Sprintf("assign %s to %s", g, to.UserID)
	scope := strings.TrimSuffix(g.Scope, "/")
	if err := checkScope(op, scope); err != nil {
		return err
	}
	path := scope + "/providers/Microsoft.Authorization/roleAssignments/" + assignmentName(scope, g.Target, to.UserID)
	return c.replicated(ctx, func() error {
		_, err := c.send(ctx, call{svc: svcARM, method: http.MethodPut, path: path,
			query: [][2]string{{"api-version", armAPIVersion}},
			body: map[string]any{"properties": map[string]string{
				"roleDefinitionId": g.Target, "principalId": to.UserID, "principalType": "User"}},
			op: op, perm: permARMRoleWrite, kind: kindWrite})
		if isDuplicate(err) {
			return nil
		}
		return err
	}, func(err error) bool { return notReplicated(err, to.UserID) })
}

// armAssignments lists role assignments at scope (and, as ARM does, above
// and below it), optionally for one principal.
func (c *Client) armAssignments(ctx context.Context, op, scope, principal string) ([]armAssignment, error) {
	q := [][2]string{{"api-version", armAPIVersion}}
	if principal != "" {
		q = append(q, [2]string{"$filter", "principalId eq " + quote(principal)})
	}
	var out []armAssignment
	err := c.pages(ctx, call{svc: svcARM, path: scope + "/providers/Microsoft.Authorization/roleAssignments",
		query: q, op: op, perm: permARMRoleRead}, func(body []byte) error {
		var page struct {
			Value []armAssignment `json:"value"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			return err
		}
		out = append(out, page.Value...)
		return nil
	})
	return out, err
}

// sameAssignment reports whether a is role at exactly scope.
func sameAssignment(a armAssignment, role, scope string) bool {
	s := a.Properties.Scope
	if s == "" { // older answers: the scope is the id's prefix
		s = a.ID[:max(strings.Index(strings.ToLower(a.ID), "/providers/microsoft.authorization/roleassignments/"), 0)]
	}
	return lastSegment(a.Properties.RoleDefinitionID) == lastSegment(role) &&
		strings.EqualFold(strings.TrimSuffix(s, "/"), scope)
}

func (c *Client) azureRoleHolders(ctx context.Context, g foyer.Grant) (map[string]bool, error) {
	op := "list holders of " + g.String()
	scope := strings.TrimSuffix(g.Scope, "/")
	if err := checkScope(op, scope); err != nil {
		return nil, err
	}
	as, err := c.armAssignments(ctx, op, scope, "")
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, a := range as {
		if sameAssignment(a, g.Target, scope) && strings.EqualFold(a.Properties.PrincipalType, "User") {
			out[strings.ToLower(a.Properties.PrincipalID)] = true
		}
	}
	return out, nil
}

// revokeAzureRole deletes every assignment of the role at the scope to the
// person, whatever its name (it may have been made by hand).
func (c *Client) revokeAzureRole(ctx context.Context, from directory.Grantee, g foyer.Grant) error {
	op := fmt.Sprintf("remove %s from %s", g, from.UserID)
	scope := strings.TrimSuffix(g.Scope, "/")
	if err := checkScope(op, scope); err != nil {
		return err
	}
	as, err := c.armAssignments(ctx, op, scope, from.UserID)
	if err != nil {
		return err
	}
	for _, a := range as {
		if !sameAssignment(a, g.Target, scope) || !strings.EqualFold(a.Properties.PrincipalID, from.UserID) {
			continue
		}
		_, err := c.send(ctx, call{svc: svcARM, method: http.MethodDelete, path: a.ID,
			query: [][2]string{{"api-version", armAPIVersion}}, op: op, perm: permARMRoleDelete, kind: kindWrite})
		if err != nil && !notHeld(err) {
			return err
		}
	}
	return nil
}
