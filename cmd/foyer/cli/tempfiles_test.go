package cli

import (
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestRemoveOrphanSpools: the spools of a process that ended are removed;
// those of a live process, and files that only look like spools, stay.
func TestRemoveOrphanSpools(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	child := exec.Command(os.Args[0], "-test.run=^$")
	if err := child.Run(); err != nil {
		t.Fatal(err)
	}
	dead, live := child.Process.Pid, os.Getpid()
	files := map[string]bool{ // name → removed
		fmt.Sprintf("foyer-input-%d-123.csv", dead): true,
		fmt.Sprintf("foyer-plan-%d-456.gob", dead):  true,
		fmt.Sprintf("foyer-input-%d-789.csv", live): false,
		fmt.Sprintf("foyer-plan-%d-012.gob", live):  false,
		"foyer-input-notapid-1.csv":                 false,
		fmt.Sprintf("foyer-other-%d-1.csv", dead):   false,
		fmt.Sprintf("report-%d.csv", dead):          false,
	}
	for name := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	removeOrphanSpools(dir, slog.New(slog.DiscardHandler))
	for name, removed := range files {
		_, err := os.Stat(filepath.Join(dir, name))
		if gone := os.IsNotExist(err); gone != removed {
			t.Errorf("%s: removed %v, want %v", name, gone, removed)
		}
	}
}
