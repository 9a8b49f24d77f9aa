package storetest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/store"
)

var leasesCases = []testCase{
	{"Lifecycle", testLeaseLifecycle},
	{"HandOver", testLeaseHandOver},
	{"Lapse", testLeaseLapse},
	{"Concurrent", testLeaseConcurrent},
	{"ListAndExpire", testLeaseListAndExpire},
}

// lease runs fn in a transaction and returns the lease it gives.
func lease(t *testing.T, s store.Store, fn func(ctx context.Context, tx store.Tx) (store.Lease, error)) (store.Lease, error) {
	t.Helper()
	var (
		l   store.Lease
		err error
	)
	ctx := testContext(t)
	terr := s.InTx(ctx, func(tx store.Tx) error {
		l, err = fn(ctx, tx)
		return nil
	})
	must(t, "transaction", terr)
	return l, err
}

func testLeaseLifecycle(t *testing.T, s store.Store) {
	const hour = time.Hour
	_, err := lease(t, s, func(ctx context.Context, tx store.Tx) (store.Lease, error) { return tx.GetLease(ctx, "workers") })
	wantCode(t, "GetLease of a lease never taken", err, foyer.ENOTFOUND)

	l, err := lease(t, s, func(ctx context.Context, tx store.Tx) (store.Lease, error) {
		return tx.AcquireLease(ctx, "workers", "a", "", tx.Now().Add(hour))
	})
	must(t, "AcquireLease", err)
	if l.Name != "workers" || l.Owner != "a" || l.Generation != 1 {
		t.Errorf("first AcquireLease = %+v, want a's, generation 1", l)
	}
	got, err := lease(t, s, func(ctx context.Context, tx store.Tx) (store.Lease, error) { return tx.GetLease(ctx, "workers") })
	must(t, "GetLease", err)
	if got != l {
		t.Errorf("GetLease = %+v, want %+v", got, l)
	}

	// The holder acquires again: same generation, later end.
	again, err := lease(t, s, func(ctx context.Context, tx store.Tx) (store.Lease, error) {
		return tx.AcquireLease(ctx, "workers", "a", "", tx.Now().Add(2*hour))
	})
	must(t, "AcquireLease by the holder", err)
	if again.Generation != 1 || !again.Until.After(l.Until) {
		t.Errorf("AcquireLease by the holder = %+v, want generation 1 until after %v", again, l.Until)
	}

	// Someone else is refused, with the holder named.
	_, err = lease(t, s, func(ctx context.Context, tx store.Tx) (store.Lease, error) {
		return tx.AcquireLease(ctx, "workers", "b", "", tx.Now().Add(hour))
	})
	wantCode(t, "AcquireLease held by another", err, foyer.ECONFLICT)
	if !strings.Contains(foyer.ErrorMessage(err), "a") {
		t.Errorf("the refusal %q does not name the holder", foyer.ErrorMessage(err))
	}
	_, err = lease(t, s, func(ctx context.Context, tx store.Tx) (store.Lease, error) {
		return tx.RenewLease(ctx, "workers", "b", tx.Now().Add(hour))
	})
	wantCode(t, "RenewLease by a non-holder", err, foyer.ECONFLICT)

	// Renewal by the holder.
	renewed, err := lease(t, s, func(ctx context.Context, tx store.Tx) (store.Lease, error) {
		return tx.RenewLease(ctx, "workers", "a", tx.Now().Add(3*hour))
	})
	must(t, "RenewLease", err)
	if renewed.Generation != 1 || renewed.Owner != "a" || !renewed.Until.After(again.Until) {
		t.Errorf("RenewLease = %+v, want a's, generation 1, until after %v", renewed, again.Until)
	}
}

