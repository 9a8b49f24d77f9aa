package email_test

import (
	"context"
	"errors"
	"html"
	"net"
	"net/mail"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/notify/email"
	"github.com/foyer-dev/foyer/notify/email/smtptest"
)

var sentAt = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func newSender(t *testing.T, srv *smtptest.Server, change func(*email.Options)) *email.Sender {
	t.Helper()
	opts := email.Options{
		Host: srv.Host, Port: srv.Port, From: "invitations@contoso.example", FromName: "Contoso Access",
		Username: srv.Username, Password: srv.Password, RootCAs: srv.RootCAs, Timeout: 10 * time.Second,
		NewID: func() string { return "0001.foyer" }, Clock: foyer.ClockFunc(func() time.Time { return sentAt }),
	}
	if change != nil {
		change(&opts)
	}
	s, err := email.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func invitation() email.Invitation {
	return email.Invitation{
		To: "Ann.Lee@Partner.Example", ToName: "Ann Lee\r\nBcc: evil@attacker.example",
		Cc:      []foyer.Address{"sponsor@contoso.example"},
		AppName: "Contoso Partner Portal", Organization: "Contoso", InviterName: "Ada Admin",
		InviterMessage: "Welcome aboard!\n<script>alert(1)</script> & see <a href=\"https://evil.example\">this</a>",
		RedeemURL:      "https://login.microsoftonline.com/redeem?rd=https%3a%2f%2finvitations.microsoft.com&tenant=x&ticket=T1",
		Language:       "en-GB",
	}
}

func TestSendInvitation(t *testing.T) {
	t.Parallel()
	srv := smtptest.Start(t, smtptest.Options{})
	s := newSender(t, srv, nil)
	msg, err := email.DefaultTemplates().Render(invitation())
	if err != nil {
		t.Fatal(err)
	}
	id, err := s.Send(t.Context(), msg)
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if id != "<0001.foyer@contoso.example>" {
		t.Errorf("Message-ID = %q", id)
	}
	got := srv.Messages()
	if len(got) != 1 {
		t.Fatalf("%d messages arrived, want 1", len(got))
	}
	m := got[0]
	if m.From != "invitations@contoso.example" || strings.Join(m.To, ",") != "Ann.Lee@partner.example,sponsor@contoso.example" {
		t.Errorf("envelope from %q to %q", m.From, m.To)
	}
	if !m.TLS || m.Auth != "foyer" {
		t.Errorf("session TLS %v auth %q, want STARTTLS and AUTH", m.TLS, m.Auth)
	}
	p, err := m.Parse()
	if err != nil {
		t.Fatal(err)
	}
	h := p.Header
	if h.Get("Message-Id") != id {
		t.Errorf("Message-ID header %q, want %q", h.Get("Message-Id"), id)
	}
	for _, k := range []string{"Bcc", "Bcc ", "X-Injected"} {
		if len(h[k]) > 0 {
			t.Errorf("header %s present: %q", k, h[k])
		}
	}
	to, err := h.AddressList("To")
	if err != nil || len(to) != 1 || to[0].Address != "Ann.Lee@partner.example" || to[0].Name != "Ann Lee Bcc: evil@attacker.example" {
		t.Errorf("To = %v (%v)", to, err)
	}
	from, _ := h.AddressList("From")
	if len(from) != 1 || from[0].Name != "Contoso Access" {
		t.Errorf("From = %v", from)
	}
	if p.Subject() != "You are invited to Contoso Partner Portal by Contoso" {
		t.Errorf("Subject = %q", p.Subject())
	}
	if d, _ := h.Date(); !d.Equal(sentAt) {
		t.Errorf("Date = %v", d)
	}
	if h.Get("Content-Language") != "en-GB" || h.Get("Auto-Submitted") != "auto-generated" {
		t.Errorf("Content-Language %q Auto-Submitted %q", h.Get("Content-Language"), h.Get("Auto-Submitted"))
	}
	inv := invitation()
	if !strings.Contains(p.Text, inv.RedeemURL) || !strings.Contains(p.Text, "<script>alert(1)</script>") || !strings.Contains(p.Text, "Ada Admin has invited you to Contoso Partner Portal at Contoso.") {
		t.Errorf("text part:\n%s", p.Text)
	}
	if strings.Contains(p.HTML, "<script>") || strings.Contains(p.HTML, `<a href="https://evil.example">`) {
		t.Errorf("the inviter's words reached the HTML unescaped:\n%s", p.HTML)
	}
	if !strings.Contains(p.HTML, "&lt;script&gt;alert(1)&lt;/script&gt; &amp; see") || !strings.Contains(p.HTML, `<html lang="en-GB">`) {
		t.Errorf("HTML part lacks the escaped message or the language:\n%s", p.HTML)
	}
	hrefs := regexp.MustCompile(`href="([^"]*)"`).FindAllStringSubmatch(p.HTML, -1)
	if len(hrefs) != 2 {
		t.Fatalf("HTML has %d links, want 2 (button and visible link)", len(hrefs))
	}
	for _, m := range hrefs {
		if html.UnescapeString(m[1]) != inv.RedeemURL {
			t.Errorf("link %q, want the redeem URL", m[1])
		}
	}
}

func TestSubjectCannotAddHeaders(t *testing.T) {
	t.Parallel()
	srv := smtptest.Start(t, smtptest.Options{})
	s := newSender(t, srv, nil)
	_, err := s.Send(t.Context(), email.Message{To: "bob@partner.example", ToName: "Bob\nX-Injected: 1",
		Subject: "Hello\r\nBcc: evil@attacker.example\r\n\r\nbody", Text: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	m := srv.Messages()[0]
	if strings.Join(m.To, ",") != "bob@partner.example" {
		t.Errorf("recipients %q", m.To)
	}
	p, err := m.Parse()
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Header["Bcc"]) > 0 || len(p.Header["X-Injected"]) > 0 {
		t.Errorf("a header was injected: %v", p.Header)
	}
	if p.Subject() != "Hello  Bcc: evil@attacker.example    body" {
		t.Errorf("Subject = %q", p.Subject())
	}
	if p.HTML != "" || strings.TrimSpace(p.Text) != "hi" {
		t.Errorf("text-only message: text %q html %q", p.Text, p.HTML)
	}
}

func TestSendRefusesBadMessages(t *testing.T) {
	t.Parallel()
	srv := smtptest.Start(t, smtptest.Options{})
	s := newSender(t, srv, nil)
	_, err := s.Send(t.Context(), email.Message{To: "not an address", Cc: []foyer.Address{"x@"}, Subject: "\r\n", Text: " ", Language: "en_US!"})
	if !errors.Is(err, email.ErrInvalid) {
		t.Fatalf("err = %v, want ErrInvalid", err)
	}
	for _, want := range []string{"To:", "Cc:", "subject is empty", "text part is empty", "language"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if len(srv.Messages()) != 0 || srv.Logins() != 0 {
		t.Errorf("a bad message reached the server")
	}
}

func TestCheckAndFailures(t *testing.T) {
	t.Parallel()
	closed := func() (string, int) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		return "127.0.0.1", port
	}
	tests := []struct {
		name    string
		server  smtptest.Options
		change  func(*email.Options)
		want    error
		temp    bool
		wantMsg string
	}{
		{name: "starttls and auth", server: smtptest.Options{}},
		{name: "implicit tls", server: smtptest.Options{ImplicitTLS: true}, change: func(o *email.Options) { o.TLS = email.TLSImplicit }},
		{name: "none on loopback", server: smtptest.Options{NoAuth: true, NoSTARTTLS: true},
			change: func(o *email.Options) { o.TLS, o.Username, o.Password = email.TLSNone, "", "" }},
		{name: "wrong password", server: smtptest.Options{}, change: func(o *email.Options) { o.Password = "WRONG-s3cret-value" }, want: email.ErrAuth},
		{name: "no starttls offered", server: smtptest.Options{NoSTARTTLS: true}, want: email.ErrTLS, wantMsg: "STARTTLS"},
		{name: "untrusted certificate", server: smtptest.Options{}, change: func(o *email.Options) { o.RootCAs = nil }, want: email.ErrTLS},
		{name: "certificate for another name", server: smtptest.Options{ImplicitTLS: true},
			change: func(o *email.Options) { o.TLS, o.Host = email.TLSImplicit, "::1" }, want: email.ErrUnreachable, temp: true},
		{name: "unreachable", server: smtptest.Options{}, change: func(o *email.Options) { o.Host, o.Port = closed() }, want: email.ErrUnreachable, temp: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := smtptest.Start(t, tt.server)
			s := newSender(t, srv, tt.change)
			for _, op := range []string{"check", "send"} {
				var err error
				if op == "check" {
					err = s.Check(t.Context())
				} else {
					_, err = s.Send(t.Context(), email.Message{To: "bob@partner.example", Subject: "x", Text: "y"})
				}
				if tt.want == nil {
					if err != nil {
						t.Errorf("%s: %v", op, err)
					}
					continue
				}
				var e *email.Error
				if !errors.Is(err, tt.want) || !errors.As(err, &e) {
					t.Errorf("%s: err = %v, want %v", op, err, tt.want)
					continue
				}
				if e.Temporary != tt.temp || e.Op != op || !strings.Contains(err.Error(), s.Server()) || !strings.Contains(err.Error(), tt.wantMsg) {
					t.Errorf("%s: error %q op %q temporary %v", op, err, e.Op, e.Temporary)
				}
				if strings.Contains(err.Error(), "s3cret") {
					t.Errorf("%s: the error shows the password: %v", op, err)
				}
			}
			if tt.want == nil && len(srv.Messages()) != 1 {
				t.Errorf("%d messages, want 1 (Check sends nothing)", len(srv.Messages()))
			}
		})
	}
}

func TestRejectedRecipient(t *testing.T) {
	t.Parallel()
	srv := smtptest.Start(t, smtptest.Options{RejectRcpt: func(addr string) error {
		if strings.HasSuffix(addr, "@blocked.example") {
			return errors.New("mailbox unavailable")
		}
		return nil
	}})
	s := newSender(t, srv, nil)
	_, err := s.Send(t.Context(), email.Message{To: "x@blocked.example", Subject: "s", Text: "t"})
	var e *email.Error
	if !errors.Is(err, email.ErrRejected) || !errors.As(err, &e) || e.Code != 550 || e.Temporary {
		t.Fatalf("err = %v (%+v), want a permanent 550 rejection", err, e)
	}
}

// TestCancel checks that a server that never answers does not hold Check
// past its context.
func TestCancel(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err == nil {
			accepted <- c
		}
	}()
	s, err := email.New(email.Options{Host: "127.0.0.1", Port: l.Addr().(*net.TCPAddr).Port, From: "a@contoso.example", Timeout: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() { errc <- s.Check(ctx) }()
	c := <-accepted
	defer c.Close()
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) || !errors.Is(err, email.ErrUnreachable) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestNewReportsEveryProblem(t *testing.T) {
	t.Parallel()
	_, err := email.New(email.Options{Host: "smtp.example.com/x", TLS: "ssl", From: "nope", Username: "u", CAFile: "/nonexistent/ca.pem", Port: 70000})
	for _, want := range []string{"not a host name", `tls "ssl"`, "port 70000", "from:", "without a password", "CA file"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("New error %v does not mention %q", err, want)
		}
	}
	_, err = email.New(email.Options{Host: "smtp.example.com", TLS: email.TLSNone, From: "a@contoso.example"})
	if err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Errorf("tls none to a remote host: %v", err)
	}
	s, err := email.New(email.Options{Host: "smtp.example.com", From: "a@contoso.example"})
	if err != nil || s.Server() != "smtp.example.com:587" {
		t.Errorf("defaults: %v %v", s, err)
	}
	if _, err := email.New(email.Options{Host: "smtp.example.com", TLS: email.TLSImplicit, From: "a@contoso.example"}); err != nil {
		t.Error(err)
	}
}

