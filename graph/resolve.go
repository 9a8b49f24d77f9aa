package graph

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/directory"
)

// Resolve fills a configured grant's ids from its Ref and checks that what
// it names exists and can be granted:
//
//	group           Ref: object id or display name (an ambiguous name is an error listing the ids)
//	app_role        Ref: the service principal's object id, appId or display name; Role: the app
//	                role's value, display name or id (empty: the default access role, when the
//	                app has no roles). Ref may also be "app/role" when Role is empty.
//	license         Ref: skuPartNumber or skuId; DisabledPlans may name service plans by name or
//	                id. A SKU without free seats resolves (FreeSeats counts them)
//	directory_role  Ref: display name or template/definition id; Scope defaults to "/"
//	azure_role      Ref: role name or id; Scope: the ARM scope (required)
//	address_book    nothing to resolve
//	mail_contact    nothing to resolve
func (c *Client) Resolve(ctx context.Context, g foyer.Grant) (foyer.Grant, error) {
	ref := strings.TrimSpace(g.Ref)
	op := "resolve " + string(g.Kind) + " " + ref
	if ref == "" && g.Kind != foyer.GrantMailContact && g.Kind != foyer.GrantAddressBook {
		return g, &directory.Error{Op: op, Kind: directory.ErrInvalid, Message: "nothing names it (ref is empty)"}
	}
	switch g.Kind {
	case foyer.GrantGroup:
		return c.resolveGroup(ctx, op, g, ref)
	case foyer.GrantAppRole:
		return c.resolveAppRole(ctx, op, g, ref)
	case foyer.GrantLicense:
		return c.resolveLicense(ctx, op, g, ref)
	case foyer.GrantDirectoryRole:
		return c.resolveDirectoryRole(ctx, op, g, ref)
	case foyer.GrantAzureRole:
		return c.resolveAzureRole(ctx, op, g, ref)
	case foyer.GrantMailContact:
		g.Name = "mail contact"
		return g, nil
	case foyer.GrantAddressBook:
		return g, nil
	}
	return g, &directory.Error{Op: op, Kind: directory.ErrInvalid, Message: fmt.Sprintf("unknown grant kind %q", g.Kind)}
}

type named struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
}

// one picks the single match, or explains none or several.
func one[T any](op, what, ref string, items []T, id func(T) string) (T, error) {
	var zero T
	switch len(items) {
	case 0:
		return zero, &directory.Error{Op: op, Kind: directory.ErrNotFound, Message: fmt.Sprintf("no %s named %q", what, ref)}
	case 1:
		return items[0], nil
	}
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = id(it)
	}
	return zero, &directory.Error{Op: op, Kind: directory.ErrInvalid,
		Message: fmt.Sprintf("%d %ss are named %q (ids %s): name one by id", len(items), what, ref, strings.Join(ids, ", "))}
}

func (c *Client) resolveGroup(ctx context.Context, op string, g foyer.Grant, ref string) (foyer.Grant, error) {
	var found named
	if isGUID(ref) {
		if _, err := c.getJSON(ctx, call{path: "/v1.0/groups/" + seg(ref), query: [][2]string{{"$select", "id,displayName"}},
			op: op, perm: permGroupRead}, &found); err != nil {
			return g, err
		}
	} else {
		var res struct{ Value []named }
		if _, err := c.getJSON(ctx, call{path: "/v1.0/groups", query: [][2]string{
			{"$filter", "displayName eq " + quote(ref)}, {"$select", "id,displayName"}},
			op: op, perm: permGroupRead}, &res); err != nil {
			return g, err
		}
		var err error
		if found, err = one(op, "group", ref, res.Value, func(n named) string { return n.ID }); err != nil {
			return g, err
		}
	}
	g.Target, g.Name = found.ID, found.DisplayName
	return g, nil
}

type servicePrincipal struct {
	ID          string `json:"id"`
	AppID       string `json:"appId"`
	DisplayName string `json:"displayName"`
	AppRoles    []struct {
		ID                 string   `json:"id"`
		Value              string   `json:"value"`
		DisplayName        string   `json:"displayName"`
		IsEnabled          bool     `json:"isEnabled"`
		AllowedMemberTypes []string `json:"allowedMemberTypes"`
	} `json:"appRoles"`
}