// testLeaseHandOver takes a lease over from a holder known dead, releases
// it and takes it again.
func testLeaseHandOver(t *testing.T, s store.Store) {
	const hour = time.Hour
	_, err := lease(t, s, func(ctx context.Context, tx store.Tx) (store.Lease, error) {
		return tx.AcquireLease(ctx, "workers", "a", "", tx.Now().Add(hour))
	})
	must(t, "AcquireLease", err)

	// Taking over from a holder known dead changes hands.
	taken, err := lease(t, s, func(ctx context.Context, tx store.Tx) (store.Lease, error) {
		return tx.AcquireLease(ctx, "workers", "b", "a", tx.Now().Add(hour))
	})
	must(t, "AcquireLease taking over", err)
	if taken.Owner != "b" || taken.Generation != 2 {
		t.Errorf("AcquireLease taking over = %+v, want b's, generation 2", taken)
	}
	_, err = lease(t, s, func(ctx context.Context, tx store.Tx) (store.Lease, error) {
		return tx.RenewLease(ctx, "workers", "a", tx.Now().Add(hour))
	})
	wantCode(t, "RenewLease by the old holder", err, foyer.ECONFLICT)
	_, err = lease(t, s, func(ctx context.Context, tx store.Tx) (store.Lease, error) {
		return tx.AcquireLease(ctx, "workers", "c", "a", tx.Now().Add(hour))
	})
	wantCode(t, "AcquireLease taking over from someone who no longer holds it", err, foyer.ECONFLICT)

	// Release is idempotent and only by the holder; then the next owner
	// gets the next generation.
	for _, owner := range []string{"a", "b", "b"} {
		_, err = lease(t, s, func(ctx context.Context, tx store.Tx) (store.Lease, error) {
			return store.Lease{}, tx.ReleaseLease(ctx, "workers", owner)
		})
		must(t, "ReleaseLease by "+owner, err)
	}
	_, err = lease(t, s, func(ctx context.Context, tx store.Tx) (store.Lease, error) {
		return tx.RenewLease(ctx, "workers", "b", tx.Now().Add(hour))
	})
	wantCode(t, "RenewLease after release", err, foyer.ECONFLICT)
	next, err := lease(t, s, func(ctx context.Context, tx store.Tx) (store.Lease, error) {
		return tx.AcquireLease(ctx, "workers", "b", "", tx.Now().Add(hour))
	})
	must(t, "AcquireLease after release", err)
	if next.Owner != "b" || next.Generation != 3 {
		t.Errorf("AcquireLease after release = %+v, want b's, generation 3", next)
	}
	_, err = lease(t, s, func(ctx context.Context, tx store.Tx) (store.Lease, error) {
		return tx.AcquireLease(ctx, "workers", "b", "", tx.Now())
	})
	wantCode(t, "AcquireLease until now", err, foyer.EINVALID)
	_, err = lease(t, s, func(ctx context.Context, tx store.Tx) (store.Lease, error) {
		return tx.AcquireLease(ctx, "workers", "", "", tx.Now().Add(hour))
	})
	wantCode(t, "AcquireLease without owner", err, foyer.EINVALID)
}

// testLeaseLapse relies on the store's clock moving between transactions
// (Clock does).
func testLeaseLapse(t *testing.T, s store.Store) {
	l, err := lease(t, s, func(ctx context.Context, tx store.Tx) (store.Lease, error) {
		return tx.AcquireLease(ctx, "workers", "a", "", tx.Now().Add(time.Microsecond))
	})
	must(t, "AcquireLease", err)
	got, err := lease(t, s, func(ctx context.Context, tx store.Tx) (store.Lease, error) {
		if !tx.Now().After(l.Until) {
			t.Fatalf("the store's clock did not move past %v; open the store with a storetest.Clock", l.Until)
		}
		return tx.AcquireLease(ctx, "workers", "b", "", tx.Now().Add(time.Hour))
	})
	must(t, "AcquireLease of a lapsed lease", err)
	if got.Owner != "b" || got.Generation != 2 {
		t.Errorf("AcquireLease of a lapsed lease = %+v, want b's, generation 2", got)
	}
}

