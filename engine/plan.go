package engine

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/directory"
)

// Rows is a stream of input rows, as the source package yields them: each
// with its line and, for rows that are not candidates, an action (invalid,
// duplicate, skip) and a reason. Rows calls yield for each row in order and
// stops at the first error yield returns.
type Rows func(yield func(foyer.Row) error) error

// Holdings is who already holds each of a profile's grants: by grant key, the
// set of lowercased user ids (for a mail contact, lowercased addresses).
type Holdings map[string]map[string]bool

// holds reports whether the person holds g.
func (h Holdings) holds(g foyer.Grant, userID string, email foyer.Address) bool {
	set := h[g.Key()]
	if g.Kind == foyer.GrantMailContact {
		return set[email.Key()]
	}
	return set[strings.ToLower(userID)]
}

// Decide gives a candidate row (no action yet) its action, given the person
// the directory has at that address (nil if none) and who holds the
// profile's grants. Rows that already have an action are returned unchanged.
// It does no I/O.
func Decide(row foyer.Row, p *directory.Person, grants []foyer.Grant, held Holdings) foyer.Row {
	if row.Action != "" {
		return row
	}
	switch {
	case p == nil:
		row.Action = foyer.ActionInvite
		row.Reason = "no user has this address"
		row.Grants = grantKeys(grants)
	case !p.Guest():
		row.Action = foyer.ActionSkip
		row.UserID = p.ID
		row.Reason = fmt.Sprintf("a member of the tenant has this address (%s)", p.UserPrincipalName)
	default:
		row.Action = foyer.ActionExists
		row.UserID = p.ID
		row.GuestState = p.ExternalUserState
		row.Grants = nil
		for _, g := range grants {
			if !held.holds(g, p.ID, row.Email) {
				row.Grants = append(row.Grants, g.Key())
			}
		}
		state := p.ExternalUserState
		if state == "" {
			state = "guest"
		}
		if len(row.Grants) == 0 {
			row.Reason = fmt.Sprintf("already a guest (%s) with every grant", state)
		} else {
			row.Reason = fmt.Sprintf("already a guest (%s); missing %d of %d grants", state, len(row.Grants), len(grants))
		}
	}
	return row
}

func grantKeys(grants []foyer.Grant) []string {
	keys := make([]string, len(grants))
	for i, g := range grants {
		keys[i] = g.Key()
	}
	return keys
}

// Planner plans rows against one tenant and profile.
type Planner struct {
	Dir     directory.Directory
	Profile *foyer.Profile // its Grants resolved
	// Chunk is how many candidate rows are looked up in the directory at a
	// time; it bounds the plan's memory. Zero means 20,000. A plan with more
	// candidates than one chunk reads the tenant's guests once into an
	// index (Directory.Guests) and looks every chunk up there.
	Chunk int
	// Limits is what the tenant can still take, as Prepare read it: rows
	// past the object quota or a license's free seats are held back. The
	// zero value holds nothing back.
	Limits Limits
	// Notice, if set, is told what people should know about the plan as a
	// whole once every row is planned: how many rows were held back, and
	// why.
	Notice func(msg string)
}

// Holdings reads, once per grant, who holds each of the profile's grants.
func (p *Planner) Holdings(ctx context.Context) (Holdings, error) {
	held, failed := p.holdings(ctx)
	if len(failed) > 0 {
		return nil, failed[0].err
	}
	return held, nil
}

// grantError is a read about grant i of the profile that failed.
type grantError struct {
	i   int
	err error
}

// holdings reads who holds each grant, once per grant key, and returns
// every read that failed.
func (p *Planner) holdings(ctx context.Context) (Holdings, []grantError) {
	held := Holdings{}
	var failed []grantError
	for i, g := range p.Profile.Grants {
		if _, done := held[g.Key()]; done {
			continue
		}
		set, err := p.Dir.Holders(ctx, g)
		if err != nil {
			failed = append(failed, grantError{i, fmt.Errorf("read who holds %s: %w", g, err)})
		}
		held[g.Key()] = set
	}
	return held, failed
}

