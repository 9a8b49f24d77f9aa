package engine_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/engine"
	"github.com/foyer-dev/foyer/graph"
	"github.com/foyer-dev/foyer/sim"
	"github.com/foyer-dev/foyer/sim/simtest"
	"github.com/foyer-dev/foyer/source"
	"github.com/foyer-dev/foyer/store"
	"github.com/foyer-dev/foyer/store/postgres"
	"github.com/foyer-dev/foyer/store/sqlite"
)

// world is a tenant, its directory client, a ledger and an engine over them.
type world struct {
	sim     *sim.Server
	dir     *graph.Client
	store   store.Store
	profile *foyer.Profile
	eng     *engine.Engine
}

// ledgers are the backends the engine's tests run on.
var ledgers = map[string]func(t *testing.T) store.Store{
	"sqlite": func(t *testing.T) store.Store {
		db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "ledger.db"), sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	},
	"postgres": openPostgres,
}

// openPostgres opens a ledger in a fresh schema of the database
// FOYER_TEST_POSTGRES names, dropped when t ends.
func openPostgres(t *testing.T) store.Store {
	dsn := os.Getenv("FOYER_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("FOYER_TEST_POSTGRES is not set (scripts/test sets it)")
	}
	ctx := context.Background()
	b := make([]byte, 6)
	rand.Read(b)
	schema := "foyer_engine_" + hex.EncodeToString(b)
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	db, err := postgres.Open(ctx, dsn, postgres.Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func newWorld(t *testing.T, o sim.Options, grants ...foyer.Grant) *world {
	return newWorldOn(t, ledgers["sqlite"], o, grants...)
}

func newWorldOn(t *testing.T, ledger func(*testing.T) store.Store, o sim.Options, grants ...foyer.Grant) *world {
	t.Helper()
	return newWorldPaced(t, ledger, o, graph.Pacing{}, grants...)
}

// newWorldPaced is newWorldOn with the directory client's pacing (its
// retry delay and group window are set for tests if zero).
func newWorldPaced(t *testing.T, ledger func(*testing.T) store.Store, o sim.Options, pacing graph.Pacing, grants ...foyer.Grant) *world {
	t.Helper()
	if pacing.RetryDelay == 0 {
		pacing.RetryDelay = 20 * time.Millisecond
	}
	if pacing.GroupWindow == 0 {
		pacing.GroupWindow = 50 * time.Millisecond
	}
	ctx := context.Background()
	s := simtest.Start(t, o)
	dir := newDirectory(t, s, pacing)
	db := ledger(t)
	if len(grants) == 0 {
		grants = []foyer.Grant{{Kind: foyer.GrantGroup, Ref: "DemoApp"}}
	}
	p := &foyer.Profile{Name: "partners", RedirectURL: "https://myapps.microsoft.com", Sender: foyer.SenderMicrosoft,
		Deny: []string{"gmail.com"}}
	var err error
	if p.Grants, err = engine.ResolveGrants(ctx, dir, grants, nil); err != nil {
		t.Fatal(err)
	}
	var n atomic.Int64
	eng := &engine.Engine{Store: db, Dir: dir, Profiles: map[string]*foyer.Profile{"partners": p},
		NewID: func() string { return "id-" + itoa(n.Add(1)) }, Owner: engine.NewOwner("test"), Workers: 8,
		UnknownOutcomeGrace: time.Second}
	return &world{sim: s, dir: dir, store: db, profile: p, eng: eng}
}

// newDirectory is a Graph client on the sim, as a new process would make.
func newDirectory(t *testing.T, s *sim.Server, pacing graph.Pacing) *graph.Client {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.CAPEM())
	dir, err := graph.New(context.Background(), graph.Options{
		TenantID: s.TenantID(), ClientID: s.ClientID(), Cloud: graph.CloudCustom,
		Endpoints:  graph.Endpoints{Authority: s.URL(), Graph: s.URL(), ARM: s.URL(), Exchange: s.URL()},
		RootCAs:    pool,
		Credential: graph.Credential{Type: graph.CredentialClientSecret, SecretEnv: "SECRET"},
		Getenv:     func(string) string { return s.ClientSecret() },
		Pacing:     pacing,
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func itoa(n int64) string { return strings.TrimLeft(time.Duration(n).String(), "") }

// plan plans csv against the world's tenant.
func (w *world) plan(t *testing.T, csv []byte) []foyer.Row {
	t.Helper()
	ctx := context.Background()
	verified, err := w.dir.Domains(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pl := &engine.Planner{Dir: w.dir, Profile: w.profile}
	held, err := pl.Holdings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var rows []foyer.Row
	err = pl.Plan(ctx, func(yield func(foyer.Row) error) error {
		_, err := source.Read(ctx, bytes.NewReader(csv), source.Options{VerifiedDomains: verified, Profile: w.profile}, yield)
		return err
	}, held, func(r foyer.Row) error {
		rows = append(rows, r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func (w *world) apply(t *testing.T, csv []byte, digest string) *foyer.Run {
	t.Helper()
	ctx := context.Background()
	rows := w.plan(t, csv)
	if err := w.eng.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer w.eng.Stop(ctx)
	run, err := w.eng.Apply(ctx, engine.ApplyInput{Profile: "partners", Source: "test.csv", Digest: digest,
		Plan: planOf(rows)})
	if err != nil {
		t.Fatal(err)
	}
	return run
}

// planOf is an ApplyInput.Plan that emits rows.
func planOf(rows []foyer.Row) func(context.Context, func(foyer.Row) error) error {
	return func(_ context.Context, emit func(foyer.Row) error) error {
		for _, r := range rows {
			if err := emit(r); err != nil {
				return err
			}
		}
		return nil
	}
}

func guestsCSV(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("../examples/guests.csv")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestApplyInvitesOnceAndGrants(t *testing.T) {
	t.Parallel()
	for name, ledger := range ledgers {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			testApplyInvitesOnceAndGrants(t, newWorldOn(t, ledger, sim.Options{}))
		})
	}
}

func testApplyInvitesOnceAndGrants(t *testing.T, w *world) {
	csv := guestsCSV(t)
	run := w.apply(t, csv, "digest-1")
	s := run.Summary
	t.Logf("first run: actions %v, results %v", s.Actions, s.Results)
	if s.Actions[foyer.ActionInvite] == 0 || s.Results[foyer.ResultInvited] != s.Actions[foyer.ActionInvite] {
		t.Fatalf("summary %+v: every invite row should be invited", s)
	}
	if s.Results[foyer.ResultFailed] != 0 {
		t.Fatalf("summary %+v: no row should fail", s)
	}
	stats := w.sim.Stats()
	for email, n := range stats.InvitationsByEmail {
		if n != 1 {
			t.Errorf("%s was invited %d times", email, n)
		}
	}
	if len(stats.InvitationsByEmail) != s.Actions[foyer.ActionInvite] {
		t.Errorf("%d addresses invited, plan said %d", len(stats.InvitationsByEmail), s.Actions[foyer.ActionInvite])
	}
	// Every invited or existing guest is in the group, once.
	snap := w.sim.Snapshot()
	members := map[string]int{}
	for _, g := range snap.Groups {
		if g.DisplayName == "DemoApp" {
			for _, m := range g.Members {
				members[strings.ToLower(m)]++
			}
		}
	}
	rows := runRows(t, w.store, run.ID)
	for _, r := range rows {
		if r.Action != foyer.ActionInvite && r.Action != foyer.ActionExists {
			continue
		}
		if members[strings.ToLower(r.UserID)] != 1 {
			t.Errorf("line %d (%s, user %s) is a member %d times", r.Line, r.Email, r.UserID, members[strings.ToLower(r.UserID)])
		}
	}
	// A guest who had accepted is active; one still pending, or just
	// invited, is invited. The ledger keeps what the plan saw.
	accepted := 0
	err := w.store.InTx(context.Background(), func(tx store.Tx) error {
		for _, r := range rows {
			if r.Action != foyer.ActionInvite && r.Action != foyer.ActionExists {
				continue
			}
			req, err := tx.FindRequest(context.Background(), "partners", r.Email)
			if err != nil {
				return err
			}
			want := foyer.StateInvited
			if r.GuestState == foyer.Accepted {
				want, accepted = foyer.StateActive, accepted+1
			}
			if req.State != want {
				t.Errorf("line %d (%s, guest state %q): request is %s, want %s", r.Line, r.Email, r.GuestState, req.State, want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if accepted == 0 {
		t.Errorf("examples/guests.csv has no guest who had accepted: the check above proves nothing")
	}

	// Every directory write is in the audit log: intent before, outcome
	// after, the outcome with the service's request id.
	intents, outcomes := 0, 0
	err = w.store.InTx(context.Background(), func(tx store.Tx) error {
		return tx.AuditLog(context.Background(), store.AuditFilter{RunID: run.ID}, func(e store.AuditEntry) error {
			switch e.Kind {
			case store.AuditIntent:
				intents++
			case store.AuditOutcome:
				outcomes++
				if e.GraphID == "" && e.Error == "" {
					t.Errorf("audit outcome %q for %s has no request id", e.Op, e.Target)
				}
			}
			return nil
		})
	})
	if err != nil || intents == 0 || intents != outcomes {
		t.Errorf("audit: %d intents, %d outcomes, %v", intents, outcomes, err)
	}

	// The same file again: nobody is invited twice, nothing changes.
	again := w.apply(t, csv, "digest-2")
	if again.Summary.Actions[foyer.ActionInvite] != 0 || again.Summary.Results[foyer.ResultInvited] != 0 {
		t.Errorf("second run planned or made invitations: %+v", again.Summary)
	}
	if got := w.sim.Stats().InvitationsByEmail; len(got) != len(stats.InvitationsByEmail) {
		t.Errorf("second run invited new addresses: %v", got)
	}
	for email, n := range w.sim.Stats().InvitationsByEmail {
		if n != 1 {
			t.Errorf("after the second run, %s was invited %d times", email, n)
		}
	}
}

func runRows(t *testing.T, s store.Store, runID string) []foyer.Row {
	t.Helper()
	var rows []foyer.Row
	err := s.InTx(context.Background(), func(tx store.Tx) error {
		return tx.RunRows(context.Background(), runID, 0, func(r foyer.Row) error {
			rows = append(rows, r)
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestApplyRecordingCutOff: a plan whose recording stops half way (the
// input could not be read to its end) leaves a run that is not sealed.
// Nothing of it runs, it is not resumed, and the next apply of the same
// input deletes it and records the plan whole.
func TestApplyRecordingCutOff(t *testing.T) {
	t.Parallel()
	w := newWorld(t, sim.Options{})
	ctx := context.Background()
	rows := w.plan(t, guestsCSV(t))
	// Enough skipped rows in front that some batches are recorded before
	// the plan fails.
	var long []foyer.Row
	for i := range 2500 {
		long = append(long, foyer.Row{Line: i + 2, Raw: "x", Action: foyer.ActionInvalid, Reason: "filler"})
	}
	for _, r := range rows {
		r.Line += 2500
		long = append(long, r)
	}
	cut := errors.New("the input stopped")
	if err := w.eng.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer w.eng.Stop(ctx)
	_, err := w.eng.Apply(ctx, engine.ApplyInput{Profile: "partners", Source: "test.csv", Digest: "d",
		Plan: func(ctx context.Context, emit func(foyer.Row) error) error {
			for _, r := range long[:2200] {
				if err := emit(r); err != nil {
					return err
				}
			}
			return cut
		}})
	if !errors.Is(err, cut) {
		t.Fatalf("Apply with a plan that fails: %v, want the plan's error", err)
	}
	var cutID string
	err = w.store.InTx(ctx, func(tx store.Tx) error {
		r, err := tx.OpenRun(ctx, foyer.RunApply, "partners", "d")
		if err != nil {
			return err
		}
		if !r.SealedAt.IsZero() || r.Summary.Rows == 0 {
			t.Errorf("the cut run: sealed %v with %d rows recorded; want some rows, not sealed", r.SealedAt, r.Summary.Rows)
		}
		cutID = r.ID
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if open, err := w.eng.Resumable(ctx, foyer.RunApply, "partners", "d"); err != nil || open != nil {
		t.Fatalf("Resumable = %v, %v; want no run to resume", open, err)
	}
	if n := len(w.sim.Stats().InvitationsByEmail); n != 0 {
		t.Fatalf("the cut run invited %d addresses, want none", n)
	}

	run, err := w.eng.Apply(ctx, engine.ApplyInput{Profile: "partners", Source: "test.csv", Digest: "d",
		Plan: planOf(long)})
	if err != nil {
		t.Fatal(err)
	}
	if run.ID == cutID || run.Summary.Rows != len(long) || run.Summary.Results[foyer.ResultInvited] != run.Summary.Actions[foyer.ActionInvite] {
		t.Errorf("the second apply: run %s (cut run %s), summary %+v; want a new run of %d rows, every invite invited",
			run.ID, cutID, run.Summary, len(long))
	}
	err = w.store.InTx(ctx, func(tx store.Tx) error {
		_, err := tx.Run(ctx, cutID)
		if foyer.ErrorCode(err) != foyer.ENOTFOUND {
			t.Errorf("the cut run after the second apply: %v, want it deleted", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
