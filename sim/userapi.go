package sim

import (
	"encoding/json"
	"strconv"
	"strings"
)

var userList = listSpec{
	typ:    "user",
	filter: userFilter,
	fields: func(lower string) (string, bool) {
		if isExtensionName(lower) {
			return lower, true
		}
		f, ok := userFields[lower]
		return f.name, ok
	},
	defaultTop: 100,
	maxTop:     999,
}

// listUsers is GET /users (GD api-reference/v1.0/api/user-list.md).
func listUsers(c *call) *reply {
	q, err := c.listQuery(userList)
	if err != nil {
		return c.fail(err)
	}
	if q.signIn && !c.has(permSignInReport) {
		return c.fail(errForbidden())
	}
	if q.signIn && c.s.noPremium.Load() {
		return c.fail(errNoPremium())
	}
	t := c.t
	t.mu.RLock()
	defer t.mu.RUnlock()
	keep := func(u *user) bool { return c.listable(&u.objMeta) && matches(q.filter, u) }
	src := t.users.list
	if cands, ok := t.userCandidates(q.filter); ok {
		src = bySeq(cands)
	}
	items, last, more := page(src, q, keep)
	value := make([]object, len(items))
	for i, u := range items {
		value[i] = u.render(q.sel)
	}
	return replyOK(c.collection("users", q, value, func() int { return count(src, keep) }, more, last))
}

// collection writes a page of a collection with its annotations.
func (c *call) collection(entitySet string, q *listQuery, value any, total func() int, more bool, last int64) object {
	body := object{{"@odata.context", c.context(entitySet, q.sel, false)}}
	if q.count && q.after == 0 {
		body = append(body, member{"@odata.count", total()})
	}
	if more {
		body = append(body, member{"@odata.nextLink", nextLink(c.base, c.path, c.query, encodeSkipToken(last, c.t.generation.Load()))})
	}
	return append(body, member{"value", value})
}

// countUsers is GET /users/$count: text/plain, advanced queries only
// (GD concepts/aad-advanced-queries.md).
func countUsers(c *call) *reply {
	if !eventual(c.header) {
		return c.fail(errBadRequest("$count is not currently supported."))
	}
	var filter node
	if v, ok := option(c.query, "filter"); ok && strings.TrimSpace(v) != "" {
		n, err := parseFilter(v)
		if err != nil {
			return c.fail(errOData("Invalid filter clause: %s", err.Error()))
		}
		if e := userFilter.check(n, true); e != nil {
			return c.fail(e)
		}
		filter = n
	}
	c.t.mu.RLock()
	n := count(c.t.users.list, func(u *user) bool { return c.listable(&u.objMeta) && matches(filter, u) })
	c.t.mu.RUnlock()
	return replyText(200, strconv.Itoa(n))
}

// getUser is GET /users/{id | userPrincipalName}. A user created moments
// ago is readable by id at once: the sim models replication delay only for
// list queries and for writes that reference the object (replication.go).
func getUser(c *call) *reply {
	q, err := c.listQuery(userList)
	if err != nil {
		return c.fail(err)
	}
	if q.signIn && !c.has(permSignInReport) {
		return c.fail(errForbidden())
	}
	if q.signIn && c.s.noPremium.Load() {
		return c.fail(errNoPremium())
	}
	c.t.mu.RLock()
	defer c.t.mu.RUnlock()
	u, ok := c.t.userByKey(c.params["id"])
	if !ok {
		return c.fail(errNotFound(c.params["id"]))
	}
	body := object{{"@odata.context", c.context("users", q.sel, true)}}
	return replyOK(append(body, u.render(q.sel)...))
}

// writableUser finds the user a write names, answering 404 while the user
// is not yet replicated (replication.go).
func (c *call) writableUser(key string) (*user, *apiError) {
	u, ok := c.t.userByKey(key)
	if !ok || !c.visible(&u.objMeta) {
		return nil, errNotFound(key)
	}
	return u, nil
}

// patchUser is PATCH /users/{id} (GD api-reference/v1.0/api/user-update.md):
// 204 No Content.
func patchUser(c *call) *reply {
	var body map[string]json.RawMessage
	if err := c.decode(&body); err != nil {
		return c.fail(err)
	}
	t := c.t
	t.mu.Lock()
	defer t.mu.Unlock()
	u, err := c.writableUser(c.params["id"])
	if err != nil {
		return c.fail(err)
	}
	next := *u
	for name, raw := range body {
		if err := c.setUserProperty(&next, name, raw); err != nil {
			return c.fail(err)
		}
	}
	if !strings.EqualFold(next.UserPrincipalName, u.UserPrincipalName) {
		if other, ok := t.byUPN[strings.ToLower(next.UserPrincipalName)]; ok && other != u {
			return c.fail(errBadRequest("Another object with the same value for property userPrincipalName already exists."))
		}
	}
	if next.Mail != u.Mail {
		next.ProxyAddresses = primaryProxy(next.ProxyAddresses, next.Mail)
	}
	t.unindexUser(u)
	*u = next
	t.indexUser(u)
	changed := make([]string, 0, len(body)+1)
	for name := range body {
		changed = append(changed, name)
	}
	if _, ok := body["mail"]; ok {
		changed = append(changed, "proxyAddresses")
	}
	t.userChanged(u, changed...)
	if raw, ok := body["accountEnabled"]; ok && strings.TrimSpace(string(raw)) == "false" {
		c.s.stats.disabled(u.id)
	}
	return replyNoContent()
}

