package api_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/store"
	"github.com/foyer-dev/foyer/web/api"
)

const ann = `{"email":"ann@partner.example","display_name":"Ann Example","profile":"partners"}`

func TestInvitations(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		body       string
		header     []string
		wantStatus int
		wantType   string   // the problem's type, after urn:foyer:problem:
		wantFields []string // the problem's errors, sorted
		wantDetail string   // part of the detail
	}{
		{name: "made", body: `{"email":"bob@partner.example","display_name":"Bob","profile":"partners","company":"Partner","justification":"joint project\nphase 2","answers":{"project":"apollo"}}`, wantStatus: 202},
		{name: "unknown fields, bad email and types named at once", body: `{"email":"bob@","display_name":7,"profil":"partners","admin":true}`, wantStatus: 400, wantType: "invalid",
			wantFields: []string{"admin", "display_name", "email", "profil", "profile"}},
		{name: "missing and empty", body: `{"email":" ","display_name":""}`, wantStatus: 400, wantType: "invalid", wantFields: []string{"display_name", "email", "profile"}},
		{name: "control character and bad answer key", body: `{"email":"c@partner.example","display_name":"C\r\nBcc: x@evil.example","profile":"partners","answers":{"Bad Key":"x"}}`,
			wantStatus: 400, wantType: "invalid", wantFields: []string{"answers.Bad Key", "display_name"}},
		{name: "not JSON", body: `{"email":`, wantStatus: 400, wantType: "invalid", wantDetail: "not a JSON object"},
		{name: "an array", body: `[1,2]`, wantStatus: 400, wantType: "invalid"},
		{name: "trailing data", body: ann + ` {}`, wantStatus: 400, wantType: "invalid", wantDetail: "more after"},
		{name: "oversize", body: `{"email":"d@partner.example","display_name":"D","profile":"partners","justification":"` + strings.Repeat("x", 5000) + `"}`,
			wantStatus: 413, wantType: "too_large"},
		{name: "not application/json", body: ann, header: []string{"Content-Type", "text/plain"}, wantStatus: 415, wantType: "unsupported_media_type"},
		{name: "internal address", body: `{"email":"eve@contoso.example","display_name":"Eve","profile":"partners"}`, wantStatus: 403, wantType: "forbidden", wantDetail: "tenant itself"},
		{name: "closed profile", body: `{"email":"f@partner.example","display_name":"F","profile":"closed"}`, wantStatus: 403, wantType: "forbidden", wantDetail: "applications"},
		{name: "already a guest", body: `{"email":"Gina@Partner.example","display_name":"Gina","profile":"partners"}`, wantStatus: 409, wantType: "conflict", wantDetail: "guest already"},
		{name: "empty idempotency key", body: ann, header: []string{"Idempotency-Key", " "}, wantStatus: 400, wantFields: []string{"Idempotency-Key"}},
		{name: "idempotency key with a control character", body: ann, header: []string{"Idempotency-Key", "a\tb"}, wantStatus: 400, wantFields: []string{"Idempotency-Key"}},
	}
	e := newEnv(t, nil)
	addGuests(t, e.ledger, &foyer.Guest{UserID: "g1", Email: "gina@partner.example", DisplayName: "Gina"})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := e.do("POST", "/api/v1/invitations", e.bearer(), tc.body, tc.header...)
			if a.status != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", a.status, tc.wantStatus, a.raw)
			}
			if tc.wantStatus == 202 {
				if a.body["state"] != "pending_approval" || a.header.Get("Location") != "/api/v1/requests/"+a.body["id"].(string) {
					t.Errorf("answer %s, Location %q", a.raw, a.header.Get("Location"))
				}
				return
			}
			if ct := a.header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("Content-Type %q", ct)
			}
			if tc.wantType != "" && a.body["type"] != "urn:foyer:problem:"+tc.wantType {
				t.Errorf("type %v, want %s: %s", a.body["type"], tc.wantType, a.raw)
			}
			if a.body["status"] != float64(tc.wantStatus) || a.body["title"] != http.StatusText(tc.wantStatus) {
				t.Errorf("problem status/title: %s", a.raw)
			}
			if tc.wantFields != nil && !slices.Equal(a.fields(), tc.wantFields) {
				t.Errorf("fields %v, want %v: %s", a.fields(), tc.wantFields, a.raw)
			}
			if d, _ := a.body["detail"].(string); !strings.Contains(d, tc.wantDetail) {
				t.Errorf("detail %q, want it to say %q", d, tc.wantDetail)
			}
		})
	}
	// What the engine was given: the caller as principal and requester.
	sub := e.intake.subs[0]
	if sub.Origin != foyer.OriginAPI || sub.By == nil || sub.By.ID != "apikey:crm" || sub.Details.RequestedBy != "apikey:crm" ||
		sub.Details.Answers["project"] != "apollo" || sub.Details.Justification != "joint project\nphase 2" || len(sub.BodyHash) != 64 {
		t.Errorf("submission: %+v", sub)
	}
}

func TestIdempotencyKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	first := e.do("POST", "/api/v1/invitations", e.bearer(), ann, "Idempotency-Key", "crm-4711")
	if first.status != 202 || first.body["again"] != false {
		t.Fatalf("first: %d %s", first.status, first.raw)
	}
	id := first.body["id"]
	// The same body with other whitespace and key order is the same call.
	same := `{ "profile": "partners",
	  "display_name": "Ann Example", "email": "ann@partner.example" }`
	again := e.do("POST", "/api/v1/invitations", e.bearer(), same, "Idempotency-Key", "crm-4711")
	if again.status != 202 || again.body["id"] != id || again.body["again"] != true || again.header.Get("Location") != first.header.Get("Location") {
		t.Errorf("again: %d %s", again.status, again.raw)
	}
	other := e.do("POST", "/api/v1/invitations", e.bearer(), `{"email":"ann@partner.example","display_name":"Ann Other","profile":"partners"}`, "Idempotency-Key", "crm-4711")
	if other.status != 422 || other.body["type"] != "urn:foyer:problem:idempotency_key_reused" || !slices.Equal(other.fields(), []string{"Idempotency-Key"}) {
		t.Errorf("other body: %d %s", other.status, other.raw)
	}
	// Another key is another call.
	if fresh := e.do("POST", "/api/v1/invitations", e.bearer(), `{"email":"zoe@partner.example","display_name":"Zoe","profile":"partners"}`, "Idempotency-Key", "crm-4712"); fresh.status != 202 || fresh.body["id"] == id {
		t.Errorf("another key: %d %s", fresh.status, fresh.raw)
	}
	if n := len(e.intake.subs); n != 2 {
		t.Errorf("the engine was asked %d times, want 2 (replays answer from the ledger)", n)
	}
}

func TestIdempotencyKeysArePerClient(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	a := e.do("POST", "/api/v1/invitations", e.bearer(), ann, "Idempotency-Key", "k1")
	if a.status != 202 {
		t.Fatalf("%d %s", a.status, a.raw)
	}
	key2 := addKey(t, e, "erp")
	b := e.do("POST", "/api/v1/invitations", "Bearer "+key2, `{"email":"ann2@partner.example","display_name":"Ann","profile":"partners"}`, "Idempotency-Key", "k1")
	if b.status != 202 || b.body["id"] == a.body["id"] {
		t.Errorf("another client's key: %d %s", b.status, b.raw)
	}
}

// racingIntake is an engine where another call with the same key and
// another body won the race: the key is in the ledger by the time it
// refuses.
type racingIntake struct {
	*fakeIntake
}

func (r racingIntake) Submit(ctx context.Context, s foyer.Submission) (foyer.Receipt, error) {
	err := r.ledger.InTx(ctx, func(tx store.Tx) error {
		won := &foyer.Request{ID: "req-won", Origin: foyer.OriginAPI, Email: "won@partner.example", Profile: "partners", State: foyer.StateReceived}
		if err := tx.CreateRequest(ctx, won); err != nil {
			return err
		}
		return tx.PutIdempotencyKey(ctx, store.IdempotencyKey{Client: s.By.ID, Key: s.IdempotencyKey, BodyHash: "another", RequestID: won.ID})
	})
	if err != nil {
		return foyer.Receipt{}, err
	}
	return foyer.Receipt{}, foyer.Errorf(foyer.ECONFLICT, "the idempotency key was used with another body")
}

