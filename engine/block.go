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

// tenantKey is the name a tenant's block is recorded under: its tenant id.
func tenantKey(t *Tenant) string {
	if t.ID == "" {
		return "default"
	}
	return t.ID
}

// block records that Entra blocked the tenant's invitations.
func (e *Engine) block(ctx context.Context, t *Tenant, a ProvisionArgs, cause error) error {
	e.sawBlock(t)
	ctx = context.WithoutCancel(ctx)
	err := e.Store.InTx(ctx, func(tx store.Tx) error {
		return tx.PutBlock(ctx, store.Block{Tenant: tenantKey(t), RunID: a.RunID, Reason: e.safeMessage(cause)})
	})
	if err != nil {
		return fmt.Errorf("record that Entra blocked invitations into tenant %s: %w", t.Name, err)
	}
	e.Log.Error("Entra blocked invitations into this tenant; foyer sends no more until the block is cleared",
		"tenant", t.Name, "tenant_id", tenantKey(t), "line", a.Line, "err", cause)
	return nil
}

// sawBlock remembers that the tenant's invitations are blocked.
func (e *Engine) sawBlock(t *Tenant) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.blocked == nil {
		e.blocked = map[string]bool{}
	}
	e.blocked[tenantKey(t)] = true
}

// blockedErr refuses an invitation into a tenant this process saw blocked,
// before it waits for its turn, unless the ledger says the block was
// cleared since (foyer tenants unblock, from any process).
func (e *Engine) blockedErr(ctx context.Context, t *Tenant) error {
	e.mu.Lock()
	seen := e.blocked[tenantKey(t)]
	e.mu.Unlock()
	if !seen {
		return nil
	}
	b, err := e.tenantBlock(ctx, t)
	switch {
	case err != nil:
		return err
	case b != nil:
		return blockedError(blockNotice(t, *b))
	}
	e.resume(t)
	return nil
}

// invitationResumer is a directory client that stops inviting once Entra
// blocked its tenant (the Graph client does) and can be told the block
// was lifted.
type invitationResumer interface {
	ResumeInvitations()
}

// resume forgets that the tenant was blocked, here and in its directory
// client.
func (e *Engine) resume(t *Tenant) {
	e.mu.Lock()
	delete(e.blocked, tenantKey(t))
	e.mu.Unlock()
	if r, ok := t.Dir.(invitationResumer); ok {
		r.ResumeInvitations()
	}
}

// checkBlock refuses an invitation, in tx, if the tenant is blocked.
func (e *Engine) checkBlock(ctx context.Context, tx store.Tx, t *Tenant) error {
	b, err := tx.TenantBlock(ctx, tenantKey(t))
	switch foyer.ErrorCode(err) {
	case foyer.ENOTFOUND:
		return nil
	case "":
		return blockedError(blockNotice(t, b))
	default:
		return err
	}
}

// tenantBlock returns the tenant's block, or nil.
func (e *Engine) tenantBlock(ctx context.Context, t *Tenant) (*store.Block, error) {
	var b *store.Block
	err := e.Store.InTx(ctx, func(tx store.Tx) error {
		got, err := tx.TenantBlock(ctx, tenantKey(t))
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
		return nil, fmt.Errorf("read whether the invitations into tenant %s are blocked: %w", t.Name, err)
	}
	return b, nil
}

func blockedError(msg string) error {
	return &directory.Error{Op: "invite", Kind: directory.ErrBlocked, Message: msg}
}

// blockNotice says what a block means and what to do.
func blockNotice(t *Tenant, b store.Block) string {
	which, unblock := b.Tenant, "foyer tenants unblock"
	if t.Name != "" {
		which, unblock = t.Name+" ("+b.Tenant+")", unblock+" "+t.Name
	}
	return fmt.Sprintf("Entra has blocked invitations into tenant %s since %s (%s); foyer invites nobody into it "+
		"until the block is lifted. Ask Microsoft support to lift it, then run: %s",
		which, b.Since.Format(time.RFC3339), b.Reason, unblock)
}

// Block returns the recorded block of the engine's only tenant, or nil if
// its invitations are not blocked.
func (e *Engine) Block(ctx context.Context) (*store.Block, error) { return e.BlockOf(ctx, "") }

// BlockOf returns the recorded block of the named tenant, or nil if its
// invitations are not blocked.
func (e *Engine) BlockOf(ctx context.Context, tenant string) (*store.Block, error) {
	t, err := e.tenantNamed(tenant)
	if err != nil {
		return nil, err
	}
	return e.tenantBlock(ctx, t)
}

// ClearBlock forgets the block of the engine's only tenant, once Microsoft
// support lifted it. It reports whether there was one.
func (e *Engine) ClearBlock(ctx context.Context, actor string) (bool, error) {
	return e.ClearBlockOf(ctx, "", actor)
}

// ClearBlockOf forgets the named tenant's block, once Microsoft support
// lifted it. It reports whether there was one. Other processes see it
// cleared at their tenant's next invitation.
func (e *Engine) ClearBlockOf(ctx context.Context, tenant, actor string) (bool, error) {
	t, err := e.tenantNamed(tenant)
	if err != nil {
		return false, err
	}
	cleared := false
	err = e.Store.InTx(ctx, func(tx store.Tx) error {
		err := tx.ClearBlock(ctx, tenantKey(t))
		switch foyer.ErrorCode(err) {
		case foyer.ENOTFOUND:
			return nil
		case "":
		default:
			return err
		}
		cleared = true
		return tx.AppendAudit(ctx, store.AuditEntry{Kind: store.AuditChange, Actor: actor, Op: "clear invitation block", Target: tenantKey(t)})
	})
	if err != nil {
		return false, fmt.Errorf("clear the invitation block of tenant %s: %w", tenantKey(t), err)
	}
	e.resume(t)
	return cleared, nil
}
