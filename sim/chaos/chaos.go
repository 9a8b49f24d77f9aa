package chaos

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Options configure a Chaos.
type Options struct {
	// Seed makes every draw reproducible: the same seed and the same
	// single-threaded sequence of calls give the same Actions.
	Seed    int64
	Latency Latency
	Faults  Faults
	// Now dates the error bodies (innerError.date); nil means time.Now.
	Now func() time.Time
	// Sleep waits d or until ctx is done, whichever is first, returning
	// ctx.Err() in the second case; nil means a real timer. Tests inject
	// one to observe delays without waiting.
	Sleep func(ctx context.Context, d time.Duration) error
	// WriteError renders a 5xx answer; nil means Graph's error format
	// (see WriteGraphError). The sim server passes its own renderer so that
	// request ids match its logs.
	WriteError func(w http.ResponseWriter, r *http.Request, status int, code, message string)
}

// Fault is what happens to a request.
type Fault int

const (
	None   Fault = iota // answered normally
	Answer              // answered with a 5xx error
	Drop                // the connection is closed without an answer
)

func (f Fault) String() string {
	switch f {
	case None:
		return "none"
	case Answer:
		return "answer"
	case Drop:
		return "drop"
	}
	return fmt.Sprintf("Fault(%d)", int(f))
}

// Action is what Chaos decided for one request.
type Action struct {
	// Delay is waited before the request is handled.
	Delay time.Duration
	Fault Fault
	// After says the fault strikes after the request was handled (its
	// answer discarded) rather than before (not handled at all).
	After bool
	// For Answer: the status, Graph error code and message, and for 503
	// the Retry-After to send.
	Status        int
	Code, Message string
	RetryAfter    time.Duration
}

// The 5xx answers, with Graph's status meanings from concepts/errors.md.
// The codes are those Graph uses for these statuses; Graph's messages vary
// by service, and clients must not branch on them (errors.md), so these
// are plain.
var answers = [3]struct {
	status        int
	code, message string
}{
	{http.StatusInternalServerError, "InternalServerError", "Encountered an internal server error."},
	{http.StatusServiceUnavailable, "ServiceUnavailable", "The service is temporarily unavailable. Please retry after a delay."},
	{http.StatusGatewayTimeout, "GatewayTimeout", "The server did not receive a timely response from an upstream server."},
}

// Stats counts the decisions of a Chaos. A fault is counted when it is
// decided.
type Stats struct {
	Requests  int64 `json:"requests"`   // decisions made
	Delayed   int64 `json:"delayed"`    // with a delay
	Faults    int64 `json:"faults"`     // with any fault
	Status500 int64 `json:"status_500"` // answered 500
	Status503 int64 `json:"status_503"` // answered 503
	Status504 int64 `json:"status_504"` // answered 504
	Drops     int64 `json:"drops"`      // connection dropped
	After     int64 `json:"after"`      // of the faults, struck after handling
}

// Chaos decides latency and faults for each request. It is safe for
// concurrent use.
type Chaos struct {
	now        func() time.Time
	sleep      func(context.Context, time.Duration) error
	writeError func(http.ResponseWriter, *http.Request, int, string, string)

	mu      sync.Mutex
	rng     *rand.Rand
	latency Latency
	faults  Faults

	requests, delayed, faulted, after, drops atomic.Int64
	status                                   [3]atomic.Int64
}