// The engine is the last word on a key: a call that raced past the API's
// look-up gets the engine's refusal as 422 all the same.
func TestIdempotencyKeyRace(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	a, err := api.NewAuthenticator(t.Context(), api.AuthOptions{Ledger: e.ledger})
	if err != nil {
		t.Fatal(err)
	}
	h, err := api.New(api.Options{Intake: racingIntake{e.intake}, Ledger: e.ledger, Auth: a})
	if err != nil {
		t.Fatal(err)
	}
	e.srv.Config.Handler = mux(h.Routes())
	got := e.do("POST", "/api/v1/invitations", e.bearer(), ann, "Idempotency-Key", "k1")
	if got.status != 422 || got.body["type"] != "urn:foyer:problem:idempotency_key_reused" {
		t.Errorf("%d %s", got.status, got.raw)
	}
	// Without a key the engine's conflict is the answer.
	if got := e.do("POST", "/api/v1/invitations", e.bearer(), ann); got.status != 409 {
		t.Errorf("without a key: %d %s", got.status, got.raw)
	}
}

func addKey(t *testing.T, e *env, name string) string {
	t.Helper()
	key, hash, prefix, err := api.NewKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	inTx(t, e.ledger, func(ctx context.Context, tx store.Tx) error {
		return tx.CreateAPIKey(ctx, store.APIKey{Name: name, Hash: hash, Prefix: prefix, CreatedAt: tx.Now()})
	})
	return key
}

func TestRequests(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	pending := e.do("POST", "/api/v1/invitations", e.bearer(), ann)
	auto := e.do("POST", "/api/v1/invitations", e.bearer(), `{"email":"al@auto.example","display_name":"Al","profile":"partners"}`)
	if pending.status != 202 || auto.status != 202 || auto.body["state"] != "invited" {
		t.Fatalf("setup: %s / %s", pending.raw, auto.raw)
	}
	pid, aid := pending.body["id"].(string), auto.body["id"].(string)

	g := e.do("GET", "/api/v1/requests/"+pid, e.bearer(), "")
	if g.status != 200 || g.body["state"] != "pending_approval" || len(g.body["history"].([]any)) != 2 || g.body["decisions"] == nil {
		t.Errorf("get: %d %s", g.status, g.raw)
	}
	if ap, _ := g.body["approval"].(map[string]any); ap == nil || ap["stage"] != float64(1) {
		t.Errorf("approval: %s", g.raw)
	}
	if nf := e.do("GET", "/api/v1/requests/nope", e.bearer(), ""); nf.status != 404 || nf.body["type"] != "urn:foyer:problem:not_found" {
		t.Errorf("unknown: %d %s", nf.status, nf.raw)
	}
	if c := e.do("POST", "/api/v1/requests/"+pid+"/revoke", e.bearer(), ""); c.status != 409 {
		t.Errorf("revoke a pending request: %d %s", c.status, c.raw)
	}
	r := e.do("POST", "/api/v1/requests/"+aid+"/revoke", e.bearer(), "")
	if r.status != 202 || r.body["state"] != "revoked" {
		t.Errorf("revoke: %d %s", r.status, r.raw)
	}
	if v := e.do("GET", "/api/v1/requests/"+aid, e.bearer(), ""); !strings.Contains(string(v.raw), "(apikey:crm)") {
		t.Errorf("the revocation is not in the caller's name: %s", v.raw)
	}
}

func TestGuests(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	for i := range 7 {
		addGuests(t, e.ledger, &foyer.Guest{UserID: fmt.Sprintf("g%d", i), Email: foyer.Address(fmt.Sprintf("g%d@partner.example", i)),
			DisplayName: fmt.Sprintf("Guest %d", i), Redemption: "Accepted", Enabled: true, Profiles: []string{"partners"}})
	}
	addGuests(t, e.ledger, &foyer.Guest{UserID: "z", Email: "zed@other.example", DisplayName: "Zed"})
	var seen []string
	next := "/api/v1/guests?q=partner&limit=3"
	for pages := 0; next != ""; pages++ {
		if pages > 5 {
			t.Fatal("the pages do not end")
		}
		a := e.do("GET", next, e.bearer(), "")
		if a.status != 200 {
			t.Fatalf("%s: %d %s", next, a.status, a.raw)
		}
		for _, g := range a.body["guests"].([]any) {
			seen = append(seen, g.(map[string]any)["email"].(string))
		}
		next, _ = a.body["next"].(string)
	}
	if len(seen) != 7 || seen[0] != "g0@partner.example" || seen[6] != "g6@partner.example" {
		t.Errorf("paged through %v", seen)
	}
	if a := e.do("GET", "/api/v1/guests", e.bearer(), ""); len(a.body["guests"].([]any)) != 8 || a.body["next"] != nil {
		t.Errorf("one page: %s", a.raw)
	}
	for _, bad := range []string{"0", "1001", "x"} {
		if a := e.do("GET", "/api/v1/guests?limit="+bad, e.bearer(), ""); a.status != 400 || !slices.Equal(a.fields(), []string{"limit"}) {
			t.Errorf("limit=%s: %d %s", bad, a.status, a.raw)
		}
	}
}

