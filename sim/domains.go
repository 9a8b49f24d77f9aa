package sim

import "strings"

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

// listOrganization is GET /organization (GD api/organization-get.md).
func listOrganization(c *call) *reply {
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
	return replyOK(object{{"@odata.context", c.context("organization", nil, false)}, {"value", []object{org}}})
}
