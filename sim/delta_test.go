package sim_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/foyer-dev/foyer/sim"
)

// deltaRound follows a delta round from path (the first request's, or a
// link) to its deltaLink, and returns the items, the deltaLink and the
// pages read.
func (tn *tenant) deltaRound(link string) (items []map[string]any, deltaLink string, pages int) {
	tn.t.Helper()
	for {
		var a answer
		if strings.HasPrefix(link, "http") {
			a = do(tn.t, tn.graph, "GET", link, nil)
		} else {
			a = tn.g("GET", link, nil)
		}
		wantStatus(tn.t, a, 200)
		pages++
		for _, v := range a.list("value") {
			items = append(items, v.(map[string]any))
		}
		if next := a.str("@odata.nextLink"); next != "" {
			link = next
			continue
		}
		deltaLink = a.str("@odata.deltaLink")
		if !strings.Contains(deltaLink, "/v1.0/users/delta?$deltatoken=") {
			tn.t.Fatalf("round ended without a deltaLink: %s", a.raw)
		}
		return items, deltaLink, pages
	}
}

func byID(items []map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, it := range items {
		out[it["id"].(string)] = it
	}
	return out
}

// TestUsersDelta: the initial round reads every user in pages; a round
// from its deltaLink returns only the users changed since (a redemption,
// a reset, a PATCH of a selected property, a new guest) with the selected
// properties and id, and the deleted ones as @removed; a PATCH of a
// property not selected does not show; the last round's deltaLink
// returns nothing.
func TestUsersDelta(t *testing.T) {
	t.Parallel()
	tn := start(t, sim.Options{})
	var ids []string
	for i := range 150 {
		a := tn.invite(fmt.Sprintf("g%03d@partner.example", i))
		wantStatus(t, a, 201)
		ids = append(ids, a.str("invitedUser.id"))
	}
	tn.s.Advance(time.Minute) // past replication
	items, link, pages := tn.deltaRound("/users/delta?$select=externalUserState,externalUserStateChangeDateTime")
	if len(items) < 150 || pages < 2 {
		t.Fatalf("initial round: %d users in %d pages, want every user (150 guests and the seed) in 2 or more", len(items), pages)
	}
	if got := byID(items)[ids[0]]; got["externalUserState"] != "PendingAcceptance" || len(got) != 3 {
		t.Errorf("initial round's guest: %v, want id, externalUserState, externalUserStateChangeDateTime", got)
	}

	// Nothing changed: an empty page with a new deltaLink.
	items, link, pages = tn.deltaRound(link)
	if len(items) != 0 || pages != 1 {
		t.Fatalf("round without changes: %d items in %d pages", len(items), pages)
	}

	wantStatus(t, tn.side("POST", "/redeem", map[string]string{"email": "g001@partner.example"}), 200)
	reset := tn.g("POST", "/invitations", map[string]any{"invitedUserEmailAddress": "g002@partner.example",
		"inviteRedirectUrl": "https://myapps.microsoft.com", "resetRedemption": true, "invitedUser": map[string]string{"id": ids[2]}})
	wantStatus(t, reset, 201)
	wantStatus(t, tn.g("DELETE", "/users/"+ids[3], nil), 204)
	wantStatus(t, tn.g("PATCH", "/users/"+ids[4], map[string]any{"displayName": "Not tracked"}), 204)
	fresh := tn.invite("new@partner.example")
	wantStatus(t, fresh, 201)
	tn.s.Advance(time.Minute)

	items, link, pages = tn.deltaRound(link)
	got := byID(items)
	if pages != 1 || len(items) != 4 {
		t.Fatalf("round after 4 tracked changes: %d items in %d pages, want 4 in 1: %v", len(items), pages, items)
	}
	if g := got[ids[1]]; g["externalUserState"] != "Accepted" || g["externalUserStateChangeDateTime"] == nil {
		t.Errorf("redeemed guest: %v", g)
	}
	if g := got[ids[2]]; g["externalUserState"] != "PendingAcceptance" {
		t.Errorf("reset guest: %v", g)
	}
	if g := got[ids[3]]; fmt.Sprint(g["@removed"]) != "map[reason:changed]" || len(g) != 2 {
		t.Errorf("deleted guest: %v, want id and @removed reason changed", g)
	}
	if _, ok := got[ids[4]]; ok {
		t.Errorf("a PATCH of displayName (not selected) showed in the round")
	}
	if g := got[fresh.str("invitedUser.id")]; g["externalUserState"] != "PendingAcceptance" {
		t.Errorf("new guest: %v", g)
	}

	items, _, _ = tn.deltaRound(link)
	if len(items) != 0 {
		t.Errorf("round after the last: %v, want nothing", items)
	}
}

// TestUsersDeltaDefault: without $select, every property is tracked, and
// the default properties are returned.
func TestUsersDeltaDefault(t *testing.T) {
	t.Parallel()
	tn := start(t, sim.Options{})
	a := tn.invite("dflt@partner.example")
	wantStatus(t, a, 201)
	tn.s.Advance(time.Minute)
	_, link, _ := tn.deltaRound("/users/delta")
	wantStatus(t, tn.g("PATCH", "/users/"+a.str("invitedUser.id"), map[string]any{"displayName": "Renamed"}), 204)
	items, _, _ := tn.deltaRound(link)
	if len(items) != 1 || items[0]["displayName"] != "Renamed" || items[0]["userPrincipalName"] == nil {
		t.Errorf("round after a PATCH: %v", items)
	}
}

// TestUsersDeltaExpired: a token older than seven days, one from before
// POST /_sim/delta/expire or a reset, and one the sim did not make, are
// answered 400 syncStateNotFound; a new initial round works.
func TestUsersDeltaExpired(t *testing.T) {
	t.Parallel()
	tn := start(t, sim.Options{})
	_, link, _ := tn.deltaRound("/users/delta?$select=externalUserState")
	expired := func(what, link string) {
		t.Helper()
		wantError(t, do(t, tn.graph, "GET", link, nil), 400, "syncStateNotFound", "The sync state generation is not found.")
	}
	tn.s.Advance(6 * 24 * time.Hour)
	_, link, _ = tn.deltaRound(link) // six days: still good
	tn.s.Advance(7*24*time.Hour + time.Minute)
	expired("eight days old", link)

	_, link, _ = tn.deltaRound("/users/delta?$select=externalUserState")
	wantStatus(t, tn.side("POST", "/delta/expire", nil), 200)
	expired("expired by the side door", link)

	u, _ := url.Parse(link)
	u.RawQuery = "$deltatoken=bm90LWEtdG9rZW4"
	expired("made up", u.String())

	_, link, _ = tn.deltaRound("/users/delta")
	wantStatus(t, tn.side("POST", "/reset", nil), 200)
	expired("from before a reset", link)
}

// TestUsersDeltaRefused: $top, $orderby and $expand are refused, as
// delta-query-overview.md says for users.
func TestUsersDeltaRefused(t *testing.T) {
	t.Parallel()
	tn := start(t, sim.Options{})
	for _, q := range []string{"$top=5", "$orderby=displayName", "$expand=manager"} {
		if a := tn.g("GET", "/users/delta?"+q, nil); a.status != 400 {
			t.Errorf("/users/delta?%s: %d, want 400", q, a.status)
		}
	}
}
