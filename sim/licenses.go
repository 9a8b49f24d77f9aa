package sim

import (
	"encoding/base64"
	"strings"
)

// sku is a subscribed SKU (GD api-reference/v1.0/resources/subscribedsku.md).
type sku struct {
	SkuID           string        `json:"skuId"`
	SkuPartNumber   string        `json:"skuPartNumber"`
	Enabled         int           `json:"enabled"`
	Suspended       int           `json:"suspended"`
	Warning         int           `json:"warning"`
	LockedOut       int           `json:"lockedOut"`
	ConsumedUnits   int           `json:"consumedUnits"`
	ServicePlans    []servicePlan `json:"servicePlans"`
	SubscriptionIDs []string      `json:"subscriptionIds"`
}

type servicePlan struct {
	ServicePlanID   string `json:"servicePlanId"`
	ServicePlanName string `json:"servicePlanName"`
}

func (t *tenant) sku(id string) *sku {
	for _, s := range t.skus {
		if strings.EqualFold(s.SkuID, id) {
			return s
		}
	}
	return nil
}

func (s *sku) plans(disabled []string) []object {
	out := []object{}
	for _, p := range s.ServicePlans {
		status := "Success"
		if containsFold(disabled, p.ServicePlanID) {
			status = "Disabled"
		}
		out = append(out, object{
			{"servicePlanId", p.ServicePlanID},
			{"servicePlanName", p.ServicePlanName},
			{"provisioningStatus", status},
			{"appliesTo", "User"},
		})
	}
	return out
}

func (t *tenant) renderSku(s *sku) object {
	return object{
		{"accountId", t.id},
		{"accountName", t.displayName},
		{"appliesTo", "User"},
		{"capabilityStatus", "Enabled"},
		{"consumedUnits", s.ConsumedUnits},
		{"id", t.id + "_" + s.SkuID},
		{"prepaidUnits", object{{"enabled", s.Enabled}, {"lockedOut", s.LockedOut}, {"suspended", s.Suspended}, {"warning", s.Warning}}},
		{"servicePlans", s.plans(nil)},
		{"skuId", s.SkuID},
		{"skuPartNumber", s.SkuPartNumber},
		{"subscriptionIds", stringsOrEmpty(s.SubscriptionIDs)},
	}
}

var skuFields = []string{"accountId", "accountName", "appliesTo", "capabilityStatus", "consumedUnits", "id", "prepaidUnits", "servicePlans", "skuId", "skuPartNumber", "subscriptionIds"}

// listSkus is GET /subscribedSkus (only $select is supported).
func listSkus(c *call) *reply {
	q, err := c.listQuery(listSpec{typ: "subscribedSku", fields: fieldsOf(skuFields), defaultTop: 999, maxTop: 999})
	if err != nil {
		return c.fail(err)
	}
	c.t.mu.RLock()
	defer c.t.mu.RUnlock()
	value := []object{}
	for _, s := range c.t.skus {
		value = append(value, selectMembers(c.t.renderSku(s), q.sel))
	}
	return replyOK(object{{"@odata.context", c.context("subscribedSkus", q.sel, false)}, {"value", value}})
}

// getSku is GET /subscribedSkus/{tenantId_skuId}.
func getSku(c *call) *reply {
	c.t.mu.RLock()
	defer c.t.mu.RUnlock()
	_, skuID, _ := strings.Cut(c.params["id"], "_")
	s := c.t.sku(skuID)
	if s == nil {
		return c.fail(errNotFound(c.params["id"]))
	}
	return replyOK(append(object{{"@odata.context", c.context("subscribedSkus", nil, true)}}, c.t.renderSku(s)...))
}

type assignLicenseBody struct {
	AddLicenses []struct {
		SkuID         string   `json:"skuId"`
		DisabledPlans []string `json:"disabledPlans"`
	} `json:"addLicenses"`
	RemoveLicenses []string `json:"removeLicenses"`
}

