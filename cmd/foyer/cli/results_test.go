package cli_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/foyer-dev/foyer/cmd/foyer/cli"
	"github.com/foyer-dev/foyer/sim"
)

// TestApplyResultsPreparedFirst: a --results path that cannot be written
// fails the command before anything is planned or sent.
func TestApplyResultsPreparedFirst(t *testing.T) {
	t.Parallel()
	s, config, csv := tenant(t, sim.Options{})
	dir := t.TempDir()
	for _, tt := range []struct {
		name, path string
		code       int
	}{
		{"a missing directory", filepath.Join(dir, "missing", "results.csv"), cli.ExitError},
		{"a directory", dir, cli.ExitUsage},
	} {
		code, out, errs := run(t, "apply", "--yes", "--config", config, "--profile", "partners", "--results", tt.path, csv)
		if code != tt.code || !strings.Contains(errs, "--results") || strings.Contains(errs, "started") {
			t.Errorf("%s: exit %d, want %d\n%s\n%s", tt.name, code, tt.code, errs, out)
		}
		if n := len(s.Stats().InvitationsByEmail); n != 0 {
			t.Fatalf("%s: %d people invited before the results file was refused", tt.name, n)
		}
	}
}

// TestApplyResultsReplacesSymlink: a symbolic link planted at the results
// path is replaced by the results, not followed, and the file is private.
func TestApplyResultsReplacesSymlink(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("symbolic links need privileges on Windows")
	}
	_, config, csv := tenant(t, sim.Options{})
	dir := t.TempDir()
	victim := writeFile(t, dir, "victim", "precious\n")
	results := filepath.Join(dir, "results.csv")
	if err := os.Symlink(victim, results); err != nil {
		t.Fatal(err)
	}
	code, out, errs := run(t, "apply", "--yes", "--output", "json", "--config", config, "--profile", "partners", "--results", results, csv)
	if b, _ := os.ReadFile(victim); string(b) != "precious\n" {
		t.Errorf("the link's target was written: %.40q...", b)
	}
	if code != cli.ExitInvalidRows {
		t.Fatalf("exit %d\n%s\n%s", code, errs, out)
	}
	fi, err := os.Lstat(results)
	if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
		t.Fatalf("results: %v, mode %v; want a regular file, 0600", err, fi.Mode())
	}
	b, _ := os.ReadFile(results)
	if !strings.HasPrefix(string(b), "line,email,action") || strings.Count(string(b), "\r\n") != 31 {
		t.Errorf("results file:\n%s", b)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".results.csv.foyer-*")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// TestApplyResultsLostAfterRun: when the results cannot be written at the
// end, the summary and the notifications still go out, and the error comes
// after them.
func TestApplyResultsLostAfterRun(t *testing.T) {
	t.Parallel()
	_, config, csv := tenant(t, sim.Options{})
	var hooks atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		hooks.Add(1)
	}))
	defer srv.Close()
	f, err := os.OpenFile(config, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("notify:\n  webhook: {url_env: HOOK_URL, secret_env: HOOK_SECRET}\n")
	f.Close()
	env := map[string]string{"HOOK_URL": srv.URL + "/hook", "HOOK_SECRET": "a-webhook-secret-of-32-bytes-long"}
	dir := filepath.Join(t.TempDir(), "reports")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// The directory disappears while the run works its rows.
	stderr := &hookWriter{trigger: "started.", hook: func() { os.RemoveAll(dir) }}
	code, out, errs := runIn(context.Background(), cli.Env{
		Args:   []string{"apply", "--yes", "--output", "json", "--config", config, "--profile", "partners", "--results", filepath.Join(dir, "r.csv"), csv},
		Stderr: stderr, Getenv: func(k string) string { return env[k] }})
	if code != cli.ExitError {
		t.Fatalf("exit %d, want %d\n%s", code, cli.ExitError, errs)
	}
	if d := decode(t, out); d.Summary["invited"] != 15 {
		t.Errorf("summary %v", d.Summary)
	}
	if hooks.Load() != 1 {
		t.Errorf("%d notifications, want 1", hooks.Load())
	}
	lines := strings.Split(strings.TrimSpace(errs), "\n")
	if last := lines[len(lines)-1]; !strings.Contains(last, "finished, but") || !strings.Contains(last, "r.csv") || !strings.Contains(last, "runs show") {
		t.Errorf("the last message is %q, want the results error\n%s", last, errs)
	}
}
