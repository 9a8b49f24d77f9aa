package chaos_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/foyer-dev/foyer/sim/chaos"
)

// The sim server wraps its Graph handler, exempting its side door; here
// every request gets a 503 before it is handled.
func Example() {
	faults, err := chaos.ParseFaults("rate=1,drop=0,after=0,503=1")
	if err != nil {
		panic(err)
	}
	c, err := chaos.New(chaos.Options{
		Seed:   1,
		Faults: faults,
		Now:    func() time.Time { return time.Date(2026, 2, 13, 10, 17, 6, 0, time.UTC) },
	})
	if err != nil {
		panic(err)
	}
	graph := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{"value":[]}`) })
	h := c.Wrap(graph, chaos.PathPrefix("/_sim/"))

	for _, path := range []string{"/v1.0/users", "/_sim/stats"} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("client-request-id", "11111111-1111-4111-8111-111111111111")
		h.ServeHTTP(rec, req)
		fmt.Printf("%s %d Retry-After=%q\n", path, rec.Code, rec.Header().Get("Retry-After"))
	}
	fmt.Printf("%+v\n", c.Stats())
	// Output:
	// /v1.0/users 503 Retry-After="1"
	// /_sim/stats 200 Retry-After=""
	// {Requests:1 Delayed:0 Faults:1 Status500:0 Status503:1 Status504:0 Drops:0 After:0}
}
