package graph

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// Inner 429s are resent alone, after the longest inner Retry-After; the
// other answers are kept.
func TestBatchResendsOnlyThrottledItems(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	seen := map[string]int{}
	c, _ := fakeGraph(t, func(w http.ResponseWriter, r *http.Request) {
		var req struct{ Requests []batchItem }
		_ = json.NewDecoder(r.Body).Decode(&req)
		mu.Lock()
		defer mu.Unlock()
		var out []map[string]any
		for _, it := range req.Requests {
			seen[it.ID]++
			a := map[string]any{"id": it.ID, "status": 200, "body": map[string]any{"value": []any{}}}
			if it.ID == "2" && seen[it.ID] == 1 {
				a = map[string]any{"id": it.ID, "status": 429, "headers": map[string]string{"Retry-After": "4"},
					"body": map[string]any{"error": map[string]string{"code": "TooManyRequests", "message": "Please retry again later."}}}
			}
			out = append(out, a)
		}
		// Answers in any order (json-batching.md): reverse them.
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"responses": out})
	}, nil)
	items := []batchItem{{ID: "1", Method: "GET", URL: "/users"}, {ID: "2", Method: "GET", URL: "/users"}, {ID: "3", Method: "GET", URL: "/users"}}
	got, err := c.batch(context.Background(), "test", permUserRead, kindRead, items)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"1", "2", "3"} {
		if got[id] == nil || got[id].status != 200 {
			t.Fatalf("answer %s: %+v", id, got[id])
		}
	}
	if seen["1"] != 1 || seen["2"] != 2 || seen["3"] != 1 {
		t.Fatalf("sent %v, want 1 once, 2 twice, 3 once", seen)
	}
	var waited bool
	for _, w := range c.o.Clock.(*vclock).waits {
		waited = waited || w >= 4*time.Second
	}
	if !waited || c.Stats().Throttled != 1 {
		t.Fatalf("waits %v, stats %+v: want the inner Retry-After honoured and counted", c.o.Clock.(*vclock).waits, c.Stats())
	}
}

func TestRedactURL(t *testing.T) {
	t.Parallel()
	u, _ := url.Parse("https://graph.example/v1.0/users?$filter=mail%20eq%20'a@b.example'&$select=id&$top=999&sig=SECRETSAS&api-version=2022-04-01")
	got := redactURL(u)
	for _, leak := range []string{"a@b.example", "SECRETSAS"} {
		if strings.Contains(got, leak) {
			t.Errorf("%q leaks %q", got, leak)
		}
	}
	for _, keep := range []string{"%24select=id", "%24top=999", "api-version=2022-04-01", "/v1.0/users"} {
		if !strings.Contains(got, keep) {
			t.Errorf("%q lacks %q", got, keep)
		}
	}
}

// FuzzServiceError: any error body and Retry-After give a typed error
// without panicking, and the kind follows the status.
func FuzzServiceError(f *testing.F) {
	f.Add(403, `{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges to complete the operation.","innerError":{"request-id":"r"}}}`, "")
	f.Add(429, `{"error":{"code":"TooManyRequests"}}`, "2.128")
	f.Add(400, `not json`, "Wed, 21 Oct 2015 07:28:00 GMT")
	f.Add(503, ``, "-1")
	f.Fuzz(func(t *testing.T, status int, body, ra string) {
		if status < 100 || status > 599 {
			return
		}
		h := http.Header{}
		h.Set("Retry-After", ra)
		e := serviceError("op", "Perm", &response{status: status, header: h, body: []byte(body)})
		if e.Kind == nil || e.Status != status || e.RetryAfter < 0 {
			t.Fatalf("status %d body %q: %+v", status, body, e)
		}
		if status == 429 && e.Kind.Error() != "throttled" {
			t.Fatalf("429 gave %v", e.Kind)
		}
		_ = e.Error()
	})
}
