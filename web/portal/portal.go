// Package portal is the public request page: a person asks for a
// profile's access (/request/{profile}), proves their address with the
// link they are sent, and follows the request there (/r/{token}). A
// signed-in employee uses the same page to ask for someone else, and a
// guest's sponsor, signed in, asks for more time for its access
// (/extend/{id}, the link of the sponsors' expiry notice).
//
// portal imports the root package and web; cmd/foyer/cli hands its
// routes to web.New.
package portal

import (
	"context"
	"embed"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/web"
)

// Intake is what the page needs of the engine.
type Intake interface {
	// Submit asks for a profile; see engine.Submit for its errors.
	Submit(ctx context.Context, s foyer.Submission) (foyer.Receipt, error)
	// Confirm proves the address of a link once; ENOTFOUND for an
	// unknown token, EINVALID once the link expired.
	Confirm(ctx context.Context, token string) (foyer.RequestView, error)
	// Status shows a link's request without changing it.
	Status(ctx context.Context, token string) (foyer.RequestView, error)
	// AskExtensionByLink asks, as the guest the link is for, for more
	// time for the request's access; see engine.AskExtension for its
	// errors.
	AskExtensionByLink(ctx context.Context, token string, until time.Time, justification string) (*foyer.Extension, error)
	// SponsorView shows a request to a sponsor of its guest, without
	// its history; EFORBIDDEN for anyone else (engine.SponsorView).
	SponsorView(ctx context.Context, requestID string, who foyer.Principal) (foyer.RequestView, error)
	// AskExtensionAsSponsor asks, as a sponsor of the guest, for more
	// time for the request's access; see engine.AskExtensionAsSponsor.
	AskExtensionAsSponsor(ctx context.Context, requestID string, who foyer.Principal, until time.Time, justification string) (*foyer.Extension, error)
}

// Options configure the Handler.
type Options struct {
	Intake   Intake
	Profiles map[string]*foyer.Profile // by name
	// SignIn finds a signed-in employee, who asks for someone else
	// without proving an address; nil: the page is for the public only.
	SignIn web.SignIn
	// PerEmail and PerDomain limit submissions per address and per
	// domain; nil: 5 and 50 an hour (web.DefaultLimits).
	PerEmail  *web.Limiter
	PerDomain *web.Limiter
	Clock     foyer.Clock  // nil: the system clock
	Log       *slog.Logger // nil: discarded
}

// Handler answers the request page and the status links.
type Handler struct {
	o     Options
	log   *slog.Logger
	pages map[string]*template.Template
}

//go:embed templates
var templateFiles embed.FS

// New returns the page's handler.
func New(o Options) (*Handler, error) {
	if o.Intake == nil {
		return nil, foyer.Errorf(foyer.EINVALID, "portal: no intake")
	}
	if o.Clock == nil {
		o.Clock = foyer.SystemClock{}
	}
	d := web.DefaultLimits()
	if o.PerEmail == nil {
		o.PerEmail = web.NewLimiter(d.PerEmail, o.Clock)
	}
	if o.PerDomain == nil {
		o.PerDomain = web.NewLimiter(d.PerDomain, o.Clock)
	}
	h := &Handler{o: o, log: o.Log, pages: map[string]*template.Template{}}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	for _, name := range []string{"form", "message", "status", "extend"} {
		t, err := template.ParseFS(templateFiles, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, foyer.Errorf(foyer.EINTERNAL, "portal: parse the %s page: %v", name, err)
		}
		h.pages[name] = t
	}
	return h, nil
}

// Routes returns the page's routes, all public: the links reach people
// who are not signed in.
func (h *Handler) Routes() []web.Route {
	return []web.Route{
		{Method: http.MethodGet, Pattern: "/request/{profile}", Access: web.Public, Handler: http.HandlerFunc(h.form)},
		{Method: http.MethodPost, Pattern: "/request/{profile}", Access: web.Public, Handler: http.HandlerFunc(h.submit)},
		{Method: http.MethodGet, Pattern: "/r/{token}", Access: web.Public, Handler: http.HandlerFunc(h.status)},
		{Method: http.MethodPost, Pattern: "/r/{token}", Access: web.Public, Handler: http.HandlerFunc(h.confirm)},
		{Method: http.MethodPost, Pattern: "/r/{token}/extension", Access: web.Public, Handler: http.HandlerFunc(h.extend)},
		// Public to web, like the request page: the handler needs a
		// signed-in employee and the engine a sponsor of the guest, not
		// the approver UI's roles, which most sponsors lack.
		{Method: http.MethodGet, Pattern: "/extend/{id}", Access: web.Public, Handler: http.HandlerFunc(h.sponsorPage)},
		{Method: http.MethodPost, Pattern: "/extend/{id}", Access: web.Public, Handler: http.HandlerFunc(h.sponsorAsk)},
	}
}

// page is what every template gets.
type page struct {
	Lang, Other string
	Title       string
	SwitchURL   string
	Errors      []fieldError
}

// T returns a catalogue text in the page's language.
func (p *page) T(key string, args ...any) string { return tr(p.Lang, key, args...) }

func newPage(r *http.Request, titleKey string, args ...any) page {
	lang := web.Language(r)
	other := "fr"
	if lang == "fr" {
		other = "en"
	}
	return page{
		Lang:      lang,
		Other:     other,
		Title:     tr(lang, titleKey, args...),
		SwitchURL: r.URL.Path + "?lang=" + other,
	}
}

// localURL is path with the page's language kept when the visitor chose
// it.
func localURL(r *http.Request, path string) string {
	if l := r.URL.Query().Get("lang"); l != "" && l == web.Language(r) {
		return path + "?lang=" + url.QueryEscape(l)
	}
	return path
}

func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := h.pages[name].ExecuteTemplate(w, "layout", data); err != nil {
		h.log.ErrorContext(r.Context(), "render a page", "page", name, "err", err)
	}
}

// messagePage is a page of a few paragraphs and maybe a link.
type messagePage struct {
	page
	Paragraphs        []string
	LinkURL, LinkText string
}

func (h *Handler) message(w http.ResponseWriter, r *http.Request, status int, m messagePage) {
	h.render(w, r, status, "message", &m)
}

// fail answers an engine error that is not the person's to fix.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, doing string, err error) {
	h.log.ErrorContext(r.Context(), doing, "code", foyer.ErrorCode(err), "err", err)
	status := http.StatusInternalServerError
	if foyer.ErrorCode(err) == foyer.EUNAVAILABLE || errors.Is(err, context.DeadlineExceeded) {
		status = http.StatusServiceUnavailable
	}
	web.ErrorPage(w, r, status, tr(web.Language(r), "unavailable"))
}

// signedIn returns the employee signed in, if the page knows sign-in.
func (h *Handler) signedIn(r *http.Request) *foyer.Principal {
	if h.o.SignIn == nil {
		return nil
	}
	p, err := h.o.SignIn.Authenticate(r)
	if err != nil {
		h.log.InfoContext(r.Context(), "ignored a refused sign-in on the request page", "code", foyer.ErrorCode(err))
		return nil
	}
	if p != nil && (p.App || p.Guest()) {
		// Only the organisation's own people ask for someone else
		// without proving an address: a guest signed in to the tenant
		// is on the page as anyone is.
		return nil
	}
	return p
}
