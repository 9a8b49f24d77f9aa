// Package pki makes the emulated tenant's certificates: a private certificate
// authority, the TLS server certificate for the loopback names the sim listens
// on, and RSA client certificates for apps that sign in with a certificate
// credential.
//
// The CA is name-constrained to the names it certifies (localhost, 127.0.0.0/8,
// ::1 and the extra hosts given), so trusting its ca.pem cannot let it vouch for
// any other site. Only the sim, its tests and the `foyer sim` command import
// this package.
package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	crand "crypto/rand"
	"crypto/rsa"
	"crypto/sha1" // #nosec: the x5t thumbprint Entra and the portal show is SHA-1 by definition
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// DefaultValidity is how long server and client certificates stay valid:
// 397 days, the most browsers accept for a TLS server certificate.
const DefaultValidity = 397 * 24 * time.Hour

// skew backdates every certificate so that a peer whose clock runs a little
// behind still accepts it.
const skew = time.Hour

// Options shape a new CA. The zero value is ready to use.
type Options struct {
	// Rand supplies serial numbers; nil means crypto/rand. Private keys always
	// come from the system's secure source: since Go 1.26 the standard library
	// ignores any other reader for key generation.
	Rand io.Reader
	// Now is the start of every validity period; nil means time.Now. Give the
	// wall clock, not a simulated one: TLS peers check certificates against
	// their own clocks.
	Now func() time.Time
	// Hosts are extra DNS names or IP addresses the server certificate covers,
	// beyond localhost, 127.0.0.1 and ::1.
	Hosts []string
	// Validity of the server and client certificates; 0 means DefaultValidity.
	// The CA itself lives a day longer.
	Validity time.Duration
}

// CA is a private certificate authority with its server certificate. It is
// safe for concurrent use.
type CA struct {
	cert     *x509.Certificate
	key      *ecdsa.PrivateKey
	certPEM  []byte
	server   tls.Certificate
	pool     *x509.CertPool
	now      func() time.Time
	validity time.Duration

	mu   sync.Mutex // guards rand, which need not be safe for concurrent use
	rand io.Reader
}

// New makes a CA and a server certificate for localhost, 127.0.0.1, ::1 and
// o.Hosts.
func New(o Options) (*CA, error) {
	c := &CA{rand: o.Rand, now: o.Now, validity: o.Validity}
	if c.rand == nil {
		c.rand = crand.Reader
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.validity == 0 {
		c.validity = DefaultValidity
	}
	if c.validity < 0 {
		return nil, fmt.Errorf("pki: validity %s is negative", c.validity)
	}
	dns, ips, err := splitHosts(o.Hosts)
	if err != nil {
		return nil, err
	}
	if err := c.makeRoot(dns, ips); err != nil {
		return nil, err
	}
	if err := c.makeServer(dns, ips); err != nil {
		return nil, err
	}
	c.pool = x509.NewCertPool()
	c.pool.AddCert(c.cert)
	return c, nil
}

// splitHosts sorts the default and extra hosts into DNS names and IPs.
func splitHosts(hosts []string) ([]string, []net.IP, error) {
	dns := []string{"localhost"}
	ips := []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	for _, h := range hosts {
		h = strings.TrimSpace(h)
		if h == "" {
			return nil, nil, errors.New("pki: empty host name")
		}
		if ip := net.ParseIP(h); ip != nil {
			ips = append(ips, ip)
			continue
		}
		if strings.ContainsAny(h, " /:*@") || strings.HasPrefix(h, ".") || strings.HasSuffix(h, ".") {
			return nil, nil, fmt.Errorf("pki: %q is neither a DNS name nor an IP address", h)
		}
		dns = append(dns, strings.ToLower(h))
	}
	return dns, ips, nil
}

func (c *CA) makeRoot(dns []string, ips []net.IP) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), crand.Reader)
	if err != nil {
		return fmt.Errorf("pki: generate CA key: %w", err)
	}
	serial, err := c.serial()
	if err != nil {
		return err
	}
	now := c.now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "foyer sim CA", Organization: []string{"foyer sim"}},
		NotBefore:             now.Add(-skew),
		NotAfter:              now.Add(c.validity + 24*time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
		// Constrain the CA to what it certifies, so that trusting it is harmless.
		PermittedDNSDomainsCritical: true,
		PermittedDNSDomains:         dns,
		PermittedIPRanges:           ipRanges(ips),
	}
	der, err := x509.CreateCertificate(c.rand, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return fmt.Errorf("pki: create CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return fmt.Errorf("pki: parse CA certificate: %w", err)
	}
	c.cert, c.key = cert, key
	c.certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	return nil
}

// ipRanges permits 127.0.0.0/8 for the IPv4 loopback and exactly each other IP.
func ipRanges(ips []net.IP) []*net.IPNet {
	var out []*net.IPNet
	for _, ip := range ips {
		switch {
		case ip.Equal(net.IPv4(127, 0, 0, 1)):
			out = append(out, &net.IPNet{IP: net.IPv4(127, 0, 0, 0).To4(), Mask: net.CIDRMask(8, 32)})
		case ip.To4() != nil:
			out = append(out, &net.IPNet{IP: ip.To4(), Mask: net.CIDRMask(32, 32)})
		default:
			out = append(out, &net.IPNet{IP: ip.To16(), Mask: net.CIDRMask(128, 128)})
		}
	}
	return out
}

