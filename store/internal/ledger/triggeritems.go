package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/store"
)

var _ store.TriggerItems = (*Tx)(nil)

func (t *Tx) PutTriggerItem(ctx context.Context, it store.TriggerItem) error {
	switch {
	case it.Trigger == "" || it.Item == "":
		return foyer.Errorf(foyer.EINVALID, "a trigger item needs its trigger and its item")
	case it.State != store.ItemSeen && it.State != store.ItemApplied && it.State != store.ItemFailed:
		return foyer.Errorf(foyer.EINVALID, "trigger item %s: state %q is not seen, applied or failed", it.Item, it.State)
	}
	var done time.Time
	if it.State != store.ItemSeen {
		done = t.now
	}
	// A seen version moves on; an applied or failed one is final.
	_, err := t.c.Exec(ctx, `INSERT INTO trigger_items (trigger_name, item, version, state, run_id, detail, seen_at, done_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (trigger_name, item, version) DO UPDATE SET state = excluded.state, run_id = excluded.run_id,
			detail = excluded.detail, done_at = excluded.done_at
		WHERE trigger_items.state = 'seen'`,
		it.Trigger, it.Item, it.Version, string(it.State), it.RunID, it.Detail, t.now, nullTime(done))
	if err != nil {
		return fmt.Errorf("record trigger %s's item %s: %w", it.Trigger, it.Item, err)
	}
	return nil
}

func (t *Tx) TriggerItem(ctx context.Context, trigger, item, version string) (store.TriggerItem, error) {
	it := store.TriggerItem{Trigger: trigger, Item: item, Version: version}
	var (
		state string
		done  *time.Time
	)
	err := t.c.QueryRow(ctx, `SELECT state, run_id, detail, seen_at, done_at FROM trigger_items
		WHERE trigger_name = $1 AND item = $2 AND version = $3`, trigger, item, version).
		Scan(&state, &it.RunID, &it.Detail, &it.SeenAt, &done)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return it, foyer.Errorf(foyer.ENOTFOUND, "trigger %s has no record of %s in this version", trigger, item)
	case err != nil:
		return it, fmt.Errorf("read trigger %s's item %s: %w", trigger, item, err)
	}
	it.State, it.SeenAt, it.DoneAt = store.TriggerItemState(state), it.SeenAt.UTC(), readTime(done)
	return it, nil
}

func (t *Tx) ListTriggerItems(ctx context.Context, f store.TriggerItemFilter, fn func(store.TriggerItem) error) error {
	if f.Limit < 0 {
		return foyer.Errorf(foyer.EINVALID, "trigger items limit %d is negative", f.Limit)
	}
	for _, s := range f.States {
		if s != store.ItemSeen && s != store.ItemApplied && s != store.ItemFailed {
			return foyer.Errorf(foyer.EINVALID, "trigger item state %q is not seen, applied or failed", s)
		}
	}
	// Newest first; names by bytes on both databases, so that a page
	// ends where the next one starts whatever PostgreSQL's collation.
	by := t.db.Dialect.ByteOrder
	page := func(after *store.TriggerItem, n int) (string, []any) {
		var (
			args  params
			where []string
		)
		if f.Trigger != "" {
			where = append(where, "trigger_name = "+args.add(f.Trigger))
		}
		if len(f.States) > 0 {
			in := make([]string, len(f.States))
			for i, s := range f.States {
				in[i] = args.add(string(s))
			}
			where = append(where, "state IN ("+strings.Join(in, ", ")+")")
		}
		if after != nil {
			where = append(where, "(seen_at, trigger_name"+by+", item"+by+", version"+by+") < ("+
				args.add(after.SeenAt)+", "+args.add(after.Trigger)+", "+args.add(after.Item)+", "+args.add(after.Version)+")")
		}
		q := `SELECT trigger_name, item, version, state, run_id, detail, seen_at, done_at FROM trigger_items`
		if len(where) > 0 {
			q += ` WHERE ` + strings.Join(where, " AND ")
		}
		q += ` ORDER BY seen_at DESC, trigger_name` + by + ` DESC, item` + by + ` DESC, version` + by + ` DESC LIMIT ` + args.add(n)
		return q, args
	}
	after, left := f.After, f.Limit
	for {
		n := pageSize
		if f.Limit > 0 {
			n = min(n, left)
		}
		q, args := page(after, n)
		items, err := t.triggerItemsPage(ctx, q, args)
		if err != nil {
			return fmt.Errorf("list trigger items: %w", err)
		}
		for _, it := range items {
			if err := fn(it); err != nil {
				return err
			}
		}
		left -= len(items)
		if len(items) < n || (f.Limit > 0 && left == 0) {
			return nil
		}
		after = &items[len(items)-1]
	}
}

func (t *Tx) triggerItemsPage(ctx context.Context, query string, args []any) ([]store.TriggerItem, error) {
	rows, err := t.c.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var page []store.TriggerItem
	for rows.Next() {
		var (
			it    store.TriggerItem
			state string
			done  *time.Time
		)
		if err := rows.Scan(&it.Trigger, &it.Item, &it.Version, &state, &it.RunID, &it.Detail, &it.SeenAt, &done); err != nil {
			return nil, err
		}
		it.State, it.SeenAt, it.DoneAt = store.TriggerItemState(state), it.SeenAt.UTC(), readTime(done)
		page = append(page, it)
	}
	return page, errors.Join(rows.Close(), rows.Err())
}

func (t *Tx) PruneSeenTriggerItems(ctx context.Context, before time.Time) (int, error) {
	// Only seen versions, and only those a later sighting of the same
	// item superseded: an applied or failed version, or the latest one,
	// is what stops the engine from applying a version again.
	n, err := t.c.Exec(ctx, `DELETE FROM trigger_items
		WHERE state = 'seen' AND seen_at < $1 AND EXISTS (SELECT 1 FROM trigger_items later
			WHERE later.trigger_name = trigger_items.trigger_name AND later.item = trigger_items.item
				AND later.seen_at > trigger_items.seen_at)`, before)
	if err != nil {
		return 0, fmt.Errorf("prune trigger items seen before %s: %w", before.UTC().Format(time.RFC3339), err)
	}
	return int(n), nil
}
