package graph

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/directory"
)

// spacing is the gap the pacer leaves between invitations at perMinute.
func spacing(perMinute float64) time.Duration {
	return time.Duration(60/perMinute*inviteMargin*float64(time.Second)) + time.Millisecond
}

// TestGovernorSchedule invites one after another on virtual time until the
// governor reaches its ceiling, and checks the schedule: 1 a minute at
// first, each rate held for at least govStep and govOK accepted
// invitations and doubled at the first acceptance where both hold, the
// invitations spaced at the rate in force, never above the ceiling.
func TestGovernorSchedule(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		cap     int
		ceiling float64
	}{
		{"up to the write rate", 0, 19.8 * 60},
		{"up to invitations_per_minute", 60, 60},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, vc := newTestPacer(Pacing{Invitations: InvitesGoverned, InvitesPerMinute: tc.cap})
			ctx := context.Background()
			if got := p.stats().InvitesPerMinute; got != govStart {
				t.Fatalf("starts at %v a minute, want %v", got, govStart)
			}
			rate, levelStart, atLevel := govStart, vc.Now(), 0
			prev := time.Time{}
			n := 0
			for ; rate < tc.ceiling && n < 100000; n++ {
				if err := p.acquire(ctx, kindInvite, 1); err != nil {
					t.Fatal(err)
				}
				now := vc.Now()
				if n > 0 {
					if gap, want := now.Sub(prev), spacing(rate); gap < want-2*time.Millisecond || gap > want+2*time.Millisecond {
						t.Fatalf("invitation %d came %v after the last, want %v at %v a minute", n, gap, want, rate)
					}
				}
				prev = now
				if n+1 == 1000 {
					t.Logf("1,000 invitations took %v", now.Sub(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)).Round(time.Second))
				}
				p.release(kindInvite, ok200())
				atLevel++
				held := now.Sub(levelStart)
				got := p.stats().InvitesPerMinute
				switch due := atLevel >= govOK && held >= govStep; {
				case due && got != min(rate*2, tc.ceiling):
					t.Fatalf("after %d accepted over %v at %v a minute the rate is %v, want %v", atLevel, held, rate, got, min(rate*2, tc.ceiling))
				case !due && got != rate:
					t.Fatalf("after %d accepted over %v the rate moved from %v to %v", atLevel, held, rate, got)
				case due:
					rate, levelStart, atLevel = got, now, 0
				}
			}
			if rate != tc.ceiling {
				t.Fatalf("never reached the ceiling %v (at %v after %d invitations)", tc.ceiling, rate, n)
			}
			t.Logf("ceiling %v a minute reached after %d invitations and %v", tc.ceiling, n, vc.Now().Sub(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)).Round(time.Minute))
			// It stays there.
			for range 3 * govOK {
				_ = p.acquire(ctx, kindInvite, 1)
				p.release(kindInvite, ok200())
			}
			if got := p.stats().InvitesPerMinute; got != tc.ceiling {
				t.Fatalf("rate %v after the ceiling, want %v", got, tc.ceiling)
			}
		})
	}
}

// A 429 on an invitation halves the governor's rate, not below the start;
// other answers (a refused address, a 5xx) neither raise nor lower it.
func TestGovernorSlowsOnThrottling(t *testing.T) {
	t.Parallel()
	p, vc := newTestPacer(Pacing{Invitations: InvitesGoverned})
	ctx := context.Background()
	for p.stats().InvitesPerMinute < 8 {
		_ = p.acquire(ctx, kindInvite, 1)
		p.release(kindInvite, ok200())
	}
	for _, status := range []int{http.StatusBadRequest, http.StatusServiceUnavailable} {
		for range 2 * govOK {
			vc.After(govStep)
			_ = p.acquire(ctx, kindInvite, 1)
			p.release(kindInvite, &http.Response{StatusCode: status, Header: http.Header{}})
		}
		if got := p.stats().InvitesPerMinute; got != 8 {
			t.Fatalf("after %d answers %d the rate is %v, want 8", 2*govOK, status, got)
		}
	}
	for _, want := range []float64{4, 2, 1, 1} {
		_ = p.acquire(ctx, kindInvite, 1)
		p.release(kindInvite, &http.Response{StatusCode: http.StatusTooManyRequests, Header: http.Header{"Retry-After": {"1"}}})
		if got := p.stats().InvitesPerMinute; got != want {
			t.Fatalf("after a 429 the rate is %v, want %v", got, want)
		}
	}
}

// toFake sends every request to srv, whatever its host: a client on a
// named cloud, talking to a fake.
type toFake struct {
	srv  *url.URL
	next http.RoundTripper
}

func (r toFake) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.URL.Scheme, req.URL.Host, req.Host = r.srv.Scheme, r.srv.Host, ""
	return r.next.RoundTrip(req)
}

const invitedJSON = `{"invitedUser":{"id":"u1"},"inviteRedeemUrl":"https://r","status":"PendingAcceptance"}`

