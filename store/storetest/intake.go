package storetest

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/store"
)

var intakeCases = []testCase{
	{"Tokens", testTokens},
	{"Decisions", testDecisions},
	{"APIKeys", testAPIKeys},
	{"IdempotencyKeys", testIdempotencyKeys},
	{"Purge", testPurge},
}

// hash returns a distinct 64-character hex string for c, as a SHA-256 is.
func hash(c string) string { return strings.Repeat(c, 64/len(c)) }

func testTokens(t *testing.T, s store.Store) {
	createRequests(t, s, newRequest(t, "req-1", "ann@example.com", "partners"))
	verifyBy := time.Date(2026, 7, 2, 10, 0, 0, 250000000, time.UTC)
	k := store.Token{Hash: hash("a1"), RequestID: "req-1", VerifyBy: verifyBy, ExpiresAt: verifyBy.Add(30 * 24 * time.Hour)}
	again := store.Token{Hash: hash("b2"), RequestID: "req-1", VerifyBy: verifyBy.Add(time.Hour),
		ExpiresAt: verifyBy.Add(31 * 24 * time.Hour), CreatedAt: verifyBy.Add(-time.Minute)}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		k.CreatedAt = tx.Now()
		must(t, "PutToken", tx.PutToken(ctx, store.Token{Hash: k.Hash, RequestID: k.RequestID, VerifyBy: k.VerifyBy, ExpiresAt: k.ExpiresAt}))
		// A second link for the same request (sent again) is another token.
		must(t, "PutToken of a second link", tx.PutToken(ctx, again))
		dup := k
		dup.Hash, dup.VerifyBy = again.Hash, verifyBy.Add(2*time.Hour)
		wantCode(t, "PutToken with a hash in use", tx.PutToken(ctx, dup), foyer.ECONFLICT)
		for name, bad := range map[string]store.Token{
			"no hash":       {RequestID: "req-1", VerifyBy: verifyBy, ExpiresAt: verifyBy},
			"no request":    {Hash: hash("c3"), VerifyBy: verifyBy, ExpiresAt: verifyBy},
			"no verify-by":  {Hash: hash("c3"), RequestID: "req-1", ExpiresAt: verifyBy},
			"no expiration": {Hash: hash("c3"), RequestID: "req-1", VerifyBy: verifyBy},
		} {
			wantCode(t, "PutToken with "+name, tx.PutToken(ctx, bad), foyer.EINVALID)
		}
		return nil
	})
	read := func(h string) store.Token {
		var got store.Token
		inTx(t, s, func(ctx context.Context, tx store.Tx) (err error) {
			got, err = tx.Token(ctx, h)
			return err
		})
		return got
	}
	if got := read(k.Hash); !reflect.DeepEqual(got, k) {
		t.Errorf("Token = %+v, want %+v", got, k)
	}
	if got := read(again.Hash); !reflect.DeepEqual(got, again) {
		t.Errorf("Token of the second link = %+v, want %+v", got, again)
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		k.VerifiedAt = tx.Now()
		got, err := tx.MarkTokenVerified(ctx, k.Hash)
		must(t, "MarkTokenVerified", err)
		if !reflect.DeepEqual(got, k) {
			t.Errorf("MarkTokenVerified = %+v, want %+v", got, k)
		}
		_, err = tx.Token(ctx, hash("ff"))
		wantCode(t, "Token of an unknown hash", err, foyer.ENOTFOUND)
		_, err = tx.MarkTokenVerified(ctx, hash("ff"))
		wantCode(t, "MarkTokenVerified of an unknown hash", err, foyer.ENOTFOUND)
		return nil
	})
	// Proving the address again keeps the first time.
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		got, err := tx.MarkTokenVerified(ctx, k.Hash)
		must(t, "MarkTokenVerified again", err)
		if !got.VerifiedAt.Equal(k.VerifiedAt) {
			t.Errorf("MarkTokenVerified again moved VerifiedAt from %v to %v", k.VerifiedAt, got.VerifiedAt)
		}
		return nil
	})
	if got := read(again.Hash); !got.VerifiedAt.IsZero() {
		t.Errorf("verifying one link verified another of the same request: %+v", got)
	}
}

