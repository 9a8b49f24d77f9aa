package sim

import (
	"slices"
	"strings"
)

// domain is a domain of the tenant (GD api-reference/v1.0/resources/domain.md).
type domain struct {
	ID                string   `json:"id"`
	IsDefault         bool     `json:"isDefault"`
	IsInitial         bool     `json:"isInitial"`
	IsVerified        bool     `json:"isVerified"`
	SupportedServices []string `json:"supportedServices"`
}

func (d *domain) render() object {
	return object{
		{"authenticationType", "Managed"},
		{"availabilityStatus", nil},
		{"id", d.ID},
		{"isAdminManaged", true},
		{"isDefault", d.IsDefault},
		{"isInitial", d.IsInitial},
		{"isRoot", true},
		{"isVerified", d.IsVerified},
		{"supportedServices", stringsOrEmpty(d.SupportedServices)},
		{"passwordValidityPeriodInDays", nil},
		{"passwordNotificationWindowInDays", nil},
		{"state", nil},
	}
}

var domainFields = []string{"authenticationType", "availabilityStatus", "id", "isAdminManaged", "isDefault", "isInitial", "isRoot", "isVerified", "supportedServices", "passwordValidityPeriodInDays", "passwordNotificationWindowInDays", "state"}

// listDomains is GET /domains (GD api/domain-list.md).
func listDomains(c *call) *reply {
	q, err := c.listQuery(listSpec{typ: "domain", fields: fieldsOf(domainFields), defaultTop: 999, maxTop: 999})
	if err != nil {
		return c.fail(err)
	}
	c.t.mu.RLock()
	defer c.t.mu.RUnlock()
	value := []object{}
	for _, d := range c.t.domains {
		value = append(value, selectMembers(d.render(), q.sel))
	}
	return replyOK(object{{"@odata.context", c.context("domains", q.sel, false)}, {"value", value}})
}

// getDomain is GET /domains/{id}.
func getDomain(c *call) *reply {
	c.t.mu.RLock()
	defer c.t.mu.RUnlock()
	for _, d := range c.t.domains {
		if strings.EqualFold(d.ID, c.params["id"]) {
			return replyOK(append(object{{"@odata.context", c.context("domains", nil, true)}}, d.render()...))
		}
	}
	return c.fail(errNotFound(c.params["id"]))
}

var orgFields = []string{"id", "deletedDateTime", "businessPhones", "city", "country", "countryLetterCode", "createdDateTime", "displayName", "onPremisesSyncEnabled", "preferredLanguage", "tenantType", "verifiedDomains"}

// listOrganization is GET /organization (GD api/organization-get.md), with
// $select, the only option it supports. Beta adds directorySizeQuota
// (quota.go), which v1.0 does not know.
func listOrganization(c *call) *reply {
	fields := orgFields
	if c.prefix == "/beta" {
		fields = append(slices.Clip(orgFields), "directorySizeQuota")
	}
	q, err := c.listQuery(listSpec{typ: "organization", fields: fieldsOf(fields), defaultTop: 999, maxTop: 999})
	if err != nil {
		return c.fail(err)
	}
	t := c.t
	t.mu.RLock()
	defer t.mu.RUnlock()
	verified := []object{}
	for _, d := range t.domains {
		if d.IsVerified {
			verified = append(verified, object{
				{"capabilities", "Email, OfficeCommunicationsOnline"},
				{"isDefault", d.IsDefault},
				{"isInitial", d.IsInitial},
				{"name", d.ID},
				{"type", "Managed"},
			})
		}
	}
	org := object{
		{"id", t.id},
		{"deletedDateTime", nil},
		{"businessPhones", []string{}},
		{"city", nil},
		{"country", nil},
		{"countryLetterCode", "US"},
		{"createdDateTime", graphTime(t.createdAt())},
		{"displayName", t.displayName},
		{"onPremisesSyncEnabled", nil},
		{"preferredLanguage", "en"},
		{"tenantType", "AAD"},
		{"verifiedDomains", verified},
	}
	if c.prefix == "/beta" {
		used, total := c.s.quota(t)
		org = append(org, member{"directorySizeQuota", object{{"used", used}, {"total", total}}})
	}
	return replyOK(object{{"@odata.context", c.context("organization", q.sel, false)}, {"value", []object{selectMembers(org, q.sel)}}})
}
