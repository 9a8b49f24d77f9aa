package source

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"mime"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/foyer-dev/foyer"
)

// DefaultMaxBytes is the largest input Open reads unless told otherwise:
// far above a million rows (about 60 MB), far below what would hurt.
const DefaultMaxBytes = 1 << 30

// Blobs opens blobs by container and name. Package source/blob implements
// it for Azure Blob Storage; the command wires it in, so that this package
// does not depend on the Azure SDK.
type Blobs interface {
	OpenBlob(ctx context.Context, container, name string) (Object, error)
}

// Object is an opened blob.
type Object struct {
	Body io.ReadCloser
	Size int64  // -1 when unknown
	Name string // where it is, safe to show: no SAS query, no key
}

// OpenOptions says how to reach inputs.
type OpenOptions struct {
	// Stdin is read for the spec "-". Nil refuses it.
	Stdin io.Reader
	// HTTPClient fetches https URLs. Nil uses a client with connection,
	// TLS and response-header timeouts; the whole transfer is bounded by
	// ctx.
	HTTPClient *http.Client
	// Blobs opens azblob://container/blob specs. Nil refuses them.
	Blobs Blobs
	// MaxBytes refuses an input larger than this; 0 means DefaultMaxBytes.
	MaxBytes int64
}

// Input is an opened input: read it (with Read), then Close it. It counts
// and hashes what is read.
type Input struct {
	// Name says where the input is, in a form safe to show and store: a
	// path, "stdin", an https URL without its query (a SAS token is a
	// secret), or a blob's URL.
	Name string
	// Size is the input's size in bytes when known before reading, else -1.
	Size int64

	body    io.ReadCloser
	h       hash.Hash
	n       int64
	max     int64
	done    bool
	secrets []string // parts of the spec no error may show
}

// Open opens the input spec names:
//   - "-": standard input (o.Stdin);
//   - "https://...": a GET of the URL, such as a blob SAS URL; plain http
//     is refused, since the URL and its token would travel in clear;
//   - "azblob://container/path/to/blob": a blob in the storage account o.Blobs
//     reaches (source/blob: a credential or a connection string);
//   - anything else: a local file path.
//
// Errors are *foyer.Error (EINVALID, ENOTFOUND, EFORBIDDEN) with a message
// that never contains a URL's query, or ctx's error.
func Open(ctx context.Context, spec string, o OpenOptions) (*Input, error) {
	max := o.MaxBytes
	if max <= 0 {
		max = DefaultMaxBytes
	}
	var (
		obj Object
		err error
	)
	scheme, rest, hasScheme := strings.Cut(spec, "://")
	switch {
	case spec == "":
		return nil, foyer.Errorf(foyer.EINVALID, "no input given: name a file, \"-\", an https URL or azblob://container/blob")
	case spec == "-":
		if o.Stdin == nil {
			return nil, foyer.Errorf(foyer.EINVALID, "standard input is not available here")
		}
		obj = Object{Body: io.NopCloser(o.Stdin), Size: -1, Name: "stdin"}
	case hasScheme && strings.EqualFold(scheme, "https"):
		obj, err = openURL(ctx, spec, o.HTTPClient)
	case hasScheme && strings.EqualFold(scheme, "http"):
		return nil, foyer.Errorf(foyer.EINVALID, "%s: plain http is refused, because the URL (and any SAS token in it) would travel unencrypted; use https", safeURL(spec))
	case hasScheme && strings.EqualFold(scheme, "azblob"):
		obj, err = openBlob(ctx, rest, o.Blobs)
	case hasScheme && isScheme(scheme):
		return nil, foyer.Errorf(foyer.EINVALID, "%s: scheme %q is not supported: use a file path, \"-\", https:// or azblob://", safeURL(spec), scheme)
	case mangledURL(spec) && !exists(spec):
		return nil, foyer.Errorf(foyer.EINVALID, "%s is not a valid URL: write https://host/path or azblob://container/blob", safeURL(spec))
	default:
		obj, err = openFile(spec)
	}
	if err != nil {
		return nil, err
	}
	if obj.Size > max {
		obj.Body.Close()
		return nil, tooLarge(obj.Name, max)
	}
	return &Input{Name: obj.Name, Size: obj.Size, body: obj.Body, h: sha256.New(), max: max, secrets: secretsOf(spec)}, nil
}

