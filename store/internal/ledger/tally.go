package ledger

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/store"
)

var _ store.Tallies = (*Tx)(nil)

// runStateCase names a run's state from its columns, as foyer.Run.State
// does from its fields.
const runStateCase = `CASE
	WHEN finished_at IS NOT NULL THEN '` + string(foyer.RunFinished) + `'
	WHEN discarded_at IS NOT NULL THEN '` + string(foyer.RunDiscarded) + `'
	WHEN approved_at IS NOT NULL THEN '` + string(foyer.RunApplying) + `'
	WHEN sealed_at IS NOT NULL THEN '` + string(foyer.RunPlanned) + `'
	ELSE '` + string(foyer.RunRecording) + `' END`

func (t *Tx) Tally(ctx context.Context) (store.Tally, error) {
	tl := store.Tally{Runs: map[foyer.RunState]int{}, Rows: map[foyer.Result]int{}, Requests: map[foyer.State]int{},
		Tenants: map[string]store.TenantTally{}}
	of := func(tenant string) store.TenantTally {
		tt, ok := tl.Tenants[tenant]
		if !ok {
			tt = store.TenantTally{Runs: map[foyer.RunState]int{}, Rows: map[foyer.Result]int{}}
			tl.Tenants[tenant] = tt
		}
		return tt
	}
	err := t.countBy2(ctx, `SELECT tenant, `+runStateCase+` AS state, count(*) FROM runs GROUP BY tenant, state`,
		func(tenant, k string, n int) {
			tl.Runs[foyer.RunState(k)] += n
			of(tenant).Runs[foyer.RunState(k)] += n
		})
	if err != nil {
		return store.Tally{}, fmt.Errorf("count runs by state: %w", err)
	}
	// A finished run's rows are counted in its stored summary; only the
	// rows of the runs being applied are counted one by one.
	addRows := func(tenant, k string, n int) {
		tl.Rows[foyer.Result(k)] += n
		of(tenant).Rows[foyer.Result(k)] += n
	}
	err = t.countBy2(ctx, `SELECT r.tenant, rr.result, count(*) FROM runs r JOIN run_rows rr ON rr.run_id = r.id
		WHERE r.finished_at IS NULL AND r.approved_at IS NOT NULL AND r.discarded_at IS NULL AND rr.result <> ''
		GROUP BY r.tenant, rr.result`, addRows)
	if err != nil {
		return store.Tally{}, fmt.Errorf("count the rows of the runs being applied by result: %w", err)
	}
	if err := t.addSummaries(ctx, addRows); err != nil {
		return store.Tally{}, err
	}
	err = t.countBy(ctx, `SELECT state, count(*) FROM requests GROUP BY state`,
		func(k string, n int) { tl.Requests[foyer.State(k)] += n })
	if err != nil {
		return store.Tally{}, fmt.Errorf("count requests by state: %w", err)
	}
	return tl, nil
}

// countBy runs a query whose rows are a key and a count, and calls add
// for each.
func (t *Tx) countBy(ctx context.Context, query string, add func(string, int)) error {
	rows, err := t.c.Query(ctx, query)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			k string
			n int
		)
		if err := rows.Scan(&k, &n); err != nil {
			return err
		}
		add(k, n)
	}
	return rows.Err()
}

// countBy2 runs a query whose rows are two keys and a count, and calls
// add for each.
func (t *Tx) countBy2(ctx context.Context, query string, add func(string, string, int)) error {
	rows, err := t.c.Query(ctx, query)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			k1, k2 string
			n      int
		)
		if err := rows.Scan(&k1, &k2, &n); err != nil {
			return err
		}
		add(k1, k2, n)
	}
	return rows.Err()
}

// addSummaries adds the results of every finished run's stored summary,
// with the run's tenant.
func (t *Tx) addSummaries(ctx context.Context, add func(tenant, result string, n int)) error {
	rows, err := t.c.Query(ctx, `SELECT id, tenant, summary FROM runs WHERE finished_at IS NOT NULL AND summary IS NOT NULL`)
	if err != nil {
		return fmt.Errorf("read the summaries of finished runs: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id, tenant string
			summary    []byte
		)
		if err := rows.Scan(&id, &tenant, &summary); err != nil {
			return fmt.Errorf("read the summaries of finished runs: %w", err)
		}
		var s foyer.Summary
		if err := json.Unmarshal(summary, &s); err != nil {
			return fmt.Errorf("read summary of run %s: %w", id, err)
		}
		for r, n := range s.Results {
			add(tenant, string(r), n)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read the summaries of finished runs: %w", err)
	}
	return nil
}
