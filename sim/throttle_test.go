package sim_test

import (
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/foyer-dev/foyer/sim"
	"github.com/foyer-dev/foyer/sim/throttle"
)

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// The acceptance test: with the published limits, hammering writes gets
// 429 with a Retry-After that, when honoured, gets the request through,
// and the writes admitted never exceed the quota in any window.
func TestThrottlingHammer(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	tn := start(t, sim.Options{Throttle: throttle.Published(), Now: clock.Now, Empty: true})
	quota := throttle.Published().AppTenantWrites // 3000 per 150 s
	var admitted []time.Time
	var retryAfter time.Duration
	for i := 0; ; i++ {
		a := tn.invite(fmt.Sprintf("h%d@partner.example", i))
		if a.status == http.StatusTooManyRequests {
			wantError(t, a, 429, "TooManyRequests", "")
			secs, err := strconv.ParseFloat(a.header.Get("Retry-After"), 64)
			if err != nil || secs <= 0 {
				t.Fatalf("Retry-After %q", a.header.Get("Retry-After"))
			}
			retryAfter = time.Duration(secs * float64(time.Second))
			if a.header.Get("x-ms-throttle-scope") == "" || a.header.Get("x-ms-throttle-information") != "WriteLimitExceeded" {
				t.Errorf("throttle headers: %v", a.header)
			}
			break
		}
		wantStatus(t, a, 201)
		if a.header.Get("x-ms-resource-unit") != "1" {
			t.Fatalf("x-ms-resource-unit %q", a.header.Get("x-ms-resource-unit"))
		}
		admitted = append(admitted, clock.Now())
		clock.advance(10 * time.Millisecond)
		if i > 2*quota.N {
			t.Fatal("never throttled")
		}
	}
	if len(admitted) != quota.N {
		t.Errorf("%d writes admitted before the first 429, want %d", len(admitted), quota.N)
	}
	// Retrying early is refused again; honouring Retry-After gets through.
	wantStatus(t, tn.invite("early@partner.example"), 429)
	clock.advance(retryAfter)
	a := tn.invite("late@partner.example")
	wantStatus(t, a, 201)
	admitted = append(admitted, clock.Now())
	for i := range admitted {
		n := 0
		for _, at := range admitted[i:] {
			if at.Sub(admitted[i]) < quota.Per {
				n++
			}
		}
		if n > quota.N {
			t.Fatalf("%d writes in the window from %v", n, admitted[i])
		}
	}
	st := tn.s.Stats()
	if st.Writes != int64(len(admitted)) || st.Throttled != 2 {
		t.Errorf("stats: writes %d (admitted %d), throttled %d", st.Writes, len(admitted), st.Throttled)
	}
}
