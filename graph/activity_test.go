package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/foyer-dev/foyer/sim"
	"github.com/foyer-dev/foyer/sim/simtest"
)

// activityShape is a tenant for counting the pages of a sweep's read:
// guests, of whom some signed in interactively and some only
// non-interactively since the cutoff, some signed in before it, and
// members who signed in since it (the sign-in queries cannot leave members
// out).
type activityShape struct {
	guests, interactive, nonInteractive, old, members int
}

// pages is what the read costs: ceil(guests/999) for the guests, and for
// each sign-in time ceil(users with it at or after the cutoff/120), at
// least one page per query.
func (sh activityShape) pages() int {
	ceil := func(n, d int) int { return max(1, (n+d-1)/d) }
	return ceil(sh.guests, 999) +
		ceil(sh.interactive+sh.members, 120) + // lastSignInDateTime
		ceil(sh.nonInteractive, 120) + // lastNonInteractiveSignInDateTime
		ceil(sh.interactive+sh.nonInteractive+sh.members, 120) // lastSuccessfulSignInDateTime
}

// seedActivity fills an empty sim with sh and returns the cutoff of a
// 90-day rule at the sim's now.
func seedActivity(t testing.TB, s *sim.Server, sh activityShape) time.Time {
	t.Helper()
	if n, err := s.AddGuests(sim.BulkGuests{Count: sh.guests, Domain: "bulk.example", Accepted: 0.8}); err != nil || n != sh.guests {
		t.Fatalf("seed %d guests: %d, %v", sh.guests, n, err)
	}
	now := s.Now()
	cutoff := now.Add(-90 * 24 * time.Hour)
	g := 0
	signIn := func(n int, at func(i int) time.Time, interactive bool) {
		for i := range n {
			if err := s.SignIn(fmt.Sprintf("guest%d@bulk.example", g), at(i), interactive); err != nil {
				t.Fatal(err)
			}
			g++
		}
	}
	signIn(sh.interactive, func(i int) time.Time { return now.Add(-time.Duration(i%(89*24)) * time.Hour) }, true)
	signIn(sh.nonInteractive, func(i int) time.Time { return now.Add(-time.Duration(i%(89*24)) * time.Hour) }, false)
	longAgo := func(i int) time.Time { return cutoff.Add(-time.Duration(1+i%(200*24)) * time.Hour) }
	signIn(sh.old/2, longAgo, true)
	signIn(sh.old-sh.old/2, longAgo, false)
	var members []sim.SeedUser
	for i := range sh.members {
		members = append(members, sim.SeedUser{DisplayName: fmt.Sprintf("member %d", i),
			UserPrincipalName: fmt.Sprintf("member%d@contoso.onmicrosoft.com", i), Mail: fmt.Sprintf("member%d@contoso.example", i),
			LastSignIn: now.Add(-time.Duration(i+1) * time.Hour)})
	}
	if len(members) > 0 {
		if _, err := s.Seed(sim.SeedData{Users: members}); err != nil {
			t.Fatalf("seed members: %v", err)
		}
	}
	return cutoff
}

// TestGuestActivityPages: a sweep's read of 5,000 guests (the shape of
// the 100,000-guest benchmark, scaled down) costs exactly the pages the
// formula says, as the sim counts them, and reads every guest who signed
// in since the cutoff with its sign-in and nobody else's.
func TestGuestActivityPages(t *testing.T) {
	t.Parallel()
	sh := activityShape{guests: 5_000, interactive: 100, nonInteractive: 50, old: 500, members: 5}
	s := simtest.Start(t, sim.Options{Empty: true})
	cutoff := seedActivity(t, s, sh)
	c := simClient(t, s, s.ClientID(), s.ClientSecret())
	before := s.Stats().Routes["GET /v1.0/users"]
	gs, err := c.GuestActivity(context.Background(), cutoff)
	if err != nil {
		t.Fatal(err)
	}
	pages := int(s.Stats().Routes["GET /v1.0/users"] - before)
	if pages != sh.pages() {
		t.Errorf("%d pages, want %d", pages, sh.pages())
	}
	if len(gs) != sh.guests {
		t.Fatalf("%d guests read, want %d", len(gs), sh.guests)
	}
	signedIn := 0
	for _, g := range gs {
		if g.SignIn == nil {
			continue
		}
		signedIn++
		if g.SignIn.Latest().Before(cutoff) {
			t.Errorf("guest %s read with a sign-in before the cutoff: %+v", g.Mail, *g.SignIn)
		}
	}
	if want := sh.interactive + sh.nonInteractive; signedIn != want {
		t.Errorf("%d guests read with a sign-in, want %d", signedIn, want)
	}
}

// BenchmarkGuestActivity100000 reads a tenant of 100,000 guests for a
// sweep with a 90-day no-sign-in rule: 2,000 guests signed in
// interactively and 1,000 non-interactively within the 90 days, 10,000
// before, and 100 members within. It reports the pages the sim counted
// (GET /v1.0/users) and the time of one read.
// docs/benchmarks-directory.md has the figures.
func BenchmarkGuestActivity100000(b *testing.B) {
	sh := activityShape{guests: 100_000, interactive: 2_000, nonInteractive: 1_000, old: 10_000, members: 100}
	s := simtest.Start(b, sim.Options{Empty: true})
	cutoff := seedActivity(b, s, sh)
	c := simClient(b, s, s.ClientID(), s.ClientSecret())
	before := s.Stats().Routes["GET /v1.0/users"]
	b.ResetTimer()
	for b.Loop() {
		gs, err := c.GuestActivity(context.Background(), cutoff)
		if err != nil {
			b.Fatal(err)
		}
		if len(gs) != sh.guests {
			b.Fatalf("%d guests read, want %d", len(gs), sh.guests)
		}
	}
	b.StopTimer()
	pages := float64(s.Stats().Routes["GET /v1.0/users"]-before) / float64(b.N)
	if int(pages) != sh.pages() || pages > 200 {
		b.Errorf("%.1f pages a read, want %d (at most 200)", pages, sh.pages())
	}
	b.ReportMetric(pages, "pages/op")
}

// TestSignInTimes: Graph's 0001-01-01 for a sign-in never recorded reads
// as none, a real time as itself, and no signInActivity as nil.
func TestSignInTimes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		body        string
		none        bool
		interactive time.Time
		nonInter    time.Time
	}{
		{`{"id":"a"}`, true, time.Time{}, time.Time{}},
		{`{"id":"a","signInActivity":{"lastSignInDateTime":"2021-06-30T00:47:48Z","lastNonInteractiveSignInDateTime":"0001-01-01T00:00:00Z"}}`,
			false, time.Date(2021, 6, 30, 0, 47, 48, 0, time.UTC), time.Time{}},
		{`{"id":"a","signInActivity":{"lastSignInDateTime":null,"lastNonInteractiveSignInDateTime":"2024-03-12T16:24:34Z"}}`,
			false, time.Time{}, time.Date(2024, 3, 12, 16, 24, 34, 0, time.UTC)},
	}
	for _, tc := range tests {
		var u signInUser
		if err := json.Unmarshal([]byte(tc.body), &u); err != nil {
			t.Fatal(err)
		}
		s := u.signIn()
		if (s == nil) != tc.none {
			t.Fatalf("%s: signIn %+v", tc.body, s)
		}
		if s != nil && (!s.LastInteractive.Equal(tc.interactive) || !s.LastNonInteractive.Equal(tc.nonInter)) {
			t.Errorf("%s: read %+v", tc.body, *s)
		}
	}
}
