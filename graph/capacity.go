package graph

import (
	"context"
	"fmt"
	"strings"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/directory"
)

// permOrgRead is the least privileged permission for reading the
// organization resource (organization-get.md).
const permOrgRead = "Organization.Read.All"

// Quota reads the tenant's directory object quota: directorySizeQuota
// {used, total} of the organization resource, which only Graph beta has
// (microsoft-graph-docs-contrib api-reference/beta/resources/
// directorysizequota.md; v1.0's organization lacks the property). A tenant
// that does not report it gives a Quota with Total 0.
func (c *Client) Quota(ctx context.Context) (directory.Quota, error) {
	var res struct {
		Value []struct {
			DirectorySizeQuota *struct {
				Used  int `json:"used"`
				Total int `json:"total"`
			} `json:"directorySizeQuota"`
		} `json:"value"`
	}
	if _, err := c.getJSON(ctx, call{path: "/beta/organization", query: [][2]string{{"$select", "directorySizeQuota"}},
		op: "read the tenant's object quota", perm: permOrgRead}, &res); err != nil {
		return directory.Quota{}, err
	}
	if len(res.Value) == 0 || res.Value[0].DirectorySizeQuota == nil {
		return directory.Quota{}, nil
	}
	q := res.Value[0].DirectorySizeQuota
	return directory.Quota{Used: max(q.Used, 0), Total: max(q.Total, 0)}, nil
}

// FreeSeats reads a license's free seats from GET /subscribedSkus
// (subscribedsku.md): prepaidUnits.enabled − consumedUnits.
func (c *Client) FreeSeats(ctx context.Context, g foyer.Grant) (int, error) {
	op := "count the free seats of " + g.String()
	if g.Kind != foyer.GrantLicense || !isGUID(g.Target) {
		return 0, &directory.Error{Op: op, Kind: directory.ErrInvalid, Message: "not a resolved license"}
	}
	skus, err := c.skus(ctx, op)
	if err != nil {
		return 0, err
	}
	for _, s := range skus {
		if strings.EqualFold(s.SkuID, g.Target) {
			return s.PrepaidUnits.Enabled - s.ConsumedUnits, nil
		}
	}
	return 0, &directory.Error{Op: op, Kind: directory.ErrNotFound, Message: fmt.Sprintf("the tenant has no SKU %s", g.Target)}
}

// skus reads the tenant's subscribed SKUs (one read; the list is short).
func (c *Client) skus(ctx context.Context, op string) ([]sku, error) {
	var res struct{ Value []sku }
	if _, err := c.getJSON(ctx, call{path: "/v1.0/subscribedSkus", op: op, perm: permLicenseRead}, &res); err != nil {
		return nil, err
	}
	return res.Value, nil
}
