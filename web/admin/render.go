package admin

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/web"
)

//go:embed templates
var templateFS embed.FS

// parsePages parses each page of templates/ with the layout.
func parsePages() (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"when": func(t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return t.UTC().Format("2006-01-02 15:04 UTC")
		},
		"iso": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"human": func(s any) string {
			return strings.ReplaceAll(fmt.Sprint(s), "_", " ")
		},
	}
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("admin: parse the layout: %w", err)
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("admin: list templates: %w", err)
	}
	pages := make(map[string]*template.Template)
	for _, n := range names {
		name := strings.TrimSuffix(path.Base(n), ".html")
		if name == "layout" {
			continue
		}
		t, err := template.Must(base.Clone()).ParseFS(templateFS, n)
		if err != nil {
			return nil, fmt.Errorf("admin: parse %s: %w", n, err)
		}
		pages[name] = t
	}
	return pages, nil
}

// view is what every page gets.
type view struct {
	Title string
	Who   *foyer.Principal
	Admin bool
	CSRF  string
	Data  any
}

// render writes a page, buffered so that a template error becomes a 500
// and not half a page.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, page, title string, data any) {
	t := h.pages[page]
	who := web.PrincipalFrom(r.Context())
	v := view{Title: title, Who: who, CSRF: h.o.CSRF(r), Data: data}
	v.Admin = who != nil && h.o.Admins.Matches(*who, "")
	var buf bytes.Buffer
	if t == nil {
		h.log.Error("admin: no such page template", "page", page)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if err := t.ExecuteTemplate(&buf, "layout.html", v); err != nil {
		h.log.Error("admin: render page", "page", page, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
