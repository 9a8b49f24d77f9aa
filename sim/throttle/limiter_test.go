package throttle

import (
	"math/rand/v2"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock is a clock the tests move by hand; it is safe for concurrent use.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

func mustLimiter(t testing.TB, c Config, now func() time.Time) *Limiter {
	t.Helper()
	l, err := New(c, now)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func mustParse(t testing.TB, s string) Config {
	t.Helper()
	c, err := ParseConfig(s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// allOff starts a custom config: the limits appended to it, and no other.
const allOff = "custom:"

var (
	write = Request{Route: "POST /invitations"}
	read  = Request{Route: "GET /users/{id}"}
)

// event is one admitted request as seen by a client.
type event struct {
	at       int64
	ru       int64
	write    bool
	app, ten string
	users    int
}

// checkWindows fails t if, in any window of length per, the events selected
// by key cost more than n in total. It checks every window ending at an
// event, which covers every window.
func checkWindows(t *testing.T, name string, events []event, n int, per time.Duration, cost func(event) int64) (peak int64) {
	t.Helper()
	if n == 0 {
		return 0
	}
	var at, sum []int64 // times and prefix sums of the selected events
	for _, e := range events {
		if c := cost(e); c > 0 {
			at = append(at, e.at)
			sum = append(sum, c)
		}
	}
	idx := make([]int, len(at))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return at[idx[a]] < at[idx[b]] })
	ts := make([]int64, len(at))
	pre := make([]int64, len(at)+1)
	for i, j := range idx {
		ts[i] = at[j]
		pre[i+1] = pre[i] + sum[j]
	}
	for i := range ts {
		hi := sort.Search(len(ts), func(k int) bool { return ts[k] > ts[i] })            // last event at ts[i], exclusive
		lo := sort.Search(len(ts), func(k int) bool { return ts[k] > ts[i]-int64(per) }) // first inside (ts[i]-per, ts[i]]
		if used := pre[hi] - pre[lo]; used > int64(n) {
			t.Errorf("%s: %d used in the window of %v ending %v, limit %d", name, used, per, time.Unix(0, ts[i]), n)
			return used
		} else if used > peak {
			peak = used
		}
	}
	return peak
}

// TestLimiterNeverExceedsUnderConcurrency hammers one Limiter from many
// goroutines with a fake clock that moves on every request, then checks from
// the admitted timestamps that no window of any limit held more than the
// limit, and that the limits were actually reached.
func TestLimiterNeverExceedsUnderConcurrency(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	cfg := mustParse(t, "custom:ru-s=60/1s,ru-m=100/1s,app-ru=150/2s,writes=20/1s,app-writes=30/2s,tenant-writes=25/1500ms")
	l := mustLimiter(t, cfg, clock.Now)

	apps := []string{"app-a", "app-b"}
	tenants := []struct {
		id    string
		users int
	}{{"tenant-small", 10}, {"tenant-medium", 200}}
	routes := []Request{
		read, write,
		{Route: "GET /users"},
		{Route: "GET /groups/{id}/members"},
		{Route: "GET /groups/{id}/transitiveMembers", Expand: true},
		{Route: "PATCH /users/{id}"},
	}

	const workers, perWorker = 8, 3000
	var (
		mu       sync.Mutex
		admitted []event
		refused  atomic.Int64
		wg       sync.WaitGroup
	)
	for w := range workers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			var mine []event
			for range perWorker {
				app := apps[rng.IntN(len(apps))]
				ten := tenants[rng.IntN(len(tenants))]
				req := routes[rng.IntN(len(routes))]
				d := l.Admit(Call{AppID: app, TenantID: ten.id, Users: ten.users, Request: req})
				if d.Allowed {
					mine = append(mine, event{d.At.UnixNano(), int64(d.RU), d.Write, app, ten.id, ten.users})
				} else {
					refused.Add(1)
					if d.RetryAfter <= 0 {
						t.Errorf("refused with Retry-After %v", d.RetryAfter)
					}
				}
				clock.Advance(time.Duration(rng.IntN(1500)) * time.Microsecond)
			}
			mu.Lock()
			admitted = append(admitted, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	if refused.Load() == 0 {
		t.Fatal("nothing was refused: the test does not reach the limits")
	}

	reached := 0
	check := func(name string, lim Limit, cost func(event) int64) {
		if peak := checkWindows(t, name, admitted, lim.N, lim.Per, cost); peak == int64(lim.N) {
			reached++
		}
	}
	for _, app := range apps {
		for _, ten := range tenants {
			pair := func(e event) bool { return e.app == app && e.ten == ten.id }
			check("RU "+app+"/"+ten.id, cfg.AppTenantRU(ten.users), func(e event) int64 { return cond(pair(e), e.ru) })
			check("writes "+app+"/"+ten.id, cfg.AppTenantWrites, func(e event) int64 { return cond(pair(e) && e.write, 1) })
		}
		check("RU "+app, cfg.AppRU, func(e event) int64 { return cond(e.app == app, e.ru) })
		check("writes "+app, cfg.AppWrites, func(e event) int64 { return cond(e.app == app && e.write, 1) })
	}
	for _, ten := range tenants {
		check("writes "+ten.id, cfg.TenantWrites, func(e event) int64 { return cond(e.ten == ten.id && e.write, 1) })
	}
	if reached == 0 {
		t.Error("no limit was ever filled exactly: the limiter refuses more than it must")
	}
	t.Logf("%d admitted, %d refused, %d limits filled to the brim", len(admitted), refused.Load(), reached)
}

func cond(ok bool, v int64) int64 {
	if ok {
		return v
	}
	return 0
}

// TestLimiterMatchesReferenceModel replays random single-threaded traffic
// against the Limiter and against a brute-force model of the same rules,
// and requires the same decision and the same Retry-After every time: the
// Limiter refuses exactly when it must, and Retry-After is the exact wait.
func TestLimiterMatchesReferenceModel(t *testing.T) {
	t.Parallel()
	cfg := mustParse(t, "custom:ru=40/1s,app-ru=70/3s,writes=8/700ms,app-writes=12/2s,tenant-writes=10/1500ms")
	for seed := range uint64(4) {
		clock := newFakeClock()
		l := mustLimiter(t, cfg, clock.Now)
		rng := rand.New(rand.NewPCG(seed, 99))
		var admitted []event
		routes := []Request{read, write, {Route: "GET /users"}, {Route: "GET /groups/{id}/transitiveMembers"}}
		for i := range 4000 {
			app := []string{"a", "b"}[rng.IntN(2)]
			ten := []string{"x", "y"}[rng.IntN(2)]
			req := routes[rng.IntN(len(routes))]
			d := l.Admit(Call{AppID: app, TenantID: ten, Request: req})
			wantWait := referenceWait(cfg, admitted, d.At.UnixNano(), app, ten, int64(d.RU), d.Write)
			if d.Allowed != (wantWait == 0) || d.RetryAfter != wantWait {
				t.Fatalf("seed %d request %d (%s %s %s): allowed %v retry %v; model says wait %v",
					seed, i, app, ten, req.Route, d.Allowed, d.RetryAfter, wantWait)
			}
			if d.Allowed {
				admitted = append(admitted, event{d.At.UnixNano(), int64(d.RU), d.Write, app, ten, 0})
			}
			// Odd seeds keep the clock on whole milliseconds, so that
			// events land exactly on window edges too.
			if seed%2 == 1 {
				clock.Advance(time.Duration(rng.IntN(6)) * time.Millisecond)
			} else {
				clock.Advance(time.Duration(rng.IntN(6000)) * time.Microsecond)
			}
		}
	}
}

// referenceWait computes, by brute force over the admitted events, how long
// from now until a request of the given cost fits every limit: 0 if it fits
// now. Times are rounded up to the millisecond as the Limiter records them,
// and the wait is rounded up to the millisecond as Retry-After is.
func referenceWait(cfg Config, admitted []event, now int64, app, ten string, ru int64, write bool) time.Duration {
	ms := int64(time.Millisecond)
	ceil := func(v int64) int64 { return (v + ms - 1) / ms * ms }
	type lim struct {
		l    Limit
		cost int64
		sel  func(event) int64
	}
	lims := []lim{
		{cfg.AppTenantRU(0), ru, func(e event) int64 { return cond(e.app == app && e.ten == ten, e.ru) }},
		{cfg.AppRU, ru, func(e event) int64 { return cond(e.app == app, e.ru) }},
	}
	if write {
		lims = append(lims,
			lim{cfg.AppTenantWrites, 1, func(e event) int64 { return cond(e.app == app && e.ten == ten && e.write, 1) }},
			lim{cfg.AppWrites, 1, func(e event) int64 { return cond(e.app == app && e.write, 1) }},
			lim{cfg.TenantWrites, 1, func(e event) int64 { return cond(e.ten == ten && e.write, 1) }})
	}
	// Only events inside the longest window can matter; keep, per limit,
	// the recorded times and costs of the events it counts.
	var longest int64
	for _, x := range lims {
		longest = max(longest, int64(x.l.Per))
	}
	first := sort.Search(len(admitted), func(i int) bool { return ceil(admitted[i].at) > now-longest })
	type mark struct{ at, cost int64 }
	marks := make([][]mark, len(lims))
	for _, e := range admitted[first:] {
		for i, x := range lims {
			if c := x.sel(e); c > 0 {
				marks[i] = append(marks[i], mark{ceil(e.at), c})
			}
		}
	}
	fits := func(at int64) bool {
		for i, x := range lims {
			// Every admitted event is in the past, even if its recorded
			// time, rounded up, is up to 1ms ahead of now.
			var used int64
			for _, m := range marks[i] {
				if m.at > at-int64(x.l.Per) {
					used += m.cost
				}
			}
			if used+x.cost > int64(x.l.N) {
				return false
			}
		}
		return true
	}
	if fits(now) {
		return 0
	}
	// The answer is one of the moments an admitted event leaves a window.
	var candidates []int64
	for i, x := range lims {
		for _, m := range marks[i] {
			if c := m.at + int64(x.l.Per); c > now {
				candidates = append(candidates, c)
			}
		}
	}
	slices.Sort(candidates)
	// With nothing admitted meanwhile, usage only falls as time passes, so
	// fits is monotone over the candidates.
	i := sort.Search(len(candidates), func(i int) bool { return fits(candidates[i]) })
	if i == len(candidates) {
		panic("request never fits")
	}
	return time.Duration(ceil(candidates[i] - now))
}

// TestRetryAfterHonouredGetsThrough plays a client that, when refused, waits
// exactly the Retry-After header it was sent and tries again: it must get
// through on that try, and not a millisecond earlier.
func TestRetryAfterHonouredGetsThrough(t *testing.T) {
	t.Parallel()
	for _, spec := range []string{
		"published",
		allOff + "writes=5/2m30s",
		allOff + "tenant-writes=7/5m",
		allOff + "ru=10/10s",
		"custom:ru=50/10s,app-ru=80/20s,writes=10/30s,app-writes=15/1m,tenant-writes=12/45s",
	} {
		t.Run(spec, func(t *testing.T) {
			t.Parallel()
			clock := newFakeClock()
			l := mustLimiter(t, mustParse(t, spec), clock.Now)
			rng := rand.New(rand.NewPCG(1, 2))
			reqs := []Request{write, read, {Route: "GET /groups/{id}/transitiveMembers"}, {Route: "GET /users"}}
			throttled := 0
			for i := range 8000 {
				req := reqs[rng.IntN(len(reqs))]
				call := Call{AppID: "app", TenantID: "tenant", Users: 10, Request: req}
				d := l.Admit(call)
				if d.Allowed {
					clock.Advance(time.Duration(rng.IntN(5)) * time.Millisecond)
					continue
				}
				throttled++
				h := http.Header{}
				d.SetHeaders(h)
				wait, err := ParseRetryAfter(h.Get("Retry-After"))
				if err != nil {
					t.Fatalf("request %d: %v", i, err)
				}
				if wait > time.Millisecond {
					clock.Advance(wait - time.Millisecond)
					if early := l.Admit(call); early.Allowed {
						t.Fatalf("request %d: admitted 1ms before its Retry-After %v: Retry-After is not exact", i, wait)
					}
					clock.Advance(time.Millisecond)
				} else {
					clock.Advance(wait)
				}
				if again := l.Admit(call); !again.Allowed {
					t.Fatalf("request %d: refused again after waiting Retry-After %s (%v); now asks %v", i, h.Get("Retry-After"), d.Scope, again.RetryAfter)
				}
			}
			if throttled == 0 {
				t.Fatal("never throttled: the test does not reach the limits")
			}
		})
	}
}

func TestLimitPercentageHeader(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	l := mustLimiter(t, mustParse(t, allOff+",writes=10/1m"), clock.Now)
	call := Call{AppID: "app", TenantID: "tenant", Request: write}
	want := []string{"", "", "", "", "", "", "", "0.8", "0.9", "1.0", "1.1", "1.2"}
	for i, w := range want {
		d := l.Admit(call)
		h := http.Header{}
		d.SetHeaders(h)
		if got := h.Get("x-ms-throttle-limit-percentage"); got != w {
			t.Errorf("write %d: x-ms-throttle-limit-percentage = %q, want %q", i+1, got, w)
		}
		if d.Allowed != (i < 10) {
			t.Errorf("write %d: allowed = %v", i+1, d.Allowed)
		}
		if got := h.Get("x-ms-resource-unit"); got != "1" {
			t.Errorf("write %d: x-ms-resource-unit = %q, want 1", i+1, got)
		}
	}
	// A read does not count against the write limit, and the RU limits are off.
	d := l.Admit(Call{AppID: "app", TenantID: "tenant", Request: Request{Route: "GET /users"}})
	h := http.Header{}
	d.SetHeaders(h)
	if !d.Allowed || h.Get("x-ms-throttle-limit-percentage") != "" || h.Get("x-ms-resource-unit") != "2" {
		t.Errorf("read after writes: allowed %v, headers %v", d.Allowed, h)
	}
	// The refused load is capped at 1.8.
	for range 20 {
		d = l.Admit(call)
	}
	if d.Percentage != 1.8 {
		t.Errorf("percentage under heavy refusal = %v, want 1.8", d.Percentage)
	}
	// A window later everything has left.
	clock.Advance(time.Minute + time.Millisecond)
	if d = l.Admit(call); !d.Allowed || d.Percentage != 0 {
		t.Errorf("a minute later: allowed %v, percentage %v", d.Allowed, d.Percentage)
	}
}

func TestScopeAndInformationPerLimit(t *testing.T) {
	t.Parallel()
	const app, other, tenant = "11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222", "33333333-3333-3333-3333-333333333333"
	tests := []struct {
		spec  string
		req   Request
		other bool // the last request comes from another app of the same tenant
		scope string
		info  string
	}{
		{allOff + "ru=10/10s", read, false, "Tenant_Application/ReadWrite/" + app + "/" + tenant, "ResourceUnitLimitExceeded"},
		{allOff + "app-ru=10/20s", read, false, "Application/ReadWrite/" + app + "/" + tenant, "ResourceUnitLimitExceeded"},
		{allOff + "writes=10/150s", write, false, "Tenant_Application/Write/" + app + "/" + tenant, "WriteLimitExceeded"},
		{allOff + "app-writes=10/5m", write, false, "Application/Write/" + app + "/" + tenant, "WriteLimitExceeded"},
		{allOff + "tenant-writes=10/5m", write, true, "Tenant/Write/" + other + "/" + tenant, "WriteLimitExceeded"},
		// Both the 10 s RU window and the 150 s write window are full:
		// the longer wait names the limit.
		{allOff + "ru=10/10s,writes=10/150s", write, false, "Tenant_Application/Write/" + app + "/" + tenant, "WriteLimitExceeded"},
	}
	for _, tt := range tests {
		t.Run(tt.scope, func(t *testing.T) {
			t.Parallel()
			clock := newFakeClock()
			l := mustLimiter(t, mustParse(t, tt.spec), clock.Now)
			for i := range 10 {
				if d := l.Admit(Call{AppID: app, TenantID: tenant, Request: tt.req}); !d.Allowed {
					t.Fatalf("request %d refused: %+v", i+1, d)
				}
			}
			caller := app
			if tt.other {
				caller = other
			}
			d := l.Admit(Call{AppID: caller, TenantID: tenant, Request: tt.req})
			if d.Allowed {
				t.Fatal("11th request admitted")
			}
			h := http.Header{}
			d.SetHeaders(h)
			if got := h.Get("x-ms-throttle-scope"); got != tt.scope {
				t.Errorf("x-ms-throttle-scope = %q, want %q", got, tt.scope)
			}
			if got := h.Get("x-ms-throttle-information"); got != tt.info {
				t.Errorf("x-ms-throttle-information = %q, want %q", got, tt.info)
			}
			if h.Get("Retry-After") == "" || h.Get("x-ms-throttle-limit-percentage") != "1.1" {
				t.Errorf("429 headers incomplete: %v", h)
			}
			// Another tenant is refused too under an application-wide
			// limit, and admitted under the others.
			appWide := strings.HasPrefix(tt.scope, "Application/")
			if d := l.Admit(Call{AppID: app, TenantID: "another-tenant", Request: tt.req}); d.Allowed == appWide {
				t.Errorf("another tenant: allowed = %v under a %s limit", d.Allowed, tt.scope)
			}
		})
	}
}

func TestTenantSizePicksRUQuota(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	l := mustLimiter(t, mustParse(t, allOff+",ru-s=10/10s,ru-m=20/10s,ru-l=30/10s"), clock.Now)
	for _, tt := range []struct {
		tenant string
		users  int
		want   int
	}{{"s", 49, 10}, {"m", 50, 20}, {"m2", 500, 20}, {"l", 501, 30}} {
		n := 0
		for l.Admit(Call{AppID: "a", TenantID: tt.tenant, Users: tt.users, Request: read}).Allowed {
			n++
		}
		if n != tt.want {
			t.Errorf("tenant of %d users: %d RU admitted, want %d", tt.users, n, tt.want)
		}
	}
}

func TestSetConfigAtRunTime(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	l := mustLimiter(t, Published(), clock.Now)
	call := Call{AppID: "a", TenantID: "t", Request: write}
	for range 5 {
		if !l.Admit(call).Allowed {
			t.Fatal("published limits refused 5 writes")
		}
	}
	// Lower the limit: the five writes already made count against it.
	if err := l.SetConfig(mustParse(t, "custom:ru=3500/10s,writes=6/1m")); err != nil {
		t.Fatal(err)
	}
	if !l.Admit(call).Allowed || l.Admit(call).Allowed {
		t.Fatal("after lowering to 6/1m: want the 6th write admitted and the 7th refused")
	}
	if err := l.SetConfig(Config{AppRU: Limit{1, time.Second}}); err == nil {
		t.Fatal("SetConfig accepted an RU limit below MaxCost")
	}
	if got := l.Config().AppTenantWrites; got != (Limit{6, time.Minute}) {
		t.Fatalf("a refused SetConfig changed the config: %+v", got)
	}
	if err := l.SetConfig(Off()); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	for range 100 {
		if d := l.Admit(call); !d.Allowed || d.RU != 1 || !d.Write {
			t.Fatalf("throttling off: %+v", d)
		}
	}
	if err := l.SetConfig(mustParse(t, "custom:writes=1/1m")); err != nil {
		t.Fatal(err)
	}
	// Writes admitted while unlimited were not recorded.
	if !l.Admit(call).Allowed || l.Admit(call).Allowed {
		t.Fatal("after switching back on: want one write admitted, then refused")
	}
	l.Reset()
	if !l.Admit(call).Allowed {
		t.Fatal("Reset did not forget usage")
	}
}

func TestClockGoingBackIsClamped(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	l := mustLimiter(t, mustParse(t, allOff+",writes=2/1s"), clock.Now)
	call := Call{AppID: "a", TenantID: "t", Request: write}
	first := l.Admit(call)
	clock.Advance(-time.Hour)
	second := l.Admit(call)
	if second.At.Before(first.At) {
		t.Fatalf("decision time went back: %v then %v", first.At, second.At)
	}
	if d := l.Admit(call); d.Allowed || d.RetryAfter != time.Second {
		t.Fatalf("third write: %+v, want refused with Retry-After 1s", d)
	}
}
