package cli_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/foyer-dev/foyer/cmd/foyer/cli"
	"github.com/foyer-dev/foyer/sim"
)

// The leak tests give foyer inputs whose secret parts (a SAS query, a
// connection string's SharedAccessSignature, user information) carry a
// unique marker, drive plan and apply through every error path the inputs
// can take, and look for the marker in everything foyer wrote: stdout,
// stderr (with debug logs), the ledger's files and the results file.

// leakCSV is what the input server serves as a good guest list.
const leakCSV = "email\r\nana.leak@fabrikam.example\r\n"

// leakWorld is an emulated tenant, its configuration, and an https server
// that serves inputs and fails in every way asked of it.
type leakWorld struct {
	marker  string // the secret: no output may contain it
	sas     string // a blob SAS query carrying it: ?sv=...&sig=MARKER...
	dir     string // the configuration's directory, with the ledger
	config  string
	srv     *httptest.Server
	host    string // srv's host:port
	certPEM []byte // srv's certificate, the CA an input client must trust
	dead    string // https://127.0.0.1:PORT where nothing listens
	rogue   string // an https server whose certificate nobody trusts
	getenv  func(string) string

	mu      sync.Mutex
	arrived map[string]chan struct{} // a slow request's token: closed when it arrives
}

// blobEnv is the variable the leak configuration's storage connection
// string is read from.
const blobEnv = "FOYER_LEAK_BLOB"

func newLeakWorld(t *testing.T) *leakWorld {
	t.Helper()
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	w := &leakWorld{marker: "MARKER-" + hex.EncodeToString(b), arrived: map[string]chan struct{}{}}
	// A signature is base64, escaped in the URL.
	w.sas = "?sv=2022-11-02&sr=b&sp=r&se=2030-01-01T00%3A00%3A00Z&sig=" + w.marker + "%2Bx%3D"
	_, w.config, _ = tenant(t, sim.Options{})
	w.dir = filepath.Dir(w.config)
	appendFile(t, w.config, "storage:\n  connection_string_env: "+blobEnv+"\n")

	w.srv = httptest.NewTLSServer(http.HandlerFunc(w.serve))
	t.Cleanup(w.srv.Close)
	w.host = strings.TrimPrefix(w.srv.URL, "https://")
	w.certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: w.srv.Certificate().Raw})

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	w.dead = "https://" + l.Addr().String()
	l.Close()

	rogue := httptest.NewUnstartedServer(http.HandlerFunc(w.serve))
	rogue.TLS = &tls.Config{Certificates: []tls.Certificate{untrustedCert(t)}}
	rogue.StartTLS()
	t.Cleanup(rogue.Close)
	w.rogue = rogue.URL

	conn := "BlobEndpoint=" + w.srv.URL + "/acct;SharedAccessSignature=" + strings.TrimPrefix(w.sas, "?")
	w.getenv = func(k string) string {
		if k == blobEnv {
			return conn
		}
		return ""
	}
	return w
}

