package portal

import (
	"net/http"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/web"
)

// A sponsor's page (/extend/{id}): the sponsors' expiry notice links
// here, so that a guest's sponsor, who is seldom an approver, can ask for
// more time without the approver UI. The page needs a signed-in person of
// the organisation; the engine says whether they sponsor the guest.

// sponsorPage is what the sponsor sees: the guest, the profile, when
// access ends, the latest ask, and the form while more time may be asked
// for.
type sponsorPage struct {
	page
	By                    string // who is signed in
	Guest, Email, Profile string
	Status                string
	Ends, EndsISO         string
	Extension, Reason     string
	Note                  string // why no form is offered
	Action, CSRF          string
	Until, Justification  string
	UntilError, WhyError  string
}

// sponsor returns the person signed in for the sponsor's page, nil when
// nobody is. Unlike the request page it keeps a guest of the tenant, whom
// the engine then refuses with its reason, rather than sending them to
// sign in again and again.
func (h *Handler) sponsor(r *http.Request) *foyer.Principal {
	if h.o.SignIn == nil {
		return nil
	}
	p, err := h.o.SignIn.Authenticate(r)
	if err != nil {
		h.log.InfoContext(r.Context(), "ignored a refused sign-in on the sponsor's page", "code", foyer.ErrorCode(err))
		return nil
	}
	if p != nil && p.App {
		return nil
	}
	return p
}

// notSignedIn answers someone not signed in: a GET goes to sign in and
// comes back; a form sent without a session (it ended while the page was
// open) is answered 401 with the same way back, as the approver UI
// answers it. Without sign-in nobody can use the page.
func (h *Handler) notSignedIn(w http.ResponseWriter, r *http.Request, id string) {
	back := localURL(r, "/extend/"+id)
	if h.o.SignIn == nil {
		h.message(w, r, http.StatusUnauthorized, messagePage{page: newPage(r, "sponsor.signin.title"),
			Paragraphs: []string{tr(web.Language(r), "sponsor.signin.none")}})
		return
	}
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		http.Redirect(w, r, h.o.SignIn.SignInURL(back), http.StatusSeeOther)
		return
	}
	pg := messagePage{page: newPage(r, "sponsor.signin.title")}
	pg.Paragraphs = []string{tr(pg.Lang, "sponsor.signin.text")}
	pg.LinkURL, pg.LinkText = h.o.SignIn.SignInURL(back), tr(pg.Lang, "signin.link")
	h.message(w, r, http.StatusUnauthorized, pg)
}

// sponsorError answers what the engine refused or failed at.
func (h *Handler) sponsorError(w http.ResponseWriter, r *http.Request, who *foyer.Principal, doing string, err error) {
	switch foyer.ErrorCode(err) {
	case foyer.ENOTFOUND:
		h.message(w, r, http.StatusNotFound, messagePage{page: newPage(r, "notfound.title"),
			Paragraphs: []string{tr(web.Language(r), "sponsor.unknown")}})
	case foyer.EFORBIDDEN:
		h.log.InfoContext(r.Context(), "refused someone on the sponsor's page", "principal", who.String(), "request", r.PathValue("id"))
		pg := messagePage{page: newPage(r, "sponsor.forbidden.title")}
		pg.Paragraphs = []string{tr(pg.Lang, "sponsor.forbidden", foyer.ErrorMessage(err)), tr(pg.Lang, "sponsor.as", who.String())}
		h.message(w, r, http.StatusForbidden, pg)
	default:
		h.fail(w, r, doing, err)
	}
}

// sponsorPage is GET /extend/{id}.
func (h *Handler) sponsorPage(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	who := h.sponsor(r)
	if who == nil {
		h.notSignedIn(w, r, id)
		return
	}
	h.showSponsor(w, r, http.StatusOK, who, nil, "", "")
}

