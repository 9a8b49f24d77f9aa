package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/directory"
)

// How a resolved foyer.Grant names things, per kind (Resolve fills these):
//
//	group           Target = group object id
//	app_role        Target = resource service principal object id, Role = app role id
//	license         Target = skuId, UsageLocation, DisabledPlans = service plan ids
//	directory_role  Target = role definition id, Scope = directory scope ("/" if empty)
//	azure_role      Target = role definition resource id, Scope = ARM scope
//	address_book    nothing: the guest's own mail user (exchange.go)
//	mail_contact    nothing: the contact is the grantee's address; only revoked

// Grant gives a resolved grant to a person. Already held is success; a
// write that references a guest invited moments ago waits for replication,
// bounded by Pacing.ReplicationWait and ctx.
func (c *Client) Grant(ctx context.Context, to directory.Grantee, g foyer.Grant) ([]string, error) {
	ctx, log := withRequestLog(ctx)
	err := c.grant(ctx, to, g)
	return log.ids(), err
}

func (c *Client) grant(ctx context.Context, to directory.Grantee, g foyer.Grant) error {
	if err := checkGrant("grant", g); err != nil {
		return err
	}
	if g.Kind == foyer.GrantMailContact {
		return c.grantMailContact(to)
	}
	if to.UserID == "" {
		return &directory.Error{Op: "grant " + g.String(), Kind: directory.ErrInvalid, Message: "the grantee has no user id"}
	}
	switch g.Kind {
	case foyer.GrantGroup:
		return c.grantGroup(ctx, to, groupRef{g.Target})
	case foyer.GrantAppRole:
		return c.grantAppRole(ctx, to, g)
	case foyer.GrantLicense:
		return c.grantLicense(ctx, to, g)
	case foyer.GrantDirectoryRole:
		return c.grantDirectoryRole(ctx, to, g)
	case foyer.GrantAzureRole:
		return c.grantAzureRole(ctx, to, g)
	default: // address book (checkGrant refused unknown kinds)
		return c.grantAddressBook(ctx, to)
	}
}

// Revoke takes a resolved grant back. Not held is success.
func (c *Client) Revoke(ctx context.Context, from directory.Grantee, g foyer.Grant) ([]string, error) {
	ctx, log := withRequestLog(ctx)
	err := c.revoke(ctx, from, g)
	return log.ids(), err
}

func (c *Client) revoke(ctx context.Context, from directory.Grantee, g foyer.Grant) error {
	if err := checkGrant("revoke", g); err != nil {
		return err
	}
	if from.UserID == "" && g.Kind != foyer.GrantMailContact {
		return &directory.Error{Op: "revoke " + g.String(), Kind: directory.ErrInvalid, Message: "the grantee has no user id"}
	}
	switch g.Kind {
	case foyer.GrantGroup:
		return c.revokeGroup(ctx, from, g.Target)
	case foyer.GrantAppRole:
		return c.revokeAppRole(ctx, from, g)
	case foyer.GrantLicense:
		return c.revokeLicense(ctx, from, g)
	case foyer.GrantDirectoryRole:
		return c.revokeDirectoryRole(ctx, from, g)
	case foyer.GrantAzureRole:
		return c.revokeAzureRole(ctx, from, g)
	case foyer.GrantAddressBook:
		return c.revokeAddressBook(ctx, from)
	default:
		return c.revokeMailContact(ctx, from)
	}
}

// Holders returns who holds a resolved grant, reading once per grant (paged).
func (c *Client) Holders(ctx context.Context, g foyer.Grant) (map[string]bool, error) {
	if err := checkGrant("list holders of", g); err != nil {
		return nil, err
	}
	switch g.Kind {
	case foyer.GrantGroup:
		return c.ids(ctx, call{path: "/v1.0/groups/" + seg(g.Target) + "/members",
			query: [][2]string{{"$select", "id"}, {"$top", "999"}},
			op:    "list members of group " + g.Target, perm: permGroupRead}, "id", nil)
	case foyer.GrantAppRole:
		return c.ids(ctx, call{path: "/v1.0/servicePrincipals/" + seg(g.Target) + "/appRoleAssignedTo",
			query: [][2]string{{"$top", "999"}},
			op:    "list holders of " + g.String(), perm: permAppRoleRead}, "principalId",
			func(m map[string]any) bool {
				return strings.EqualFold(str(m["appRoleId"]), g.Role) && strings.EqualFold(str(m["principalType"]), "User")
			})
	case foyer.GrantLicense:
		return c.ids(ctx, call{path: "/v1.0/users",
			query: [][2]string{{"$filter", "assignedLicenses/any(x:x/skuId eq " + g.Target + ")"}, {"$select", "id"}, {"$top", "999"}},
			op:    "list holders of " + g.String(), perm: permUserRead}, "id", nil)
	case foyer.GrantDirectoryRole:
		scope := dirScope(g)
		return c.ids(ctx, call{path: "/v1.0/roleManagement/directory/roleAssignments",
			query: [][2]string{{"$filter", "roleDefinitionId eq " + quote(g.Target)}},
			op:    "list holders of " + g.String(), perm: permRoleRead}, "principalId",
			func(m map[string]any) bool { return str(m["directoryScopeId"]) == scope })
	case foyer.GrantAzureRole:
		return c.azureRoleHolders(ctx, g)
	case foyer.GrantAddressBook:
		return c.addressBookHolders(ctx)
	default:
		return c.mailContacts(ctx)
	}
}

