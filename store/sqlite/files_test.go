package sqlite_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/foyer-dev/foyer/store"
	"github.com/foyer-dev/foyer/store/sqlite"
)

// TestLedgerFilesArePrivate: a new ledger and the WAL and shared-memory
// files beside it are readable by their owner only, whatever the umask; a
// ledger that exists with looser permissions is opened with a warning that
// says how to fix it.
func TestLedgerFilesArePrivate(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("file modes are Unix permissions")
	}
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "ledger.db")
	ctx := context.Background()
	db, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// A write, so that the WAL and its index exist.
	if err := db.InTx(ctx, func(tx store.Tx) error { return tx.ClearBlock(ctx, "none") }); err == nil {
		t.Fatal("ClearBlock of a tenant not blocked succeeded")
	}
	if err := db.InTx(ctx, func(tx store.Tx) error { return tx.PutBlock(ctx, store.Block{Tenant: "t"}) }); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"ledger.db", "ledger.db-wal", "ledger.db-shm"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if perm := fi.Mode().Perm(); perm != 0o600 {
			t.Errorf("%s has mode %04o, want 0600", name, perm)
		}
	}
	db.Close()

	loose := filepath.Join(dir, "loose.db")
	if err := os.WriteFile(loose, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(loose, 0o644); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	db, err = sqlite.Open(ctx, loose, sqlite.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if out := logs.String(); !strings.Contains(out, "chmod 600 "+loose) || !strings.Contains(out, "level=WARN") {
		t.Errorf("opening a 0644 ledger logged %q, want a warning with the fix", out)
	}
}
