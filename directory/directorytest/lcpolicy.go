package directorytest

import (
	"context"
	"errors"
	"testing"

	"github.com/foyer-dev/foyer/directory"
)

// LifecyclePolicies is the part of a Tenant's side door the lifecycle
// policy subtests need: an admin creating and removing a guest lifecycle
// policy. A Tenant without it skips them.
type LifecyclePolicies interface {
	// AddGuestPolicy creates a guest lifecycle policy with a null scope
	// (every guest) and returns its id.
	AddGuestPolicy(ctx context.Context, name string, enabled bool) (string, error)
	RemoveGuestPolicy(ctx context.Context, id string) error
}

// lifecyclePolicies: a tenant without policies reads as an empty list; an
// enabled and a disabled policy read back with their names and states, and
// a removed one is gone; without the permission the read is forbidden.
func lifecyclePolicies(t *testing.T, newHarness func(t *testing.T) Harness) {
	h, ctx := setup(t, newHarness)
	lc := needLifecycle(t, h)
	lp, ok := h.Tenant.(LifecyclePolicies)
	if !ok {
		t.Skip("the tenant's side door cannot create lifecycle policies")
	}
	ps, err := lc.GuestLifecyclePolicies(ctx)
	if err != nil || ps == nil || len(ps) != 0 {
		t.Fatalf("policies of a tenant without any = %v, %v; want an empty list", ps, err)
	}
	off, err := lp.AddGuestPolicy(ctx, "Paused", false)
	if err != nil {
		t.Fatal(err)
	}
	on, err := lp.AddGuestPolicy(ctx, "Partners", true)
	if err != nil {
		t.Fatal(err)
	}
	ps, err = lc.GuestLifecyclePolicies(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 2 || ps[0].ID != off || ps[0].Enabled || ps[1].ID != on || !ps[1].Enabled || ps[1].DisplayName != "Partners" {
		t.Fatalf("policies = %+v", ps)
	}
	if err := lp.RemoveGuestPolicy(ctx, on); err != nil {
		t.Fatal(err)
	}
	ps, err = lc.GuestLifecyclePolicies(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 1 || ps[0].ID != off || ps[0].Enabled {
		t.Fatalf("policies after the enabled one was removed = %+v", ps)
	}
	if h.Limited == nil {
		return
	}
	limited, ok := h.Limited(t).(directory.Lifecycle)
	if !ok {
		return
	}
	_, err = limited.GuestLifecyclePolicies(ctx)
	var de *directory.Error
	if !errors.Is(err, directory.ErrForbidden) || !errors.As(err, &de) || de.Permission == "" || de.Fix == "" {
		t.Fatalf("without the permission: %v, want forbidden with the permission and a fix", err)
	}
}
