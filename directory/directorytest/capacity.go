package directorytest

import (
	"testing"

	"github.com/foyer-dev/foyer"
)

func runCapacity(t *testing.T, newHarness func(t *testing.T) Harness) {
	t.Run("license seats", func(t *testing.T) { t.Parallel(); capacitySeats(t, newHarness) })
	t.Run("object quota", func(t *testing.T) { t.Parallel(); capacityQuota(t, newHarness) })
}

// capacitySeats: a license with free seats counts at least one; one
// without resolves all the same (people who hold it keep being planned)
// and counts none.
func capacitySeats(t *testing.T, newHarness func(t *testing.T) Harness) {
	h, ctx := setup(t, newHarness)
	for _, tc := range []struct {
		sku  string
		free bool
	}{{h.Fixtures.License, true}, {h.Fixtures.NoSeats, false}} {
		if tc.sku == "" {
			continue
		}
		g, err := h.Directory.Resolve(ctx, foyer.Grant{Kind: foyer.GrantLicense, Ref: tc.sku, UsageLocation: h.Fixtures.UsageLocation})
		if err != nil {
			t.Errorf("resolve license %s: %v", tc.sku, err)
			continue
		}
		n, err := h.Directory.FreeSeats(ctx, g)
		switch {
		case err != nil:
			t.Errorf("free seats of %s: %v", tc.sku, err)
		case tc.free && n < 1:
			t.Errorf("%s: %d free seats, want at least 1", tc.sku, n)
		case !tc.free && n > 0:
			t.Errorf("%s: %d free seats, want none", tc.sku, n)
		}
	}
	if _, err := h.Directory.FreeSeats(ctx, foyer.Grant{Kind: foyer.GrantGroup, Target: "x"}); err == nil {
		t.Error("free seats of a group: no error")
	}
}

// capacityQuota: the tenant holds some objects, and its quota (when it
// says) is at least Entra's smallest, 50,000.
func capacityQuota(t *testing.T, newHarness func(t *testing.T) Harness) {
	h, ctx := setup(t, newHarness)
	q, err := h.Directory.Quota(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if q.Used < 1 || q.Total != 0 && q.Total < 50_000 {
		t.Errorf("quota %+v: want objects used, and a total of 50,000 or more (or 0: not said)", q)
	}
}
