package chaos

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// BenchmarkDecide measures one decision with latency and faults on, from
// many goroutines at once.
func BenchmarkDecide(b *testing.B) {
	c, err := New(Options{Seed: 1, Latency: Latency{Median: 100 * time.Millisecond}, Faults: DefaultFaults(0.05)})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c.Decide()
		}
	})
}

// BenchmarkWrapNoChaos measures what Wrap adds to a request when the
// decision is to do nothing.
func BenchmarkWrapNoChaos(b *testing.B) {
	c, err := New(Options{})
	if err != nil {
		b.Fatal(err)
	}
	h := c.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), PathPrefix("/_sim/"))
	req := httptest.NewRequest(http.MethodGet, "/v1.0/users", nil)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		w := httptest.NewRecorder()
		for pb.Next() {
			h.ServeHTTP(w, req)
		}
	})
}