// Name returns a name for the input spec names, safe to show and store,
// without opening it: a path, "stdin", or a URL without its user
// information, query and fragment. (Open may name an input more precisely:
// a blob by its account's URL.)
func Name(spec string) string {
	scheme, _, hasScheme := strings.Cut(spec, "://")
	switch {
	case spec == "-":
		return "stdin"
	case hasScheme && isScheme(scheme), mangledURL(spec):
		return safeURL(spec)
	}
	return spec
}

// mangledURL reports whether spec starts like an input URL whose "//" is
// missing or mistyped ("https:/host/guests.csv?sig=..."): rather than a
// local file it names nothing, and its query may be a secret.
func mangledURL(spec string) bool {
	scheme, rest, ok := strings.Cut(spec, ":")
	if !ok || strings.HasPrefix(rest, "//") {
		return false
	}
	for _, s := range []string{"https", "http", "azblob"} {
		if strings.EqualFold(scheme, s) {
			return true
		}
	}
	return false
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// isScheme reports whether s looks like a URL scheme rather than the start
// of a path (a Windows drive letter is one letter).
func isScheme(s string) bool {
	if len(s) < 2 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}

func tooLarge(name string, max int64) error {
	return foyer.Errorf(foyer.EINVALID, "%s is larger than the limit of %d bytes", name, max)
}

// Read reads from the input, hashing what it reads and refusing to go past
// the size limit.
func (in *Input) Read(p []byte) (int, error) {
	if in.n > in.max {
		return 0, tooLarge(in.Name, in.max)
	}
	if rest := in.max + 1 - in.n; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := in.body.Read(p)
	in.n += int64(n)
	in.h.Write(p[:n])
	if in.n > in.max {
		return n, tooLarge(in.Name, in.max)
	}
	var fe *foyer.Error
	switch {
	case err == io.EOF:
		in.done = true
	case err != nil && !errors.As(err, &fe):
		err = fmt.Errorf("read %s: %w", in.Name, Scrub(err, in.secrets))
	}
	return n, err
}

// Digest returns the hex SHA-256 of the input, and true, once it has been
// read to the end; before that it returns "" and false.
func (in *Input) Digest() (string, bool) {
	if !in.done {
		return "", false
	}
	return hex.EncodeToString(in.h.Sum(nil)), true
}

// BytesRead returns the number of bytes read so far.
func (in *Input) BytesRead() int64 { return in.n }

// Close closes the input.
func (in *Input) Close() error { return in.body.Close() }

func openFile(path string) (Object, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return Object{}, foyer.Errorf(foyer.ENOTFOUND, "no file %s", path)
		}
		if errors.Is(err, fs.ErrPermission) {
			return Object{}, foyer.Errorf(foyer.EFORBIDDEN, "no permission to read %s", path)
		}
		return Object{}, fmt.Errorf("open %s: %w", path, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return Object{}, fmt.Errorf("stat %s: %w", path, err)
	}
	if fi.IsDir() {
		f.Close()
		return Object{}, foyer.Errorf(foyer.EINVALID, "%s is a directory, not a CSV file", path)
	}
	size := int64(-1)
	if fi.Mode().IsRegular() {
		size = fi.Size()
	}
	return Object{Body: f, Size: size, Name: path}, nil
}

