package storetest

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/store"
)

// testRequestApproval: what the request page and the API add to a request
// (Details) and where its approval stands (Stage, StageDue, Escalated) are
// written by CreateRequest, MoveRequest and UpdateRequest and read back by
// every read.
func testRequestApproval(t *testing.T, s store.Store) {
	due := time.Date(2026, 7, 1, 9, 30, 0, 123456000, time.UTC)
	r := newRequest(t, "req-1", "Ann@Partner.example", "partners")
	r.Origin = foyer.OriginPortal
	r.Details = foyer.Details{Company: "Partner Ltd", Justification: "the Atlas project",
		Answers: map[string]string{"project": "Atlas", "nda": "signed"}, Sponsor: "sam@contoso.example",
		RequestedBy: "p-7", Language: "fr"}
	createRequests(t, s, r, newRequest(t, "req-2", "bob@example.com", "partners"))
	check := func(when string) {
		t.Helper()
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			got, err := tx.Request(ctx, r.ID)
			must(t, "Request", err)
			if !reflect.DeepEqual(got, r) {
				t.Errorf("%s: Request =\n%+v\nwant\n%+v", when, got, r)
			}
			found, err := tx.FindRequest(ctx, r.Profile, r.Email)
			must(t, "FindRequest", err)
			if !reflect.DeepEqual(found, r) {
				t.Errorf("%s: FindRequest =\n%+v\nwant\n%+v", when, found, r)
			}
			var listed []*foyer.Request
			must(t, "Requests", tx.Requests(ctx, store.RequestFilter{Profile: "partners"}, func(x *foyer.Request) error {
				listed = append(listed, x)
				return nil
			}))
			if len(listed) != 2 || !reflect.DeepEqual(listed[0], r) {
				t.Errorf("%s: Requests gave %+v first, want\n%+v", when, listed[0], r)
			}
			if other := listed[len(listed)-1]; !reflect.DeepEqual(other.Details, foyer.Details{}) ||
				other.Stage != 0 || !other.StageDue.IsZero() || other.Escalated {
				t.Errorf("%s: a request without details reads back with %+v, stage %d due %v, escalated %v",
					when, other.Details, other.Stage, other.StageDue, other.Escalated)
			}
			return nil
		})
	}
	check("created")

	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		r.Stage, r.StageDue = 1, due
		return tx.MoveRequest(ctx, r, foyer.StatePendingApproval, "waits for stage 1")
	})
	check("moved to stage 1")

	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		r.Escalated, r.StageDue = true, due.Add(48*time.Hour)
		r.Details.Answers["nda"] = "pending"
		return tx.UpdateRequest(ctx, r)
	})
	check("escalated")

	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		r.Stage, r.StageDue, r.Escalated = 0, time.Time{}, false
		r.Details.Answers = nil
		return tx.MoveRequest(ctx, r, foyer.StateApproved, "approved at the last stage")
	})
	check("approved")
}

// testRequestPages: Newest, AfterID and Limit page through requests with
// no gap and no repeat, however many share a creation time, and with the
// other filters.
func testRequestPages(t *testing.T, s store.Store) {
	origins := []foyer.Origin{foyer.OriginPortal, foyer.OriginAPI, foyer.OriginCSV}
	var all []*foyer.Request
	for i := range 27 {
		// Ids run backwards, so that their order is not the creation order.
		r := newRequest(t, fmt.Sprintf("req-%02d", 26-i), fmt.Sprintf("p%d@example.com", i), "partners")
		r.Origin = origins[i%3]
		all = append(all, r)
	}
	createRequests(t, s, all[:20]...) // twenty created in the same instant
	for _, r := range all[20:] {
		createRequests(t, s, r)
	}
	if !all[0].CreatedAt.Equal(all[19].CreatedAt) {
		t.Fatalf("requests created in one transaction at %v and %v", all[0].CreatedAt, all[19].CreatedAt)
	}
	ids := func(rs []*foyer.Request, keep func(*foyer.Request) bool) []string {
		var w []string
		for _, r := range rs {
			if keep(r) {
				w = append(w, r.ID)
			}
		}
		return w
	}
	newest := slices.Clone(all)
	slices.Reverse(newest)
	everyone := func(*foyer.Request) bool { return true }
	portalOrAPI := func(r *foyer.Request) bool { return r.Origin != foyer.OriginCSV }
	for _, c := range []struct {
		name string
		f    store.RequestFilter
		want []string
	}{
		{"oldest first", store.RequestFilter{}, ids(all, everyone)},
		{"newest first", store.RequestFilter{Newest: true}, ids(newest, everyone)},
		{"origins", store.RequestFilter{Origins: []foyer.Origin{foyer.OriginPortal, foyer.OriginAPI}}, ids(all, portalOrAPI)},
		{"origins newest first", store.RequestFilter{Newest: true, Origins: []foyer.Origin{foyer.OriginAPI, foyer.OriginPortal}},
			ids(newest, portalOrAPI)},
	} {
		for _, limit := range []int{1, 2, 7, 20, 27, 100} {
			f := c.f
			f.Limit = limit
			var got []string
			for pages := 0; ; pages++ {
				if pages > len(all) {
					t.Fatalf("%s by %d: more pages than requests; got %v", c.name, limit, got)
				}
				var page []string
				inTx(t, s, func(ctx context.Context, tx store.Tx) error {
					return tx.Requests(ctx, f, func(r *foyer.Request) error {
						page = append(page, r.ID)
						return nil
					})
				})
				if len(page) > limit {
					t.Errorf("%s by %d: a page of %d requests", c.name, limit, len(page))
				}
				got = append(got, page...)
				if len(page) < limit {
					break
				}
				f.AfterID = page[len(page)-1]
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("%s by %d: pages gave\n%v\nwant\n%v", c.name, limit, got, c.want)
			}
		}
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		none := func(*foyer.Request) error { return nil }
		wantCode(t, "Requests after an unknown request",
			tx.Requests(ctx, store.RequestFilter{AfterID: "req-99"}, none), foyer.ENOTFOUND)
		wantCode(t, "Requests with a negative limit", tx.Requests(ctx, store.RequestFilter{Limit: -1}, none), foyer.EINVALID)
		return nil
	})
}

// testRequestPagesLong pages past the backends' own page of 500 rows.
func testRequestPagesLong(t *testing.T, s store.Store) {
	var all []*foyer.Request
	for i := range 620 {
		all = append(all, newRequest(t, fmt.Sprintf("req-%04d", i), fmt.Sprintf("p%d@example.com", i), "partners"))
	}
	createRequests(t, s, all...)
	list := func(f store.RequestFilter) []string {
		var got []string
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			return tx.Requests(ctx, f, func(r *foyer.Request) error {
				got = append(got, r.ID)
				return nil
			})
		})
		return got
	}
	var want []string
	for _, r := range all {
		want = append(want, r.ID)
	}
	if got := list(store.RequestFilter{Limit: 510}); !slices.Equal(got, want[:510]) {
		t.Errorf("Requests(Limit 510) gave %d requests (%v...), want the first 510", len(got), got[:min(3, len(got))])
	}
	if got := list(store.RequestFilter{AfterID: "req-0009", Limit: 600}); !slices.Equal(got, want[10:610]) {
		t.Errorf("Requests(after req-0009, Limit 600) gave %d requests, want %d from req-0010", len(got), 600)
	}
	slices.Reverse(want)
	if got := list(store.RequestFilter{Newest: true, AfterID: "req-0600"}); !slices.Equal(got, want[20:]) {
		t.Errorf("Requests(newest, after req-0600) gave %d requests, want the 600 before it", len(got))
	}
}
