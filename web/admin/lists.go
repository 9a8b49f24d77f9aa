package admin

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/store"
)

type guestsData struct {
	Query  string
	Count  int
	Guests []*foyer.Guest
	Next   string // after= of the next page; "" on the last
}

// guests answers GET /admin/guests?q=&after=: a search over the ledger's
// guests, a page of 50 in address order, continued by address (keyset), so
// that a page costs the same at the first guest and the 100,000th.
func (h *Handler) guests(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	d := guestsData{Query: strings.TrimSpace(q.Get("q"))}
	if len(d.Query) > 200 {
		h.fail(w, r, foyer.Errorf(foyer.EINVALID, "the search is too long (200 characters at most)"))
		return
	}
	err := h.o.Store.InTx(r.Context(), func(tx store.Tx) error {
		d.Guests, d.Next = nil, ""
		var err error
		if d.Count, err = tx.CountGuests(r.Context(), d.Query); err != nil {
			return err
		}
		f := store.GuestFilter{Query: d.Query, After: q.Get("after"), Limit: pageSize + 1}
		return tx.ListGuests(r.Context(), f, func(g *foyer.Guest) error {
			if len(d.Guests) == pageSize {
				d.Next = string(d.Guests[pageSize-1].Email)
				return errEnough
			}
			d.Guests = append(d.Guests, g)
			return nil
		})
	})
	if err != nil && !errors.Is(err, errEnough) {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "guests", "Guests", d)
}

type auditData struct {
	Entries []store.AuditEntry
	Next    int64
}

// audit answers GET /admin/audit?after=: the audit log in order, a page
// at a time.
func (h *Handler) audit(w http.ResponseWriter, r *http.Request) {
	after, err := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
	if err != nil || after < 0 {
		after = 0
	}
	var d auditData
	err = h.o.Store.InTx(r.Context(), func(tx store.Tx) error {
		d = auditData{}
		return tx.AuditLog(r.Context(), store.AuditFilter{AfterSeq: after, Limit: pageSize + 1}, func(e store.AuditEntry) error {
			if len(d.Entries) == pageSize {
				d.Next = d.Entries[pageSize-1].Seq
				return errEnough
			}
			d.Entries = append(d.Entries, e)
			return nil
		})
	})
	if err != nil && !errors.Is(err, errEnough) {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "audit", "Audit log", d)
}

type guestData struct {
	Guest  *foyer.Guest
	Grants []store.HeldGrant
}

// guest answers GET /admin/guests/{id}: one guest and what it holds
// through foyer, profile by profile.
func (h *Handler) guest(w http.ResponseWriter, r *http.Request) {
	var d guestData
	err := h.o.Store.InTx(r.Context(), func(tx store.Tx) error {
		var err error
		if d.Guest, err = tx.Guest(r.Context(), r.PathValue("id")); err != nil {
			return err
		}
		d.Grants, err = tx.HeldGrants(r.Context(), d.Guest.UserID)
		return err
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "guest", d.Guest.Email.String(), d)
}
