package graph

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/foyer-dev/foyer/directory"
	"github.com/foyer-dev/foyer/sim"
	"github.com/foyer-dev/foyer/sim/simtest"
)

// dialCounter is an HTTP client trusting pool whose connections are
// counted: how often a failure was tried.
func dialCounter(pool *x509.CertPool) (*http.Client, *atomic.Int64) {
	var n atomic.Int64
	d := &net.Dialer{}
	tr := &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			n.Add(1)
			return d.DialContext(ctx, network, addr)
		},
		DisableKeepAlives: true,
	}
	return &http.Client{Transport: tr}, &n
}

// closedURL is an https URL on a loopback port nothing listens on.
func closedURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := "https://" + l.Addr().String()
	l.Close()
	return u
}

// TestSignInSaysWhatFailed signs in to the sim with each way a
// configuration goes wrong and checks the kind, the AADSTS code, a short
// message with what to fix and no secret, and that what no retry mends (a
// certificate not trusted, a name that does not exist) is tried once, and
// a connection refused only a few times.
func TestSignInSaysWhatFailed(t *testing.T) {
	t.Parallel()
	s := simtest.Start(t, sim.Options{})
	other := simtest.Start(t, sim.Options{})
	simPool := x509.NewCertPool()
	simPool.AppendCertsFromPEM(s.CAPEM())
	otherPool := x509.NewCertPool()
	otherPool.AppendCertsFromPEM(other.CAPEM())
	otherCert, otherKey := other.ClientCertificate()
	const wrong = "wrong-secret-value-91c2"
	files := map[string][]byte{
		"/etc/foyer/secret":     []byte(wrong + "\n"),
		"/etc/foyer/other.pem":  append(append([]byte{}, otherCert...), otherKey...),
		"/etc/foyer/ca-bad.pem": other.CAPEM(),
	}
	closed := closedURL(t)
	for _, tc := range []struct {
		name     string
		tweak    func(o *Options)
		pool     *x509.CertPool
		kind     error
		code     string
		want     []string // in the message
		maxDials int64    // connections made, at most
	}{
		{"wrong secret in a file", func(o *Options) {
			o.Credential = Credential{Type: CredentialClientSecret, SecretFile: "/etc/foyer/secret"}
		}, simPool, directory.ErrSignIn, "AADSTS7000215", []string{"Invalid client secret", "secret_file /etc/foyer/secret", "not its ID"}, 4},
		{"wrong secret in the environment", func(o *Options) {
			o.Getenv = func(string) string { return wrong }
		}, simPool, directory.ErrSignIn, "AADSTS7000215", []string{"$FOYER_TEST_SECRET (secret_env)"}, 4},
		{"unknown tenant", func(o *Options) {
			o.TenantID = "0c4b2e55-3f2a-4c9e-9d5b-1d2f3a4b5c6d"
		}, simPool, directory.ErrSignIn, "AADSTS90002", []string{"not found", "tenant_id (0c4b2e55-3f2a-4c9e-9d5b-1d2f3a4b5c6d)"}, 4},
		{"unknown app", func(o *Options) {
			o.ClientID = "7d0e4a1b-2c3d-4e5f-8a9b-0c1d2e3f4a5b"
		}, simPool, directory.ErrSignIn, "AADSTS700016", []string{"client_id (7d0e4a1b-2c3d-4e5f-8a9b-0c1d2e3f4a5b)"}, 4},
		{"a certificate the app does not have", func(o *Options) {
			o.Credential = Credential{Type: CredentialCertificate, CertificateFile: "/etc/foyer/other.pem"}
		}, simPool, directory.ErrSignIn, "AADSTS700027", []string{"certificate_file /etc/foyer/other.pem"}, 4},
		{"a CA that did not sign the server's certificate", func(o *Options) {
			o.CAFile = "/etc/foyer/ca-bad.pem"
		}, otherPool, directory.ErrCertificate, "", []string{"unknown authority", "ca_file (/etc/foyer/ca-bad.pem)", strings.TrimPrefix(s.URL(), "https://")}, 2},
		{"nothing listening", func(o *Options) {
			o.Endpoints = Endpoints{Authority: closed, Graph: closed}
		}, simPool, directory.ErrNetwork, "", []string{"connection refused", strings.TrimPrefix(closed, "https://"), "emulated tenant must be running"}, 8},
		{"a host that does not exist", func(o *Options) {
			o.Endpoints = Endpoints{Authority: "https://foyer-sim.invalid", Graph: "https://foyer-sim.invalid"}
		}, simPool, directory.ErrNetwork, "", []string{"foyer-sim.invalid"}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := simOptions(s, s.ClientID(), s.ClientSecret())
			o.ReadFile = func(p string) ([]byte, error) {
				if b, ok := files[p]; ok {
					return b, nil
				}
				return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrNotExist}
			}
			tc.tweak(&o)
			hc, dials := dialCounter(tc.pool)
			o.HTTPClient = hc
			c, err := New(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			err = c.SignIn(context.Background())
			var e *directory.Error
			if !errors.As(err, &e) || !errors.Is(err, tc.kind) {
				t.Fatalf("SignIn: %v, want kind %v", err, tc.kind)
			}
			if e.Code != tc.code || e.Fix == "" {
				t.Errorf("code %q, fix %q; want code %q and a fix", e.Code, e.Fix, tc.code)
			}
			msg := err.Error()
			if n := strings.Count(msg, "\n") + 1; n > 3 {
				t.Errorf("%d lines, want at most 3:\n%s", n, msg)
			}
			for _, w := range append(tc.want, "fix: ") {
				if !strings.Contains(msg, w) {
					t.Errorf("the message does not say %q:\n%s", w, msg)
				}
			}
			for _, secret := range []string{wrong, s.ClientSecret(), "Trace ID", "To troubleshoot"} {
				if strings.Contains(msg, secret) {
					t.Errorf("the message holds %q:\n%s", secret, msg)
				}
			}
			if directory.Retryable(err) {
				t.Errorf("%v is retryable", err)
			}
			if n := dials.Load(); n > tc.maxDials {
				t.Errorf("%d connections, want at most %d: a failure no retry mends was retried", n, tc.maxDials)
			}
			// The same failure when a call signs in on its own.
			_, err = c.Domains(context.Background())
			if !errors.Is(err, tc.kind) || !strings.Contains(err.Error(), "fix: ") {
				t.Errorf("Domains: %v, want kind %v with a fix", err, tc.kind)
			}
		})
	}
}

