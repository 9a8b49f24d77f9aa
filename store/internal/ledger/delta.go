package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/store"
)

var _ store.DeltaTokens = (*Tx)(nil)

func (t *Tx) DeltaToken(ctx context.Context, tenant, kind string) (string, time.Time, error) {
	var (
		token string
		at    *time.Time
	)
	err := t.c.QueryRow(ctx, `SELECT token, updated_at FROM delta_tokens WHERE tenant = $1 AND kind = $2`, tenant, kind).Scan(&token, &at)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", time.Time{}, nil
	case err != nil:
		return "", time.Time{}, fmt.Errorf("read the %s delta token of tenant %s: %w", kind, tenant, err)
	}
	return token, readTime(at), nil
}

func (t *Tx) PutDeltaToken(ctx context.Context, tenant, kind, token string) error {
	if tenant == "" || kind == "" {
		return foyer.Errorf(foyer.EINVALID, "a delta token needs a tenant and a kind (got %q, %q)", tenant, kind)
	}
	if token == "" {
		if _, err := t.c.Exec(ctx, `DELETE FROM delta_tokens WHERE tenant = $1 AND kind = $2`, tenant, kind); err != nil {
			return fmt.Errorf("forget the %s delta token of tenant %s: %w", kind, tenant, err)
		}
		return nil
	}
	if _, err := t.c.Exec(ctx, `INSERT INTO delta_tokens (tenant, kind, token, updated_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (tenant, kind) DO UPDATE SET token = excluded.token, updated_at = excluded.updated_at`,
		tenant, kind, token, t.now); err != nil {
		return fmt.Errorf("keep the %s delta token of tenant %s: %w", kind, tenant, err)
	}
	return nil
}
