package throttle

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Call is one Graph request presented to the Limiter.
type Call struct {
	// AppID is the calling application's client id (the token's appid/azp);
	// TenantID is the tenant the request runs against.
	AppID, TenantID string
	// Users is the number of users in the tenant; it picks the S, M or L
	// application+tenant resource-unit quota.
	Users int
	// Request is what is being asked, for its cost.
	Request Request
}

// Decision is the Limiter's answer to one Call.
type Decision struct {
	// Allowed says whether the request may proceed. When false, the sim
	// answers 429 TooManyRequests (see SetHeaders and TooManyRequestsCode).
	Allowed bool
	// At is the instant the Limiter judged the request (from its clock).
	At time.Time
	// RU is the request's cost in resource units; Write says whether it
	// also cost a write.
	RU    int
	Write bool
	// RetryAfter is, when refused, exactly how long until the same request
	// would be admitted if nothing else were: the longest wait over every
	// limit it exceeds, rounded up to the millisecond.
	RetryAfter time.Duration
	// Percentage is the highest share of a limit in use, in tenths (0.8,
	// 0.9, 1.0, ... up to 1.8), counting this request when admitted and
	// the refused load of the last window; 0 below 0.8.
	Percentage float64
	// Scope and Information say, when refused, which limit was hit, as
	// x-ms-throttle-scope and x-ms-throttle-information give it; for
	// example "Tenant_Application/Write/{appId}/{tenantId}" and
	// "WriteLimitExceeded". When several limits are exceeded, the one with
	// the longest wait is named.
	Scope, Information string
}

// Values of x-ms-throttle-information, from
// includes/throttling-identity-and-access.md. CPULimitExceeded is not
// modelled.
const (
	WriteLimitExceeded        = "WriteLimitExceeded"
	ResourceUnitLimitExceeded = "ResourceUnitLimitExceeded"
)

// limitKind names the five limits, for the scope and information headers.
type limitKind int

const (
	appTenantRU limitKind = iota
	appRU
	appTenantWrites
	appWrites
	tenantWrites
)

// scope returns x-ms-throttle-scope, "<Scope>/<Limit>/<ApplicationId>/<TenantId>".
// The documentation marks the last part required for every scope, so the
// tenant the request ran against is written for Application scope too.
func (k limitKind) scope(app, tenant string) string {
	s := [...]string{
		appTenantRU:     "Tenant_Application/ReadWrite/",
		appRU:           "Application/ReadWrite/",
		appTenantWrites: "Tenant_Application/Write/",
		appWrites:       "Application/Write/",
		tenantWrites:    "Tenant/Write/",
	}[k]
	return s + app + "/" + tenant
}

func (k limitKind) information() string {
	if k == appRU || k == appTenantRU {
		return ResourceUnitLimitExceeded
	}
	return WriteLimitExceeded
}

// Limiter enforces a Config, exactly: in any window of a limit's length, the
// cost it admits against that limit never exceeds the limit. It is safe for
// concurrent use; the clock is injected.
//
// Refused requests do not count against the quota. The identity-and-access
// page says "Only the requests exceeding the limits are throttled" and that
// x-ms-throttle-limit-percentage 1.2 "indicates 20% of the incoming requests
// are throttled", which can only hold if refused requests leave the quota to
// the ones admitted. (concepts/throttling.md says more generally that usage
// keeps accruing while a client is throttled; for identity and access the
// specific page is followed.) So a client that waits the Retry-After it was
// given gets through, unless other traffic took the room meanwhile; one that
// retries at once is refused again, since Retry-After is exact.
//
// Not modelled: 429s below the limits under service load (sim/chaos can
// inject 5xx), the x-ms-throttle-priority request header, CPULimitExceeded,
// the global 130,000 requests per 10 s per application, and the limits of
// other Graph services (reports, identity protection, ...).
type Limiter struct {
	now func() time.Time
	cfg atomic.Pointer[Config]

	mu        sync.Mutex
	last      int64 // latest clock reading, in Unix ns: time never goes back
	appTenant map[pair]*pairLogs
	app       map[string]*pairLogs // RU and writes per application
	tenant    map[string]*log      // writes per tenant
}

type pair struct{ app, tenant string }

type pairLogs struct{ ru, writes log }

// New returns a Limiter enforcing c, reading the time from now (time.Now
// when nil).
func New(c Config, now func() time.Time) (*Limiter, error) {
	if now == nil {
		now = time.Now
	}
	l := &Limiter{now: now}
	l.Reset()
	if err := l.SetConfig(c); err != nil {
		return nil, err
	}
	return l, nil
}

