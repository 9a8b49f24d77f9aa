//go:build unix

package config_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/foyer-dev/foyer/config"
)

// TestLoadStopsWhenCancelled: a configuration that never finishes arriving
// (a FIFO no one writes to) does not hold foyer once its context is done,
// as when the user presses Ctrl-C.
func TestLoadStopsWhenCancelled(t *testing.T) {
	t.Parallel()
	fifo := filepath.Join(t.TempDir(), "foyer.yaml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no FIFO here:", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := config.Load(ctx, fifo)
		done <- err
	}()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Load after cancel: %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Load still waits for its file 10 s after its context was cancelled")
	}
	// Let go of the reader still blocked in open(2), if it got that far.
	if w, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
		w.Close()
	}
}

// TestPermissionWarnings: a configuration others may change, and secret
// files others may read, are loaded with a warning that names the file and
// the command that fixes it.
func TestPermissionWarnings(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name string, data string, mode os.FileMode) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil { // WriteFile's mode passes through the umask
			t.Fatal(err)
		}
		return p
	}
	secret := write("client-secret", "s3cret", 0o644)
	smtpPass := write("smtp-password", "s3cret", 0o640)
	hookURL := write("hook-url", "https://hooks.example/x", 0o600)
	webSecret := write("web-secret", "s3cret", 0o604)
	file := strings.Replace(minimal, "secret_file: s", "secret_file: client-secret", 1) +
		"smtp: {host: smtp.example, from: a@example.com, username: u, password_file: " + smtpPass + "}\n" +
		"notify: {webhook: {url_file: hook-url}}\n" +
		"serve:\n  access: {admins: {users: [a@contoso.example]}}\n" +
		"  sign_in: {client_id: 9e10d5f1-3b6e-4f1e-9a55-2f5b1d7c0d5f, credential: {type: client_secret, secret_file: web-secret}}\n"
	cfg := write("foyer.yaml", file, 0o666)
	_ = hookURL

	c, err := config.Load(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]string, 0)
	for _, w := range c.Warnings() {
		got = append(got, w.String())
	}
	all := strings.Join(got, "\n")
	for _, want := range []string{
		cfg + ": ", "chmod go-w " + cfg,
		"chmod 600 " + secret,
		"chmod 600 " + smtpPass,
		"serve.sign_in.credential.secret_file: all users may read", "chmod 600 " + webSecret,
	} {
		if !strings.Contains(all, want) {
			t.Errorf("warnings lack %q:\n%s", want, all)
		}
	}
	if strings.Contains(all, hookURL) || len(got) != 4 {
		t.Errorf("want 4 warnings, not about %s:\n%s", hookURL, all)
	}
	if strings.Contains(all, "s3cret") {
		t.Errorf("a warning shows a secret:\n%s", all)
	}

	for _, p := range []string{secret, smtpPass, webSecret} {
		if err := os.Chmod(p, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	if c, err = config.Load(context.Background(), cfg); err != nil || len(c.Warnings()) != 0 {
		t.Errorf("after chmod: %v, warnings %v", err, c.Warnings())
	}
}
