package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/web"
	"github.com/foyer-dev/foyer/web/api"
)

// doc is the part of an OpenAPI 3.1 document the test reads.
type doc struct {
	OpenAPI    string                                `json:"openapi"`
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Schemas   map[string]json.RawMessage `json:"schemas"`
		Responses map[string]json.RawMessage `json:"responses"`
	} `json:"components"`
}

type operation struct {
	Responses map[string]json.RawMessage `json:"responses"`
}

type response struct {
	Ref     string `json:"$ref"`
	Content map[string]struct {
		Schema json.RawMessage `json:"schema"`
	} `json:"content"`
}

// schema is the subset of JSON Schema the document uses and the checker
// understands: $ref, allOf, type, required, properties, items, enum,
// additionalProperties.
type schema struct {
	Ref        string                     `json:"$ref"`
	AllOf      []json.RawMessage          `json:"allOf"`
	Type       any                        `json:"type"` // a name or a list of names
	Required   []string                   `json:"required"`
	Properties map[string]json.RawMessage `json:"properties"`
	Items      json.RawMessage            `json:"items"`
	Enum       []any                      `json:"enum"`
	Additional json.RawMessage            `json:"additionalProperties"`
}

// check reports every way v does not match the schema s, at path at.
func (d *doc) check(s json.RawMessage, v any, at string) []string {
	var sc schema
	if err := json.Unmarshal(s, &sc); err != nil {
		return []string{at + ": the schema does not decode: " + err.Error()}
	}
	if sc.Ref != "" {
		name, ok := strings.CutPrefix(sc.Ref, "#/components/schemas/")
		target, found := d.Components.Schemas[name]
		if !ok || !found {
			return []string{at + ": unresolved " + sc.Ref}
		}
		return d.check(target, v, at)
	}
	var errs []string
	for _, sub := range sc.AllOf {
		errs = append(errs, d.check(sub, v, at)...)
	}
	if sc.Type != nil && !typeMatches(sc.Type, v) {
		return append(errs, fmt.Sprintf("%s: %T, want type %v", at, v, sc.Type))
	}
	if sc.Enum != nil && !slices.Contains(sc.Enum, v) {
		errs = append(errs, fmt.Sprintf("%s: %v is not one of %v", at, v, sc.Enum))
	}
	switch v := v.(type) {
	case map[string]any:
		for _, r := range sc.Required {
			if _, ok := v[r]; !ok {
				errs = append(errs, at+": required "+r+" is missing")
			}
		}
		for k, fv := range v {
			if ps, ok := sc.Properties[k]; ok {
				errs = append(errs, d.check(ps, fv, at+"."+k)...)
			} else if len(sc.Additional) > 0 {
				if string(sc.Additional) == "false" {
					errs = append(errs, at+": unexpected property "+k)
				} else {
					errs = append(errs, d.check(sc.Additional, fv, at+"."+k)...)
				}
			}
		}
	case []any:
		if len(sc.Items) > 0 {
			for i, iv := range v {
				errs = append(errs, d.check(sc.Items, iv, fmt.Sprintf("%s[%d]", at, i))...)
			}
		}
	}
	return errs
}

func typeMatches(t any, v any) bool {
	names := []string{}
	switch t := t.(type) {
	case string:
		names = append(names, t)
	case []any:
		for _, n := range t {
			names = append(names, n.(string))
		}
	}
	for _, n := range names {
		switch x := v.(type) {
		case map[string]any:
			if n == "object" {
				return true
			}
		case []any:
			if n == "array" {
				return true
			}
		case string:
			if n == "string" {
				return true
			}
		case bool:
			if n == "boolean" {
				return true
			}
		case float64:
			if n == "number" || n == "integer" && x == float64(int64(x)) {
				return true
			}
		case nil:
			if n == "null" {
				return true
			}
		}
	}
	return false
}

func TestSchemaChecker(t *testing.T) {
	t.Parallel()
	d := &doc{}
	d.Components.Schemas = map[string]json.RawMessage{"S": json.RawMessage(`{"type":"string","enum":["a","b"]}`)}
	s := json.RawMessage(`{"type":"object","required":["x","n"],"additionalProperties":false,
		"properties":{"x":{"$ref":"#/components/schemas/S"},"n":{"type":"integer"},"l":{"type":"array","items":{"type":"boolean"}}}}`)
	cases := []struct {
		v     string
		wantN int
	}{
		{`{"x":"a","n":1,"l":[true]}`, 0},
		{`{"x":"c","n":1.5,"l":[1],"extra":0}`, 4},
		{`{}`, 2},
		{`[]`, 1},
	}
	for _, tc := range cases {
		var v any
		if err := json.Unmarshal([]byte(tc.v), &v); err != nil {
			t.Fatal(err)
		}
		if errs := d.check(s, v, "$"); len(errs) != tc.wantN {
			t.Errorf("%s: %d problems %v, want %d", tc.v, len(errs), errs, tc.wantN)
		}
	}
}

