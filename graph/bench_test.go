package graph

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/directory"
	"github.com/foyer-dev/foyer/sim"
	"github.com/foyer-dev/foyer/sim/chaos"
	"github.com/foyer-dev/foyer/sim/simtest"
	"github.com/foyer-dev/foyer/sim/throttle"
)

// TestFind10000In50000Guests: looking up 10,000 addresses in a tenant of
// 50,000 guests reads all guests once instead of once per address, and
// costs at most 60 Graph reads as the sim counts them.
func TestFind10000In50000Guests(t *testing.T) {
	t.Parallel()
	s := simtest.Start(t, sim.Options{Empty: true})
	if n, err := s.AddGuests(sim.BulkGuests{Count: 50_000, Domain: "bulk.example"}); err != nil || n != 50_000 {
		t.Fatalf("seed 50,000 guests: %d, %v", n, err)
	}
	c := simClient(t, s, s.ClientID(), s.ClientSecret())
	var ask []foyer.Address
	for i := range 9_000 {
		ask = append(ask, foyer.Address(fmt.Sprintf("Guest%d@bulk.example", i*5)))
	}
	for i := range 1_000 {
		ask = append(ask, foyer.Address(fmt.Sprintf("nobody%d@bulk.example", i)))
	}
	before := s.Stats()
	found, err := c.Find(context.Background(), ask)
	if err != nil {
		t.Fatal(err)
	}
	after := s.Stats()
	reads := after.Reads - before.Reads
	t.Logf("10,000 look-ups in 50,000 guests: %d reads, %d found", reads, len(found))
	if reads > 60 {
		t.Errorf("%d reads, want at most 60 (routes %v)", reads, after.Routes)
	}
	if len(found) != 9_000 {
		t.Errorf("found %d, want 9,000", len(found))
	}
	for _, a := range ask[:9_000] {
		if p, ok := found[a.Key()]; !ok || !p.Guest() {
			t.Fatalf("%s: %+v, %v", a, p, ok)
		}
	}
}

// BenchmarkInviteAndGroup1000 invites 1,000 guests and adds each to a
// group against the sim with 100 ms median latency and Microsoft's
// published throttling limits, with the client's default pacing. It
// reports:
//
//   - guests/s: guests invited and added per second of wall time;
//   - ceiling: writes the sim admitted per second ÷ the app+tenant write
//     quota's rate (3,000 per 150 s = 20/s);
//   - 429/req: the share of requests the sim answered 429.
//
// docs/benchmarks-directory.md has the figures and what they mean.
func BenchmarkInviteAndGroup1000(b *testing.B) {
	const guests, workers = 1000, 100
	const quota = 3000.0 / 150
	var elapsed time.Duration
	var writes, requests, throttled int64
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		s := simtest.Start(b, sim.Options{Seed: int64(i), Latency: chaos.Latency{Median: 100 * time.Millisecond}, Throttle: throttle.Published()})
		o := simOptions(s, s.ClientID(), s.ClientSecret())
		o.Pacing = Pacing{} // the defaults, as in production
		c, err := New(context.Background(), o)
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		g, err := c.Resolve(ctx, foyer.Grant{Kind: foyer.GrantGroup, Ref: "DemoApp"})
		if err != nil {
			b.Fatal(err)
		}
		before := s.Stats()
		jobs := make(chan foyer.Address)
		var wg sync.WaitGroup
		var failed sync.Once
		b.StartTimer()
		start := time.Now()
		for range workers {
			wg.Go(func() {
				for a := range jobs {
					inv, err := c.Invite(ctx, directory.Invitation{Email: a, RedirectURL: "https://myapps.microsoft.com/"})
					if err == nil {
						_, err = c.Grant(ctx, directory.Grantee{UserID: inv.UserID, Email: a}, g)
					}
					if err != nil {
						failed.Do(func() { b.Errorf("%s: %v", a, err) })
					}
				}
			})
		}
		for n := range guests {
			jobs <- foyer.Address(fmt.Sprintf("bench%d@fabrikam.example", n))
		}
		close(jobs)
		wg.Wait()
		took := time.Since(start)
		b.StopTimer()
		after := s.Stats()
		elapsed += took
		writes += after.Writes - before.Writes
		throttled += after.Throttled - before.Throttled
		requests += (after.Reads - before.Reads) + (after.Writes - before.Writes) + (after.Throttled - before.Throttled)
		st := c.Stats()
		b.Logf("run %d: %d guests in %v, %d writes admitted, %d requests, %d answered 429; client: %+v",
			i, guests, took.Round(time.Millisecond), after.Writes-before.Writes, requests, after.Throttled-before.Throttled, st)
	}
	secs := elapsed.Seconds()
	b.ReportMetric(float64(guests*b.N)/secs, "guests/s")
	b.ReportMetric(float64(writes)/secs/quota, "ceiling")
	b.ReportMetric(float64(throttled)/float64(max(requests, 1)), "429/req")
}

