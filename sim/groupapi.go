package sim

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
)

// listGroups is GET /groups (GD api-reference/v1.0/api/group-list.md).
func listGroups(c *call) *reply {
	q, err := c.listQuery(groupList)
	if err != nil {
		return c.fail(err)
	}
	t := c.t
	t.mu.RLock()
	defer t.mu.RUnlock()
	keep := func(g *group) bool { return c.listable(&g.objMeta) && matches(q.filter, g) }
	items, last, more := page(t.groups.list, q, keep)
	value := make([]object, len(items))
	for i, g := range items {
		value[i] = g.render(q.sel)
	}
	return replyOK(c.collection("groups", q, value, func() int { return count(t.groups.list, keep) }, more, last))
}

// getGroup is GET /groups/{id}.
func getGroup(c *call) *reply {
	q, err := c.listQuery(groupList)
	if err != nil {
		return c.fail(err)
	}
	c.t.mu.RLock()
	defer c.t.mu.RUnlock()
	g, ok := c.t.groups.get(c.params["id"])
	if !ok {
		return c.fail(errNotFound(c.params["id"]))
	}
	return replyOK(append(object{{"@odata.context", c.context("groups", q.sel, true)}}, g.render(q.sel)...))
}

// memberList accepts $select on any property of the member types.
var memberList = listSpec{
	typ:    "directoryObject",
	filter: nil,
	fields: func(lower string) (string, bool) {
		if f, ok := userFields[lower]; ok {
			return f.name, true
		}
		if f, ok := groupFields[lower]; ok {
			return f.name, true
		}
		if f, ok := spFields[lower]; ok {
			return f.name, true
		}
		return "", false
	},
	defaultTop: 100,
	maxTop:     999,
}

// listMembers is GET /groups/{id}/members (GD api/group-list-members.md):
// directory objects with their @odata.type.
func listMembers(c *call) *reply {
	q, err := c.listQuery(memberList)
	if err != nil {
		return c.fail(err)
	}
	t := c.t
	t.mu.RLock()
	defer t.mu.RUnlock()
	g, ok := t.groups.get(c.params["id"])
	if !ok {
		return c.fail(errNotFound(c.params["id"]))
	}
	keep := func(*membership) bool { return true }
	items, last, more := page(g.members, q, keep)
	value := make([]object, 0, len(items))
	for _, m := range items {
		if o := t.renderObject(m.id, q.sel); o != nil {
			value = append(value, o)
		}
	}
	return replyOK(c.collection("directoryObjects", q, value, func() int { return len(g.members) }, more, last))
}

// listMemberUsers is GET /groups/{id}/members/microsoft.graph.user (GD
// api/group-list-members.md, the OData cast to user): the group's direct
// members that are users, each with its @odata.type, paged with $top
// (default 100, at most 999) and @odata.nextLink, $select on user
// properties. Nested groups are not followed (transitiveMembers does
// that). Without a user read permission a user comes with limited
// information, as in listTransitiveUsers.
func listMemberUsers(c *call) *reply {
	q, err := c.listQuery(userList)
	if err != nil {
		return c.fail(err)
	}
	t := c.t
	t.mu.RLock()
	defer t.mu.RUnlock()
	g, ok := t.groups.get(c.params["id"])
	if !ok {
		return c.fail(errNotFound(c.params["id"]))
	}
	keep := func(m *membership) bool {
		u, ok := t.users.get(m.id)
		return ok && c.listable(&u.objMeta)
	}
	items, last, more := page(g.members, q, keep)
	full := c.has(permUserRead)
	value := make([]object, 0, len(items))
	for _, m := range items {
		u, _ := t.users.get(m.id)
		o := object{{"@odata.type", "#microsoft.graph.user"}}
		if full {
			o = append(o, u.render(q.sel)...)
		} else {
			o = append(o, u.limited(q.sel)...)
		}
		value = append(value, o)
	}
	return replyOK(c.collection("users", q, value, func() int { return count(g.members, keep) }, more, last))
}

// renderObject writes any directory object with its @odata.type.
func (t *tenant) renderObject(id string, sel []string) object {
	if u, ok := t.users.get(id); ok {
		return append(object{{"@odata.type", "#microsoft.graph.user"}}, u.renderKnown(sel)...)
	}
	if g, ok := t.groups.get(id); ok {
		return append(object{{"@odata.type", "#microsoft.graph.group"}}, g.render(sel)...)
	}
	if sp, ok := t.sps.get(id); ok {
		return append(object{{"@odata.type", "#microsoft.graph.servicePrincipal"}}, sp.render(sel)...)
	}
	return nil
}

// renderKnown is render that skips selected names users do not have.
func (u *user) renderKnown(sel []string) object {
	var keep []string
	for _, s := range sel {
		if _, ok := userFields[strings.ToLower(s)]; ok {
			keep = append(keep, s)
		}
	}
	if len(sel) > 0 && len(keep) == 0 {
		return object{{"id", u.id}}
	}
	return u.render(keep)
}

