package ledger

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/store"
)

var _ store.Budgets = (*Tx)(nil)

func (t *Tx) ReserveWrites(ctx context.Context, budgets []store.Budget, n int) (time.Duration, error) {
	for _, b := range budgets {
		switch {
		case b.Key == "":
			return 0, foyer.Errorf(foyer.EINVALID, "write budget has no key")
		case b.Limit < 1 || b.Window <= 0:
			return 0, foyer.Errorf(foyer.EINVALID, "write budget %s: want a limit of 1 or more and a positive window (got %d per %s)", b.Key, b.Limit, b.Window)
		case n < 1 || n > b.Limit:
			return 0, foyer.Errorf(foyer.EINVALID, "write budget %s: cannot reserve %d units of %d", b.Key, n, b.Limit)
		}
	}
	// Locked in key order, so that two reservations never wait on each
	// other's budgets crosswise.
	budgets = slices.SortedFunc(slices.Values(budgets), func(a, b store.Budget) int { return cmp.Compare(a.Key, b.Key) })
	for _, b := range budgets {
		if err := t.lockBudget(ctx, b.Key); err != nil {
			return 0, err
		}
	}
	// The slot is taken when the budgets are ours, not when the
	// transaction began: it may have waited for another's lock, and the
	// write goes out after this, not before.
	now := t.db.Clock.Now().UTC().Truncate(time.Microsecond)
	if now.Before(t.now) {
		now = t.now
	}
	var wait time.Duration
	for _, b := range budgets {
		w, err := t.budgetWait(ctx, b, n, now)
		if err != nil {
			return 0, err
		}
		wait = max(wait, w)
	}
	if wait > 0 {
		return wait, nil
	}
	for _, b := range budgets {
		if _, err := t.c.Exec(ctx, `INSERT INTO write_slots (key, at, units) VALUES ($1, $2, $3)`, b.Key, now, n); err != nil {
			return 0, fmt.Errorf("reserve %d writes in budget %s: %w", n, b.Key, err)
		}
	}
	return 0, nil
}

// lockBudget locks the row of budget key, making it if it is missing.
func (t *Tx) lockBudget(ctx context.Context, key string) error {
	if _, err := t.c.Exec(ctx, `INSERT INTO write_budgets (key) VALUES ($1) ON CONFLICT DO NOTHING`, key); err != nil {
		return fmt.Errorf("lock write budget %s: %w", key, err)
	}
	var got string
	if err := t.c.QueryRow(ctx, `SELECT key FROM write_budgets WHERE key = $1`+t.db.Dialect.LockRow, key).Scan(&got); err != nil {
		return fmt.Errorf("lock write budget %s: %w", key, err)
	}
	return nil
}

// budgetWait forgets the slots of budget b (locked) that left the window
// ending at now, and returns how long until n more units fit (0: they fit
// now).
func (t *Tx) budgetWait(ctx context.Context, b store.Budget, n int, now time.Time) (time.Duration, error) {
	start := now.Add(-b.Window)
	if _, err := t.c.Exec(ctx, `DELETE FROM write_slots WHERE key = $1 AND at <= $2`, b.Key, start); err != nil {
		return 0, fmt.Errorf("forget the old slots of write budget %s: %w", b.Key, err)
	}
	var used int
	if err := t.c.QueryRow(ctx, `SELECT COALESCE(SUM(units), 0) FROM write_slots WHERE key = $1`, b.Key).Scan(&used); err != nil {
		return 0, fmt.Errorf("count the slots of write budget %s: %w", b.Key, err)
	}
	over := used + n - b.Limit
	if over <= 0 {
		return 0, nil
	}
	// The oldest slots leave the window first: wait until enough have.
	rows, err := t.c.Query(ctx, `SELECT at, units FROM write_slots WHERE key = $1 ORDER BY at`, b.Key)
	if err != nil {
		return 0, fmt.Errorf("read the slots of write budget %s: %w", b.Key, err)
	}
	defer rows.Close()
	freed := 0
	for rows.Next() {
		var at time.Time
		var units int
		if err := rows.Scan(&at, &units); err != nil {
			return 0, fmt.Errorf("read the slots of write budget %s: %w", b.Key, err)
		}
		if freed += units; freed >= over {
			return max(at.Add(b.Window).Sub(now), time.Microsecond), rows.Err()
		}
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("read the slots of write budget %s: %w", b.Key, err)
	}
	return b.Window, nil // not reached: the slots hold more than over
}
