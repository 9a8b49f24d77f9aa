// Package blob opens guest-list files in Azure Blob Storage for package
// source, with the Azure SDK's azblob client: signed in with an
// azcore.TokenCredential (azidentity: managed identity, workload identity,
// a client secret or certificate...), with a connection string, or with a
// SAS token in the account URL.
//
// It is a backend: cmd/foyer/cli creates a Store and passes it to
// source.Open as source.OpenOptions.Blobs; the engine and web never import
// it. Its tests run against Azurite (FOYER_TEST_AZURITE).
package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/source"
)

// Options says how to reach a storage account. Give a ConnectionString, or
// an AccountURL with a Credential, or an AccountURL that carries a SAS
// token in its query.
type Options struct {
	// AccountURL is the blob service endpoint,
	// https://<account>.blob.core.windows.net/ in Azure's public cloud.
	AccountURL string
	// Credential signs requests with a Microsoft Entra token (scope
	// https://storage.azure.com/.default): the identity needs the Storage
	// Blob Data Reader role on the container.
	Credential azcore.TokenCredential
	// ConnectionString is the account's connection string, with an account
	// key or a SAS. It is a secret: it is never shown.
	ConnectionString string
	// HTTPClient carries the requests (a private CA, tests). Nil uses the
	// SDK's default.
	HTTPClient *http.Client
}

// Store opens blobs in one storage account.
type Store struct {
	client  *azblob.Client
	account string   // the service URL without its query: safe to show
	secrets []string // what no error may show: the key, the SAS and its values
}

var _ source.Blobs = (*Store)(nil)

// New returns a Store for the account o names.
func New(o Options) (*Store, error) {
	var copts azblob.ClientOptions
	if o.HTTPClient != nil {
		copts.Transport = o.HTTPClient
	}
	var (
		c   *azblob.Client
		err error
	)
	switch {
	case o.ConnectionString != "" && (o.AccountURL != "" || o.Credential != nil):
		return nil, foyer.Errorf(foyer.EINVALID, "blob storage: give a connection string or an account URL, not both")
	case o.ConnectionString != "":
		c, err = azblob.NewClientFromConnectionString(o.ConnectionString, &copts)
		if err != nil {
			// The SDK's message may quote the string, which holds a key.
			return nil, foyer.Errorf(foyer.EINVALID, "blob storage: the connection string is malformed (it needs AccountName and AccountKey, or BlobEndpoint and SharedAccessSignature)")
		}
	case o.AccountURL == "":
		return nil, foyer.Errorf(foyer.EINVALID, "blob storage: no account URL or connection string")
	default:
		u, perr := url.Parse(o.AccountURL)
		if perr != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			return nil, foyer.Errorf(foyer.EINVALID, "blob storage: account URL %s is not an http(s) URL", safe(o.AccountURL))
		}
		switch {
		case o.Credential != nil:
			if u.Scheme != "https" {
				return nil, foyer.Errorf(foyer.EINVALID, "blob storage: account URL %s must be https to carry a token", safe(o.AccountURL))
			}
			c, err = azblob.NewClient(o.AccountURL, o.Credential, &copts)
		case u.Query().Get("sig") != "":
			c, err = azblob.NewClientWithNoCredential(o.AccountURL, &copts)
		default:
			return nil, foyer.Errorf(foyer.EINVALID, "blob storage: account URL %s has no SAS token and no credential is configured", safe(o.AccountURL))
		}
		if err != nil {
			return nil, foyer.Errorf(foyer.EINVALID, "blob storage: account URL %s: %s", safe(o.AccountURL), strings.ReplaceAll(err.Error(), o.AccountURL, safe(o.AccountURL)))
		}
	}
	return &Store{client: c, account: strings.TrimSuffix(safe(c.URL()), "/"), secrets: secretsOf(o)}, nil
}

// secretsOf returns the secrets in o: a connection string's AccountKey and
// SharedAccessSignature (and the values in it), an account URL's query.
func secretsOf(o Options) []string {
	var out []string
	for _, part := range strings.Split(o.ConnectionString, ";") {
		k, v, _ := strings.Cut(part, "=")
		switch strings.TrimSpace(strings.ToLower(k)) {
		case "accountkey":
			out = append(out, v)
		case "sharedaccesssignature":
			out = append(out, source.QuerySecrets(v)...)
		}
	}
	if _, q, ok := strings.Cut(o.AccountURL, "?"); ok {
		out = append(out, source.QuerySecrets(q)...)
	}
	return out
}

// Account returns the blob service URL the store reaches, without any SAS
// query.
func (s *Store) Account() string { return s.account }

// OpenBlob starts downloading a blob. The body resumes by itself after a
// dropped connection (azblob's retry reader, pinned to the blob's ETag so
// that a blob replaced meanwhile fails rather than mixes two versions).
func (s *Store) OpenBlob(ctx context.Context, container, name string) (source.Object, error) {
	where := s.account + "/" + container + "/" + name
	resp, err := s.client.DownloadStream(ctx, container, name, nil)
	if err != nil {
		return source.Object{}, describe(where, err, s.secrets)
	}
	size := int64(-1)
	if resp.ContentLength != nil {
		size = *resp.ContentLength
	}
	body := resp.NewRetryReader(ctx, &blob.RetryReaderOptions{MaxRetries: 3})
	return source.Object{Body: &safeBody{rc: body, where: where, secrets: s.secrets}, Size: size, Name: where}, nil
}