// defaultAccessRole is the app role id for "assigned, without a role"
// (serviceprincipal-post-approleassignedto.md).
const defaultAccessRole = "00000000-0000-0000-0000-000000000000"

func (c *Client) resolveAppRole(ctx context.Context, op string, g foyer.Grant, ref string) (foyer.Grant, error) {
	role := strings.TrimSpace(g.Role)
	if role == "" {
		if i := strings.LastIndexByte(ref, '/'); i > 0 {
			ref, role = ref[:i], ref[i+1:]
		}
	}
	const sel = "id,appId,displayName,appRoles"
	var sp servicePrincipal
	if isGUID(ref) {
		// An object id, or an appId.
		_, err := c.getJSON(ctx, call{path: "/v1.0/servicePrincipals/" + seg(ref), query: [][2]string{{"$select", sel}},
			op: op, perm: permAppRoleRead}, &sp)
		if e := errOf(err); e != nil && e.Status == http.StatusNotFound {
			_, err = c.getJSON(ctx, call{path: "/v1.0/servicePrincipals(appId=" + quote(ref) + ")", query: [][2]string{{"$select", sel}},
				op: op, perm: permAppRoleRead}, &sp)
		}
		if err != nil {
			return g, err
		}
	} else {
		var res struct{ Value []servicePrincipal }
		if _, err := c.getJSON(ctx, call{path: "/v1.0/servicePrincipals", query: [][2]string{
			{"$filter", "displayName eq " + quote(ref)}, {"$select", sel}}, op: op, perm: permAppRoleRead}, &res); err != nil {
			return g, err
		}
		var err error
		if sp, err = one(op, "service principal", ref, res.Value, func(s servicePrincipal) string { return s.ID }); err != nil {
			return g, err
		}
	}
	g.Target = sp.ID
	if role == "" {
		if len(sp.AppRoles) > 0 {
			values := make([]string, 0, len(sp.AppRoles))
			for _, r := range sp.AppRoles {
				values = append(values, r.Value)
			}
			return g, &directory.Error{Op: op, Kind: directory.ErrInvalid,
				Message: fmt.Sprintf("%s has app roles (%s): name one", sp.DisplayName, strings.Join(values, ", "))}
		}
		g.Role, g.Name = defaultAccessRole, sp.DisplayName
		return g, nil
	}
	for _, r := range sp.AppRoles {
		if strings.EqualFold(r.ID, role) || r.Value == role || strings.EqualFold(r.DisplayName, role) {
			if !r.IsEnabled {
				return g, &directory.Error{Op: op, Kind: directory.ErrInvalid, Message: fmt.Sprintf("app role %s of %s is disabled", role, sp.DisplayName)}
			}
			userOK := len(r.AllowedMemberTypes) == 0
			for _, t := range r.AllowedMemberTypes {
				userOK = userOK || strings.EqualFold(t, "User")
			}
			if !userOK {
				return g, &directory.Error{Op: op, Kind: directory.ErrInvalid, Message: fmt.Sprintf("app role %s of %s cannot be given to users", role, sp.DisplayName)}
			}
			g.Role, g.Name = r.ID, sp.DisplayName+"/"+r.Value
			return g, nil
		}
	}
	return g, &directory.Error{Op: op, Kind: directory.ErrNotFound, Message: fmt.Sprintf("%s has no app role %q", sp.DisplayName, role)}
}

type sku struct {
	SkuID         string `json:"skuId"`
	SkuPartNumber string `json:"skuPartNumber"`
	ConsumedUnits int    `json:"consumedUnits"`
	PrepaidUnits  struct {
		Enabled int `json:"enabled"`
	} `json:"prepaidUnits"`
	ServicePlans []struct {
		ServicePlanID   string `json:"servicePlanId"`
		ServicePlanName string `json:"servicePlanName"`
	} `json:"servicePlans"`
}

