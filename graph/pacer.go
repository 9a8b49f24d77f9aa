package graph

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/foyer-dev/foyer/directory"
)

// pacer is the client's shared throttling controller (docs/graph.md
// explains the algorithm and why):
//
//   - writes pass a token bucket filled at the current write rate, which
//     starts at Pacing.WritesPerSecond (the published 3,000 writes per 150 s
//     per app and tenant, docs/graph-reference.md §7);
//   - invitations also pass a bucket, burst 1, filled at the governor's
//     rate (governor.go): on a real tenant it starts slow and doubles while
//     no block answer comes, up to Pacing.InvitesPerMinute (else the write
//     rate); a block answer stops invitations for good;
//   - at most `limit` requests are in flight;
//   - Retry-After on a 429 pauses the throttled scope (writes, or
//     everything) until then, and halves the write rate and the limit;
//   - x-ms-throttle-limit-percentage (sent from 80% of a limit in use)
//     slows growth at 0.8, holds the rate at 0.9 and cuts it by a fifth at
//     1.0 or more; cuts of each cause are at least cutEvery apart;
//   - answers without that header let both grow back additively.
type pacer struct {
	cfg   Pacing
	now   func() time.Time
	after func(time.Duration) <-chan time.Time
	log   *slog.Logger

	mu           sync.Mutex
	rate         float64 // writes per second now
	tokens       float64
	last         time.Time
	invTokens    float64
	invLast      time.Time
	gov          governor
	pausedAll    time.Time
	pausedWrites time.Time
	limit        float64 // concurrency now
	inflight     int
	changed      chan struct{}
	lastCut      [2]time.Time // by cause: cutWarned, cutThrottled
	lastGrow     time.Time

	requests, writes, throttled, retries, warned atomic.Int64
}

// Stats counts requests as the client saw them.
type Stats struct {
	Requests  int64 // requests sent (each try)
	Writes    int64 // write units admitted (a $batch of n writes counts n)
	Throttled int64 // answers 429 (inner $batch answers included)
	Retries   int64 // tries after the first
	Warned    int64 // answers carrying x-ms-throttle-limit-percentage

	InvitesPerMinute float64 // the invitation rate allowed now; 0: none but the write rate
	InvitesBlocked   bool    // Entra blocked invitations; this client sends no more
}

// newPacer paces for cfg (with its defaults); governed starts invitations
// slow (governor.go).
func newPacer(cfg Pacing, governed bool, now func() time.Time, after func(time.Duration) <-chan time.Time, log *slog.Logger) *pacer {
	t := now()
	ceiling := float64(cfg.InvitesPerMinute)
	if governed && ceiling <= 0 {
		ceiling = cfg.WritesPerSecond * 60
	}
	return &pacer{
		cfg: cfg, now: now, after: after, log: log,
		rate: cfg.WritesPerSecond, tokens: float64(cfg.WriteBurst), last: t,
		invTokens: 1, invLast: t, gov: newGovernor(governed, ceiling, t),
		limit: float64(cfg.MaxConcurrency), changed: make(chan struct{}),
	}
}

func (p *pacer) stats() Stats {
	p.mu.Lock()
	perMinute, blocked := p.gov.perMinute(), p.gov.blocked
	p.mu.Unlock()
	return Stats{Requests: p.requests.Load(), Writes: p.writes.Load(), Throttled: p.throttled.Load(),
		Retries: p.retries.Load(), Warned: p.warned.Load(), InvitesPerMinute: perMinute, InvitesBlocked: blocked}
}

// refill adds the tokens earned since the last call. Caller holds mu.
func (p *pacer) refill(now time.Time) {
	if dt := now.Sub(p.last).Seconds(); dt > 0 { // p.last may be ahead: the end of a pause
		p.tokens = min(p.tokens+dt*p.rate, float64(p.cfg.WriteBurst))
		p.last = now
	}
	if p.invitesLimited() {
		if dt := now.Sub(p.invLast).Seconds(); dt > 0 {
			p.invTokens = min(p.invTokens+dt*p.inviteRate(), 1)
			p.invLast = now
		}
	}
}

