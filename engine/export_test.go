package engine

import "time"

// LastFiring is lastFiring, for the tests of schedules.
var LastFiring = lastFiring

// SetRiverClock makes River run by clock (Config.Test.Time), for the
// tests of schedules with an injected clock.
func (e *Engine) SetRiverClock(clock interface {
	Now() time.Time
	NowOrNil() *time.Time
}) {
	e.riverTime = clock
}

// SetDeltaApplied sets the hook run in a delta round's transaction before
// its token is kept (an error rolls the round back).
func (e *Engine) SetDeltaApplied(f func() error) { e.deltaApplied = f }
