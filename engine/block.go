package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/directory"
	"github.com/foyer-dev/foyer/store"
)

// Entra's abuse detection can block a tenant's invitations ("due to
// suspicious activity"); only Microsoft support lifts the block, and every
// further invitation would only prolong it. The engine records the block in
// the ledger the first time it sees it, refuses every later invitation into
// that tenant, from any run and any process, and says so, until an operator
// clears it (ClearBlock, `foyer tenants unblock`).

// tenantKey is the name the tenant's block is recorded under.
func (e *Engine) tenantKey() string {
	if e.Tenant == "" {
		return "default"
	}
	return e.Tenant
}

// block records that Entra blocked the tenant's invitations.
func (e *Engine) block(ctx context.Context, a ProvisionArgs, cause error) error {
	e.mu.Lock()
	if e.blocked == nil {
		e.blocked = blockedError(fmt.Sprintf("Entra blocked invitations into this tenant at line %d", a.Line))
	}
	e.mu.Unlock()
	ctx = context.WithoutCancel(ctx)
	err := e.Store.InTx(ctx, func(tx store.Tx) error {
		return tx.PutBlock(ctx, store.Block{Tenant: e.tenantKey(), RunID: a.RunID, Reason: e.safeMessage(cause)})
	})
	if err != nil {
		return fmt.Errorf("record that Entra blocked invitations: %w", err)
	}
	e.Log.Error("Entra blocked invitations into this tenant; foyer sends no more until the block is cleared",
		"tenant", e.tenantKey(), "line", a.Line, "err", cause)
	return nil
}

// checkBlock refuses an invitation, in tx, if the tenant is blocked.
func (e *Engine) checkBlock(ctx context.Context, tx store.Tx) error {
	b, err := tx.TenantBlock(ctx, e.tenantKey())
	switch foyer.ErrorCode(err) {
	case foyer.ENOTFOUND:
		return nil
	case "":
		return blockedError(blockNotice(b))
	default:
		return err
	}
}

// tenantBlock returns the tenant's block, or nil.
func (e *Engine) tenantBlock(ctx context.Context) (*store.Block, error) {
	var b *store.Block
	err := e.Store.InTx(ctx, func(tx store.Tx) error {
		got, err := tx.TenantBlock(ctx, e.tenantKey())
		switch foyer.ErrorCode(err) {
		case foyer.ENOTFOUND:
			return nil
		case "":
			b = &got
			return nil
		default:
			return err
		}
	})
	if err != nil {
		return nil, fmt.Errorf("read whether the tenant's invitations are blocked: %w", err)
	}
	return b, nil
}

func blockedError(msg string) error {
	return &directory.Error{Op: "invite", Kind: directory.ErrBlocked, Message: msg}
}

// blockNotice says what a block means and what to do.
func blockNotice(b store.Block) string {
	return fmt.Sprintf("Entra has blocked invitations into tenant %s since %s (%s); foyer invites nobody into it "+
		"until the block is lifted. Ask Microsoft support to lift it, then run: foyer tenants unblock",
		b.Tenant, b.Since.Format(time.RFC3339), b.Reason)
}

// Block returns the recorded block of the engine's tenant, or nil if its
// invitations are not blocked.
func (e *Engine) Block(ctx context.Context) (*store.Block, error) { return e.tenantBlock(ctx) }

// ClearBlock forgets the tenant's block, once Microsoft support lifted it.
// It reports whether there was one.
func (e *Engine) ClearBlock(ctx context.Context, actor string) (bool, error) {
	cleared := false
	err := e.Store.InTx(ctx, func(tx store.Tx) error {
		err := tx.ClearBlock(ctx, e.tenantKey())
		switch foyer.ErrorCode(err) {
		case foyer.ENOTFOUND:
			return nil
		case "":
		default:
			return err
		}
		cleared = true
		return tx.AppendAudit(ctx, store.AuditEntry{Kind: store.AuditChange, Actor: actor, Op: "clear invitation block", Target: e.tenantKey()})
	})
	if err != nil {
		return false, fmt.Errorf("clear the invitation block of tenant %s: %w", e.tenantKey(), err)
	}
	e.mu.Lock()
	e.blocked = nil
	e.mu.Unlock()
	return cleared, nil
}