// acquire waits until a request of kind k (carrying writes write units) may
// go, then takes its slot. The caller must call release once it has the
// answer.
func (p *pacer) acquire(ctx context.Context, k reqKind, writes int) error {
	for {
		p.mu.Lock()
		if k == kindInvite && p.gov.blocked {
			p.mu.Unlock()
			return &directory.Error{Kind: directory.ErrBlocked, Message: "an earlier invitation was answered " +
				"\"blocked for suspicious activity\": this client sends no more invitations (only Microsoft support lifts the block)"}
		}
		now := p.now()
		p.refill(now)
		wait := time.Duration(0)
		if now.Before(p.pausedAll) {
			wait = p.pausedAll.Sub(now)
		}
		if k != kindRead {
			if now.Before(p.pausedWrites) {
				wait = max(wait, p.pausedWrites.Sub(now))
			}
			if p.tokens < 1 {
				wait = max(wait, time.Duration((1-p.tokens)/p.rate*float64(time.Second))+time.Millisecond)
			}
			if k == kindInvite && p.invitesLimited() && p.invTokens < 1 {
				wait = max(wait, time.Duration((1-p.invTokens)/p.inviteRate()*float64(time.Second))+time.Millisecond)
			}
		}
		if wait == 0 && float64(p.inflight) < p.limit {
			p.inflight++
			if k != kindRead {
				p.tokens -= float64(writes) // may go below zero: a $batch of writes pays in full
				p.writes.Add(int64(writes))
				if k == kindInvite && p.invitesLimited() {
					p.invTokens--
				}
			}
			p.requests.Add(1)
			p.mu.Unlock()
			return nil
		}
		ch := p.changed
		p.mu.Unlock()
		var timer <-chan time.Time
		if wait > 0 {
			timer = p.after(wait)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer:
		case <-ch:
		}
	}
}

// inviteMargin widens the spacing of invitations: the service counts them
// when they arrive, and arrival times jitter with latency, so invitations
// spaced exactly 60/N s apart at the client can land N+1 in one minute at
// the service. 5% absorbs 3 s of jitter per minute.
const inviteMargin = 1.05

// invitesLimited reports whether invitations pass their own bucket.
// Caller holds mu.
func (p *pacer) invitesLimited() bool { return p.gov.perMinute() > 0 }

// inviteRate is invitations per second. Caller holds mu.
func (p *pacer) inviteRate() float64 {
	return p.gov.perMinute() / 60 / inviteMargin
}

// govern tells the governor what an invitation's answer was. Caller holds
// mu.
func (p *pacer) govern(status int) {
	now := p.now()
	p.refill(now) // tokens earned so far, at the rate they were earned at
	switch {
	case status/100 == 2:
		if p.gov.accepted(now) {
			p.log.Info("invitation pace raised", "per_minute", p.gov.rate, "ceiling", p.gov.ceiling)
		}
	case status == http.StatusTooManyRequests:
		if p.gov.throttled(now) {
			p.log.Info("invitation pace lowered after a 429", "per_minute", p.gov.rate)
		}
	}
}

// block stops invitations: Entra answered that it blocked them for
// suspicious activity. Waiting invitations are woken to be refused.
func (p *pacer) block() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.gov.blocked {
		p.gov.blocked = true
		p.log.Warn("Entra blocked invitations for suspicious activity: no more invitations are sent")
	}
	p.wake()
}

// unblock lets invitations go again after a block was lifted; the
// governor starts again from its slowest rate.
func (p *pacer) unblock() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.gov.blocked {
		p.gov = newGovernor(p.gov.on, p.gov.ceiling, p.now())
		p.log.Info("invitations resumed: the block was lifted")
	}
	p.wake()
}

// release frees the slot taken by acquire and adapts to the answer.
func (p *pacer) release(k reqKind, resp *http.Response) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.inflight--
	if resp != nil {
		p.observe(k, resp.StatusCode, resp.Header)
		if k == kindInvite {
			p.govern(resp.StatusCode)
		}
	}
	p.wake()
}

// wake tells waiters that something changed. Caller holds mu.
func (p *pacer) wake() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// cutEvery spaces multiplicative cuts: the service's windows are long (the
// write quota's is 150 s), so its signals lag the client's changes, and
// cutting on every answer would drive the rate to the floor before the
// first cut shows.
const cutEvery = 10 * time.Second

