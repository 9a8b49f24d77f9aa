package sim

import (
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// objMeta is what every stored object has: its place in creation order
// (list order and $skiptoken cursors follow it), its id, when it was created
// and when it becomes visible to writes that reference it (replication.go).
type objMeta struct {
	seq       int64
	id        string
	created   time.Time
	visibleAt time.Time
}

func (m *objMeta) meta() *objMeta { return m }

type stored interface{ meta() *objMeta }

// ordered is a collection kept in creation order with an index by id
// (case-insensitive, as directory ids are).
type ordered[T stored] struct {
	list []T
	byID map[string]T
}

func newOrdered[T stored]() ordered[T] { return ordered[T]{byID: map[string]T{}} }

func (o *ordered[T]) add(x T) {
	o.list = append(o.list, x)
	o.byID[strings.ToLower(x.meta().id)] = x
}

func (o *ordered[T]) get(id string) (T, bool) {
	x, ok := o.byID[strings.ToLower(id)]
	return x, ok
}

func (o *ordered[T]) remove(id string) {
	x, ok := o.get(id)
	if !ok {
		return
	}
	delete(o.byID, strings.ToLower(id))
	i := o.after(x.meta().seq - 1)
	if i < len(o.list) && o.list[i].meta().seq == x.meta().seq {
		o.list = append(o.list[:i], o.list[i+1:]...)
	}
}

// after returns the index of the first object created after seq.
func (o *ordered[T]) after(seq int64) int {
	return sort.Search(len(o.list), func(i int) bool { return o.list[i].meta().seq > seq })
}

func (o *ordered[T]) len() int { return len(o.list) }

// multiIndex maps a lowercased key to the objects that carry it. Most keys
// name one object, so the first is kept in a plain map and only further
// ones in a slice: adding a guest allocates no slices.
type multiIndex[T comparable] struct {
	one  map[string]T
	more map[string][]T
}

func newMultiIndex[T comparable]() multiIndex[T] {
	return multiIndex[T]{one: map[string]T{}, more: map[string][]T{}}
}

func (m multiIndex[T]) add(key string, x T) {
	if key == "" {
		return
	}
	key = strings.ToLower(key)
	first, ok := m.one[key]
	switch {
	case !ok:
		m.one[key] = x
	case first == x:
	default:
		for _, y := range m.more[key] {
			if y == x {
				return
			}
		}
		m.more[key] = append(m.more[key], x)
	}
}

func (m multiIndex[T]) remove(key string, x T) {
	key = strings.ToLower(key)
	rest := m.more[key]
	if first, ok := m.one[key]; ok && first == x {
		if len(rest) == 0 {
			delete(m.one, key)
			return
		}
		m.one[key] = rest[0]
		rest = rest[1:]
	} else {
		for i, y := range rest {
			if y == x {
				rest = append(rest[:i:i], rest[i+1:]...)
				break
			}
		}
	}
	if len(rest) == 0 {
		delete(m.more, key)
	} else {
		m.more[key] = rest
	}
}

// get returns the objects carrying a key (already lowercased).
func (m multiIndex[T]) get(key string) []T {
	first, ok := m.one[key]
	if !ok {
		return nil
	}
	return append([]T{first}, m.more[key]...)
}

// tenant is one emulated directory with its Azure subscription and Exchange
// organisation. One mutex guards it all: every call is short, and it keeps
// invitations, replication and paging simple to reason about.
type tenant struct {
	mu sync.RWMutex

	id             string
	displayName    string
	initialDomain  string // contoso.onmicrosoft.com
	identityHeader string // the managed identity endpoint's X-IDENTITY-HEADER
	domains        []*domain
	created        time.Time
	seedTime       time.Time // creation time of seeded objects
	seq            int64
	generation     atomic.Int64 // changes on reset, so old page tokens are refused
	changeSeq      int64        // numbers every change to a user, for the delta query (delta.go)
	removedUsers   []removedUser
	deltaEpoch     int64 // POST /_sim/delta/expire bumps it: older delta tokens are refused

	users       ordered[*user]
	groups      ordered[*group]
	sps         ordered[*servicePrincipal]
	roleDefs    []*roleDefinition
	roleAssigns ordered[*roleAssignment]
	appAssigns  ordered[*appRoleAssignment]
	skus        []*sku
	azure       *azureState
	contacts    ordered[*mailContact]
	tickets     map[string]*ticket // by ticket
	ticketOf    map[string]string  // user id → its one valid ticket
	mails       []Mail
	lcPolicies  ordered[*lifecyclePolicy] // guest lifecycle policies (lcpolicies.go)

	byUPN   map[string]*user
	byMail  multiIndex[*user]
	byOther multiIndex[*user]
	byProxy multiIndex[*user] // full value, lowercased: smtp:a@b.example
}

func newTenant(id, displayName, initialDomain string, created time.Time) *tenant {
	t := &tenant{id: id, displayName: displayName, initialDomain: initialDomain, created: created}
	t.clear()
	return t
}

// clear empties the tenant, keeping its id and names.
func (t *tenant) clear() {
	t.domains = nil
	t.users = newOrdered[*user]()
	t.groups = newOrdered[*group]()
	t.sps = newOrdered[*servicePrincipal]()
	t.roleDefs = nil
	t.roleAssigns = newOrdered[*roleAssignment]()
	t.appAssigns = newOrdered[*appRoleAssignment]()
	t.skus = nil
	t.azure = newAzureState()
	t.contacts = newOrdered[*mailContact]()
	t.tickets = map[string]*ticket{}
	t.ticketOf = map[string]string{}
	t.mails = nil
	t.lcPolicies = newOrdered[*lifecyclePolicy]()
	t.removedUsers = nil
	t.byUPN = map[string]*user{}
	t.byMail = newMultiIndex[*user]()
	t.byOther = newMultiIndex[*user]()
	t.byProxy = newMultiIndex[*user]()
	t.generation.Add(1)
}

// nextMeta stamps a new object.
func (t *tenant) nextMeta(id string, now time.Time, replication time.Duration) objMeta {
	t.seq++
	return objMeta{seq: t.seq, id: id, created: now, visibleAt: now.Add(replication)}
}

// indexUser adds u's keys to the indexes; unindexUser removes them. Callers
// unindex before changing an indexed property and index again after.
func (t *tenant) indexUser(u *user) {
	t.byUPN[strings.ToLower(u.UserPrincipalName)] = u
	t.byMail.add(u.Mail, u)
	for _, m := range u.OtherMails {
		t.byOther.add(m, u)
	}
	for _, p := range u.ProxyAddresses {
		t.byProxy.add(p, u)
	}
}

func (t *tenant) unindexUser(u *user) {
	if t.byUPN[strings.ToLower(u.UserPrincipalName)] == u {
		delete(t.byUPN, strings.ToLower(u.UserPrincipalName))
	}
	t.byMail.remove(u.Mail, u)
	for _, m := range u.OtherMails {
		t.byOther.remove(m, u)
	}
	for _, p := range u.ProxyAddresses {
		t.byProxy.remove(p, u)
	}
}

// userByKey finds a user by id or userPrincipalName, as /users/{id|upn}
// does.
func (t *tenant) userByKey(key string) (*user, bool) {
	if u, ok := t.users.get(key); ok {
		return u, true
	}
	u, ok := t.byUPN[strings.ToLower(key)]
	return u, ok
}

// object finds any directory object (user, group, service principal) by id.
func (t *tenant) object(id string) (stored, bool) {
	if u, ok := t.users.get(id); ok {
		return u, true
	}
	if g, ok := t.groups.get(id); ok {
		return g, true
	}
	if sp, ok := t.sps.get(id); ok {
		return sp, true
	}
	return nil, false
}

// isVerifiedDomain reports whether the address's domain is one of the
// tenant's verified domains.
func (t *tenant) isVerifiedDomain(domain string) bool {
	for _, d := range t.domains {
		if d.IsVerified && strings.EqualFold(d.ID, domain) {
			return true
		}
	}
	return false
}

func (t *tenant) createdAt() time.Time { return t.created }

// setTicket makes tk the user's only valid redemption ticket.
func (t *tenant) setTicket(tk string, x *ticket) {
	t.dropTicket(x.userID)
	t.tickets[tk] = x
	t.ticketOf[x.userID] = tk
}

// dropTicket invalidates the user's ticket.
func (t *tenant) dropTicket(userID string) {
	if old, ok := t.ticketOf[userID]; ok {
		delete(t.tickets, old)
		delete(t.ticketOf, userID)
	}
}

// byAddress finds the users who answer to an address, by their
// userPrincipalName, mail, otherMails or an SMTP proxy address: what an
// invitation for the address collides with. The result is in creation
// order.
func (t *tenant) byAddress(addr string) []*user {
	key := strings.ToLower(strings.TrimSpace(addr))
	var out []*user
	if u, ok := t.byUPN[key]; ok {
		out = append(out, u)
	}
	out = append(out, t.byMail.get(key)...)
	out = append(out, t.byOther.get(key)...)
	out = append(out, t.byProxy.get("smtp:"+key)...)
	if len(out) < 2 {
		return out
	}
	return bySeq(out)
}