// New returns a Chaos with the given options.
func New(o Options) (*Chaos, error) {
	c := &Chaos{
		now:        o.Now,
		sleep:      o.Sleep,
		writeError: o.WriteError,
		rng:        rand.New(rand.NewPCG(uint64(o.Seed), 0x9e3779b97f4a7c15)),
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.sleep == nil {
		c.sleep = sleepTimer
	}
	if c.writeError == nil {
		c.writeError = c.WriteGraphError
	}
	if err := c.SetLatency(o.Latency); err != nil {
		return nil, err
	}
	if err := c.SetFaults(o.Faults); err != nil {
		return nil, err
	}
	return c, nil
}

func sleepTimer(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// SetLatency changes the latency at run time.
func (c *Chaos) SetLatency(l Latency) error {
	if err := l.Validate(); err != nil {
		return fmt.Errorf("set latency: %w", err)
	}
	c.mu.Lock()
	c.latency = l
	c.mu.Unlock()
	return nil
}

// SetFaults changes the faults at run time.
func (c *Chaos) SetFaults(f Faults) error {
	if err := f.Validate(); err != nil {
		return fmt.Errorf("set faults: %w", err)
	}
	c.mu.Lock()
	c.faults = f
	c.mu.Unlock()
	return nil
}

// Latency returns the latency in force.
func (c *Chaos) Latency() Latency {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.latency
}

// Faults returns the faults in force.
func (c *Chaos) Faults() Faults {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.faults
}

// Stats returns the counters so far.
func (c *Chaos) Stats() Stats {
	return Stats{
		Requests:  c.requests.Load(),
		Delayed:   c.delayed.Load(),
		Faults:    c.faulted.Load(),
		Status500: c.status[0].Load(),
		Status503: c.status[1].Load(),
		Status504: c.status[2].Load(),
		Drops:     c.drops.Load(),
		After:     c.after.Load(),
	}
}

// Decide draws the delay and the fault for one request.
func (c *Chaos) Decide() Action { return c.decide(false) }

// DecideBatchItem draws the fault for one request inside a $batch. It has
// no delay (the batch as a whole was delayed) and never drops: a dropped
// connection would lose the whole batch, so a drop drawn for an item
// becomes a 5xx answer from the mix, which the server writes as the item's
// status and body (with Retry-After in the item's headers for 503).
func (c *Chaos) DecideBatchItem() Action { return c.decide(true) }

func (c *Chaos) decide(item bool) Action {
	var a Action
	c.mu.Lock()
	if !item {
		a.Delay = c.latency.sample(c.rng)
	}
	f := c.faults
	if f.Rate > 0 && c.rng.Float64() < f.Rate {
		a.Fault = Answer
		if c.rng.Float64() < f.Drop && !item {
			a.Fault = Drop
		}
		a.After = c.rng.Float64() < f.After
		if a.Fault == Answer {
			i := pick(c.rng.Float64(), f.Mix)
			a.Status, a.Code, a.Message = answers[i].status, answers[i].code, answers[i].message
			if a.Status == http.StatusServiceUnavailable {
				a.RetryAfter = f.retryAfter()
			}
			c.status[i].Add(1)
		}
	}
	c.mu.Unlock()

	c.requests.Add(1)
	if a.Delay > 0 {
		c.delayed.Add(1)
	}
	if a.Fault != None {
		c.faulted.Add(1)
		if a.After {
			c.after.Add(1)
		}
		if a.Fault == Drop {
			c.drops.Add(1)
		}
	}
	return a
}

// pick chooses 0, 1 or 2 (500, 503, 504) by weight for a uniform u in [0,1).
func pick(u float64, m Mix) int {
	w := [3]float64{m.S500, m.S503, m.S504}
	total := w[0] + w[1] + w[2]
	if total == 0 {
		w, total = [3]float64{1, 1, 1}, 3
	}
	u *= total
	for i, x := range w {
		if u < x {
			return i
		}
		u -= x
	}
	for i := 2; i >= 0; i-- { // rounding at the top end: the last weighted answer
		if w[i] > 0 {
			return i
		}
	}
	return 0
}

// Wait waits the Action's delay, or until ctx is done (the client went
// away), returning ctx.Err() then.
func (c *Chaos) Wait(ctx context.Context, a Action) error {
	if a.Delay <= 0 {
		return nil
	}
	return c.sleep(ctx, a.Delay)
}