// countMembers is GET /groups/{id}/members/$count (advanced queries only).
func countMembers(c *call) *reply {
	if !eventual(c.header) {
		return c.fail(errBadRequest("$count is not currently supported."))
	}
	c.t.mu.RLock()
	defer c.t.mu.RUnlock()
	g, ok := c.t.groups.get(c.params["id"])
	if !ok {
		return c.fail(errNotFound(c.params["id"]))
	}
	return replyText(200, strconv.Itoa(len(g.members)))
}

// refID reads the object id from an @odata.id or @odata.bind URL such as
// https://graph.microsoft.com/v1.0/directoryObjects/{id}.
func refID(ref string) (string, bool) {
	u, err := url.Parse(strings.TrimSpace(ref))
	if err != nil || u.Path == "" {
		return "", false
	}
	segs := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(segs) < 2 {
		return "", false
	}
	kind := strings.ToLower(segs[len(segs)-2])
	switch kind {
	case "directoryobjects", "users", "groups", "serviceprincipals", "contacts", "devices":
	default:
		return "", false
	}
	id, err := url.PathUnescape(segs[len(segs)-1])
	return id, err == nil && id != ""
}

// writableGroup finds the group a write names (404 until replicated).
func (c *call) writableGroup(id string) (*group, *apiError) {
	g, ok := c.t.groups.get(id)
	if !ok || !c.visible(&g.objMeta) {
		return nil, errNotFound(id)
	}
	return g, nil
}

// referenced finds the object a reference names for a write: 404
// Request_ResourceNotFound when it does not exist or is not yet
// replicated (docs/graph-reference.md §3; replication.go).
func (c *call) referenced(id string) (stored, *apiError) {
	o, ok := c.t.object(id)
	if !ok || !c.visible(o.meta()) {
		return nil, errNotFound(id)
	}
	return o, nil
}

// errAlreadyMember is the directory's duplicate-reference answer
// (docs/graph-reference.md §3, from canvas-lms mocks of live responses).
func errAlreadyMember(prop string) *apiError {
	return errBadRequest("One or more added object references already exist for the following modified properties: '%s'.", prop)
}

// addMember is POST /groups/{id}/members/$ref (GD api/group-post-members.md): 204.
func addMember(c *call) *reply {
	var body map[string]json.RawMessage
	if err := c.decode(&body); err != nil {
		return c.fail(err)
	}
	var ref string
	if raw, ok := body["@odata.id"]; !ok || json.Unmarshal(raw, &ref) != nil {
		return c.fail(errBadRequest("Invalid object identifier '%s'.", strings.Trim(string(raw), `"`))) // [unverified]
	}
	id, ok := refID(ref)
	if !ok {
		return c.fail(errBadRequest("Invalid object identifier '%s'.", ref)) // [unverified]
	}
	t := c.t
	t.mu.Lock()
	defer t.mu.Unlock()
	g, err := c.writableGroup(c.params["id"])
	if err != nil {
		return c.fail(err)
	}
	o, err := c.referenced(id)
	if err != nil {
		return c.fail(err)
	}
	if g.hasMember(o.meta().id) {
		return c.fail(errAlreadyMember("members"))
	}
	t.seq++
	g.addMember(o.meta().id, t.seq)
	return replyNoContent()
}

// removeMember is DELETE /groups/{id}/members/{memberId}/$ref: 204; a
// non-member gets 404 Request_ResourceNotFound.
func removeMember(c *call) *reply {
	t := c.t
	t.mu.Lock()
	defer t.mu.Unlock()
	g, err := c.writableGroup(c.params["id"])
	if err != nil {
		return c.fail(err)
	}
	if !g.removeMember(c.params["memberId"]) {
		return c.fail(errNotFound(c.params["memberId"]))
	}
	return replyNoContent()
}

// maxBind is the most members@odata.bind entries one PATCH may carry
// (GD api/group-post-members.md: "up to 20 members").
const maxBind = 20

// patchGroup is PATCH /groups/{id} (GD api/group-update.md): properties, and
// members@odata.bind / owners@odata.bind to add up to 20 references at once,
// all or nothing. 204.
func patchGroup(c *call) *reply {
	var body map[string]json.RawMessage
	if err := c.decode(&body); err != nil {
		return c.fail(err)
	}
	t := c.t
	t.mu.Lock()
	defer t.mu.Unlock()
	g, err := c.writableGroup(c.params["id"])
	if err != nil {
		return c.fail(err)
	}
	next := *g
	next.members = append([]*membership(nil), g.members...)
	for name, raw := range body {
		if err := c.applyGroupMember(&next, name, raw); err != nil {
			return c.fail(err)
		}
	}
	*g = next
	return replyNoContent()
}

