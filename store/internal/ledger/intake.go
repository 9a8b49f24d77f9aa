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

var (
	_ store.Tokens      = (*Tx)(nil)
	_ store.Decisions   = (*Tx)(nil)
	_ store.APIKeys     = (*Tx)(nil)
	_ store.Idempotency = (*Tx)(nil)
)

// Hashes name tokens and keys in messages by their first characters only:
// enough to tell two apart in a log, too few to be worth anything.
func short(hash string) string {
	if len(hash) > 8 {
		return hash[:8] + "…"
	}
	return hash
}

func (t *Tx) PutToken(ctx context.Context, k store.Token) error {
	switch {
	case k.Hash == "":
		return foyer.Errorf(foyer.EINVALID, "a link token has no hash")
	case k.RequestID == "":
		return foyer.Errorf(foyer.EINVALID, "link token %s names no request", short(k.Hash))
	case k.VerifyBy.IsZero() || k.ExpiresAt.IsZero():
		return foyer.Errorf(foyer.EINVALID, "link token %s of request %s has no time to prove the address by or to expire at",
			short(k.Hash), k.RequestID)
	}
	if k.CreatedAt.IsZero() {
		k.CreatedAt = t.now
	}
	n, err := t.c.Exec(ctx, `INSERT INTO tokens (hash, request_id, created_at, verify_by, verified_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (hash) DO NOTHING`,
		k.Hash, k.RequestID, k.CreatedAt, k.VerifyBy, nullTime(k.VerifiedAt), k.ExpiresAt)
	if err != nil {
		return fmt.Errorf("record link token %s of request %s: %w", short(k.Hash), k.RequestID, err)
	}
	if n == 0 {
		return foyer.Errorf(foyer.ECONFLICT, "link token %s exists", short(k.Hash))
	}
	return nil
}

func (t *Tx) Token(ctx context.Context, hash string) (store.Token, error) {
	k := store.Token{Hash: hash}
	var verified *time.Time
	err := t.c.QueryRow(ctx, `SELECT request_id, created_at, verify_by, verified_at, expires_at
		FROM tokens WHERE hash = $1`, hash).Scan(&k.RequestID, &k.CreatedAt, &k.VerifyBy, &verified, &k.ExpiresAt)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.Token{}, foyer.Errorf(foyer.ENOTFOUND, "no link token %s", short(hash))
	case err != nil:
		return store.Token{}, fmt.Errorf("read link token %s: %w", short(hash), err)
	}
	k.CreatedAt, k.VerifyBy, k.ExpiresAt, k.VerifiedAt = k.CreatedAt.UTC(), k.VerifyBy.UTC(), k.ExpiresAt.UTC(), readTime(verified)
	return k, nil
}

func (t *Tx) MarkTokenVerified(ctx context.Context, hash string) (store.Token, error) {
	n, err := t.c.Exec(ctx, `UPDATE tokens SET verified_at = coalesce(verified_at, $1) WHERE hash = $2`, t.now, hash)
	if err != nil {
		return store.Token{}, fmt.Errorf("mark link token %s verified: %w", short(hash), err)
	}
	if n == 0 {
		return store.Token{}, foyer.Errorf(foyer.ENOTFOUND, "no link token %s", short(hash))
	}
	return t.Token(ctx, hash)
}

