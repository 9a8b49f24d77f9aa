package sim

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// listSpec is what a collection accepts in its query options.
type listSpec struct {
	typ        string        // OData type name for messages: "user"
	filter     *filterSchema // nil: $filter not supported
	fields     func(lower string) (string, bool)
	defaultTop int // page size without $top
	maxTop     int
	skip       bool // whether $skip is allowed
}

// listQuery is a parsed and validated set of OData query options
// (GD concepts/query-parameters.md).
type listQuery struct {
	filter   node
	sel      []string // canonical names, in the order asked
	top      int
	count    bool  // answer @odata.count
	advanced bool  // ConsistencyLevel: eventual and $count=true
	after    int64 // cursor from $skiptoken: objects created after this seq
	signIn   bool  // signInActivity selected or filtered
}

// option reads a query option by name, with or without its $, in any case
// (Graph v1.0 accepts both spellings).
func option(q url.Values, name string) (string, bool) {
	for k, v := range q {
		if strings.EqualFold(k, "$"+name) || strings.EqualFold(k, name) {
			if len(v) == 0 {
				return "", true
			}
			return v[0], true
		}
	}
	return "", false
}

// eventual reports whether the request carries ConsistencyLevel: eventual.
func eventual(h http.Header) bool {
	return strings.EqualFold(strings.TrimSpace(h.Get("ConsistencyLevel")), "eventual")
}

func parseList(q url.Values, h http.Header, spec listSpec, generation int64) (*listQuery, *apiError) {
	lq := &listQuery{top: spec.defaultTop}
	countOpt, _ := option(q, "count")
	lq.advanced = eventual(h) && strings.EqualFold(countOpt, "true")
	lq.count = lq.advanced
	if err := unsupportedOptions(q, h, spec); err != nil {
		return nil, err
	}
	if err := lq.parseSelect(q, spec); err != nil {
		return nil, err
	}
	if err := lq.parseFilter(q, spec); err != nil {
		return nil, err
	}
	if err := lq.parseTop(q, spec); err != nil {
		return nil, err
	}
	if tok, ok := option(q, "skiptoken"); ok {
		after, err := decodeSkipToken(tok, generation)
		if err != nil {
			return nil, err
		}
		lq.after = after
	}
	return lq, nil
}

// unsupportedOptions answers the query options the sim does not model with
// the errors Graph gives when they are misused, and a clear error otherwise.
func unsupportedOptions(q url.Values, h http.Header, spec listSpec) *apiError {
	if _, ok := option(q, "skip"); ok && !spec.skip {
		return errBadRequest("'$skip' is not supported by the service.")
	}
	if _, ok := option(q, "search"); ok {
		if !eventual(h) {
			// GD concepts/aad-advanced-queries.md, verbatim.
			return errUnsupportedQuery("Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'")
		}
		return errUnsupportedQuery("$search is not modelled by the emulated tenant; use $filter.")
	}
	if _, ok := option(q, "orderby"); ok {
		return errUnsupportedQuery("$orderby is not modelled by the emulated tenant; results come in creation order.")
	}
	if _, ok := option(q, "expand"); ok {
		return errUnsupportedQuery("$expand is not modelled by the emulated tenant.")
	}
	return nil
}

func (lq *listQuery) parseSelect(q url.Values, spec listSpec) *apiError {
	v, ok := option(q, "select")
	if !ok || strings.TrimSpace(v) == "" {
		return nil
	}
	seen := map[string]bool{}
	for _, name := range strings.Split(v, ",") {
		name = strings.TrimSpace(name)
		canon, ok := spec.fields(strings.ToLower(name))
		if !ok {
			return errNoProperty(name, spec.typ)
		}
		if !seen[canon] {
			seen[canon] = true
			lq.sel = append(lq.sel, canon)
		}
		if canon == "signInActivity" {
			lq.signIn = true
		}
	}
	return nil
}

func (lq *listQuery) parseFilter(q url.Values, spec listSpec) *apiError {
	v, ok := option(q, "filter")
	if !ok || strings.TrimSpace(v) == "" {
		return nil
	}
	if spec.filter == nil {
		return errBadRequest("The request does not support $filter.")
	}
	n, err := parseFilter(v)
	if err != nil {
		return errOData("Invalid filter clause: %s", err.Error())
	}
	if e := spec.filter.check(n, lq.advanced); e != nil {
		return e
	}
	lq.filter = n
	if strings.Contains(strings.ToLower(v), "signinactivity") {
		lq.signIn = true
	}
	return nil
}

// parseTop reads $top. Graph allows 1 to 999 on directory collections
// (message verbatim from Microsoft Q&A 1129204, docs/graph-reference.md §2); with
// signInActivity the page holds at most 120 users (GD user-list.md).
func (lq *listQuery) parseTop(q url.Values, spec listSpec) *apiError {
	if v, ok := option(q, "top"); ok {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 1 || n > spec.maxTop {
			return errBadRequest("Invalid page size specified: '%s'. Must be between 1 and %d inclusive.", v, spec.maxTop)
		}
		lq.top = n
	}
	if lq.signIn && lq.top > 120 {
		lq.top = 120
	}
	return nil
}

// encodeSkipToken makes the opaque $skiptoken for the page after seq.
func encodeSkipToken(seq, generation int64) string {
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "sim1:%d:%d", generation, seq))
}

// decodeSkipToken reads a $skiptoken. A token from before a reset, or one
// the sim did not make, gets the directory's expired-token answer.
func decodeSkipToken(tok string, generation int64) (int64, *apiError) {
	expired := newError(http.StatusBadRequest, "Directory_ExpiredPageToken",
		"The specified page token value has expired and can no longer be included in your request.")
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, expired
	}
	var gen, seq int64
	if _, err := fmt.Sscanf(string(raw), "sim1:%d:%d", &gen, &seq); err != nil || gen != generation || seq < 0 {
		return 0, expired
	}
	return seq, nil
}

// nextLink is the URL of the next page: the request's own URL with a new
// $skiptoken, as Graph writes it (GD concepts/paging.md).
func nextLink(base, path string, q url.Values, token string) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		if !strings.EqualFold(strings.TrimPrefix(k, "$"), "skiptoken") {
			keys = append(keys, k)
		}
	}
	var b strings.Builder
	b.WriteString(base + path + "?")
	for _, k := range sortedStrings(keys) {
		for _, v := range q[k] {
			b.WriteString(queryEscape(k) + "=" + queryEscape(v) + "&")
		}
	}
	b.WriteString("$skiptoken=" + token)
	return b.String()
}

// queryEscape escapes a query component but keeps '$' readable, as Graph's
// links do.
func queryEscape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "%24", "$")
}