func (c *call) applyGroupMember(g *group, name string, raw json.RawMessage) *apiError {
	lower := strings.ToLower(name)
	switch {
	case lower == "members@odata.bind" || lower == "owners@odata.bind":
		return c.bind(g, strings.TrimSuffix(lower, "@odata.bind"), raw)
	case strings.HasPrefix(lower, "@odata"):
		return nil
	}
	if _, ok := groupFields[lower]; !ok {
		return errUnknownBodyProperty(name, "group")
	}
	if !c.has("Group.ReadWrite.All|Directory.ReadWrite.All") {
		return errForbidden()
	}
	var s string
	if err := decodeTyped(raw, &s, "Edm.String"); err != nil {
		return err
	}
	switch lower {
	case "displayname":
		if strings.TrimSpace(s) == "" {
			return errBadRequest("Invalid value specified for property 'displayName' of resource 'Group'.")
		}
		g.DisplayName = s
	case "description":
		g.Description = s
	case "mailnickname":
		g.MailNickname = s
	case "visibility":
		g.Visibility = s
	default:
		return errBadRequest("Property '%s' is read-only and cannot be set.", groupFields[lower].name)
	}
	return nil
}

func (c *call) bind(g *group, prop string, raw json.RawMessage) *apiError {
	var refs []string
	if err := decodeTyped(raw, &refs, "Collection(Edm.String)"); err != nil {
		return err
	}
	if len(refs) > maxBind {
		return errBadRequest("The request exceeds the limit of %d references for the property '%s'.", maxBind, prop) // [unverified]
	}
	ids := make([]string, 0, len(refs))
	for _, ref := range refs {
		id, ok := refID(ref)
		if !ok {
			return errBadRequest("Invalid object identifier '%s'.", ref) // [unverified]
		}
		o, err := c.referenced(id)
		if err != nil {
			return err
		}
		ids = append(ids, o.meta().id)
	}
	for i, id := range ids {
		dup := false
		for _, other := range ids[:i] {
			dup = dup || strings.EqualFold(other, id)
		}
		if dup || (prop == "members" && g.hasMember(id)) || (prop == "owners" && containsFold(g.owners, id)) {
			return errAlreadyMember(prop)
		}
	}
	for _, id := range ids {
		if prop == "owners" {
			g.owners = append(g.owners, id)
			continue
		}
		c.t.seq++
		g.addMember(id, c.t.seq)
	}
	return nil
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// listTransitiveUsers is GET /groups/{id}/transitiveMembers/microsoft.graph.user
// (GD api/group-list-transitivemembers.md): the users who are members of
// the group directly or through nested groups, each once, as a flat list
// cast to user (@odata.type on each), paged with $top (default 100, at
// most 999) and @odata.nextLink, $select on user properties.
//
// The permission is GroupMember.Read.All (or any broader group read).
// Graph returns the members of a type the app may not read "with limited
// information": id and @odata.type only, other properties null; so an app
// without a user read permission gets ids only here. Not modelled: hidden
// memberships (Member.Read.Hidden), $filter/$count/$search on this path
// (advanced queries), and members that are devices, contacts or service
// principals (the cast leaves them out anyway). Users not yet replicated
// are left out like in every list.
func listTransitiveUsers(c *call) *reply {
	q, err := c.listQuery(userList)
	if err != nil {
		return c.fail(err)
	}
	t := c.t
	t.mu.RLock()
	defer t.mu.RUnlock()
	g, ok := t.groups.get(c.params["id"])
	if !ok {
		return c.fail(errNotFound(c.params["id"]))
	}
	in := t.transitiveUsers(g)
	keep := func(u *user) bool { return in[u.id] && c.listable(&u.objMeta) && matches(q.filter, u) }
	items, last, more := page(t.users.list, q, keep)
	full := c.has(permUserRead)
	value := make([]object, len(items))
	for i, u := range items {
		o := object{{"@odata.type", "#microsoft.graph.user"}}
		if full {
			o = append(o, u.render(q.sel)...)
		} else {
			o = append(o, u.limited(q.sel)...)
		}
		value[i] = o
	}
	return replyOK(c.collection("users", q, value, func() int { return count(t.users.list, keep) }, more, last))
}

// transitiveUsers returns the ids of the users in g and in the groups
// nested in it, at any depth (a cycle is followed once); the caller holds
// t.mu.
func (t *tenant) transitiveUsers(g *group) map[string]bool {
	users := map[string]bool{}
	seen := map[string]bool{g.id: true}
	queue := []*group{g}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for _, m := range cur.members {
			id := strings.ToLower(m.id)
			if u, ok := t.users.get(id); ok {
				users[u.id] = true
				continue
			}
			if sub, ok := t.groups.get(id); ok && !seen[sub.id] {
				seen[sub.id] = true
				queue = append(queue, sub)
			}
		}
	}
	return users
}

// limited renders a user as Graph does for an app that may not read
// users: the id, and every other selected property null.
func (u *user) limited(sel []string) object {
	if len(sel) == 0 {
		sel = userDefault
	}
	o := object{{"id", u.id}}
	for _, name := range sel {
		if f, ok := userFields[strings.ToLower(name)]; ok && f.name != "id" {
			o = append(o, member{f.name, nil})
		}
	}
	return o
}