func (t *Tx) AddDecision(ctx context.Context, d foyer.Decision) error {
	switch {
	case d.RequestID == "":
		return foyer.Errorf(foyer.EINVALID, "a decision names no request")
	case d.Approver == "":
		return foyer.Errorf(foyer.EINVALID, "a decision on request %s names no approver", d.RequestID)
	case d.Stage < 1 || d.Stage > foyer.MaxStages:
		return foyer.Errorf(foyer.EINVALID, "a decision on request %s is for stage %d, not 1 to %d", d.RequestID, d.Stage, foyer.MaxStages)
	}
	if d.At.IsZero() {
		d.At = t.now
	}
	n, err := t.c.Exec(ctx, `INSERT INTO decisions (request_id, stage, approver, approver_name, approve, justification, at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (request_id, stage, approver) DO NOTHING`,
		d.RequestID, d.Stage, d.Approver, d.ApproverName, d.Approve, d.Justification, d.At)
	if err != nil {
		return fmt.Errorf("record the decision of %s on stage %d of request %s: %w", d.Approver, d.Stage, d.RequestID, err)
	}
	if n == 0 {
		who := d.ApproverName
		if who == "" {
			who = d.Approver
		}
		return foyer.Errorf(foyer.ECONFLICT, "%s already decided stage %d of request %s", who, d.Stage, d.RequestID)
	}
	return nil
}

func (t *Tx) Decisions(ctx context.Context, requestID string) ([]foyer.Decision, error) {
	rows, err := t.c.Query(ctx, `SELECT stage, approver, approver_name, approve, justification, at
		FROM decisions WHERE request_id = $1 ORDER BY seq`, requestID)
	if err != nil {
		return nil, fmt.Errorf("read the decisions on request %s: %w", requestID, err)
	}
	defer rows.Close()
	var ds []foyer.Decision
	for rows.Next() {
		d := foyer.Decision{RequestID: requestID}
		if err := rows.Scan(&d.Stage, &d.Approver, &d.ApproverName, &d.Approve, &d.Justification, &d.At); err != nil {
			return nil, fmt.Errorf("read the decisions on request %s: %w", requestID, err)
		}
		d.At = d.At.UTC()
		ds = append(ds, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the decisions on request %s: %w", requestID, err)
	}
	return ds, nil
}

func (t *Tx) CreateAPIKey(ctx context.Context, k store.APIKey) error {
	switch {
	case k.Name == "":
		return foyer.Errorf(foyer.EINVALID, "an API key has no name")
	case k.Hash == "":
		return foyer.Errorf(foyer.EINVALID, "API key %s has no hash", k.Name)
	}
	if k.CreatedAt.IsZero() {
		k.CreatedAt = t.now
	}
	n, err := t.c.Exec(ctx, `INSERT INTO api_keys (name, hash, prefix, created_at, revoked_at)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`, k.Name, k.Hash, k.Prefix, k.CreatedAt, nullTime(k.RevokedAt))
	if err != nil {
		return fmt.Errorf("record API key %s: %w", k.Name, err)
	}
	if n == 0 {
		var taken int
		if err := t.c.QueryRow(ctx, `SELECT count(*) FROM api_keys WHERE name = $1`, k.Name).Scan(&taken); err != nil {
			return fmt.Errorf("record API key %s: %w", k.Name, err)
		}
		if taken > 0 {
			return foyer.Errorf(foyer.ECONFLICT, "an API key named %s exists", k.Name)
		}
		return foyer.Errorf(foyer.ECONFLICT, "API key %s: another key has the same hash", k.Name)
	}
	return nil
}

const apiKeyColumns = `name, hash, prefix, created_at, revoked_at`

func scanAPIKey(row scanner) (store.APIKey, error) {
	var (
		k       store.APIKey
		revoked *time.Time
	)
	if err := row.Scan(&k.Name, &k.Hash, &k.Prefix, &k.CreatedAt, &revoked); err != nil {
		return store.APIKey{}, err
	}
	k.CreatedAt, k.RevokedAt = k.CreatedAt.UTC(), readTime(revoked)
	return k, nil
}

func (t *Tx) APIKeyByHash(ctx context.Context, hash string) (store.APIKey, error) {
	k, err := scanAPIKey(t.c.QueryRow(ctx, `SELECT `+apiKeyColumns+` FROM api_keys
		WHERE hash = $1 AND revoked_at IS NULL`, hash))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.APIKey{}, foyer.Errorf(foyer.ENOTFOUND, "no working API key %s", short(hash))
	case err != nil:
		return store.APIKey{}, fmt.Errorf("find API key %s: %w", short(hash), err)
	}
	return k, nil
}

