package hooks_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/web/hooks"
)

// TestKeyed: a keyed webhook takes its key as Authorization: Bearer, with
// no timestamp or signature; the delivery id still makes a delivery once.
func TestKeyed(t *testing.T) {
	t.Parallel()
	key := "power-automate-key-0123456789"
	st := &starter{jobs: map[string]int64{}}
	h, err := hooks.New(hooks.Options{Starter: st, Keys: map[string][]byte{"nightly": []byte(key)}, Secrets: map[string][]byte{"other": secret}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	for _, rt := range h.Routes() {
		mux.Handle(rt.Method+" "+rt.Pattern, rt.Handler)
	}
	tests := []struct {
		name, trigger, auth, delivery string
		want                          int
	}{
		{"good", "nightly", "Bearer " + key, "d-1", http.StatusAccepted},
		{"again", "nightly", "bearer " + key, "d-1", http.StatusOK},
		{"wrong key", "nightly", "Bearer " + key + "x", "d-2", http.StatusUnauthorized},
		{"a prefix of the key", "nightly", "Bearer " + key[:20], "d-2", http.StatusUnauthorized},
		{"no key", "nightly", "", "d-2", http.StatusUnauthorized},
		{"basic", "nightly", "Basic " + key, "d-2", http.StatusUnauthorized},
		{"no delivery id", "nightly", "Bearer " + key, "", http.StatusBadRequest},
		{"the key on a signed trigger", "other", "Bearer " + string(secret), "d-2", http.StatusUnauthorized},
	}
	for _, tc := range tests { // in order: "again" follows "good"
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/hooks/run/"+tc.trigger, strings.NewReader("{}"))
			if tc.auth != "" {
				r.Header.Set("Authorization", tc.auth)
			}
			if tc.delivery != "" {
				r.Header.Set(hooks.HeaderDelivery, tc.delivery)
			}
			w := httptest.NewRecorder()
			mux.ServeHTTP(w, r)
			if w.Code != tc.want {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.want, w.Body)
			}
			if strings.Contains(w.Body.String(), key) {
				t.Error("the answer repeats the key")
			}
		})
	}
	if len(st.jobs) != 1 {
		t.Errorf("%d deliveries started, want 1", len(st.jobs))
	}
	if _, err := hooks.New(hooks.Options{Starter: st, Keys: map[string][]byte{"x": []byte("short")}}); foyer.ErrorCode(err) != foyer.EINVALID {
		t.Errorf("a short key: %v, want EINVALID", err)
	}
	if _, err := hooks.New(hooks.Options{Starter: st, Keys: map[string][]byte{"x": secret}, Secrets: map[string][]byte{"x": secret}}); foyer.ErrorCode(err) != foyer.EINVALID {
		t.Errorf("a secret and a key: %v, want EINVALID", err)
	}
}
