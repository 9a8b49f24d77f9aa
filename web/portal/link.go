package portal

import (
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

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
	// The end of access, when it ends, and the latest ask for more time
	// (Extension: what became of it; "" when none); ExtendAction is the
	// form that asks, when more time may be asked for.
	Ends, EndsISO       string
	Extension           string
	ExtensionReason     string
	ExtendAction, Until string
	Justification       string
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
	h.showStatusWith(w, r, status, token, v, errs, "", "")
}

// showStatusWith shows the status page with what was typed in the form
// asking for more time.
func (h *Handler) showStatusWith(w http.ResponseWriter, r *http.Request, status int, token string, v foyer.RequestView, errs []fieldError, until, why string) {
	if v.Expired {
		h.expired(w, r, v)
		return
	}
	if v.Request == nil {
		h.fail(w, r, "show a request's status", foyer.Errorf(foyer.EINTERNAL, "the intake returned a view without its request"))
		return
	}
	pg := statusPage{page: newPage(r, "status.title")}
	pg.Errors, pg.Until, pg.Justification = errs, until, why
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
	if !v.AccessEnds.IsZero() {
		pg.Ends, pg.EndsISO = when(pg.Lang, v.AccessEnds), v.AccessEnds.UTC().Format(time.RFC3339)
	}
	if x := v.Extension; x != nil {
		pg.Extension = tr(pg.Lang, "extend."+string(x.State), when(pg.Lang, x.Until))
		if x.State == foyer.ExtensionRejected {
			pg.ExtensionReason = x.Note
		}
	}
	if v.CanExtend {
		pg.ExtendAction = localURL(r, "/r/"+token+"/extension")
	}
	h.render(w, r, status, "status", &pg)
}

// extend is POST /r/{token}/extension: the guest asks for more time,
// until the start (UTC) of the day given, then sees the status page
// again, which says what became of it.
func (h *Handler) extend(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	if err := r.ParseForm(); err != nil {
		h.fail(w, r, "read the form asking for more time", foyer.Errorf(foyer.EINVALID, "the form could not be read"))
		return
	}
	lang := web.Language(r)
	until, typed, why, errs := readAsk(r, lang)
	var err error
	if errs == nil {
		// One link asks at most as often as one address may submit: an
		// ask an automatic policy approves at once frees the next, and
		// each tells the guest and the sponsors.
		if ok, retry := h.o.PerEmail.Allow("extend " + token); !ok {
			h.log.InfoContext(r.Context(), "rate limited", "limit", "extension")
			web.TooManyRequests(w, r, retry)
			return
		}
		_, err = h.o.Intake.AskExtensionByLink(r.Context(), token, until, why)
		switch foyer.ErrorCode(err) {
		case "":
			http.Redirect(w, r, localURL(r, "/r/"+token), http.StatusSeeOther)
			return
		case foyer.EINVALID, foyer.ECONFLICT, foyer.EFORBIDDEN:
			errs = append(errs, fieldError{Message: tr(lang, "err.extend", foyer.ErrorMessage(err))})
		default:
			h.linkError(w, r, "ask for more time", err)
			return
		}
	}
	v, serr := h.o.Intake.Status(r.Context(), token)
	if serr != nil {
		h.linkError(w, r, "show a request's status", serr)
		return
	}
	h.showStatusWith(w, r, http.StatusUnprocessableEntity, token, v, errs, typed, why)
}

// readAsk reads a parsed form asking for more time: the day the access
// should end (its start, in UTC), as typed, and why; errs holds what is
// wrong with them, in lang.
func readAsk(r *http.Request, lang string) (until time.Time, typed, why string, errs []fieldError) {
	typed, why = strings.TrimSpace(r.PostForm.Get("until")), strings.TrimSpace(r.PostForm.Get("justification"))
	until, err := time.Parse(time.DateOnly, typed)
	if err != nil {
		errs = append(errs, fieldError{Field: "until", Message: tr(lang, "err.until")})
	}
	if n := utf8.RuneCountInString(why); n > maxJustification {
		errs = append(errs, fieldError{Field: "extension-why", Message: tr(lang, "err.justification.long", maxJustification)})
	}
	return until, typed, why, errs
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
