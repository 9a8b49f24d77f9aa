package graph

import (
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/golang-jwt/jwt/v5"

	"github.com/foyer-dev/foyer/sim"
	"github.com/foyer-dev/foyer/sim/simtest"
)

// TestWorkloadIdentityGetsATokenFromTheSim: the workload identity
// credential sends the federated token file's content as its client
// assertion. The sim trusts the default app's certificate, so a token file
// holding an assertion signed with that certificate's key stands in for
// the one Kubernetes would project.
func TestWorkloadIdentityGetsATokenFromTheSim(t *testing.T) {
	t.Parallel()
	s := simtest.Start(t, sim.Options{})
	certPEM, keyPEM := s.ClientCertificate()
	cb, _ := pem.Decode(certPEM)
	kb, _ := pem.Decode(keyPEM)
	if cb == nil || kb == nil {
		t.Fatal("the sim's client certificate is not PEM")
	}
	key, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		rk, err2 := x509.ParsePKCS1PrivateKey(kb.Bytes)
		if err2 != nil {
			t.Fatalf("client key: %v / %v", err, err2)
		}
		key = rk
	}
	sum := sha256.Sum256(cb.Bytes)
	now := time.Now()
	tok := jwt.NewWithClaims(jwt.SigningMethodPS256, jwt.MapClaims{
		"aud": s.URL() + "/" + s.TenantID() + "/oauth2/v2.0/token",
		"iss": s.ClientID(), "sub": s.ClientID(), "jti": "workload-test",
		"nbf": now.Add(-time.Minute).Unix(), "exp": now.Add(10 * time.Minute).Unix(),
	})
	tok.Header["x5t#S256"] = base64.RawURLEncoding.EncodeToString(sum[:])
	signed, err := tok.SignedString(key.(*rsa.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte(signed), 0o600); err != nil {
		t.Fatal(err)
	}
	o := simOptions(s, s.ClientID(), "")
	o.Credential = Credential{Type: CredentialWorkloadIdentity, TokenFile: file}
	cred, err := NewCredential(o)
	if err != nil {
		t.Fatal(err)
	}
	at, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{"https://graph.microsoft.com/.default"}})
	if err != nil || at.Token == "" {
		t.Fatalf("token: %v", err)
	}
	c, err := New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Domains(context.Background()); err != nil {
		t.Fatal(err)
	}
}
