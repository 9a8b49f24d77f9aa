package storetest

import (
	"context"
	"reflect"
	"sync"
	"testing"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/store"
)

// Querier reads one number from the store's database outside of the
// ledger's methods. RunOpen counts what the migrations recorded with it.
type Querier interface {
	QueryIntSQL(ctx context.Context, query string) (int64, error)
}

// Opener opens one database, migrating it if needed, each time it is
// called, as a new process would. The stores it returns must implement
// Execer and Querier.
type Opener func(ctx context.Context) (store.Store, error)

// RunOpen checks what a backend's Open promises about migrations: several
// processes opening one new database at once all succeed and apply every
// migration once; what is written survives reopening; a database migrated
// by a newer foyer is refused. newDatabase returns an Opener of a new,
// empty database (its cleanups remove it); migrations is how many
// migration files the backend has.
func RunOpen(t *testing.T, migrations int, newDatabase func(t *testing.T) Opener) {
	t.Run("Concurrently", func(t *testing.T) {
		t.Parallel()
		testOpenConcurrently(t, migrations, newDatabase(t))
	})
	t.Run("Reopen", func(t *testing.T) {
		t.Parallel()
		testReopen(t, newDatabase(t))
	})
	t.Run("GuestProfilesFilled", func(t *testing.T) {
		t.Parallel()
		testGuestProfilesFilled(t, newDatabase(t))
	})
}

func testOpenConcurrently(t *testing.T, migrations int, open Opener) {
	ctx := testContext(t)
	const n = 4
	var (
		wg     sync.WaitGroup
		errs   = make([]error, n)
		stores = make([]store.Store, n)
	)
	for i := range n {
		wg.Go(func() { stores[i], errs[i] = open(ctx) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Open %d: %v", i, err)
			continue
		}
		defer stores[i].Close()
	}
	if t.Failed() {
		return
	}
	versions, err := stores[0].(Querier).QueryIntSQL(ctx, `SELECT count(*) FROM foyer_migrations`)
	must(t, "count foyer_migrations", err)
	if versions != int64(migrations) {
		t.Errorf("foyer_migrations has %d rows, want one per migration: %d", versions, migrations)
	}
	// All of them work on the one ledger.
	for i, s := range stores {
		err := s.InTx(ctx, func(tx store.Tx) error {
			return tx.AppendAudit(ctx, store.AuditEntry{Kind: store.AuditChange, Op: "hello"})
		})
		if err != nil {
			t.Errorf("store %d: %v", i, err)
		}
	}
}

func testReopen(t *testing.T, open Opener) {
	ctx := testContext(t)
	reopen := func(what string) store.Store {
		s, err := open(ctx)
		must(t, what, err)
		return s
	}
	s := reopen("open")
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.CreateRun(ctx, &foyer.Run{ID: "run-1", Kind: foyer.RunApply})
	})
	must(t, "close", s.Close())

	s = reopen("reopen")
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		_, err := tx.Run(ctx, "run-1")
		return err
	})
	// A newer foyer recorded a migration this one does not know.
	must(t, "record a future migration", s.(Execer).ExecSQL(ctx, `INSERT INTO foyer_migrations (version, name, applied_at)
		SELECT 999, 'future', applied_at FROM foyer_migrations WHERE version = 1`))
	must(t, "close", s.Close())
	if s, err := open(ctx); err == nil {
		s.Close()
		t.Errorf("Open of a database at ledger version 999 succeeded, want a refusal")
	} else {
		t.Logf("refused as it should: %v", err)
	}
}

// testGuestProfilesFilled checks migration 0012 on a ledger written before
// it: guests' rows held no profiles, and the migration lists those of each
// guest's requests that are invited or active, by object id, sorted.
func testGuestProfilesFilled(t *testing.T, open Opener) {
	ctx := testContext(t)
	s, err := open(ctx)
	must(t, "open", err)
	req := func(id, email, profile, user string, state foyer.State) *foyer.Request {
		r := newRequest(t, id, email, profile)
		r.UserID, r.State = user, state
		return r
	}
	createRequests(t, s,
		req("req-1", "ann@example.com", "vendors", "u-1", foyer.StateActive),
		req("req-2", "ann@example.com", "partners", "u-1", foyer.StateInvited),
		req("req-3", "ann.lee@example.com", "Zeta", "u-1", foyer.StateInvited), // another address, the same guest
		req("req-4", "ann@example.com", "board", "u-1", foyer.StateRevoked),
		req("req-5", "bob@example.com", "partners", "u-2", foyer.StateRemoved),
		req("req-6", "cy@example.com", "partners", "", foyer.StateApproved))
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, g := range []*foyer.Guest{{UserID: "u-1", Email: "ann@example.com"}, {UserID: "u-2", Email: "bob@example.com"},
			{UserID: "u-3", Email: "dee@example.com"}} {
			must(t, "PutGuest", tx.PutGuest(ctx, g))
		}
		return nil
	})
	// Back to the ledger as it was before the migration, and before the
	// ones after it (a ledger applies only versions above its last).
	must(t, "drop the index", s.(Execer).ExecSQL(ctx, `DROP INDEX requests_user`))
	must(t, "drop 0013's table", s.(Execer).ExecSQL(ctx, `DROP TABLE delta_tokens`))
	must(t, "forget the migrations", s.(Execer).ExecSQL(ctx, `DELETE FROM foyer_migrations WHERE version >= 12`))
	must(t, "close", s.Close())
	s, err = open(ctx)
	must(t, "reopen", err)
	defer s.Close()
	for user, want := range map[string][]string{"u-1": {"Zeta", "partners", "vendors"}, "u-2": nil, "u-3": nil} {
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			g, err := tx.Guest(ctx, user)
			must(t, "Guest", err)
			if !reflect.DeepEqual(g.Profiles, want) {
				t.Errorf("guest %s's profiles after the migration = %q, want %q", user, g.Profiles, want)
			}
			return nil
		})
	}
}
