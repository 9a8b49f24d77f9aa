// Package email sends the invitation email when foyer sends it itself:
// templates render an Invitation (the redeem URL, the inviter's words, the
// app's name) into a text and an HTML part, and a Sender delivers it over
// SMTP with STARTTLS and AUTH, giving each message its own Message-ID for
// the ledger. Names and subjects cannot add headers; names are written as
// quoted-strings or RFC 2047 encoded-words and read back as written;
// addresses are checked with foyer.ParseAddress.
//
// It is built on github.com/wneessen/go-mail. Only cmd/foyer/cli and this
// package's tests import it; email/smtptest is the SMTP server tests use.
package email

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	netmail "net/mail"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	mail "github.com/wneessen/go-mail"

	"github.com/foyer-dev/foyer"
)

// TLS modes.
const (
	TLSStartTLS = "starttls" // plain connect, then STARTTLS, required (submission, port 587); the default
	TLSImplicit = "tls"      // TLS from the first byte (port 465)
	TLSNone     = "none"     // no TLS at all: allowed only to a loopback host (a local relay)
)

// Options configure a Sender.
type Options struct {
	Host     string // the SMTP server's name; also the name its certificate must carry
	Port     int    // 0 for 587 (starttls), 465 (tls) or 25 (none)
	From     foyer.Address
	FromName string
	Username string // "" for no AUTH
	Password string // the secret itself, read by the caller from the environment or a file
	TLS      string // starttls (default), tls or none
	CAFile   string // a PEM file of CAs to trust instead of the system's
	RootCAs  *x509.CertPool
	Timeout  time.Duration // for connecting and each SMTP step; 0 for 30 s
	HeloName string        // the name said in EHLO; "" for go-mail's default (the host name)
	NewID    func() string // the left part of each Message-ID; nil for 128 random bits in hex
	Clock    foyer.Clock   // the Date header; nil for the system clock
	Log      *slog.Logger  // nil for none; it never sees the password
}

// Sender delivers messages through one SMTP server. It is safe for
// concurrent use: each Send opens its own connection.
type Sender struct {
	opts Options
	addr string
	tls  *tls.Config
	log  *slog.Logger
}

// New checks opts and returns a Sender. It does not connect: Check does.
// Every problem in opts is reported at once.
func New(opts Options) (*Sender, error) {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	opts.Host = strings.TrimSpace(opts.Host)
	if opts.TLS == "" {
		opts.TLS = TLSStartTLS
	}
	switch {
	case opts.Host == "":
		bad("the SMTP host is empty")
	case strings.ContainsAny(opts.Host, " /:@\r\n") && net.ParseIP(opts.Host) == nil:
		bad("the SMTP host %q is not a host name", opts.Host)
	}
	switch opts.TLS {
	case TLSStartTLS, TLSImplicit:
	case TLSNone:
		if ip := net.ParseIP(opts.Host); !strings.EqualFold(opts.Host, "localhost") && (ip == nil || !ip.IsLoopback()) {
			bad("tls: none is allowed only to a loopback host, not %s: use starttls or tls", opts.Host)
		}
	default:
		bad("tls %q is not starttls, tls or none", opts.TLS)
	}
	if opts.Port == 0 {
		opts.Port = map[string]int{TLSStartTLS: 587, TLSImplicit: 465, TLSNone: 25}[opts.TLS]
	}
	if opts.Port < 0 || opts.Port > 65535 {
		bad("port %d is not a TCP port", opts.Port)
	}
	if from, err := foyer.ParseAddress(string(opts.From)); err != nil {
		bad("from: %s", foyer.ErrorMessage(err))
	} else {
		opts.From = from
	}
	opts.FromName = displayName(opts.FromName)
	if n := utf8.RuneCountInString(opts.FromName); n > maxName {
		bad("the sender's name has %d characters, over %d", n, maxName)
	}
	if opts.Username != "" && opts.Password == "" {
		bad("a username is set without a password")
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 30 * time.Second
	}
	roots := opts.RootCAs
	if opts.CAFile != "" {
		pem, err := os.ReadFile(opts.CAFile)
		if err != nil {
			bad("read the CA file: %v", err)
		} else {
			roots = x509.NewCertPool()
			if !roots.AppendCertsFromPEM(pem) {
				bad("the CA file %s holds no PEM certificate", opts.CAFile)
			}
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("smtp: %w", errors.Join(errs...))
	}
	if opts.NewID == nil {
		opts.NewID = randomID
	}
	if opts.Clock == nil {
		opts.Clock = foyer.SystemClock{}
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Sender{
		opts: opts, addr: net.JoinHostPort(opts.Host, strconv.Itoa(opts.Port)), log: log,
		tls: &tls.Config{ServerName: opts.Host, RootCAs: roots, MinVersion: tls.VersionTLS12},
	}, nil
}

func randomID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b)
}