// testLeaseConcurrent has several owners race for a lease never taken:
// exactly one gets it.
func testLeaseConcurrent(t *testing.T, s store.Store) {
	owners := []string{"a", "b", "c", "d"}
	errs := make(chan error, len(owners))
	start := make(chan struct{})
	for _, o := range owners {
		go func() {
			<-start
			ctx := testContext(t)
			errs <- s.InTx(ctx, func(tx store.Tx) error {
				_, err := tx.AcquireLease(ctx, "workers", o, "", tx.Now().Add(time.Hour))
				return err
			})
		}()
	}
	close(start)
	wins := 0
	for range owners {
		switch err := <-errs; foyer.ErrorCode(err) {
		case "":
			wins++
		case foyer.ECONFLICT:
		default:
			t.Errorf("concurrent AcquireLease: %v, want success or ECONFLICT", err)
		}
	}
	if wins != 1 {
		t.Errorf("%d owners got the lease at once, want 1", wins)
	}
}

// testLeaseListAndExpire: leases are listed by prefix; a lapsed lease is
// ended once, a live one or another's is not, and its owner cannot renew
// it after.
func testLeaseListAndExpire(t *testing.T, s store.Store) {
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, n := range []string{"replica:b", "replica:a", "workers", "replicas"} {
			_, err := tx.AcquireLease(ctx, n, "o-"+n, "", tx.Now().Add(time.Hour))
			must(t, "AcquireLease "+n, err)
		}
		_, err := tx.AcquireLease(ctx, "replica:old", "o-old", "", tx.Now().Add(time.Microsecond))
		must(t, "AcquireLease replica:old", err)
		return nil
	})
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		ls, err := tx.ListLeases(ctx, "replica:")
		must(t, "ListLeases", err)
		var names []string
		for _, l := range ls {
			names = append(names, l.Name)
		}
		if got := strings.Join(names, " "); got != "replica:a replica:b replica:old" {
			t.Errorf("ListLeases(replica:) = %s, want replica:a replica:b replica:old", got)
		}
		if ls, _ := tx.ListLeases(ctx, "nothing"); len(ls) != 0 {
			t.Errorf("ListLeases(nothing) = %+v, want none", ls)
		}
		if ok, err := tx.ExpireLease(ctx, "replica:a", "o-replica:a"); ok || err != nil {
			t.Errorf("ExpireLease of a live lease = %v, %v; want false", ok, err)
		}
		if ok, err := tx.ExpireLease(ctx, "replica:old", "someone"); ok || err != nil {
			t.Errorf("ExpireLease of another's lease = %v, %v; want false", ok, err)
		}
		if !tx.Now().After(time.Time{}) {
			t.Fatal("no clock")
		}
		ok, err := tx.ExpireLease(ctx, "replica:old", "o-old")
		if !ok || err != nil {
			t.Errorf("ExpireLease of a lapsed lease = %v, %v; want true", ok, err)
		}
		if ok, _ := tx.ExpireLease(ctx, "replica:old", "o-old"); ok {
			t.Error("ExpireLease twice ended it twice")
		}
		_, err = tx.RenewLease(ctx, "replica:old", "o-old", tx.Now().Add(time.Hour))
		wantCode(t, "RenewLease of an ended lease", err, foyer.ECONFLICT)
		_, err = tx.ExpireLease(ctx, "replica:old", "")
		wantCode(t, "ExpireLease without owner", err, foyer.EINVALID)
		return nil
	})
	// Taken again, it changes generation: a fence on the old one fails.
	l, err := lease(t, s, func(ctx context.Context, tx store.Tx) (store.Lease, error) {
		return tx.AcquireLease(ctx, "replica:old", "o-new", "", tx.Now().Add(time.Hour))
	})
	must(t, "AcquireLease of an ended lease", err)
	if l.Generation != 2 {
		t.Errorf("AcquireLease of an ended lease: generation %d, want 2", l.Generation)
	}
}
