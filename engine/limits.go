package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/directory"
)

// Limits is what a tenant can still take: room for directory objects under
// its quota, and free seats of each license.
type Limits struct {
	Quota directory.Quota // Total 0: not known, nothing held back for it
	// Seats is the free seats of each license grant, by grant key; a
	// license not here is not counted.
	Seats map[string]int
}

// Prepared is what a plan reads from the directory before its first row.
type Prepared struct {
	Verified []string // the tenant's verified domains, lowercased
	Held     Holdings // who holds each of the profile's grants
	Limits   Limits
}

// Prepare makes every read a plan makes before its first row: the tenant's
// verified domains, who holds each of the profile's grants, the directory
// object quota, and the free seats of each license; and it looks one
// address up (in the reserved .invalid domain: nobody has it), as the rows
// will be, so that a look-up the tenant refuses fails here. `profiles
// check` calls it too, so that what would stop a plan stops the check
// first. It returns every failed read at once, as *ReadProblems; where
// (may be nil) gives the place in the configuration of grant i.
func (p *Planner) Prepare(ctx context.Context, where func(i int) string) (*Prepared, error) {
	pre := &Prepared{Limits: Limits{Seats: map[string]int{}}}
	var problems []string
	var err error
	if pre.Verified, err = p.Dir.Domains(ctx); err != nil {
		problems = append(problems, fmt.Sprintf("verified domains: %v", err))
	}
	if _, err := p.Dir.Find(ctx, []foyer.Address{probeAddress}); err != nil {
		problems = append(problems, fmt.Sprintf("look-ups: %v", err))
	}
	var failed []grantError
	pre.Held, failed = p.holdings(ctx)
	for _, f := range failed {
		problems = append(problems, grantProblem(where, f.i, p.Profile.Grants[f.i], f.err))
	}
	for i, g := range p.Profile.Grants {
		if _, done := pre.Limits.Seats[g.Key()]; done || g.Kind != foyer.GrantLicense {
			continue
		}
		free, err := p.Dir.FreeSeats(ctx, g)
		if err != nil {
			problems = append(problems, grantProblem(where, i, g, fmt.Errorf("count free seats: %w", err)))
			continue
		}
		pre.Limits.Seats[g.Key()] = free
	}
	if pre.Limits.Quota, err = p.Dir.Quota(ctx); err != nil {
		problems = append(problems, fmt.Sprintf("object quota: %v", err))
	}
	if len(problems) > 0 {
		return nil, &ReadProblems{Problems: problems}
	}
	return pre, nil
}

// probeAddress is what Prepare looks up: an address nobody can have
// (RFC 2606 reserves .invalid).
const probeAddress foyer.Address = "foyer-check@foyer.invalid"

// ReadProblems lists the reads a plan needs that failed.
type ReadProblems struct{ Problems []string }

// ErrorCode is invalid: the profile, as configured, cannot be planned.
func (e *ReadProblems) ErrorCode() string { return foyer.EINVALID }

func (e *ReadProblems) Error() string {
	if len(e.Problems) == 1 {
		return e.Problems[0]
	}
	return fmt.Sprintf("%d reads the plan needs failed:\n  %s", len(e.Problems), strings.Join(e.Problems, "\n  "))
}

// budget counts, in input order, what the planned rows take of the
// tenant's limits, and holds back the rows that would pass them. A row
// held back takes nothing, so the rows after it may still fit.
type budget struct {
	limits   Limits
	licenses []foyer.Grant  // the profile's licenses that are counted, one per key
	objects  int            // objects the admitted rows create
	wanted   map[string]int // rows that needed each license, by key
	taken    map[string]int // seats the admitted rows take, by key
	held     map[string]int // rows held back, by license key ("" for the quota)
}

func newBudget(grants []foyer.Grant, l Limits) *budget {
	b := &budget{limits: l, wanted: map[string]int{}, taken: map[string]int{}, held: map[string]int{}}
	for _, g := range grants {
		if g.Kind == foyer.GrantLicense && !slices.ContainsFunc(b.licenses, func(x foyer.Grant) bool { return x.Key() == g.Key() }) {
			if _, counted := l.Seats[g.Key()]; counted {
				b.licenses = append(b.licenses, g)
			}
		}
	}
	return b
}

// admit returns the decided row, or the row held back with the reason.
func (b *budget) admit(r foyer.Row) foyer.Row {
	if r.Action != foyer.ActionInvite && r.Action != foyer.ActionExists {
		return r
	}
	needs := func(g foyer.Grant) bool {
		return r.Action == foyer.ActionInvite || slices.Contains(r.Grants, g.Key())
	}
	objects := 0
	if r.Action == foyer.ActionInvite {
		objects++ // the guest
	}
	if q := b.limits.Quota; q.Total > 0 && objects > 0 && q.Used+b.objects+objects > q.Total {
		b.held[""]++
		return holdBack(r, fmt.Sprintf("past the tenant's directory object quota (%d of %d objects used; this row would make %d)",
			q.Used, q.Total, q.Used+b.objects+objects))
	}
	var short *foyer.Grant
	for _, g := range b.licenses {
		if !needs(g) {
			continue
		}
		b.wanted[g.Key()]++
		if short == nil && b.taken[g.Key()] >= b.limits.Seats[g.Key()] {
			short = &g
		}
	}
	if short != nil {
		k := short.Key()
		b.held[k]++
		return holdBack(r, fmt.Sprintf("no free seat of %s (%d free, this row would be number %d)", short, max(b.limits.Seats[k], 0), b.wanted[k]))
	}
	b.objects += objects
	for _, g := range b.licenses {
		if needs(g) {
			b.taken[g.Key()]++
		}
	}
	return r
}

// holdBack turns a planned row into a skip: nothing is done for it.
func holdBack(r foyer.Row, reason string) foyer.Row {
	r.Action, r.Reason, r.Grants = foyer.ActionSkip, reason, nil
	return r
}

// notices says how many rows were held back, and why.
func (b *budget) notices() []string {
	var out []string
	if n := b.held[""]; n > 0 {
		q := b.limits.Quota
		out = append(out, fmt.Sprintf("%d rows held back: the tenant holds %d of its quota of %d directory objects, and these rows would pass it "+
			"(Microsoft support can raise the quota; deleting objects frees room).", n, q.Used, q.Total))
	}
	for _, g := range b.licenses {
		if n := b.held[g.Key()]; n > 0 {
			out = append(out, fmt.Sprintf("%d rows held back: %s has %d free seats, taken by the rows before them.",
				n, g, max(b.limits.Seats[g.Key()], 0)))
		}
	}
	return out
}