// untrustedCert is a self-signed certificate for 127.0.0.1 that no client
// trusts.
func untrustedCert(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "rogue"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// serve answers by the request path's last element; a slow request's
// token is the element before it. Error answers echo the request's URL in
// their body, as some servers do.
func (w *leakWorld) serve(rw http.ResponseWriter, r *http.Request) {
	echo := "<Error><Message>no " + r.URL.String() + "</Message></Error>"
	status := func(code int, ms string) {
		rw.Header().Set("x-ms-error-code", ms)
		rw.Header().Set("Content-Type", "application/xml")
		rw.WriteHeader(code)
		fmt.Fprint(rw, echo)
	}
	redirect := func(to string) {
		rw.Header().Set("Location", to)
		rw.WriteHeader(http.StatusFound)
	}
	switch path.Base(r.URL.Path) {
	case "ok.csv":
		rw.Header().Set("Content-Type", "text/csv")
		rw.Header().Set("ETag", `"0x1"`)
		rw.Header().Set("Last-Modified", "Mon, 02 Jan 2006 15:04:05 GMT")
		fmt.Fprint(rw, leakCSV)
	case "404.csv":
		status(http.StatusNotFound, "BlobNotFound")
	case "403.csv":
		status(http.StatusForbidden, "AuthenticationFailed")
	case "500.csv":
		status(http.StatusInternalServerError, "InternalError")
	case "echocode.csv":
		// An error code that is not a code but the query.
		status(http.StatusBadRequest, r.URL.RawQuery)
	case "html.csv":
		// A sign-in page or proxy answering 200 with the URL in it.
		rw.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(rw, "<html><body>Sign in to continue to %s</body></html>\n", r.URL.String())
	case "binary.csv":
		rw.Header().Set("Content-Type", "application/octet-stream")
		rw.Write([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"))
	case "truncated.csv":
		// Less than it says: the connection closes early, and again when
		// the rest is asked for (azblob's retry reader asks for a range).
		rw.Header().Set("ETag", `"0x3"`)
		if rg := r.Header.Get("x-ms-range") + r.Header.Get("Range"); rg != "" && !strings.HasPrefix(rg, "bytes=0-") {
			rw.Header().Set("Content-Length", "993")
			rw.WriteHeader(http.StatusPartialContent)
			return
		}
		rw.Header().Set("Content-Length", "1000")
		fmt.Fprint(rw, "email\r\n")
	case "huge.csv":
		rw.Header().Set("Content-Length", fmt.Sprint(int64(3)<<30))
		rw.WriteHeader(http.StatusOK)
	case "redirect.csv":
		redirect(w.srv.URL + "/elsewhere/404.csv?sv=1&sig=" + w.marker + "-redirected")
	case "redirect-http.csv":
		redirect("http://" + r.Host + "/ok.csv?sig=" + w.marker)
	case "redirect-bad.csv":
		redirect("https://[::1?sig=" + w.marker)
	case "redirect-refused.csv":
		redirect(w.dead + "/ok.csv?sig=" + w.marker)
	case "redirect-rogue.csv":
		redirect(w.rogue + "/ok.csv?sig=" + w.marker)
	case "redirect-loop.csv":
		redirect(r.URL.Path + "?n=" + fmt.Sprint(len(r.URL.RawQuery)) + "&sig=" + w.marker)
	case "slowhead.csv":
		w.arrive(path.Base(path.Dir(r.URL.Path)))
		<-r.Context().Done()
	case "slowbody.csv":
		rw.Header().Set("Content-Type", "text/csv")
		rw.Header().Set("Content-Length", "1000")
		rw.Header().Set("ETag", `"0x2"`)
		fmt.Fprint(rw, "email\r\n")
		rw.(http.Flusher).Flush()
		w.arrive(path.Base(path.Dir(r.URL.Path)))
		<-r.Context().Done()
	case "stall.csv":
		<-r.Context().Done()
	default:
		status(http.StatusNotFound, "BlobNotFound")
	}
}

// wait returns a channel closed when the slow request with this token
// arrives.
func (w *leakWorld) wait(token string) <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	c := make(chan struct{})
	w.arrived[token] = c
	return c
}

func (w *leakWorld) arrive(token string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if c, ok := w.arrived[token]; ok {
		close(c)
		delete(w.arrived, token)
	}
}

// leakCase is one input spec and what its error must say (so that the
// test knows the path it meant was taken).
type leakCase struct {
	name   string
	spec   string // TOKEN is replaced by a fresh token for slow requests
	want   string // in stderr ("a|b": either); "" for an input that works
	cut    bool   // cancel the command once the slow request arrives
	client func(w *leakWorld) *http.Client
	getenv func(string) string
}

func (w *leakWorld) trusting(timeout time.Duration) *http.Client {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(w.certPEM)
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ResponseHeaderTimeout: timeout}}
}

