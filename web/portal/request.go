package portal

import (
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/web"
)

// Field lengths, in characters.
const (
	maxName          = 200
	maxCompany       = 200
	maxJustification = 2000
	defaultAnswerLen = 500
)

// field is one input of the form, as the template draws it.
type field struct {
	ID, Label, Hint, Value, Error string
	Type, Autocomplete            string
	Required, Multiline           bool
	Choices                       []choice
}

type choice struct {
	Value    string
	Selected bool
}

// Describedby lists the ids of the field's hint and error.
func (f field) Describedby() string {
	var ids []string
	if f.Hint != "" {
		ids = append(ids, f.ID+"-hint")
	}
	if f.Error != "" {
		ids = append(ids, f.ID+"-error")
	}
	return strings.Join(ids, " ")
}

// fieldError is one problem of the form, for the summary at its top.
type fieldError struct {
	Field   string // the input's id; "" for the form as a whole
	Message string
}

type formPage struct {
	page
	Action, CSRF, SignInURL, By string
	Fields                      []field
}

// entry is what was typed.
type entry struct {
	name, email, company, justification string
	answers                             map[string]string
}

func readEntry(r *http.Request, p *foyer.Profile) entry {
	e := entry{
		name:          strings.TrimSpace(r.PostFormValue("name")),
		email:         strings.TrimSpace(r.PostFormValue("email")),
		company:       strings.TrimSpace(r.PostFormValue("company")),
		justification: strings.TrimSpace(r.PostFormValue("justification")),
		answers:       map[string]string{},
	}
	for _, q := range p.Questions {
		if v := strings.TrimSpace(r.PostFormValue(questionID(q))); v != "" {
			e.answers[q.ID] = v
		}
	}
	return e
}

func questionID(q foyer.Question) string { return "q_" + q.ID }

