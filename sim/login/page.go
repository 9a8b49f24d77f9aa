package login

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"sort"
)

// The pages are plain HTML with no script (but the form_post page's one-line
// auto-submit, which a button replaces when scripts are off). Everything shown
// goes through html/template. The input names and ids are Entra's (loginfmt /
// i0116, passwd / i0118, idSIButton9), so browser automation written for
// the real sign-in page finds its way here too.
const pageStyle = `body{font-family:"Segoe UI",Helvetica,Arial,sans-serif;background:#f2f2f2;margin:0}
main{max-width:440px;margin:48px auto;background:#fff;padding:44px;box-shadow:0 2px 6px rgba(0,0,0,.2)}
h1{font-size:24px;font-weight:600;margin:0 0 16px}label{display:block;margin:12px 0 4px}
input[type=text],input[type=email],input[type=password]{width:100%;box-sizing:border-box;padding:6px;font-size:15px}
button{margin-top:24px;background:#0067b8;color:#fff;border:0;padding:8px 32px;font-size:15px}
.error{color:#e81123;margin:8px 0}.small{font-size:12px;color:#555;word-break:break-all}`

var pages = template.Must(template.New("pages").Parse(`
{{define "head"}}<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="none"><title>{{.}}</title><style>` + pageStyle + `</style></head>{{end}}

{{define "signin"}}{{template "head" "Sign in to your account"}}<body><main>
<div class="small">{{.Tenant}}</div>
<h1>Sign in</h1>
<p>to continue to {{.App}}</p>
{{if .Error}}<div id="usernameError" class="error" role="alert">{{.Error}}</div>{{end}}
<form method="post" action="{{.Action}}" autocomplete="off">
<input type="hidden" name="ctx" value="{{.Ctx}}">
<label for="i0116">Email or username</label>
<input type="email" id="i0116" name="loginfmt" value="{{.Login}}" placeholder="someone@example.com" required autofocus>
<label for="i0118">Password</label>
<input type="password" id="i0118" name="passwd" required>
<button type="submit" id="idSIButton9">Sign in</button>
</form>
<p class="small">foyer sim: an emulated Microsoft Entra sign-in page.</p>
</main></body></html>{{end}}

{{define "error"}}{{template "head" "Sign in to your account"}}<body><main>
<h1>Sign in</h1>
<p>Sorry, but we’re having trouble signing you in.</p>
<p id="errorCode" class="error">AADSTS{{.Code}}: {{.Text}}</p>
<div class="small">
<div>Request Id: {{.TraceID}}</div>
<div>Correlation Id: {{.CorrelationID}}</div>
<div>Timestamp: {{.Timestamp}}</div>
</div>
</main></body></html>{{end}}

{{define "formpost"}}{{template "head" "Working..."}}<body><main>
<form method="post" action="{{.Action}}">
{{range .Fields}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{end}}<noscript><p>Script is disabled. Click Submit to continue.</p></noscript>
<button type="submit">Submit</button>
</form>
<script nonce="{{.Nonce}}">document.forms[0].submit()</script>
</main></body></html>{{end}}

{{define "signedout"}}{{template "head" "Sign out"}}<body><main>
<h1>You signed out of your account</h1>
<p>It's a good idea to close all browser windows.</p>
</main></body></html>{{end}}
`))

// writePage renders a page with headers that keep it out of caches and
// frames and, through its Content-Security-Policy, away from any script or
// form target but those named.
func writePage(w http.ResponseWriter, status int, csp, name string, data any) {
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, name, data); err != nil {
		http.Error(w, "render page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store, no-cache")
	h.Set("Pragma", "no-cache")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; "+csp)
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// signInPage shows the sign-in form of pending sign-in id. The form posts to
// this origin, which then redirects to the app at redirectURI: form-action
// must allow both.
func (a *Authority) signInPage(w http.ResponseWriter, tenant string, ts *tenantState, app *appState, id, redirectURI, login, msg string) {
	csp := "form-action 'self'"
	if src := formActionSource(redirectURI); src != "" {
		csp += " " + src
	}
	status := http.StatusOK
	if msg != "" {
		status = http.StatusBadRequest
	}
	writePage(w, status, csp, "signin", struct {
		Tenant, App, Action, Ctx, Login, Error string
	}{ts.DisplayName, app.DisplayName, "/" + url.PathEscape(tenant) + "/login", id, login, msg})
}

// errorPage shows an AADSTS error the way Entra's sign-in page does, instead
// of redirecting: the client or its redirect URI cannot be trusted with it.
func (a *Authority) errorPage(w http.ResponseWriter, r *http.Request, e *oauthError) {
	trace := a.newID()
	a.log.Info("login: sign-in error page", "path", r.URL.Path, "aadsts", e.aadsts, "trace_id", trace)
	writePage(w, e.status, "form-action 'none'", "error", struct {
		Code                                    int
		Text, TraceID, CorrelationID, Timestamp string
	}{e.aadsts, e.text, trace, a.newID(), a.now().Format("2006-01-02T15:04:05.000Z")})
}

// formPostPage delivers an authorize response with response_mode=form_post.
func (a *Authority) formPostPage(w http.ResponseWriter, r *http.Request, action string, params url.Values) {
	type field struct{ Name, Value string }
	var fields []field
	for k, vs := range params {
		for _, v := range vs {
			fields = append(fields, field{k, v})
		}
	}
	sort.Slice(fields, func(i, j int) bool { return fields[i].Name < fields[j].Name })
	nonce := base64.RawStdEncoding.EncodeToString(a.randomBytes(16))
	csp := fmt.Sprintf("script-src 'nonce-%s'; form-action", nonce)
	if src := formActionSource(action); src != "" {
		csp += " " + src
	} else {
		csp += " *"
	}
	writePage(w, http.StatusOK, csp, "formpost", struct {
		Action string
		Fields []field
		Nonce  string
	}{action, fields, nonce})
}

func (a *Authority) signedOutPage(w http.ResponseWriter) {
	writePage(w, http.StatusOK, "form-action 'none'", "signedout", nil)
}