// Plan reads rows, looks their addresses up in chunks, and calls emit with
// each row in input order, its action decided and, past the tenant's
// limits, held back. It writes nothing.
func (p *Planner) Plan(ctx context.Context, rows Rows, held Holdings, emit func(foyer.Row) error) error {
	size := p.Chunk
	if size <= 0 {
		size = 20000
	}
	b := newBudget(p.Profile.Grants, p.Limits)
	var index *directory.GuestIndex
	chunk := make([]foyer.Row, 0, min(size, 1024))
	candidates := 0
	flush := func() error {
		if len(chunk) == 0 {
			return nil
		}
		if index == nil && candidates >= size {
			// More candidates than one look-up should hold: read every
			// guest once, instead of once per chunk.
			var err error
			if index, err = p.Dir.Guests(ctx); err != nil {
				return fmt.Errorf("read the tenant's guests: %w", err)
			}
		}
		found, err := p.find(ctx, index, chunk)
		if err != nil {
			return err
		}
		for _, r := range chunk {
			var person *directory.Person
			if x, ok := found[r.Email.Key()]; ok && r.Action == "" {
				person = &x
			}
			if err := emit(b.admit(Decide(r, person, p.Profile.Grants, held))); err != nil {
				return err
			}
		}
		chunk, candidates = chunk[:0], 0
		return nil
	}
	err := rows(func(r foyer.Row) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		chunk = append(chunk, r)
		if r.Action == "" {
			candidates++
		}
		if candidates >= size || len(chunk) >= 4*size {
			return flush()
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := flush(); err != nil {
		return err
	}
	if p.Notice != nil {
		for _, m := range b.notices() {
			p.Notice(m)
		}
	}
	return nil
}

// find looks the chunk's candidates up: in the index if there is one, else
// in the directory.
func (p *Planner) find(ctx context.Context, index *directory.GuestIndex, chunk []foyer.Row) (map[string]directory.Person, error) {
	var emails []foyer.Address
	for _, r := range chunk {
		if r.Action == "" {
			emails = append(emails, r.Email)
		}
	}
	if len(emails) == 0 {
		return nil, nil
	}
	if index != nil {
		return index.Find(emails), nil
	}
	found, err := p.Dir.Find(ctx, emails)
	if err != nil {
		return nil, fmt.Errorf("look up %d addresses in the directory: %w", len(emails), err)
	}
	return found, nil
}

// ResolveGrants resolves every grant of a profile against the directory and
// returns all problems at once, each with the place where the grant was
// configured (from where, a function of the grant's index).
func ResolveGrants(ctx context.Context, dir directory.Directory, grants []foyer.Grant, where func(i int) string) ([]foyer.Grant, error) {
	out := make([]foyer.Grant, len(grants))
	var problems []string
	for i, g := range grants {
		r, err := dir.Resolve(ctx, g)
		if err != nil {
			problems = append(problems, grantProblem(where, i, g, err))
			continue
		}
		out[i] = r
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return nil, &GrantProblems{Problems: problems}
	}
	return out, nil
}

// grantProblem describes what went wrong with grant i: where it was
// configured, its kind and reference as configured, and err.
func grantProblem(where func(i int) string, i int, g foyer.Grant, err error) string {
	loc := ""
	if where != nil {
		loc = where(i) + ": "
	}
	return fmt.Sprintf("%s%s %q: %v", loc, g.Kind, g.Ref, err)
}

// GrantProblems lists the grants of a profile that could not be resolved.
type GrantProblems struct{ Problems []string }

// ErrorCode is invalid: the profile, as configured, cannot be planned.
func (e *GrantProblems) ErrorCode() string { return foyer.EINVALID }

func (e *GrantProblems) Error() string {
	if len(e.Problems) == 1 {
		return "profile grant: " + e.Problems[0]
	}
	return fmt.Sprintf("%d profile grants have problems:\n  %s", len(e.Problems), strings.Join(e.Problems, "\n  "))
}
