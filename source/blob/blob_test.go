package blob_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/source"
	"github.com/foyer-dev/foyer/source/blob"
)

// guests is a runbook's guest list (username,email; docs/csv.md), as uploaded to blob storage.
const guests = "username,email\r\nMatt External,demo.email.matt@gmail.com\r\nMark Smtih, mark.smith@matthewdavis111.com\r\n"

// upload puts guests into container/name with the account key.
func upload(t *testing.T, a *azurite, container, name, body string) {
	t.Helper()
	c, err := azblob.NewClientFromConnectionString(a.ConnectionString(), &azblob.ClientOptions{ClientOptions: azcore.ClientOptions{Transport: a.Client}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.CreateContainer(ctx, container, nil); err != nil && !strings.Contains(err.Error(), "ContainerAlreadyExists") {
		t.Fatalf("create container: %v", err)
	}
	if _, err := c.UploadBuffer(ctx, container, name, []byte(body), nil); err != nil {
		t.Fatalf("upload: %v", err)
	}
}

// readRows opens spec through source.Open and reads it with source.Read.
func readRows(t *testing.T, spec string, o source.OpenOptions) ([]foyer.Row, *source.Input) {
	t.Helper()
	ctx := context.Background()
	in, err := source.Open(ctx, spec, o)
	if err != nil {
		t.Fatalf("open %s: %v", spec, err)
	}
	defer in.Close()
	var rows []foyer.Row
	if _, err := source.Read(ctx, in, source.Options{InternalDomains: []string{"matthewdavis111.com"}}, func(r foyer.Row) error {
		rows = append(rows, r)
		return nil
	}); err != nil {
		t.Fatalf("read %s: %v", spec, err)
	}
	return rows, in
}

func checkGuests(t *testing.T, rows []foyer.Row, in *source.Input) {
	t.Helper()
	if len(rows) != 2 || rows[0].Email != "demo.email.matt@gmail.com" || rows[0].Action != "" || rows[1].Action != foyer.ActionSkip {
		t.Fatalf("rows %+v", rows)
	}
	sum := sha256.Sum256([]byte(guests))
	if d, ok := in.Digest(); !ok || d != hex.EncodeToString(sum[:]) {
		t.Errorf("digest %q, %v", d, ok)
	}
}

func TestConnectionString(t *testing.T) {
	t.Parallel()
	a := startAzurite(t, false)
	upload(t, a, "guests", "2026/seed.csv", guests)
	store, err := blob.New(blob.Options{ConnectionString: a.ConnectionString(), HTTPClient: a.Client})
	if err != nil {
		t.Fatal(err)
	}
	if store.Account() != a.URL {
		t.Errorf("account %q, want %q", store.Account(), a.URL)
	}
	o := source.OpenOptions{Blobs: store}
	rows, in := readRows(t, "azblob://guests/2026/seed.csv", o)
	checkGuests(t, rows, in)
	if in.Name != a.URL+"/guests/2026/seed.csv" || in.Size != int64(len(guests)) {
		t.Errorf("name %q size %d", in.Name, in.Size)
	}

	ctx := context.Background()
	for spec, want := range map[string]string{
		"azblob://guests/2026/missing.csv": "404 Not Found (BlobNotFound)",
		"azblob://nosuch/seed.csv":         "404 Not Found (ContainerNotFound)",
	} {
		_, err := source.Open(ctx, spec, o)
		var fe *foyer.Error
		if !errors.As(err, &fe) || fe.Code != foyer.ENOTFOUND || !strings.Contains(fe.Message, want) {
			t.Errorf("open %s: %v, want not_found with %q", spec, err, want)
		}
		if strings.Contains(err.Error(), devKey) {
			t.Errorf("the error shows the account key: %v", err)
		}
	}
	_, err = source.Open(ctx, "azblob://guests/2026/seed.csv", source.OpenOptions{Blobs: store, MaxBytes: 10})
	if foyer.ErrorCode(err) != foyer.EINVALID || !strings.Contains(err.Error(), "larger than the limit of 10 bytes") {
		t.Errorf("open past the limit: %v", err)
	}

	// A wrong key is refused by the service; the message names neither key.
	bad := strings.Replace(a.ConnectionString(), devKey, wrongKey, 1)
	store, err = blob.New(blob.Options{ConnectionString: bad, HTTPClient: a.Client})
	if err != nil {
		t.Fatal(err)
	}
	_, err = store.OpenBlob(ctx, "guests", "2026/seed.csv")
	if foyer.ErrorCode(err) != foyer.EFORBIDDEN || !strings.Contains(err.Error(), "AuthorizationFailure") && !strings.Contains(err.Error(), "AuthenticationFailed") {
		t.Errorf("wrong key: %v", err)
	}
	if strings.Contains(err.Error(), wrongKey) {
		t.Errorf("the error shows the key: %v", err)
	}
}

// wrongKey is a well-formed account key that is not the account's.
var wrongKey = base64.StdEncoding.EncodeToString([]byte(strings.Repeat("wrong key ", 7))[:64])

func TestSAS(t *testing.T) {
	t.Parallel()
	a := startAzurite(t, true)
	upload(t, a, "guests", "seed.csv", guests)
	cred, err := azblob.NewSharedKeyCredential(devAccount, devKey)
	if err != nil {
		t.Fatal(err)
	}
	q, err := sas.BlobSignatureValues{
		Protocol:      sas.ProtocolHTTPS,
		StartTime:     time.Now().Add(-time.Hour).UTC(),
		ExpiryTime:    time.Now().Add(time.Hour).UTC(),
		Permissions:   (&sas.BlobPermissions{Read: true}).String(),
		ContainerName: "guests",
		BlobName:      "seed.csv",
	}.SignWithSharedKey(cred)
	if err != nil {
		t.Fatal(err)
	}
	blobURL := a.URL + "/guests/seed.csv"

	// The runbook's way (docs/csv.md): it is given the blob's SAS URL.
	rows, in := readRows(t, blobURL+"?"+q.Encode(), source.OpenOptions{HTTPClient: a.Client})
	checkGuests(t, rows, in)
	if in.Name != blobURL {
		t.Errorf("name %q, want the URL without its query", in.Name)
	}
	// A tampered signature is refused; the error shows no part of the query.
	tampered := strings.Replace(q.Encode(), "sig=", "sig=AA", 1)
	_, err = source.Open(context.Background(), blobURL+"?"+tampered, source.OpenOptions{HTTPClient: a.Client})
	if foyer.ErrorCode(err) != foyer.EFORBIDDEN || !strings.Contains(err.Error(), "403 Forbidden (AuthorizationFailure)") || strings.Contains(err.Error(), "sig=") || strings.Contains(err.Error(), q.Signature()) {
		t.Errorf("tampered SAS: %v", err)
	}

	// A Store whose account URL carries a SAS for the container.
	cq, err := sas.BlobSignatureValues{
		Protocol:      sas.ProtocolHTTPS,
		ExpiryTime:    time.Now().Add(time.Hour).UTC(),
		Permissions:   (&sas.ContainerPermissions{Read: true}).String(),
		ContainerName: "guests",
	}.SignWithSharedKey(cred)
	if err != nil {
		t.Fatal(err)
	}
	store, err := blob.New(blob.Options{AccountURL: a.URL + "/?" + cq.Encode(), HTTPClient: a.Client})
	if err != nil {
		t.Fatal(err)
	}
	if store.Account() != a.URL {
		t.Errorf("account %q, want %q", store.Account(), a.URL)
	}
	rows, in = readRows(t, "azblob://guests/seed.csv", source.OpenOptions{Blobs: store})
	checkGuests(t, rows, in)
}

func TestTokenCredential(t *testing.T) {
	t.Parallel()
	a := startAzurite(t, true)
	upload(t, a, "guests", "seed.csv", guests)
	ts := startTokenServer(t)
	newCred := func(secret string) azcore.TokenCredential {
		cred, err := azidentity.NewClientSecretCredential(ts.Tenant, ts.ClientID, secret, &azidentity.ClientSecretCredentialOptions{
			ClientOptions: azcore.ClientOptions{
				Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: ts.URL + "/"},
				Transport: ts.Client(),
			},
			DisableInstanceDiscovery: true,
		})
		if err != nil {
			t.Fatal(err)
		}
		return cred
	}
	store, err := blob.New(blob.Options{AccountURL: a.URL, Credential: newCred(ts.Secret), HTTPClient: a.Client})
	if err != nil {
		t.Fatal(err)
	}
	rows, in := readRows(t, "azblob://guests/seed.csv", source.OpenOptions{Blobs: store})
	checkGuests(t, rows, in)
	select {
	case scope := <-ts.issued:
		if scope != "https://storage.azure.com/.default" {
			t.Errorf("token scope %q", scope)
		}
	default:
		t.Error("no token was issued: the credential was not used")
	}

	store, err = blob.New(blob.Options{AccountURL: a.URL, Credential: newCred("wrong-secret"), HTTPClient: a.Client})
	if err != nil {
		t.Fatal(err)
	}
	_, err = store.OpenBlob(context.Background(), "guests", "seed.csv")
	if foyer.ErrorCode(err) != foyer.EFORBIDDEN || !strings.Contains(foyer.ErrorMessage(err), "no token for Azure Storage: ClientSecretCredential authentication failed. AADSTS7000215: Invalid client secret provided.") || strings.Contains(err.Error(), "wrong-secret") {
		t.Errorf("wrong secret: %v", err)
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	tests := []struct {
		o    blob.Options
		want string
	}{
		{blob.Options{}, "no account URL or connection string"},
		{blob.Options{ConnectionString: "AccountName=x;AccountKey=c2VjcmV0", AccountURL: "https://x.blob.core.windows.net"}, "not both"},
		{blob.Options{ConnectionString: "garbage-with-secret"}, "the connection string is malformed"},
		{blob.Options{AccountURL: "https://x.blob.core.windows.net/"}, "has no SAS token and no credential"},
		{blob.Options{AccountURL: "ftp://x/"}, "is not an http(s) URL"},
		{blob.Options{AccountURL: "http://x.blob.core.windows.net/", Credential: fakeCred{}}, "must be https to carry a token"},
	}
	for _, tt := range tests {
		_, err := blob.New(tt.o)
		if foyer.ErrorCode(err) != foyer.EINVALID || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "secret") || strings.Contains(err.Error(), "c2VjcmV0") {
			t.Errorf("New(%+v): %v, want %q", tt.o, err, tt.want)
		}
	}
	s, err := blob.New(blob.Options{AccountURL: "https://x.blob.core.windows.net/?sv=2022-11-02&sig=c2VjcmV0"})
	if err != nil || s.Account() != "https://x.blob.core.windows.net" {
		t.Errorf("New with a SAS URL: %v, account %q", err, s.Account())
	}
}

type fakeCred struct{}

func (fakeCred) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{}, io.EOF
}
