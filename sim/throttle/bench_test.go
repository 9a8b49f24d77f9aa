package throttle

import (
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkAdmit measures one admission decision under the published limits
// from many goroutines at once, on the wall clock: a mix of reads and writes
// from a few apps against a few tenants, most of them refused once the
// windows fill, as in a storm of 429s.
func BenchmarkAdmit(b *testing.B) {
	for _, spec := range []string{"published", "off", "custom:ru=100000000/1s,app-ru=100000000/1s,writes=100000000/1s,app-writes=100000000/1s,tenant-writes=100000000/1s"} {
		name := spec
		if len(name) > 16 {
			name = "admit-all"
		}
		b.Run(name, func(b *testing.B) {
			l := mustLimiter(b, mustParse(b, spec), time.Now)
			reqs := []Request{read, write, {Route: "GET /users", Select: true, Top: 999}, {Route: "GET /groups/{id}/members"}}
			var seq atomic.Int64
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				g := seq.Add(1)
				app := "app-" + strconv.FormatInt(g%2, 10)
				ten := "tenant-" + strconv.FormatInt(g%3, 10)
				i := 0
				for pb.Next() {
					l.Admit(Call{AppID: app, TenantID: ten, Users: 10, Request: reqs[i%len(reqs)]})
					i++
				}
			})
		})
	}
}

func BenchmarkCost(b *testing.B) {
	reqs := []Request{{Route: "GET /v1.0/users"}, {Route: "GET /groups/{id}/members", Select: true}, {Route: "POST /invitations"}}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		Cost(reqs[i%len(reqs)])
	}
}
