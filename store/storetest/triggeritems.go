package storetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/store"
)

var triggerItemsCases = []testCase{
	{"a version moves from seen to applied, then stays", testTriggerItemLife},
	{"versions and triggers are apart", testTriggerItemVersions},
	{"refused without its keys", testTriggerItemInvalid},
	{"listed newest first, by trigger and state, in pages", testTriggerItemList},
	{"a listing longer than a page of the ledger's", testTriggerItemListLong},
	{"prune deletes only superseded seen versions", testTriggerItemPrune},
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

// listItems lists the records f selects as "trigger item version state"
// strings, in the listing's order.
func listItems(t *testing.T, s store.Store, f store.TriggerItemFilter) []string {
	t.Helper()
	var got []string
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		got = nil // a retried transaction lists again
		return tx.ListTriggerItems(ctx, f, func(it store.TriggerItem) error {
			got = append(got, strings.Join([]string{it.Trigger, it.Item, it.Version, string(it.State)}, " "))
			return nil
		})
	})
	return got
}

func putItems(t *testing.T, s store.Store, items ...store.TriggerItem) time.Time {
	t.Helper()
	var now time.Time
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		now = tx.Now()
		for _, it := range items {
			must(t, "put "+it.Item, tx.PutTriggerItem(ctx, it))
		}
		return nil
	})
	return now
}

// testTriggerItemList: records are listed newest first (those of one
// transaction by trigger, item and version, descending), filtered by
// trigger and states, and a listing continues after a record.
func testTriggerItemList(t *testing.T, s store.Store) {
	putItems(t, s, store.TriggerItem{Trigger: "drops", Item: "c/a.csv", Version: "v1", State: store.ItemSeen})
	putItems(t, s,
		store.TriggerItem{Trigger: "drops", Item: "c/a.csv", Version: "v2", State: store.ItemApplied, RunID: "run-2"},
		store.TriggerItem{Trigger: "drops", Item: "c/b.csv", Version: "v1", State: store.ItemFailed, Detail: "not a CSV"},
		store.TriggerItem{Trigger: "other", Item: "x.csv", Version: "v1", State: store.ItemApplied, RunID: "run-3"})
	putItems(t, s, store.TriggerItem{Trigger: "watch", Item: "/in/z.csv", Version: "9@1", State: store.ItemSeen})
	all := []string{
		"watch /in/z.csv 9@1 seen",
		"other x.csv v1 applied",
		"drops c/b.csv v1 failed",
		"drops c/a.csv v2 applied",
		"drops c/a.csv v1 seen",
	}
	tests := []struct {
		name string
		f    store.TriggerItemFilter
		want []string
	}{
		{"all", store.TriggerItemFilter{}, all},
		{"one trigger", store.TriggerItemFilter{Trigger: "drops"}, all[2:]},
		{"failed", store.TriggerItemFilter{States: []store.TriggerItemState{store.ItemFailed}}, all[2:3]},
		{"seen or failed", store.TriggerItemFilter{States: []store.TriggerItemState{store.ItemSeen, store.ItemFailed}},
			[]string{all[0], all[2], all[4]}},
		{"one trigger's applied", store.TriggerItemFilter{Trigger: "drops", States: []store.TriggerItemState{store.ItemApplied}}, all[3:4]},
		{"no such trigger", store.TriggerItemFilter{Trigger: "nope"}, nil},
		{"limit", store.TriggerItemFilter{Limit: 2}, all[:2]},
	}
	for _, tt := range tests {
		if got := listItems(t, s, tt.f); !slices.Equal(got, tt.want) {
			t.Errorf("%s: listed\n%s\nwant\n%s", tt.name, strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
		}
	}

	// Page by page, one at a time, each continuing after the last: the
	// same records in the same order, none twice.
	var paged []string
	var after *store.TriggerItem
	for range len(all) + 1 {
		var page []store.TriggerItem
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			page = nil
			return tx.ListTriggerItems(ctx, store.TriggerItemFilter{After: after, Limit: 1}, func(it store.TriggerItem) error {
				page = append(page, it)
				return nil
			})
		})
		if len(page) == 0 {
			break
		}
		it := page[0]
		paged = append(paged, strings.Join([]string{it.Trigger, it.Item, it.Version, string(it.State)}, " "))
		after = &it
	}
	if !slices.Equal(paged, all) {
		t.Errorf("paged one at a time:\n%s\nwant\n%s", strings.Join(paged, "\n"), strings.Join(all, "\n"))
	}

	// What a record holds comes back whole.
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.ListTriggerItems(ctx, store.TriggerItemFilter{States: []store.TriggerItemState{store.ItemFailed}}, func(it store.TriggerItem) error {
			want, err := tx.TriggerItem(ctx, it.Trigger, it.Item, it.Version)
			must(t, "TriggerItem", err)
			if it != want || it.Detail != "not a CSV" || it.DoneAt.IsZero() {
				t.Errorf("listed %+v, want %+v with its reason", it, want)
			}
			return nil
		})
	})

	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		nop := func(store.TriggerItem) error { return nil }
		wantCode(t, "negative limit", tx.ListTriggerItems(ctx, store.TriggerItemFilter{Limit: -1}, nop), foyer.EINVALID)
		wantCode(t, "unknown state", tx.ListTriggerItems(ctx, store.TriggerItemFilter{States: []store.TriggerItemState{"done"}}, nop), foyer.EINVALID)
		return nil
	})
}

