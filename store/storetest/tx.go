package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/store"
)

var txCases = []testCase{
	{"Rollback", testRollback},
	{"NowFixed", testNowFixed},
}

// testRollback writes to every aggregate in a transaction that fails: none
// of it may remain, and InTx returns fn's error.
func testRollback(t *testing.T, s store.Store) {
	ctx := testContext(t)
	err := s.InTx(ctx, func(tx store.Tx) error {
		must(t, "CreateRun", tx.CreateRun(ctx, newRun("run-1", "d")))
		must(t, "PutRunRows", tx.PutRunRows(ctx, "run-1", sampleRows()))
		must(t, "CreateRequest", tx.CreateRequest(ctx, newRequest(t, "req-1", "ann@example.com", "partners")))
		_, err := tx.StartStep(ctx, "req-1", "invite")
		must(t, "StartStep", err)
		must(t, "PutGuest", tx.PutGuest(ctx, &foyer.Guest{UserID: "u-1", Email: "ann@example.com"}))
		must(t, "RecordGrant", tx.RecordGrant(ctx, store.HeldGrant{UserID: "u-1", Profile: "partners", Key: "group:g"}))
		must(t, "AppendAudit", tx.AppendAudit(ctx, store.AuditEntry{Kind: store.AuditChange, Op: "create"}))
		_, err = tx.AcquireLease(ctx, "workers", "a", "", tx.Now().Add(time.Hour))
		must(t, "AcquireLease", err)
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("InTx returned %v, want fn's error", err)
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		_, err := tx.Run(ctx, "run-1")
		wantCode(t, "Run after rollback", err, foyer.ENOTFOUND)
		_, err = tx.Request(ctx, "req-1")
		wantCode(t, "Request after rollback", err, foyer.ENOTFOUND)
		_, err = tx.FindRequest(ctx, "partners", "ann@example.com")
		wantCode(t, "FindRequest after rollback", err, foyer.ENOTFOUND)
		_, err = tx.Guest(ctx, "u-1")
		wantCode(t, "Guest after rollback", err, foyer.ENOTFOUND)
		_, err = tx.GetLease(ctx, "workers")
		wantCode(t, "GetLease after rollback", err, foyer.ENOTFOUND)
		if h, err := tx.HeldGrants(ctx, "u-1"); err != nil || len(h) != 0 {
			t.Errorf("HeldGrants after rollback = %+v, %v; want none", h, err)
		}
		if st, err := tx.RequestSteps(ctx, "req-1"); err != nil || len(st) != 0 {
			t.Errorf("RequestSteps after rollback = %+v, %v; want none", st, err)
		}
		return nil
	})
	if log := auditLog(t, s, store.AuditFilter{}); len(log) != 0 {
		t.Errorf("audit log after rollback = %+v, want empty", log)
	}
	// The same ids are free again.
	createRequests(t, s, newRequest(t, "req-1", "ann@example.com", "partners"))
}

func testNowFixed(t *testing.T, s store.Store) {
	var first time.Time
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		first = tx.Now()
		if first.IsZero() || first.Location() != time.UTC || !first.Equal(first.Truncate(time.Microsecond)) {
			t.Errorf("Now() = %v, want a UTC time to the microsecond", first)
		}
		for range 3 {
			if now := tx.Now(); !now.Equal(first) {
				t.Errorf("Now() = %v, then %v in the same transaction; want it fixed", first, now)
			}
		}
		r := newRequest(t, "req-1", "ann@example.com", "partners")
		must(t, "CreateRequest", tx.CreateRequest(ctx, r))
		must(t, "MoveRequest", tx.MoveRequest(ctx, r, foyer.StateApproved, ""))
		if !r.CreatedAt.Equal(first) || !r.UpdatedAt.Equal(first) {
			t.Errorf("rows written in the transaction carry %v and %v, want Now() %v", r.CreatedAt, r.UpdatedAt, first)
		}
		return nil
	})
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		if !tx.Now().After(first) {
			t.Errorf("a later transaction's Now() %v is not after %v; open the store with a storetest.Clock", tx.Now(), first)
		}
		h, err := tx.History(ctx, "req-1")
		must(t, "History", err)
		for _, tr := range h {
			if !tr.At.Equal(first) {
				t.Errorf("transition %s→%s at %v, want the transaction's %v", tr.From, tr.To, tr.At, first)
			}
		}
		return nil
	})
}
