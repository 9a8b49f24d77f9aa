package sim

import (
	"cmp"
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Delta query on users (GD api-reference/v1.0/api/user-delta.md,
// concepts/delta-query-overview.md, concepts/delta-query-users.md;
// docs/graph-reference.md §20).
//
// Every change to a user takes the next number of the tenant's change
// sequence (tenant.changeSeq): its creation, and each property written
// (userChanged). A deleted user leaves a tombstone with its number. A
// round without a token pages over every user in creation order and ends
// with a deltaLink whose token holds the change number the round started
// at; a round from that token returns the users changed since (with
// $select, only those whose selected properties changed: "Only properties
// included in $select are tracked for changes") and the users deleted
// since, as {"id", "@removed": {"reason": "changed"}}: DELETE /users is a
// soft delete in Entra, which delta-query-users.md reports with reason
// "changed" ("deleted" is for a permanent delete, which the sim does not
// model). Tokens carry the $select of the round's first request, the time
// they were made, and the tenant's generation and delta epoch: a token
// older than seven days, from before a reset, from before POST
// /_sim/delta/expire, or not made by the sim, is answered 400
// syncStateNotFound, Graph's answer for an expired token.

// deltaPageSize is how many users a page of a delta round holds. Graph
// does not document it for users ("The number of objects in each page can
// vary", delta-query-overview.md); the sim uses the user list's default.
const deltaPageSize = 100

// deltaTokenLife is how long a delta token is valid: seven days for
// directory objects (delta-query-overview.md, "Token duration").
const deltaTokenLife = 7 * 24 * time.Hour

// removedUser is a deleted user's tombstone: its id and change number.
type removedUser struct {
	id  string
	seq int64
}

// userChanged records that the properties props (Graph's names, any case)
// of u changed; no props records its creation. The caller holds t.mu.
func (t *tenant) userChanged(u *user, props ...string) {
	t.changeSeq++
	u.changed = t.changeSeq
	if len(props) == 0 {
		u.born = t.changeSeq
		return
	}
	if u.propChanged == nil {
		u.propChanged = map[string]int64{}
	}
	for _, p := range props {
		u.propChanged[strings.ToLower(p)] = t.changeSeq
	}
}

// userRemoved leaves the tombstone of a deleted user. The caller holds t.mu.
func (t *tenant) userRemoved(id string) {
	t.changeSeq++
	t.removedUsers = append(t.removedUsers, removedUser{id: id, seq: t.changeSeq})
}

// changedSince reports whether u changed after since, in the properties of
// sel (any property when sel is empty).
func (u *user) changedSince(since int64, sel []string) bool {
	if u.born > since {
		return true
	}
	if len(sel) == 0 {
		return u.changed > since
	}
	for _, p := range sel {
		if u.propChanged[strings.ToLower(p)] > since {
			return true
		}
	}
	return false
}

// deltaState is what a delta token holds.
type deltaState struct {
	gen, epoch int64
	changes    bool  // a round from a deltaLink (else the initial round)
	since      int64 // changes after this number are the round's
	cursor     int64 // initial: creation seq of the last user sent; changes: change number of the last item sent
	issued     time.Time
	sel        []string
}

func (d deltaState) encode() string {
	phase := "i"
	if d.changes {
		phase = "c"
	}
	s := fmt.Sprintf("simdelta1:%d:%d:%s:%d:%d:%d:%s", d.gen, d.epoch, phase, d.since, d.cursor, d.issued.UnixNano(), strings.Join(d.sel, ","))
	return base64.RawURLEncoding.EncodeToString([]byte(s))
}

// errSyncStateNotFound is Graph's answer for an expired delta token
// (devblogs.microsoft.com "Duration of change tracking tokens for
// identity and education resources", docs/graph-reference.md §20).
func errSyncStateNotFound() *apiError {
	return newError(http.StatusBadRequest, "syncStateNotFound",
		"The sync state generation is not found. The delta token is expired and data must be synchronized again.")
}

// decodeDelta reads a $deltatoken or $skiptoken of the tenant.
func (c *call) decodeDelta(tok string) (deltaState, *apiError) {
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return deltaState{}, errSyncStateNotFound()
	}
	f := strings.SplitN(string(raw), ":", 8)
	if len(f) != 8 || f[0] != "simdelta1" || (f[3] != "i" && f[3] != "c") {
		return deltaState{}, errSyncStateNotFound()
	}
	var n [5]int64
	for i, s := range []string{f[1], f[2], f[4], f[5], f[6]} {
		if n[i], err = strconv.ParseInt(s, 10, 64); err != nil {
			return deltaState{}, errSyncStateNotFound()
		}
	}
	d := deltaState{gen: n[0], epoch: n[1], changes: f[3] == "c", since: n[2], cursor: n[3], issued: time.Unix(0, n[4])}
	if f[7] != "" {
		d.sel = strings.Split(f[7], ",")
	}
	if d.gen != c.t.generation.Load() || d.epoch != c.t.deltaEpoch || c.now.Sub(d.issued) > deltaTokenLife {
		return deltaState{}, errSyncStateNotFound()
	}
	return d, nil
}

// deltaUsers is GET /users/delta.
func deltaUsers(c *call) *reply {
	for _, opt := range []string{"top", "orderby", "expand", "skip", "search", "count"} {
		if _, ok := option(c.query, opt); ok {
			// delta-query-overview.md: $expand, $top and $orderby are not
			// supported for users.
			return c.fail(errUnsupportedQuery("$%s is not supported by the delta query on users.", opt))
		}
	}
	if _, ok := option(c.query, "filter"); ok {
		return c.fail(errUnsupportedQuery("$filter (by id only, in Graph) is not modelled by the emulated tenant's delta query."))
	}
	t := c.t
	t.mu.RLock()
	defer t.mu.RUnlock()
	var d deltaState
	skip, isSkip := option(c.query, "skiptoken")
	delta, isDelta := option(c.query, "deltatoken")
	switch {
	case isSkip || isDelta:
		tok := skip
		if !isSkip {
			tok = delta
		}
		var err *apiError
		if d, err = c.decodeDelta(tok); err != nil {
			return c.fail(err)
		}
		if isDelta {
			d.cursor = d.since
		}
	default:
		sel, err := deltaSelect(c.query)
		if err != nil {
			return c.fail(err)
		}
		d = deltaState{gen: t.generation.Load(), epoch: t.deltaEpoch, since: t.changeSeq, sel: sel}
	}
	d.issued = c.now
	var value []object
	var more bool
	if d.changes {
		value, more = c.deltaChanges(&d)
	} else {
		value, more = c.deltaInitial(&d)
	}
	body := object{{"@odata.context", c.context("users", d.sel, false)}}
	link := c.base + c.prefix + "/users/delta?"
	if more {
		body = append(body, member{"@odata.nextLink", link + "$skiptoken=" + d.encode()})
	} else {
		d.changes, d.cursor = true, 0
		body = append(body, member{"@odata.deltaLink", link + "$deltatoken=" + d.encode()})
	}
	if value == nil {
		value = []object{}
	}
	return replyOK(append(body, member{"value", value}))
}

// deltaSelect reads the $select of a round's first request.
func deltaSelect(q map[string][]string) ([]string, *apiError) {
	lq := &listQuery{}
	if err := lq.parseSelect(q, userList); err != nil {
		return nil, err
	}
	return lq.sel, nil
}

// renderDelta writes a user of a delta page: the selected properties and
// always its id.
func (u *user) renderDelta(sel []string) object {
	o := u.render(sel)
	if len(sel) > 0 && !slices.ContainsFunc(sel, func(s string) bool { return strings.EqualFold(s, "id") }) {
		o = append(o, member{"id", u.id})
	}
	return o
}

// deltaInitial writes a page of the initial round: every user, in creation
// order. A user not yet replicated to list queries is left out, and the
// round's deltaLink starts before its change, so the next round shows it.
func (c *call) deltaInitial(d *deltaState) ([]object, bool) {
	t := c.t
	var out []object
	for _, u := range t.users.list[t.users.after(d.cursor):] {
		if !c.listable(&u.objMeta) {
			d.since = min(d.since, u.changed-1)
			continue
		}
		if len(out) == deltaPageSize {
			return out, true
		}
		out = append(out, u.renderDelta(d.sel))
		d.cursor = u.seq
	}
	return out, false
}

// deltaChanges writes a page of a round from a deltaLink: the users
// changed and deleted since d.since, in the order of their last change.
func (c *call) deltaChanges(d *deltaState) ([]object, bool) {
	t := c.t
	type item struct {
		at int64
		u  *user
		id string // a deleted user's
	}
	var items []item
	hold := t.changeSeq
	for _, u := range t.users.list {
		if !u.changedSince(d.since, d.sel) {
			continue
		}
		if !c.listable(&u.objMeta) {
			hold = min(hold, u.changed-1)
			continue
		}
		if u.changed <= d.cursor {
			continue
		}
		items = append(items, item{at: u.changed, u: u})
	}
	for _, r := range t.removedUsers {
		if r.seq > d.cursor && r.seq > d.since {
			items = append(items, item{at: r.seq, id: r.id})
		}
	}
	slices.SortFunc(items, func(a, b item) int { return cmp.Compare(a.at, b.at) })
	var out []object
	for _, it := range items {
		if len(out) == deltaPageSize {
			return out, true
		}
		if it.u != nil {
			out = append(out, it.u.renderDelta(d.sel))
		} else {
			out = append(out, object{{"id", it.id}, {"@removed", object{{"reason", "changed"}}}})
		}
		d.cursor = it.at
	}
	d.since = min(hold, t.changeSeq)
	return out, false
}

// ExpireDeltaTokens makes every delta token of the default tenant handed
// out so far expired (POST /_sim/delta/expire), as seven days would: the
// next round from one is answered 400 syncStateNotFound.
func (s *Server) ExpireDeltaTokens() {
	t := s.def
	t.mu.Lock()
	t.deltaEpoch++
	t.mu.Unlock()
}
