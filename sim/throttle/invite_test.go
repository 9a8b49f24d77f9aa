package throttle

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestInviteCap(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	c, err := NewInviteCap(3, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	start := clock.Now()
	for i := range 3 {
		if err := c.Admit("contoso"); err != nil {
			t.Fatalf("invitation %d: %v", i+1, err)
		}
		clock.Advance(10 * time.Second)
	}
	err = c.Admit("contoso")
	var blocked *InviteBlockedError
	if !errors.As(err, &blocked) {
		t.Fatalf("4th invitation in a minute: err = %v, want *InviteBlockedError", err)
	}
	if want := start.Add(time.Minute); !blocked.Until.Equal(want) || blocked.TenantID != "contoso" {
		t.Fatalf("blocked = %+v, want until %v", blocked, want)
	}
	if !strings.Contains(err.Error(), "contoso") {
		t.Errorf("error %q does not name the tenant", err)
	}
	// Another tenant has its own minute.
	if err := c.Admit("fabrikam"); err != nil {
		t.Fatalf("other tenant: %v", err)
	}
	// Refused invitations do not count: the block lifts when the first
	// invitation is a minute old, not later.
	clock.Advance(blocked.Until.Sub(clock.Now()) - time.Millisecond)
	if c.Admit("contoso") == nil {
		t.Fatal("admitted 1ms before the block lifts")
	}
	clock.Advance(time.Millisecond)
	if err := c.Admit("contoso"); err != nil {
		t.Fatalf("after the minute: %v", err)
	}

	// Changing and removing the cap at run time.
	if err := c.SetLimit(-1); err == nil {
		t.Fatal("SetLimit(-1) accepted")
	}
	if err := c.SetLimit(0); err != nil || c.Limit() != 0 {
		t.Fatalf("SetLimit(0) = %v, Limit() = %d", err, c.Limit())
	}
	for range 100 {
		if err := c.Admit("contoso"); err != nil {
			t.Fatalf("no cap: %v", err)
		}
	}
	if err := c.SetLimit(1); err != nil {
		t.Fatal(err)
	}
	c.Reset()
	if c.Admit("contoso") != nil || c.Admit("contoso") == nil {
		t.Fatal("cap of 1 after Reset: want one admitted, the next refused")
	}
}

func TestInviteBlockedAnswer(t *testing.T) {
	t.Parallel()
	if InviteBlockedStatus != 403 || InviteBlockedCode != "Forbidden" ||
		InviteBlockedMessage != "Invitations are blocked for this directory due to suspicious activity. Please contact Microsoft support for help." {
		t.Fatal("the invite block answer drifted from the one Microsoft sends")
	}
	if _, err := NewInviteCap(-5, nil); err == nil {
		t.Fatal("NewInviteCap(-5) accepted")
	}
}
