package engine

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/store"
	"github.com/foyer-dev/foyer/store/sqlite"
)

// countingStore counts the audit entries its transactions hand out.
type countingStore struct {
	store.Store
	read atomic.Int64
}

func (s *countingStore) InTx(ctx context.Context, fn func(store.Tx) error) error {
	return s.Store.InTx(ctx, func(tx store.Tx) error { return fn(countingTx{tx, &s.read}) })
}

type countingTx struct {
	store.Tx
	read *atomic.Int64
}

func (t countingTx) AuditLog(ctx context.Context, f store.AuditFilter, fn func(store.AuditEntry) error) error {
	return t.Tx.AuditLog(ctx, f, func(e store.AuditEntry) error {
		t.read.Add(1)
		return fn(e)
	})
}

// TestSweepJobReadsIndependentOfRunSize: what one sweep job reads of its
// own run's audit entries is the same for a run of 10 rows and one of
// 1,000, each row with its intent and outcome written: the job's guest's
// entries of its operation, not the run's (docs/benchmarks.md).
func TestSweepJobReadsIndependentOfRunSize(t *testing.T) {
	t.Parallel()
	reads := map[int]int64{}
	for _, n := range []int{10, 1000} {
		reads[n] = sweepJobReads(t, n)
	}
	if reads[10] != reads[1000] || reads[10] != 2 {
		t.Fatalf("audit entries one job reads: %v; want 2 (its intent and outcome) whatever the run's size", reads)
	}
}

// sweepJobReads returns how many audit entries the job of the middle row
// of a sweep of n rows reads of its run.
func sweepJobReads(t *testing.T, n int) int64 {
	t.Helper()
	ctx := context.Background()
	e, cs, a := sweptRun(t, n)
	before := cs.read.Load()
	st, err := e.sweepState(ctx, a, opSweepDisable)
	if err != nil {
		t.Fatal(err)
	}
	if !st.attempted || !st.done {
		t.Fatalf("run of %d: state %+v, want the intent and the outcome read", n, st)
	}
	return cs.read.Load() - before
}

// BenchmarkSweepJobRead times what one sweep job reads of its run before
// it writes, for runs of 10 and 1,000 rows (docs/benchmarks.md).
func BenchmarkSweepJobRead(b *testing.B) {
	for _, n := range []int{10, 1000} {
		b.Run(fmt.Sprintf("rows=%d", n), func(b *testing.B) {
			e, _, a := sweptRun(b, n)
			ctx := context.Background()
			for b.Loop() {
				if _, err := e.sweepState(ctx, a, opSweepDisable); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// sweptRun records a sweep of n disables on a fresh SQLite ledger, writes
// each row's intent, outcome and a "sweep left" entry, reads the earlier
// sweeps' history once (a run keeps it), and returns the engine, its
// counting store and the middle row's job.
func sweptRun(t testing.TB, n int) (*Engine, *countingStore, SweepArgs) {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	clock := foyer.ClockFunc(func() time.Time { return now })
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "ledger.db"), sqlite.Options{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	cs := &countingStore{Store: db}
	var ids atomic.Int64
	e := &Engine{Store: cs, Clock: clock, NewID: func() string { return fmt.Sprintf("run-%d", ids.Add(1)) }, TenantName: "default"}
	p := &foyer.SweepPlan{Guests: n}
	for i := range n {
		p.Actions = append(p.Actions, foyer.SweepDecision{Action: foyer.SweepDisable, Reason: "stale",
			Guest: foyer.GuestActivity{ID: fmt.Sprintf("0000%04d-0000-0000-0000-000000000000", i), Mail: fmt.Sprintf("g%d@partner.example", i)}})
	}
	run, err := e.RecordSweep(ctx, "default", p, nil, "test")
	if err != nil {
		t.Fatal(err)
	}
	err = db.InTx(ctx, func(tx store.Tx) error {
		for _, d := range p.Actions {
			for _, k := range []store.AuditKind{store.AuditIntent, store.AuditOutcome} {
				if err := tx.AppendAudit(ctx, store.AuditEntry{Kind: k, Actor: "test", RunID: run.ID, Op: opSweepDisable, Target: d.Guest.ID}); err != nil {
					return err
				}
			}
			if err := tx.AppendAudit(ctx, store.AuditEntry{Kind: store.AuditChange, Actor: "test", RunID: run.ID, Op: opSweepLeft, Target: d.Guest.ID}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	a := SweepArgs{RunID: run.ID, Tenant: "default", UserID: p.Actions[n/2].Guest.ID, Action: foyer.ActionDisable}
	if _, err := e.historyBefore(ctx, a.Tenant, a.RunID); err != nil {
		t.Fatal(err)
	}
	return e, cs, a
}
