package cli_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/foyer-dev/foyer/internal/browser"
)

// The process-level tests run real foyer processes. They share one build,
// made the first time one asks for it, in a directory TestMain removes.
// The browser tests share one Chromium, started by the first that asks for
// a tab and stopped by TestMain.
var (
	chrome   browser.Shared
	binDir   string
	binOnce  sync.Once
	binPath  string
	binError error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "foyer-test-bin-")
	if err != nil {
		panic(err)
	}
	binDir = dir
	// The browser tests share one headless Chromium (serve_e2e_test.go).
	chrome.Options = browser.Options{InsecureCerts: true, Width: 1024, Height: 768}
	code := m.Run()
	chrome.Close()
	os.RemoveAll(dir)
	os.Exit(code)
}

// foyerBinary builds foyer once for the package's tests and returns its
// path.
func foyerBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		binPath = filepath.Join(binDir, "foyer")
		if out, err := exec.Command("go", "build", "-o", binPath, "github.com/foyer-dev/foyer/cmd/foyer").CombinedOutput(); err != nil {
			binError = err
			binPath = string(out)
		}
	})
	if binError != nil {
		t.Fatalf("build foyer: %v\n%s", binError, binPath)
	}
	return binPath
}
