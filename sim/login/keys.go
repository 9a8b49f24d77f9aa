package login

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" // #nosec: the kid/x5t of Entra's keys is a SHA-1 thumbprint
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"fmt"
	"math/big"
	"time"
)

// signer is the authority's token signing key with its certificate, as
// published in the JWKS.
type signer struct {
	key  *rsa.PrivateKey
	cert *x509.Certificate
	kid  string // base64url SHA-1 thumbprint of cert: Entra's kid equals its x5t
}

func newSigner(key *rsa.PrivateKey, now time.Time) (*signer, error) {
	if key == nil {
		var err error
		if key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			return nil, fmt.Errorf("login: generate signing key: %w", err)
		}
	}
	if key.N.BitLen() < 2048 {
		return nil, fmt.Errorf("login: signing key has %d bits; Entra signs with 2048", key.N.BitLen())
	}
	serial := new(big.Int).SetBytes(sha1Sum(key.N.Bytes())[:16])
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "accounts.accesscontrol.windows.net (foyer sim)"},
		NotBefore:             now.Add(-24 * time.Hour),
		NotAfter:              now.Add(5 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("login: certify signing key: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("login: parse signing certificate: %w", err)
	}
	return &signer{key: key, cert: cert, kid: base64.RawURLEncoding.EncodeToString(sha1Sum(der))}, nil
}

func sha1Sum(b []byte) []byte {
	s := sha1.Sum(b) // #nosec: thumbprint, not a signature
	return s[:]
}

// jwk is one key of the JWKS, with the fields Entra publishes
// (https://login.microsoftonline.com/{tenant}/discovery/v2.0/keys).
type jwk struct {
	Kty               string   `json:"kty"`
	Use               string   `json:"use"`
	Kid               string   `json:"kid"`
	X5t               string   `json:"x5t"`
	N                 string   `json:"n"`
	E                 string   `json:"e"`
	X5c               []string `json:"x5c"`
	CloudInstanceName string   `json:"cloud_instance_name"`
	Issuer            string   `json:"issuer"`
}

func (s *signer) jwk(issuer string) jwk {
	return jwk{
		Kty:               "RSA",
		Use:               "sig",
		Kid:               s.kid,
		X5t:               s.kid,
		N:                 base64.RawURLEncoding.EncodeToString(s.key.N.Bytes()),
		E:                 base64.RawURLEncoding.EncodeToString(big.NewInt(int64(s.key.E)).Bytes()),
		X5c:               []string{base64.StdEncoding.EncodeToString(s.cert.Raw)},
		CloudInstanceName: "microsoftonline.com",
		Issuer:            issuer,
	}
}
