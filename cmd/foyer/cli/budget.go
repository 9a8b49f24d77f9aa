package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/foyer-dev/foyer/config"
	"github.com/foyer-dev/foyer/graph"
	"github.com/foyer-dev/foyer/store"
)

// ledgerBudget is the write budget kept in the ledger, shared by every
// process that writes through it (foyer serve replicas): one budget per
// app and tenant, and one per app across its tenants.
type ledgerBudget struct {
	ledger  store.Store
	budgets []store.Budget
}

var _ graph.WriteBudget = ledgerBudget{}

// newLedgerBudget is the budget of the app clientID in tenantID.
func newLedgerBudget(ledger store.Store, b config.WriteBudget, tenantID, clientID string) ledgerBudget {
	margin := time.Duration(b.Margin)
	return ledgerBudget{ledger: ledger, budgets: []store.Budget{
		{Key: "tenant:" + tenantID + "/app:" + clientID, Limit: b.Writes, Window: time.Duration(b.Window) + margin},
		{Key: "app:" + clientID, Limit: b.AppWrites, Window: time.Duration(b.AppWindow) + margin},
	}}
}

func (lb ledgerBudget) Reserve(ctx context.Context, n int) (time.Duration, error) {
	var wait time.Duration
	err := lb.ledger.InTx(ctx, func(tx store.Tx) (err error) {
		wait, err = tx.ReserveWrites(ctx, lb.budgets, n)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("the ledger's write budget: %w", err)
	}
	return wait, nil
}