// safeBody reports read errors without the request URL, which may carry a
// SAS token.
type safeBody struct {
	rc      io.ReadCloser
	where   string
	secrets []string
}

func (b *safeBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if err != nil && err != io.EOF {
		err = describe(b.where, err, b.secrets)
	}
	return n, err
}

func (b *safeBody) Close() error { return b.rc.Close() }

// describe turns an SDK error into a *foyer.Error, or an error whose text
// holds no URL query and none of secrets, naming the blob and Storage's
// error code (fixed strings such as BlobNotFound or
// AuthorizationPermissionMismatch, see azure-rest-api-specs storage
// data-plane blob.json "StorageErrorCode").
func describe(where string, err error, secrets []string) error {
	// The context's own error, not the *url.Error around it, whose text is
	// the request's URL and so its SAS.
	for _, ctxErr := range []error{context.Canceled, context.DeadlineExceeded} {
		if errors.Is(err, ctxErr) {
			return fmt.Errorf("read %s: %w", where, ctxErr)
		}
	}
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		// The status code's standard text; the error code only when it is
		// one (the header comes from the server, which may echo the query).
		msg := fmt.Sprintf("read %s: %d %s", where, re.StatusCode, http.StatusText(re.StatusCode))
		if isCode(re.ErrorCode) {
			msg += " (" + re.ErrorCode + ")"
		}
		switch {
		case re.StatusCode == http.StatusNotFound:
			return foyer.Errorf(foyer.ENOTFOUND, "%s", msg)
		case re.StatusCode == http.StatusUnauthorized || re.StatusCode == http.StatusForbidden:
			return foyer.Errorf(foyer.EFORBIDDEN, "%s: the identity needs the Storage Blob Data Reader role, or the SAS token read permission", msg)
		case re.StatusCode == http.StatusTooManyRequests || re.StatusCode == http.StatusServiceUnavailable:
			return foyer.Errorf(foyer.ETHROTTLED, "%s", msg)
		case re.StatusCode >= 500:
			return foyer.Errorf(foyer.EINTERNAL, "%s", msg)
		}
		return foyer.Errorf(foyer.EINVALID, "%s", msg)
	}
	var ae *azidentity.AuthenticationFailedError
	if errors.As(err, &ae) {
		// azidentity's text spans many lines: keep its first and the
		// directory's AADSTS code, which says what went wrong.
		first, _, _ := strings.Cut(ae.Error(), "\n")
		msg := fmt.Sprintf("read %s: no token for Azure Storage: %s", where, source.Scrub(errors.New(strings.TrimSpace(first)), secrets))
		if m := aadsts.FindString(ae.Error()); m != "" {
			msg += " " + m
		}
		return foyer.Errorf(foyer.EFORBIDDEN, "%s", msg)
	}
	// A transport error (*url.Error) names the request's URL, and its cause
	// may quote a Location header; anything else keeps its text but loses
	// URL queries and secrets.
	return fmt.Errorf("read %s: %w", where, source.Scrub(err, secrets))
}

// isCode reports whether s looks like a Storage error code: letters and
// digits, not too long.
func isCode(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// aadsts matches the Microsoft identity platform's error code and text in
// a token error ("AADSTS7000215: Invalid client secret provided.").
var aadsts = regexp.MustCompile(`AADSTS\d+: [^"\n]*`)

// safe returns a URL without its user information, query and fragment.
func safe(raw string) string {
	s, _, _ := strings.Cut(raw, "?")
	s, _, _ = strings.Cut(s, "#")
	if i := strings.Index(s, "://"); i >= 0 {
		rest := s[i+3:]
		host, path, _ := strings.Cut(rest, "/")
		if at := strings.LastIndexByte(host, '@'); at >= 0 {
			host = host[at+1:]
		}
		s = s[:i+3] + host
		if path != "" || strings.Contains(rest, "/") {
			s += "/" + path
		}
	}
	return s
}

// HTTPClient is used as the SDK's transport.
var _ policy.Transporter = (*http.Client)(nil)

// Item is a blob a listing found.
type Item struct {
	Name string // its name in the container
	ETag string // its entity tag, without quotes
	Size int64  // -1 when the service did not say
}

// List returns the blobs of a container whose names start with prefix, in
// the service's order (by name), every level of "folders" included.
func (s *Store) List(ctx context.Context, container, prefix string) ([]Item, error) {
	where := s.account + "/" + container + "/" + prefix
	var opts azblob.ListBlobsFlatOptions
	if prefix != "" {
		opts.Prefix = &prefix
	}
	pager := s.client.NewListBlobsFlatPager(container, &opts)
	var items []Item
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, describe(where, err, s.secrets)
		}
		for _, b := range page.Segment.BlobItems {
			if b == nil || b.Name == nil {
				continue
			}
			it := Item{Name: *b.Name, Size: -1}
			if p := b.Properties; p != nil {
				if p.ETag != nil {
					it.ETag = strings.Trim(string(*p.ETag), `"`)
				}
				if p.ContentLength != nil {
					it.Size = *p.ContentLength
				}
			}
			items = append(items, it)
		}
	}
	return items, nil
}
