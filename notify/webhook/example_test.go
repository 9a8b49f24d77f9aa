package webhook_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/foyer-dev/foyer/notify/webhook"
)

// A receiver checks every delivery before it trusts it: read the body,
// verify the signature against the shared secret, then drop repeats of an
// Idempotency-Key it has already handled.
func ExampleVerify() {
	secret := []byte("0123456789abcdef0123456789abcdef")
	handled := map[string]bool{}
	receiver := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "read", http.StatusBadRequest)
			return
		}
		if err := webhook.Verify(secret, r.Header.Get(webhook.HeaderSignature), body, time.Now(), 0); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		key := r.Header.Get(webhook.HeaderIdempotency)
		if handled[key] {
			w.WriteHeader(http.StatusOK) // already done: say yes, do nothing
			return
		}
		handled[key] = true
		w.WriteHeader(http.StatusAccepted)
	})

	body := `{"type":"foyer.run.finished","version":1,"id":"run-1"}`
	for _, sig := range []string{webhook.Sign(secret, time.Now(), []byte(body)), "t=1,v1=00"} {
		req := httptest.NewRequest(http.MethodPost, "/hook", strings.NewReader(body))
		req.Header.Set(webhook.HeaderSignature, sig)
		req.Header.Set(webhook.HeaderIdempotency, "run-1")
		w := httptest.NewRecorder()
		receiver.ServeHTTP(w, req)
		fmt.Println(w.Code)
	}
	// Output:
	// 202
	// 401
}