// resolveLicense finds the SKU (subscribedsku-list.md) by part number or
// id, and the service plans to leave off. It does not count seats: a
// profile whose seats ran out must still plan for the people who hold one
// (FreeSeats counts them, and the plan holds back who would need one).
func (c *Client) resolveLicense(ctx context.Context, op string, g foyer.Grant, ref string) (foyer.Grant, error) {
	skus, err := c.skus(ctx, op)
	if err != nil {
		return g, err
	}
	for _, s := range skus {
		if !strings.EqualFold(s.SkuID, ref) && !strings.EqualFold(s.SkuPartNumber, ref) {
			continue
		}
		var plans []string
		for _, want := range g.DisabledPlans {
			id := ""
			for _, p := range s.ServicePlans {
				if strings.EqualFold(p.ServicePlanID, want) || strings.EqualFold(p.ServicePlanName, want) {
					id = p.ServicePlanID
				}
			}
			if id == "" {
				return g, &directory.Error{Op: op, Kind: directory.ErrNotFound, Message: fmt.Sprintf("%s has no service plan %q", s.SkuPartNumber, want)}
			}
			plans = append(plans, id)
		}
		if u := g.UsageLocation; u != "" && (len(u) != 2 || strings.ToUpper(u) != u || strings.Trim(u, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "") {
			return g, &directory.Error{Op: op, Kind: directory.ErrInvalid, Message: fmt.Sprintf("usage location %q is not a two-letter ISO 3166 code such as US", u)}
		}
		g.Target, g.Name, g.DisabledPlans = s.SkuID, s.SkuPartNumber, plans
		return g, nil
	}
	return g, &directory.Error{Op: op, Kind: directory.ErrNotFound, Message: fmt.Sprintf("the tenant has no SKU %q", ref)}
}

type roleDefinition struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	TemplateID  string `json:"templateId"`
}

func (c *Client) resolveDirectoryRole(ctx context.Context, op string, g foyer.Grant, ref string) (foyer.Grant, error) {
	var rd roleDefinition
	if isGUID(ref) {
		if _, err := c.getJSON(ctx, call{path: "/v1.0/roleManagement/directory/roleDefinitions/" + seg(ref),
			op: op, perm: permRoleRead}, &rd); err != nil {
			return g, err
		}
	} else {
		var res struct{ Value []roleDefinition }
		if _, err := c.getJSON(ctx, call{path: "/v1.0/roleManagement/directory/roleDefinitions", query: [][2]string{
			{"$filter", "displayName eq " + quote(ref)}}, op: op, perm: permRoleRead}, &res); err != nil {
			return g, err
		}
		var err error
		if rd, err = one(op, "directory role", ref, res.Value, func(r roleDefinition) string { return r.ID }); err != nil {
			return g, err
		}
	}
	g.Target, g.Name = rd.ID, rd.DisplayName
	if g.Scope == "" {
		g.Scope = "/"
	}
	return g, nil
}

type armRoleDefinition struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Properties struct {
		RoleName string `json:"roleName"`
	} `json:"properties"`
}

// resolveAzureRole finds the role definition at the scope
// (RoleDefinitions_List / _Get, api-version 2022-04-01).
func (c *Client) resolveAzureRole(ctx context.Context, op string, g foyer.Grant, ref string) (foyer.Grant, error) {
	scope := strings.TrimSuffix(g.Scope, "/")
	if scope == "" {
		return g, &directory.Error{Op: op, Kind: directory.ErrInvalid, Message: "an Azure role needs a scope, e.g. /subscriptions/{id}/resourceGroups/{name}"}
	}
	if err := checkScope(op, scope); err != nil {
		return g, err
	}
	base := scope + "/providers/Microsoft.Authorization/roleDefinitions"
	var rd armRoleDefinition
	if isGUID(ref) {
		if _, err := c.getJSON(ctx, call{svc: svcARM, path: base + "/" + seg(ref),
			query: [][2]string{{"api-version", armAPIVersion}}, op: op, perm: permARMRoleRead}, &rd); err != nil {
			return g, err
		}
	} else {
		var res struct{ Value []armRoleDefinition }
		if _, err := c.getJSON(ctx, call{svc: svcARM, path: base, query: [][2]string{
			{"api-version", armAPIVersion}, {"$filter", "roleName eq " + quote(ref)}}, op: op, perm: permARMRoleRead}, &res); err != nil {
			return g, err
		}
		var err error
		if rd, err = one(op, "Azure role", ref, res.Value, func(r armRoleDefinition) string { return r.Name }); err != nil {
			return g, err
		}
	}
	g.Target, g.Name, g.Scope = rd.ID, rd.Properties.RoleName, scope
	return g, nil
}
