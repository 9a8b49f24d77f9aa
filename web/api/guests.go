package api

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/store"
)

// Page sizes of GET /api/v1/guests.
const (
	defaultGuestPage = 100
	maxGuestPage     = 1000
)

type guestJSON struct {
	UserID      string     `json:"user_id"`
	Email       string     `json:"email"`
	UPN         string     `json:"upn,omitempty"`
	DisplayName string     `json:"display_name"`
	Redemption  string     `json:"redemption"`
	Enabled     bool       `json:"enabled"`
	InvitedAt   *time.Time `json:"invited_at,omitempty"`
	LastSignIn  *time.Time `json:"last_sign_in,omitempty"`
	Profiles    []string   `json:"profiles"`
}

type guestPageJSON struct {
	Guests []guestJSON `json:"guests"`
	// Next is the path of the next page; absent on the last.
	Next string `json:"next,omitempty"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func guestOf(g *foyer.Guest) guestJSON {
	out := guestJSON{UserID: g.UserID, Email: g.Email.String(), UPN: g.UPN, DisplayName: g.DisplayName, Redemption: g.Redemption,
		Enabled: g.Enabled, InvitedAt: timePtr(g.InvitedAt), LastSignIn: timePtr(g.LastSignIn), Profiles: g.Profiles}
	if out.Profiles == nil {
		out.Profiles = []string{}
	}
	return out
}

// listGuests pages through the guests foyer knows, in address order: a
// page one longer than asked says whether there is a next one.
func (h *Handler) listGuests(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	f := store.GuestFilter{Query: q.Get("q"), After: q.Get("after"), Limit: defaultGuestPage}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxGuestPage {
			writeProblem(w, http.StatusBadRequest, foyer.EINVALID, "the query is bad",
				[]fieldError{{"limit", fmt.Sprintf("want a whole number from 1 to %d", maxGuestPage)}})
			return
		}
		f.Limit = n
	}
	limit := f.Limit
	f.Limit++
	page := guestPageJSON{Guests: []guestJSON{}}
	err := h.ledger.InTx(ctx, func(tx store.Tx) error {
		page.Guests = page.Guests[:0]
		return tx.ListGuests(ctx, f, func(g *foyer.Guest) error {
			page.Guests = append(page.Guests, guestOf(g))
			return nil
		})
	})
	if err != nil {
		h.writeError(w, r, "list guests", fmt.Errorf("list guests: %w", err))
		return
	}
	if len(page.Guests) > limit {
		page.Guests = page.Guests[:limit]
		next := url.Values{"after": {page.Guests[limit-1].Email}, "limit": {strconv.Itoa(limit)}}
		if f.Query != "" {
			next.Set("q", f.Query)
		}
		page.Next = "/api/v1/guests?" + next.Encode()
	}
	writeJSON(w, http.StatusOK, page)
}
