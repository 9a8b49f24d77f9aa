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
	_ store.Guests = (*Tx)(nil)
	_ store.Grants = (*Tx)(nil)
)

func (t *Tx) PutGuest(ctx context.Context, g *foyer.Guest) error {
	switch {
	case g == nil:
		return foyer.Errorf(foyer.EINVALID, "guest is missing")
	case g.UserID == "":
		return foyer.Errorf(foyer.EINVALID, "guest %s has no object id", g.Email)
	}
	if _, err := t.c.Exec(ctx, `INSERT INTO guests (user_id, email, email_key, upn, display_name,
		redemption, enabled, invited_at, last_sign_in, profiles, updated_at, search)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
		ON CONFLICT (user_id) DO UPDATE SET email = excluded.email, email_key = excluded.email_key,
		upn = excluded.upn, display_name = excluded.display_name, redemption = excluded.redemption,
		enabled = excluded.enabled, invited_at = excluded.invited_at,
		last_sign_in = excluded.last_sign_in, profiles = excluded.profiles, updated_at = excluded.updated_at,
		search = excluded.search`,
		g.UserID, string(g.Email), g.Email.Key(), g.UPN, g.DisplayName, g.Redemption, g.Enabled,
		nullTime(g.InvitedAt), nullTime(g.LastSignIn), list(g.Profiles), t.now, guestSearch(g)); err != nil {
		return fmt.Errorf("record guest %s: %w", g.UserID, err)
	}
	return nil
}

const guestColumns = `user_id, email, upn, display_name, redemption, enabled, invited_at, last_sign_in, profiles`

func scanGuest(row scanner) (*foyer.Guest, error) {
	var (
		g                   foyer.Guest
		email               string
		invited, lastSignIn *time.Time
		profiles            []string
	)
	if err := row.Scan(&g.UserID, &email, &g.UPN, &g.DisplayName, &g.Redemption, &g.Enabled,
		&invited, &lastSignIn, &profiles); err != nil {
		return nil, err
	}
	g.Email, g.InvitedAt, g.LastSignIn, g.Profiles = foyer.Address(email), readTime(invited), readTime(lastSignIn), readList(profiles)
	return &g, nil
}

func (t *Tx) Guest(ctx context.Context, userID string) (*foyer.Guest, error) {
	g, err := scanGuest(t.c.QueryRow(ctx, `SELECT `+guestColumns+` FROM guests WHERE user_id = $1`, userID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, foyer.Errorf(foyer.ENOTFOUND, "no guest %s", userID)
	}
	if err != nil {
		return nil, fmt.Errorf("read guest %s: %w", userID, err)
	}
	return g, nil
}

// GuestByEmail returns the guest with the address; if the directory holds
// several (an old object not yet purged), the one recorded last.
func (t *Tx) GuestByEmail(ctx context.Context, email foyer.Address) (*foyer.Guest, error) {
	g, err := scanGuest(t.c.QueryRow(ctx, `SELECT `+guestColumns+` FROM guests
		WHERE email_key = $1 ORDER BY updated_at DESC, user_id LIMIT 1`, email.Key()))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, foyer.Errorf(foyer.ENOTFOUND, "no guest with address %s", email)
	}
	if err != nil {
		return nil, fmt.Errorf("find guest with address %s: %w", email, err)
	}
	return g, nil
}

func (t *Tx) DeleteGuest(ctx context.Context, userID string) error {
	if userID == "" {
		return foyer.Errorf(foyer.EINVALID, "delete guest: no object id")
	}
	if _, err := t.c.Exec(ctx, `DELETE FROM guests WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("delete guest %s: %w", userID, err)
	}
	return nil
}

// RecordGrant records h; recording it again keeps the first GrantedAt.
func (t *Tx) RecordGrant(ctx context.Context, h store.HeldGrant) error {
	if h.UserID == "" || h.Profile == "" || h.Key == "" {
		return foyer.Errorf(foyer.EINVALID, "held grant needs a user, a profile and a key (got %q, %q, %q)", h.UserID, h.Profile, h.Key)
	}
	at := h.GrantedAt
	if at.IsZero() {
		at = t.now
	}
	if _, err := t.c.Exec(ctx, `INSERT INTO held_grants (user_id, profile, grant_key, grant_text, granted_at)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`, h.UserID, h.Profile, h.Key, h.Grant, at); err != nil {
		return fmt.Errorf("record that %s holds %s through %s: %w", h.UserID, h.Key, h.Profile, err)
	}
	return nil
}

func (t *Tx) DropGrant(ctx context.Context, userID, profile, key string) error {
	if _, err := t.c.Exec(ctx, `DELETE FROM held_grants WHERE user_id = $1 AND profile = $2 AND grant_key = $3`,
		userID, profile, key); err != nil {
		return fmt.Errorf("forget that %s holds %s through %s: %w", userID, key, profile, err)
	}
	return nil
}

func (t *Tx) HeldGrants(ctx context.Context, userID string) ([]store.HeldGrant, error) {
	rows, err := t.c.Query(ctx, `SELECT user_id, profile, grant_key, grant_text, granted_at
		FROM held_grants WHERE user_id = $1 ORDER BY profile, grant_key`, userID)
	if err != nil {
		return nil, fmt.Errorf("read grants held by %s: %w", userID, err)
	}
	defer rows.Close()
	var hs []store.HeldGrant
	for rows.Next() {
		var h store.HeldGrant
		if err := rows.Scan(&h.UserID, &h.Profile, &h.Key, &h.Grant, &h.GrantedAt); err != nil {
			return nil, fmt.Errorf("read grants held by %s: %w", userID, err)
		}
		h.GrantedAt = h.GrantedAt.UTC()
		hs = append(hs, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read grants held by %s: %w", userID, err)
	}
	return hs, nil
}