// Server returns host:port.
func (s *Sender) Server() string { return s.addr }

// dialer connects for one session and makes every read and write end when
// ctx does; it remembers a failure to connect so that errors can say so.
type dialer struct {
	s       *Sender
	ctx     context.Context
	dialErr error
	conn    net.Conn
	stop    func() bool
}

// done releases the session's connection watch, and closes the connection
// when go-mail gave up on it half-way (it does not close it itself).
func (d *dialer) done(failed bool) {
	if d.stop != nil {
		d.stop()
	}
	if failed && d.conn != nil {
		_ = d.conn.Close()
	}
}

func (d *dialer) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	conn, err := (&net.Dialer{Timeout: d.s.opts.Timeout}).DialContext(ctx, network, addr)
	if err != nil {
		d.dialErr = err
		return nil, err
	}
	d.conn = conn
	d.stop = context.AfterFunc(d.ctx, func() { _ = conn.Close() })
	if d.s.opts.TLS != TLSImplicit {
		return conn, nil
	}
	tc := tls.Client(conn, d.s.tls)
	hctx, cancel := context.WithTimeout(ctx, d.s.opts.Timeout)
	defer cancel()
	if err := tc.HandshakeContext(hctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("tls: %w", err)
	}
	return tc, nil
}

// connect opens an SMTP session: connect, EHLO, STARTTLS, AUTH.
func (s *Sender) connect(ctx context.Context, op string) (*mail.Client, *dialer, error) {
	d := &dialer{s: s, ctx: ctx}
	opts := []mail.Option{
		mail.WithPort(s.opts.Port), mail.WithTimeout(s.opts.Timeout), mail.WithDialContextFunc(d.dial),
		mail.WithTLSConfig(s.tls), mail.WithoutNoop(),
	}
	switch s.opts.TLS {
	case TLSStartTLS:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	default: // implicit TLS is done by the dialer; none is none
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	}
	if s.opts.HeloName != "" {
		opts = append(opts, mail.WithHELO(s.opts.HeloName))
	}
	if s.opts.Username != "" {
		// Pick the strongest mechanism the server offers. PLAIN and
		// LOGIN refuse to run on an unencrypted connection to another
		// host; that is what TLSNone's loopback rule relies on.
		opts = append(opts, mail.WithUsername(s.opts.Username), mail.WithPassword(s.opts.Password),
			mail.WithOpportunisticSMTPAuth(mail.SMTPAuthSCRAMSHA256, mail.SMTPAuthSCRAMSHA1, mail.SMTPAuthPlain, mail.SMTPAuthLogin))
	}
	c, err := mail.NewClient(s.opts.Host, opts...)
	if err != nil {
		return nil, nil, &Error{Op: op, Server: s.addr, Kind: ErrProtocol, Err: s.scrub(err)}
	}
	return c, d, nil
}

// Check connects, says EHLO, does STARTTLS (or TLS) and AUTH as configured,
// and quits without sending anything: what `foyer profiles check` and
// `plan` ask before a run that sends email.
func (s *Sender) Check(ctx context.Context) error {
	c, d, err := s.connect(ctx, "check")
	if err != nil {
		return err
	}
	sc, err := c.DialToSMTPClientWithContext(ctx)
	defer d.done(err != nil)
	if err != nil {
		return s.ctxErr(ctx, s.classifyDial("check", d.dialErr, err))
	}
	if err := c.CloseWithSMTPClient(sc); err != nil {
		return s.ctxErr(ctx, &Error{Op: "check", Server: s.addr, Kind: ErrProtocol, Err: s.scrub(err)})
	}
	return nil
}