// SetConfig changes the limits at run time. History is kept: usage recorded
// under the old limits counts against the new ones, except that a limit that
// was unlimited kept no history and starts empty, and a window made longer
// sees only what the shorter one still held.
func (l *Limiter) SetConfig(c Config) error {
	if err := c.Validate(); err != nil {
		return fmt.Errorf("set throttle config: %w", err)
	}
	c = c.normalize()
	l.mu.Lock()
	l.cfg.Store(&c)
	l.mu.Unlock()
	return nil
}

// Config returns the limits in force.
func (l *Limiter) Config() Config { return *l.cfg.Load() }

// Reset forgets all recorded usage (the sim's side-door reset).
func (l *Limiter) Reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.appTenant = map[pair]*pairLogs{}
	l.app = map[string]*pairLogs{}
	l.tenant = map[string]*log{}
}

// check is one limit a request counts against.
type check struct {
	log  *log
	lim  Limit
	cost int64
	kind limitKind
}

// Admit judges one request and, if it is allowed, records its cost against
// every limit it counts against.
func (l *Limiter) Admit(c Call) Decision {
	ru, write := Cost(c.Request)
	d := Decision{RU: ru, Write: write}
	cfg := l.cfg.Load() // normalized by SetConfig
	if *cfg == (Config{}) {
		d.Allowed, d.At = true, l.now()
		return d
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	cfg = l.cfg.Load() // the one in force under the lock
	now := l.now().UnixNano()
	if now < l.last {
		now = l.last
	}
	l.last = now
	d.At = time.Unix(0, now)

	var checks [5]check
	n := 0
	if lim := cfg.AppTenantRU(c.Users); !lim.Unlimited() {
		checks[n] = check{&l.pairLogs(c).ru, lim, int64(ru), appTenantRU}
		n++
	}
	if lim := cfg.AppRU; !lim.Unlimited() {
		checks[n] = check{&l.appLogs(c.AppID).ru, lim, int64(ru), appRU}
		n++
	}
	if write {
		if lim := cfg.AppTenantWrites; !lim.Unlimited() {
			checks[n] = check{&l.pairLogs(c).writes, lim, 1, appTenantWrites}
			n++
		}
		if lim := cfg.AppWrites; !lim.Unlimited() {
			checks[n] = check{&l.appLogs(c.AppID).writes, lim, 1, appWrites}
			n++
		}
		if lim := cfg.TenantWrites; !lim.Unlimited() {
			checks[n] = check{l.tenantLog(c.TenantID), lim, 1, tenantWrites}
			n++
		}
	}

	var wait int64
	worst := -1
	for i := range checks[:n] {
		k := &checks[i]
		per := int64(k.lim.Per)
		k.log.evict(now - per)
		if w := k.log.wait(now, k.cost, int64(k.lim.N), per); w > wait {
			wait, worst = w, i
		}
	}
	d.Allowed = worst < 0
	var tenths int64
	for i := range checks[:n] {
		k := &checks[i]
		per := int64(k.lim.Per)
		if d.Allowed {
			k.log.add(now, k.cost)
		} else {
			k.log.refused.add(now, k.cost, per)
		}
		load := k.log.used() + k.log.refused.sum(now, per)
		tenths = max(tenths, 10*load/int64(k.lim.N))
	}
	if tenths >= 8 {
		d.Percentage = float64(min(tenths, 18)) / 10
	}
	if !d.Allowed {
		k := checks[worst]
		d.RetryAfter = time.Duration((wait + int64(time.Millisecond) - 1) / int64(time.Millisecond) * int64(time.Millisecond))
		d.Scope = k.kind.scope(c.AppID, c.TenantID)
		d.Information = k.kind.information()
	}
	return d
}

func (l *Limiter) pairLogs(c Call) *pairLogs {
	k := pair{c.AppID, c.TenantID}
	p := l.appTenant[k]
	if p == nil {
		p = &pairLogs{}
		l.appTenant[k] = p
	}
	return p
}

func (l *Limiter) appLogs(app string) *pairLogs {
	p := l.app[app]
	if p == nil {
		p = &pairLogs{}
		l.app[app] = p
	}
	return p
}

func (l *Limiter) tenantLog(tenant string) *log {
	t := l.tenant[tenant]
	if t == nil {
		t = &log{}
		l.tenant[tenant] = t
	}
	return t
}
