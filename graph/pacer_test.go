package graph

import (
	"context"
	"log/slog"
	"net/http"
	"testing"
	"time"
)

func newTestPacer(cfg Pacing) (*pacer, *vclock) {
	vc := newVClock()
	return newPacer(cfg.withDefaults(), cfg.governed(CloudCustom), vc.Now, vc.After, slog.New(slog.DiscardHandler)), vc
}

func ok200() *http.Response { return &http.Response{StatusCode: 200, Header: http.Header{}} }

func TestPacerWriteRate(t *testing.T) {
	t.Parallel()
	p, vc := newTestPacer(Pacing{WritesPerSecond: 10, WriteBurst: 5})
	start := vc.Now()
	for range 25 {
		if err := p.acquire(context.Background(), kindWrite, 1); err != nil {
			t.Fatal(err)
		}
		p.release(kindWrite, ok200())
	}
	// 5 go at once, the other 20 at 10 per second.
	if el := vc.Now().Sub(start); el < 1900*time.Millisecond || el > 2100*time.Millisecond {
		t.Fatalf("25 writes took %v of virtual time, want about 2s", el)
	}
	if got := p.stats().Writes; got != 25 {
		t.Fatalf("writes counted %d, want 25", got)
	}
	// Reads do not wait for write tokens.
	before := vc.Now()
	for range 50 {
		if err := p.acquire(context.Background(), kindRead, 0); err != nil {
			t.Fatal(err)
		}
		p.release(kindRead, ok200())
	}
	if vc.Now() != before {
		t.Fatalf("reads waited %v", vc.Now().Sub(before))
	}
}

func TestPacerInviteCap(t *testing.T) {
	t.Parallel()
	p, vc := newTestPacer(Pacing{InvitesPerMinute: 30})
	start := vc.Now()
	for range 4 {
		if err := p.acquire(context.Background(), kindInvite, 1); err != nil {
			t.Fatal(err)
		}
		p.release(kindInvite, ok200())
	}
	// One at once, then one every 2 s and 5% (inviteMargin).
	if el := vc.Now().Sub(start); el < 6300*time.Millisecond || el > 6400*time.Millisecond {
		t.Fatalf("4 invitations took %v, want about 6.3s", el)
	}
}

func TestPacerRetryAfterPausesScope(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name             string
		kind             reqKind
		scope            string
		readWaits        bool
		writeWaitAtLeast time.Duration
	}{
		{"write limit pauses writes only", kindWrite, "Tenant_Application/Write/app/tenant", false, 3 * time.Second},
		{"read limit pauses everything", kindRead, "Tenant_Application/ReadWrite/app/tenant", true, 3 * time.Second},
		{"no scope on a read pauses everything", kindRead, "", true, 3 * time.Second},
		{"no scope on a write pauses writes", kindWrite, "", false, 3 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, vc := newTestPacer(Pacing{})
			if err := p.acquire(context.Background(), tc.kind, 1); err != nil {
				t.Fatal(err)
			}
			h := http.Header{}
			h.Set("Retry-After", "3")
			if tc.scope != "" {
				h.Set("x-ms-throttle-scope", tc.scope)
			}
			p.release(tc.kind, &http.Response{StatusCode: http.StatusTooManyRequests, Header: h})
			before := vc.Now()
			_ = p.acquire(context.Background(), kindRead, 0)
			p.release(kindRead, ok200())
			if waited := vc.Now().Sub(before) > 0; waited != tc.readWaits {
				t.Fatalf("read waited: %v, want %v", waited, tc.readWaits)
			}
			_ = p.acquire(context.Background(), kindWrite, 1)
			if el := vc.Now().Sub(before); el < tc.writeWaitAtLeast {
				t.Fatalf("write went after %v, want at least %v", el, tc.writeWaitAtLeast)
			}
			if p.stats().Throttled != 1 {
				t.Fatalf("throttled = %d", p.stats().Throttled)
			}
		})
	}
}

func TestPacerLimitPercentage(t *testing.T) {
	t.Parallel()
	p, vc := newTestPacer(Pacing{WritesPerSecond: 20, MaxConcurrency: 10})
	answer := func(pct string) {
		h := http.Header{}
		if pct != "" {
			h.Set("x-ms-throttle-limit-percentage", pct)
		}
		_ = p.acquire(context.Background(), kindWrite, 1)
		p.release(kindWrite, &http.Response{StatusCode: 200, Header: h})
	}
	// 0.9: near the ceiling, hold.
	answer("0.9")
	if p.rate != 20 || p.limit != 10 {
		t.Fatalf("after 0.9 rate %v limit %v, want unchanged", p.rate, p.limit)
	}
	// At the limit: cut by a fifth, once per cutEvery.
	answer("1.0")
	if p.rate != 16 || p.limit != 8 {
		t.Fatalf("after 1.0 rate %v limit %v, want 16 and 8", p.rate, p.limit)
	}
	answer("1.2")
	if p.rate != 16 {
		t.Fatalf("a second signal within %v cut again: %v", cutEvery, p.rate)
	}
	vc.After(cutEvery)
	answer("1.2")
	if p.rate != 12.8 {
		t.Fatalf("after %v another 1.2 gives rate %v, want 12.8", cutEvery, p.rate)
	}
	// Held at 0.9, creeping up at 0.8 (a fifth of the usual growth), then
	// quiet answers let it grow back, no further than configured.
	vc.After(30 * time.Second)
	answer("0.9")
	if p.rate != 12.8 {
		t.Fatalf("0.9 after a pause moved the rate to %v", p.rate)
	}
	vc.After(5 * time.Second)
	answer("0.8")
	if p.rate < 13.7 || p.rate > 13.9 {
		t.Fatalf("5 s later 0.8 gave rate %v, want 12.8 + 5 × 0.2 × 1 = 13.8", p.rate)
	}
	vc.After(30 * time.Second)
	answer("")
	if p.rate != 20 || p.limit != 10 {
		t.Fatalf("after 30 s of quiet rate %v limit %v, want 20 and 10", p.rate, p.limit)
	}
}

func TestPacerConcurrencyLimit(t *testing.T) {
	t.Parallel()
	p, _ := newTestPacer(Pacing{MaxConcurrency: 2})
	ctx := context.Background()
	_ = p.acquire(ctx, kindRead, 0)
	_ = p.acquire(ctx, kindRead, 0)
	got := make(chan error, 1)
	go func() { got <- p.acquire(ctx, kindRead, 0) }()
	select {
	case <-got:
		t.Fatal("a third request went while two were in flight")
	case <-time.After(20 * time.Millisecond):
	}
	p.release(kindRead, ok200())
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := p.acquire(cctx, kindRead, 0); err == nil {
		t.Fatal("acquire with a cancelled context succeeded while full")
	}
}