func (t *Tx) APIKeysList(ctx context.Context) ([]store.APIKey, error) {
	rows, err := t.c.Query(ctx, `SELECT `+apiKeyColumns+` FROM api_keys ORDER BY name`+t.db.Dialect.ByteOrder)
	if err != nil {
		return nil, fmt.Errorf("list API keys: %w", err)
	}
	defer rows.Close()
	var ks []store.APIKey
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, fmt.Errorf("list API keys: %w", err)
		}
		ks = append(ks, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list API keys: %w", err)
	}
	return ks, nil
}

// RevokeAPIKey keeps the time a key was first revoked.
func (t *Tx) RevokeAPIKey(ctx context.Context, name string) error {
	n, err := t.c.Exec(ctx, `UPDATE api_keys SET revoked_at = coalesce(revoked_at, $1) WHERE name = $2`, t.now, name)
	if err != nil {
		return fmt.Errorf("revoke API key %s: %w", name, err)
	}
	if n == 0 {
		return foyer.Errorf(foyer.ENOTFOUND, "no API key named %s", name)
	}
	return nil
}

func (t *Tx) PutIdempotencyKey(ctx context.Context, k store.IdempotencyKey) error {
	switch {
	case k.Client == "" || k.Key == "":
		return foyer.Errorf(foyer.EINVALID, "an idempotency key needs a client and a key (got %q, %q)", k.Client, k.Key)
	case k.RequestID == "":
		return foyer.Errorf(foyer.EINVALID, "idempotency key %q of %s names no request", k.Key, k.Client)
	}
	if k.CreatedAt.IsZero() {
		k.CreatedAt = t.now
	}
	n, err := t.c.Exec(ctx, `INSERT INTO idempotency_keys (client, key, body_hash, request_id, created_at)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (client, key) DO NOTHING`,
		k.Client, k.Key, k.BodyHash, k.RequestID, k.CreatedAt)
	if err != nil {
		return fmt.Errorf("record idempotency key %q of %s: %w", k.Key, k.Client, err)
	}
	if n == 0 {
		return foyer.Errorf(foyer.ECONFLICT, "%s already used idempotency key %q", k.Client, k.Key)
	}
	return nil
}

func (t *Tx) IdempotencyKeyOf(ctx context.Context, client, key string) (store.IdempotencyKey, error) {
	k := store.IdempotencyKey{Client: client, Key: key}
	err := t.c.QueryRow(ctx, `SELECT body_hash, request_id, created_at FROM idempotency_keys
		WHERE client = $1 AND key = $2`, client, key).Scan(&k.BodyHash, &k.RequestID, &k.CreatedAt)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.IdempotencyKey{}, foyer.Errorf(foyer.ENOTFOUND, "%s never used idempotency key %q", client, key)
	case err != nil:
		return store.IdempotencyKey{}, fmt.Errorf("read idempotency key %q of %s: %w", key, client, err)
	}
	k.CreatedAt = k.CreatedAt.UTC()
	return k, nil
}

func (t *Tx) PurgeTokens(ctx context.Context, before time.Time) (int, error) {
	n, err := t.c.Exec(ctx, `DELETE FROM tokens WHERE expires_at < $1`, before.UTC())
	if err != nil {
		return 0, fmt.Errorf("purge the links that expired before %s: %w", before.Format(time.RFC3339), err)
	}
	return int(n), nil
}

func (t *Tx) PurgeIdempotencyKeys(ctx context.Context, before time.Time) (int, error) {
	n, err := t.c.Exec(ctx, `DELETE FROM idempotency_keys WHERE created_at < $1`, before.UTC())
	if err != nil {
		return 0, fmt.Errorf("purge the idempotency keys recorded before %s: %w", before.Format(time.RFC3339), err)
	}
	return int(n), nil
}