func (w *leakWorld) cases() []leakCase {
	u := w.srv.URL
	return []leakCase{
		{name: "ok", spec: u + "/in/ok.csv" + w.sas},
		{name: "404", spec: u + "/in/404.csv" + w.sas, want: "404 Not Found (BlobNotFound)"},
		{name: "403", spec: u + "/in/403.csv" + w.sas, want: "403 Forbidden (AuthenticationFailed)"},
		{name: "500", spec: u + "/in/500.csv" + w.sas, want: "500 Internal Server Error"},
		{name: "query as error code", spec: u + "/in/echocode.csv" + w.sas, want: "400 Bad Request"},
		{name: "html page", spec: u + "/in/html.csv" + w.sas, want: "HTML"},
		{name: "binary", spec: u + "/in/binary.csv" + w.sas, want: "NUL byte"},
		{name: "truncated", spec: u + "/in/truncated.csv" + w.sas, want: "unexpected EOF"},
		{name: "too large", spec: u + "/in/huge.csv" + w.sas, want: "larger than the limit"},
		{name: "refused", spec: w.dead + "/in/ok.csv" + w.sas, want: "connection refused"},
		{name: "untrusted certificate", spec: w.rogue + "/in/ok.csv" + w.sas, want: "certificate"},
		{name: "system roots", spec: u + "/in/ok.csv" + w.sas, want: "certificate", client: func(*leakWorld) *http.Client { return nil }},
		{name: "redirect", spec: u + "/in/redirect.csv" + w.sas, want: "404 Not Found"},
		{name: "redirect to http", spec: u + "/in/redirect-http.csv" + w.sas, want: "plain http"},
		{name: "redirect unparsable", spec: u + "/in/redirect-bad.csv" + w.sas, want: "Location"},
		{name: "redirect refused", spec: u + "/in/redirect-refused.csv" + w.sas, want: "connection refused"},
		{name: "redirect untrusted", spec: u + "/in/redirect-rogue.csv" + w.sas, want: "certificate"},
		{name: "redirect loop", spec: u + "/in/redirect-loop.csv" + w.sas, want: "more than 10 redirects"},
		{name: "cut waiting for headers", spec: u + "/TOKEN/slowhead.csv" + w.sas, want: "canceled|interrupt", cut: true},
		{name: "cut while reading", spec: u + "/TOKEN/slowbody.csv" + w.sas, want: "canceled|interrupt", cut: true},
		{name: "header timeout", spec: u + "/in/stall.csv" + w.sas, want: "timeout",
			client: func(w *leakWorld) *http.Client { return w.trusting(50 * time.Millisecond) }},
		{name: "unparsable host", spec: "https://[::1/in/ok.csv" + w.sas, want: "not a valid URL"},
		{name: "bad escape", spec: u + "/in/%zz.csv" + w.sas, want: "not a valid URL"},
		{name: "no host", spec: "https:///in/ok.csv" + w.sas, want: "not a valid URL"},
		{name: "control character", spec: u + "/in/ok.csv" + w.sas + "\n", want: "not a valid URL"},
		{name: "space in query", spec: u + "/in/404.csv" + w.sas + " x", want: "400 Bad Request"},
		{name: "plain http", spec: "http://" + w.host + "/in/ok.csv" + w.sas, want: "plain http"},
		{name: "other scheme", spec: "ftp://" + w.host + "/in/ok.csv" + w.sas, want: "not supported"},
		{name: "slash missing", spec: "https:/" + w.host + "/in/ok.csv" + w.sas, want: "//"},
		{name: "upper-case scheme", spec: "HTTPS://" + w.host + "/in/404.csv" + w.sas, want: "404 Not Found"},
		{name: "user information", spec: "https://reader:" + w.marker + "@" + w.host + "/in/404.csv", want: "404 Not Found"},
		{name: "fragment", spec: u + "/in/404.csv#sig=" + w.marker, want: "404 Not Found"},

		{name: "blob ok", spec: "azblob://c/ok.csv"},
		{name: "blob 404", spec: "azblob://c/404.csv", want: "404 Not Found (BlobNotFound)"},
		{name: "blob 403", spec: "azblob://c/403.csv", want: "403 Forbidden (AuthenticationFailed)"},
		{name: "blob query as error code", spec: "azblob://c/echocode.csv", want: "400 Bad Request"},
		{name: "blob truncated", spec: "azblob://c/truncated.csv", want: "EOF"},
		{name: "blob cut waiting for headers", spec: "azblob://c/TOKEN/slowhead.csv", want: "canceled|interrupt", cut: true},
		{name: "blob cut while reading", spec: "azblob://c/TOKEN/slowbody.csv", want: "canceled|interrupt", cut: true},
		{name: "blob query", spec: "azblob://c/ok.csv" + w.sas, want: "no query"},
		{name: "blob bad connection string", spec: "azblob://c/ok.csv", want: "malformed",
			getenv: func(string) string { return "BlobEndpoint=" + w.marker + ";SharedAccessSignature" }},
	}
}

// leakCommands are the ways each input is given to foyer.
func leakCommands(results string) [][]string {
	return [][]string{
		{"plan", "--log-level", "debug"},
		{"plan", "--log-level", "debug", "--output", "json", "--verbose"},
		{"apply", "--log-level", "debug", "--yes"},
		{"apply", "--log-level", "debug", "--yes", "--output", "json", "--results", results},
	}
}

// TestLeakNoSecretInOutput runs plan and apply in-process on every case.
func TestLeakNoSecretInOutput(t *testing.T) {
	t.Parallel()
	w := newLeakWorld(t)
	results := filepath.Join(t.TempDir(), "results.csv")
	trusting := w.trusting(0)
	n := 0
	for _, c := range w.cases() {
		for _, args := range leakCommands(results) {
			n++
			token := fmt.Sprint("t", n)
			spec := strings.ReplaceAll(c.spec, "TOKEN", token)
			args = append(args, "--config", w.config, "--profile", "partners", spec)
			ctx, cancel := context.WithCancel(context.Background())
			if c.cut {
				arrived := w.wait(token)
				go func() {
					select {
					case <-arrived:
					case <-ctx.Done():
					}
					cancel()
				}()
			}
			env := cli.Env{Args: args, Stdin: strings.NewReader(""), Getenv: w.getenv, InputClient: trusting}
			if c.client != nil {
				env.InputClient = c.client(w)
			}
			if c.getenv != nil {
				env.Getenv = c.getenv
			}
			// The command's loggers write from several goroutines.
			var stdout, stderr lockedBuffer
			env.Stdout, env.Stderr = &stdout, &stderr
			code := cli.Run(ctx, env)
			cancel()
			w.check(t, c, args[0]+" "+strings.Join(args[1:len(args)-5], " "), code, stdout.String(), stderr.String())
		}
	}
	w.checkFiles(t, results)
}

