package storetest

import (
	"context"
	"testing"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/store"
)

var triggerItemsCases = []testCase{
	{"a version moves from seen to applied, then stays", testTriggerItemLife},
	{"versions and triggers are apart", testTriggerItemVersions},
	{"refused without its keys", testTriggerItemInvalid},
}

// testTriggerItemLife: a version recorded as seen moves to applied once;
// applied, it stays applied whatever is put after.
func testTriggerItemLife(t *testing.T, s store.Store) {
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		_, err := tx.TriggerItem(ctx, "drops", "c/a.csv", "v1")
		wantCode(t, "TriggerItem before any record", err, foyer.ENOTFOUND)
		must(t, "put seen", tx.PutTriggerItem(ctx, store.TriggerItem{Trigger: "drops", Item: "c/a.csv", Version: "v1", State: store.ItemSeen}))
		it, err := tx.TriggerItem(ctx, "drops", "c/a.csv", "v1")
		must(t, "TriggerItem seen", err)
		if it.State != store.ItemSeen || !it.SeenAt.Equal(tx.Now()) || !it.DoneAt.IsZero() || it.RunID != "" {
			t.Errorf("seen item = %+v, want seen at %v, not done", it, tx.Now())
		}
		// Seen again: still seen, first sighting kept.
		must(t, "put seen again", tx.PutTriggerItem(ctx, store.TriggerItem{Trigger: "drops", Item: "c/a.csv", Version: "v1", State: store.ItemSeen}))
		return nil
	})
	var first store.TriggerItem
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		var err error
		first, err = tx.TriggerItem(ctx, "drops", "c/a.csv", "v1")
		must(t, "TriggerItem", err)
		must(t, "put applied", tx.PutTriggerItem(ctx, store.TriggerItem{Trigger: "drops", Item: "c/a.csv", Version: "v1", State: store.ItemApplied, RunID: "run-1"}))
		it, err := tx.TriggerItem(ctx, "drops", "c/a.csv", "v1")
		must(t, "TriggerItem applied", err)
		if it.State != store.ItemApplied || it.RunID != "run-1" || !it.SeenAt.Equal(first.SeenAt) || !it.DoneAt.Equal(tx.Now()) {
			t.Errorf("applied item = %+v, want applied by run-1, seen at %v, done at %v", it, first.SeenAt, tx.Now())
		}
		// Final: neither seen nor failed moves it back.
		must(t, "put seen after applied", tx.PutTriggerItem(ctx, store.TriggerItem{Trigger: "drops", Item: "c/a.csv", Version: "v1", State: store.ItemSeen}))
		must(t, "put failed after applied", tx.PutTriggerItem(ctx, store.TriggerItem{Trigger: "drops", Item: "c/a.csv", Version: "v1", State: store.ItemFailed, Detail: "no"}))
		it, err = tx.TriggerItem(ctx, "drops", "c/a.csv", "v1")
		must(t, "TriggerItem after", err)
		if it.State != store.ItemApplied || it.RunID != "run-1" || it.Detail != "" {
			t.Errorf("item after later puts = %+v, want still applied by run-1", it)
		}
		return nil
	})
}

// testTriggerItemVersions: each (trigger, item, version) is its own
// record; a failure is recorded with its reason at once.
func testTriggerItemVersions(t *testing.T, s store.Store) {
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		must(t, "put v1 applied", tx.PutTriggerItem(ctx, store.TriggerItem{Trigger: "drops", Item: "c/a.csv", Version: "v1", State: store.ItemApplied, RunID: "run-1"}))
		must(t, "put v2 failed", tx.PutTriggerItem(ctx, store.TriggerItem{Trigger: "drops", Item: "c/a.csv", Version: "v2", State: store.ItemFailed, Detail: "not a CSV"}))
		v2, err := tx.TriggerItem(ctx, "drops", "c/a.csv", "v2")
		must(t, "TriggerItem v2", err)
		if v2.State != store.ItemFailed || v2.Detail != "not a CSV" || v2.RunID != "" || v2.DoneAt.IsZero() {
			t.Errorf("v2 = %+v, want failed with its reason", v2)
		}
		_, err = tx.TriggerItem(ctx, "other", "c/a.csv", "v1")
		wantCode(t, "TriggerItem of another trigger", err, foyer.ENOTFOUND)
		_, err = tx.TriggerItem(ctx, "drops", "c/b.csv", "v1")
		wantCode(t, "TriggerItem of another item", err, foyer.ENOTFOUND)
		return nil
	})
}

func testTriggerItemInvalid(t *testing.T, s store.Store) {
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		wantCode(t, "no trigger", tx.PutTriggerItem(ctx, store.TriggerItem{Item: "a", State: store.ItemSeen}), foyer.EINVALID)
		wantCode(t, "no item", tx.PutTriggerItem(ctx, store.TriggerItem{Trigger: "a", State: store.ItemSeen}), foyer.EINVALID)
		wantCode(t, "bad state", tx.PutTriggerItem(ctx, store.TriggerItem{Trigger: "a", Item: "b", State: "done"}), foyer.EINVALID)
		return nil
	})
}
