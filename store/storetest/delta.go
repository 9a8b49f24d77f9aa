package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/store"
)

var deltaTokensCases = []testCase{
	{"RoundTrip", testDeltaTokenRoundTrip},
	{"RolledBack", testDeltaTokenRolledBack},
	{"Invalid", testDeltaTokenInvalid},
}

// deltaToken reads the token of tenant and kind in a transaction of its own.
func deltaToken(t *testing.T, s store.Store, tenant, kind string) (string, time.Time) {
	t.Helper()
	var (
		tok string
		at  time.Time
	)
	inTx(t, s, func(ctx context.Context, tx store.Tx) (err error) {
		tok, at, err = tx.DeltaToken(ctx, tenant, kind)
		return err
	})
	return tok, at
}

// testDeltaTokenRoundTrip: none at first; a token put is read back with
// the time of its transaction, per tenant and kind; a later put replaces
// it; an empty one forgets it.
func testDeltaTokenRoundTrip(t *testing.T, s store.Store) {
	const one = "https://graph.example/v1.0/users/delta?$deltatoken=one"
	if tok, at := deltaToken(t, s, "contoso", "users"); tok != "" || !at.IsZero() {
		t.Fatalf("token of an empty ledger: %q at %v, want none", tok, at)
	}
	var put time.Time
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		put = tx.Now()
		if err := tx.PutDeltaToken(ctx, "contoso", "users", one); err != nil {
			return err
		}
		return tx.PutDeltaToken(ctx, "fabrikam", "users", "fab")
	})
	if tok, at := deltaToken(t, s, "contoso", "users"); tok != one || !at.Equal(put) {
		t.Errorf("contoso's token: %q at %v, want %q at %v", tok, at, one, put)
	}
	if tok, _ := deltaToken(t, s, "contoso", "groups"); tok != "" {
		t.Errorf("contoso's groups token: %q, want none (only users was put)", tok)
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.PutDeltaToken(ctx, "contoso", "users", "two")
	})
	if tok, _ := deltaToken(t, s, "contoso", "users"); tok != "two" {
		t.Errorf("contoso's token after a second put: %q, want two", tok)
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.PutDeltaToken(ctx, "contoso", "users", "")
	})
	if tok, _ := deltaToken(t, s, "contoso", "users"); tok != "" {
		t.Errorf("contoso's token after an empty put: %q, want none", tok)
	}
	if tok, _ := deltaToken(t, s, "fabrikam", "users"); tok != "fab" {
		t.Errorf("fabrikam's token: %q, want fab (untouched by contoso's)", tok)
	}
}

// testDeltaTokenRolledBack: a token put in a transaction that rolls back
// is not kept; the one before stays. The engine counts on it: the token
// is written with the moves its changes caused, or not at all.
func testDeltaTokenRolledBack(t *testing.T, s store.Store) {
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.PutDeltaToken(ctx, "contoso", "users", "old")
	})
	ctx := testContext(t)
	err := s.InTx(ctx, func(tx store.Tx) error {
		if err := tx.PutDeltaToken(ctx, "contoso", "users", "new"); err != nil {
			return err
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("rolled back transaction: %v", err)
	}
	if tok, _ := deltaToken(t, s, "contoso", "users"); tok != "old" {
		t.Errorf("token after a rolled back put: %q, want old", tok)
	}
}

// testDeltaTokenInvalid: a token needs a tenant and a kind.
func testDeltaTokenInvalid(t *testing.T, s store.Store) {
	ctx := testContext(t)
	for _, c := range [][2]string{{"", "users"}, {"contoso", ""}} {
		err := s.InTx(ctx, func(tx store.Tx) error { return tx.PutDeltaToken(ctx, c[0], c[1], "x") })
		wantCode(t, "put a token for "+c[0]+"/"+c[1], err, foyer.EINVALID)
	}
}