func TestAddressesAreParsedHeaders(t *testing.T) {
	t.Parallel()
	// The sender's and the recipient's names survive a round trip through
	// the headers with non-ASCII letters, quotes and a comma.
	srv := smtptest.Start(t, smtptest.Options{})
	s := newSender(t, srv, func(o *email.Options) { o.FromName = `Contoso "Access" Team` })
	if _, err := s.Send(t.Context(), email.Message{To: "zoe@partner.example", ToName: `Zoë "Z" O'Brien, PhD`, Subject: "Grüße", Text: "t"}); err != nil {
		t.Fatal(err)
	}
	p, err := srv.Messages()[0].Parse()
	if err != nil {
		t.Fatal(err)
	}
	to, err := mail.ParseAddressList(p.Header.Get("To"))
	if err != nil || len(to) != 1 || to[0].Name != `Zoë "Z" O'Brien, PhD` {
		t.Errorf("To = %v (%v) from %q", to, err, p.Header.Get("To"))
	}
	from, err := mail.ParseAddress(p.Header.Get("From"))
	if err != nil || from.Name != `Contoso "Access" Team` || from.Address != "invitations@contoso.example" {
		t.Errorf("From = %v (%v) from %q", from, err, p.Header.Get("From"))
	}
	if p.Subject() != "Grüße" {
		t.Errorf("Subject = %q", p.Subject())
	}
}

func TestSendWithOwnMessageID(t *testing.T) {
	t.Parallel()
	srv := smtptest.Start(t, smtptest.Options{})
	s := newSender(t, srv, nil)
	msg, err := email.DefaultTemplates().Render(invitation())
	if err != nil {
		t.Fatal(err)
	}
	msg.ID = "run1.req42"
	id, err := s.Send(t.Context(), msg)
	if err != nil || id != "<run1.req42@contoso.example>" {
		t.Fatalf("Send = %q, %v", id, err)
	}
	msg.ID = "bad id@x"
	if _, err := s.Send(t.Context(), msg); !errors.Is(err, email.ErrInvalid) {
		t.Errorf("a message id with a space and @ was not refused: %v", err)
	}
}
