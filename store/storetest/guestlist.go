package storetest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/store"
)

var guestListCases = []testCase{
	{"Pages", testGuestPages},
	{"Query", testGuestQuery},
}

// listGuests returns the object ids ListGuests gives for f.
func listGuests(t *testing.T, s store.Store, f store.GuestFilter) []*foyer.Guest {
	t.Helper()
	var got []*foyer.Guest
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.ListGuests(ctx, f, func(g *foyer.Guest) error {
			got = append(got, g)
			return nil
		})
	})
	return got
}

func guestIDs(gs []*foyer.Guest) []string {
	ids := make([]string, len(gs))
	for i, g := range gs {
		ids[i] = g.UserID
	}
	return ids
}

// guestOrder sorts guests as ListGuests gives them: by address without
// case, then by object id.
func guestOrder(gs []*foyer.Guest) []string {
	gs = slices.Clone(gs)
	slices.SortFunc(gs, func(a, b *foyer.Guest) int {
		return cmp.Or(strings.Compare(a.Email.Key(), b.Email.Key()), strings.Compare(a.UserID, b.UserID))
	})
	return guestIDs(gs)
}

func putGuests(t *testing.T, s store.Store, gs []*foyer.Guest) {
	t.Helper()
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, g := range gs {
			if err := tx.PutGuest(ctx, g); err != nil {
				return err
			}
		}
		return nil
	})
}

// testGuestPages walks the list a page at a time, as the approver UI does
// (After: the last address of the previous page), with no gap and no
// repeat, through addresses that several objects share.
func testGuestPages(t *testing.T, s store.Store) {
	var gs []*foyer.Guest
	for i := range 230 {
		gs = append(gs, &foyer.Guest{UserID: fmt.Sprintf("u-%03d", (i*7)%230), Email: foyer.Address(fmt.Sprintf("g%03d@example.com", i)),
			DisplayName: fmt.Sprintf("Guest %d", i)})
	}
	// Three objects with one address (an old object not yet purged), two
	// of them spelling it in another case, and one address that sorts
	// before the others only without case.
	gs = append(gs,
		&foyer.Guest{UserID: "u-dup-2", Email: "dup@example.com"},
		&foyer.Guest{UserID: "u-dup-1", Email: "DUP@example.com"},
		&foyer.Guest{UserID: "u-dup-3", Email: "Dup@Example.com"},
		&foyer.Guest{UserID: "u-zz", Email: "ZZ@example.com"})
	putGuests(t, s, gs)
	want := guestOrder(gs)
	if got := guestIDs(listGuests(t, s, store.GuestFilter{Limit: 1000})); !slices.Equal(got, want) {
		t.Fatalf("ListGuests(Limit 1000) =\n%v\nwant, by address without case, then object id,\n%v", got, want)
	}
	if got := listGuests(t, s, store.GuestFilter{}); len(got) != 100 {
		t.Errorf("ListGuests without a limit gave %d guests, want 100", len(got))
	}
	for _, limit := range []int{1, 2, 3, 7, 100, 233, 234} {
		var got []string
		f := store.GuestFilter{Limit: limit}
		for pages := 0; ; pages++ {
			if pages > len(gs) {
				t.Fatalf("by %d: more pages than guests; got %v", limit, got)
			}
			page := listGuests(t, s, f)
			if len(page) > limit {
				// Past the limit only guests that share the last one's address.
				for _, g := range page[limit:] {
					if g.Email.Key() != page[limit-1].Email.Key() {
						t.Errorf("by %d: a page of %d guests, %s past the limit", limit, len(page), g.Email)
					}
				}
			}
			got = append(got, guestIDs(page)...)
			if len(page) < limit {
				break
			}
			f.After = string(page[len(page)-1].Email)
		}
		if !slices.Equal(got, want) {
			t.Errorf("by %d: pages gave\n%v\nwant\n%v", limit, got, want)
		}
	}
	// fn may use the transaction, and its error stops the list.
	stop := errors.New("stop")
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		n := 0
		err := tx.ListGuests(ctx, store.GuestFilter{Limit: 10}, func(g *foyer.Guest) error {
			if _, err := tx.Guest(ctx, g.UserID); err != nil {
				return err
			}
			if n++; n == 3 {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) || n != 3 {
			t.Errorf("ListGuests with fn failing at the third guest: %v after %d guests", err, n)
		}
		wantCode(t, "ListGuests with a negative limit", tx.ListGuests(ctx, store.GuestFilter{Limit: -1},
			func(*foyer.Guest) error { return nil }), foyer.EINVALID)
		total, err := tx.CountGuests(ctx, "")
		must(t, "CountGuests", err)
		if total != len(gs) {
			t.Errorf("CountGuests(\"\") = %d, want %d", total, len(gs))
		}
		return nil
	})
}

