package store

import (
	"context"
	"time"
)

// DeltaTokens keeps the change-tracking token of a directory's delta
// query, one per tenant and kind ("users"): the next sync reads only what
// changed since the round that gave it. It is written in the transaction
// that records what that round's changes caused, so a process killed
// before it commits reads the same changes again from the old token.
type DeltaTokens interface {
	// DeltaToken returns the token kept for tenant and kind and when it
	// was written; "" and the zero time when none is kept.
	DeltaToken(ctx context.Context, tenant, kind string) (token string, at time.Time, err error)
	// PutDeltaToken keeps token for tenant and kind, replacing any; an
	// empty token forgets it (the next sync starts a full round).
	PutDeltaToken(ctx context.Context, tenant, kind, token string) error
}
