package throttle_test

import (
	"fmt"
	"net/http"
	"time"

	"github.com/foyer-dev/foyer/sim/throttle"
)

// The sim server asks the Limiter about each Graph request and answers 429
// with the headers of the Decision when it is refused.
func Example() {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cfg, err := throttle.ParseConfig("custom:writes=2/2m30s")
	if err != nil {
		panic(err)
	}
	l, err := throttle.New(cfg, func() time.Time { return now })
	if err != nil {
		panic(err)
	}
	call := throttle.Call{AppID: "app", TenantID: "tenant", Users: 12, Request: throttle.Request{Route: "POST /invitations"}}
	for range 3 {
		d := l.Admit(call)
		h := http.Header{}
		d.SetHeaders(h)
		if d.Allowed {
			fmt.Println("allowed, x-ms-resource-unit", h.Get("x-ms-resource-unit"))
		} else {
			fmt.Println("429, Retry-After", h.Get("Retry-After"), h.Get("x-ms-throttle-scope"), h.Get("x-ms-throttle-information"))
		}
		now = now.Add(1500 * time.Millisecond)
	}
	// Output:
	// allowed, x-ms-resource-unit 1
	// allowed, x-ms-resource-unit 1
	// 429, Retry-After 147 Tenant_Application/Write/app/tenant WriteLimitExceeded
}
