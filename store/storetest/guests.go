package storetest

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/store"
)

var guestsCases = []testCase{
	{"PutAndRead", testGuestPut},
	{"ByEmail", testGuestByEmail},
	{"Delete", testGuestDelete},
}

var grantsCases = []testCase{
	{"RecordDropHeld", testGrants},
}

func testGuestPut(t *testing.T, s store.Store) {
	g := &foyer.Guest{UserID: "u-1", Email: "Ann@example.com", UPN: "ann_example.com#EXT#@contoso.onmicrosoft.com",
		DisplayName: "Ann", Redemption: foyer.PendingAcceptance, Enabled: true,
		InvitedAt: time.Date(2026, 3, 4, 5, 6, 7, 123456000, time.UTC),
		Profiles:  []string{"partners", "vendors"}}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.PutGuest(ctx, g) })
	read := func() *foyer.Guest {
		var got *foyer.Guest
		inTx(t, s, func(ctx context.Context, tx store.Tx) (err error) {
			got, err = tx.Guest(ctx, "u-1")
			return err
		})
		return got
	}
	if got := read(); !reflect.DeepEqual(got, g) {
		t.Errorf("Guest = %+v, want %+v", got, g)
	}
	// PutGuest replaces by UserID, zero times and empty lists included.
	g2 := &foyer.Guest{UserID: "u-1", Email: "ann@example.com", Redemption: foyer.Accepted,
		LastSignIn: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.PutGuest(ctx, g2) })
	if got := read(); !reflect.DeepEqual(got, g2) {
		t.Errorf("Guest after replacing = %+v, want %+v", got, g2)
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		_, err := tx.Guest(ctx, "u-2")
		wantCode(t, "Guest of an unknown id", err, foyer.ENOTFOUND)
		wantCode(t, "PutGuest without id", tx.PutGuest(ctx, &foyer.Guest{Email: "x@example.com"}), foyer.EINVALID)
		wantCode(t, "PutGuest of nil", tx.PutGuest(ctx, nil), foyer.EINVALID)
		return nil
	})
}

func testGuestByEmail(t *testing.T, s store.Store) {
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		must(t, "PutGuest", tx.PutGuest(ctx, &foyer.Guest{UserID: "u-1", Email: "Ann.Lee@example.com"}))
		return tx.PutGuest(ctx, &foyer.Guest{UserID: "u-2", Email: "bob@example.com"})
	})
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, e := range []foyer.Address{"ann.lee@example.com", "ANN.LEE@EXAMPLE.COM", "Ann.Lee@example.com"} {
			g, err := tx.GuestByEmail(ctx, e)
			must(t, "GuestByEmail "+e.String(), err)
			if g.UserID != "u-1" || g.Email != "Ann.Lee@example.com" {
				t.Errorf("GuestByEmail(%s) = %s %s, want u-1 with the address as stored", e, g.UserID, g.Email)
			}
		}
		_, err := tx.GuestByEmail(ctx, "carol@example.com")
		wantCode(t, "GuestByEmail of an unknown address", err, foyer.ENOTFOUND)
		return nil
	})
}

func testGuestDelete(t *testing.T, s store.Store) {
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		must(t, "PutGuest", tx.PutGuest(ctx, &foyer.Guest{UserID: "u-1", Email: "ann@example.com", Profiles: []string{"partners"}}))
		must(t, "PutGuest", tx.PutGuest(ctx, &foyer.Guest{UserID: "u-2", Email: "bob@example.com"}))
		must(t, "RecordGrant", tx.RecordGrant(ctx, store.HeldGrant{UserID: "u-1", Profile: "partners", Key: "group:g1"}))
		return nil
	})
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		must(t, "DeleteGuest", tx.DeleteGuest(ctx, "u-1"))
		must(t, "DeleteGuest again", tx.DeleteGuest(ctx, "u-1"))
		must(t, "DeleteGuest never recorded", tx.DeleteGuest(ctx, "u-9"))
		wantCode(t, "DeleteGuest without id", tx.DeleteGuest(ctx, ""), foyer.EINVALID)
		return nil
	})
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		_, err := tx.Guest(ctx, "u-1")
		wantCode(t, "Guest after DeleteGuest", err, foyer.ENOTFOUND)
		_, err = tx.GuestByEmail(ctx, "ann@example.com")
		wantCode(t, "GuestByEmail after DeleteGuest", err, foyer.ENOTFOUND)
		n, err := tx.CountGuests(ctx, "")
		must(t, "CountGuests", err)
		if n != 1 {
			t.Errorf("CountGuests after deleting one of two = %d, want 1", n)
		}
		if g, err := tx.Guest(ctx, "u-2"); err != nil || g.Email != "bob@example.com" {
			t.Errorf("the other guest after DeleteGuest: %+v, %v", g, err)
		}
		return nil
	})
	// What foyer granted stays recorded: the history is kept.
	if got := heldGrants(t, s, "u-1"); len(got) != 1 {
		t.Errorf("HeldGrants after DeleteGuest = %+v, want the grant kept", got)
	}
}

func heldGrants(t *testing.T, s store.Store, user string) []store.HeldGrant {
	t.Helper()
	var got []store.HeldGrant
	inTx(t, s, func(ctx context.Context, tx store.Tx) (err error) {
		got, err = tx.HeldGrants(ctx, user)
		return err
	})
	return got
}

func testGrants(t *testing.T, s store.Store) {
	a := store.HeldGrant{UserID: "u-1", Profile: "partners", Key: "group:g1", Grant: "group Sales"}
	b := store.HeldGrant{UserID: "u-1", Profile: "vendors", Key: "group:g1", Grant: "group Sales"}
	c := store.HeldGrant{UserID: "u-1", Profile: "partners", Key: "app:a1/r1", Grant: "app CRM role Reader",
		GrantedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	var t1 time.Time
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		t1 = tx.Now()
		for _, h := range []store.HeldGrant{a, b, c} {
			must(t, "RecordGrant", tx.RecordGrant(ctx, h))
		}
		must(t, "RecordGrant for another user", tx.RecordGrant(ctx, store.HeldGrant{UserID: "u-2", Profile: "partners", Key: "group:g1"}))
		return nil
	})
	// Recording again changes nothing, not even the time.
	inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.RecordGrant(ctx, a) })
	a.GrantedAt, b.GrantedAt = t1, t1
	want := []store.HeldGrant{c, a, b} // by profile, then key
	if got := heldGrants(t, s, "u-1"); !reflect.DeepEqual(got, want) {
		t.Errorf("HeldGrants =\n%+v\nwant\n%+v", got, want)
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		must(t, "DropGrant", tx.DropGrant(ctx, "u-1", "partners", "group:g1"))
		must(t, "DropGrant again", tx.DropGrant(ctx, "u-1", "partners", "group:g1"))
		must(t, "DropGrant never held", tx.DropGrant(ctx, "u-3", "partners", "group:g1"))
		wantCode(t, "RecordGrant without key", tx.RecordGrant(ctx, store.HeldGrant{UserID: "u-1", Profile: "p"}), foyer.EINVALID)
		return nil
	})
	if got := heldGrants(t, s, "u-1"); !reflect.DeepEqual(got, []store.HeldGrant{c, b}) {
		t.Errorf("after dropping partners' group:g1, HeldGrants = %+v, want vendors' still held: %+v", got, []store.HeldGrant{c, b})
	}
	if got := heldGrants(t, s, "u-9"); len(got) != 0 {
		t.Errorf("HeldGrants of a user holding nothing = %+v", got)
	}
}
