package sim

import (
	"strings"
	"time"
)

// entity is an object a $filter is evaluated against. field returns a
// top-level property by its lowercased name: nil, string, bool, time.Time,
// []string, []map[string]any (collections of complex values) or
// map[string]any (a complex value, keys lowercased).
type entity interface {
	field(name string) any
}

// matches evaluates n against e. A nil filter matches everything.
func matches(n node, e entity) bool {
	if n == nil {
		return true
	}
	return eval(n, e, nil)
}

func eval(n node, e entity, vars map[string]any) bool {
	switch n := n.(type) {
	case *logicNode:
		if n.op == "and" {
			return eval(n.l, e, vars) && eval(n.r, e, vars)
		}
		return eval(n.l, e, vars) || eval(n.r, e, vars)
	case *notNode:
		return !eval(n.x, e, vars)
	case *cmpNode:
		return compare(n.op, resolve(n.path, e, vars), n.val)
	case *inNode:
		v := resolve(n.path, e, vars)
		for _, l := range n.vals {
			if compare("eq", v, l) {
				return true
			}
		}
		return false
	case *funcNode:
		s, ok := resolve(n.path, e, vars).(string)
		if !ok {
			return false
		}
		s, a := strings.ToLower(s), strings.ToLower(n.arg.s)
		if n.name == "startswith" {
			return strings.HasPrefix(s, a)
		}
		return strings.HasSuffix(s, a)
	case *lambdaNode:
		return evalLambda(n, e, vars)
	}
	return false
}

func evalLambda(n *lambdaNode, e entity, vars map[string]any) bool {
	elems := elements(resolve(n.path, e, vars))
	inner := make(map[string]any, len(vars)+1)
	for k, v := range vars {
		inner[k] = v
	}
	name := strings.ToLower(n.v)
	for _, el := range elems {
		inner[name] = el
		ok := eval(n.body, e, inner)
		if n.kind == "any" && ok {
			return true
		}
		if n.kind == "all" && !ok {
			return false
		}
	}
	return n.kind == "all"
}

func elements(v any) []any {
	switch c := v.(type) {
	case []string:
		out := make([]any, len(c))
		for i, s := range c {
			out[i] = s
		}
		return out
	case []map[string]any:
		out := make([]any, len(c))
		for i, m := range c {
			out[i] = m
		}
		return out
	}
	return nil
}

// resolve follows a property path from e (or from a lambda variable).
func resolve(path []string, e entity, vars map[string]any) any {
	first := strings.ToLower(path[0])
	var v any
	if bound, ok := vars[first]; ok {
		v = bound
	} else {
		v = e.field(first)
	}
	for _, seg := range path[1:] {
		seg = strings.ToLower(seg)
		if seg == "$count" {
			v = len(elements(v))
			continue
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[seg]
	}
	return v
}

func compare(op string, v any, l literal) bool {
	if l.kind == litNull {
		null := v == nil || v == "" || isZeroTime(v)
		if op == "ne" {
			return !null
		}
		return op == "eq" && null
	}
	c, ok := order(v, l)
	if !ok {
		return op == "ne"
	}
	switch op {
	case "eq":
		return c == 0
	case "ne":
		return c != 0
	case "ge":
		return c >= 0
	case "le":
		return c <= 0
	case "gt":
		return c > 0
	case "lt":
		return c < 0
	}
	return false
}

func isZeroTime(v any) bool {
	t, ok := v.(time.Time)
	return ok && t.IsZero()
}

// order compares a property value with a literal: -1, 0 or 1, and whether
// they are comparable at all. Strings compare case-insensitively, as the
// directory does.
func order(v any, l literal) (int, bool) {
	switch v := v.(type) {
	case string:
		if l.kind != litString && l.kind != litGUID {
			return 0, false
		}
		return strings.Compare(strings.ToLower(v), strings.ToLower(l.s)), true
	case bool:
		if l.kind != litBool {
			return 0, false
		}
		if v == l.b {
			return 0, true
		}
		if v {
			return 1, true
		}
		return -1, true
	case time.Time:
		if l.kind != litTime || v.IsZero() {
			return 0, false
		}
		return v.Compare(l.t), true
	case int:
		if l.kind != litNumber {
			return 0, false
		}
		f := float64(v)
		switch {
		case f < l.n:
			return -1, true
		case f > l.n:
			return 1, true
		}
		return 0, true
	}
	return 0, false
}
