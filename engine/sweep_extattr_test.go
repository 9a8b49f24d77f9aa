package engine_test

import (
	"context"
	"testing"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/directory"
)

// TestSweepExcludesByExtensionAttribute: guests whose directory extension
// property, or on-premises extension attribute, has the excluded value
// are found by GuestsWith (an advanced query, as for the built-in
// attributes) and never disabled; a guest with another value, or none, is
// disabled once (the sim's disables_by_user).
func TestSweepExcludesByExtensionAttribute(t *testing.T) {
	t.Parallel()
	const tier = "extension_b7d8e648520f41d3b9c0fdeb91768a0a_partnerTier"
	const onPrem = "onPremisesExtensionAttributes/extensionAttribute7"
	rules := foyer.SweepRules{NoSignInDays: 90}
	w := newSweepWorld(t, rules)
	w.active(t)
	old := w.sim.Now().AddDate(0, 0, -200)
	gold, silver, kept, plain := staleGuest("gold@partner.example", old), staleGuest("silver@partner.example", old),
		staleGuest("kept@partner.example", old), staleGuest("plain@partner.example", old)
	gold.Extensions = map[string]string{tier: "Gold"}
	silver.Extensions = map[string]string{tier: "Silver", onPrem: "no"}
	kept.Extensions = map[string]string{onPrem: "keep"}
	ids := seedSweepGuests(t, w.sim, gold, silver, kept, plain)

	lc := w.eng.Dir.(directory.Lifecycle)
	exclude := map[string]bool{}
	for prop, value := range map[string]string{tier: "gold", onPrem: "keep"} {
		got, err := lc.GuestsWith(context.Background(), prop, value)
		if err != nil {
			t.Fatalf("GuestsWith(%s): %v", prop, err)
		}
		if len(got) != 1 {
			t.Fatalf("GuestsWith(%s, %s) = %v, want one guest", prop, value, got)
		}
		for _, id := range got {
			exclude[id] = true
		}
	}
	if _, err := lc.GuestsWith(context.Background(), "extension_partnerTier", "gold"); err == nil {
		t.Fatal("GuestsWith took a malformed extension name")
	}
	_, plan := w.sweep(t, exclude)
	if plan.Excluded != 2 {
		t.Errorf("%d excluded, want 2", plan.Excluded)
	}
	want := map[string]int{"gold@partner.example": 0, "kept@partner.example": 0, "silver@partner.example": 1, "plain@partner.example": 1}
	for mail, n := range want {
		if dis, _ := w.counts(ids[mail]); dis != n {
			t.Errorf("%s: %d disables, want %d", mail, dis, n)
		}
	}
}
