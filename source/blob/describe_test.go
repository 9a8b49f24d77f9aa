package blob

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"

	"github.com/foyer-dev/foyer"
)

// TestDescribeKeepsSecrets gives describe the errors the SDK returns when
// a request fails, each carrying the connection string's SAS, and checks
// that no message shows it.
func TestDescribeKeepsSecrets(t *testing.T) {
	t.Parallel()
	const sig = "c2VjcmV0LXNpZ25hdHVyZQ%3D%3D"
	o := Options{ConnectionString: "BlobEndpoint=https://acct.example/;SharedAccessSignature=sv=2022-11-02&sp=r&sig=" + sig}
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	blobURL := "https://acct.example/c/g.csv?sv=2022-11-02&sp=r&sig=" + sig
	resp := func(code int, errorCode string) *azcore.ResponseError {
		req, _ := http.NewRequest(http.MethodGet, blobURL, nil)
		return &azcore.ResponseError{StatusCode: code, ErrorCode: errorCode, RawResponse: &http.Response{StatusCode: code, Request: req}}
	}
	tests := []struct {
		err  error
		want string
	}{
		{resp(404, "BlobNotFound"), "read W: 404 Not Found (BlobNotFound)"},
		// A server that echoes the query as the error code.
		{resp(400, "sv=2022-11-02&sp=r&sig="+sig), "read W: 400 Bad Request"},
		{&url.Error{Op: "Get", URL: blobURL, Err: context.Canceled}, "read W: context canceled"},
		{fmt.Errorf("retry: %w", &url.Error{Op: "Get", URL: blobURL, Err: context.DeadlineExceeded}), "read W: context deadline exceeded"},
		{&url.Error{Op: "Get", URL: blobURL, Err: fmt.Errorf("failed to parse Location header %q: bad", "/x?sig="+sig)},
			`read W: Get https://acct.example/c/g.csv: failed to parse Location header "/x": bad`},
		{errors.New("GET " + blobURL + " failed"), "read W: GET https://acct.example/c/g.csv failed"},
		{errors.New("signature c2VjcmV0LXNpZ25hdHVyZQ== refused"), "read W: signature REDACTED refused"},
	}
	for _, tt := range tests {
		got := describe("W", tt.err, s.secrets)
		if got.Error() != tt.want && !strings.HasSuffix(got.Error(), ": "+tt.want) {
			t.Errorf("describe(%v)\n = %q\nwant %q", tt.err, got, tt.want)
		}
		if strings.Contains(got.Error(), "c2VjcmV0") {
			t.Errorf("describe(%v) = %q shows the signature", tt.err, got)
		}
	}
	var fe *foyer.Error
	if err := describe("W", resp(404, "BlobNotFound"), s.secrets); !errors.As(err, &fe) || fe.Code != foyer.ENOTFOUND {
		t.Errorf("404: %v, want %s", err, foyer.ENOTFOUND)
	}
	if err := describe("W", &url.Error{Op: "Get", URL: blobURL, Err: context.Canceled}, s.secrets); !errors.Is(err, context.Canceled) {
		t.Errorf("%v is not context.Canceled", err)
	}
}