// showSponsor reads the request as the sponsor may see it and shows the
// page, with what was typed and the problems of the form.
func (h *Handler) showSponsor(w http.ResponseWriter, r *http.Request, status int, who *foyer.Principal, errs []fieldError, until, why string) {
	id := r.PathValue("id")
	v, err := h.o.Intake.SponsorView(r.Context(), id, *who)
	if err != nil {
		h.sponsorError(w, r, who, "show a request to a sponsor", err)
		return
	}
	if v.Request == nil {
		h.fail(w, r, "show a request to a sponsor", foyer.Errorf(foyer.EINTERNAL, "the intake returned a view without its request"))
		return
	}
	req := v.Request
	pg := sponsorPage{page: newPage(r, "sponsor.title"), By: who.String(), Email: req.Email.String(), Profile: req.Profile,
		Action: localURL(r, "/extend/"+id), CSRF: web.CSRFToken(r), Until: until, Justification: why}
	pg.Errors = errs
	for _, e := range errs {
		switch e.Field {
		case "until":
			pg.UntilError = e.Message
		case "extension-why":
			pg.WhyError = e.Message
		}
	}
	pg.Guest = req.DisplayName
	if pg.Guest == "" {
		pg.Guest = pg.Email
	}
	switch req.State {
	case foyer.StateInvited, foyer.StateActive:
		pg.Status = tr(pg.Lang, "sponsor.state."+string(req.State))
	default:
		pg.Status = tr(pg.Lang, "sponsor.noaccess")
	}
	if !v.AccessEnds.IsZero() {
		pg.Ends, pg.EndsISO = when(pg.Lang, v.AccessEnds), v.AccessEnds.UTC().Format(time.RFC3339)
	}
	x := v.Extension
	if x != nil {
		key := "extend." + string(x.State)
		if x.State == foyer.ExtensionPending {
			key = "sponsor.pending" // the guest's words say "you asked"
		}
		pg.Extension = tr(pg.Lang, key, when(pg.Lang, x.Until))
		if x.State == foyer.ExtensionRejected {
			pg.Reason = x.Note
		}
	}
	switch {
	case v.CanExtend:
	case pg.Ends == "" && (req.State == foyer.StateInvited || req.State == foyer.StateActive):
		pg.Note = tr(pg.Lang, "sponsor.noend")
	case pg.Ends != "" && (x == nil || x.State != foyer.ExtensionPending):
		pg.Note = tr(pg.Lang, "sponsor.admin")
	}
	if !v.CanExtend {
		pg.Action = ""
	}
	h.render(w, r, status, "extend", &pg)
}

// sponsorAsk is POST /extend/{id}: the sponsor asks for more time, until
// the start (UTC) of the day given, then sees the page again, which says
// what became of it.
func (h *Handler) sponsorAsk(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	who := h.sponsor(r)
	if who == nil {
		h.notSignedIn(w, r, id)
		return
	}
	if err := r.ParseForm(); err != nil {
		h.fail(w, r, "read the form asking for more time", foyer.Errorf(foyer.EINVALID, "the form could not be read"))
		return
	}
	lang := web.Language(r)
	until, typed, why, errs := readAsk(r, lang)
	if errs == nil {
		// A request is asked for as often as an address may submit one:
		// each ask an automatic policy approves tells the guest and the
		// sponsors.
		if ok, retry := h.o.PerEmail.Allow("extend request " + id); !ok {
			h.log.InfoContext(r.Context(), "rate limited", "limit", "sponsor extension")
			web.TooManyRequests(w, r, retry)
			return
		}
		x, err := h.o.Intake.AskExtensionAsSponsor(r.Context(), id, *who, until, why)
		switch foyer.ErrorCode(err) {
		case "":
			h.log.InfoContext(r.Context(), "a sponsor asked for more time", "principal", who.String(), "request", id, "extension", x.ID, "state", x.State)
			http.Redirect(w, r, localURL(r, "/extend/"+id), http.StatusSeeOther)
			return
		case foyer.EINVALID, foyer.ECONFLICT:
			errs = append(errs, fieldError{Message: tr(lang, "err.extend", foyer.ErrorMessage(err))})
		default:
			h.sponsorError(w, r, who, "ask for more time as a sponsor", err)
			return
		}
	}
	h.showSponsor(w, r, http.StatusUnprocessableEntity, who, errs, typed, why)
}
