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
	"github.com/foyer-dev/foyer/sim/simtest"
)

// TestServeProcess runs foyer serve as the platform engineer does: a real
// process that prints where it listens, answers health and readiness,
// holds the ledger's worker lease (an apply beside it is refused and
// invites nobody), takes a request through the API, stops on SIGTERM
// with exit code 0, and finds the request again when started anew.
func TestServeProcess(t *testing.T) {
	needProcesses(t)
	t.Parallel()
	bin := foyerBinary(t)
	s := simtest.Start(t, sim.Options{})
	mail := smtptest.Start(t, smtptest.Options{})
	dir := t.TempDir()
	port := freePort(t)
	config, _, _, err := cli.WriteServeSimFiles(s, dir, port)
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
	text = fmt.Appendf(text, "smtp:\n  host: %s\n  port: %d\n  from: access@contoso.example\n  username: %s\n  password_file: smtp-password\n  tls: starttls\n  ca_file: %s\n",
		mail.Host, mail.Port, mail.Username, mail.CAFile)
	if err := os.WriteFile(config, text, 0o644); err != nil {
		t.Fatal(err)
	}

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
