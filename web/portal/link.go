package portal

import (
	"net/http"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/web"
)

type statusPage struct {
	page
	Status, Email, Profile string
	Confirm                bool
	Action, CSRF           string
	History                []historyRow
	// Reason is why a refused request was refused, in the approver's
	// words. The history's own notes are the ledger's, for admins: they
	// name approvers and ids, and are not shown to the requester.
	Reason string
}

type historyRow struct {
	ISO, When, What string
}

// status is GET /r/{token}: where the request stands. It changes nothing:
// mail scanners open links, so proving the address takes the button.
func (h *Handler) status(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	v, err := h.o.Intake.Status(r.Context(), token)
	if err != nil {
		h.linkError(w, r, "show a request's status", err)
		return
	}
	h.showStatus(w, r, http.StatusOK, token, v, nil)
}

// confirm is POST /r/{token}: the person proves the address, then sees
// the status page again.
func (h *Handler) confirm(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	_, err := h.o.Intake.Confirm(r.Context(), token)
	switch foyer.ErrorCode(err) {
	case "":
		http.Redirect(w, r, localURL(r, "/r/"+token), http.StatusSeeOther)
		return
	case foyer.EINVALID:
		v, serr := h.o.Intake.Status(r.Context(), token)
		if serr != nil {
			h.linkError(w, r, "show a request's status", serr)
			return
		}
		if v.Expired {
			h.expired(w, r, v)
			return
		}
		h.showStatus(w, r, http.StatusUnprocessableEntity, token, v, []fieldError{{Message: foyer.ErrorMessage(err)}})
	default:
		h.linkError(w, r, "confirm an address", err)
	}
}

func (h *Handler) linkError(w http.ResponseWriter, r *http.Request, doing string, err error) {
	if foyer.ErrorCode(err) == foyer.ENOTFOUND {
		h.message(w, r, http.StatusNotFound, messagePage{page: newPage(r, "link.title"), Paragraphs: []string{tr(web.Language(r), "link.unknown")}})
		return
	}
	h.fail(w, r, doing, err)
}

func (h *Handler) expired(w http.ResponseWriter, r *http.Request, v foyer.RequestView) {
	pg := messagePage{page: newPage(r, "expired.title")}
	pg.Paragraphs = []string{tr(pg.Lang, "expired.text")}
	if v.Request != nil && h.o.Profiles[v.Request.Profile] != nil {
		pg.LinkURL = localURL(r, "/request/"+v.Request.Profile)
		pg.LinkText = tr(pg.Lang, "expired.link")
	}
	h.message(w, r, http.StatusGone, pg)
}

func (h *Handler) showStatus(w http.ResponseWriter, r *http.Request, status int, token string, v foyer.RequestView, errs []fieldError) {
	if v.Expired {
		h.expired(w, r, v)
		return
	}
	if v.Request == nil {
		h.fail(w, r, "show a request's status", foyer.Errorf(foyer.EINTERNAL, "the intake returned a view without its request"))
		return
	}
	pg := statusPage{page: newPage(r, "status.title")}
	pg.Errors = errs
	req := v.Request
	pg.Status = tr(pg.Lang, "state."+string(req.State))
	pg.Email = req.Email.String()
	pg.Profile = req.Profile
	pg.Confirm = !v.Verified && req.State == foyer.StateReceived
	pg.Action = localURL(r, "/r/"+token)
	pg.CSRF = web.CSRFToken(r)
	for _, t := range v.History {
		pg.History = append(pg.History, historyRow{
			ISO:  t.At.UTC().Format(time.RFC3339),
			When: when(pg.Lang, t.At),
			What: tr(pg.Lang, "state."+string(t.To)),
		})
	}
	if req.State == foyer.StateRejected {
		pg.Reason = refusal(v)
	}
	h.render(w, r, status, "status", &pg)
}

// refusal is what the requester is told of why a request was refused: the
// denying approver's justification, or the engine's reason when nobody
// denied it (no stage took it, or nobody decided in time), which names
// nobody.
func refusal(v foyer.RequestView) string {
	for i := len(v.Decisions) - 1; i >= 0; i-- {
		if d := v.Decisions[i]; !d.Approve {
			return d.Justification
		}
	}
	for i := len(v.History) - 1; i >= 0; i-- {
		if t := v.History[i]; t.To == foyer.StateRejected {
			return t.Note
		}
	}
	return ""
}