func openBlob(ctx context.Context, rest string, b Blobs) (Object, error) {
	container, name, _ := strings.Cut(rest, "/")
	if i := strings.IndexAny(name, "?#"); i >= 0 {
		return Object{}, foyer.Errorf(foyer.EINVALID, "azblob://%s/%s: a blob spec has no query or fragment (credentials come from the configuration)", container, name[:i])
	}
	if container == "" || name == "" {
		return Object{}, foyer.Errorf(foyer.EINVALID, "azblob://%s: write azblob://container/path/to/blob", rest)
	}
	if b == nil {
		return Object{}, foyer.Errorf(foyer.EINVALID, "azblob://%s/%s: no storage account is configured for azblob:// inputs", container, name)
	}
	obj, err := b.OpenBlob(ctx, container, name)
	if err != nil {
		return Object{}, err
	}
	if obj.Name == "" {
		obj.Name = "azblob://" + container + "/" + name
	}
	return obj, nil
}

// safeURL returns raw without its user information, query and fragment.
func safeURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		// Not a URL with a host ("https:/host/x", "https://[::1/x"): what
		// was written, up to its query.
		s, _, _ := strings.Cut(raw, "?")
		s, _, _ = strings.Cut(s, "#")
		if at := strings.LastIndexByte(s, '@'); at >= 0 {
			if sch := strings.Index(s, "://"); sch >= 0 && sch < at {
				s = s[:sch+3] + s[at+1:]
			}
		}
		return s
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
}

// Scrub rebuilds an error, such as an HTTP client's, so that its text shows
// no secret. A *url.Error's text is `Get "https://...?sig=...": cause`, and
// its cause may quote another URL (a Location header that does not parse);
// a server may have put a query anywhere. Scrub names the URL without its
// query, drops the query, fragment and user information of any URL in the
// text, and blanks each of secrets (see QuerySecrets). The result unwraps to
// the cause, for errors.Is (context.Canceled, timeouts); do not print what
// errors.As finds in it.
func Scrub(err error, secrets []string) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return &scrubbed{text: ue.Op + " " + safeURL(ue.URL) + ": " + redact(ue.Err.Error(), secrets), err: ue.Err}
	}
	return &scrubbed{text: redact(err.Error(), secrets), err: err}
}

type scrubbed struct {
	text string
	err  error
}

func (s *scrubbed) Error() string { return s.text }
func (s *scrubbed) Unwrap() error { return s.err }

// quoted matches a Go-quoted string (%q), as net/http and net/url quote
// URLs in their errors.
var quoted = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)

// urlQuery matches a URL with a query or fragment; its first group is the
// URL without them.
var urlQuery = regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.-]*://[^\s"'?#]*)[?#][^\s"']*`)

// redact removes from an error's text every query and fragment of a URL,
// quoted or not, and then every secret.
func redact(text string, secrets []string) string {
	text = quoted.ReplaceAllStringFunc(text, func(q string) string {
		s, err := strconv.Unquote(q)
		if err != nil || !strings.ContainsAny(s, "?#@") {
			return q
		}
		return strconv.Quote(safeURL(s))
	})
	text = urlQuery.ReplaceAllString(text, "$1")
	for _, s := range secrets {
		text = strings.ReplaceAll(text, s, "REDACTED")
	}
	return text
}

// secretsOf returns the parts of an input spec that no message may show:
// its user information, query and fragment, and their values.
func secretsOf(spec string) []string {
	_, rest, ok := strings.Cut(spec, "://")
	if !ok {
		return nil
	}
	var out []string
	if i := strings.IndexAny(rest, "?#"); i >= 0 {
		out = QuerySecrets(rest[i+1:])
		rest = rest[:i]
	}
	host, _, _ := strings.Cut(rest, "/")
	if at := strings.LastIndexByte(host, '@'); at >= 0 {
		userinfo := host[:at]
		_, password, _ := strings.Cut(userinfo, ":")
		for _, s := range []string{userinfo, password} {
			if s != "" {
				out = append(out, s)
			}
			if u, err := url.PathUnescape(s); err == nil && u != s {
				out = append(out, u)
			}
		}
	}
	return longestFirst(out)
}

