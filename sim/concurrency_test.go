package sim_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/foyer-dev/foyer/sim"
)

// Concurrent invitations of one address make one guest; reads, paging,
// redemption and side-door calls run alongside (go test -race).
func TestConcurrency(t *testing.T) {
	t.Parallel()
	tn := start(t, sim.Options{})
	var wg sync.WaitGroup
	ids := make(chan string, 40)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				a := do(t, tn.graph, "POST", tn.s.URL()+"/v1.0/invitations", map[string]any{"invitedUserEmailAddress": "same@partner.example", "inviteRedirectUrl": "https://a.example"})
				if a.status != 201 {
					t.Errorf("status %d", a.status)
					return
				}
				ids <- a.str("invitedUser.id")
				do(t, tn.graph, "POST", tn.s.URL()+"/v1.0/invitations", map[string]any{"invitedUserEmailAddress": fmt.Sprintf("w%d@partner.example", w), "inviteRedirectUrl": "https://a.example"})
			}
		}()
	}
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10 {
				next := tn.s.URL() + "/v1.0/users?$select=id,mail,assignedLicenses,identities&$top=3"
				for next != "" {
					a := do(t, tn.graph, "GET", next, nil)
					next = a.str("@odata.nextLink")
				}
				_ = tn.s.Stats()
				_ = tn.s.Snapshot()
				_ = tn.s.Redeem("same@partner.example")
			}
		}()
	}
	wg.Wait()
	close(ids)
	first := ""
	for id := range ids {
		if first == "" {
			first = id
		}
		if id != first {
			t.Fatalf("two users for one address: %s and %s", first, id)
		}
	}
	if n := tn.s.Stats().InvitationsByEmail["same@partner.example"]; n != 40 {
		t.Errorf("%d invitations counted, want 40", n)
	}
}
