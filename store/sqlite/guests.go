package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/store"
)

var (
	_ store.Guests = (*tx)(nil)
	_ store.Grants = (*tx)(nil)
)

func (t *tx) PutGuest(ctx context.Context, g *foyer.Guest) error {
	switch {
	case g == nil:
		return foyer.Errorf(foyer.EINVALID, "guest is missing")
	case g.UserID == "":
		return foyer.Errorf(foyer.EINVALID, "guest %s has no object id", g.Email)
	}
	profiles, err := jsonList(g.Profiles)
	if err != nil {
		return fmt.Errorf("record guest %s: %w", g.UserID, err)
	}
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO guests (user_id, email, email_key, upn, display_name,
		redemption, enabled, invited_at, last_sign_in, profiles, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (user_id) DO UPDATE SET email = excluded.email, email_key = excluded.email_key,
		upn = excluded.upn, display_name = excluded.display_name, redemption = excluded.redemption,
		enabled = excluded.enabled, invited_at = excluded.invited_at,
		last_sign_in = excluded.last_sign_in, profiles = excluded.profiles, updated_at = excluded.updated_at`,
		g.UserID, string(g.Email), g.Email.Key(), g.UPN, g.DisplayName, g.Redemption, boolInt(g.Enabled),
		nullTime(g.InvitedAt), nullTime(g.LastSignIn), profiles, formatTime(t.now)); err != nil {
		return fmt.Errorf("record guest %s: %w", g.UserID, err)
	}
	return nil
}

const guestColumns = `user_id, email, upn, display_name, redemption, enabled, invited_at, last_sign_in, profiles`

func scanGuest(row scanner) (*foyer.Guest, error) {
	var (
		g                   foyer.Guest
		email, profiles     string
		enabled             int
		invited, lastSignIn sql.NullString
	)
	if err := row.Scan(&g.UserID, &email, &g.UPN, &g.DisplayName, &g.Redemption, &enabled,
		&invited, &lastSignIn, &profiles); err != nil {
		return nil, err
	}
	g.Email, g.Enabled = foyer.Address(email), enabled != 0
	var err error
	if g.InvitedAt, err = parseNullTime(invited); err != nil {
		return nil, err
	}
	if g.LastSignIn, err = parseNullTime(lastSignIn); err != nil {
		return nil, err
	}
	if g.Profiles, err = parseList(profiles); err != nil {
		return nil, err
	}
	return &g, nil
}

func (t *tx) Guest(ctx context.Context, userID string) (*foyer.Guest, error) {
	g, err := scanGuest(t.tx.QueryRowContext(ctx, `SELECT `+guestColumns+` FROM guests WHERE user_id = ?`, userID))
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
func (t *tx) GuestByEmail(ctx context.Context, email foyer.Address) (*foyer.Guest, error) {
	g, err := scanGuest(t.tx.QueryRowContext(ctx, `SELECT `+guestColumns+` FROM guests
		WHERE email_key = ? ORDER BY updated_at DESC, user_id LIMIT 1`, email.Key()))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, foyer.Errorf(foyer.ENOTFOUND, "no guest with address %s", email)
	}
	if err != nil {
		return nil, fmt.Errorf("find guest with address %s: %w", email, err)
	}
	return g, nil
}

// RecordGrant records h; recording it again keeps the first GrantedAt.
func (t *tx) RecordGrant(ctx context.Context, h store.HeldGrant) error {
	if h.UserID == "" || h.Profile == "" || h.Key == "" {
		return foyer.Errorf(foyer.EINVALID, "held grant needs a user, a profile and a key (got %q, %q, %q)", h.UserID, h.Profile, h.Key)
	}
	at := h.GrantedAt
	if at.IsZero() {
		at = t.now
	}
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO held_grants (user_id, profile, grant_key, grant_text, granted_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, h.UserID, h.Profile, h.Key, h.Grant, formatTime(at)); err != nil {
		return fmt.Errorf("record that %s holds %s through %s: %w", h.UserID, h.Key, h.Profile, err)
	}
	return nil
}

func (t *tx) DropGrant(ctx context.Context, userID, profile, key string) error {
	if _, err := t.tx.ExecContext(ctx, `DELETE FROM held_grants WHERE user_id = ? AND profile = ? AND grant_key = ?`,
		userID, profile, key); err != nil {
		return fmt.Errorf("forget that %s holds %s through %s: %w", userID, key, profile, err)
	}
	return nil
}

func (t *tx) HeldGrants(ctx context.Context, userID string) ([]store.HeldGrant, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT user_id, profile, grant_key, grant_text, granted_at
		FROM held_grants WHERE user_id = ? ORDER BY profile, grant_key`, userID)
	if err != nil {
		return nil, fmt.Errorf("read grants held by %s: %w", userID, err)
	}
	defer rows.Close()
	var hs []store.HeldGrant
	for rows.Next() {
		var (
			h  store.HeldGrant
			at string
		)
		if err := rows.Scan(&h.UserID, &h.Profile, &h.Key, &h.Grant, &at); err != nil {
			return nil, fmt.Errorf("read grants held by %s: %w", userID, err)
		}
		if h.GrantedAt, err = parseTime(at); err != nil {
			return nil, fmt.Errorf("read grants held by %s: %w", userID, err)
		}
		hs = append(hs, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read grants held by %s: %w", userID, err)
	}
	return hs, nil
}
