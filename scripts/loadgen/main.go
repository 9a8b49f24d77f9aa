// Command loadgen drives an open-loop load at foyer serve and reports the
// latency of each endpoint: scripts/bench serve runs it (docs/benchmarks.md).
//
// Open loop: requests start on a fixed schedule (rate per second, spread
// evenly and taken in turn by the endpoints), whether or not earlier ones
// have been answered, and each latency is counted from the time the
// request was due, so a server that stalls is charged for the requests
// that queued behind the stall (no coordinated omission).
//
// The API key is read from the environment variable -key-env names, never
// from the command line, so that it does not show in the process list.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

// endpoint is one URL the load is split between.
type endpoint struct {
	name   string
	url    string
	bearer string

	mu   sync.Mutex
	lat  []time.Duration
	errs map[string]int // by status code or "transport"
}

func (e *endpoint) record(d time.Duration, failure string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if failure != "" {
		e.errs[failure]++
		return
	}
	e.lat = append(e.lat, d)
}

func run(args []string) int {
	fl := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	base := fl.String("url", "", "foyer serve's base URL, e.g. http://127.0.0.1:18080")
	profile := fl.String("profile", "requests", "the profile whose request page is loaded: GET /request/PROFILE")
	requestID := fl.String("request", "", "the request id loaded through the API: GET /api/v1/requests/ID")
	keyEnv := fl.String("key-env", "FOYER_BENCH_KEY", "the environment variable holding the API key")
	rate := fl.Float64("rate", 300, "requests per second, in all")
	duration := fl.Duration("duration", 30*time.Second, "how long to send")
	p99 := fl.Duration("p99", 50*time.Millisecond, "the target p99 latency of each endpoint")
	baseline := fl.Bool("baseline", false, "also load GET /healthz (no ledger, no template), taking its turn with "+
		"the others: what the machine and the HTTP stack alone cost, to tell them from foyer's work")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	key := os.Getenv(*keyEnv)
	if *base == "" || *requestID == "" || key == "" || *rate <= 0 || *duration <= 0 {
		fmt.Fprintf(os.Stderr, "loadgen: need -url, -request and the API key in $%s; -rate and -duration positive\n", *keyEnv)
		return 2
	}
	eps := []*endpoint{
		{name: "GET /request/{profile}", url: strings.TrimSuffix(*base, "/") + "/request/" + *profile, errs: map[string]int{}},
		{name: "GET /api/v1/requests/{id}", url: strings.TrimSuffix(*base, "/") + "/api/v1/requests/" + *requestID,
			bearer: key, errs: map[string]int{}},
	}
	if *baseline {
		eps = append(eps, &endpoint{name: "GET /healthz", url: strings.TrimSuffix(*base, "/") + "/healthz", errs: map[string]int{}})
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	client := &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024, IdleConnTimeout: time.Minute,
			DisableCompression: true},
	}
	// A few requests first, unmeasured, to open connections and warm caches.
	for _, e := range eps {
		for range 5 {
			if err := send(ctx, client, e); err != "" {
				fmt.Fprintf(os.Stderr, "loadgen: %s: %s before the load started\n", e.name, err)
				return 1
			}
		}
	}
	sent := drive(ctx, client, eps, *rate, *duration)
	return report(os.Stdout, eps, sent, *rate, *duration, *p99)
}

// drive starts requests on schedule until duration has passed, then waits
// for the answers.
func drive(ctx context.Context, client *http.Client, eps []*endpoint, rate float64, duration time.Duration) int {
	interval := time.Duration(float64(time.Second) / rate)
	start := time.Now()
	var wg sync.WaitGroup
	n := 0
	timer := time.NewTimer(0)
	defer timer.Stop()
	for ; ; n++ {
		due := start.Add(time.Duration(n) * interval)
		if due.Sub(start) >= duration {
			break
		}
		timer.Reset(time.Until(due))
		select {
		case <-ctx.Done():
			wg.Wait()
			return n
		case <-timer.C:
		}
		e := eps[n%len(eps)]
		wg.Go(func() {
			failure := send(ctx, client, e)
			e.record(time.Since(due), failure)
		})
	}
	wg.Wait()
	return n
}

// send makes one request and reads the whole answer; it returns what went
// wrong, empty for a 200.
func send(ctx context.Context, client *http.Client, e *endpoint) string {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.url, nil)
	if err != nil {
		return "request"
	}
	if e.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+e.bearer)
	}
	resp, err := client.Do(req)
	if err != nil {
		return "transport"
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	switch {
	case err != nil:
		return "body"
	case resp.StatusCode != http.StatusOK:
		return fmt.Sprintf("status %d", resp.StatusCode)
	}
	return ""
}

// report prints each endpoint's figures and says whether the target was
// met: 0 if so, 1 if not.
func report(w io.Writer, eps []*endpoint, sent int, rate float64, duration time.Duration, p99 time.Duration) int {
	fmt.Fprintf(w, "serve: %d requests sent at %.0f/s for %s (open loop)\n", sent, rate, duration)
	fmt.Fprintf(w, "%-28s %7s %6s %9s %9s %9s %9s\n", "endpoint", "count", "errors", "p50", "p90", "p99", "max")
	met := true
	for _, e := range eps {
		e.mu.Lock()
		lat := slices.Clone(e.lat)
		errs := 0
		var kinds []string
		for k, n := range e.errs {
			errs += n
			kinds = append(kinds, fmt.Sprintf("%s: %d", k, n))
		}
		e.mu.Unlock()
		slices.Sort(lat)
		slices.Sort(kinds)
		q := func(p float64) time.Duration {
			if len(lat) == 0 {
				return 0
			}
			return lat[min(len(lat)-1, int(p*float64(len(lat))))]
		}
		fmt.Fprintf(w, "%-28s %7d %6d %9s %9s %9s %9s\n", e.name, len(lat)+errs, errs,
			ms(q(.50)), ms(q(.90)), ms(q(.99)), ms(q(1)))
		if errs > 0 {
			fmt.Fprintf(w, "%-28s errors: %s\n", "", strings.Join(kinds, ", "))
		}
		if errs > 0 || len(lat) == 0 || q(.99) >= p99 {
			met = false
		}
	}
	if !met {
		fmt.Fprintf(w, "serve: target missed (p99 < %s and no error on every endpoint)\n", p99)
		return 1
	}
	fmt.Fprintf(w, "serve: target met (p99 < %s and no error on every endpoint)\n", p99)
	return 0
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d.Microseconds())/1000) }
