package graph

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/foyer-dev/foyer/sim"
	"github.com/foyer-dev/foyer/sim/simtest"
)

// TestPFXCertificateGetsATokenFromTheSim: a password-protected PFX holding
// the sim's client certificate signs in. The PFX is made with openssl's
// legacy algorithms (what azidentity's PKCS#12 reader understands, and what
// Windows' certificate export writes by default).
func TestPFXCertificateGetsATokenFromTheSim(t *testing.T) {
	t.Parallel()
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl is not installed: cannot make a PFX to sign in with (apt-get install openssl)")
	}
	s := simtest.Start(t, sim.Options{})
	dir := t.TempDir()
	certPEM, keyPEM := s.ClientCertificate()
	pemFile, pfxFile := filepath.Join(dir, "client.pem"), filepath.Join(dir, "client.pfx")
	if err := os.WriteFile(pemFile, append(append([]byte{}, certPEM...), keyPEM...), 0o600); err != nil {
		t.Fatal(err)
	}
	const password = "pfx-p4ssword"
	out, err := exec.Command(openssl, "pkcs12", "-export", "-legacy", "-in", pemFile, "-out", pfxFile, "-passout", "pass:"+password).CombinedOutput()
	if err != nil {
		t.Fatalf("openssl pkcs12: %v: %s", err, out)
	}
	o := simOptions(s, s.ClientID(), "")
	o.Credential = Credential{Type: CredentialCertificate, CertificateFile: pfxFile, PasswordEnv: "PFX_PASSWORD"}
	o.Getenv = func(k string) string {
		if k == "PFX_PASSWORD" {
			return password
		}
		return ""
	}
	cred, err := NewCredential(o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{"https://graph.microsoft.com/.default"}}); err != nil {
		t.Fatal(err)
	}
	// A wrong password is refused before any call, without showing it.
	o.Getenv = func(string) string { return "wrong-" + password }
	if _, err := NewCredential(o); err == nil {
		t.Fatal("a wrong PFX password was accepted")
	} else if strings.Contains(err.Error(), password) {
		t.Fatalf("the password is in the error: %v", err)
	}
}
