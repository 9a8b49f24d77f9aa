package sim

import "strings"

// userCandidates answers the filters foyer's lookups use from the indexes
// instead of a scan, so that finding a person stays O(1) at 50,000 guests:
// equality on id, mail or userPrincipalName, any() equality on otherMails
// or proxyAddresses, `in` lists, and and/or of those. ok is false when the
// filter needs a scan. The candidates are a superset of the matches: the
// caller still evaluates the filter on each.
func (t *tenant) userCandidates(n node) ([]*user, bool) {
	switch n := n.(type) {
	case *cmpNode:
		if n.op != "eq" || n.val.kind != litString || len(n.path) != 1 {
			return nil, false
		}
		return t.indexLookup(strings.ToLower(n.path[0]), n.val.s)
	case *inNode:
		if len(n.path) != 1 {
			return nil, false
		}
		var out []*user
		for _, v := range n.vals {
			if v.kind != litString {
				return nil, false
			}
			us, ok := t.indexLookup(strings.ToLower(n.path[0]), v.s)
			if !ok {
				return nil, false
			}
			out = append(out, us...)
		}
		return out, true
	case *lambdaNode:
		return t.lambdaCandidates(n)
	case *logicNode:
		l, lok := t.userCandidates(n.l)
		r, rok := t.userCandidates(n.r)
		switch {
		case n.op == "or" && lok && rok:
			return append(l, r...), true
		case n.op == "and" && lok && (!rok || len(l) <= len(r)):
			return l, true
		case n.op == "and" && rok:
			return r, true
		}
	}
	return nil, false
}

func (t *tenant) lambdaCandidates(n *lambdaNode) ([]*user, bool) {
	cmp, ok := n.body.(*cmpNode)
	if n.kind != "any" || len(n.path) != 1 || !ok || cmp.op != "eq" || cmp.val.kind != litString ||
		len(cmp.path) != 1 || !strings.EqualFold(cmp.path[0], n.v) {
		return nil, false
	}
	switch strings.ToLower(n.path[0]) {
	case "othermails":
		return t.byOther.get(strings.ToLower(cmp.val.s)), true
	case "proxyaddresses":
		return t.byProxy.get(strings.ToLower(cmp.val.s)), true
	}
	return nil, false
}

func (t *tenant) indexLookup(prop, value string) ([]*user, bool) {
	switch prop {
	case "id":
		if u, ok := t.users.get(value); ok {
			return []*user{u}, true
		}
		return nil, true
	case "userprincipalname":
		if u, ok := t.byUPN[strings.ToLower(value)]; ok {
			return []*user{u}, true
		}
		return nil, true
	case "mail":
		return t.byMail.get(strings.ToLower(value)), true
	}
	return nil, false
}
