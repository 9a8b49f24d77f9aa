package sim_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/foyer-dev/foyer/sim"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Now()} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// The acceptance test: with a replication delay of 2 s, adding a
// just-invited guest to a group fails, and succeeds after the delay.
func TestReplicationDelay(t *testing.T) {
	t.Parallel()
	tn := start(t, sim.Options{ReplicationDelay: 2 * time.Second})
	gid := tn.g("GET", "/groups?$filter=displayName eq 'DemoApp'&$select=id", nil).str("value.0.id")
	sp := tn.g("GET", "/servicePrincipals?$filter=displayName eq 'DemoApp'&$select=id,appRoles", nil)
	guest := tn.invite("fresh@partner.example").str("invitedUser.id")

	wantError(t, tn.g("POST", "/groups/"+gid+"/members/$ref", ref(guest)), 404, "Request_ResourceNotFound",
		"Resource '"+guest+"' does not exist or one of its queried reference-property objects are not present.")
	wantError(t, tn.g("PATCH", "/groups/"+gid, bind(guest)), 404, "Request_ResourceNotFound", "Resource '"+guest+"'")
	wantError(t, tn.g("POST", "/servicePrincipals/"+sp.str("value.0.id")+"/appRoleAssignedTo", map[string]any{
		"principalId": guest, "resourceId": sp.str("value.0.id"), "appRoleId": sp.str("value.0.appRoles.0.id")}), 400, "Request_BadRequest", "Not a valid reference update.")
	wantError(t, tn.g("PATCH", "/users/"+guest, map[string]any{"usageLocation": "US"}), 404, "Request_ResourceNotFound", "")
	// Reads by id find it; list queries do not yet.
	wantStatus(t, tn.g("GET", "/users/"+guest, nil), 200)
	if n := len(tn.g("GET", "/users?$filter=mail eq 'fresh@partner.example'", nil).list("value")); n != 0 {
		t.Errorf("listed before replication: %d", n)
	}

	tn.s.Advance(2 * time.Second)
	wantStatus(t, tn.g("POST", "/groups/"+gid+"/members/$ref", ref(guest)), http.StatusNoContent)
	if n := len(tn.g("GET", "/users?$filter=mail eq 'fresh@partner.example'", nil).list("value")); n != 1 {
		t.Errorf("not listed after replication: %d", n)
	}
}

// The same on the wall clock: the write is retried until it goes through,
// which takes about the delay.
func TestReplicationDelayRealTime(t *testing.T) {
	t.Parallel()
	const delay = 300 * time.Millisecond
	tn := start(t, sim.Options{ReplicationDelay: delay})
	gid := tn.g("GET", "/groups?$filter=displayName eq 'DemoApp'&$select=id", nil).str("value.0.id")
	begin := time.Now()
	guest := tn.invite("wall@partner.example").str("invitedUser.id")
	invited := time.Now()
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(10 * time.Second)
	failures := 0
	firstTry := time.Now()
	for {
		a := tn.g("POST", "/groups/"+gid+"/members/$ref", ref(guest))
		if a.status == http.StatusNoContent {
			break
		}
		wantStatus(t, a, http.StatusNotFound)
		failures++
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatal("never replicated")
		}
	}
	if took := time.Since(begin); took < delay {
		t.Errorf("went through after %v, before the %v delay", took, delay)
	}
	// A machine busy enough to take half the delay between the invitation
	// and the first attempt may not show the failure; any other must.
	if failures == 0 && firstTry.Sub(invited) < delay/2 {
		t.Errorf("no 404 before the delay ran out")
	}
}

// TestAnswerDelay: with an answer delay, a write is carried out at once and
// its answer held back, so a client that gives up before it comes has
// invited the person without knowing it; reads are answered at once.
func TestAnswerDelay(t *testing.T) {
	t.Parallel()
	tn := start(t, sim.Options{AnswerDelay: time.Minute})
	body := `{"invitedUserEmailAddress":"slow@fabrikam.example","inviteRedirectUrl":"https://myapps.microsoft.com"}`
	// The client gives up once the tenant has carried the invitation out
	// (not after a fixed time, which a loaded machine may spend before the
	// call even arrives): it must not have had an answer by then.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, tn.s.URL()+"/v1.0/invitations", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	answered := make(chan error, 1)
	go func() {
		resp, err := tn.graph.Do(req)
		if err == nil {
			resp.Body.Close()
			err = fmt.Errorf("answered %d", resp.StatusCode)
		} else {
			err = nil
		}
		answered <- err
	}()
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for tn.s.Stats().InvitationsByEmail["slow@fabrikam.example"] != 1 {
		select {
		case err := <-answered:
			t.Fatalf("the call ended before the tenant counted the invitation: %v", err)
		case <-tick.C:
		}
		if time.Now().After(deadline) {
			t.Fatal("the tenant did not count the invitation within 30 s")
		}
	}
	cancel()
	if err := <-answered; err != nil {
		t.Fatalf("the invitation was %v before its answer delay", err)
	}
	got := tn.g("GET", "/users/slow_fabrikam.example%23EXT%23@contoso.onmicrosoft.com", nil)
	if got.status != 200 {
		t.Fatalf("the new guest read by its UPN: %d %s", got.status, got.raw)
	}
}