// testTriggerItemListLong: a listing longer than the ledger reads at a
// time, of records all seen at the same instant, gives each record once,
// in order.
func testTriggerItemListLong(t *testing.T, s store.Store) {
	const n = 1203
	items := make([]store.TriggerItem, n)
	want := make([]string, n)
	for i := range items {
		items[i] = store.TriggerItem{Trigger: "drops", Item: fmt.Sprintf("c/%04d.csv", i), Version: "v1", State: store.ItemSeen}
		want[n-1-i] = fmt.Sprintf("drops c/%04d.csv v1 seen", i)
	}
	putItems(t, s, items...)
	if got := listItems(t, s, store.TriggerItemFilter{}); !slices.Equal(got, want) {
		t.Errorf("listed %d records (first %q), want %d", len(got), got[:min(1, len(got))], n)
	}
	if got := listItems(t, s, store.TriggerItemFilter{Limit: 701}); !slices.Equal(got, want[:701]) {
		t.Errorf("listed %d records with limit 701, want the first 701", len(got))
	}
}

// testTriggerItemPrune: prune deletes a seen version only when a later
// version of the same trigger's item is recorded and it was seen before
// the time given; applied and failed versions, and the latest version
// of an item, stay.
func testTriggerItemPrune(t *testing.T, s store.Store) {
	t1 := putItems(t, s,
		store.TriggerItem{Trigger: "drops", Item: "a.csv", Version: "v1", State: store.ItemSeen},
		store.TriggerItem{Trigger: "drops", Item: "b.csv", Version: "v1", State: store.ItemApplied, RunID: "run-1"},
		store.TriggerItem{Trigger: "drops", Item: "c.csv", Version: "v1", State: store.ItemFailed, Detail: "not a CSV"},
		store.TriggerItem{Trigger: "drops", Item: "d.csv", Version: "v1", State: store.ItemSeen},
		store.TriggerItem{Trigger: "other", Item: "a.csv", Version: "v1", State: store.ItemSeen})
	t2 := putItems(t, s,
		store.TriggerItem{Trigger: "drops", Item: "a.csv", Version: "v2", State: store.ItemSeen},
		store.TriggerItem{Trigger: "drops", Item: "b.csv", Version: "v2", State: store.ItemSeen},
		store.TriggerItem{Trigger: "drops", Item: "c.csv", Version: "v2", State: store.ItemApplied, RunID: "run-2"})
	t3 := putItems(t, s, store.TriggerItem{Trigger: "drops", Item: "a.csv", Version: "v3", State: store.ItemSeen})
	prune := func(before time.Time) int {
		var n int
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			var err error
			n, err = tx.PruneSeenTriggerItems(ctx, before)
			return err
		})
		return n
	}
	steps := []struct {
		before time.Time
		want   int
	}{
		{t1, 0},                     // nothing seen before the first records
		{t2, 1},                     // a.csv v1: v2 came later
		{t3, 1},                     // a.csv v2: v3 came later
		{t3.Add(24 * time.Hour), 0}, // the rest is applied, failed or the latest
	}
	for _, st := range steps {
		if got := prune(st.before); got != st.want {
			t.Errorf("prune before %v: deleted %d, want %d", st.before, got, st.want)
		}
	}
	want := []string{
		"drops a.csv v3 seen",
		"drops c.csv v2 applied",
		"drops b.csv v2 seen",
		"other a.csv v1 seen",
		"drops d.csv v1 seen",
		"drops c.csv v1 failed",
		"drops b.csv v1 applied",
	}
	if got := listItems(t, s, store.TriggerItemFilter{}); !slices.Equal(got, want) {
		t.Errorf("after pruning:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
