package email_test

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/foyer-dev/foyer/notify/email"
)

func TestDefaultTemplates(t *testing.T) {
	t.Parallel()
	inv := invitation()
	inv.AppName, inv.Organization, inv.InviterName, inv.InviterMessage, inv.Language = "", "", "", "", ""
	m, err := email.DefaultTemplates().Render(inv)
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "You are invited" || m.Language != "" {
		t.Errorf("subject %q language %q", m.Subject, m.Language)
	}
	if strings.Contains(m.Text, "Their message") || strings.Contains(m.HTML, "blockquote") {
		t.Errorf("an empty inviter message still shows:\n%s", m.Text)
	}
	if !strings.Contains(m.Text, "You have been invited to a shared workspace.") || !strings.Contains(m.HTML, `lang="en"`) {
		t.Errorf("defaults without names:\n%s\n%s", m.Text, m.HTML)
	}
	if m.ToName != "Ann Lee Bcc: evil@attacker.example" || m.To != "Ann.Lee@partner.example" {
		t.Errorf("to %q name %q", m.To, m.ToName)
	}
}

func TestMessageLinesInHTML(t *testing.T) {
	t.Parallel()
	inv := invitation()
	inv.InviterMessage = "first line\r\nsecond\x00 line\r\rthird"
	m, err := email.DefaultTemplates().Render(inv)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.HTML, "first line<br>second  line<br><br>third") {
		t.Errorf("message lines in HTML:\n%s", m.HTML)
	}
	if !strings.Contains(m.Text, "first line\nsecond  line\n\nthird") {
		t.Errorf("message lines in text:\n%s", m.Text)
	}
}

func TestRenderRefuses(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		edit func(*email.Invitation)
		want string
	}{
		{"javascript redeem URL", func(i *email.Invitation) { i.RedeemURL = "javascript:alert(1)" }, "absolute http(s)"},
		{"plain http to a remote host", func(i *email.Invitation) { i.RedeemURL = "http://login.example/redeem" }, "https"},
		{"no redeem URL", func(i *email.Invitation) { i.RedeemURL = "" }, "empty"},
		{"bad address", func(i *email.Invitation) { i.To = "ann@@x" }, "to:"},
	} {
		inv := invitation()
		tt.edit(&inv)
		_, err := email.DefaultTemplates().Render(inv)
		if !errors.Is(err, email.ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want ErrInvalid mentioning %q", tt.name, err, tt.want)
		}
	}
	inv := invitation()
	inv.RedeemURL = "http://127.0.0.1:8443/redeem?t=1"
	if _, err := email.DefaultTemplates().Render(inv); err != nil {
		t.Errorf("a loopback http redeem URL (the emulated tenant): %v", err)
	}
}

func TestLoadTemplates(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{
		email.SubjectFile: {Data: []byte("Access to {{.AppName}} for {{.ToName}}\n")},
		email.HTMLFile:    {Data: []byte(`<p>{{.InviterMessage}}</p><a href="{{.RedeemURL}}">Go</a>`)},
	}
	tpl, err := email.LoadTemplates(fsys)
	if err != nil {
		t.Fatal(err)
	}
	m, err := tpl.Render(invitation())
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "Access to Contoso Partner Portal for Ann Lee Bcc: evil@attacker.example" {
		t.Errorf("subject %q", m.Subject)
	}
	if !strings.HasPrefix(m.HTML, "<p>Welcome aboard!\n&lt;script&gt;") {
		t.Errorf("custom HTML did not escape the message: %s", m.HTML)
	}
	if !strings.Contains(m.Text, "To accept the invitation") {
		t.Errorf("the missing text template did not fall back to the default:\n%s", m.Text)
	}

	for _, tt := range []struct {
		name string
		fsys fstest.MapFS
		want string
	}{
		{"syntax", fstest.MapFS{email.TextFile: {Data: []byte("{{.To")}}, "parse invitation.txt"},
		{"unknown field", fstest.MapFS{email.HTMLFile: {Data: []byte("{{.Password}}")}}, "invitation.html"},
		{"two problems", fstest.MapFS{email.TextFile: {Data: []byte("{{if}}")}, email.SubjectFile: {Data: []byte("{{end}}")}}, "subject.txt"},
	} {
		_, err := email.LoadTemplates(tt.fsys)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want it to mention %q", tt.name, err, tt.want)
		}
	}
}

func BenchmarkRender(b *testing.B) {
	tpl := email.DefaultTemplates()
	inv := invitation()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tpl.Render(inv); err != nil {
			b.Fatal(err)
		}
	}
}