// observe adapts rate and concurrency to one answer. Caller holds mu.
//
// x-ms-throttle-limit-percentage (docs/graph-reference.md §7) is sent from 0.8 of a
// limit in use; 1.0 is at the limit, above it the share refused. At 0.8 the
// client creeps up at a fifth of its usual growth, at 0.9 it holds (near
// the ceiling, where it wants to be), at 1.0 or more it cuts by a fifth;
// without the header it grows back at full speed.
func (p *pacer) observe(k reqKind, status int, h http.Header) {
	now := p.now()
	if status == http.StatusTooManyRequests {
		p.throttled.Add(1)
		p.throttle(k, h.Get("x-ms-throttle-scope"), retryAfter(h, 2*time.Second), now)
		return
	}
	if v := h.Get("x-ms-throttle-limit-percentage"); v != "" {
		p.warned.Add(1)
		switch f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); {
		case err != nil:
		case f >= 1.0:
			p.cut(cutWarned, 0.8, now)
		case f >= 0.9:
			p.lastGrow = now // hold
		default:
			p.grow(now, 0.2) // creep up towards the ceiling
		}
		return
	}
	p.grow(now, 1)
}

// throttle pauses the scope the service named until Retry-After and halves
// rate and concurrency. Caller holds mu.
//
// x-ms-throttle-scope is <Scope>/<Limit>/<App>/<Tenant> with Limit Read,
// Write or ReadWrite (docs/graph-reference.md §7). A write limit pauses writes only:
// reads still pass (throttling-limits "writes can be throttled while reads
// still pass"). Without the header, a throttled write pauses writes and a
// throttled read pauses everything.
func (p *pacer) throttle(k reqKind, scope string, d time.Duration, now time.Time) {
	until := now.Add(d)
	writesOnly := k != kindRead
	if parts := strings.Split(scope, "/"); len(parts) >= 2 {
		writesOnly = strings.EqualFold(parts[1], "Write")
	}
	if writesOnly {
		p.pausedWrites = maxTime(p.pausedWrites, until)
	} else {
		p.pausedAll = maxTime(p.pausedAll, until)
	}
	// No burst after the pause: the bucket starts empty when it ends, or
	// every client paused on the same Retry-After would fire its burst at
	// the same instant and be refused again.
	p.tokens = min(p.tokens, 0)
	p.last = maxTime(p.last, until)
	p.cut(cutThrottled, 0.5, now)
}

// Causes of a cut, each spaced by cutEvery on its own: a warning's gentle
// cut must not delay the halving a 429 calls for.
const (
	cutWarned = iota
	cutThrottled
)

// cut multiplies rate and concurrency by f, at most once per cutEvery for
// each cause; a warning does not cut again within cutEvery of a 429's
// halving, which already answered the same overload. Caller holds mu.
func (p *pacer) cut(cause int, f float64, now time.Time) {
	recent := func(c int) bool { return !p.lastCut[c].IsZero() && now.Sub(p.lastCut[c]) < cutEvery }
	if recent(cause) || cause == cutWarned && recent(cutThrottled) {
		return
	}
	p.rate = max(p.rate*f, p.cfg.WritesPerSecond/20)
	p.limit = max(p.limit*f, 1)
	p.lastCut[cause], p.lastGrow = now, now
}

// grow lets rate and concurrency recover, at speed 1 back to the
// configured rate within about 20 s, and one more request in flight per
// second; a smaller speed scales both. Caller holds mu.
func (p *pacer) grow(now time.Time, speed float64) {
	dt := now.Sub(p.lastGrow).Seconds()
	if dt <= 0 {
		return
	}
	p.lastGrow = now
	p.rate = min(p.rate+speed*dt*p.cfg.WritesPerSecond/20, p.cfg.WritesPerSecond)
	p.limit = min(p.limit+speed*dt, float64(p.cfg.MaxConcurrency))
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// pacePolicy puts every try through the pacer.
type pacePolicy struct{ p *pacer }

func (pp *pacePolicy) Do(req *policyRequest) (*http.Response, error) {
	var m meta
	req.OperationValue(&m)
	if err := pp.p.acquire(req.Raw().Context(), m.kind, max(m.writes, 1)); err != nil {
		return nil, err
	}
	resp, err := req.Next()
	pp.p.release(m.kind, resp)
	return resp, err
}
