package email

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"strconv"
	"strings"

	mail "github.com/wneessen/go-mail"

	"github.com/foyer-dev/foyer"
)

// Kinds of failure, for callers to branch on with errors.Is.
var (
	ErrUnreachable = errors.New("the SMTP server cannot be reached")
	ErrTLS         = errors.New("TLS with the SMTP server failed")
	ErrAuth        = errors.New("the SMTP server refused the credentials")
	ErrRejected    = errors.New("the SMTP server refused the message")
	ErrProtocol    = errors.New("the SMTP conversation failed")
	ErrInvalid     = errors.New("the message is invalid")
)

// Error is what Send and Check return when the server or the message is at
// fault. It names the server and the step, never the password.
var _ foyer.Coder = (*Error)(nil)

type Error struct {
	Op        string // "connect", "send", "check", "build"
	Server    string // host:port
	Kind      error  // one of the Err* above
	Code      int    // the SMTP reply code, when the server gave one
	Temporary bool   // a 4xx reply or a network failure: trying later may work
	Err       error
}

// ErrorCode says what kind of failure this was, in foyer's codes.
func (e *Error) ErrorCode() string {
	switch {
	case e.Temporary:
		return foyer.EUNAVAILABLE
	case errors.Is(e.Kind, ErrInvalid):
		return foyer.EINVALID
	}
	return foyer.ECONFLICT // the server refused the message for good
}

func (e *Error) Error() string {
	s := "smtp"
	if e.Server != "" {
		s += " " + e.Server
	}
	s += ": " + e.Op + ": " + e.Kind.Error()
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() []error { return []error{e.Kind, e.Err} }

// classifyDial turns an error of connecting, saying EHLO, STARTTLS and AUTH
// into an *Error. go-mail does these steps in one call, so the step is
// read from the error: the dial recorded by our dialer, TLS and x509
// errors, and go-mail's AUTH and STARTTLS messages.
func (s *Sender) classifyDial(op string, dialErr, err error) *Error {
	e := &Error{Op: op, Server: s.addr, Err: s.scrub(err), Kind: ErrProtocol}
	var (
		certErr    *tls.CertificateVerificationError
		unknownCA  x509.UnknownAuthorityError
		hostErr    x509.HostnameError
		invalid    x509.CertificateInvalidError
		recordErr  tls.RecordHeaderError
		alert      tls.AlertError
		netErr     net.Error
		smtpCode   = replyCode(err)
		msg        = err.Error()
		authFailed = strings.Contains(msg, "SMTP AUTH") || strings.Contains(msg, "AUTH mechanism") ||
			strings.Contains(msg, "authentication") || errors.Is(err, mail.ErrNoSupportedAuthDiscovered)
	)
	switch {
	case dialErr != nil:
		e.Kind, e.Temporary = ErrUnreachable, true
		e.Err = s.scrub(dialErr)
	case errors.As(err, &certErr), errors.As(err, &unknownCA), errors.As(err, &hostErr), errors.As(err, &invalid),
		errors.As(err, &recordErr), errors.As(err, &alert), strings.Contains(msg, "STARTTLS"), strings.Contains(msg, "tls:"):
		e.Kind = ErrTLS
	case authFailed || smtpCode == 535 || smtpCode == 534 || smtpCode == 530:
		e.Kind = ErrAuth
	case errors.As(err, &netErr):
		e.Kind, e.Temporary = ErrUnreachable, true
	}
	e.Code = smtpCode
	if smtpCode >= 400 && smtpCode < 500 {
		e.Temporary = true
	}
	return e
}

// classifySend turns go-mail's send error into an *Error.
func (s *Sender) classifySend(err error) *Error {
	e := &Error{Op: "send", Server: s.addr, Kind: ErrRejected, Err: s.scrub(err)}
	var se *mail.SendError
	if errors.As(err, &se) {
		e.Code = se.ErrorCode()
		e.Temporary = se.IsTemp()
		if se.Reason == mail.ErrConnCheck {
			e.Kind = ErrProtocol
		}
	} else if code := replyCode(err); code != 0 {
		e.Code, e.Temporary = code, code >= 400 && code < 500
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		e.Kind, e.Temporary = ErrUnreachable, true
	}
	return e
}

// replyCode finds a three-digit SMTP reply code at the start of the error's
// text or after a colon, e.g. "SMTP AUTH failed: 535 5.7.8 …".
func replyCode(err error) int {
	if err == nil {
		return 0
	}
	msg := err.Error()
	for i := 0; i+3 <= len(msg); i++ {
		if (i == 0 || msg[i-1] == ' ') && (i+3 == len(msg) || msg[i+3] == ' ' || msg[i+3] == '-') {
			if n, convErr := strconv.Atoi(msg[i : i+3]); convErr == nil && n >= 200 && n < 600 {
				return n
			}
		}
	}
	return 0
}

// scrub removes the password and username from an error's text.
func (s *Sender) scrub(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	out := msg
	if len(s.opts.Password) >= 3 {
		out = strings.ReplaceAll(out, s.opts.Password, "***")
	}
	if out == msg {
		return err
	}
	return &scrubbed{msg: out, err: err}
}

type scrubbed struct {
	msg string
	err error
}

func (s *scrubbed) Error() string { return s.msg }
func (s *scrubbed) Unwrap() error { return s.err }
