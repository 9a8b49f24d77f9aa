package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/foyer-dev/foyer"
)

// pagedGuests serves n guests (g<i>@fabrikam.example, every third one by
// otherMails only, every fifth one by its #EXT# UPN only) through
// /users/$count, paged /users and $batch look-ups, counting requests.
func pagedGuests(t *testing.T, n int, reads *atomic.Int64) http.HandlerFunc {
	guest := func(i int) map[string]any {
		a := fmt.Sprintf("g%d@fabrikam.example", i)
		u := map[string]any{"id": fmt.Sprintf("id-%d", i), "userType": "Guest", "mail": a,
			"userPrincipalName": fmt.Sprintf("g%d_fabrikam.example#EXT#@contoso.onmicrosoft.com", i)}
		switch {
		case i%3 == 1:
			u["mail"], u["otherMails"] = "primary"+a, []string{a}
		case i%5 == 2:
			u["mail"] = nil
		}
		return u
	}
	return func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1.0/users/$count":
			reads.Add(1)
			if r.Header.Get("ConsistencyLevel") != "eventual" {
				graphErr(w, 400, "Request_BadRequest", "$count is not currently supported.")
				return
			}
			_, _ = w.Write([]byte(strconv.Itoa(n)))
		case "/v1.0/users":
			reads.Add(1)
			q := r.URL.Query()
			if q.Get("$filter") != "userType eq 'Guest'" || q.Get("$top") != "999" || q.Get("$select") != personSelect {
				t.Errorf("scan query %v", q)
			}
			from, _ := strconv.Atoi(q.Get("$skiptoken"))
			var page []map[string]any
			for i := from; i < min(from+999, n); i++ {
				page = append(page, guest(i))
			}
			out := map[string]any{"value": page}
			if from+999 < n {
				out["@odata.nextLink"] = "https://" + r.Host + "/v1.0/users?$filter=userType%20eq%20'Guest'&$select=" + personSelect + "&$top=999&$skiptoken=" + strconv.Itoa(from+999)
			}
			_ = json.NewEncoder(w).Encode(out)
		case "/v1.0/$batch":
			var req struct{ Requests []batchItem }
			_ = json.NewDecoder(r.Body).Decode(&req)
			reads.Add(int64(len(req.Requests)))
			var out []map[string]any
			for _, it := range req.Requests {
				out = append(out, map[string]any{"id": it.ID, "status": 200, "body": map[string]any{"value": []any{}}})
			}
			_ = json.NewEncoder(w).Encode(map[string]any{"responses": out})
		default:
			graphErr(w, 404, "Request_ResourceNotFound", r.URL.Path)
		}
	}
}

func TestFindPicksTheCheaperStrategy(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name             string
		guests, asked    int
		maxReads         int64
		wantFoundAtLeast int
	}{
		{"many addresses, scan", 5000, 300, 1 + 1 + 6, 300},
		{"few addresses, look-ups", 5000, 15, 15, 0},
		{"more addresses than scan pages cost, but a huge tenant: look-ups", 100_000, 30, 1 + 30, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var reads atomic.Int64
			c, _ := fakeGraph(t, pagedGuests(t, tc.guests, &reads), nil)
			var ask []foyer.Address
			for i := range tc.asked {
				ask = append(ask, foyer.Address(fmt.Sprintf("G%d@fabrikam.example", i*(tc.guests/tc.asked))))
			}
			found, err := c.Find(context.Background(), ask)
			if err != nil {
				t.Fatal(err)
			}
			if reads.Load() > tc.maxReads {
				t.Fatalf("%d reads, want at most %d", reads.Load(), tc.maxReads)
			}
			if len(found) < tc.wantFoundAtLeast {
				t.Fatalf("found %d of %d", len(found), tc.asked)
			}
			for _, a := range ask[:min(len(ask), tc.wantFoundAtLeast)] {
				var i int
				_, _ = fmt.Sscanf(string(a), "G%d@", &i)
				if p := found[a.Key()]; p.ID != fmt.Sprintf("id-%d", i) {
					t.Errorf("%s found as %q", a, p.ID)
				}
			}
		})
	}
}
