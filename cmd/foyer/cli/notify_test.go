package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/foyer-dev/foyer/cmd/foyer/cli"
	"github.com/foyer-dev/foyer/notify/webhook"
	"github.com/foyer-dev/foyer/sim"
)

// TestApplyNotifies checks that apply reports the run to Slack and to a
// signed webhook named in the configuration, with the run's counts, and
// that the URLs (secrets) never reach the output.
func TestApplyNotifies(t *testing.T) {
	t.Parallel()
	_, config, csv := tenant(t, sim.Options{})
	const secret = "a-webhook-secret-of-32-bytes-long"
	var mu sync.Mutex
	bodies := map[string][]byte{}
	headers := map[string]http.Header{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies[r.URL.Path], headers[r.URL.Path] = b, r.Header.Clone()
		mu.Unlock()
		if strings.HasPrefix(r.URL.Path, "/services/") {
			io.WriteString(w, "ok") // Slack's answer
		}
	}))
	defer srv.Close()
	f, err := os.OpenFile(config, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("notify:\n  slack: {url_env: SLACK_URL}\n  webhook: {url_env: HOOK_URL, secret_env: HOOK_SECRET}\n")
	f.Close()
	env := map[string]string{
		"SLACK_URL":   srv.URL + "/services/T000/B000/slacktoken",
		"HOOK_URL":    srv.URL + "/hook?token=hooktoken",
		"HOOK_SECRET": secret,
	}
	var out, errb bytes.Buffer
	code := cli.Run(context.Background(), cli.Env{
		Args:  []string{"apply", "--yes", "--output", "json", "--config", config, "--profile", "partners", csv},
		Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return env[k] }})
	if code != cli.ExitInvalidRows {
		t.Fatalf("apply: exit %d, want %d (the example list has invalid rows)\n%s", code, cli.ExitInvalidRows, errb.String())
	}
	if s := out.String() + errb.String(); strings.Contains(s, "slacktoken") || strings.Contains(s, "hooktoken") || strings.Contains(s, secret) {
		t.Errorf("a secret reached the output:\n%s", s)
	}
	mu.Lock()
	defer mu.Unlock()
	slack := string(bodies["/services/T000/B000/slacktoken"])
	if !strings.Contains(slack, "15") || !strings.Contains(slack, "invited") {
		t.Errorf("the Slack message lacks the counts: %s", slack)
	}
	hook := bodies["/hook"]
	if err := webhook.Verify([]byte(secret), headers["/hook"].Get(webhook.HeaderSignature), hook, time.Now(), 0); err != nil {
		t.Errorf("the webhook's signature does not verify: %v", err)
	}
	var ev struct {
		Type    string `json:"type"`
		Summary struct {
			Results map[string]int `json:"results"`
		} `json:"summary"`
	}
	if err := json.Unmarshal(hook, &ev); err != nil || ev.Summary.Results["invited"] != 15 {
		t.Errorf("webhook event %s: %v", hook, err)
	}
}
