package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/store"
	"github.com/foyer-dev/foyer/store/sqlite"
	"github.com/foyer-dev/foyer/store/storetest"
)

// testDB exposes the database to the conformance suite's raw checks.
type testDB struct{ *sqlite.DB }

func (d testDB) ExecSQL(ctx context.Context, query string) error {
	_, err := d.SQL().ExecContext(ctx, query)
	return err
}

func (d testDB) QueryIntSQL(ctx context.Context, query string) (n int64, err error) {
	err = d.SQL().QueryRowContext(ctx, query).Scan(&n)
	return n, err
}

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// template is a database file migrated once by TestMain; open copies it,
// so that each subtest skips the migrations (TestOpen and TestBusyRetried
// migrate from scratch).
var template string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "foyer-sqlite-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	template = filepath.Join(dir, "template.db")
	db, err := sqlite.Open(context.Background(), template, sqlite.Options{})
	if err == nil {
		_, err = db.SQL().Exec(`PRAGMA wal_checkpoint(TRUNCATE)`) // everything into the one file
		err = errors.Join(err, db.Close())
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "migrate the template database:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// open opens a fresh, migrated database file in a temporary directory.
func open(tb testing.TB) *sqlite.DB {
	tb.Helper()
	b, err := os.ReadFile(template)
	if err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(tb.TempDir(), "ledger.db")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		tb.Fatal(err)
	}
	return openPath(tb, path)
}

func openPath(tb testing.TB, path string) *sqlite.DB {
	tb.Helper()
	db, err := sqlite.Open(context.Background(), path, sqlite.Options{Clock: storetest.NewClock(epoch), Logger: storetest.Logger(tb)})
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return db
}

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) store.Store { return testDB{open(t)} })
}

// TestMemory checks that a :memory: database keeps what is written to it:
// it lives on the DB's one connection.
func TestMemory(t *testing.T) {
	t.Parallel()
	db := openPath(t, ":memory:")
	ctx := t.Context()
	for _, id := range []string{"run-1", "run-2"} {
		if err := db.InTx(ctx, func(tx store.Tx) error {
			return tx.CreateRun(ctx, &foyer.Run{ID: id, Kind: foyer.RunApply})
		}); err != nil {
			t.Fatal(err)
		}
	}
	var n int
	if err := db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM runs`).Scan(&n); err != nil || n != 2 {
		t.Errorf("runs in memory: %d, %v; want 2", n, err)
	}
}

// TestOpen: see storetest.RunOpen. Each database is a new file.
func TestOpen(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	storetest.RunOpen(t, len(files), func(t *testing.T) storetest.Opener {
		path := filepath.Join(t.TempDir(), "ledger.db")
		return func(ctx context.Context) (store.Store, error) {
			db, err := sqlite.Open(ctx, path, sqlite.Options{Logger: storetest.Logger(t)})
			if err != nil {
				return nil, err
			}
			return testDB{db}, nil
		}
	})
}

func TestOpenBadPath(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"", "  ", "ledger.db?mode=ro", "file:ledger.db", filepath.Join(t.TempDir(), "missing", "dir", "ledger.db")} {
		if db, err := sqlite.Open(t.Context(), path, sqlite.Options{}); err == nil {
			db.Close()
			t.Errorf("Open(%q) succeeded, want an error", path)
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

// retryLog tells when a DB logs that it retries a transaction.
type retryLog struct {
	slog.Handler
	retried chan struct{}
}

func (h retryLog) Handle(ctx context.Context, r slog.Record) error {
	if strings.Contains(r.Message, "retried") {
		select {
		case h.retried <- struct{}{}:
		default:
		}
	}
	return h.Handler.Handle(ctx, r)
}

// TestBusyRetried has a second process's worth of DB find the file locked
// past its busy timeout: InTx runs the transaction again and succeeds once
// the lock is gone.
func TestBusyRetried(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "ledger.db")
	holder := openPath(t, path)
	log := retryLog{Handler: storetest.Logger(t).Handler(), retried: make(chan struct{}, 1)}
	waiter, err := sqlite.Open(t.Context(), path, sqlite.Options{Logger: slog.New(log), BusyTimeout: 250 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer waiter.Close()

	locked, release := make(chan struct{}), make(chan struct{})
	held := make(chan error, 1)
	go func() {
		held <- holder.InTx(t.Context(), func(tx store.Tx) error {
			close(locked)
			<-release
			return tx.AppendAudit(t.Context(), store.AuditEntry{Kind: store.AuditChange, Op: "holder"})
		})
	}()
	<-locked
	done := make(chan error, 1)
	go func() {
		done <- waiter.InTx(t.Context(), func(tx store.Tx) error {
			return tx.AppendAudit(t.Context(), store.AuditEntry{Kind: store.AuditChange, Op: "waiter"})
		})
	}()
	select {
	case <-log.retried:
	case err := <-done:
		t.Fatalf("the waiter finished (%v) while the holder had the lock, want it to retry", err)
	case <-t.Context().Done():
		t.Fatal(t.Context().Err())
	}
	close(release)
	if err := <-held; err != nil {
		t.Fatalf("holder: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("the waiter's retried transaction: %v", err)
	}
}

// TestQueueOtherLedger refuses a transaction of another SQLite ledger: the
// job would land in a database the transaction does not cover.
func TestQueueOtherLedger(t *testing.T) {
	t.Parallel()
	one, other := open(t), open(t)
	q, err := one.Queue(nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	err = other.InTx(ctx, func(tx store.Tx) error {
		_, _, err := q.InsertTx(ctx, tx, storetestArgs{}, nil)
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "another ledger") {
		t.Errorf("InsertTx with another ledger's transaction: %v, want a refusal naming it", err)
	}
}

type storetestArgs struct{}

func (storetestArgs) Kind() string { return "sqlite_test" }

// TestNumberedParameters pins what package ledger's statements rely on:
// modernc.org/sqlite binds a parameter written $N to the Nth argument, as
// PostgreSQL does, in any order and however often it appears.
func TestNumberedParameters(t *testing.T) {
	t.Parallel()
	db := openPath(t, ":memory:")
	var got string
	if err := db.SQL().QueryRowContext(t.Context(), `SELECT $2 || $1 || $2 || $10`,
		"a", "b", 3, 4, 5, 6, 7, 8, 9, "j").Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != "babj" {
		t.Errorf("$2 || $1 || $2 || $10 = %q, want %q", got, "babj")
	}
}
