package blob_test

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The storage emulator's well-known development account (Azurite's README,
// "Default Storage Account"): public, for emulators only.
const (
	devAccount = "devstoreaccount1"
	devKey     = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

// azurite is a running Azurite blob service.
type azurite struct {
	URL    string       // the account's blob endpoint: http(s)://127.0.0.1:PORT/devstoreaccount1
	Client *http.Client // trusts its certificate when it serves https
}

// ConnectionString returns the development account's connection string.
func (a *azurite) ConnectionString() string {
	proto := "http"
	if strings.HasPrefix(a.URL, "https:") {
		proto = "https"
	}
	return "DefaultEndpointsProtocol=" + proto + ";AccountName=" + devAccount + ";AccountKey=" + devKey + ";BlobEndpoint=" + a.URL + ";"
}

var listening = regexp.MustCompile(`successfully listens on (https?://\S+)`)

// startAzurite starts the Azurite blob service on a free port with its data
// in a temporary directory, waits until it says it listens, and stops it
// when the test ends. With oauth it serves https with a fresh self-signed
// certificate and accepts bearer tokens (--oauth basic: it checks a token's
// issuer, audience and lifetime, not its signature). It skips the test when
// FOYER_TEST_AZURITE is unset.
func startAzurite(t *testing.T, oauth bool) *azurite {
	t.Helper()
	bin := os.Getenv("FOYER_TEST_AZURITE")
	if bin == "" {
		t.Skip("FOYER_TEST_AZURITE is unset: scripts/test installs Azurite and sets it to the azurite-blob binary")
	}
	dir := t.TempDir()
	args := []string{"--blobHost", "127.0.0.1", "--blobPort", "0", "--location", dir,
		"--skipApiVersionCheck", "--loose", "--silent", "--disableTelemetry"}
	client := &http.Client{}
	if oauth {
		certFile, keyFile, pool := selfSigned(t, dir)
		args = append(args, "--cert", certFile, "--key", keyFile, "--oauth", "basic")
		client.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.Command(bin, args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	exited := make(chan struct{})
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	found := make(chan string, 1)
	var seen strings.Builder
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			seen.WriteString(sc.Text() + "\n")
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
				break
			}
		}
		for sc.Scan() { // keep the pipe drained
		}
		cmd.Wait()
		close(exited)
	}()
	select {
	case u := <-found:
		return &azurite{URL: u + "/" + devAccount, Client: client}
	case <-exited:
		t.Fatalf("azurite exited before listening:\n%s%s", seen.String(), stderr.String())
	case <-ctx.Done():
		t.Fatalf("azurite did not listen within a minute")
	}
	return nil
}

// selfSigned writes a certificate for 127.0.0.1 and its key to dir.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "azurite test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// tokenServer is a Microsoft identity platform endpoint for one tenant and
// one app: OpenID discovery and the client-credentials token request, as
// azidentity's ClientSecretCredential uses them. It issues tokens for
// Azure Storage (audience https://storage.azure.com, issuer
// https://sts.windows.net/{tenant}/, the v1 form Storage accepts), unsigned
// since Azurite does not check signatures.
type tokenServer struct {
	*httptest.Server
	Tenant, ClientID, Secret string
	issued                   chan string // scopes of issued tokens
}

func startTokenServer(t *testing.T) *tokenServer {
	t.Helper()
	ts := &tokenServer{Tenant: "72f988bf-86f1-41af-91ab-2d7cd011db47", ClientID: "0b4c1b83-1b0c-4a8e-9d1c-5b3f2f0e6a11", Secret: "not-a-real-secret~1", issued: make(chan string, 16)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{tenant}/v2.0/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		base := ts.URL + "/" + r.PathValue("tenant")
		json.NewEncoder(w).Encode(map[string]any{
			"issuer":                 base + "/v2.0",
			"authorization_endpoint": base + "/oauth2/v2.0/authorize",
			"token_endpoint":         base + "/oauth2/v2.0/token",
			"jwks_uri":               base + "/discovery/v2.0/keys",
		})
	})
	mux.HandleFunc("POST /{tenant}/oauth2/v2.0/token", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.PathValue("tenant") != ts.Tenant || r.FormValue("grant_type") != "client_credentials" ||
			r.FormValue("client_id") != ts.ClientID || r.FormValue("client_secret") != ts.Secret {
			w.WriteHeader(http.StatusUnauthorized)
			json.NewEncoder(w).Encode(map[string]any{"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided."})
			return
		}
		// MSAL adds openid, offline_access and profile to the resource's
		// scope.
		var scope string
		for _, s := range strings.Fields(r.FormValue("scope")) {
			if strings.HasSuffix(s, "/.default") {
				scope = s
			}
		}
		ts.issued <- scope
		now := time.Now().Unix()
		enc := base64.RawURLEncoding
		claims, _ := json.Marshal(map[string]any{
			"aud": strings.TrimSuffix(scope, "/.default"), "iss": "https://sts.windows.net/" + ts.Tenant + "/",
			"iat": now - 60, "nbf": now - 60, "exp": now + 3600, "tid": ts.Tenant, "appid": ts.ClientID, "oid": "8d2e6bd5-0c8f-4d3a-9a7e-0a5b4c3d2e1f",
		})
		jwt := enc.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT"}`)) + "." + enc.EncodeToString(claims) + "." + enc.EncodeToString([]byte("unsigned"))
		json.NewEncoder(w).Encode(map[string]any{"token_type": "Bearer", "expires_in": 3600, "ext_expires_in": 3600, "access_token": jwt})
	})
	ts.Server = httptest.NewTLSServer(mux)
	t.Cleanup(ts.Close)
	return ts
}
