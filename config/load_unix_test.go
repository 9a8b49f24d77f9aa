//go:build unix

package config_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
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
