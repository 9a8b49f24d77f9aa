package cli

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/foyer-dev/foyer/config"
)

// TestSim runs `foyer sim` in-process: it prints the ready line, writes the
// CA, the credentials and a foyer.yaml that the config package accepts,
// serves over HTTPS with that CA, and stops when its context ends.
func TestSim(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	outR, outW := io.Pipe()
	stderr := &syncWriter{b: &strings.Builder{}}
	done := make(chan int, 1)
	begin := time.Now()
	go func() {
		done <- Run(ctx, Env{Args: []string{"sim", "--dir", dir, "--seed", "7", "--throttle", "published", "--latency", "0"}, Stdout: outW, Stderr: stderr})
		outW.Close()
	}()
	line, err := bufio.NewReader(outR).ReadString('\n')
	if err != nil {
		t.Fatalf("ready line: %v (stderr %s)", err, stderr.String())
	}
	t.Logf("ready after %v", time.Since(begin))
	go func() { _, _ = io.Copy(io.Discard, outR) }()
	var ready simReady
	if err := json.Unmarshal([]byte(line), &ready); err != nil {
		t.Fatalf("ready line %q: %v", line, err)
	}
	if ready.URL == "" || ready.TenantID == "" || ready.ClientID == "" || ready.ClientSecret == "" || ready.Config != filepath.Join(dir, "foyer.yaml") {
		t.Fatalf("ready line %+v", ready)
	}
	for path, mode := range map[string]os.FileMode{ready.CAFile: 0o644, ready.SecretFile: 0o600, ready.CertificateFile: 0o600, ready.Config: 0o644} {
		fi, err := os.Stat(path)
		if err != nil || fi.Mode().Perm() != mode {
			t.Errorf("%s: %v %v", path, err, fi)
		}
	}
	if b, _ := os.ReadFile(ready.SecretFile); strings.TrimSpace(string(b)) != ready.ClientSecret {
		t.Error("client-secret does not hold the secret")
	}
	cfg, err := config.Load(context.Background(), ready.Config)
	if err != nil {
		t.Fatalf("foyer.yaml: %v", err)
	}
	if tn := cfg.Tenants["contoso"]; tn == nil || tn.TenantID != ready.TenantID || tn.Endpoints.Graph != ready.URL {
		t.Errorf("foyer.yaml tenant: %+v", tn)
	}
	if p := cfg.Profiles["partners"]; p == nil || len(p.Groups) != 1 || p.Groups[0] != "DemoApp" {
		t.Errorf("foyer.yaml profile: %+v", p)
	}

	// curl --cacert DIR/ca.pem reaches it.
	pem, _ := os.ReadFile(ready.CAFile)
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatal("ca.pem holds no certificate")
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := c.Get(ready.URL + "/_sim/settings")
	if err != nil {
		t.Fatal(err)
	}
	var settings map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&settings)
	resp.Body.Close()
	if settings["throttle"] != "published" {
		t.Errorf("settings: %v", settings)
	}

	cancel()
	select {
	case code := <-done:
		if code != ExitOK {
			t.Errorf("exit %d: %s", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("foyer sim did not stop")
	}
}

func TestSimBadFlags(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"sim", "--throttle", "sometimes"},
		{"sim", "--latency", "fast"},
		{"sim", "--faults", "2"},
		{"sim", "--addr", "0.0.0.0:0", "--dir", t.TempDir()},
	} {
		var stderr strings.Builder
		code := Run(context.Background(), Env{Args: args, Stdout: io.Discard, Stderr: &stderr})
		if code == ExitOK || stderr.Len() == 0 {
			t.Errorf("%v: exit %d, stderr %q", args, code, stderr.String())
		}
	}
}

// syncWriter guards a builder written by the command's goroutine.
type syncWriter struct {
	mu sync.Mutex
	b  *strings.Builder
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}