// primaryProxy makes mail the primary SMTP address, keeping the others as
// secondary ones: "changing mail updates proxyAddresses" (GD user.md).
func primaryProxy(proxies []string, mail string) []string {
	var out []string
	if mail != "" {
		out = append(out, "SMTP:"+mail)
	}
	for _, p := range proxies {
		kind, addr, _ := strings.Cut(p, ":")
		if strings.EqualFold(addr, mail) {
			continue
		}
		if strings.EqualFold(kind, "smtp") {
			p = "smtp:" + addr
		}
		out = append(out, p)
	}
	return out
}

// deleteUser is DELETE /users/{id}: 204. The user and every grant it held
// are removed; the 30-day soft delete (directory/deletedItems) is not
// modelled.
func deleteUser(c *call) *reply {
	t := c.t
	t.mu.Lock()
	defer t.mu.Unlock()
	u, err := c.writableUser(c.params["id"])
	if err != nil {
		return c.fail(err)
	}
	t.removeUser(u)
	c.s.stats.deleted(u.id)
	return replyNoContent()
}

// removeUser deletes u and everything that references it.
func (t *tenant) removeUser(u *user) {
	t.unindexUser(u)
	t.users.remove(u.id)
	t.userRemoved(u.id)
	for _, g := range t.groups.list {
		g.removeMember(u.id)
	}
	for _, a := range append([]*appRoleAssignment(nil), t.appAssigns.list...) {
		if strings.EqualFold(a.PrincipalID, u.id) {
			t.appAssigns.remove(a.id)
		}
	}
	for _, a := range append([]*roleAssignment(nil), t.roleAssigns.list...) {
		if strings.EqualFold(a.PrincipalID, u.id) {
			t.roleAssigns.remove(a.id)
		}
	}
	for _, l := range u.Licenses {
		if s := t.sku(l.SkuID); s != nil {
			s.ConsumedUnits--
		}
	}
	t.dropTicket(u.id)
}

// listMemberOf is GET /users/{id}/memberOf: the groups the user is a
// direct member of.
func listMemberOf(c *call) *reply {
	q, err := c.listQuery(groupList)
	if err != nil {
		return c.fail(err)
	}
	t := c.t
	t.mu.RLock()
	defer t.mu.RUnlock()
	u, ok := t.userByKey(c.params["id"])
	if !ok {
		return c.fail(errNotFound(c.params["id"]))
	}
	keep := func(g *group) bool { return g.hasMember(u.id) && matches(q.filter, g) }
	items, last, more := page(t.groups.list, q, keep)
	value := make([]object, len(items))
	for i, g := range items {
		value[i] = append(object{{"@odata.type", "#microsoft.graph.group"}}, g.render(q.sel)...)
	}
	return replyOK(c.collection("directoryObjects", q, value, func() int { return count(t.groups.list, keep) }, more, last))
}

// listSponsors is GET /users/{id}/sponsors (GD api/user-list-sponsors.md):
// the users and groups set as the guest's sponsors (by
// invitedUserSponsors, the seed, or POST /_sim/sponsors), each with its
// @odata.type; a group with its mail, mailEnabled and mailNickname like
// the page's example. A sponsor deleted since is left out.
func listSponsors(c *call) *reply {
	t := c.t
	t.mu.RLock()
	defer t.mu.RUnlock()
	u, ok := t.userByKey(c.params["id"])
	if !ok {
		return c.fail(errNotFound(c.params["id"]))
	}
	value := []object{}
	for _, id := range u.Sponsors {
		if s, ok := t.users.get(id); ok {
			value = append(value, append(object{{"@odata.type", "#microsoft.graph.user"}}, s.render(nil)...))
		} else if g, ok := t.groups.get(id); ok {
			value = append(value, append(object{{"@odata.type", "#microsoft.graph.group"}}, g.render(nil)...))
		}
	}
	return replyOK(object{{"@odata.context", c.context("directoryObjects", nil, false)}, {"value", value}})
}