// checkGrant refuses an unresolved grant or an unknown kind before any call.
func checkGrant(verb string, g foyer.Grant) error {
	op := verb + " " + g.String()
	switch g.Kind {
	case foyer.GrantGroup, foyer.GrantAppRole, foyer.GrantLicense, foyer.GrantDirectoryRole,
		foyer.GrantAzureRole, foyer.GrantAddressBook, foyer.GrantMailContact:
	default:
		return &directory.Error{Op: op, Kind: directory.ErrInvalid, Message: fmt.Sprintf("unknown grant kind %q", g.Kind)}
	}
	if !g.Resolved() {
		return &directory.Error{Op: op, Kind: directory.ErrInvalid, Message: "the grant is not resolved (call Resolve first)"}
	}
	if (g.Kind == foyer.GrantLicense || g.Kind == foyer.GrantAppRole) && !isGUID(g.Target) {
		return &directory.Error{Op: op, Kind: directory.ErrInvalid, Message: fmt.Sprintf("target %q is not an id", g.Target)}
	}
	return nil
}

// ids reads every page of a collection and returns the lowercased values of
// field of the items keep accepts (all if keep is nil).
func (c *Client) ids(ctx context.Context, k call, field string, keep func(map[string]any) bool) (map[string]bool, error) {
	out := map[string]bool{}
	err := c.pages(ctx, k, func(body []byte) error {
		var page struct {
			Value []map[string]any `json:"value"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			return err
		}
		for _, m := range page.Value {
			if keep == nil || keep(m) {
				if v := str(m[field]); v != "" {
					out[strings.ToLower(v)] = true
				}
			}
		}
		return nil
	})
	return out, err
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// --- app roles (serviceprincipal-post-approleassignedto.md) ---

func (c *Client) grantAppRole(ctx context.Context, to directory.Grantee, g foyer.Grant) error {
	op := fmt.Sprintf("assign %s to %s", g, to.UserID)
	return c.replicated(ctx, func() error {
		_, err := c.send(ctx, call{method: http.MethodPost, path: "/v1.0/servicePrincipals/" + seg(g.Target) + "/appRoleAssignedTo",
			body: map[string]string{"principalId": to.UserID, "resourceId": g.Target, "appRoleId": g.Role},
			op:   op, perm: permAppRoleWrite, kind: kindWrite})
		if isDuplicate(err) { // "Permission being assigned already exists on the object."
			return nil
		}
		return err
	}, func(err error) bool { return notReplicated(err, to.UserID) })
}

func (c *Client) revokeAppRole(ctx context.Context, from directory.Grantee, g foyer.Grant) error {
	op := fmt.Sprintf("remove %s from %s", g, from.UserID)
	var res struct {
		Value []struct {
			ID         string `json:"id"`
			AppRoleID  string `json:"appRoleId"`
			ResourceID string `json:"resourceId"`
		} `json:"value"`
	}
	if _, err := c.getJSON(ctx, call{path: "/v1.0/users/" + seg(from.UserID) + "/appRoleAssignments",
		op: op, perm: permAppRoleRead}, &res); err != nil {
		if notHeld(err) {
			return nil
		}
		return err
	}
	for _, a := range res.Value {
		if !strings.EqualFold(a.ResourceID, g.Target) || !strings.EqualFold(a.AppRoleID, g.Role) {
			continue
		}
		_, err := c.send(ctx, call{method: http.MethodDelete,
			path: "/v1.0/servicePrincipals/" + seg(g.Target) + "/appRoleAssignedTo/" + seg(a.ID),
			op:   op, perm: permAppRoleWrite, kind: kindWrite})
		if err != nil && !notHeld(err) {
			return err
		}
	}
	return nil
}

// --- licenses (user-assignlicense.md) ---

func (c *Client) grantLicense(ctx context.Context, to directory.Grantee, g foyer.Grant) error {
	op := fmt.Sprintf("assign %s to %s", g, to.UserID)
	setLocation := false
	if g.UsageLocation != "" {
		// A license needs a usage location; set it only where there is none.
		err := c.replicated(ctx, func() error {
			var u user
			if _, err := c.getJSON(ctx, call{path: "/v1.0/users/" + seg(to.UserID), query: [][2]string{{"$select", "id,usageLocation"}},
				op: op + ": read usage location", perm: permUserRead}, &u); err != nil || u.UsageLocation != "" {
				return err
			}
			_, err := c.send(ctx, call{method: http.MethodPatch, path: "/v1.0/users/" + seg(to.UserID),
				body: map[string]string{"usageLocation": g.UsageLocation}, op: op + ": set usage location " + g.UsageLocation,
				perm: permUserWrite, kind: kindWrite})
			setLocation = err == nil
			return err
		}, func(err error) bool { return notReplicated(err, to.UserID) })
		if err != nil {
			return err
		}
	}
	plans := g.DisabledPlans
	if plans == nil {
		plans = []string{}
	}
	return c.replicated(ctx, func() error {
		_, err := c.send(ctx, call{method: http.MethodPost, path: "/v1.0/users/" + seg(to.UserID) + "/assignLicense",
			body: map[string]any{"addLicenses": []map[string]any{{"skuId": g.Target, "disabledPlans": plans}}, "removeLicenses": []string{}},
			op:   op, perm: permLicenseWrite, kind: kindWrite})
		if e := errOf(err); e != nil && e.Status == http.StatusBadRequest && noSeats(e.Message) {
			e.Kind = directory.ErrNoSeats
		}
		return err
	}, func(err error) bool {
		// "License assignment cannot be done for user with invalid usage
		// location." right after setting it is replication (graph
		// reference §4); without having set it, it is final.
		e := errOf(err)
		return notReplicated(err, to.UserID) || setLocation && e != nil && e.Status == http.StatusBadRequest &&
			strings.Contains(strings.ToLower(e.Message), "usage location")
	})
}

// noSeats recognises assignLicense's "Subscription with SKU … does not have
// any available licenses." (observed wording; Graph has no distinct code).
func noSeats(msg string) bool {
	return strings.Contains(strings.ToLower(msg), "available licenses")
}

func (c *Client) revokeLicense(ctx context.Context, from directory.Grantee, g foyer.Grant) error {
	_, err := c.send(ctx, call{method: http.MethodPost, path: "/v1.0/users/" + seg(from.UserID) + "/assignLicense",
		body: map[string]any{"addLicenses": []string{}, "removeLicenses": []string{g.Target}},
		op:   fmt.Sprintf("remove %s from %s", g, from.UserID), perm: permLicenseWrite, kind: kindWrite})
	// "User does not have a corresponding license." means done.
	if e := errOf(err); e != nil && (e.Status == http.StatusNotFound ||
		e.Status == http.StatusBadRequest && strings.Contains(strings.ToLower(e.Message), "does not have")) {
		return nil
	}
	return err
}

// --- directory roles (rbacapplication-post-roleassignments.md) ---

func dirScope(g foyer.Grant) string {
	if g.Scope == "" {
		return "/"
	}
	return g.Scope
}

func (c *Client) grantDirectoryRole(ctx context.Context, to directory.Grantee, g foyer.Grant) error {
	op := fmt.Sprintf("assign %s to %s", g, to.UserID)
	return c.replicated(ctx, func() error {
		_, err := c.send(ctx, call{method: http.MethodPost, path: "/v1.0/roleManagement/directory/roleAssignments",
			body: map[string]string{"@odata.type": "#microsoft.graph.unifiedRoleAssignment",
				"roleDefinitionId": g.Target, "principalId": to.UserID, "directoryScopeId": dirScope(g)},
			op: op, perm: permRoleWrite, kind: kindWrite})
		if isDuplicate(err) {
			return nil
		}
		return err
	}, func(err error) bool { return notReplicated(err, to.UserID) })
}

func (c *Client) revokeDirectoryRole(ctx context.Context, from directory.Grantee, g foyer.Grant) error {
	op := fmt.Sprintf("remove %s from %s", g, from.UserID)
	var res struct {
		Value []struct {
			ID               string `json:"id"`
			DirectoryScopeID string `json:"directoryScopeId"`
		} `json:"value"`
	}
	if _, err := c.getJSON(ctx, call{path: "/v1.0/roleManagement/directory/roleAssignments",
		query: [][2]string{{"$filter", "principalId eq " + quote(from.UserID) + " and roleDefinitionId eq " + quote(g.Target)}},
		op:    op, perm: permRoleRead}, &res); err != nil {
		return err
	}
	for _, a := range res.Value {
		if a.DirectoryScopeID != dirScope(g) {
			continue
		}
		_, err := c.send(ctx, call{method: http.MethodDelete, path: "/v1.0/roleManagement/directory/roleAssignments/" + seg(a.ID),
			op: op, perm: permRoleWrite, kind: kindWrite})
		if err != nil && !notHeld(err) {
			return err
		}
	}
	return nil
}
