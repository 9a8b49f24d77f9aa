package cli_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/foyer-dev/foyer/cmd/foyer/cli"
	"github.com/foyer-dev/foyer/notify/email/smtptest"
	"github.com/foyer-dev/foyer/sim"
	"github.com/foyer-dev/foyer/sim/chaos"
	"github.com/foyer-dev/foyer/sim/simtest"
)

// TestServeProcess runs foyer serve as the platform engineer does: a real
// process that prints where it listens, answers health and readiness,
// holds the ledger's worker lease (an apply beside it is refused and
// invites nobody), takes a request through the API, stops on SIGTERM
// with exit code 0, and finds the request again when started anew.
func TestServeProcess(t *testing.T) {
	t.Parallel()
	bin, s, dir, config := serveProcessWorld(t, sim.Options{}, nil)
	keyOut, err := exec.Command(bin, "apikeys", "create", "crm", "--config", config).Output()
	if err != nil {
		t.Fatalf("apikeys create: %v", err)
	}
	key := strings.TrimSpace(string(keyOut))

	serve := startServeProc(t, bin, config)
	for _, path := range []string{"/healthz", "/readyz"} {
		if code, body := httpGet(t, serve.url+path, ""); code != http.StatusOK {
			t.Errorf("GET %s: %d %s", path, code, body)
		}
	}

	// The lease is serve's: an apply beside it is refused before it
	// touches the tenant.
	csv := writeFile(t, dir, "one.csv", "email\nlee@tailspin.example\n")
	apply := exec.Command(bin, "apply", "--yes", "--config", config, "--profile", "partners", csv)
	out, err := apply.CombinedOutput()
	if code := apply.ProcessState.ExitCode(); err == nil || code != cli.ExitError {
		t.Errorf("apply beside serve: exit %d, want %d:\n%s", code, cli.ExitError, out)
	}
	if n := s.Stats().InvitationsByEmail["lee@tailspin.example"]; n != 0 {
		t.Errorf("apply beside serve invited lee %d times", n)
	}

	body := `{"email":"kofi@tailspin.example","display_name":"Kofi","profile":"requests","answers":{"project":"Apollo"}}`
	req, err := http.NewRequest("POST", serve.url+"/api/v1/invitations", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", "crm-1")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var made struct{ ID, State string }
	err = json.NewDecoder(res.Body).Decode(&made)
	res.Body.Close()
	if err != nil || res.StatusCode != http.StatusAccepted || made.State != "pending_approval" {
		t.Fatalf("POST /api/v1/invitations: %d %+v %v", res.StatusCode, made, err)
	}

	serve.stop(t)
	if strings.Contains(serve.out.String(), key) {
		t.Error("the API key is in serve's output")
	}

	again := startServeProc(t, bin, config)
	code, got := httpGet(t, again.url+"/api/v1/requests/"+made.ID, key)
	if code != http.StatusOK || !strings.Contains(got, `"pending_approval"`) {
		t.Errorf("the request after a restart: %d %s", code, got)
	}
	again.stop(t)
}

// serveProcessWorld is an emulated tenant, a real SMTP server and the
// configuration foyer demo --serve writes (with an smtp: section, and
// edit's changes when edit is not nil), for tests that run foyer serve
// processes.
func serveProcessWorld(t *testing.T, o sim.Options, edit func(string) string) (bin string, s *sim.Server, dir, config string) {
	t.Helper()
	needProcesses(t)
	bin = foyerBinary(t)
	s = simtest.Start(t, o)
	mail := smtptest.Start(t, smtptest.Options{})
	dir = t.TempDir()
	config, _, _, err := cli.WriteServeSimFiles(s, dir, freePort(t))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "smtp-password", mail.Password+"\n")
	if err := os.Chmod(filepath.Join(dir, "smtp-password"), 0o600); err != nil {
		t.Fatal(err)
	}
	text, err := os.ReadFile(config)
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		text = []byte(edit(string(text)))
	}
	text = fmt.Appendf(text, "smtp:\n  host: %s\n  port: %d\n  from: access@contoso.example\n  username: %s\n  password_file: smtp-password\n  tls: starttls\n  ca_file: %s\n",
		mail.Host, mail.Port, mail.Username, mail.CAFile)
	if err := os.WriteFile(config, text, 0o644); err != nil {
		t.Fatal(err)
	}
	return bin, s, dir, config
}

