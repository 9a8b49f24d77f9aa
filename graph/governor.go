package graph

import "time"

// InvitePacing says how invitations are paced below their ceiling
// (Pacing.InvitesPerMinute, else the write rate).
type InvitePacing string

// Invitation pacings, as written in the configuration.
const (
	// InvitesDefault is InvitesGoverned on Microsoft's clouds (public,
	// usgov, china) and InvitesCeiling on a custom cloud (the emulated
	// tenant).
	InvitesDefault InvitePacing = ""
	// InvitesGoverned starts slow and speeds up while the tenant does not
	// block invitations (docs/graph.md, "Invitation governor").
	InvitesGoverned InvitePacing = "governed"
	// InvitesCeiling invites at the ceiling from the first invitation.
	InvitesCeiling InvitePacing = "ceiling"
)

// governed reports whether invitations start slow on cloud c.
func (p Pacing) governed(c Cloud) bool {
	switch p.Invitations {
	case InvitesGoverned:
		return true
	case InvitesCeiling:
		return false
	}
	return c != CloudCustom
}

// The governor's schedule. Entra publishes no invitation rate that is safe
// from its abuse detection; these figures are a judgement, explained with
// the evidence in docs/graph.md ("Invitation governor").
const (
	govStart = 1.0             // invitations a minute at first
	govStep  = 5 * time.Minute // at least this long at one rate before doubling it
	govOK    = 10              // and at least this many invitations accepted at it
)

// governor is the invitation rate of a new client: govStart a minute,
// doubled each time govOK invitations were accepted over at least govStep
// without a block answer, up to the ceiling. A 429 on an invitation halves
// it (not below govStart); a block answer stops invitations for the
// client's life. Off, it allows the ceiling. The pacer holds it under its
// mutex.
type governor struct {
	on      bool
	ceiling float64   // invitations a minute at most; 0: none
	rate    float64   // invitations a minute now, when on
	since   time.Time // when rate was set
	ok      int       // invitations accepted at rate
	blocked bool      // Entra answered "blocked for suspicious activity"
}

func newGovernor(on bool, ceiling float64, now time.Time) governor {
	g := governor{on: on, ceiling: ceiling, rate: govStart, since: now}
	if ceiling > 0 {
		g.rate = min(g.rate, ceiling)
	}
	return g
}

// perMinute is the invitation rate allowed now; 0 means no limit of the
// governor's own (off, without a ceiling).
func (g *governor) perMinute() float64 {
	if !g.on {
		return g.ceiling
	}
	return g.rate
}

// accepted counts an invitation the service carried out, and doubles the
// rate once the current one has held long enough. It reports whether the
// rate changed.
func (g *governor) accepted(now time.Time) bool {
	if !g.on {
		return false
	}
	g.ok++
	if g.ok < govOK || now.Sub(g.since) < govStep || g.rate >= g.ceiling {
		return false
	}
	g.rate = min(g.rate*2, g.ceiling)
	g.since, g.ok = now, 0
	return true
}

// throttled halves the rate after a 429 on an invitation.
func (g *governor) throttled(now time.Time) bool {
	if !g.on || g.rate <= govStart {
		return false
	}
	g.rate = max(g.rate/2, govStart)
	g.since, g.ok = now, 0
	return true
}