// BenchmarkTwoClientsShareTheQuota runs two clients (two foyer replicas,
// each pacing itself to the whole quota) against one tenant whose write
// quota is the published rate on a shorter window (300 writes per 15 s,
// 20/s as published, so that the window fills within the run). Together
// they start at twice the quota; the figures show how the throttling
// signals bring them back under it: the share of 429s, and writes admitted
// per second against the quota's rate.
func BenchmarkTwoClientsShareTheQuota(b *testing.B) {
	const perClient, workers = 500, 100
	const quota = 300.0 / 15
	var elapsed time.Duration
	var writes, requests, throttled int64
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		cfg := throttle.Published()
		cfg.AppTenantWrites = throttle.Limit{N: 300, Per: 15 * time.Second}
		s := simtest.Start(b, sim.Options{Seed: int64(i), Latency: chaos.Latency{Median: 100 * time.Millisecond}, Throttle: cfg})
		ctx := context.Background()
		var clients []*Client
		for range 2 {
			o := simOptions(s, s.ClientID(), s.ClientSecret())
			o.Pacing = Pacing{}
			c, err := New(ctx, o)
			if err != nil {
				b.Fatal(err)
			}
			clients = append(clients, c)
		}
		g, err := clients[0].Resolve(ctx, foyer.Grant{Kind: foyer.GrantGroup, Ref: "DemoApp"})
		if err != nil {
			b.Fatal(err)
		}
		before := s.Stats()
		var wg sync.WaitGroup
		var failed sync.Once
		b.StartTimer()
		start := time.Now()
		for ci, c := range clients {
			jobs := make(chan foyer.Address)
			for range workers {
				wg.Go(func() {
					for a := range jobs {
						inv, err := c.Invite(ctx, directory.Invitation{Email: a, RedirectURL: "https://myapps.microsoft.com/"})
						if err == nil {
							_, err = c.Grant(ctx, directory.Grantee{UserID: inv.UserID, Email: a}, g)
						}
						if err != nil {
							failed.Do(func() { b.Errorf("%s: %v", a, err) })
						}
					}
				})
			}
			wg.Go(func() {
				for n := range perClient {
					jobs <- foyer.Address(fmt.Sprintf("c%d-%d@fabrikam.example", ci, n))
				}
				close(jobs)
			})
		}
		wg.Wait()
		took := time.Since(start)
		b.StopTimer()
		after := s.Stats()
		elapsed += took
		writes += after.Writes - before.Writes
		throttled += after.Throttled - before.Throttled
		requests += (after.Reads - before.Reads) + (after.Writes - before.Writes) + (after.Throttled - before.Throttled)
		b.Logf("run %d: %d guests in %v, %d writes admitted, %d answered 429; clients: %+v %+v",
			i, 2*perClient, took.Round(time.Millisecond), after.Writes-before.Writes, after.Throttled-before.Throttled,
			clients[0].Stats(), clients[1].Stats())
	}
	secs := elapsed.Seconds()
	b.ReportMetric(float64(2*perClient*b.N)/secs, "guests/s")
	b.ReportMetric(float64(writes)/secs/quota, "ceiling")
	b.ReportMetric(float64(throttled)/float64(max(requests, 1)), "429/req")
}