func testDecisions(t *testing.T, s store.Store) {
	createRequests(t, s, newRequest(t, "req-1", "ann@example.com", "partners"),
		newRequest(t, "req-2", "bob@example.com", "partners"))
	given := time.Date(2026, 7, 3, 8, 0, 0, 0, time.UTC)
	var want1, want2 []foyer.Decision
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		d := foyer.Decision{RequestID: "req-1", Stage: 1, Approver: "u-sam", ApproverName: "sam@contoso.example", Approve: true}
		must(t, "AddDecision", tx.AddDecision(ctx, d))
		d.At = tx.Now()
		want1 = append(want1, d)
		for _, d := range []foyer.Decision{
			{RequestID: "req-1", Stage: 1, Approver: "u-kim", ApproverName: "Kim (u-kim)", Justification: "unknown company", At: given},
			{RequestID: "req-1", Stage: 2, Approver: "u-sam", ApproverName: "sam@contoso.example", Approve: true, At: given},
		} {
			must(t, "AddDecision", tx.AddDecision(ctx, d))
			want1 = append(want1, d)
		}
		d2 := foyer.Decision{RequestID: "req-2", Stage: 1, Approver: "u-sam", Approve: true, At: given}
		must(t, "AddDecision on another request", tx.AddDecision(ctx, d2))
		want2 = append(want2, d2)
		return nil
	})
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		twice := foyer.Decision{RequestID: "req-1", Stage: 1, Approver: "u-sam", Justification: "changed my mind"}
		wantCode(t, "AddDecision by an approver who decided the stage", tx.AddDecision(ctx, twice), foyer.ECONFLICT)
		for name, bad := range map[string]foyer.Decision{
			"no request":  {Stage: 1, Approver: "u-sam"},
			"no approver": {RequestID: "req-1", Stage: 3},
			"stage 0":     {RequestID: "req-1", Approver: "u-lee"},
			"stage 4":     {RequestID: "req-1", Stage: foyer.MaxStages + 1, Approver: "u-lee"},
		} {
			wantCode(t, "AddDecision with "+name, tx.AddDecision(ctx, bad), foyer.EINVALID)
		}
		// The transaction goes on after a conflict.
		third := foyer.Decision{RequestID: "req-1", Stage: 3, Approver: "u-lee", Approve: true, At: given}
		must(t, "AddDecision after a conflict", tx.AddDecision(ctx, third))
		want1 = append(want1, third)
		return nil
	})
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for id, want := range map[string][]foyer.Decision{"req-1": want1, "req-2": want2, "req-3": nil} {
			got, err := tx.Decisions(ctx, id)
			must(t, "Decisions", err)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Decisions(%s) =\n%+v\nwant, in the order given,\n%+v", id, got, want)
			}
		}
		return nil
	})
}

func testAPIKeys(t *testing.T, s store.Store) {
	crm := store.APIKey{Name: "crm", Hash: hash("c1"), Prefix: "fy_c1c1"}
	hr := store.APIKey{Name: "hr", Hash: hash("d2"), Prefix: "fy_d2d2", CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)}
	zed := store.APIKey{Name: "Zed", Hash: hash("e3")}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		crm.CreatedAt, zed.CreatedAt = tx.Now(), tx.Now()
		for _, k := range []store.APIKey{{Name: crm.Name, Hash: crm.Hash, Prefix: crm.Prefix}, hr, {Name: zed.Name, Hash: zed.Hash}} {
			must(t, "CreateAPIKey "+k.Name, tx.CreateAPIKey(ctx, k))
		}
		wantCode(t, "CreateAPIKey with a name in use", tx.CreateAPIKey(ctx, store.APIKey{Name: "crm", Hash: hash("f4")}), foyer.ECONFLICT)
		wantCode(t, "CreateAPIKey with a hash in use", tx.CreateAPIKey(ctx, store.APIKey{Name: "other", Hash: crm.Hash}), foyer.ECONFLICT)
		wantCode(t, "CreateAPIKey without name", tx.CreateAPIKey(ctx, store.APIKey{Hash: hash("f4")}), foyer.EINVALID)
		wantCode(t, "CreateAPIKey without hash", tx.CreateAPIKey(ctx, store.APIKey{Name: "other"}), foyer.EINVALID)
		return nil
	})
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		got, err := tx.APIKeyByHash(ctx, crm.Hash)
		must(t, "APIKeyByHash", err)
		if !reflect.DeepEqual(got, crm) {
			t.Errorf("APIKeyByHash = %+v, want %+v", got, crm)
		}
		_, err = tx.APIKeyByHash(ctx, hash("f4"))
		wantCode(t, "APIKeyByHash of an unknown hash", err, foyer.ENOTFOUND)
		return nil
	})
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		crm.RevokedAt = tx.Now()
		must(t, "RevokeAPIKey", tx.RevokeAPIKey(ctx, "crm"))
		wantCode(t, "RevokeAPIKey of an unknown key", tx.RevokeAPIKey(ctx, "ghost"), foyer.ENOTFOUND)
		return nil
	})
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		_, err := tx.APIKeyByHash(ctx, crm.Hash)
		wantCode(t, "APIKeyByHash of a revoked key", err, foyer.ENOTFOUND)
		must(t, "RevokeAPIKey of a revoked key", tx.RevokeAPIKey(ctx, "crm"))
		// A revoked key keeps its name and its hash.
		wantCode(t, "CreateAPIKey with a revoked key's name", tx.CreateAPIKey(ctx, store.APIKey{Name: "crm", Hash: hash("f4")}), foyer.ECONFLICT)
		got, err := tx.APIKeyByHash(ctx, hr.Hash)
		must(t, "APIKeyByHash of a working key", err)
		if !reflect.DeepEqual(got, hr) {
			t.Errorf("APIKeyByHash = %+v, want %+v", got, hr)
		}
		return nil
	})
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		got, err := tx.APIKeysList(ctx)
		must(t, "APIKeysList", err)
		// By name, byte by byte: upper case first. Revoked once, at the
		// first revocation's time.
		if want := []store.APIKey{zed, crm, hr}; !reflect.DeepEqual(got, want) {
			t.Errorf("APIKeysList =\n%+v\nwant\n%+v", got, want)
		}
		return nil
	})
}