// The OpenAPI document and the handlers agree: every route is documented,
// every documented operation is routed, and every documented answer of
// every operation is produced by a call and matches its schema.
func TestOpenAPIDocument(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	h, err := api.New(api.Options{Intake: e.intake, Ledger: e.ledger})
	if err != nil {
		t.Fatal(err)
	}
	a := e.do("GET", "/api/v1/openapi.json", "", "")
	if a.status != 200 {
		t.Fatalf("openapi.json: %d", a.status)
	}
	var d doc
	if err := json.Unmarshal(a.raw, &d); err != nil || !strings.HasPrefix(d.OpenAPI, "3.1") {
		t.Fatalf("the document: %v, openapi %q", err, d.OpenAPI)
	}
	routed := map[string]bool{}
	for _, rt := range h.Routes() {
		key := strings.ToLower(rt.Method) + " " + rt.Pattern
		routed[key] = true
		if _, ok := d.Paths[rt.Pattern][strings.ToLower(rt.Method)]; !ok {
			t.Errorf("route %s is not documented", key)
		}
	}
	documented := map[string]bool{} // "post /api/v1/invitations 202"
	for path, ops := range d.Paths {
		for method, raw := range ops {
			if !routed[method+" "+path] {
				t.Errorf("operation %s %s is not routed", method, path)
			}
			var op operation
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatal(err)
			}
			for status := range op.Responses {
				documented[method+" "+path+" "+status] = true
			}
		}
	}

	// A principal without the role, as the server in front would find it.
	var roleless = &foyer.Principal{ID: "app-without-role", App: true}
	inner := e.srv.Config.Handler
	e.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Test-Roleless") != "" {
			r = r.WithContext(web.WithPrincipal(r.Context(), roleless))
		}
		inner.ServeHTTP(w, r)
	})
	addGuests(t, e.ledger, &foyer.Guest{UserID: "g1", Email: "gina@partner.example", DisplayName: "Gina", Redemption: "Accepted", Enabled: true, Profiles: []string{"partners"}},
		&foyer.Guest{UserID: "g2", Email: "hal@partner.example", DisplayName: "Hal"})
	key := e.bearer()
	pending := e.do("POST", "/api/v1/invitations", key, ann, "Idempotency-Key", "doc-1")
	invited := e.do("POST", "/api/v1/invitations", key, `{"email":"al@auto.example","display_name":"Al","profile":"partners"}`)
	extended := e.do("POST", "/api/v1/invitations", key, `{"email":"xi@auto.example","display_name":"Xi","profile":"partners"}`)
	if pending.status != 202 || invited.status != 202 || extended.status != 202 {
		t.Fatalf("setup: %s / %s / %s", pending.raw, invited.raw, extended.raw)
	}
	pid, iid, xid := pending.body["id"].(string), invited.body["id"].(string), extended.body["id"].(string)
	calls := []struct {
		method, pattern, path, auth, body string
		header                            []string
		want                              int
	}{
		{"post", "/api/v1/invitations", "", key, `{"email":"new@partner.example","display_name":"New","profile":"partners"}`, nil, 202},
		{"post", "/api/v1/invitations", "", key, ann, []string{"Idempotency-Key", "doc-1"}, 202},
		{"post", "/api/v1/invitations", "", key, `{"email":"x"}`, nil, 400},
		{"post", "/api/v1/invitations", "", "", ann, nil, 401},
		{"post", "/api/v1/invitations", "", "", ann, []string{"X-Test-Roleless", "1"}, 403},
		{"post", "/api/v1/invitations", "", key, `{"email":"gina@partner.example","display_name":"G","profile":"partners"}`, nil, 409},
		{"post", "/api/v1/invitations", "", key, `{"justification":"` + strings.Repeat("y", 5000) + `"}`, nil, 413},
		{"post", "/api/v1/invitations", "", key, ann, []string{"Content-Type", "text/plain"}, 415},
		{"post", "/api/v1/invitations", "", key, `{"email":"other@partner.example","display_name":"O","profile":"partners"}`, []string{"Idempotency-Key", "doc-1"}, 422},
		{"get", "/api/v1/requests/{id}", "/api/v1/requests/" + pid, key, "", nil, 200},
		{"get", "/api/v1/requests/{id}", "/api/v1/requests/" + iid, "", "", nil, 401},
		{"get", "/api/v1/requests/{id}", "/api/v1/requests/" + iid, "", "", []string{"X-Test-Roleless", "1"}, 403},
		{"get", "/api/v1/requests/{id}", "/api/v1/requests/none", key, "", nil, 404},
		{"post", "/api/v1/requests/{id}/revoke", "/api/v1/requests/" + iid + "/revoke", key, "", nil, 202},
		{"post", "/api/v1/requests/{id}/revoke", "/api/v1/requests/" + iid + "/revoke", "", "", nil, 401},
		{"post", "/api/v1/requests/{id}/revoke", "/api/v1/requests/" + iid + "/revoke", "", "", []string{"X-Test-Roleless", "1"}, 403},
		{"post", "/api/v1/requests/{id}/revoke", "/api/v1/requests/none/revoke", key, "", nil, 404},
		{"post", "/api/v1/requests/{id}/revoke", "/api/v1/requests/" + pid + "/revoke", key, "", nil, 409},
		{"post", "/api/v1/requests/{id}/extensions", "/api/v1/requests/" + xid + "/extensions", key, `{"until":"2026-05-01","justification":"more"}`, nil, 201},
		{"post", "/api/v1/requests/{id}/extensions", "/api/v1/requests/" + xid + "/extensions", key, `{"until":"soon"}`, nil, 400},
		{"post", "/api/v1/requests/{id}/extensions", "/api/v1/requests/" + xid + "/extensions", "", `{"until":"2026-06-01"}`, nil, 401},
		{"post", "/api/v1/requests/{id}/extensions", "/api/v1/requests/" + xid + "/extensions", "", `{"until":"2026-06-01"}`, []string{"X-Test-Roleless", "1"}, 403},
		{"post", "/api/v1/requests/{id}/extensions", "/api/v1/requests/none/extensions", key, `{"until":"2026-06-01"}`, nil, 404},
		{"post", "/api/v1/requests/{id}/extensions", "/api/v1/requests/" + pid + "/extensions", key, `{"until":"2026-06-01"}`, nil, 409},
		{"post", "/api/v1/requests/{id}/extensions", "/api/v1/requests/" + xid + "/extensions", key, `{"until":"2026-06-01"}`, []string{"Content-Type", "text/plain"}, 415},
		{"get", "/api/v1/requests/{id}", "/api/v1/requests/" + xid, key, "", nil, 200},
		{"get", "/api/v1/guests", "/api/v1/guests?limit=1", key, "", nil, 200},
		{"get", "/api/v1/guests", "/api/v1/guests?limit=-1", key, "", nil, 400},
		{"get", "/api/v1/guests", "", "", "", nil, 401},
		{"get", "/api/v1/guests", "", "", "", []string{"X-Test-Roleless", "1"}, 403},
		{"get", "/api/v1/openapi.json", "", "", "", nil, 200},
	}
	for _, c := range calls {
		path := c.path
		if path == "" {
			path = c.pattern
		}
		got := e.do(strings.ToUpper(c.method), path, c.auth, c.body, c.header...)
		name := fmt.Sprintf("%s %s %d", c.method, path, c.want)
		if got.status != c.want {
			t.Errorf("%s: status %d: %s", name, got.status, got.raw)
			continue
		}
		status := fmt.Sprint(got.status)
		delete(documented, c.method+" "+c.pattern+" "+status)
		raw, ok := d.Paths[c.pattern][c.method]
		if !ok {
			continue // reported above
		}
		var op operation
		_ = json.Unmarshal(raw, &op)
		rr, ok := op.Responses[status]
		if !ok {
			t.Errorf("%s: status %s is not documented", name, status)
			continue
		}
		var resp response
		_ = json.Unmarshal(rr, &resp)
		if ref, ok := strings.CutPrefix(resp.Ref, "#/components/responses/"); ok {
			_ = json.Unmarshal(d.Components.Responses[ref], &resp)
		}
		ct, _, _ := strings.Cut(got.header.Get("Content-Type"), ";")
		media, ok := resp.Content[ct]
		if !ok {
			t.Errorf("%s: content type %q is not documented (%v)", name, ct, keys(resp.Content))
			continue
		}
		var v any
		_ = json.Unmarshal(got.raw, &v)
		for _, p := range d.check(media.Schema, v, "$") {
			t.Errorf("%s: %s", name, p)
		}
	}
	for _, left := range keys(documented) {
		t.Errorf("no call answered %s", left)
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
