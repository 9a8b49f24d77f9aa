package graph

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// vclock is virtual time: After advances it at once, so pacing that would
// wait seconds runs instantly and the waits can be read back.
type vclock struct {
	mu    sync.Mutex
	t     time.Time
	waits []time.Duration
}

func newVClock() *vclock { return &vclock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (v *vclock) Now() time.Time {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.t
}

func (v *vclock) After(d time.Duration) <-chan time.Time {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.t = v.t.Add(d)
	v.waits = append(v.waits, d)
	ch := make(chan time.Time, 1)
	ch <- v.t
	return ch
}

// testToken is what staticCred hands out; no log or error may show it.
const testToken = "eyJ0eXAiOi.SECRET-TOKEN-VALUE.sig"

type staticCred struct{}

func (staticCred) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: testToken, ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// fakeGraph starts a TLS server answering with h and a client pointed at
// it with fast retries and virtual time; logs go to the returned buffer.
func fakeGraph(t *testing.T, h http.HandlerFunc, tweak func(*Options)) (*Client, *syncBuffer) {
	t.Helper()
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	logs := &syncBuffer{}
	vc := newVClock()
	o := Options{
		TenantID: "00000000-0000-0000-0000-0000000000aa", ClientID: "00000000-0000-0000-0000-0000000000bb",
		Cloud: CloudCustom, Endpoints: Endpoints{Authority: srv.URL, Graph: srv.URL, ARM: srv.URL, Exchange: srv.URL},
		HTTPClient: srv.Client(), TokenCredential: staticCred{},
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Clock:  vc, After: vc.After,
		Pacing: Pacing{RetryDelay: time.Millisecond, MaxRetryDelay: 10 * time.Millisecond, GroupWindow: time.Millisecond},
	}
	if tweak != nil {
		tweak(&o)
	}
	c, err := New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	return c, logs
}

// graphErr writes a Graph error body.
func graphErr(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("request-id", "rid-"+code)
	w.WriteHeader(status)
	_, _ = w.Write([]byte(`{"error":{"code":"` + code + `","message":"` + msg + `","innerError":{"request-id":"rid-` + code + `"}}}`))
}
