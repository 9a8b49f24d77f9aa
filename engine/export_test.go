package engine

// LastFiring is lastFiring, for the tests of schedules.
var LastFiring = lastFiring