// check looks at one command's outcome.
func (w *leakWorld) check(t *testing.T, c leakCase, cmd string, code int, stdout, stderr string) {
	t.Helper()
	for name, out := range map[string]string{"stdout": stdout, "stderr": stderr} {
		if i := strings.Index(out, w.marker); i >= 0 {
			t.Errorf("%s: %s: the secret is in %s: ...%s...", c.name, cmd, name, out[max(0, i-200):min(len(out), i+60)])
		}
	}
	want := cli.ExitError
	if c.cut {
		want = cli.ExitInterrupted // cut off by an interrupt
	}
	switch {
	case c.want == "" && code != cli.ExitOK:
		t.Errorf("%s: %s: exit %d\n%s", c.name, cmd, code, stderr)
	case c.want != "" && (code != want || !containsAny(stderr, strings.Split(c.want, "|"))):
		t.Errorf("%s: %s: exit %d, want %d and %q in stderr:\n%s", c.name, cmd, code, want, c.want, stderr)
	}
}

// lockedBuffer is a bytes.Buffer safe for concurrent writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// checkFiles looks for the secret in the ledger, the results file and
// whatever else the configuration's directory holds, and for the input's
// safe name in the ledger.
func (w *leakWorld) checkFiles(t *testing.T, results ...string) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(w.dir, "*"))
	files = append(files, results...)
	var ledger []byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Errorf("read %s: %v", f, err)
			continue
		}
		if strings.HasPrefix(filepath.Base(f), "foyer.db") {
			ledger = append(ledger, b...)
		}
		if bytes.Contains(b, []byte(w.marker)) {
			t.Errorf("%s holds the secret", f)
		}
	}
	// The runs of the good inputs are recorded by the URL without its
	// query.
	for _, name := range []string{w.srv.URL + "/in/ok.csv", w.srv.URL + "/acct/c/ok.csv"} {
		if !bytes.Contains(ledger, []byte(name)) {
			t.Errorf("the ledger does not name the input %s", name)
		}
	}
}

// TestLeakBinary runs a built foyer on the main error paths, to see its
// logs, its handling of SIGINT and anything the Go runtime prints.
func TestLeakBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds foyer")
	}
	if runtime.GOOS != "linux" {
		t.Skip("the binary is told to trust the test server with SSL_CERT_FILE, which only Linux reads")
	}
	t.Parallel()
	w := newLeakWorld(t)
	bin := filepath.Join(t.TempDir(), "foyer")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/foyer-dev/foyer/cmd/foyer").CombinedOutput(); err != nil {
		t.Fatalf("build foyer: %v\n%s", err, out)
	}
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, w.certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	environ := append(os.Environ(), "SSL_CERT_FILE="+ca, "TMPDIR="+tmp, blobEnv+"="+w.getenv(blobEnv))
	keep := map[string]bool{"ok": true, "404": true, "html page": true, "binary": true, "refused": true,
		"untrusted certificate": true, "redirect unparsable": true, "cut waiting for headers": true,
		"cut while reading": true, "unparsable host": true, "slash missing": true, "blob ok": true,
		"blob 404": true, "blob cut waiting for headers": true}
	results := filepath.Join(t.TempDir(), "results.csv")
	n := 0
	for _, c := range w.cases() {
		if !keep[c.name] {
			continue
		}
		for _, args := range leakCommands(results) {
			n++
			token := fmt.Sprint("b", n)
			args = append(args, "--config", w.config, "--profile", "partners", strings.ReplaceAll(c.spec, "TOKEN", token))
			cmd := exec.Command(bin, args...)
			cmd.Env = environ
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			var arrived <-chan struct{}
			if c.cut {
				arrived = w.wait(token)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan struct{})
			go func() {
				select {
				case <-arrived: // nil unless cut
					cmd.Process.Signal(syscall.SIGINT)
				case <-exited:
				}
			}()
			err := cmd.Wait()
			close(exited)
			code := cmd.ProcessState.ExitCode()
			if _, ok := err.(*exec.ExitError); err != nil && !ok {
				t.Fatal(err)
			}
			w.check(t, c, args[0]+" "+strings.Join(args[1:len(args)-5], " "), code, stdout.String(), stderr.String())
		}
	}
	w.checkFiles(t, results)
	left, _ := filepath.Glob(filepath.Join(tmp, "*"))
	for _, f := range left {
		if b, err := os.ReadFile(f); err == nil && bytes.Contains(b, []byte(w.marker)) {
			t.Errorf("temporary file %s holds the secret", f)
		}
	}
}