// testGuestQuery: a query matches the address, display name or UPN
// containing it, without case, and LIKE's wildcards in it are plain
// characters.
func testGuestQuery(t *testing.T, s store.Store) {
	gs := []*foyer.Guest{
		{UserID: "u-ann", Email: "Ann.Lee@Partner.example", DisplayName: "Ann Lee", UPN: "ann.lee_partner.example#EXT#@contoso.onmicrosoft.com"},
		{UserID: "u-half", Email: "50%off@shop.example", DisplayName: "Half_Price Desk"},
		{UserID: "u-500", Email: "500off@shop.example", DisplayName: "HalfXPrice Desk"},
		{UserID: "u-xy", Email: "x_y@example.com"},
		{UserID: "u-xay", Email: "xay@example.com"},
		{UserID: "u-back", Email: "b@example.com", DisplayName: `back\slash`},
		{UserID: "u-elo", Email: "elo@example.com", DisplayName: "ÉLODIE Martin"},
		{UserID: "u-upn", Email: "zed@example.com", UPN: "zed_example.com#EXT#@Fabrikam.onmicrosoft.com"},
	}
	putGuests(t, s, gs)
	for _, c := range []struct {
		query string
		want  []string // object ids, in any order
	}{
		{"", guestIDs(gs)},
		{"ANN", []string{"u-ann"}},
		{"partner.EXAMPLE", []string{"u-ann"}},
		{"ann lee", []string{"u-ann"}},
		{"fabrikam", []string{"u-upn"}},
		{"#ext#", []string{"u-ann", "u-upn"}},
		{"50%", []string{"u-half"}},
		{"%", []string{"u-half"}},
		{"half_price", []string{"u-half"}},
		{"x_y", []string{"u-xy"}},
		{"_", []string{"u-ann", "u-half", "u-xy", "u-upn"}},
		{`k\s`, []string{"u-back"}},
		{`\`, []string{"u-back"}},
		{"élodie", []string{"u-elo"}},
		{"desk", []string{"u-half", "u-500"}},
		{"lee\nann", nil},
		{" lee ", nil},
		{"nobody", nil},
	} {
		var match []*foyer.Guest
		for _, g := range gs {
			if slices.Contains(c.want, g.UserID) {
				match = append(match, g)
			}
		}
		want := guestOrder(match)
		if got := guestIDs(listGuests(t, s, store.GuestFilter{Query: c.query})); !slices.Equal(got, want) {
			t.Errorf("ListGuests(%q) = %v, want %v", c.query, got, want)
		}
		var n int
		inTx(t, s, func(ctx context.Context, tx store.Tx) (err error) {
			n, err = tx.CountGuests(ctx, c.query)
			return err
		})
		if n != len(want) {
			t.Errorf("CountGuests(%q) = %d, want %d", c.query, n, len(want))
		}
	}
	// A query pages as the whole list does.
	var got []string
	f := store.GuestFilter{Query: "example", Limit: 2}
	for range len(gs) {
		page := listGuests(t, s, f)
		got = append(got, guestIDs(page)...)
		if len(page) < f.Limit {
			break
		}
		f.After = string(page[len(page)-1].Email)
	}
	if want := guestOrder(gs); !slices.Equal(got, want) {
		t.Errorf("pages of %q gave %v, want %v", "example", got, want)
	}
	// A guest written again is found by what it holds now.
	putGuests(t, s, []*foyer.Guest{{UserID: "u-ann", Email: "ann.lee@partner.example", DisplayName: "Ann Smith"}})
	if got := guestIDs(listGuests(t, s, store.GuestFilter{Query: "smith"})); !slices.Equal(got, []string{"u-ann"}) {
		t.Errorf("ListGuests(smith) after a rename = %v, want [u-ann]", got)
	}
	if got := listGuests(t, s, store.GuestFilter{Query: "contoso"}); len(got) != 0 {
		t.Errorf("ListGuests(contoso) after the UPN was cleared = %v, want none", guestIDs(got))
	}
}
