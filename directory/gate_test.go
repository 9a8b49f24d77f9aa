package directory_test

import (
	"context"
	"errors"
	"testing"

	"github.com/foyer-dev/foyer/directory"
)

type countGate struct {
	n   int
	err error
}

func (g *countGate) Admit(context.Context) error { g.n++; return g.err }

func TestGates(t *testing.T) {
	ctx := context.Background()
	if err := directory.Admit(ctx); err != nil {
		t.Fatalf("Admit without a gate: %v", err)
	}
	a, b := &countGate{}, &countGate{}
	funcs := 0
	f := directory.GateFunc(func(context.Context) error { funcs++; return nil })
	gs := directory.Gates{a, a, nil, b, f, f}
	if err := directory.Admit(directory.WithGate(ctx, gs)); err != nil {
		t.Fatalf("Admit: %v", err)
	}
	if a.n != 1 || b.n != 1 || funcs != 2 {
		t.Errorf("gates admitted %d, %d and %d times; want each pointer gate once and each func every time", a.n, b.n, funcs)
	}
	no := errors.New("lease lost")
	err := directory.Admit(directory.WithGate(ctx, directory.Gates{a, &countGate{err: no}}))
	if !errors.Is(err, no) || !directory.Refused(err) {
		t.Errorf("Admit with a refusing gate = %v; want a GateError wrapping the reason", err)
	}
	if directory.Refused(no) {
		t.Errorf("Refused of a plain error is true")
	}
}
