// Package smtptest runs a real SMTP server on loopback for tests: STARTTLS
// (or implicit TLS) with a certificate made at start, AUTH PLAIN, and every
// message kept so that a test can read it back, parsed into its headers and
// its text and HTML parts.
//
// It is built on github.com/emersion/go-smtp. Only tests import it: the
// email package's and the engine's.
package smtptest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Options choose how the server behaves. The zero value is a submission
// server that wants STARTTLS then AUTH PLAIN as "foyer" / "s3cret-pass".
type Options struct {
	Username, Password string // the only account; "" for the defaults above
	NoAuth             bool   // accept mail without AUTH and offer none
	NoSTARTTLS         bool   // offer no STARTTLS (a misconfigured server)
	ImplicitTLS        bool   // TLS from the first byte, as on port 465
	// RejectRcpt, when set, is asked about every recipient; an error
	// refuses it with 550.
	RejectRcpt func(addr string) error
}

// Server is a running test server.
type Server struct {
	Host     string // 127.0.0.1
	Port     int
	Username string
	Password string
	RootCAs  *x509.CertPool // trusts the server's certificate
	CAFile   string         // the certificate as PEM, for configurations that take a file

	opts     Options
	srv      *smtp.Server
	mu       sync.Mutex
	messages []Message
	arrived  chan struct{}
	logins   int
}

// Addr returns host:port.
func (s *Server) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// Message is one message as the server received it.
type Message struct {
	From string   // MAIL FROM
	To   []string // RCPT TO, in order
	Data []byte   // the message as sent, headers and body
	TLS  bool     // whether the session was encrypted
	Auth string   // the user the session authenticated as, "" if none
}

// Start starts a server on a free loopback port and stops it when t ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.Username == "" && !opts.NoAuth {
		opts.Username, opts.Password = "foyer", "s3cret-pass"
	}
	cert, pemBytes, err := selfSigned()
	if err != nil {
		t.Fatalf("smtptest: make a certificate: %v", err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pemBytes)
	caFile := filepath.Join(t.TempDir(), "smtptest-ca.pem")
	if err := os.WriteFile(caFile, pemBytes, 0o600); err != nil {
		t.Fatalf("smtptest: %v", err)
	}
	s := &Server{Host: "127.0.0.1", Username: opts.Username, Password: opts.Password, RootCAs: pool, CAFile: caFile,
		opts: opts, arrived: make(chan struct{}, 1)}

	s.srv = smtp.NewServer(backend{s})
	s.srv.Domain = "localhost"
	s.srv.ReadTimeout = 10 * time.Second
	s.srv.WriteTimeout = 10 * time.Second
	s.srv.MaxMessageBytes = 10 << 20
	s.srv.MaxRecipients = 50
	tlsConfig := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if !opts.NoSTARTTLS && !opts.ImplicitTLS {
		s.srv.TLSConfig = tlsConfig
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("smtptest: listen: %v", err)
	}
	s.Port = l.Addr().(*net.TCPAddr).Port
	if opts.ImplicitTLS {
		l = tls.NewListener(l, tlsConfig)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.srv.Serve(l)
	}()
	t.Cleanup(func() {
		// Close the listener too: Close alone misses a listener that
		// Serve has not registered yet.
		_ = l.Close()
		_ = s.srv.Close()
		<-done
	})
	return s
}

// Messages returns the messages received so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// Logins returns how many sessions authenticated.
func (s *Server) Logins() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logins
}

// Wait returns once n messages have arrived, or ctx's error.
func (s *Server) Wait(ctx context.Context, n int) ([]Message, error) {
	for {
		if ms := s.Messages(); len(ms) >= n {
			return ms, nil
		}
		select {
		case <-ctx.Done():
			return s.Messages(), ctx.Err()
		case <-s.arrived:
		}
	}
}

type backend struct{ s *Server }

func (b backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	_, isTLS := c.TLSConnectionState()
	return &session{s: b.s, tls: isTLS || b.s.opts.ImplicitTLS}, nil
}

type session struct {
	s    *Server
	tls  bool
	user string
	msg  Message
}

var errAuthRequired = smtp.ErrAuthRequired

func (se *session) AuthMechanisms() []string {
	if se.s.opts.NoAuth {
		return nil
	}
	return []string{sasl.Plain}
}

func (se *session) Auth(mech string) (sasl.Server, error) {
	if se.s.opts.NoAuth || mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != se.s.Username || password != se.s.Password {
			return smtp.ErrAuthFailed
		}
		se.user = username
		se.s.mu.Lock()
		se.s.logins++
		se.s.mu.Unlock()
		return nil
	}), nil
}

func (se *session) authed() error {
	if se.s.opts.NoAuth || se.user != "" {
		return nil
	}
	return errAuthRequired
}

func (se *session) Mail(from string, _ *smtp.MailOptions) error {
	if err := se.authed(); err != nil {
		return err
	}
	se.msg = Message{From: from, TLS: se.tls, Auth: se.user}
	return nil
}

func (se *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if err := se.authed(); err != nil {
		return err
	}
	if se.s.opts.RejectRcpt != nil {
		if err := se.s.opts.RejectRcpt(to); err != nil {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: err.Error()}
		}
	}
	se.msg.To = append(se.msg.To, to)
	return nil
}

func (se *session) Data(r io.Reader) error {
	if err := se.authed(); err != nil {
		return err
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	se.msg.Data = data
	se.s.mu.Lock()
	se.s.messages = append(se.s.messages, se.msg)
	se.s.mu.Unlock()
	select {
	case se.s.arrived <- struct{}{}:
	default:
	}
	return nil
}

func (se *session) Reset()        { se.msg = Message{} }
func (se *session) Logout() error { return nil }

// selfSigned makes a certificate for 127.0.0.1 and localhost, valid for a
// day.
func selfSigned() (tls.Certificate, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: "smtptest"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true,
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}, DNSNames: []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	cert, err := tls.X509KeyPair(pemBytes, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))
	if err != nil {
		return tls.Certificate{}, nil, errors.Join(errors.New("load the certificate"), err)
	}
	return cert, pemBytes, nil
}
