package web

import (
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/foyer-dev/foyer"
)

// Rate is N events per Per, in a burst of up to N.
type Rate struct {
	N   int
	Per time.Duration
}

func (r Rate) zero() bool { return r.N <= 0 || r.Per <= 0 }

// Limits are the server's rate limits and body sizes. Zero fields take
// the defaults below.
type Limits struct {
	FormBody int64 // bytes of a form's body; default 64 KiB
	APIBody  int64 // bytes of an API call's body; default 16 KiB
	// PerIP limits every public POST (the request page, the status link's
	// button) per client address; default 20 a minute.
	PerIP Rate
	// PerEmail and PerDomain limit submissions on the request page per
	// address and per domain asked for; defaults 5 and 50 an hour. The
	// portal applies them, with limiters made by NewLimiter.
	PerEmail  Rate
	PerDomain Rate
}

// DefaultLimits are the limits a zero Limits takes.
func DefaultLimits() Limits {
	return Limits{
		FormBody:  64 << 10,
		APIBody:   16 << 10,
		PerIP:     Rate{N: 20, Per: time.Minute},
		PerEmail:  Rate{N: 5, Per: time.Hour},
		PerDomain: Rate{N: 50, Per: time.Hour},
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.FormBody <= 0 {
		l.FormBody = d.FormBody
	}
	if l.APIBody <= 0 {
		l.APIBody = d.APIBody
	}
	if l.PerIP.zero() {
		l.PerIP = d.PerIP
	}
	if l.PerEmail.zero() {
		l.PerEmail = d.PerEmail
	}
	if l.PerDomain.zero() {
		l.PerDomain = d.PerDomain
	}
	return l
}

// Limiter is a token bucket per key (an address, an email, a domain),
// on an injected clock. Keys whose bucket is full again are forgotten,
// so that memory follows the keys active within one period.
type Limiter struct {
	clock foyer.Clock
	limit rate.Limit
	burst int
	per   time.Duration

	mu      sync.Mutex
	buckets map[string]*rate.Limiter
	sweepAt int // sweep once the map holds this many keys
}

// NewLimiter returns a limiter allowing r per key; a zero r allows
// nothing. A nil clock is the system clock.
func NewLimiter(r Rate, clock foyer.Clock) *Limiter {
	if clock == nil {
		clock = foyer.SystemClock{}
	}
	l := &Limiter{clock: clock, buckets: map[string]*rate.Limiter{}, sweepAt: 1024, per: r.Per}
	if !r.zero() {
		l.limit = rate.Limit(float64(r.N) / r.Per.Seconds())
		l.burst = r.N
	}
	return l
}

// Allow takes one event for key. When the key is past its rate it
// returns false and how long until an event would be allowed.
func (l *Limiter) Allow(key string) (ok bool, retry time.Duration) {
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.burst == 0 {
		return false, l.per
	}
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= l.sweepAt {
			l.sweep(now)
		}
		b = rate.NewLimiter(l.limit, l.burst)
		l.buckets[key] = b
	}
	res := b.ReserveN(now, 1)
	if !res.OK() {
		return false, l.per
	}
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return false, d
	}
	return true, 0
}

// sweep forgets the keys whose bucket is full: they behave as new ones.
// If most keys are active, the next sweep waits until the map doubles.
func (l *Limiter) sweep(now time.Time) {
	for k, b := range l.buckets {
		if b.TokensAt(now) >= float64(l.burst) {
			delete(l.buckets, k)
		}
	}
	l.sweepAt = max(1024, 2*len(l.buckets))
}

// Len returns how many keys the limiter remembers.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}
