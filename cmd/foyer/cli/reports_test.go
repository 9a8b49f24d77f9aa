package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/foyer-dev/foyer/cmd/foyer/cli"
	"github.com/foyer-dev/foyer/sim"
)

// channels is a local Slack, Teams and webhook receiver. While held, it
// keeps every request waiting and then drops it unanswered (as if the
// sender died first); while down, it answers 503. It counts the reports
// it accepted, by run, per channel.
type channels struct {
	srv *httptest.Server

	mu       sync.Mutex
	held     int                       // requests waiting now
	hold     chan struct{}             // closed to let held requests go (unanswered)
	down     bool                      // answer 503
	accepted map[string]map[string]int // channel → body → count
}

func newChannels(t *testing.T) *channels {
	c := &channels{accepted: map[string]map[string]int{}}
	c.srv = httptest.NewServer(http.HandlerFunc(c.serve))
	t.Cleanup(c.srv.Close)
	return c
}

func (c *channels) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	channel := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")[0]
	c.mu.Lock()
	hold, down := c.hold, c.down
	if hold != nil {
		c.held++
	}
	c.mu.Unlock()
	if hold != nil {
		<-hold
		panic(http.ErrAbortHandler) // no answer: the delivery did not happen
	}
	if down {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	c.mu.Lock()
	if c.accepted[channel] == nil {
		c.accepted[channel] = map[string]int{}
	}
	c.accepted[channel][string(body)]++
	c.mu.Unlock()
	if channel == "services" {
		io.WriteString(w, "ok") // Slack's answer
	}
}

// count returns how many reports of a run each channel accepted.
func (c *channels) count(runID string) map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := map[string]int{}
	for ch, bodies := range c.accepted {
		for b, k := range bodies {
			if strings.Contains(b, runID) {
				n[ch] += k
			}
		}
	}
	return n
}

func (c *channels) env() []string {
	return []string{
		"SLACK_URL=" + c.srv.URL + "/services/T000/B000/slacktoken",
		"TEAMS_URL=" + c.srv.URL + "/teams/workflows/abc?sig=teamssig",
		"HOOK_URL=" + c.srv.URL + "/hook/x",
		"HOOK_SECRET=a-webhook-secret-of-32-bytes-long",
	}
}

const notifyConfig = "notify:\n  slack: {url_env: SLACK_URL}\n  teams: {url_env: TEAMS_URL}\n  webhook: {url_env: HOOK_URL, secret_env: HOOK_SECRET}\n"

// runIDs lists the ledger's runs, newest first.
func runIDs(t *testing.T, bin, config string) []string {
	t.Helper()
	out, err := exec.Command(bin, "runs", "--output", "json", "--config", config).Output()
	if err != nil {
		t.Fatalf("foyer runs: %v", err)
	}
	var list struct {
		Runs []struct {
			ID string `json:"run_id"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(out, &list); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range list.Runs {
		ids = append(ids, r.ID)
	}
	return ids
}

// TestReportSurvivesKillBetweenFinishAndSend: an apply is killed after its
// run finished and while its report was on its way (the receivers held
// the requests and never answered). The next foyer process sends that
// report, once, to Slack, Teams and the webhook, beside its own.
func TestReportSurvivesKillBetweenFinishAndSend(t *testing.T) {
	t.Parallel()
	bin, _, dir, config := processWorld(t, sim.Options{}, notifyConfig)
	ch := newChannels(t)
	release := make(chan struct{})
	ch.mu.Lock()
	ch.hold = release
	ch.mu.Unlock()
	env := append(os.Environ(), ch.env()...)
	file, _ := peopleFile(t, dir, "reported", 3)
	first := exec.Command(bin, applyArgs(config, file)...)
	first.Env = env
	p := startProc(t, first)
	eventually(t, time.Minute, "the report reaches all three channels", func() bool {
		ch.mu.Lock()
		defer ch.mu.Unlock()
		return ch.held >= 3
	})
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.wait(t, 10*time.Second)
	ch.mu.Lock()
	ch.hold = nil
	ch.mu.Unlock()
	close(release)
	ids := runIDs(t, bin, config)
	if len(ids) != 1 {
		t.Fatalf("runs after the kill: %v", ids)
	}
	if n := ch.count(ids[0]); len(n) != 0 {
		t.Fatalf("the killed apply's report was accepted: %v", n)
	}

	second := exec.Command(bin, applyArgs(config, writeFile(t, dir, "later.csv", "email\nlater.one@partner.example\n"))...)
	second.Env = env
	var out bytes.Buffer
	second.Stdout, second.Stderr = &out, &out
	if err := second.Run(); err != nil {
		t.Fatalf("the next apply: %v\n%s", err, out.String())
	}
	ids = runIDs(t, bin, config)
	for _, id := range ids {
		got := ch.count(id)
		for _, c := range []string{"services", "teams", "hook"} {
			if got[c] != 1 {
				t.Errorf("run %s: %s accepted its report %d times, want once (%v)", id, c, got[c], got)
			}
		}
	}
}

// TestOwedReportSentByTheNextApply: with the webhook down, an apply's
// report is owed (the apply and foyer runs show say so); the next apply
// sends it, and its own.
func TestOwedReportSentByTheNextApply(t *testing.T) {
	t.Parallel()
	_, config, csv := tenant(t, sim.Options{})
	appendFile(t, config, "notify:\n  webhook: {url_env: HOOK_URL, secret_env: HOOK_SECRET}\n")
	ch := newChannels(t)
	ch.mu.Lock()
	ch.down = true
	ch.mu.Unlock()
	vars := map[string]string{}
	for _, kv := range ch.env() {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	apply := func(file string) (int, string, string) {
		return runIn(context.Background(), cli.Env{Args: []string{"apply", "--yes", "--output", "json", "--config", config, "--profile", "partners", file},
			Getenv: func(k string) string { return vars[k] }})
	}
	code, out, errs := apply(csv)
	if code != cli.ExitInvalidRows || !strings.Contains(errs, "report still owed to webhook") {
		t.Fatalf("apply with the webhook down: exit %d: %s", code, errs)
	}
	first := decode(t, out).RunID
	_, show, showErr := run(t, "runs", "show", "--config", config, first)
	if !strings.Contains(show+showErr, "report still owed to webhook") {
		t.Errorf("runs show does not say the report is owed:\n%s\n%s", show, showErr)
	}

	ch.mu.Lock()
	ch.down = false
	ch.mu.Unlock()
	code, out, errs = apply(writeFile(t, filepath.Dir(csv), "more.csv", "email\nmore.one@partner.example\n"))
	if code != cli.ExitOK || !strings.Contains(errs, "report sent to webhook") {
		t.Fatalf("the next apply: exit %d: %s", code, errs)
	}
	second := decode(t, out).RunID
	for _, id := range []string{first, second} {
		if n := ch.count(id)["hook"]; n != 1 {
			t.Errorf("run %s's report was accepted %d times, want once", id, n)
		}
	}
	_, show, showErr = run(t, "runs", "show", "--config", config, first)
	if !strings.Contains(show+showErr, "report sent to webhook") {
		t.Errorf("runs show after the next apply:\n%s\n%s", show, showErr)
	}
}
