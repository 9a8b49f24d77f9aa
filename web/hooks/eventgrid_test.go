package hooks_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/sim/login"
	"github.com/foyer-dev/foyer/web/api"
	"github.com/foyer-dev/foyer/web/hooks"
)

// blobs keeps the blob events it was given: one job per delivery, as the
// engine's unique jobs do, for the container "drops" only.
type blobs struct {
	mu      sync.Mutex
	jobs    map[string]int64
	started []string // container/name@etag size, in order
}

func (b *blobs) StartBlob(_ context.Context, delivery, container, name, etag string, size int64) (string, int64, bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if container != "drops" {
		return "", 0, false, foyer.Errorf(foyer.ENOTFOUND, "no trigger takes container %s", container)
	}
	if id, ok := b.jobs[delivery]; ok {
		return "drops", id, false, nil
	}
	b.jobs[delivery] = int64(len(b.jobs) + 1)
	b.started = append(b.started, container+"/"+name+"@"+etag+" "+itoa(size))
	return "drops", b.jobs[delivery], true, nil
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

const (
	tenantID   = "6c1e3a52-0000-4000-8000-000000000001"
	foyerApp   = "6c1e3a52-0000-4000-8000-0000000000f1"
	eventsURI  = "api://foyer-events"
	gridApp    = "4962773b-9cdb-44cf-a8bf-237846a00ab7" // the Microsoft.EventGrid service principal's app id
	idleApp    = "6c1e3a52-0000-4000-8000-0000000000d1"
	egKey      = "eventgrid-key-0123456789abcdef"
	egRole     = "AzureEventGridSecureWebhookSubscriber"
	otherRoles = "Foyer.Invitations"
)

// authority is an emulated tenant where foyer's events app has the Event
// Grid role, held by Event Grid's service principal.
func authority(t *testing.T) *login.Authority {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	a, err := login.New(login.Options{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{
		a.AddTenant(login.Tenant{ID: tenantID, Domains: []string{"contoso.example"}}),
		a.AddApp(login.App{TenantID: tenantID, ClientID: foyerApp, ObjectID: "6c1e3a52-0000-4000-8000-0000000000f2", DisplayName: "foyer events",
			IdentifierURIs: []string{eventsURI}, AppRoles: []string{egRole, otherRoles}}),
		a.AddApp(login.App{TenantID: tenantID, ClientID: gridApp, ObjectID: "6c1e3a52-0000-4000-8000-0000000000e2", DisplayName: "Microsoft.EventGrid",
			Secrets: []string{"s"}, Permissions: map[string][]string{eventsURI: {egRole}}}),
		a.AddApp(login.App{TenantID: tenantID, ClientID: idleApp, ObjectID: "6c1e3a52-0000-4000-8000-0000000000d2", DisplayName: "idle",
			Secrets: []string{"s"}, Permissions: map[string][]string{eventsURI: {otherRoles}}}),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return a
}

type egEnv struct {
	mux   *http.ServeMux
	blobs *blobs
}

func newEventGrid(t *testing.T, idpURL string) *egEnv {
	t.Helper()
	tokens, err := api.NewAuthenticator(t.Context(), api.AuthOptions{Entra: &api.Entra{TenantID: tenantID, AuthorityHost: idpURL, Audiences: []string{eventsURI, foyerApp}}})
	if err != nil {
		t.Fatal(err)
	}
	b := &blobs{jobs: map[string]int64{}}
	h, err := hooks.New(hooks.Options{Starter: &starter{jobs: map[string]int64{}},
		EventGrid: &hooks.EventGridOptions{Starter: b, Key: []byte(egKey), Tokens: tokens, Role: egRole}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	for _, rt := range h.Routes() {
		mux.Handle(rt.Method+" "+rt.Pattern, rt.Handler)
	}
	return &egEnv{mux: mux, blobs: b}
}

func testdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// do sends a request to /hooks/eventgrid with the query and headers
// (name, value pairs).
func (e *egEnv) do(method, query string, body []byte, header ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, "/hooks/eventgrid"+query, bytes.NewReader(body))
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	e.mux.ServeHTTP(w, r)
	return w
}

// TestEventGridHandshakes: the Event Grid schema's validation event is
// answered with its code; CloudEvents' OPTIONS with the allowed origin.
func TestEventGridHandshakes(t *testing.T) {
	t.Parallel()
	e := newEventGrid(t, "http://127.0.0.1:1")
	w := e.do("POST", "?key="+egKey, testdata(t, "eventgrid-validation.json"), "Content-Type", "application/json", hooks.HeaderEventType, "SubscriptionValidation")
	if w.Code != http.StatusOK {
		t.Fatalf("validation: %d %s", w.Code, w.Body)
	}
	var got map[string]string
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || got["validationResponse"] != "512d38b6-c7b8-40c8-89fe-f46f9e9622b6" {
		t.Errorf("validation answer %s, %v", w.Body, err)
	}
	w = e.do("OPTIONS", "?key="+egKey, nil, hooks.HeaderRequestOrigin, "eventgrid.azure.net", "WebHook-Request-Rate", "120")
	if w.Code != http.StatusOK || w.Header().Get(hooks.HeaderAllowedOrigin) != "eventgrid.azure.net" || w.Header().Get(hooks.HeaderAllowedRate) == "" {
		t.Errorf("OPTIONS: %d, headers %v", w.Code, w.Header())
	}
	// Neither handshake is answered without the key.
	if w := e.do("POST", "", testdata(t, "eventgrid-validation.json"), hooks.HeaderEventType, "SubscriptionValidation"); w.Code != http.StatusUnauthorized || strings.Contains(w.Body.String(), "512d38b6") {
		t.Errorf("validation without the key: %d %s", w.Code, w.Body)
	}
	if w := e.do("OPTIONS", "?key=wrong", nil, hooks.HeaderRequestOrigin, "eventgrid.azure.net"); w.Code != http.StatusUnauthorized || w.Header().Get(hooks.HeaderAllowedOrigin) != "" {
		t.Errorf("OPTIONS with a wrong key: %d %v", w.Code, w.Header())
	}
	if len(e.blobs.started) != 0 {
		t.Errorf("handshakes started %v", e.blobs.started)
	}
}

// TestEventGridEvents: BlobCreated in both schemas starts its blob's run,
// once per event id; other types and blobs no trigger takes are 200 and
// start nothing.
func TestEventGridEvents(t *testing.T) {
	t.Parallel()
	e := newEventGrid(t, "http://127.0.0.1:1")
	post := func(file, contentType string) map[string]any {
		t.Helper()
		w := e.do("POST", "?key="+egKey, testdata(t, file), "Content-Type", contentType, hooks.HeaderEventType, "Notification")
		if w.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", file, w.Code, w.Body)
		}
		var got map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		return got
	}
	post("eventgrid-blobcreated.json", "application/json")
	post("eventgrid-blobcreated.json", "application/json; charset=utf-8") // delivered again
	post("cloudevents-blobcreated.json", "application/cloudevents+json; charset=utf-8")
	got := post("cloudevents-batch.json", "application/cloudevents-batch+json; charset=utf-8")
	post("eventgrid-blobdeleted.json", "application/json")
	want := []string{
		"drops/partners/guests.csv@0x8D4BCC2E4835CD0 524",
		"drops/partners/guests.csv@0x8D76C39E4407333 524",
		"drops/partners/more.csv@0x8D76C39E44AAAAA 312",
	}
	if strings.Join(e.blobs.started, "\n") != strings.Join(want, "\n") {
		t.Errorf("started\n%s\nwant\n%s", strings.Join(e.blobs.started, "\n"), strings.Join(want, "\n"))
	}
	evs, _ := got["events"].([]any)
	if len(evs) != 2 {
		t.Fatalf("batch answer %v", got)
	}
	if second, _ := evs[1].(map[string]any); second["ignored"] != "not a BlobCreated event" {
		t.Errorf("the tier change: %v", second)
	}
	// A blob in a container no trigger takes.
	other := bytes.ReplaceAll(testdata(t, "eventgrid-blobcreated.json"), []byte("containers/drops/"), []byte("containers/archive/"))
	if w := e.do("POST", "?key="+egKey, other, "Content-Type", "application/json"); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "no trigger takes") {
		t.Errorf("another container: %d %s", w.Code, w.Body)
	}
	for name, body := range map[string]string{
		"not JSON":       "<xml/>",
		"empty batch":    "[]",
		"an event no id": `[{"eventType":"Microsoft.Storage.BlobCreated","subject":"/blobServices/default/containers/drops/blobs/a.csv","data":{"eTag":"0x1"}}]`,
	} {
		if w := e.do("POST", "?key="+egKey, []byte(body), "Content-Type", "application/json"); w.Code != http.StatusBadRequest {
			t.Errorf("%s: %d %s", name, w.Code, w.Body)
		}
	}
	if len(e.blobs.started) != 3 {
		t.Errorf("%d runs started, want 3", len(e.blobs.started))
	}
}

// TestEventGridAuth: the key, or an Entra token from the tenant for the
// events app with the Event Grid role; anything else is 401 and starts
// nothing.
func TestEventGridAuth(t *testing.T) {
	t.Parallel()
	idp := authority(t)
	srv := httptest.NewServer(idp.Handler())
	t.Cleanup(srv.Close)
	forger := authority(t) // the same names, another key
	issue := func(a *login.Authority, client, resource string) string {
		tok, err := a.IssueToken(tenantID, client, resource)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	e := newEventGrid(t, srv.URL)
	body := testdata(t, "eventgrid-blobcreated.json")
	tests := []struct {
		name, query, auth string
		want              int
	}{
		{"no credential", "", "", http.StatusUnauthorized},
		{"wrong key", "?key=eventgrid-key-0123456789abcdeX", "", http.StatusUnauthorized},
		{"a prefix of the key", "?key=" + egKey[:16], "", http.StatusUnauthorized},
		{"forged token", "", "Bearer " + issue(forger, gridApp, eventsURI), http.StatusUnauthorized},
		{"unsigned token", "", "Bearer " + unsigned(issue(idp, gridApp, eventsURI)), http.StatusUnauthorized},
		{"token without the role", "", "Bearer " + issue(idp, idleApp, eventsURI), http.StatusUnauthorized},
		{"token for another audience", "", "Bearer " + issue(idp, gridApp, "https://graph.microsoft.com"), http.StatusUnauthorized},
		{"token", "", "Bearer " + issue(idp, gridApp, eventsURI), http.StatusOK},
		{"key", "?key=" + egKey, "", http.StatusOK},
	}
	for _, tc := range tests { // in order: the refusals come before the good ones
		t.Run(tc.name, func(t *testing.T) {
			var h []string
			if tc.auth != "" {
				h = []string{"Authorization", tc.auth}
			}
			w := e.do("POST", tc.query, body, append(h, "Content-Type", "application/json")...)
			if w.Code != tc.want {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.want, w.Body)
			}
			if tc.want == http.StatusUnauthorized && len(e.blobs.started) != 0 {
				t.Fatalf("a refused delivery started %v", e.blobs.started)
			}
		})
	}
	if len(e.blobs.started) != 1 {
		t.Errorf("started %v, want the one blob once", e.blobs.started)
	}
}

// unsigned replaces a token's header with alg none and drops its
// signature.
func unsigned(tok string) string {
	parts := strings.Split(tok, ".")
	return "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + parts[1] + "."
}
