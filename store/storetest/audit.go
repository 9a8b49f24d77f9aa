package storetest

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/store"
)

var auditCases = []testCase{
	{"AppendAndFilter", testAuditAppend},
	{"AppendOnly", testAuditAppendOnly},
}

func auditLog(t *testing.T, s store.Store, f store.AuditFilter) []store.AuditEntry {
	t.Helper()
	var got []store.AuditEntry
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.AuditLog(ctx, f, func(e store.AuditEntry) error { got = append(got, e); return nil })
	})
	return got
}

func testAuditAppend(t *testing.T, s store.Store) {
	given := time.Date(2026, 2, 3, 4, 5, 6, 7000, time.UTC)
	entries := []store.AuditEntry{
		{Kind: store.AuditIntent, Actor: "cli:apply", RunID: "run-1", RequestID: "req-1", Op: "invite", Target: "ann@example.com"},
		{Kind: store.AuditOutcome, Actor: "worker", RunID: "run-1", RequestID: "req-1", Op: "invite", Target: "u-1",
			GraphID: "c0ffee", Detail: `{"new":true}`},
		{Kind: store.AuditChange, Actor: "sam@example.com", RequestID: "req-2", Op: "move received→approved", At: given},
		{Kind: store.AuditOutcome, Actor: "worker", RunID: "run-2", RequestID: "req-3", Op: "grant group:g", Error: "no such group"},
	}
	var now time.Time
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		now = tx.Now()
		for _, e := range entries[:2] {
			must(t, "AppendAudit", tx.AppendAudit(ctx, e))
		}
		return nil
	})
	for _, e := range entries[2:] {
		inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.AppendAudit(ctx, e) })
	}
	all := auditLog(t, s, store.AuditFilter{})
	if len(all) != len(entries) {
		t.Fatalf("AuditLog has %d entries, want %d: %+v", len(all), len(entries), all)
	}
	for i, e := range all {
		if i > 0 && e.Seq <= all[i-1].Seq {
			t.Errorf("entry %d has Seq %d after %d, want increasing", i, e.Seq, all[i-1].Seq)
		}
		want := entries[i]
		want.Seq = e.Seq
		if i < 2 {
			want.At = now
		}
		if i == 3 {
			want.At = e.At // its own transaction's time
		}
		if !reflect.DeepEqual(e, want) {
			t.Errorf("entry %d = %+v, want %+v", i, e, want)
		}
	}
	seqs := func(es []store.AuditEntry) string {
		var out []int64
		for _, e := range es {
			out = append(out, e.Seq)
		}
		return fmt.Sprint(out)
	}
	for _, c := range []struct {
		f    store.AuditFilter
		want []store.AuditEntry
	}{
		{store.AuditFilter{RunID: "run-1"}, all[:2]},
		{store.AuditFilter{RequestID: "req-2"}, all[2:3]},
		{store.AuditFilter{AfterSeq: all[1].Seq}, all[2:]},
		{store.AuditFilter{Limit: 3}, all[:3]},
		{store.AuditFilter{AfterSeq: all[0].Seq, Limit: 2}, all[1:3]},
		{store.AuditFilter{RunID: "run-1", RequestID: "req-3"}, nil},
		{store.AuditFilter{RunID: "run-1", Target: "u-1"}, all[1:2]},
		{store.AuditFilter{Target: "ann@example.com"}, all[:1]},
		{store.AuditFilter{Target: "ANN@example.com"}, nil},
		{store.AuditFilter{Op: "invite"}, all[:2]},
		{store.AuditFilter{RunID: "run-1", Op: "invite", Target: "ann@example.com"}, all[:1]},
		{store.AuditFilter{RunID: "run-2", Op: "invite"}, nil},
		{store.AuditFilter{Op: "grant group:g", Limit: 1}, all[3:]},
	} {
		if got := auditLog(t, s, c.f); seqs(got) != seqs(c.want) {
			t.Errorf("AuditLog(%+v) = entries %s, want %s", c.f, seqs(got), seqs(c.want))
		}
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		wantCode(t, "AppendAudit of an unknown kind", tx.AppendAudit(ctx, store.AuditEntry{Kind: "gossip", Op: "x"}), foyer.EINVALID)
		wantCode(t, "AppendAudit without op", tx.AppendAudit(ctx, store.AuditEntry{Kind: store.AuditChange}), foyer.EINVALID)
		err := tx.AuditLog(ctx, store.AuditFilter{Limit: -1}, func(store.AuditEntry) error { return nil })
		wantCode(t, "AuditLog with a negative limit", err, foyer.EINVALID)
		return nil
	})
}

// testAuditAppendOnly goes around the ledger's methods: the database itself
// must refuse to change or remove an audit entry.
func testAuditAppendOnly(t *testing.T, s store.Store) {
	x, ok := s.(Execer)
	if !ok {
		t.Fatalf("the store (%T) does not implement storetest.Execer, so the suite cannot check that the database refuses UPDATE and DELETE of audit entries", s)
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.AppendAudit(ctx, store.AuditEntry{Kind: store.AuditChange, Actor: "test", Op: "create"})
	})
	before := auditLog(t, s, store.AuditFilter{})
	ctx := testContext(t)
	for _, q := range []string{
		`UPDATE audit SET actor = 'mallory'`,
		`UPDATE audit SET op = 'nothing' WHERE seq = ` + fmt.Sprint(before[0].Seq),
		`DELETE FROM audit`,
		`DELETE FROM audit WHERE seq = ` + fmt.Sprint(before[0].Seq),
	} {
		if err := x.ExecSQL(ctx, q); err == nil {
			t.Errorf("%s: the database accepted it, want it refused", q)
		}
	}
	if after := auditLog(t, s, store.AuditFilter{}); !reflect.DeepEqual(after, before) {
		t.Errorf("after refused statements the audit log is %+v, want %+v", after, before)
	}
	// Appending still works after the refusals.
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.AppendAudit(ctx, store.AuditEntry{Kind: store.AuditChange, Actor: "test", Op: "again"})
	})
	if after := auditLog(t, s, store.AuditFilter{}); len(after) != 2 {
		t.Errorf("after one more append the audit log has %d entries, want 2", len(after))
	}
}
