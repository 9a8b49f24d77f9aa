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

var _ store.Leases = (*Tx)(nil)

// lease reads a lease; with lock, its row stays locked until the
// transaction ends (Dialect.LockRow).
func (t *Tx) lease(ctx context.Context, name string, lock bool) (store.Lease, error) {
	l := store.Lease{Name: name}
	query := `SELECT owner, generation, until FROM leases WHERE name = $1`
	if lock {
		query += t.db.Dialect.LockRow
	}
	err := t.c.QueryRow(ctx, query, name).Scan(&l.Owner, &l.Generation, &l.Until)
	if errors.Is(err, sql.ErrNoRows) {
		return l, foyer.Errorf(foyer.ENOTFOUND, "lease %s was never taken", name)
	}
	if err != nil {
		return l, fmt.Errorf("read lease %s: %w", name, err)
	}
	l.Until = l.Until.UTC()
	return l, nil
}

func (t *Tx) GetLease(ctx context.Context, name string) (store.Lease, error) {
	return t.lease(ctx, name, false)
}

// checkLease validates the arguments of AcquireLease and RenewLease.
func (t *Tx) checkLease(name, owner string, until time.Time) error {
	switch {
	case name == "":
		return foyer.Errorf(foyer.EINVALID, "lease has no name")
	case owner == "":
		return foyer.Errorf(foyer.EINVALID, "lease %s: owner is empty", name)
	case !until.After(t.now):
		return foyer.Errorf(foyer.EINVALID, "lease %s: until (%s) is not after now (%s)", name, until.Format(time.RFC3339Nano), t.now.Format(time.RFC3339Nano))
	}
	return nil
}

func (t *Tx) AcquireLease(ctx context.Context, name, owner, takeOver string, until time.Time) (store.Lease, error) {
	if err := t.checkLease(name, owner, until); err != nil {
		return store.Lease{}, err
	}
	until = until.UTC().Truncate(time.Microsecond)
	n, err := t.c.Exec(ctx, `INSERT INTO leases (name, owner, generation, until)
		VALUES ($1, $2, 1, $3) ON CONFLICT DO NOTHING`, name, owner, until)
	if err != nil {
		return store.Lease{}, fmt.Errorf("take lease %s: %w", name, err)
	}
	if n > 0 {
		return store.Lease{Name: name, Owner: owner, Generation: 1, Until: until}, nil
	}
	cur, err := t.lease(ctx, name, true)
	if err != nil {
		return store.Lease{}, err
	}
	next := cur
	next.Owner, next.Until = owner, until
	switch {
	case cur.Owner == owner:
	case cur.Owner == "", cur.Until.Before(t.now), takeOver != "" && cur.Owner == takeOver:
		next.Generation++
	default:
		return cur, foyer.Errorf(foyer.ECONFLICT, "lease %s is held by %s until %s", name, cur.Owner, cur.Until.Format(time.RFC3339))
	}
	n, err = t.c.Exec(ctx, `UPDATE leases SET owner = $1, generation = $2, until = $3
		WHERE name = $4 AND owner = $5 AND generation = $6`,
		next.Owner, next.Generation, next.Until, name, cur.Owner, cur.Generation)
	if err != nil {
		return store.Lease{}, fmt.Errorf("take lease %s: %w", name, err)
	}
	if n == 0 {
		return store.Lease{}, foyer.Errorf(foyer.ECONFLICT, "lease %s changed hands while being taken", name)
	}
	return next, nil
}

func (t *Tx) RenewLease(ctx context.Context, name, owner string, until time.Time) (store.Lease, error) {
	if err := t.checkLease(name, owner, until); err != nil {
		return store.Lease{}, err
	}
	until = until.UTC().Truncate(time.Microsecond)
	n, err := t.c.Exec(ctx, `UPDATE leases SET until = $1 WHERE name = $2 AND owner = $3`, until, name, owner)
	if err != nil {
		return store.Lease{}, fmt.Errorf("renew lease %s: %w", name, err)
	}
	if n == 0 {
		cur, err := t.lease(ctx, name, false)
		if foyer.ErrorCode(err) == foyer.ENOTFOUND {
			return store.Lease{}, foyer.Errorf(foyer.ECONFLICT, "lease %s is not held by %s: it was never taken", name, owner)
		}
		if err != nil {
			return store.Lease{}, err
		}
		holder := cur.Owner
		if holder == "" {
			holder = "nobody (released)"
		}
		return cur, foyer.Errorf(foyer.ECONFLICT, "lease %s is not held by %s but by %s", name, owner, holder)
	}
	return t.lease(ctx, name, false)
}

func (t *Tx) ReleaseLease(ctx context.Context, name, owner string) error {
	if owner == "" {
		return foyer.Errorf(foyer.EINVALID, "lease %s: owner is empty", name)
	}
	if _, err := t.c.Exec(ctx, `UPDATE leases SET owner = '', until = $1 WHERE name = $2 AND owner = $3`,
		t.now, name, owner); err != nil {
		return fmt.Errorf("release lease %s: %w", name, err)
	}
	return nil
}

func (t *Tx) ListLeases(ctx context.Context, prefix string) ([]store.Lease, error) {
	// A prefix match by range: no LIKE pattern to escape.
	rows, err := t.c.Query(ctx, `SELECT name, owner, generation, until FROM leases
		WHERE substr(name, 1, $2) = $1 ORDER BY name`+t.db.Dialect.ByteOrder, prefix, len(prefix))
	if err != nil {
		return nil, fmt.Errorf("list the leases named %s…: %w", prefix, err)
	}
	defer rows.Close()
	var ls []store.Lease
	for rows.Next() {
		var l store.Lease
		if err := rows.Scan(&l.Name, &l.Owner, &l.Generation, &l.Until); err != nil {
			return nil, fmt.Errorf("list the leases named %s…: %w", prefix, err)
		}
		l.Until = l.Until.UTC()
		ls = append(ls, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list the leases named %s…: %w", prefix, err)
	}
	return ls, nil
}

func (t *Tx) ExpireLease(ctx context.Context, name, owner string) (bool, error) {
	if owner == "" {
		return false, foyer.Errorf(foyer.EINVALID, "lease %s: owner is empty", name)
	}
	n, err := t.c.Exec(ctx, `UPDATE leases SET owner = '' WHERE name = $1 AND owner = $2 AND until < $3`,
		name, owner, t.now.UTC().Truncate(time.Microsecond))
	if err != nil {
		return false, fmt.Errorf("end the lapsed lease %s: %w", name, err)
	}
	return n > 0, nil
}