func (c *CA) makeServer(dns []string, ips []net.IP) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), crand.Reader)
	if err != nil {
		return fmt.Errorf("pki: generate server key: %w", err)
	}
	serial, err := c.serial()
	if err != nil {
		return err
	}
	now := c.now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: dns[0], Organization: []string{"foyer sim"}},
		NotBefore:    now.Add(-skew),
		NotAfter:     now.Add(c.validity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     dns,
		IPAddresses:  ips,
	}
	der, err := x509.CreateCertificate(c.rand, tmpl, c.cert, key.Public(), c.key)
	if err != nil {
		return fmt.Errorf("pki: create server certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return fmt.Errorf("pki: parse server certificate: %w", err)
	}
	c.server = tls.Certificate{Certificate: [][]byte{der, c.cert.Raw}, PrivateKey: key, Leaf: leaf}
	return nil
}

// serial draws a positive 128-bit serial number from the injected reader.
func (c *CA) serial() (*big.Int, error) {
	var b [16]byte
	c.mu.Lock()
	_, err := io.ReadFull(c.rand, b[:])
	c.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("pki: read serial number: %w", err)
	}
	b[0] &= 0x7f
	b[0] |= 0x40 // never zero, never negative
	return new(big.Int).SetBytes(b[:]), nil
}

// CertPEM returns the CA certificate in PEM, as written to ca.pem.
func (c *CA) CertPEM() []byte { return append([]byte(nil), c.certPEM...) }

// Certificate returns the CA certificate.
func (c *CA) Certificate() *x509.Certificate { return c.cert }

// Pool returns a new pool holding only the CA certificate.
func (c *CA) Pool() *x509.CertPool { return c.pool.Clone() }

// ServerCertificate returns the server certificate chain and key.
func (c *CA) ServerCertificate() tls.Certificate { return c.server }

// ServerTLSConfig returns a new TLS configuration for the sim's listener.
func (c *CA) ServerTLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{c.server},
		NextProtos:   []string{"h2", "http/1.1"},
	}
}

// ClientTLSConfig returns a new TLS configuration that trusts only the CA.
func (c *CA) ClientTLSConfig() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: c.Pool()}
}

// Transport returns a new HTTP transport, like http.DefaultTransport but
// trusting only the CA.
func (c *CA) Transport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = c.ClientTLSConfig()
	return t
}

// Client returns a new HTTP client that trusts only the CA.
func (c *CA) Client() *http.Client { return &http.Client{Transport: c.Transport()} }

// ClientCert is a certificate credential for an app: an RSA 2048 key (MSAL
// signs client assertions with RSA only) and its certificate.
type ClientCert struct {
	Certificate *x509.Certificate
	Key         *rsa.PrivateKey
	CertPEM     []byte // "CERTIFICATE"
	KeyPEM      []byte // "PRIVATE KEY" (PKCS #8)
}

// PEM returns the certificate followed by the key, the form
// azidentity.ParseCertificates reads and `foyer sim` writes to client.pem.
func (cc *ClientCert) PEM() []byte {
	out := append([]byte(nil), cc.CertPEM...)
	return append(out, cc.KeyPEM...)
}

// Thumbprint returns the certificate's SHA-1 thumbprint in upper-case hex, as
// the Entra admin center lists it and as AADSTS700027 quotes it.
func (cc *ClientCert) Thumbprint() string {
	sum := sha1.Sum(cc.Certificate.Raw) // #nosec: an identifier, not a signature
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// ThumbprintSHA256 returns the certificate's SHA-256 thumbprint in upper-case hex.
func (cc *ClientCert) ThumbprintSHA256() string {
	sum := sha256.Sum256(cc.Certificate.Raw)
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// IssueClient makes a client certificate with the given subject common name,
// signed by the CA. Entra does not check an app certificate's chain, only that
// the certificate is registered on the app; signing it by the CA keeps every
// certificate the sim hands out traceable to one root.
func (c *CA) IssueClient(commonName string) (*ClientCert, error) {
	if strings.TrimSpace(commonName) == "" {
		return nil, errors.New("pki: client certificate needs a common name")
	}
	key, err := rsa.GenerateKey(crand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("pki: generate client key for %q: %w", commonName, err)
	}
	serial, err := c.serial()
	if err != nil {
		return nil, err
	}
	now := c.now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: commonName, Organization: []string{"foyer sim"}},
		NotBefore:    now.Add(-skew),
		NotAfter:     now.Add(c.validity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(c.rand, tmpl, c.cert, key.Public(), c.key)
	if err != nil {
		return nil, fmt.Errorf("pki: create client certificate for %q: %w", commonName, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("pki: parse client certificate for %q: %w", commonName, err)
	}
	pk8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("pki: encode client key for %q: %w", commonName, err)
	}
	return &ClientCert{
		Certificate: cert,
		Key:         key,
		CertPEM:     pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:      pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk8}),
	}, nil
}