// check returns every problem of e at once, by field id.
func check(lang string, p *foyer.Profile, e entry) map[string]string {
	bad := map[string]string{}
	line := func(id, v string, max int, required, long string) {
		switch {
		case v == "" && required != "":
			bad[id] = tr(lang, required)
		case utf8.RuneCountInString(v) > max:
			bad[id] = tr(lang, long, max)
		case strings.ContainsFunc(v, unicode.IsControl):
			bad[id] = tr(lang, "err.line")
		}
	}
	line("name", e.name, maxName, "err.name.required", "err.name.long")
	line("company", e.company, maxCompany, "", "err.company.long")
	switch {
	case e.email == "":
		bad["email"] = tr(lang, "err.email.required")
	default:
		if _, err := foyer.ParseAddress(e.email); err != nil {
			bad["email"] = tr(lang, "err.email.invalid")
		}
	}
	switch {
	case e.justification == "":
		bad["justification"] = tr(lang, "err.justification.required")
	case utf8.RuneCountInString(e.justification) > maxJustification:
		bad["justification"] = tr(lang, "err.justification.long", maxJustification)
	case strings.ContainsFunc(e.justification, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' }):
		bad["justification"] = tr(lang, "err.line")
	}
	for _, q := range p.Questions {
		v, id, label := e.answers[q.ID], questionID(q), q.LabelFor(lang)
		limit := q.MaxLen
		if limit <= 0 {
			limit = defaultAnswerLen
		}
		switch {
		case v == "" && q.Required:
			bad[id] = tr(lang, "err.answer.required", label)
		case v == "":
		case len(q.Choices) > 0 && !containsString(q.Choices, v):
			bad[id] = tr(lang, "err.answer.choice", label)
		case utf8.RuneCountInString(v) > limit:
			bad[id] = tr(lang, "err.answer.long", label, limit)
		case strings.ContainsFunc(v, unicode.IsControl):
			bad[id] = tr(lang, "err.line")
		}
	}
	return bad
}

func containsString(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// fields draws the form with what was typed and its problems, and lists
// the problems in the order of the fields.
func fields(lang string, p *foyer.Profile, e entry, bad map[string]string) ([]field, []fieldError) {
	fs := []field{
		{ID: "name", Label: tr(lang, "field.name"), Value: e.name, Type: "text", Autocomplete: "name", Required: true},
		{ID: "email", Label: tr(lang, "field.email"), Hint: tr(lang, "hint.email"), Value: e.email, Type: "email", Autocomplete: "email", Required: true},
		{ID: "company", Label: tr(lang, "field.company"), Value: e.company, Type: "text", Autocomplete: "organization"},
		{ID: "justification", Label: tr(lang, "field.justification"), Hint: tr(lang, "hint.justification"), Value: e.justification, Multiline: true, Required: true},
	}
	for _, q := range p.Questions {
		f := field{ID: questionID(q), Label: q.LabelFor(lang), Value: e.answers[q.ID], Type: "text", Required: q.Required}
		for _, c := range q.Choices {
			f.Choices = append(f.Choices, choice{Value: c, Selected: c == f.Value})
		}
		fs = append(fs, f)
	}
	var errs []fieldError
	for i := range fs {
		if msg, ok := bad[fs[i].ID]; ok {
			fs[i].Error = msg
			errs = append(errs, fieldError{Field: fs[i].ID, Message: msg})
		}
	}
	return fs, errs
}

// profile finds the profile of the path, answering 404 when there is
// none.
func (h *Handler) profile(w http.ResponseWriter, r *http.Request) *foyer.Profile {
	name := r.PathValue("profile")
	p := h.o.Profiles[name]
	if p == nil {
		web.ErrorPage(w, r, http.StatusNotFound, tr(web.Language(r), "notfound.profile", name))
	}
	return p
}

// closed answers the page of a profile closed to the public for someone
// not signed in.
func (h *Handler) closed(w http.ResponseWriter, r *http.Request, p *foyer.Profile) {
	pg := messagePage{page: newPage(r, "signin.title")}
	if h.o.SignIn == nil {
		pg.Paragraphs = []string{tr(pg.Lang, "signin.none", p.Name)}
	} else {
		pg.Paragraphs = []string{tr(pg.Lang, "signin.text", p.Name)}
		pg.LinkURL = h.o.SignIn.SignInURL(localURL(r, "/request/"+p.Name))
		pg.LinkText = tr(pg.Lang, "signin.link")
	}
	h.message(w, r, http.StatusOK, pg)
}

func (h *Handler) showForm(w http.ResponseWriter, r *http.Request, status int, p *foyer.Profile, by *foyer.Principal, e entry, bad map[string]string, top []fieldError) {
	pg := formPage{page: newPage(r, "form.title", p.Name), Action: localURL(r, "/request/"+p.Name), CSRF: web.CSRFToken(r)}
	pg.Fields, pg.Errors = fields(pg.Lang, p, e, bad)
	pg.Errors = append(top, pg.Errors...)
	if by != nil {
		pg.By = by.String()
	} else if h.o.SignIn != nil {
		pg.SignInURL = h.o.SignIn.SignInURL(localURL(r, "/request/"+p.Name))
	}
	h.render(w, r, status, "form", &pg)
}

// form is GET /request/{profile}.
func (h *Handler) form(w http.ResponseWriter, r *http.Request) {
	p := h.profile(w, r)
	if p == nil {
		return
	}
	by := h.signedIn(r)
	if !p.Public && by == nil {
		h.closed(w, r, p)
		return
	}
	h.showForm(w, r, http.StatusOK, p, by, entry{}, nil, nil)
}

// submit is POST /request/{profile}.
func (h *Handler) submit(w http.ResponseWriter, r *http.Request) {
	p := h.profile(w, r)
	if p == nil {
		return
	}
	by := h.signedIn(r)
	if !p.Public && by == nil {
		h.closed(w, r, p)
		return
	}
	lang := web.Language(r)
	e := readEntry(r, p)
	if bad := check(lang, p, e); len(bad) > 0 {
		h.showForm(w, r, http.StatusUnprocessableEntity, p, by, e, bad, nil)
		return
	}
	addr, _ := foyer.ParseAddress(e.email) // checked above
	if ok, retry := h.o.PerEmail.Allow(addr.Key()); !ok {
		h.log.InfoContext(r.Context(), "rate limited", "limit", "email")
		web.TooManyRequests(w, r, retry)
		return
	}
	if ok, retry := h.o.PerDomain.Allow(strings.ToLower(addr.Domain())); !ok {
		h.log.InfoContext(r.Context(), "rate limited", "limit", "domain")
		web.TooManyRequests(w, r, retry)
		return
	}
	receipt, err := h.o.Intake.Submit(r.Context(), foyer.Submission{
		Profile:     p.Name,
		Email:       e.email,
		DisplayName: e.name,
		Details: foyer.Details{
			Company:       e.company,
			Justification: e.justification,
			Answers:       e.answers,
			Language:      lang,
		},
		Origin: foyer.OriginPortal,
		By:     by,
	})
	switch code := foyer.ErrorCode(err); code {
	case "":
	case foyer.EINVALID, foyer.EFORBIDDEN, foyer.ECONFLICT:
		status := map[string]int{foyer.EINVALID: http.StatusUnprocessableEntity, foyer.EFORBIDDEN: http.StatusForbidden, foyer.ECONFLICT: http.StatusConflict}[code]
		top := []fieldError{{Message: tr(lang, "err.refused", foyer.ErrorMessage(err))}}
		h.showForm(w, r, status, p, by, e, nil, top)
		return
	default:
		h.fail(w, r, "submit a request", err)
		return
	}
	if by != nil {
		state := ""
		if receipt.Request != nil {
			state = tr(lang, "state."+string(receipt.Request.State))
		}
		h.message(w, r, http.StatusOK, messagePage{page: newPage(r, "recorded.title"), Paragraphs: []string{tr(lang, "recorded.text", e.email, state)}})
		return
	}
	// The same page whether the address asked before or not: it says
	// nothing of who asked for what.
	h.message(w, r, http.StatusOK, messagePage{page: newPage(r, "sent.title"), Paragraphs: []string{
		tr(lang, "sent.text", addr.String()),
		tr(lang, "sent.more"),
	}})
}
