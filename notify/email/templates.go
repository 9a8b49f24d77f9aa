package email

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"net/url"
	"strings"
	texttemplate "text/template"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/notify"
)

// Invitation is what an invitation email says.
type Invitation struct {
	To             foyer.Address
	ToName         string
	Cc             []foyer.Address
	AppName        string // what the guest is invited to, e.g. "Contoso Partner Portal"
	Organization   string // who invites, e.g. the tenant's display name
	InviterName    string // the sponsor or admin who invites, if known
	InviterMessage string // the inviter's words, shown as written and escaped
	RedeemURL      string // the invitation's redeem URL from Graph (inviteRedeemUrl)
	Language       string // a language tag, e.g. en-US; "" for en
}

// Template files: a directory of per-profile templates holds any of these;
// a missing one falls back to the embedded default.
const (
	SubjectFile = "subject.txt"     // text/template, one line
	TextFile    = "invitation.txt"  // text/template, the text part
	HTMLFile    = "invitation.html" // html/template, the HTML part
)

//go:embed templates/*
var defaults embed.FS

// Templates render invitations. Templates see the fields of view.
type Templates struct {
	subject *texttemplate.Template
	text    *texttemplate.Template
	html    *htmltemplate.Template
}

// view is what templates see: the invitation's fields, cleaned.
type view struct {
	To             string
	ToName         string
	AppName        string
	Organization   string
	InviterName    string
	InviterMessage string   // as written, line breaks kept
	MessageLines   []string // InviterMessage split into lines, for <br>
	RedeemURL      string
	Language       string
	Lang           string // Language, or "en"
	Subject        string // the rendered subject (text and HTML parts only)
}

// DefaultTemplates returns the embedded templates: a plain, accessible
// HTML email with the redeem URL as a button and as a visible link, and a
// text part saying the same.
func DefaultTemplates() *Templates {
	t, err := parseTemplates(defaults, "templates/", nil)
	if err != nil {
		panic("email: the embedded templates do not parse: " + err.Error()) // caught by the package's tests
	}
	return t
}

// LoadTemplates reads a profile's templates from fsys (e.g. os.DirFS of
// the profile's template directory): SubjectFile, TextFile, HTMLFile, each
// optional. It renders a sample invitation to catch templates that name a
// missing field, and reports every problem at once.
func LoadTemplates(fsys fs.FS) (*Templates, error) {
	t, err := parseTemplates(fsys, "", DefaultTemplates())
	if err != nil {
		return nil, err
	}
	sample := Invitation{To: "sample@partner.example", ToName: "Sam Ple", AppName: "App", Organization: "Org",
		InviterName: "Ada", InviterMessage: "Welcome.\nSee you.", RedeemURL: "https://login.microsoftonline.com/redeem?x=1", Language: "en-US"}
	if _, err := t.Render(sample); err != nil {
		return nil, fmt.Errorf("the templates fail on a sample invitation: %w", err)
	}
	return t, nil
}

func parseTemplates(fsys fs.FS, dir string, fallback *Templates) (*Templates, error) {
	t := &Templates{}
	if fallback != nil {
		*t = *fallback
	}
	var errs []error
	read := func(name string) (string, bool) {
		b, err := fs.ReadFile(fsys, dir+name)
		switch {
		case errors.Is(err, fs.ErrNotExist) && fallback != nil:
			return "", false
		case err != nil:
			errs = append(errs, fmt.Errorf("read %s: %w", name, err))
			return "", false
		}
		return string(b), true
	}
	if s, ok := read(SubjectFile); ok {
		tt, err := texttemplate.New(SubjectFile).Option("missingkey=error").Parse(s)
		errs = append(errs, wrap(SubjectFile, err))
		t.subject = tt
	}
	if s, ok := read(TextFile); ok {
		tt, err := texttemplate.New(TextFile).Option("missingkey=error").Parse(s)
		errs = append(errs, wrap(TextFile, err))
		t.text = tt
	}
	if s, ok := read(HTMLFile); ok {
		ht, err := htmltemplate.New(HTMLFile).Option("missingkey=error").Parse(s)
		errs = append(errs, wrap(HTMLFile, err))
		t.html = ht
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return t, nil
}

func wrap(name string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("parse %s: %w", name, err)
}

// Render makes the invitation's message. The redeem URL must be an https
// URL (http only on a loopback host, for the emulated tenant); the inviter's
// words are escaped in the HTML part by html/template.
func (t *Templates) Render(inv Invitation) (Message, error) {
	var errs []error
	to, err := foyer.ParseAddress(string(inv.To))
	if err != nil {
		errs = append(errs, fmt.Errorf("to: %s", foyer.ErrorMessage(err)))
	}
	if err := checkRedeemURL(inv.RedeemURL); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return Message{}, &Error{Op: "build", Kind: ErrInvalid, Err: err}
	}
	v := view{
		To: string(to), ToName: displayName(inv.ToName), AppName: notify.OneLine(inv.AppName),
		Organization: notify.OneLine(inv.Organization), InviterName: notify.OneLine(inv.InviterName),
		InviterMessage: normalizeMessage(inv.InviterMessage), RedeemURL: inv.RedeemURL,
		Language: notify.OneLine(inv.Language), Lang: "en",
	}
	if v.InviterMessage != "" {
		v.MessageLines = strings.Split(v.InviterMessage, "\n")
	}
	if v.Language != "" && isLanguageTag(v.Language) {
		v.Lang = v.Language
	}
	var subject, text, html bytes.Buffer
	if err := t.subject.Execute(&subject, v); err != nil {
		return Message{}, &Error{Op: "build", Kind: ErrInvalid, Err: fmt.Errorf("render %s: %w", SubjectFile, err)}
	}
	v.Subject = notify.OneLine(subject.String())
	if err := t.text.Execute(&text, v); err != nil {
		return Message{}, &Error{Op: "build", Kind: ErrInvalid, Err: fmt.Errorf("render %s: %w", TextFile, err)}
	}
	if err := t.html.Execute(&html, v); err != nil {
		return Message{}, &Error{Op: "build", Kind: ErrInvalid, Err: fmt.Errorf("render %s: %w", HTMLFile, err)}
	}
	m := Message{To: to, ToName: v.ToName, Cc: inv.Cc, Subject: v.Subject, Text: text.String(), HTML: html.String(), Language: v.Language}
	return m.clean()
}

// normalizeMessage keeps the inviter's line breaks (as \n) and drops every
// other control character.
func normalizeMessage(s string) string {
	s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = notify.OneLine(l)
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

func checkRedeemURL(raw string) error {
	if raw == "" {
		return errors.New("the redeem URL is empty")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || notify.SafeLink(raw) == "" {
		return errors.New("the redeem URL is not an absolute http(s) URL")
	}
	if u.Scheme != "https" {
		if _, err := notify.CheckWebhookURL(raw); err != nil {
			return errors.New("the redeem URL must use https")
		}
	}
	return nil
}
