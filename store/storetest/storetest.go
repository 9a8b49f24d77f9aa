// Package storetest is the conformance suite of the ledger: every backend of
// package store (store/sqlite, store/postgres) runs it from its own tests
// with Run, and passes it; RunOpen checks what opening a database promises
// (concurrent migration, reopening). It also holds the benchmark the
// engine's cost per row is read from (Benchmark, Benchmarks).
//
// The suite is split by promise: runs and rows, requests and their states,
// steps, guests, grants, the audit log, leases, transactions, the queue,
// the request page's and the API's records (links, decisions, API keys,
// idempotency keys), the paged guest list, the tallies /metrics reads
// and the extensions of guests' access,
// and the delta query's tokens.
// Each subtest gets a fresh, empty store from the factory it is given.
//
// Only backends' tests import this package.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/store"
)

// Execer runs a statement on the store's database outside of the ledger's
// methods. The suite uses it to check promises the database itself keeps
// (the audit log refusing UPDATE and DELETE), so the stores Run is given
// must implement it; backends do that in a wrapper in their tests.
type Execer interface {
	ExecSQL(ctx context.Context, query string) error
}

// Clock is a foyer.Clock that moves forward by a millisecond each time it is
// read, so that two readings are never equal. Give one to each store the
// suite opens: the suite checks that a transaction reads it once.
type Clock struct {
	start time.Time
	ticks atomic.Int64
}

// NewClock returns a Clock whose first reading is start.
func NewClock(start time.Time) *Clock { return &Clock{start: start.UTC()} }

// Now returns the next instant.
func (c *Clock) Now() time.Time {
	return c.start.Add(time.Duration(c.ticks.Add(1)-1) * time.Millisecond)
}

// Logger returns a logger that writes warnings and errors to tb's output,
// for the stores a backend's tests open.
func Logger(tb testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tb.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// Run runs the whole suite. open returns a fresh, empty store and arranges
// (with t.Cleanup) for it to be closed when t ends; it should use a Clock.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	groups := []struct {
		name  string
		cases []testCase
	}{
		{"Runs", runsCases},
		{"Requests", requestsCases},
		{"Steps", stepsCases},
		{"Guests", guestsCases},
		{"Grants", grantsCases},
		{"Audit", auditCases},
		{"Leases", leasesCases},
		{"Tx", txCases},
		{"Queue", queueCases},
		{"Jobs", jobsCases},
		{"Intake", intakeCases},
		{"GuestList", guestListCases},
		{"Tally", tallyCases},
		{"TriggerItems", triggerItemsCases},
		{"Budgets", budgetsCases},
		{"Extensions", extensionsCases},
		{"DeltaTokens", deltaTokensCases},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			for _, c := range g.cases {
				t.Run(c.name, func(t *testing.T) {
					t.Parallel()
					c.fn(t, open(t))
				})
			}
		})
	}
}

type testCase struct {
	name string
	fn   func(t *testing.T, s store.Store)
}

// timeout bounds every wait of the suite.
const timeout = 60 * time.Second

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	t.Cleanup(cancel)
	return ctx
}

// inTx runs fn in a transaction and fails the test if it returns an error.
func inTx(t *testing.T, s store.Store, fn func(ctx context.Context, tx store.Tx) error) {
	t.Helper()
	ctx := testContext(t)
	if err := s.InTx(ctx, func(tx store.Tx) error { return fn(ctx, tx) }); err != nil {
		t.Fatalf("transaction: %v", err)
	}
}

// wantCode fails the test unless err carries the foyer error code.
func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := foyer.ErrorCode(err); got != code {
		t.Errorf("%s: error %v has code %q, want %q", what, err, got, code)
	}
}

// must fails the test on err.
func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// errRollback makes InTx roll back on purpose.
var errRollback = errors.New("storetest: roll back")

// addr parses a test address.
func addr(t *testing.T, s string) foyer.Address {
	t.Helper()
	a, err := foyer.ParseAddress(s)
	must(t, "parse address "+s, err)
	return a
}

// newRequest returns a received request for the address and profile.
func newRequest(t *testing.T, id, email, profile string) *foyer.Request {
	t.Helper()
	return &foyer.Request{ID: id, Origin: foyer.OriginCSV, Email: addr(t, email), Profile: profile,
		DisplayName: "Name of " + id, State: foyer.StateReceived}
}

// createRequests creates requests in one transaction.
func createRequests(t *testing.T, s store.Store, rs ...*foyer.Request) {
	t.Helper()
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, r := range rs {
			if err := tx.CreateRequest(ctx, r); err != nil {
				return fmt.Errorf("create request %s: %w", r.ID, err)
			}
		}
		return nil
	})
}