// serveProc is a running foyer serve process and where it answers.
type serveProc struct {
	*proc
	url string
}

// startServeProc starts foyer serve and waits for the line that says
// where it listens.
func startServeProc(t *testing.T, bin, config string) *serveProc {
	t.Helper()
	p := startProc(t, exec.Command(bin, "serve", "--config", config))
	var ready struct{ URL string }
	eventually(t, time.Minute, "foyer serve says where it listens", func() bool {
		for _, line := range strings.Split(p.out.String(), "\n") {
			if strings.HasPrefix(line, `{"url":`) && json.Unmarshal([]byte(line), &ready) == nil {
				return true
			}
		}
		select {
		case err := <-p.exited:
			p.exited <- err
			t.Fatalf("foyer serve ended before it served (%v):\n%s", err, p.out.String())
		default:
		}
		return false
	})
	return &serveProc{proc: p, url: ready.URL}
}

// stop sends SIGTERM and expects a clean exit.
func (s *serveProc) stop(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := s.wait(t, time.Minute); err != nil {
		t.Errorf("foyer serve after SIGTERM: %v\n%s", err, s.out.String())
	}
}

func httpGet(t *testing.T, url, key string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(res.Body)
	return res.StatusCode, b.String()
}

// TestServeKilledWithInvitationsInFlight: foyer serve is SIGKILLed while
// the invitations of requests taken through the API are on their way (the
// tenant carried them out, their answers held back, its list queries
// lagging past the lookup grace). A new foyer serve takes the lease over
// from the dead one, finishes every request, and the tenant counts each
// person invited once.
func TestServeKilledWithInvitationsInFlight(t *testing.T) {
	t.Parallel()
	bin, s, _, config := serveProcessWorld(t, sim.Options{ReplicationDelay: 8 * time.Second, AnswerDelay: 2 * time.Second,
		Latency: chaos.Latency{Median: 2 * time.Millisecond, P99: 10 * time.Millisecond}},
		func(text string) string {
			// Requests from tailspin.example are approved by the policy,
			// so the API's requests go straight to their invitations.
			return strings.Replace(text, "    approval:\n      stages:", "    approval:\n      auto_domains: [tailspin.example]\n      stages:", 1) +
				"pacing:\n  lookup_grace: 1s\n"
		})
	keyOut, err := exec.Command(bin, "apikeys", "create", "crm", "--config", config).Output()
	if err != nil {
		t.Fatalf("apikeys create: %v", err)
	}
	key := strings.TrimSpace(string(keyOut))

	serve := startServeProc(t, bin, config)
	var emails, ids []string
	for i := range 16 {
		email := fmt.Sprintf("p%02d@tailspin.example", i)
		body := fmt.Sprintf(`{"email":%q,"display_name":"P %d","profile":"requests","answers":{"project":"Apollo"}}`, email, i)
		req, err := http.NewRequest("POST", serve.url+"/api/v1/invitations", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var made struct{ ID string }
		err = json.NewDecoder(res.Body).Decode(&made)
		res.Body.Close()
		if err != nil || res.StatusCode != http.StatusAccepted {
			t.Fatalf("POST /api/v1/invitations for %s: %d %v", email, res.StatusCode, err)
		}
		emails, ids = append(emails, email), append(ids, made.ID)
	}
	eventually(t, time.Minute, "invitations reach the tenant", func() bool { return invitations(s) >= 4 })
	if err := serve.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	serve.wait(t, 10*time.Second)
	t.Logf("killed with %d invitations carried out", invitations(s))

	again := startServeProc(t, bin, config)
	for _, id := range ids {
		eventually(t, 2*time.Minute, "request "+id+" is invited", func() bool {
			_, body := httpGet(t, again.url+"/api/v1/requests/"+id, key)
			return strings.Contains(body, `"state":"invited"`)
		})
	}
	again.stop(t)
	invitedOnce(t, s, emails)
}