// ctxErr prefers the context's error when ctx ended the conversation.
func (s *Sender) ctxErr(ctx context.Context, e *Error) error {
	if ctx.Err() != nil {
		e.Kind, e.Temporary, e.Err = ErrUnreachable, true, ctx.Err()
	}
	return e
}

// Send delivers m and returns its Message-ID header value
// ("<id@from-domain>") for the ledger. Errors are *Error: ErrInvalid for
// a bad message (nothing was sent), ErrUnreachable, ErrTLS, ErrAuth,
// ErrProtocol or ErrRejected.
func (s *Sender) Send(ctx context.Context, m Message) (string, error) {
	msg, id, err := s.build(m)
	if err != nil {
		return "", err
	}
	c, d, err := s.connect(ctx, "send")
	if err != nil {
		return "", err
	}
	sc, err := c.DialToSMTPClientWithContext(ctx)
	defer d.done(err != nil)
	if err != nil {
		return "", s.ctxErr(ctx, s.classifyDial("send", d.dialErr, err))
	}
	if err := c.SendWithSMTPClient(sc, msg); err != nil {
		_ = c.CloseWithSMTPClient(sc)
		return "", s.ctxErr(ctx, s.classifySend(err))
	}
	if err := c.CloseWithSMTPClient(sc); err != nil {
		// The server took the message; a failed QUIT does not undo it.
		s.log.Warn("smtp quit failed after a delivery", "server", s.addr, "message_id", id, "error", s.scrub(err))
	}
	s.log.Info("email sent", "server", s.addr, "message_id", id, "to_domain", m.To.Domain())
	return id, nil
}

// Build makes the message Send would send for m, headers and body, without
// connecting to anything: a message that builds here is one Send will not
// refuse as ErrInvalid (the Date and, when m.ID is empty, the Message-ID
// may differ). Errors are *Error of kind ErrInvalid.
func (s *Sender) Build(m Message) ([]byte, error) {
	msg, _, err := s.build(m)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if _, err := msg.WriteTo(&b); err != nil {
		return nil, &Error{Op: "build", Kind: ErrInvalid, Err: err}
	}
	return b.Bytes(), nil
}

// build makes the go-mail message from m and returns its Message-ID.
func (s *Sender) build(m Message) (*mail.Msg, string, error) {
	m.Cc = slices.Clone(m.Cc)
	m, err := m.clean()
	if err != nil {
		return nil, "", err
	}
	left := m.ID
	if left == "" {
		left = s.opts.NewID()
	}
	if left == "" || strings.ContainsAny(left, "<>@ \t\r\n") {
		return nil, "", &Error{Op: "build", Kind: ErrInvalid, Err: fmt.Errorf("message id %q is not a valid left part", left)}
	}
	id := "<" + left + "@" + s.opts.From.Domain() + ">"

	msg := mail.NewMsg(mail.WithNoDefaultUserAgent())
	msg.SetAddrHeaderFromMailAddress(mail.HeaderFrom, &netmail.Address{Name: s.opts.FromName, Address: string(s.opts.From)})
	msg.SetAddrHeaderFromMailAddress(mail.HeaderTo, &netmail.Address{Name: m.ToName, Address: string(m.To)})
	if len(m.Cc) > 0 {
		cc := make([]*netmail.Address, len(m.Cc))
		for i, c := range m.Cc {
			cc[i] = &netmail.Address{Address: string(c)}
		}
		msg.SetAddrHeaderFromMailAddress(mail.HeaderCc, cc...)
	}
	if m.ReplyTo != "" {
		msg.SetAddrHeaderFromMailAddress(mail.HeaderReplyTo, &netmail.Address{Address: string(m.ReplyTo)})
	}
	msg.Subject(m.Subject)
	msg.SetMessageIDWithValue(left + "@" + s.opts.From.Domain())
	msg.SetDateWithValue(s.opts.Clock.Now())
	msg.SetUserAgent("foyer")
	// RFC 3834: an automatic message; out-of-office replies stay away.
	msg.SetGenHeader(mail.Header("Auto-Submitted"), "auto-generated")
	if m.Language != "" {
		msg.SetGenHeader(mail.Header("Content-Language"), m.Language)
	}
	msg.SetBodyString(mail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(mail.TypeTextHTML, m.HTML)
	}
	return msg, id, nil
}
