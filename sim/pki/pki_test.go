package pki

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	crand "crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

var fixed = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// counter is a deterministic, non-cryptographic reader for serial numbers.
type counter struct{ n byte }

func (c *counter) Read(p []byte) (int, error) {
	for i := range p {
		c.n++
		p[i] = c.n
	}
	return len(p), nil
}

func newCA(t testing.TB, hosts ...string) *CA {
	t.Helper()
	ca, err := New(Options{Rand: &counter{}, Now: time.Now, Hosts: hosts})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return ca
}

func TestServerCertificateCoversLoopbackAndExtraHosts(t *testing.T) {
	t.Parallel()
	ca := newCA(t, "sim.test", "10.1.2.3")
	leaf := ca.ServerCertificate().Leaf
	for _, name := range []string{"localhost", "127.0.0.1", "::1", "sim.test", "10.1.2.3"} {
		opts := x509.VerifyOptions{DNSName: name, Roots: ca.Pool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
		if _, err := leaf.Verify(opts); err != nil {
			t.Errorf("server certificate does not verify for %s: %v", name, err)
		}
	}
	opts := x509.VerifyOptions{DNSName: "example.com", Roots: ca.Pool()}
	if _, err := leaf.Verify(opts); err == nil {
		t.Error("server certificate verified for example.com")
	}
}

func TestNameConstraintsRefuseForeignLeaf(t *testing.T) {
	t.Parallel()
	ca := newCA(t)
	key, err := ecdsa.GenerateKey(elliptic.P256(), crand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(99),
		Subject:      pkix.Name{CommonName: "bank.example"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		DNSNames:     []string{"bank.example"},
		IPAddresses:  []net.IP{net.IPv4(8, 8, 8, 8)},
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(crand.Reader, tmpl, ca.cert, key.Public(), ca.key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	_, err = leaf.Verify(x509.VerifyOptions{DNSName: "bank.example", Roots: ca.Pool()})
	var cie x509.CertificateInvalidError
	if !errors.As(err, &cie) || cie.Reason != x509.CANotAuthorizedForThisName {
		t.Fatalf("a leaf for bank.example verified against the sim CA: err = %v", err)
	}
}

func TestTLSRoundTrip(t *testing.T) {
	t.Parallel()
	ca := newCA(t)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Proto)
	}))
	srv.TLS = ca.ServerTLSConfig()
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()

	for _, host := range []string{srv.URL, strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)} {
		resp, err := ca.Client().Get(host)
		if err != nil {
			t.Fatalf("GET %s with the CA client: %v", host, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != "HTTP/2.0" {
			t.Errorf("GET %s: protocol %q, want HTTP/2.0", host, body)
		}
	}
	if _, err := http.Get(srv.URL); err == nil {
		t.Error("a client that does not trust the CA connected")
	}
	if !bytes.HasPrefix(ca.CertPEM(), []byte("-----BEGIN CERTIFICATE-----")) {
		t.Errorf("CertPEM is not PEM: %.40q", ca.CertPEM())
	}
	block, _ := pem.Decode(ca.CertPEM())
	if block == nil || !bytes.Equal(block.Bytes, ca.Certificate().Raw) {
		t.Error("CertPEM does not hold the CA certificate")
	}
}

func TestValidityFollowsInjectedClock(t *testing.T) {
	t.Parallel()
	ca, err := New(Options{Rand: &counter{}, Now: func() time.Time { return fixed }, Validity: 48 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	leaf := ca.ServerCertificate().Leaf
	if !leaf.NotBefore.Equal(fixed.Add(-time.Hour)) || !leaf.NotAfter.Equal(fixed.Add(48*time.Hour)) {
		t.Errorf("server validity %s..%s, want %s..%s", leaf.NotBefore, leaf.NotAfter, fixed.Add(-time.Hour), fixed.Add(48*time.Hour))
	}
	if !ca.Certificate().NotAfter.After(leaf.NotAfter) {
		t.Error("the CA expires before its server certificate")
	}
	if leaf.SerialNumber.Sign() <= 0 || leaf.SerialNumber.Cmp(ca.Certificate().SerialNumber) == 0 {
		t.Errorf("serials: CA %s, server %s", ca.Certificate().SerialNumber, leaf.SerialNumber)
	}
}

func TestClientCertificateReadByAzidentity(t *testing.T) {
	t.Parallel()
	ca := newCA(t)
	cc, err := ca.IssueClient("foyer app")
	if err != nil {
		t.Fatal(err)
	}
	certs, key, err := azidentity.ParseCertificates(cc.PEM(), nil)
	if err != nil {
		t.Fatalf("azidentity.ParseCertificates: %v", err)
	}
	if len(certs) != 1 || !certs[0].Equal(cc.Certificate) {
		t.Fatalf("ParseCertificates returned %d certificates", len(certs))
	}
	rk, ok := key.(*rsa.PrivateKey)
	if !ok || rk.N.BitLen() != 2048 || !rk.PublicKey.Equal(cc.Certificate.PublicKey) {
		t.Fatalf("ParseCertificates key %T does not match the certificate", key)
	}
	if _, err := cc.Certificate.Verify(x509.VerifyOptions{Roots: ca.Pool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("client certificate does not chain to the CA: %v", err)
	}
	if len(cc.Thumbprint()) != 40 || len(cc.ThumbprintSHA256()) != 64 || strings.ToUpper(cc.Thumbprint()) != cc.Thumbprint() {
		t.Errorf("thumbprints %q %q", cc.Thumbprint(), cc.ThumbprintSHA256())
	}
	other, err := ca.IssueClient("foyer app")
	if err != nil {
		t.Fatal(err)
	}
	if other.Thumbprint() == cc.Thumbprint() || other.Key.Equal(cc.Key) {
		t.Error("two client certificates share a key or thumbprint")
	}
}

type failing struct{}

func (failing) Read([]byte) (int, error) { return 0, errors.New("entropy ran out") }

func TestBadOptions(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		o    Options
		want string
	}{
		{"empty host", Options{Hosts: []string{" "}}, "empty host"},
		{"url as host", Options{Hosts: []string{"https://x"}}, "neither a DNS name"},
		{"wildcard", Options{Hosts: []string{"*.example"}}, "neither a DNS name"},
		{"negative validity", Options{Validity: -time.Second}, "negative"},
		{"reader fails", Options{Rand: failing{}}, "entropy ran out"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := New(tc.o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New: err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
	ca := newCA(t)
	if _, err := ca.IssueClient(""); err == nil {
		t.Error("IssueClient accepted an empty common name")
	}
}

func TestServerTLSConfigIsFresh(t *testing.T) {
	t.Parallel()
	ca := newCA(t)
	a := ca.ServerTLSConfig()
	a.Certificates = nil
	if len(ca.ServerTLSConfig().Certificates) != 1 {
		t.Fatal("changing one returned config changed the next")
	}
	if ca.ServerTLSConfig().MinVersion != tls.VersionTLS12 {
		t.Fatal("server accepts TLS below 1.2")
	}
}

func BenchmarkNew(b *testing.B) {
	for b.Loop() {
		if _, err := New(Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkIssueClient(b *testing.B) {
	ca := newCA(b)
	for b.Loop() {
		if _, err := ca.IssueClient("bench"); err != nil {
			b.Fatal(err)
		}
	}
}
