package web

import (
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/foyer-dev/foyer"
)

//go:embed static
var staticFiles embed.FS

// staticHandler serves the embedded CSS under /static/, cacheable for a
// day (the file names do not change with the content, so not longer).
func staticHandler() http.Handler {
	sub, err := fs.Sub(staticFiles, "static")
	if err != nil {
		panic(err) // the embedded directory exists at build time
	}
	files := http.StripPrefix("/static/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=86400")
		files.ServeHTTP(w, r)
	})
}

// texts are web's own words, by language: the titles and explanations of
// the error pages.
var texts = map[string]map[string]string{
	"en": {
		"400":       "Bad request",
		"400.d":     "The server could not read what was sent.",
		"401":       "Sign-in needed",
		"401.d":     "This page is for signed-in people. Sign-in is not available here.",
		"401.again": "You are not signed in, or your session ended: nothing was done. Sign in, then send the form again.",
		"signin":    "Sign in",
		"403":       "Not allowed",
		"403.d":     "You are signed in, but this page is not for you. Ask an administrator if you think it should be.",
		"404":       "Page not found",
		"404.d":     "There is nothing at this address.",
		"413":       "Too much sent",
		"413.d":     "What was sent is larger than this page accepts. Shorten the text and send it again.",
		"429":       "Too many attempts",
		"429.d":     "There were too many attempts in a short time. Try again in %s.",
		"500":       "Something went wrong",
		"500.d":     "The server could not answer. Try again later; the administrators can find what happened in the log.",
		"503":       "Not available",
		"503.d":     "The service cannot answer just now. Try again in a few minutes.",
		"csrf":      "The form was too old or did not come from this site. Go back, reload the page and send it again.",
		"seconds":   "%d seconds",
		"minutes":   "%d minutes",
		"minute":    "1 minute",
		"error":     "Error",
	},
	"fr": {
		"400":       "Requête incorrecte",
		"400.d":     "Le serveur n’a pas pu lire ce qui a été envoyé.",
		"401":       "Connexion nécessaire",
		"401.d":     "Cette page est réservée aux personnes connectées. La connexion n’est pas disponible ici.",
		"401.again": "Vous n’êtes pas connecté, ou votre session a pris fin : rien n’a été fait. Connectez-vous, puis envoyez le formulaire à nouveau.",
		"signin":    "Se connecter",
		"403":       "Accès refusé",
		"403.d":     "Vous êtes connecté, mais cette page ne vous est pas destinée. Demandez à un administrateur si vous pensez qu’elle devrait l’être.",
		"404":       "Page introuvable",
		"404.d":     "Il n’y a rien à cette adresse.",
		"413":       "Envoi trop volumineux",
		"413.d":     "Ce qui a été envoyé dépasse ce que cette page accepte. Raccourcissez le texte et envoyez-le à nouveau.",
		"429":       "Trop de tentatives",
		"429.d":     "Il y a eu trop de tentatives en peu de temps. Réessayez dans %s.",
		"500":       "Une erreur est survenue",
		"500.d":     "Le serveur n’a pas pu répondre. Réessayez plus tard ; les administrateurs trouveront ce qui s’est passé dans le journal.",
		"503":       "Service indisponible",
		"503.d":     "Le service ne peut pas répondre pour le moment. Réessayez dans quelques minutes.",
		"csrf":      "Le formulaire était trop ancien ou ne venait pas de ce site. Revenez en arrière, rechargez la page et envoyez-le à nouveau.",
		"seconds":   "%d secondes",
		"minutes":   "%d minutes",
		"minute":    "1 minute",
		"error":     "Erreur",
	},
}

func text(lang, key string) string {
	if s, ok := texts[lang][key]; ok {
		return s
	}
	return texts["en"][key]
}

const msgCSRF = "\x00csrf"

var errorTemplate = template.Must(template.New("error").Parse(`<!doctype html>
<html lang="{{.Lang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} – foyer</title>
<link rel="stylesheet" href="/static/foyer.css">
</head>
<body>
<main id="main" class="page">
<h1>{{.Title}}</h1>
<p>{{.Detail}}</p>
{{if .Link}}<p><a href="{{.Link}}">{{.LinkText}}</a></p>{{end}}
</main>
</body>
</html>
`))

// ErrorPage answers status with a page in the request's language. detail
// is what to tell the person, already in that language; "" says the
// status's own words. It is escaped.
func ErrorPage(w http.ResponseWriter, r *http.Request, status int, detail string) {
	lang := Language(r)
	if detail == msgCSRF {
		detail = text(lang, "csrf")
	}
	title := text(lang, fmt.Sprint(status))
	if title == "" {
		title = http.StatusText(status)
		if title == "" {
			title = text(lang, "error")
		}
	}
	if detail == "" {
		detail = text(lang, fmt.Sprint(status)+".d")
	}
	errorPage(w, status, errorData{Lang: lang, Title: title, Detail: detail})
}

type errorData struct{ Lang, Title, Detail, Link, LinkText string }

func errorPage(w http.ResponseWriter, status int, d errorData) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	// A failed write is the client gone: nothing to tell anyone.
	_ = errorTemplate.Execute(w, d)
}

// signInAgain answers a form sent without a session (it ended while the
// page was open) with 401 and a link to sign in and come back to the page
// the form was on: the parent of the form's action (/admin/requests/{id}
// for /admin/requests/{id}/decide). The browser sends no Referer
// (Referrer-Policy: no-referrer), so the path is all there is.
func signInAgain(w http.ResponseWriter, r *http.Request, in SignIn) {
	lang := Language(r)
	next := path.Dir(r.URL.Path)
	if !strings.HasPrefix(next, "/admin") {
		next = "/admin"
	}
	errorPage(w, http.StatusUnauthorized, errorData{Lang: lang, Title: text(lang, "401"), Detail: text(lang, "401.again"),
		Link: in.SignInURL(next), LinkText: text(lang, "signin")})
}

// TooManyRequests answers 429 with Retry-After and a page saying when to
// try again.
func TooManyRequests(w http.ResponseWriter, r *http.Request, retry time.Duration) {
	lang := Language(r)
	w.Header().Set("Retry-After", retryAfter(retry))
	ErrorPage(w, r, http.StatusTooManyRequests, fmt.Sprintf(text(lang, "429.d"), Wait(lang, retry)))
}

// Wait says a duration for people: "45 seconds", "1 minute", "12 minutes".
func Wait(lang string, d time.Duration) string {
	switch {
	case d <= 59*time.Second:
		return fmt.Sprintf(text(lang, "seconds"), max(1, int((d+time.Second-1)/time.Second)))
	case d <= time.Minute:
		return text(lang, "minute")
	default:
		m := int((d + time.Minute - 1) / time.Minute)
		if m == 1 {
			return text(lang, "minute")
		}
		return fmt.Sprintf(text(lang, "minutes"), m)
	}
}

// problem is an RFC 9457 problem document.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
}

// Problem answers status with an application/problem+json document.
func Problem(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: detail})
}

// Status is the HTTP status that answers an error with foyer's code: the
// one mapping the pages and the API share.
func Status(code string) int {
	switch code {
	case foyer.EINVALID:
		return http.StatusBadRequest
	case foyer.ENOTFOUND:
		return http.StatusNotFound
	case foyer.ECONFLICT:
		return http.StatusConflict
	case foyer.EFORBIDDEN:
		return http.StatusForbidden
	case foyer.ETHROTTLED:
		return http.StatusTooManyRequests
	case foyer.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}
