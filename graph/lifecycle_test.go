package graph

import (
	"context"
	"fmt"
	"testing"

	"github.com/foyer-dev/foyer/sim"
	"github.com/foyer-dev/foyer/sim/simtest"
)

// TestSponsorGroupBounded: a sponsor group without mail of more members
// than SponsorGroupMembers tells only that many, read in one page.
func TestSponsorGroupBounded(t *testing.T) {
	t.Parallel()
	for _, n := range []int{SponsorGroupMembers - 1, SponsorGroupMembers + 10} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			t.Parallel()
			s := simtest.Start(t, sim.Options{})
			users := make([]sim.SeedUser, n)
			keys := make([]string, n)
			for i := range users {
				keys[i] = fmt.Sprintf("m%d@contoso.example", i)
				users[i] = sim.SeedUser{DisplayName: keys[i], UserPrincipalName: keys[i], Mail: keys[i]}
			}
			users = append(users, sim.SeedUser{DisplayName: "G", Mail: "g@partner.example", UserType: "Guest"})
			d, err := s.Seed(sim.SeedData{Users: users, Groups: []sim.SeedGroup{{DisplayName: "Owners", Members: keys}}})
			if err != nil {
				t.Fatal(err)
			}
			guest, group := d.Users[n].ID, d.Groups[0].ID
			if err := s.AddSponsors(guest, group); err != nil {
				t.Fatal(err)
			}
			c := simClient(t, s, s.ClientID(), s.ClientSecret())
			before := s.Stats().Reads
			got, err := c.Sponsors(context.Background(), guest)
			if err != nil {
				t.Fatal(err)
			}
			if want := min(n, SponsorGroupMembers); len(got) != want {
				t.Fatalf("%d members: %d told, want %d", n, len(got), want)
			}
			if calls := s.Stats().Reads - before; calls != 2 {
				t.Fatalf("%d Graph calls, want 2 (the sponsors, one page of members)", calls)
			}
		})
	}
}
