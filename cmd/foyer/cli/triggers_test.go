package cli_test

import (
	"encoding/hex"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/foyer-dev/foyer/web/hooks"
)

// TestServeWebhookTrigger: foyer serve, configured with a trigger whose
// webhook is signed, applies the trigger's CSV once when a signed delivery
// arrives, however often that delivery is repeated; an unsigned one is
// refused.
func TestServeWebhookTrigger(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	csv := filepath.Join(dir, "partners.csv")
	if err := os.WriteFile(csv, []byte("email,name\nana@fabrikam.example,Ana\nbo@fabrikam.example,Bo\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const secret = "a-webhook-secret-of-32-bytes-ok!"
	if err := os.WriteFile(filepath.Join(dir, "hook-secret"), []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	w := startServeE2E(t, func(c string) string {
		return c + "triggers:\n  drop:\n    profile: requests\n    source: " + csv +
			"\n    webhook: {secret_file: " + filepath.Join(dir, "hook-secret") + "}\n"
	})
	post := func(delivery string, signed bool) int {
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		r, err := http.NewRequest("POST", w.url+"/hooks/run/drop", strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		r.Header.Set(hooks.HeaderTimestamp, ts)
		r.Header.Set(hooks.HeaderDelivery, delivery)
		if signed {
			r.Header.Set(hooks.HeaderSignature, "sha256="+hex.EncodeToString(hooks.Sign([]byte(secret), ts, delivery, []byte("{}"))))
		}
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := post("d-0", false); got != http.StatusUnauthorized {
		t.Errorf("unsigned delivery: %d, want 401", got)
	}
	if got := post("d-1", true); got != http.StatusAccepted {
		t.Fatalf("signed delivery: %d, want 202", got)
	}
	if got := post("d-1", true); got != http.StatusOK {
		t.Errorf("the same delivery again: %d, want 200", got)
	}
	until(t, "both people are invited", func() bool { return len(w.sim.Stats().InvitationsByEmail) == 2 })
	for addr, n := range w.sim.Stats().InvitationsByEmail {
		if n != 1 {
			t.Errorf("%s invited %d times", addr, n)
		}
	}
}

// TestServeKeyedWebhook: a keyed webhook (for senders that cannot sign)
// applies the trigger's CSV once per delivery id; a wrong key, or none,
// is refused.
func TestServeKeyedWebhook(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	csv := filepath.Join(dir, "partners.csv")
	if err := os.WriteFile(csv, []byte("email;name\nana@fabrikam.example;Ana\nbo@fabrikam.example;Bo\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const key = "a-power-automate-key-of-32-bytes"
	if err := os.WriteFile(filepath.Join(dir, "hook-key"), []byte(key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	w := startServeE2E(t, func(c string) string {
		return c + "triggers:\n  flow:\n    profile: requests\n    source: " + csv +
			"\n    csv: {delimiter: ';', email_column: email}\n    webhook: {key_file: " + filepath.Join(dir, "hook-key") + "}\n"
	})
	post := func(delivery, auth string) int {
		r, err := http.NewRequest("POST", w.url+"/hooks/run/flow", strings.NewReader(`{"from":"flow"}`))
		if err != nil {
			t.Fatal(err)
		}
		r.Header.Set(hooks.HeaderDelivery, delivery)
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := post("d-0", ""); got != http.StatusUnauthorized {
		t.Errorf("no key: %d, want 401", got)
	}
	if got := post("d-0", "Bearer "+key+"-not"); got != http.StatusUnauthorized {
		t.Errorf("a wrong key: %d, want 401", got)
	}
	if got := post("d-1", "Bearer "+key); got != http.StatusAccepted {
		t.Fatalf("the key: %d, want 202", got)
	}
	if got := post("d-1", "Bearer "+key); got != http.StatusOK {
		t.Errorf("the same delivery again: %d, want 200", got)
	}
	until(t, "both people are invited", func() bool { return len(w.sim.Stats().InvitationsByEmail) == 2 })
	for addr, n := range w.sim.Stats().InvitationsByEmail {
		if n != 1 {
			t.Errorf("%s invited %d times", addr, n)
		}
	}
}
