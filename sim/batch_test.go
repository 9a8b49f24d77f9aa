package sim_test

import (
	"fmt"
	"testing"

	"github.com/foyer-dev/foyer/sim"
	"github.com/foyer-dev/foyer/sim/throttle"
)

func batchByID(a answer) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, r := range a.list("responses") {
		m := r.(map[string]any)
		out[m["id"].(string)] = m
	}
	return out
}

func TestBatch(t *testing.T) {
	t.Parallel()
	tn := start(t, sim.Options{})
	gid := tn.g("GET", "/groups?$filter=displayName eq 'DemoApp'&$select=id", nil).str("value.0.id")
	guest := tn.invite("batch@partner.example").str("invitedUser.id")
	a := tn.g("POST", "/$batch", map[string]any{"requests": []any{
		map[string]any{"id": "1", "method": "GET", "url": "/users?$filter=mail eq 'batch@partner.example'&$select=id"},
		map[string]any{"id": "2", "method": "POST", "url": "/groups/" + gid + "/members/$ref", "dependsOn": []string{"1"},
			"headers": map[string]string{"Content-Type": "application/json"}, "body": ref(guest)},
		map[string]any{"id": "3", "method": "POST", "url": "/groups/" + gid + "/members/$ref", "dependsOn": []string{"2"},
			"headers": map[string]string{"Content-Type": "application/json"}, "body": ref(guest)},
		map[string]any{"id": "4", "method": "GET", "url": "/users/none@nowhere.example", "dependsOn": []string{"3"}},
		map[string]any{"id": "5", "method": "GET", "url": "/users/$count", "headers": map[string]string{"ConsistencyLevel": "eventual"}},
	}})
	wantStatus(t, a, 200)
	r := batchByID(a)
	status := func(id string) float64 { return r[id]["status"].(float64) }
	if status("1") != 200 || status("2") != 204 || status("3") != 400 || status("4") != 424 || status("5") != 200 {
		t.Fatalf("statuses: %s", a.raw)
	}
	if r["1"]["body"].(map[string]any)["value"].([]any)[0].(map[string]any)["id"] != guest {
		t.Errorf("item 1 body: %v", r["1"]["body"])
	}
	if r["3"]["body"].(map[string]any)["error"].(map[string]any)["code"] != "Request_BadRequest" {
		t.Errorf("item 3 body: %v", r["3"]["body"])
	}
	st := tn.s.Stats()
	if st.Routes["POST /v1.0/$batch"] != 1 || st.Routes["POST /v1.0/groups/{id}/members/$ref"] != 2 {
		t.Errorf("routes: %v", st.Routes)
	}

	var many []any
	for i := range 21 {
		many = append(many, map[string]any{"id": fmt.Sprint(i), "method": "GET", "url": "/users"})
	}
	wantError(t, tn.g("POST", "/$batch", map[string]any{"requests": many}), 400, "BadRequest", "The number of requests in a batch must not exceed 20.")
	wantError(t, tn.g("POST", "/$batch", map[string]any{"requests": []any{
		map[string]any{"id": "1", "method": "GET", "url": "/users"}, map[string]any{"id": "1", "method": "GET", "url": "/users"}}}), 400, "BadRequest", "Request id 1 is not unique")
	wantError(t, tn.g("POST", "/$batch", map[string]any{"requests": []any{
		map[string]any{"id": "1", "method": "GET", "url": "/users", "dependsOn": []string{"9"}}}}), 400, "BadRequest", "Request 1 depends on request 9")
	wantError(t, tn.g("POST", "/$batch", map[string]any{"requests": []any{
		map[string]any{"id": "1", "method": "POST", "url": "/invitations", "body": map[string]any{}}}}), 400, "BadRequest", "Request 1 has a body but no Content-Type header.")
	wantError(t, tn.g("POST", "/$batch", "[]"), 400, "BadRequest", "Invalid batch payload format.")
}

// Each batch item is throttled on its own: inner 429s carry Retry-After.
func TestBatchInnerThrottling(t *testing.T) {
	t.Parallel()
	cfg, _ := throttle.ParseConfig("custom:writes=3/150s")
	tn := start(t, sim.Options{Throttle: cfg})
	var items []any
	for i := range 5 {
		items = append(items, map[string]any{"id": fmt.Sprint(i), "method": "POST", "url": "/invitations",
			"headers": map[string]string{"Content-Type": "application/json"},
			"body":    map[string]any{"invitedUserEmailAddress": fmt.Sprintf("t%d@partner.example", i), "inviteRedirectUrl": "https://a.example"}})
	}
	a := tn.g("POST", "/$batch", map[string]any{"requests": items})
	wantStatus(t, a, 200)
	r := batchByID(a)
	created, throttled := 0, 0
	for _, it := range r {
		switch it["status"].(float64) {
		case 201:
			created++
		case 429:
			throttled++
			if it["headers"].(map[string]any)["Retry-After"] == nil {
				t.Errorf("inner 429 without Retry-After: %v", it)
			}
		}
	}
	if created != 3 || throttled != 2 {
		t.Errorf("created %d throttled %d: %s", created, throttled, a.raw)
	}
}
