package source

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/foyer-dev/foyer"
)

// readInput reads an input to its end and closes it.
func readInput(t *testing.T, in *Input) ([]byte, error) {
	t.Helper()
	defer in.Close()
	if d, ok := in.Digest(); ok || d != "" {
		t.Errorf("digest %q before reading", d)
	}
	return io.ReadAll(in)
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func wantError(t *testing.T, err error, code, msg string) {
	t.Helper()
	var fe *foyer.Error
	if !errors.As(err, &fe) || fe.Code != code || !strings.Contains(fe.Message, msg) {
		t.Fatalf("error %v, want %s containing %q", err, code, msg)
	}
}

func TestOpenFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join("testdata", "seed.csv")
	want := fixture(t, "seed.csv")
	in, err := Open(context.Background(), path, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if in.Name != path || in.Size != int64(len(want)) {
		t.Errorf("name %q size %d", in.Name, in.Size)
	}
	got, err := readInput(t, in)
	if err != nil || string(got) != string(want) {
		t.Fatalf("read %q, %v", got, err)
	}
	if d, ok := in.Digest(); !ok || d != sha(want) || in.BytesRead() != int64(len(want)) {
		t.Errorf("digest %q %v, bytes %d; want %s", d, ok, in.BytesRead(), sha(want))
	}

	_, err = Open(context.Background(), filepath.Join(t.TempDir(), "nope.csv"), OpenOptions{})
	wantError(t, err, foyer.ENOTFOUND, "no file")
	_, err = Open(context.Background(), t.TempDir(), OpenOptions{})
	wantError(t, err, foyer.EINVALID, "is a directory")
	_, err = Open(context.Background(), path, OpenOptions{MaxBytes: 10})
	wantError(t, err, foyer.EINVALID, "testdata/seed.csv is larger than the limit of 10 bytes")
	_, err = Open(context.Background(), "", OpenOptions{})
	wantError(t, err, foyer.EINVALID, "no input given")
	_, err = Open(context.Background(), "s3://bucket/guests.csv?X-Amz-Signature=secret", OpenOptions{})
	wantError(t, err, foyer.EINVALID, `s3://bucket/guests.csv: scheme "s3" is not supported`)
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("error %v shows the query", err)
	}
}

func TestOpenStdin(t *testing.T) {
	t.Parallel()
	in, err := Open(context.Background(), "-", OpenOptions{Stdin: strings.NewReader("email\nana@fabrikam.example\n")})
	if err != nil {
		t.Fatal(err)
	}
	if in.Name != "stdin" || in.Size != -1 {
		t.Errorf("name %q size %d", in.Name, in.Size)
	}
	if _, err := readInput(t, in); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(context.Background(), "-", OpenOptions{}); err == nil {
		t.Error("stdin opened without one")
	}
	// The limit holds while reading when the size is not known before.
	in, err = Open(context.Background(), "-", OpenOptions{Stdin: strings.NewReader(strings.Repeat("x", 100)), MaxBytes: 99})
	if err != nil {
		t.Fatal(err)
	}
	_, err = readInput(t, in)
	wantError(t, err, foyer.EINVALID, "stdin is larger than the limit of 99 bytes")
	in, err = Open(context.Background(), "-", OpenOptions{Stdin: strings.NewReader(strings.Repeat("x", 99)), MaxBytes: 99})
	if err != nil {
		t.Fatal(err)
	}
	if _, err = readInput(t, in); err != nil {
		t.Errorf("a 99-byte input with a 99-byte limit: %v", err)
	}
}

const sas = "?sv=2022-11-02&ss=b&srt=o&sp=r&se=2030-01-01T00:00:00Z&sig=c2VjcmV0LXNpZ25hdHVyZQ%3D%3D"

