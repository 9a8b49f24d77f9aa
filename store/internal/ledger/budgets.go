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
	now := t.now.UTC().Truncate(time.Microsecond)
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

// budgetWait locks budget b, forgets its slots that left the window, and
// returns how long until n more units fit (0: they fit now).
func (t *Tx) budgetWait(ctx context.Context, b store.Budget, n int, now time.Time) (time.Duration, error) {
	if _, err := t.c.Exec(ctx, `INSERT INTO write_budgets (key) VALUES ($1) ON CONFLICT DO NOTHING`, b.Key); err != nil {
		return 0, fmt.Errorf("lock write budget %s: %w", b.Key, err)
	}
	var key string
	if err := t.c.QueryRow(ctx, `SELECT key FROM write_budgets WHERE key = $1`+t.db.Dialect.LockRow, b.Key).Scan(&key); err != nil {
		return 0, fmt.Errorf("lock write budget %s: %w", b.Key, err)
	}
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
