package cli

import (
	"errors"
	"net"
	"net/mail"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/config"
	"github.com/foyer-dev/foyer/engine"
	"github.com/foyer-dev/foyer/notify/email"
	"github.com/foyer-dev/foyer/notify/email/smtptest"
)

// testMailer is an smtpMailer on the SMTP server at host:port, with tpl
// (the default templates when nil).
func testMailer(t *testing.T, host string, port int, srv *smtptest.Server, tpl *email.Templates) *smtpMailer {
	t.Helper()
	opts := email.Options{Host: host, Port: port, From: "invitations@contoso.example", FromName: "Contoso Access",
		Timeout: 5 * time.Second, Clock: foyer.ClockFunc(func() time.Time { return time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) })}
	if srv != nil {
		opts.Username, opts.Password, opts.RootCAs = srv.Username, srv.Password, srv.RootCAs
	}
	s, err := email.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if tpl == nil {
		tpl = email.DefaultTemplates()
	}
	return &smtpMailer{sender: s, templates: tpl, profile: &config.Profile{Email: &config.Email{AppName: "Contoso Portal", Organization: "Contoso"}}}
}

// closedPort returns a loopback port nothing listens on: a mailer pointed
// there fails any call that connects.
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

func goodMail() engine.InvitationMail {
	return engine.InvitationMail{ID: "foyer.run1.req1", Profile: "partners", To: "anne@partner.example", ToName: `Anne "the boss" Lee`,
		RedeemURL: "https://login.microsoftonline.com/redeem?rd=x&ticket=T1", Message: "Welcome.", Language: "en-GB", CC: "sponsor@contoso.example"}
}

// mailCases are invitation emails, each one that can be built or not.
var mailCases = []struct {
	name   string
	change func(*engine.InvitationMail)
	tpl    map[string]string // the profile's templates, if not the default
	want   string            // "" when the email can be built, else words of the error
}{
	{name: "good", change: func(*engine.InvitationMail) {}},
	{name: "before the invitation: no redeem URL yet", change: func(m *engine.InvitationMail) { m.RedeemURL = "" }},
	{name: "names of every kind", change: func(m *engine.InvitationMail) {
		m.ToName = "Zoë Ünal, 山田 \\ <x@y> ;\r\n" + strings.Repeat("名", 200)
	}},
	{name: "no name", change: func(m *engine.InvitationMail) { m.ToName = "" }},
	{name: "name over 256 characters", change: func(m *engine.InvitationMail) { m.ToName = strings.Repeat("é", 257) }, want: "257 characters"},
	{name: "bad address", change: func(m *engine.InvitationMail) { m.To = "anne at partner" }, want: "has no @"},
	{name: "bad cc", change: func(m *engine.InvitationMail) { m.CC = "sponsor@" }, want: "Cc"},
	{name: "bad message id", change: func(m *engine.InvitationMail) { m.ID = "run 1@x" }, want: "message id"},
	{name: "bad language", change: func(m *engine.InvitationMail) { m.Language = "en_GB!" }, want: "language"},
	{name: "redeem URL not http", change: func(m *engine.InvitationMail) { m.RedeemURL = "javascript:alert(1)" }, want: "redeem URL"},
	{name: "template that fails on this row", change: func(m *engine.InvitationMail) { m.Message = "" },
		tpl: map[string]string{email.TextFile: "{{index .MessageLines 0}}\n{{.RedeemURL}}"}, want: "invitation.txt"},
	{name: "template that works on this row", change: func(*engine.InvitationMail) {},
		tpl: map[string]string{email.TextFile: "{{index .MessageLines 0}}\n{{.RedeemURL}}"}},
}

func mailCaseTemplates(t *testing.T, files map[string]string) *email.Templates {
	t.Helper()
	if files == nil {
		return nil
	}
	fsys := fstest.MapFS{}
	for name, text := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(text)}
	}
	tpl, err := email.LoadTemplates(fsys)
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

// TestMailerCheck checks that Check builds the whole email without a
// connection (the server it names is not there), and that an email that
// cannot be built is EINVALID, saying why.
func TestMailerCheck(t *testing.T) {
	t.Parallel()
	port := closedPort(t)
	for _, tt := range mailCases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := testMailer(t, "127.0.0.1", port, nil, mailCaseTemplates(t, tt.tpl))
			im := goodMail()
			tt.change(&im)
			err := m.Check(im)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				return
			}
			var fe *foyer.Error
			if !errors.As(err, &fe) || fe.Code != foyer.EINVALID || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Check = %v, want an EINVALID *foyer.Error mentioning %q", err, tt.want)
			}
		})
	}
}

// TestMailerCheckAgreesWithSend sends every case to a real SMTP server:
// what Check accepts is sent, and what it refuses is refused by
// SendInvitation as EINVALID (so the row fails at once, not on every
// retry) before anything reaches the server.
func TestMailerCheckAgreesWithSend(t *testing.T) {
	t.Parallel()
	for _, tt := range mailCases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := smtptest.Start(t, smtptest.Options{})
			m := testMailer(t, srv.Host, srv.Port, srv, mailCaseTemplates(t, tt.tpl))
			im := goodMail()
			tt.change(&im)
			if im.RedeemURL == "" {
				im.RedeemURL = "https://login.microsoftonline.com/redeem?ticket=T2" // Graph's, after the invitation
			}
			checkErr := m.Check(im)
			id, err := m.SendInvitation(t.Context(), im)
			if (checkErr == nil) != (err == nil) {
				t.Fatalf("Check = %v but SendInvitation = %v", checkErr, err)
			}
			if err != nil {
				if foyer.ErrorCode(err) != foyer.EINVALID {
					t.Errorf("SendInvitation = %v, want EINVALID", err)
				}
				if len(srv.Messages()) != 0 || srv.Logins() != 0 {
					t.Errorf("an email that cannot be built reached the server")
				}
				return
			}
			msgs := srv.Messages()
			if len(msgs) != 1 || id != "<"+im.ID+"@contoso.example>" {
				t.Fatalf("%d messages, id %q", len(msgs), id)
			}
			p, err := msgs[0].Parse()
			if err != nil {
				t.Fatal(err)
			}
			to, err := mail.ParseAddress(p.Header.Get("To"))
			want := strings.Join(strings.Fields(im.ToName), " ")
			if err != nil || to.Name != want || to.Address != string(im.To) {
				t.Errorf("To %q reads back as %v (%v), want name %q", p.Header.Get("To"), to, err, want)
			}
		})
	}
}