func TestOpenHTTPS(t *testing.T) {
	t.Parallel()
	body := fixture(t, "seed.csv")
	mux := http.NewServeMux()
	mux.HandleFunc("/guests/seed.csv", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("sig") == "" {
			w.Header().Set("x-ms-error-code", "AuthenticationFailed")
			http.Error(w, "<Error><AuthenticationErrorDetail>sig=c2VjcmV0</AuthenticationErrorDetail></Error>", http.StatusForbidden)
			return
		}
		w.Write(body)
	})
	mux.HandleFunc("/guests/streamed.csv", func(w http.ResponseWriter, r *http.Request) {
		w.(http.Flusher).Flush() // no Content-Length: the limit applies while reading
		w.Write([]byte(strings.Repeat("x", 2000)))
	})
	mux.HandleFunc("/guests/missing.csv", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("x-ms-error-code", "BlobNotFound")
		http.NotFound(w, r)
	})
	mux.HandleFunc("/guests/busy.csv", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("x-ms-error-code", "ServerBusy")
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	mux.HandleFunc("/guests/downgrade.csv", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://"+r.Host+"/guests/seed.csv"+sas, http.StatusFound)
	})
	srv := httptest.NewTLSServer(mux)
	t.Cleanup(srv.Close)
	o := OpenOptions{HTTPClient: srv.Client()}
	ctx := context.Background()

	in, err := Open(ctx, srv.URL+"/guests/seed.csv"+sas, o)
	if err != nil {
		t.Fatal(err)
	}
	if in.Name != srv.URL+"/guests/seed.csv" || in.Size != int64(len(body)) {
		t.Errorf("name %q size %d", in.Name, in.Size)
	}
	got, err := readInput(t, in)
	if err != nil || string(got) != string(body) {
		t.Fatalf("read %q, %v", got, err)
	}
	if d, _ := in.Digest(); d != sha(body) {
		t.Errorf("digest %q", d)
	}

	// No error may show the query (its sig is the secret) or the body.
	noSecret := func(err error) {
		t.Helper()
		if err == nil || strings.Contains(err.Error(), "sig") || strings.Contains(err.Error(), "c2VjcmV0") {
			t.Errorf("error %v shows the secret", err)
		}
	}
	_, err = Open(ctx, srv.URL+"/guests/seed.csv?sv=2022-11-02&sp=r", o)
	wantError(t, err, foyer.EFORBIDDEN, "/guests/seed.csv: 403 Forbidden (AuthenticationFailed): the SAS token may have expired or lack read permission")
	_, err = Open(ctx, srv.URL+"/guests/missing.csv"+sas, o)
	wantError(t, err, foyer.ENOTFOUND, "404 Not Found (BlobNotFound)")
	noSecret(err)
	_, err = Open(ctx, srv.URL+"/guests/busy.csv"+sas, o)
	wantError(t, err, foyer.EINTERNAL, "503 Service Unavailable (ServerBusy)")
	_, err = Open(ctx, srv.URL+"/guests/downgrade.csv"+sas, o)
	wantError(t, err, foyer.EINVALID, "redirected to plain http")
	noSecret(err)
	_, err = Open(ctx, "http://"+strings.TrimPrefix(srv.URL, "https://")+"/guests/seed.csv"+sas, o)
	wantError(t, err, foyer.EINVALID, "plain http is refused")
	noSecret(err)
	_, err = Open(ctx, srv.URL+"/guests/seed.csv"+sas, OpenOptions{HTTPClient: srv.Client(), MaxBytes: 10})
	wantError(t, err, foyer.EINVALID, "larger than the limit of 10 bytes")

	in, err = Open(ctx, srv.URL+"/guests/streamed.csv"+sas, OpenOptions{HTTPClient: srv.Client(), MaxBytes: 1000})
	if err != nil {
		t.Fatal(err)
	}
	_, err = readInput(t, in)
	wantError(t, err, foyer.EINVALID, "larger than the limit of 1000 bytes")

	// A server that does not answer: the error names the URL without its
	// query.
	dead := httptest.NewTLSServer(http.NotFoundHandler())
	url, client := dead.URL, dead.Client()
	dead.Close()
	_, err = Open(ctx, url+"/guests/seed.csv"+sas, OpenOptions{HTTPClient: client})
	noSecret(err)
	if err == nil || !strings.Contains(err.Error(), url+"/guests/seed.csv") {
		t.Errorf("error %v does not name the URL", err)
	}

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = Open(cctx, srv.URL+"/guests/seed.csv"+sas, o)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
	noSecret(err)
}

func TestSafeURL(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://acct.blob.core.windows.net/c/guests.csv" + sas: "https://acct.blob.core.windows.net/c/guests.csv",
		"https://user:pw@host.example/p?q#f":                    "https://host.example/p",
		"https://host.example/%zz?sig=x":                        "https://host.example/%zz",
		"https://user:pw@host.example/%zz?sig=x":                "https://host.example/%zz",
	} {
		if got := safeURL(in); got != want {
			t.Errorf("safeURL(%q) = %q, want %q", in, got, want)
		}
	}
}

type fakeBlobs map[string]string

func (f fakeBlobs) OpenBlob(ctx context.Context, container, name string) (Object, error) {
	b, ok := f[container+"/"+name]
	if !ok {
		return Object{}, foyer.Errorf(foyer.ENOTFOUND, "no blob %s in container %s", name, container)
	}
	return Object{Body: io.NopCloser(strings.NewReader(b)), Size: int64(len(b)), Name: "https://acct.blob.core.windows.net/" + container + "/" + name}, nil
}

func TestOpenBlob(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	o := OpenOptions{Blobs: fakeBlobs{"guests/2026/seed.csv": "username,email\n"}}
	in, err := Open(ctx, "azblob://guests/2026/seed.csv", o)
	if err != nil {
		t.Fatal(err)
	}
	if in.Name != "https://acct.blob.core.windows.net/guests/2026/seed.csv" || in.Size != 15 {
		t.Errorf("name %q size %d", in.Name, in.Size)
	}
	if _, err := readInput(t, in); err != nil {
		t.Fatal(err)
	}
	_, err = Open(ctx, "azblob://guests/other.csv", o)
	wantError(t, err, foyer.ENOTFOUND, "no blob other.csv")
	_, err = Open(ctx, "azblob://guests", o)
	wantError(t, err, foyer.EINVALID, "write azblob://container/path/to/blob")
	_, err = Open(ctx, "azblob://guests/seed.csv?sig=secret", o)
	wantError(t, err, foyer.EINVALID, "a blob spec has no query")
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("error %v shows the query", err)
	}
	_, err = Open(ctx, "azblob://guests/seed.csv", OpenOptions{})
	wantError(t, err, foyer.EINVALID, "no storage account is configured")
}

func TestOpenThenRead(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "guests.csv")
	data := []byte("email\r\nana@fabrikam.example\r\n")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	in, err := Open(context.Background(), path, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	st, err := Read(context.Background(), in, Options{}, func(foyer.Row) error { return nil })
	if err != nil || st.Rows != 1 {
		t.Fatalf("rows %d, %v", st.Rows, err)
	}
	if d, ok := in.Digest(); !ok || d != sha(data) {
		t.Errorf("digest %q %v after Read", d, ok)
	}
}