func testIdempotencyKeys(t *testing.T, s store.Store) {
	createRequests(t, s, newRequest(t, "req-1", "ann@example.com", "partners"),
		newRequest(t, "req-2", "bob@example.com", "partners"))
	crm := store.IdempotencyKey{Client: "apikey:crm", Key: "k-1", BodyHash: hash("a1"), RequestID: "req-1"}
	app := store.IdempotencyKey{Client: "app-2", Key: "k-1", BodyHash: hash("b2"), RequestID: "req-2",
		CreatedAt: time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)}
	upper := store.IdempotencyKey{Client: "apikey:crm", Key: "K-1", BodyHash: hash("c3"), RequestID: "req-2"}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		crm.CreatedAt, upper.CreatedAt = tx.Now(), tx.Now()
		must(t, "PutIdempotencyKey", tx.PutIdempotencyKey(ctx, store.IdempotencyKey{Client: crm.Client, Key: crm.Key,
			BodyHash: crm.BodyHash, RequestID: crm.RequestID}))
		// Keys are per client, and compared exactly.
		must(t, "PutIdempotencyKey of another client's key", tx.PutIdempotencyKey(ctx, app))
		must(t, "PutIdempotencyKey of a key differing in case", tx.PutIdempotencyKey(ctx, upper))
		again := store.IdempotencyKey{Client: crm.Client, Key: crm.Key, BodyHash: hash("d4"), RequestID: "req-2"}
		wantCode(t, "PutIdempotencyKey of a client's key in use", tx.PutIdempotencyKey(ctx, again), foyer.ECONFLICT)
		for name, bad := range map[string]store.IdempotencyKey{
			"no client":  {Key: "k-2", RequestID: "req-1"},
			"no key":     {Client: "app-2", RequestID: "req-1"},
			"no request": {Client: "app-2", Key: "k-2"},
		} {
			wantCode(t, "PutIdempotencyKey with "+name, tx.PutIdempotencyKey(ctx, bad), foyer.EINVALID)
		}
		return nil
	})
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, want := range []store.IdempotencyKey{crm, app, upper} {
			got, err := tx.IdempotencyKeyOf(ctx, want.Client, want.Key)
			must(t, "IdempotencyKeyOf", err)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("IdempotencyKeyOf(%s, %s) = %+v, want %+v", want.Client, want.Key, got, want)
			}
		}
		_, err := tx.IdempotencyKeyOf(ctx, "apikey:crm", "k-2")
		wantCode(t, "IdempotencyKeyOf of an unused key", err, foyer.ENOTFOUND)
		_, err = tx.IdempotencyKeyOf(ctx, "app-3", "k-1")
		wantCode(t, "IdempotencyKeyOf of another client's key", err, foyer.ENOTFOUND)
		return nil
	})
}

// testPurge: expired links and old idempotency keys go; the others stay.
func testPurge(t *testing.T, s store.Store) {
	createRequests(t, s, newRequest(t, "req-1", "ann@example.com", "partners"))
	at := time.Date(2026, 7, 2, 10, 0, 0, 0, time.UTC)
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		must(t, "PutToken", tx.PutToken(ctx, store.Token{Hash: hash("a1"), RequestID: "req-1", VerifyBy: at, ExpiresAt: at}))
		must(t, "PutToken", tx.PutToken(ctx, store.Token{Hash: hash("b2"), RequestID: "req-1", VerifyBy: at, ExpiresAt: at.Add(time.Hour)}))
		must(t, "PutIdempotencyKey", tx.PutIdempotencyKey(ctx, store.IdempotencyKey{Client: "c", Key: "old", RequestID: "req-1", CreatedAt: at}))
		must(t, "PutIdempotencyKey", tx.PutIdempotencyKey(ctx, store.IdempotencyKey{Client: "c", Key: "new", RequestID: "req-1", CreatedAt: at.Add(time.Hour)}))
		return nil
	})
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		n, err := tx.PurgeTokens(ctx, at.Add(time.Minute))
		must(t, "PurgeTokens", err)
		m, err := tx.PurgeIdempotencyKeys(ctx, at.Add(time.Minute))
		must(t, "PurgeIdempotencyKeys", err)
		if n != 1 || m != 1 {
			t.Errorf("purged %d links and %d keys, want 1 and 1", n, m)
		}
		_, err = tx.Token(ctx, hash("a1"))
		wantCode(t, "Token of a purged link", err, foyer.ENOTFOUND)
		_, err = tx.Token(ctx, hash("b2"))
		must(t, "Token of a link still valid", err)
		_, err = tx.IdempotencyKeyOf(ctx, "c", "old")
		wantCode(t, "IdempotencyKeyOf a purged key", err, foyer.ENOTFOUND)
		_, err = tx.IdempotencyKeyOf(ctx, "c", "new")
		must(t, "IdempotencyKeyOf a recent key", err)
		return nil
	})
}
