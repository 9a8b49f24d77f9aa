package sim_test

import (
	"testing"

	"github.com/foyer-dev/foyer/sim"
	"github.com/foyer-dev/foyer/sim/simtest"
)

// The same seed gives the same tenant, app, secret and object ids; another
// seed gives others.
func TestSeedDeterminism(t *testing.T) {
	t.Parallel()
	ids := func(seed int64) []string {
		s := simtest.Start(t, sim.Options{Seed: seed, ClientCertificate: true})
		out := []string{s.TenantID(), s.ClientID(), s.ClientSecret()}
		for _, g := range s.Snapshot().Groups {
			out = append(out, g.ID)
			out = append(out, g.Members...)
		}
		return out
	}
	a, b, c := ids(7), ids(7), ids(8)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("seed 7 twice: %s vs %s", a[i], b[i])
		}
	}
	if a[0] == c[0] || a[1] == c[1] {
		t.Errorf("seeds 7 and 8 gave the same ids")
	}
}
