package sim

import (
	"sync/atomic"
	"time"
)

// simClock is the tenant's clock: a source (time.Now unless Options.Now says
// otherwise) plus an offset that the side door and Server.Advance move
// forward. Every timestamp the sim hands out and every model that waits
// (replication, throttling windows, the invitation cap) reads it.
type simClock struct {
	source func() time.Time
	offset atomic.Int64 // nanoseconds
}

func newClock(source func() time.Time) *simClock {
	if source == nil {
		source = time.Now
	}
	return &simClock{source: source}
}

// Now returns the sim's current time in UTC.
func (c *simClock) Now() time.Time {
	return c.source().Add(time.Duration(c.offset.Load())).UTC()
}

// Advance moves the clock forward by d (negative d is ignored: time in the
// tenant never goes back).
func (c *simClock) Advance(d time.Duration) {
	if d > 0 {
		c.offset.Add(int64(d))
	}
}

// graphTime formats t the way Graph writes DateTimeOffset values.
func graphTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05Z")
}
