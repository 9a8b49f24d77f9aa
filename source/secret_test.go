package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/foyer-dev/foyer"
)

// secret is the SAS signature of these tests: nothing may show it.
const secret = "c2VjcmV0LXNpZ25hdHVyZQ"

func TestName(t *testing.T) {
	t.Parallel()
	for spec, want := range map[string]string{
		"guests.csv":    "guests.csv",
		"/data/in?.csv": "/data/in?.csv", // a path may hold a '?'
		"-":             "stdin",
		"https://acct.blob.core.windows.net/c/guests.csv" + sas:     "https://acct.blob.core.windows.net/c/guests.csv",
		"HTTPS://u:" + secret + "@host.example/g.csv#sig=" + secret: "https://host.example/g.csv",
		"https:/host.example/g.csv" + sas:                           "https:/host.example/g.csv",
		"https://[::1/g.csv" + sas:                                  "https://[::1/g.csv",
		"https:///g.csv" + sas:                                      "https:///g.csv",
		"azblob://c/g.csv?sig=" + secret:                            "azblob://c/g.csv",
		"ftp://host/g.csv?sig=" + secret:                            "ftp://host/g.csv",
	} {
		if got := Name(spec); got != want {
			t.Errorf("Name(%q) = %q, want %q", spec, got, want)
		}
	}
}

func TestScrub(t *testing.T) {
	t.Parallel()
	secrets := secretsOf("https://reader:pass%2Fword@host.example/g.csv" + sas)
	tests := []struct {
		err  error
		want string
	}{
		{&url.Error{Op: "Get", URL: "https://host.example/g.csv" + sas, Err: errors.New("dial tcp: connection refused")},
			"Get https://host.example/g.csv: dial tcp: connection refused"},
		// net/http's error for a Location header that does not parse.
		{&url.Error{Op: "Get", URL: "https://host.example/g.csv" + sas, Err: fmt.Errorf("failed to parse Location header %q: %w", "https://[::1?sig="+secret,
			&url.Error{Op: "parse", URL: "https://[::1?sig=" + secret, Err: errors.New("missing ']' in host")})},
			`Get https://host.example/g.csv: failed to parse Location header "https://[::1": parse "https://[::1": missing ']' in host`},
		{&url.Error{Op: "Get", URL: "https://host.example/g.csv", Err: fmt.Errorf("parse %q: invalid URL escape", "%zz?sig="+secret)},
			`Get https://host.example/g.csv: parse "%zz": invalid URL escape`},
		{errors.New("GET https://host.example/g.csv" + sas + " failed"), "GET https://host.example/g.csv failed"},
		{errors.New("the server said: sig=" + secret + "== is wrong"), "the server said: sig=REDACTED is wrong"},
		{errors.New("bad password pass/word"), "bad password REDACTED"},
	}
	for _, tt := range tests {
		got := Scrub(tt.err, secrets).Error()
		if got != tt.want {
			t.Errorf("Scrub(%q)\n = %q\nwant %q", tt.err, got, tt.want)
		}
	}
	cause := &url.Error{Op: "Get", URL: "https://host.example/g.csv" + sas, Err: context.Canceled}
	if !errors.Is(Scrub(cause, secrets), context.Canceled) {
		t.Error("a scrubbed error does not unwrap to its cause")
	}
}

// FuzzScrub: whatever text an error puts around a URL and its signature,
// neither survives Scrub.
func FuzzScrub(f *testing.F) {
	f.Add("https://host.example/g.csv", secret, `Get "`, `": `)
	f.Add("https://h/x", "abc def ghi", `failed to parse Location header "`, "")
	f.Fuzz(func(t *testing.T, base, sig, before, after string) {
		if len(sig) < 8 || strings.Contains("REDACTED", sig) {
			return
		}
		spec := base + "?sig=" + url.QueryEscape(sig)
		secrets := secretsOf("https://h/?sig=" + url.QueryEscape(sig))
		text := Scrub(errors.New(before+spec+after+sig+before+strconv.Quote(spec)), secrets).Error()
		for _, s := range []string{sig, url.QueryEscape(sig)} {
			if strings.Contains(text, s) {
				t.Fatalf("%q shows %q", text, s)
			}
		}
	})
}

func TestOpenHTTPSKeepsSecrets(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.HandleFunc("/signin.csv", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<html>Sign in to continue to %s</html>", r.URL)
	})
	mux.HandleFunc("/truncated.csv", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000")
		io.WriteString(w, "email\n")
	})
	mux.HandleFunc("/badlocation.csv", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "https://[::1?sig="+secret)
		w.WriteHeader(http.StatusFound)
	})
	srv := httptest.NewTLSServer(mux)
	t.Cleanup(srv.Close)
	o := OpenOptions{HTTPClient: srv.Client()}
	ctx := context.Background()
	noSecret := func(err error) {
		t.Helper()
		if err == nil || strings.Contains(err.Error(), secret) {
			t.Errorf("error %v shows the secret", err)
		}
	}

	_, err := Open(ctx, srv.URL+"/signin.csv"+sas, o)
	wantError(t, err, foyer.EINVALID, "an HTML page, not a CSV file")
	noSecret(err)

	_, err = Open(ctx, srv.URL+"/badlocation.csv"+sas, o)
	noSecret(err)
	if err == nil || !strings.Contains(err.Error(), "Location") {
		t.Errorf("error %v does not say the Location is wrong", err)
	}

	in, err := Open(ctx, srv.URL+"/truncated.csv"+sas, o)
	if err != nil {
		t.Fatal(err)
	}
	_, err = readInput(t, in)
	noSecret(err)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("error %v, want io.ErrUnexpectedEOF", err)
	}

	// A URL whose "//" is missing is not taken for a file name.
	_, err = Open(ctx, "https:/"+strings.TrimPrefix(srv.URL, "https://")+"/g.csv"+sas, o)
	wantError(t, err, foyer.EINVALID, "is not a valid URL")
	noSecret(err)
}
