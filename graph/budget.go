package graph

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/foyer-dev/foyer/directory"
)

// WriteBudget is a write budget the client shares with other processes
// (the replicas of foyer serve, each with its own client and pacer): a
// tenant's write quota is spent once, not once per process. The caller
// keeps it (in the ledger); Options.Budget wires it in.
type WriteBudget interface {
	// Reserve takes n write units if they fit now and returns 0; else it
	// takes nothing and returns how long to wait before asking again.
	Reserve(ctx context.Context, n int) (time.Duration, error)
}

// budgetPolicy reserves every try of a Graph write in the shared budget,
// last, right before the transport: the slot is counted when the write
// goes out, not before a gate that may take a while (a ledger under
// load), which would let writes reserved apart arrive together. A write
// the budget made wait passes its gate again before it reserves again,
// since the gate's check (the engine's lease) is stale by then. A write
// the budget has not admitted is not sent. Reads, and ARM and Exchange
// calls (other quotas), pass freely.
type budgetPolicy struct {
	b     WriteBudget
	after func(time.Duration) <-chan time.Time
}

func (bp budgetPolicy) Do(req *policyRequest) (*http.Response, error) {
	var m meta
	req.OperationValue(&m)
	if m.kind != kindRead {
		if err := bp.reserve(req.Raw().Context(), max(m.writes, 1)); err != nil {
			return nil, err
		}
	}
	return req.Next()
}

func (bp budgetPolicy) reserve(ctx context.Context, n int) error {
	for {
		wait, err := bp.b.Reserve(ctx, n)
		if err != nil {
			return fmt.Errorf("reserve %d writes in the shared write budget: %w", n, err)
		}
		if wait <= 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-bp.after(wait):
		}
		if err := directory.Admit(ctx); err != nil {
			return err
		}
	}
}
