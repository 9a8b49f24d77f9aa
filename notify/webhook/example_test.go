package webhook_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"time"

	"github.com/foyer-dev/foyer/notify/webhook"
)

// A receiver checks every delivery before it trusts it: read the body,
// verify the signatures against the shared secret, then drop a delivery
// whose id, which the signature covers, it has already handled. A delivery
// whose id was changed to look new is refused.
func ExampleVerifyRequest() {
	secret := []byte("0123456789abcdef0123456789abcdef")
	handled := map[string]bool{}
	receiver := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "read", http.StatusBadRequest)
			return
		}
		id, err := webhook.VerifyRequest(secret, r.Header, body, time.Now(), 0)
		if err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		if handled[id] {
			w.WriteHeader(http.StatusOK) // already done: say yes, do nothing
			return
		}
		handled[id] = true
		w.WriteHeader(http.StatusAccepted)
	})

	const id = "apply_finished_run-1"
	body := `{"type":"foyer.run.finished","version":1,"id":"` + id + `"}`
	sent := time.Now()
	for _, deliveryID := range []string{id, id, "apply_finished_run-2"} {
		req := httptest.NewRequest(http.MethodPost, "/hook", strings.NewReader(body))
		req.Header.Set(webhook.HeaderWebhookID, deliveryID)
		req.Header.Set(webhook.HeaderWebhookTimestamp, strconv.FormatInt(sent.Unix(), 10))
		req.Header.Set(webhook.HeaderWebhookSignature, webhook.SignStandard(secret, id, sent, []byte(body)))
		w := httptest.NewRecorder()
		receiver.ServeHTTP(w, req)
		fmt.Println(w.Code)
	}
	// Output:
	// 202
	// 200
	// 401
}
