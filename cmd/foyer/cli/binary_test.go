package cli_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// The process-level tests run real foyer processes. They share one build,
// made the first time one asks for it, in a directory TestMain removes.
var (
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
	code := m.Run()
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
