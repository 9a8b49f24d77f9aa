package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/store"
	"github.com/foyer-dev/foyer/store/postgres"
	"github.com/foyer-dev/foyer/store/storetest"
)

// testDB exposes the database to the conformance suite's raw checks.
type testDB struct{ *postgres.DB }

func (d testDB) ExecSQL(ctx context.Context, query string) error {
	_, err := d.Pool().Exec(ctx, query)
	return err
}

func (d testDB) QueryIntSQL(ctx context.Context, query string) (n int64, err error) {
	err = d.Pool().QueryRow(ctx, query).Scan(&n)
	return n, err
}

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// rawDSN returns FOYER_TEST_POSTGRES, or skips the test.
func rawDSN(tb testing.TB) string {
	tb.Helper()
	s := os.Getenv("FOYER_TEST_POSTGRES")
	if s == "" {
		tb.Skip("FOYER_TEST_POSTGRES is not set: set it to a PostgreSQL database the tests may create schemas in " +
			"(e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable), or run scripts/test, which does")
	}
	return s
}

// dsn returns the test database's connection string for a pool. The pool
// is kept small: every subtest has its own.
func dsn(tb testing.TB) string {
	tb.Helper()
	u, err := url.Parse(rawDSN(tb))
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		tb.Fatalf("FOYER_TEST_POSTGRES must be a postgres:// URL")
	}
	q := u.Query()
	if q.Get("pool_max_conns") == "" {
		q.Set("pool_max_conns", "4")
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// newSchema returns a fresh schema name and drops the schema when tb ends
// (after the DB using it is closed: cleanups run last-registered first).
func newSchema(tb testing.TB) string {
	tb.Helper()
	rawDSN(tb) // skips here, on the test's goroutine, if there is no database
	b := make([]byte, 6)
	rand.Read(b)
	schema := "foyer_test_" + hex.EncodeToString(b)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, rawDSN(tb))
		if err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+schema+` CASCADE`); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return schema
}

// open opens a ledger in a fresh schema.
func open(tb testing.TB) *postgres.DB {
	tb.Helper()
	return openSchema(tb, newSchema(tb))
}

func openSchema(tb testing.TB, schema string) *postgres.DB {
	tb.Helper()
	db, err := postgres.Open(context.Background(), dsn(tb), postgres.Options{
		Clock: storetest.NewClock(epoch), Logger: storetest.Logger(tb), Schema: schema})
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func TestConformance(t *testing.T) {
	t.Parallel()
	dsn(t)
	storetest.Run(t, func(t *testing.T) store.Store { return testDB{open(t)} })
}

// TestOpen: see storetest.RunOpen. Each database is a new schema.
func TestOpen(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	storetest.RunOpen(t, len(files), func(t *testing.T) storetest.Opener {
		schema, pgURL := newSchema(t), dsn(t)
		return func(ctx context.Context) (store.Store, error) {
			db, err := postgres.Open(ctx, pgURL, postgres.Options{Logger: storetest.Logger(t), Schema: schema})
			if err != nil {
				return nil, err
			}
			return testDB{db}, nil
		}
	})
}

func TestOpenBadOptions(t *testing.T) {
	t.Parallel()
	good := dsn(t)
	for _, c := range []struct {
		dsn, schema string
	}{
		{"postgres://postgres:s3cret@[::1", ""},
		{good, "Public"},
		{good, "a-b"},
		{good, "x; DROP TABLE audit"},
		{strings.Replace(good, "pool_max_conns=4", "pool_max_conns=1", 1), ""},
	} {
		db, err := postgres.Open(t.Context(), c.dsn, postgres.Options{Schema: c.schema})
		if err == nil {
			db.Close()
			t.Errorf("Open(%q, schema %q) succeeded, want an error", c.dsn, c.schema)
			continue
		}
		if foyer.ErrorCode(err) != foyer.EINVALID {
			t.Errorf("Open(%q, schema %q): %v, want EINVALID", c.dsn, c.schema, err)
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("the error %q shows the password", err)
		}
	}
}

// BenchmarkCreateWithJobs: see storetest.Benchmark and docs/ledger.md.
func BenchmarkCreateWithJobs(b *testing.B) {
	storetest.Benchmarks(b, func(b *testing.B) store.Store { return open(b) })
}

// BenchmarkGuestList: see storetest.GuestListBenchmarks.
func BenchmarkGuestList(b *testing.B) {
	storetest.GuestListBenchmarks(b, func(b *testing.B) store.Store { return open(b) })
}

// TestAuditTruncateRefused covers what the suite cannot ask of every
// backend: SQLite has no TRUNCATE.
func TestAuditTruncateRefused(t *testing.T) {
	t.Parallel()
	db := open(t)
	ctx := t.Context()
	err := db.InTx(ctx, func(tx store.Tx) error {
		return tx.AppendAudit(ctx, store.AuditEntry{Kind: store.AuditChange, Op: "keep me"})
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool().Exec(ctx, `TRUNCATE audit`); err == nil {
		t.Errorf("TRUNCATE audit succeeded, want it refused")
	}
	var n int
	if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM audit`).Scan(&n); err != nil || n != 1 {
		t.Errorf("audit has %d entries (%v), want 1", n, err)
	}
}

// TestDeadlockRetried has two transactions write two guests in opposite
// orders. PostgreSQL breaks the deadlock by failing one of them (after its
// deadlock_timeout, 1s by default); InTx runs that one again and both
// succeed.
func TestDeadlockRetried(t *testing.T) {
	t.Parallel()
	db := open(t)
	ctx := t.Context()
	var (
		attempts [2]atomic.Int32
		first    sync.WaitGroup // both have written their first guest
		errs     [2]error
		wg       sync.WaitGroup
	)
	first.Add(2)
	order := [2][2]string{{"u-1", "u-2"}, {"u-2", "u-1"}}
	for i := range 2 {
		wg.Go(func() {
			errs[i] = db.InTx(ctx, func(tx store.Tx) error {
				n := attempts[i].Add(1)
				put := func(id string) error {
					return tx.PutGuest(ctx, &foyer.Guest{UserID: id, Email: foyer.Address(id + "@example.com"), DisplayName: fmt.Sprint("by ", i)})
				}
				if err := put(order[i][0]); err != nil {
					return err
				}
				if n == 1 {
					first.Done()
					first.Wait()
				}
				return put(order[i][1])
			})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("transaction %d: %v", i, err)
		}
	}
	// At least one retry. A retried transaction can take the first row
	// back before the survivor, waking, locks it, and deadlock with it
	// again: more retries are the same promise kept.
	if total := attempts[0].Load() + attempts[1].Load(); total < 3 {
		t.Errorf("the two transactions ran %d times in all, want 3 or more (one retried after the deadlock)", total)
	}
}
