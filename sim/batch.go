package sim

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/foyer-dev/foyer/sim/chaos"
)

// JSON batching (GD concepts/json-batching.md, docs/graph-reference.md §5): up to 20
// requests with unique ids, relative URLs, optional dependsOn; the batch is
// answered 200 with each request's own status, headers and body. Each item
// is authorised, throttled and counted on its own. Items run in order,
// each after the items it depends on; an item whose dependency failed gets
// 424 Failed Dependency. Texts marked [unverified] follow Graph's style.

const maxBatch = 20

type batchItem struct {
	ID        string            `json:"id"`
	Method    string            `json:"method"`
	URL       string            `json:"url"`
	Headers   map[string]string `json:"headers"`
	Body      json.RawMessage   `json:"body"`
	DependsOn []string          `json:"dependsOn"`
}

// parseBatch validates a $batch body and returns its items in run order.
func parseBatch(body []byte) ([]batchItem, *apiError) {
	var in struct {
		Requests []batchItem `json:"requests"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&in); err != nil || in.Requests == nil {
		return nil, errOData("Invalid batch payload format.") // [unverified]
	}
	if len(in.Requests) > maxBatch {
		return nil, errOData("The number of requests in a batch must not exceed %d.", maxBatch) // [unverified]
	}
	seen := map[string]bool{}
	for _, it := range in.Requests {
		if err := checkItem(it, seen); err != nil {
			return nil, err
		}
		seen[strings.ToLower(it.ID)] = true
	}
	for _, it := range in.Requests {
		for _, dep := range it.DependsOn {
			if !seen[strings.ToLower(dep)] || strings.EqualFold(dep, it.ID) {
				return nil, errOData("Request %s depends on request %s, which is not in the batch.", it.ID, dep) // [unverified]
			}
		}
	}
	return runOrder(in.Requests)
}

func checkItem(it batchItem, seen map[string]bool) *apiError {
	switch {
	case strings.TrimSpace(it.ID) == "":
		return errOData("Each request in a batch must have an id.") // [unverified]
	case seen[strings.ToLower(it.ID)]:
		return errOData("Request id %s is not unique in the batch.", it.ID) // [unverified]
	case strings.TrimSpace(it.Method) == "":
		return errOData("Request %s has no method.", it.ID) // [unverified]
	case strings.TrimSpace(it.URL) == "":
		return errOData("Request %s has no url.", it.ID) // [unverified]
	}
	if len(bytes.TrimSpace(it.Body)) > 0 && string(bytes.TrimSpace(it.Body)) != "null" && headerValue(it.Headers, "Content-Type") == "" {
		// "headers ... required when body present" (docs/graph-reference.md §5).
		return errOData("Request %s has a body but no Content-Type header.", it.ID) // [unverified]
	}
	return nil
}

// runOrder sorts items so that each comes after its dependencies, keeping
// the given order otherwise; a cycle is refused.
func runOrder(items []batchItem) ([]batchItem, *apiError) {
	byID := map[string]int{}
	for i, it := range items {
		byID[strings.ToLower(it.ID)] = i
	}
	state := make([]int, len(items)) // 0 new, 1 visiting, 2 done
	var out []batchItem
	var visit func(i int) bool
	visit = func(i int) bool {
		switch state[i] {
		case 1:
			return false
		case 2:
			return true
		}
		state[i] = 1
		for _, d := range items[i].DependsOn {
			if !visit(byID[strings.ToLower(d)]) {
				return false
			}
		}
		state[i] = 2
		out = append(out, items[i])
		return true
	}
	for i := range items {
		if !visit(i) {
			return nil, errOData("The dependsOn of the batch's requests form a cycle.") // [unverified]
		}
	}
	return out, nil
}

func headerValue(h map[string]string, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// postBatch is POST /$batch.
func postBatch(c *call) *reply {
	items, err := parseBatch(c.body)
	if err != nil {
		return c.fail(err)
	}
	status := map[string]int{}
	responses := make([]object, 0, len(items))
	for _, it := range items {
		var rep *reply
		if dep := failedDependency(it, status); dep {
			rep = c.fail(newError(http.StatusFailedDependency, "FailedDependency", "Failed dependency.")) // [unverified text]
		} else {
			rep = c.s.runItem(c, it)
		}
		status[strings.ToLower(it.ID)] = rep.status
		responses = append(responses, batchResponse(it.ID, rep))
	}
	return replyOK(object{{"responses", responses}})
}

func failedDependency(it batchItem, status map[string]int) bool {
	for _, d := range it.DependsOn {
		if s := status[strings.ToLower(d)]; s < 200 || s > 299 {
			return true
		}
	}
	return false
}

// runItem runs one batch item as a call of its own, with the batch's
// token, through routing, permission, throttling and the fault model.
func (s *Server) runItem(outer *call, it batchItem) *reply {
	c := &call{
		s: s, t: outer.t, who: outer.who, shape: shapeGraph,
		method: strings.ToUpper(strings.TrimSpace(it.Method)),
		header: http.Header{},
		reqID:  s.ids.guid(), clientID: outer.clientID,
		base: outer.base, now: s.clock.Now(),
	}
	for k, v := range it.Headers {
		c.header.Set(k, v)
	}
	path, query, err := itemURL(it.URL, outer.prefix)
	if err != nil {
		return c.fail(err)
	}
	c.path, c.query = outer.prefix+"/"+path, query
	if c.body, err = itemBody(it); err != nil {
		return c.fail(err)
	}
	segs := splitPath(path)
	if len(segs) == 1 && strings.EqualFold(segs[0], "$batch") {
		return c.fail(errOData("A batch cannot contain another batch.")) // [unverified]
	}
	a := s.chaos.DecideBatchItem()
	if a.Fault == chaos.Answer && !a.After {
		s.stats.fault()
		return s.itemFault(c, a)
	}
	rep := s.dispatch(c, outer.prefix, segs)
	if a.Fault == chaos.Answer {
		s.stats.fault()
		return s.itemFault(c, a)
	}
	return rep
}

func (s *Server) itemFault(c *call, a chaos.Action) *reply {
	rep := c.fail(newError(a.Status, a.Code, "%s", a.Message))
	rep.header = http.Header{}
	a.SetHeaders(rep.header)
	return rep
}

// itemURL reads an item's url: relative to the version ("/users?$top=1"),
// with or without the leading slash or the version.
func itemURL(raw, prefix string) (string, url.Values, *apiError) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return "", nil, errOData("Invalid request URL '%s'.", raw) // [unverified]
	}
	p := strings.TrimPrefix(u.EscapedPath(), "/")
	if rest, ok := strings.CutPrefix(p, strings.TrimPrefix(prefix, "/")+"/"); ok {
		p = rest
	}
	return p, u.Query(), nil
}

// itemBody is the item's body: JSON as given, or base64 for other types.
func itemBody(it batchItem) ([]byte, *apiError) {
	b := bytes.TrimSpace(it.Body)
	if len(b) == 0 || string(b) == "null" {
		return nil, nil
	}
	if strings.Contains(strings.ToLower(headerValue(it.Headers, "Content-Type")), "json") {
		return b, nil
	}
	var s string
	if json.Unmarshal(b, &s) != nil {
		return b, nil
	}
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, errOData("The body of request %s is not base64.", it.ID) // [unverified]
	}
	return raw, nil
}

// batchResponse is one entry of the batch answer.
func batchResponse(id string, rep *reply) object {
	headers := object{}
	for k, vs := range rep.header {
		if len(vs) > 0 {
			headers = append(headers, member{k, vs[0]})
		}
	}
	out := object{{"id", id}, {"status", rep.status}}
	switch {
	case rep.raw != nil:
		ct := rep.ctype
		if ct == "" {
			ct = "text/plain"
		}
		headers = append(headers, member{"Content-Type", ct})
		out = append(out, member{"headers", headers}, member{"body", base64.StdEncoding.EncodeToString(rep.raw)})
	case rep.body != nil:
		headers = append(headers, member{"Content-Type", "application/json; odata.metadata=minimal; odata.streaming=true; IEEE754Compatible=false; charset=utf-8"})
		out = append(out, member{"headers", headers}, member{"body", rep.body})
	default:
		out = append(out, member{"headers", headers})
	}
	return out
}
