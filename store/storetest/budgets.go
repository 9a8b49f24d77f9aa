package storetest

import (
	"testing"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/store"
)

var budgetsCases = []testCase{
	{"Window", testBudgetWindow},
	{"AllOrNothing", testBudgetAllOrNothing},
	{"Concurrent", testBudgetConcurrent},
}

// reserve runs ReserveWrites in a transaction of its own.
func reserve(t *testing.T, s store.Store, n int, budgets ...store.Budget) (time.Duration, error) {
	t.Helper()
	var wait time.Duration
	ctx := testContext(t)
	err := s.InTx(ctx, func(tx store.Tx) (err error) {
		wait, err = tx.ReserveWrites(ctx, budgets, n)
		return err
	})
	return wait, err
}

// testBudgetWindow: units are taken while they fit in the window; then
// the wait is until the oldest slots leave it; after that they fit again.
func testBudgetWindow(t *testing.T, s store.Store) {
	hour := store.Budget{Key: "tenant:t/app:a", Limit: 5, Window: time.Hour}
	for _, n := range []int{3, 2} {
		if wait, err := reserve(t, s, n, hour); err != nil || wait != 0 {
			t.Fatalf("reserve %d of a budget with room: wait %v, %v", n, wait, err)
		}
	}
	wait, err := reserve(t, s, 1, hour)
	must(t, "reserve in a full budget", err)
	if wait <= 59*time.Minute || wait > time.Hour {
		t.Errorf("a full budget's wait = %v, want just under an hour (the first slot leaves then)", wait)
	}
	// The store's clock moves a millisecond a reading (Clock): a short
	// window empties within a few transactions.
	short := store.Budget{Key: "short", Limit: 1, Window: 5 * time.Millisecond}
	if wait, err := reserve(t, s, 1, short); err != nil || wait != 0 {
		t.Fatalf("reserve in an empty budget: %v, %v", wait, err)
	}
	wait, err = reserve(t, s, 1, short)
	must(t, "reserve in a full budget", err)
	if wait <= 0 || wait > 5*time.Millisecond {
		t.Errorf("the short budget's wait = %v, want within its 5ms window", wait)
	}
	var got time.Duration = 1
	for i := 0; i < 50 && got != 0; i++ {
		got, err = reserve(t, s, 1, short)
		must(t, "reserve", err)
	}
	if got != 0 {
		t.Error("the short budget never had room again")
	}
	for name, c := range map[string]struct {
		n int
		b store.Budget
	}{
		"no key":     {1, store.Budget{Limit: 1, Window: time.Second}},
		"no limit":   {1, store.Budget{Key: "k", Window: time.Second}},
		"no window":  {1, store.Budget{Key: "k", Limit: 1}},
		"zero units": {0, hour},
		"over limit": {6, hour},
		"negative":   {-1, hour},
	} {
		_, err := reserve(t, s, c.n, c.b)
		wantCode(t, "ReserveWrites "+name, err, foyer.EINVALID)
	}
}

// testBudgetAllOrNothing: units are taken in every budget or in none.
func testBudgetAllOrNothing(t *testing.T, s store.Store) {
	full := store.Budget{Key: "app:a", Limit: 1, Window: time.Hour}
	free := store.Budget{Key: "tenant:t/app:a", Limit: 1, Window: time.Hour}
	if wait, err := reserve(t, s, 1, full); err != nil || wait != 0 {
		t.Fatalf("reserve: %v, %v", wait, err)
	}
	if wait, err := reserve(t, s, 1, free, full); err != nil || wait == 0 {
		t.Fatalf("reserve with one budget full: %v, %v; want a wait", wait, err)
	}
	if wait, err := reserve(t, s, 1, free); err != nil || wait != 0 {
		t.Errorf("the other budget after a refused reservation: wait %v, %v; want its unit still free", wait, err)
	}
}

// testBudgetConcurrent: reservations racing for a budget's last units
// take no more than its limit.
func testBudgetConcurrent(t *testing.T, s store.Store) {
	const racers, limit = 8, 5
	b := store.Budget{Key: "race", Limit: limit, Window: time.Hour}
	type result struct {
		wait time.Duration
		err  error
	}
	results := make(chan result, racers)
	start := make(chan struct{})
	for range racers {
		go func() {
			<-start
			ctx := testContext(t)
			var wait time.Duration
			err := s.InTx(ctx, func(tx store.Tx) (err error) {
				wait, err = tx.ReserveWrites(ctx, []store.Budget{b}, 1)
				return err
			})
			results <- result{wait, err}
		}()
	}
	close(start)
	admitted := 0
	for range racers {
		r := <-results
		switch {
		case r.err != nil:
			t.Errorf("concurrent ReserveWrites: %v", r.err)
		case r.wait == 0:
			admitted++
		}
	}
	if admitted != limit {
		t.Errorf("%d of %d racers got a unit of a budget of %d", admitted, racers, limit)
	}
}