// assignLicense is POST /users/{id}/assignLicense (GD api/user-assignlicense.md):
// 200 with the user. The user needs a usageLocation first; an unknown SKU,
// a SKU without free seats, or removing a license the user lacks is
// refused with the directory's messages.
func assignLicense(c *call) *reply {
	var in assignLicenseBody
	if err := c.decode(&in); err != nil {
		return c.fail(err)
	}
	t := c.t
	t.mu.Lock()
	defer t.mu.Unlock()
	u, err := c.writableUser(c.params["id"])
	if err != nil {
		return c.fail(err)
	}
	next, err := t.licensesAfter(u, in)
	if err != nil {
		return c.fail(err)
	}
	for _, l := range u.Licenses {
		t.sku(l.SkuID).ConsumedUnits--
	}
	for _, l := range next {
		t.sku(l.SkuID).ConsumedUnits++
	}
	u.Licenses = next
	t.userChanged(u, "assignedLicenses")
	return replyOK(append(object{{"@odata.context", c.context("users", nil, true)}}, u.render(nil)...))
}

// licensesAfter validates an assignLicense body against u and the tenant's
// SKUs and returns the user's licenses after it.
func (t *tenant) licensesAfter(u *user, in assignLicenseBody) ([]assignedLicense, *apiError) {
	if len(in.AddLicenses) > 0 && u.UsageLocation == "" {
		// Verbatim (Okta KB and many repos; docs/graph-reference.md §4).
		return nil, errBadRequest("License assignment cannot be done for user with invalid usage location.")
	}
	next := append([]assignedLicense(nil), u.Licenses...)
	for _, id := range in.RemoveLicenses {
		if t.sku(id) == nil {
			return nil, errBadRequest("License %s does not correspond to a valid company License.", id)
		}
		i := licenseIndex(next, id)
		if i < 0 {
			return nil, errBadRequest("User does not have a corresponding license.") // [unverified]
		}
		next = append(next[:i], next[i+1:]...)
	}
	for _, add := range in.AddLicenses {
		s := t.sku(add.SkuID)
		if s == nil {
			return nil, errBadRequest("License %s does not correspond to a valid company License.", add.SkuID)
		}
		for _, p := range add.DisabledPlans {
			if !s.hasPlan(p) {
				return nil, errBadRequest("Invalid value specified for property 'disabledPlans' of resource 'User'.") // [unverified]
			}
		}
		l := assignedLicense{SkuID: strings.ToLower(s.SkuID), DisabledPlans: add.DisabledPlans}
		if i := licenseIndex(next, s.SkuID); i >= 0 {
			next[i] = l
			continue
		}
		if licenseIndex(u.Licenses, s.SkuID) < 0 && s.Enabled-s.ConsumedUnits <= 0 {
			return nil, errBadRequest("Subscription with SKU %s does not have any available licenses.", s.SkuID)
		}
		next = append(next, l)
	}
	return next, nil
}

func (s *sku) hasPlan(id string) bool {
	for _, p := range s.ServicePlans {
		if strings.EqualFold(p.ServicePlanID, id) {
			return true
		}
	}
	return false
}

func licenseIndex(ls []assignedLicense, skuID string) int {
	for i, l := range ls {
		if strings.EqualFold(l.SkuID, skuID) {
			return i
		}
	}
	return -1
}

// listLicenseDetails is GET /users/{id}/licenseDetails
// (GD api/user-list-licensedetails.md).
func listLicenseDetails(c *call) *reply {
	t := c.t
	t.mu.RLock()
	defer t.mu.RUnlock()
	u, ok := t.userByKey(c.params["id"])
	if !ok {
		return c.fail(errNotFound(c.params["id"]))
	}
	value := []object{}
	for _, l := range u.Licenses {
		s := t.sku(l.SkuID)
		if s == nil {
			continue
		}
		value = append(value, object{
			{"id", base64.RawURLEncoding.EncodeToString([]byte(u.id + "_" + s.SkuID))},
			{"skuId", s.SkuID},
			{"skuPartNumber", s.SkuPartNumber},
			{"servicePlans", s.plans(l.DisabledPlans)},
		})
	}
	return replyOK(object{{"@odata.context", c.base + c.version() + "/$metadata#users('" + u.id + "')/licenseDetails"}, {"value", value}})
}
