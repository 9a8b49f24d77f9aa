package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
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