// QuerySecrets returns what of a URL query (or fragment) must not be shown:
// the whole query and each value, raw and unescaped. Values shorter than 8
// bytes are left out: they are not secrets (sv=2022-11-02 is, sp=r is not)
// and blanking them would blank unrelated words.
func QuerySecrets(query string) []string {
	var out []string
	add := func(s string) {
		if len(s) >= 8 {
			out = append(out, s)
		}
	}
	add(query)
	for _, part := range strings.FieldsFunc(query, func(r rune) bool { return strings.ContainsRune("&;?#", r) }) {
		_, v, _ := strings.Cut(part, "=")
		add(v)
		if u, err := url.QueryUnescape(v); err == nil {
			add(u)
		}
	}
	return longestFirst(out)
}

// longestFirst sorts secrets longest first, so that none is half blanked
// by a part of it.
func longestFirst(s []string) []string {
	sort.Slice(s, func(i, j int) bool { return len(s[i]) > len(s[j]) })
	return s
}

func defaultHTTPClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 15 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   15 * time.Second,
		ResponseHeaderTimeout: 60 * time.Second,
		ForceAttemptHTTP2:     true,
	}}
}

func openURL(ctx context.Context, raw string, c *http.Client) (Object, error) {
	name := safeURL(raw)
	secrets := secretsOf(raw)
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return Object{}, foyer.Errorf(foyer.EINVALID, "%s is not a valid URL", name)
	}
	if c == nil {
		c = defaultHTTPClient()
	}
	client := *c
	// Redirects may not downgrade to plain http, which would send the
	// token in clear.
	client.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.URL.Scheme != "https" {
			return foyer.Errorf(foyer.EINVALID, "redirected to plain http (%s): refused", safeURL(req.URL.String()))
		}
		if len(via) >= 10 {
			return foyer.Errorf(foyer.EINVALID, "more than 10 redirects")
		}
		return nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	if err != nil {
		return Object{}, foyer.Errorf(foyer.EINVALID, "%s is not a valid URL", name)
	}
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return Object{}, fmt.Errorf("get %s: %w", name, ctx.Err())
		}
		var fe *foyer.Error
		if errors.As(err, &fe) {
			return Object{}, foyer.Errorf(fe.Code, "get %s: %s", name, fe.Message)
		}
		return Object{}, fmt.Errorf("get %s: %w", name, Scrub(err, secrets))
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return Object{}, statusError(name, resp)
	}
	if isHTML(resp.Header.Get("Content-Type")) {
		// A sign-in page, a proxy's or a portal's: not the file, and it
		// may quote the URL it was asked for.
		resp.Body.Close()
		return Object{}, foyer.Errorf(foyer.EINVALID, "get %s: the server answered with an HTML page, not a CSV file: check the URL and its SAS token", name)
	}
	return Object{Body: resp.Body, Size: resp.ContentLength, Name: name}, nil
}

// statusError describes a failed GET by its status and, for Azure Storage,
// its x-ms-error-code header (a fixed code such as AuthenticationFailed or
// BlobNotFound). The body is not quoted: an authentication failure's
// details may echo the signed string.
func statusError(name string, resp *http.Response) error {
	// The status code's standard text, not the server's reason phrase,
	// which Azure Storage fills with its own sentence.
	msg := fmt.Sprintf("get %s: %d %s", name, resp.StatusCode, http.StatusText(resp.StatusCode))
	if code := resp.Header.Get("x-ms-error-code"); code != "" && isToken(code) {
		msg += " (" + code + ")"
	}
	switch resp.StatusCode {
	case http.StatusNotFound:
		return foyer.Errorf(foyer.ENOTFOUND, "%s", msg)
	case http.StatusUnauthorized, http.StatusForbidden:
		return foyer.Errorf(foyer.EFORBIDDEN, "%s: the SAS token may have expired or lack read permission", msg)
	case http.StatusTooManyRequests:
		return foyer.Errorf(foyer.ETHROTTLED, "%s", msg)
	}
	if resp.StatusCode >= 500 {
		return foyer.Errorf(foyer.EINTERNAL, "%s", msg)
	}
	return foyer.Errorf(foyer.EINVALID, "%s", msg)
}

// isHTML reports whether a Content-Type names an HTML page.
func isHTML(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "text/html" || mt == "application/xhtml+xml")
}

func isToken(s string) bool {
	if len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}
