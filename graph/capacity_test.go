package graph

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/directory"
)

// TestGuestsIndexesEveryForm: Guests reads 5,000 guests in 1 + 6 reads and
// finds each by the form it carries (mail, otherMails only, #EXT# UPN
// only), as Find does.
func TestGuestsIndexesEveryForm(t *testing.T) {
	t.Parallel()
	var reads atomic.Int64
	c, _ := fakeGraph(t, pagedGuests(t, 5000, &reads), nil)
	idx, err := c.Guests(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if reads.Load() != 1+6 || idx.Len() != 5000 {
		t.Fatalf("%d reads for %d guests, want 7 for 5000", reads.Load(), idx.Len())
	}
	for i := range 5000 {
		a := foyer.Address(fmt.Sprintf("G%d@Fabrikam.example", i))
		if p, ok := idx.Lookup(a); !ok || p.ID != fmt.Sprintf("id-%d", i) || !p.Guest() {
			t.Fatalf("%s: %+v, %v", a, p, ok)
		}
	}
	if p, ok := idx.Lookup("g5000@fabrikam.example"); ok {
		t.Errorf("found someone never there: %+v", p)
	}
}

// TestQuotaShapes: the beta organization's directorySizeQuota, or none.
func TestQuotaShapes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, body string
		want       directory.Quota
	}{
		{"reported", `{"value":[{"directorySizeQuota":{"used":698,"total":50000}}]}`, directory.Quota{Used: 698, Total: 50000}},
		{"null", `{"value":[{"directorySizeQuota":null}]}`, directory.Quota{}},
		{"absent", `{"value":[{}]}`, directory.Quota{}},
		{"no organization", `{"value":[]}`, directory.Quota{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, _ := fakeGraph(t, func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/beta/organization" || r.URL.Query().Get("$select") != "directorySizeQuota" {
					t.Errorf("asked %s", r.URL)
				}
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(tc.body))
			}, nil)
			q, err := c.Quota(context.Background())
			if err != nil || q != tc.want {
				t.Errorf("Quota = %+v, %v; want %+v", q, err, tc.want)
			}
			if _, known := q.Free(); known != (tc.want.Total > 0) {
				t.Errorf("Free says known = %v", known)
			}
		})
	}
	c, _ := fakeGraph(t, func(w http.ResponseWriter, r *http.Request) {
		graphErr(w, 403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
	}, nil)
	if _, err := c.Quota(context.Background()); err == nil || !strings.Contains(err.Error(), "Organization.Read.All") {
		t.Errorf("a refused read: %v, want the permission named", err)
	}
}