// TestGraphUnreachableIsNotRetriedForMinutes: with a token in hand, a Graph
// host whose certificate is not trusted is tried once, and one refusing
// connections a few times, not MaxRetries times with backoff.
func TestGraphUnreachableIsNotRetriedForMinutes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		url   func(t *testing.T) string
		kind  error
		dials int64
	}{
		{"certificate not trusted", func(t *testing.T) string {
			srv := httptest.NewTLSServer(http.NotFoundHandler())
			t.Cleanup(srv.Close)
			return srv.URL
		}, directory.ErrCertificate, 1},
		{"connection refused", closedURL, directory.ErrNetwork, 1 + unreachableRetries},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			u := tc.url(t)
			hc, dials := dialCounter(x509.NewCertPool()) // trusts nothing
			vc := newVClock()
			c, err := New(context.Background(), Options{
				TenantID: "00000000-0000-0000-0000-0000000000aa", ClientID: "00000000-0000-0000-0000-0000000000bb",
				Cloud: CloudCustom, Endpoints: Endpoints{Authority: u, Graph: u},
				HTTPClient: hc, TokenCredential: staticCred{}, Clock: vc, After: vc.After,
			})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Domains(context.Background())
			if !errors.Is(err, tc.kind) || directory.Retryable(err) {
				t.Fatalf("Domains: %v, want %v, not retryable", err, tc.kind)
			}
			if n := dials.Load(); n != tc.dials {
				t.Errorf("%d connections, want %d", n, tc.dials)
			}
		})
	}
}

func TestClassifyNet(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		err  error
		want netClass
	}{
		{"unknown authority", &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}, netCertificate},
		{"wrong name", x509.HostnameError{Host: "x"}, netCertificate},
		{"no such host", &net.OpError{Op: "dial", Err: &net.DNSError{Name: "x.invalid", IsNotFound: true}}, netNoHost},
		{"DNS server timing out", &net.OpError{Op: "dial", Err: &net.DNSError{Name: "x", IsTimeout: true}}, netUnreachable},
		{"connection refused", &net.OpError{Op: "dial", Err: errors.New("connect: connection refused")}, netUnreachable},
		{"reset while reading", &net.OpError{Op: "read", Err: errors.New("connection reset by peer")}, netOther},
		{"dropped", errors.New("EOF"), netOther},
	} {
		if got := classifyNet(tc.err); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}

// FuzzTokenRefusal: whatever a token endpoint answers, the refusal is one
// line of message and one of fix, and names an AADSTS code only when the
// answer had one.
func FuzzTokenRefusal(f *testing.F) {
	f.Add(401, []byte(`{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided. Ensure the secret...\r\nTrace ID: 1\r\nCorrelation ID: 2","error_codes":[7000215]}`))
	f.Add(400, []byte(`{"error":"invalid_tenant","error_description":"AADSTS90002: Tenant 'x' not found."}`))
	f.Add(400, []byte(`{"error_description":"AADSTS99999999999999999999: overflow"}`))
	f.Add(500, []byte(`<html>oops</html>`))
	f.Add(403, []byte(`{"message":"managed identity\nnot here"}`))
	c, err := New(context.Background(), Options{TenantID: "t", Cloud: CloudCustom,
		Endpoints: Endpoints{Authority: "https://127.0.0.1:1", Graph: "https://127.0.0.1:1"}, TokenCredential: staticCred{}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		if status < 100 || status > 999 {
			t.Skip()
		}
		resp := &http.Response{StatusCode: status, Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(body))}
		e := c.tokenRefusal("sign in", resp)
		if strings.ContainsAny(e.Message, "\r\n") || strings.ContainsAny(e.Code, "\r\n") || strings.ContainsAny(e.Fix, "\r\n") {
			t.Fatalf("a line break in %q / %q / %q", e.Code, e.Message, e.Fix)
		}
		if n := strings.Count(e.Error(), "\n"); n != 1 {
			t.Fatalf("%d line breaks in %q, want 1 (before the fix)", n, e.Error())
		}
		if strings.HasPrefix(e.Code, "AADSTS") && !bytes.Contains(body, []byte(strings.TrimPrefix(e.Code, "AADSTS"))) {
			t.Fatalf("code %s not in the answer %q", e.Code, body)
		}
	})
}
