package graph

import (
	"context"
	"strings"
	"time"
)

// domain is Graph's domain resource, the fields foyer reads
// (microsoft-graph-docs-contrib api-reference/v1.0/resources/domain.md).
type domain struct {
	ID         string `json:"id"`
	IsVerified bool   `json:"isVerified"`
	IsDefault  bool   `json:"isDefault"`
	IsInitial  bool   `json:"isInitial"`
}

// domainsTTL is how long the verified domains are cached: they change
// rarely, and every invitation refused with 400 consults them.
const domainsTTL = 10 * time.Minute

// Domains returns the tenant's verified domains, lowercased.
func (c *Client) Domains(ctx context.Context) ([]string, error) {
	ds, err := c.readDomains(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, d := range ds {
		if d.IsVerified {
			out = append(out, strings.ToLower(d.ID))
		}
	}
	return out, nil
}

func (c *Client) readDomains(ctx context.Context) ([]domain, error) {
	c.mu.Lock()
	if c.domains != nil && c.o.Clock.Now().Sub(c.domainAt) < domainsTTL {
		ds := c.domains
		c.mu.Unlock()
		return ds, nil
	}
	c.mu.Unlock()
	var res struct {
		Value []domain `json:"value"`
	}
	if _, err := c.getJSON(ctx, call{path: "/v1.0/domains", op: "read the tenant's domains", perm: permDomainRead}, &res); err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.domains, c.domainAt = res.Value, c.o.Clock.Now()
	c.mu.Unlock()
	return res.Value, nil
}

// initialDomain returns the tenant's initial (onmicrosoft) domain.
func (c *Client) initialDomain(ctx context.Context) (string, error) {
	ds, err := c.readDomains(ctx)
	if err != nil {
		return "", err
	}
	for _, d := range ds {
		if d.IsInitial {
			return strings.ToLower(d.ID), nil
		}
	}
	for _, d := range ds {
		if strings.HasSuffix(strings.ToLower(d.ID), ".onmicrosoft.com") {
			return strings.ToLower(d.ID), nil
		}
	}
	return "", nil
}