// TestGovernorDefaultsByCloud: on Microsoft's clouds invitations start at
// govStart a minute; on a custom cloud (the emulated tenant) at the
// ceiling; either setting overrides the default.
func TestGovernorDefaultsByCloud(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cloud    Cloud
		setting  InvitePacing
		governed bool
	}{
		{CloudPublic, InvitesDefault, true},
		{"", InvitesDefault, true},
		{CloudUSGov, InvitesDefault, true},
		{CloudChina, InvitesDefault, true},
		{CloudCustom, InvitesDefault, false},
		{CloudPublic, InvitesCeiling, false},
		{CloudCustom, InvitesGoverned, true},
	} {
		t.Run(fmt.Sprintf("%s %s", tc.cloud, tc.setting), func(t *testing.T) {
			t.Parallel()
			var invites atomic.Int64
			c, vc := fakeCloud(t, tc.cloud, func(w http.ResponseWriter, r *http.Request) {
				invites.Add(1)
				_, _ = w.Write([]byte(invitedJSON))
			}, func(o *Options) { o.Pacing.Invitations = tc.setting })
			start := vc.Now()
			for i := range 3 {
				if _, err := c.Invite(context.Background(), directory.Invitation{
					Email: foyer.Address(fmt.Sprintf("g%d@fabrikam.example", i)), RedirectURL: "https://myapps.microsoft.com/"}); err != nil {
					t.Fatal(err)
				}
			}
			took := vc.Now().Sub(start)
			if tc.governed && took < 2*spacing(govStart)-time.Millisecond {
				t.Errorf("3 invitations took %v: want at least %v, at %v a minute", took, 2*spacing(govStart), govStart)
			}
			if !tc.governed && took > time.Second {
				t.Errorf("3 invitations took %v: want no governor", took)
			}
			if invites.Load() != 3 {
				t.Errorf("%d invitations sent, want 3", invites.Load())
			}
		})
	}
}

// fakeCloud is a client on cloud whose requests all go to a fake server
// answering h, on virtual time.
func fakeCloud(t *testing.T, cloud Cloud, h http.HandlerFunc, tweak func(*Options)) (*Client, *vclock) {
	t.Helper()
	var vc *vclock
	c, _ := fakeGraph(t, h, func(o *Options) {
		vc = o.Clock.(*vclock)
		if cloud != CloudCustom {
			u, err := url.Parse(o.Endpoints.Graph)
			if err != nil {
				t.Fatal(err)
			}
			o.Cloud, o.Endpoints = cloud, Endpoints{}
			hc := *o.HTTPClient
			hc.Transport = toFake{srv: u, next: o.HTTPClient.Transport}
			o.HTTPClient = &hc
		}
		if tweak != nil {
			tweak(o)
		}
	})
	return c, vc
}

// TestBlockStopsInvitations: once Entra answers that it blocked
// invitations, the client sends no more, on any cloud and pacing, and says
// why without a call; reads go on.
func TestBlockStopsInvitations(t *testing.T) {
	t.Parallel()
	var invites atomic.Int64
	c, _ := fakeGraph(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/invitations"):
			if invites.Add(1) >= 3 {
				graphErr(w, http.StatusForbidden, "Forbidden", "Invitations are blocked for this directory due to suspicious activity. Please contact Microsoft support for help.")
				return
			}
			_, _ = w.Write([]byte(invitedJSON))
		default:
			_, _ = w.Write([]byte(`{"value":[{"id":"contoso.example","isVerified":true}]}`))
		}
	}, func(o *Options) { o.Pacing.Invitations = InvitesCeiling })
	ctx := context.Background()
	var errs []error
	for i := range 5 {
		_, err := c.Invite(ctx, directory.Invitation{Email: foyer.Address(fmt.Sprintf("b%d@fabrikam.example", i)), RedirectURL: "https://myapps.microsoft.com/"})
		errs = append(errs, err)
	}
	if errs[0] != nil || errs[1] != nil {
		t.Fatalf("before the block: %v", errs[:2])
	}
	for i, err := range errs[2:] {
		if !errors.Is(err, directory.ErrBlocked) || directory.Retryable(err) {
			t.Fatalf("invitation %d: %v, want ErrBlocked, not retryable", i+3, err)
		}
	}
	if !strings.Contains(errs[4].Error(), "invite b4@fabrikam.example") {
		t.Errorf("the refusal does not say what was being done: %v", errs[4])
	}
	if n := invites.Load(); n != 3 {
		t.Fatalf("%d invitations sent, want 3: none after the block", n)
	}
	if !c.Stats().InvitesBlocked {
		t.Error("Stats does not say invitations are blocked")
	}
	if _, err := c.Domains(ctx); err != nil {
		t.Fatalf("a read after the block: %v", err)
	}
	// Once the block is lifted (foyer tenants unblock), the client invites
	// again.
	invites.Store(-10)
	c.ResumeInvitations()
	if c.Stats().InvitesBlocked {
		t.Error("Stats says invitations are blocked after ResumeInvitations")
	}
	if _, err := c.Invite(ctx, directory.Invitation{Email: "b5@fabrikam.example", RedirectURL: "https://myapps.microsoft.com/"}); err != nil {
		t.Fatalf("an invitation after ResumeInvitations: %v", err)
	}
	if n := invites.Load(); n != -9 {
		t.Fatalf("invitations sent after ResumeInvitations: %d, want 1", n+10)
	}
}

func TestGovernorNeverExceedsItsCeiling(t *testing.T) {
	t.Parallel()
	g := newGovernor(true, 5, time.Unix(0, 0))
	now := time.Unix(0, 0)
	for range 1000 {
		now = now.Add(time.Minute)
		g.accepted(now)
		if g.rate > 5 || math.IsNaN(g.rate) {
			t.Fatalf("rate %v over the ceiling 5", g.rate)
		}
	}
	if g.rate != 5 {
		t.Fatalf("rate %v, want the ceiling 5", g.rate)
	}
}