// TestExtensions: POST /api/v1/requests/{id}/extensions asks in the
// caller's name for the end it reads (a day or an RFC 3339 time), names
// every bad field, and answers the intake's refusals as problems; GET
// then shows the new end and the extension.
func TestExtensions(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	auto := e.do("POST", "/api/v1/invitations", e.bearer(), `{"email":"al@auto.example","display_name":"Al","profile":"partners"}`)
	pending := e.do("POST", "/api/v1/invitations", e.bearer(), ann)
	if auto.status != 202 || pending.status != 202 {
		t.Fatalf("setup: %s / %s", auto.raw, pending.raw)
	}
	aid, pid := auto.body["id"].(string), pending.body["id"].(string)
	g := e.do("GET", "/api/v1/requests/"+aid, e.bearer(), "")
	if g.body["access_ends"] != "2026-03-31T09:01:00Z" || g.body["extension"] != nil {
		t.Fatalf("before: access_ends %v, extension %v", g.body["access_ends"], g.body["extension"])
	}
	if g := e.do("GET", "/api/v1/requests/"+pid, e.bearer(), ""); g.body["access_ends"] != nil {
		t.Errorf("a pending request shows access_ends %v", g.body["access_ends"])
	}

	bad := e.do("POST", "/api/v1/requests/"+aid+"/extensions", e.bearer(), `{"until":"next month","justification":`+
		`"`+strings.Repeat("y", 2001)+`","why":"x"}`)
	if bad.status != 400 || !slices.Equal(bad.fields(), []string{"justification", "until", "why"}) {
		t.Errorf("bad fields: %d %v %s", bad.status, bad.fields(), bad.raw)
	}
	if m := e.do("POST", "/api/v1/requests/"+aid+"/extensions", e.bearer(), `{"justification":"x"}`); m.status != 400 || !slices.Equal(m.fields(), []string{"until"}) {
		t.Errorf("until missing: %d %s", m.status, m.raw)
	}
	if c := e.do("POST", "/api/v1/requests/"+aid+"/extensions", e.bearer(), `{"until":"2026-03-20"}`); c.status != 400 ||
		c.body["type"] != "urn:foyer:problem:invalid" {
		t.Errorf("an end before the current one: %d %s", c.status, c.raw)
	}
	if c := e.do("POST", "/api/v1/requests/"+pid+"/extensions", e.bearer(), `{"until":"2026-06-01"}`); c.status != 409 {
		t.Errorf("a pending request: %d %s", c.status, c.raw)
	}

	x := e.do("POST", "/api/v1/requests/"+aid+"/extensions", e.bearer(), `{"until":"2026-04-30","justification":" audit season "}`)
	if x.status != 201 || x.header.Get("Location") != "/api/v1/requests/"+aid || x.body["until"] != "2026-04-30T00:00:00Z" ||
		x.body["asked_by"] != "crm (apikey:crm)" || x.body["justification"] != "audit season" || x.body["state"] != "approved" {
		t.Fatalf("ask: %d %v %s", x.status, x.header.Get("Location"), x.raw)
	}
	z := e.do("POST", "/api/v1/requests/"+aid+"/extensions", e.bearer(), `{"until":"2026-05-02T17:30:00+02:00"}`)
	if z.status != 201 || z.body["until"] != "2026-05-02T15:30:00Z" {
		t.Fatalf("ask with a time: %d %s", z.status, z.raw)
	}
	g = e.do("GET", "/api/v1/requests/"+aid, e.bearer(), "")
	ext, _ := g.body["extension"].(map[string]any)
	if g.body["access_ends"] != "2026-05-02T15:30:00Z" || ext == nil || ext["id"] != z.body["id"] {
		t.Errorf("after: access_ends %v, extension %v", g.body["access_ends"], ext)
	}
}
