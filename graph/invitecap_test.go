package graph

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/directory"
	"github.com/foyer-dev/foyer/sim"
	"github.com/foyer-dev/foyer/sim/simtest"
)

// The sim blocks invitations over 5 a minute the way Entra's abuse
// detection does. Without a cap the client meets the block, reports
// ErrBlocked and does not retry; with InvitesPerMinute 5 it never meets it.
// Client and sim share virtual time: the client's waits advance the sim's
// clock.
func TestInviteCapStaysUnderTheBlock(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		cap     int
		invites int
		blocked bool
	}{
		{"no cap: blocked, not retried", 0, 6, true},
		{"a cap of 5 a minute: never blocked", 5, 12, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := simtest.Start(t, sim.Options{InvitesPerMinute: 5})
			o := simOptions(s, s.ClientID(), s.ClientSecret())
			o.Pacing.InvitesPerMinute = tc.cap
			o.Clock = foyer.ClockFunc(s.Now)
			o.After = func(d time.Duration) <-chan time.Time {
				s.Advance(d)
				ch := make(chan time.Time, 1)
				ch <- s.Now()
				return ch
			}
			c, err := New(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			start := s.Now()
			var blocked error
			for i := range tc.invites {
				_, err := c.Invite(context.Background(), directory.Invitation{
					Email: foyer.Address(fmt.Sprintf("cap%d@fabrikam.example", i)), RedirectURL: "https://myapps.microsoft.com/"})
				if err != nil {
					blocked = err
					break
				}
			}
			posts := s.Stats().Routes["POST /v1.0/invitations"]
			if tc.blocked {
				if !errors.Is(blocked, directory.ErrBlocked) || directory.Retryable(blocked) {
					t.Fatalf("6th invitation: %v, want ErrBlocked, not retryable", blocked)
				}
				if posts != 6 {
					t.Fatalf("%d POST /invitations, want 6 (the refused one not retried)", posts)
				}
				return
			}
			if blocked != nil {
				t.Fatalf("blocked with a cap: %v", blocked)
			}
			if took := s.Now().Sub(start); took < 11*12*time.Second {
				t.Fatalf("12 invitations at 5 a minute took %v of virtual time", took)
			}
		})
	}
}
