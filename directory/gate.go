package directory

import (
	"context"
	"errors"
	"reflect"

	"github.com/foyer-dev/foyer"
)

// Gate admits or refuses a directory write at the last moment: after the
// directory's own pacing let it go (which may have taken minutes) and right
// before it is sent. foyer's engine uses it to fence writes by the ledger's
// lease, so that a process paused past its lease (Ctrl-Z, a laptop asleep,
// a VM paused) and resumed after another took over sends nothing it was
// holding, and to record an invitation's intent when it is really sent, so
// that the time it waits for a lost invitation's guest to show runs from
// then.
type Gate interface {
	// Admit is called right before each try of a write is sent. An error
	// stops it: the write is not sent, and the call returns a *GateError
	// wrapping it.
	Admit(ctx context.Context) error
}

// GateFunc is a Gate in a function.
type GateFunc func(ctx context.Context) error

// Admit calls f.
func (f GateFunc) Admit(ctx context.Context) error { return f(ctx) }

type gateKey struct{}

// WithGate returns a context whose directory writes pass g first, instead
// of the gate ctx had.
func WithGate(ctx context.Context, g Gate) context.Context {
	return context.WithValue(ctx, gateKey{}, g)
}

// GateFrom returns the gate of ctx, or nil.
func GateFrom(ctx context.Context) Gate {
	g, _ := ctx.Value(gateKey{}).(Gate)
	return g
}

// Admit passes the gate of ctx, if any. Implementations of Directory call
// it right before sending each try of a write; a refusal comes back as a
// *GateError.
func Admit(ctx context.Context) error {
	g := GateFrom(ctx)
	if g == nil {
		return nil
	}
	if err := g.Admit(ctx); err != nil {
		return &GateError{Err: err}
	}
	return nil
}

// Gates is several callers' gates for one shared write (group adds of
// several people coalesced into one request): it admits the write only if
// every distinct gate does.
type Gates []Gate

// Admit passes each gate in turn, each comparable one once.
func (gs Gates) Admit(ctx context.Context) error {
	seen := map[Gate]bool{}
	for _, g := range gs {
		if g == nil {
			continue
		}
		if reflect.TypeOf(g).Comparable() {
			if seen[g] {
				continue
			}
			seen[g] = true
		}
		if err := g.Admit(ctx); err != nil {
			return err
		}
	}
	return nil
}

var _ foyer.Coder = (*GateError)(nil)

// GateError is a write its gate refused: it was not sent.
type GateError struct{ Err error }

func (e *GateError) Error() string { return "not sent: " + e.Err.Error() }

// Unwrap returns the gate's reason.
func (e *GateError) Unwrap() error { return e.Err }

// ErrorCode is the code of the gate's reason (conflict for a reason
// without one: the write was refused by the current state).
func (e *GateError) ErrorCode() string {
	if c := foyer.ErrorCode(e.Err); c != foyer.EINTERNAL {
		return c
	}
	return foyer.ECONFLICT
}

// NonRetriable tells retry policies (azcore's among them) not to try again:
// the gate said no.
func (e *GateError) NonRetriable() {}

// Refused reports whether err is a write its gate refused, which was
// therefore not sent.
func Refused(err error) bool {
	var ge *GateError
	return errors.As(err, &ge)
}
