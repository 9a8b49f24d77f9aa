package cli

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/foyer-dev/foyer/internal/proc"
)

// spoolKinds are the temporary files apply keeps while it runs: the input
// as read, and the plan as shown.
var spoolKinds = []string{"input", "plan"}

// createSpool makes a private temporary file named for this process,
// foyer-KIND-PID-RANDOM.EXT, so that a later run can tell the files of a
// process that was killed and remove them (removeOrphanSpools).
func createSpool(kind, ext string) (*os.File, error) {
	return os.CreateTemp("", fmt.Sprintf("foyer-%s-%d-*%s", kind, os.Getpid(), ext))
}

// removeOrphanSpools removes from dir the spools of foyer processes that
// have ended without removing them (SIGKILL, a power cut). A file whose
// process may still run, or that is not ours to remove, stays.
func removeOrphanSpools(dir string, log *slog.Logger) {
	for _, kind := range spoolKinds {
		removeOrphans(dir, "foyer-"+kind+"-", "", log)
	}
}

// removeOrphans removes the files in dir named prefix, a pid, "-", anything
// and suffix whose process has ended: the temporary files of a foyer
// killed at work.
func removeOrphans(dir, prefix, suffix string, log *slog.Logger) {
	matches, err := filepath.Glob(filepath.Join(dir, globEscape(prefix)+"*"+suffix))
	if err != nil {
		return
	}
	for _, path := range matches {
		pidText, _, ok := strings.Cut(strings.TrimPrefix(filepath.Base(path), prefix), "-")
		pid, err := strconv.Atoi(pidText)
		if !ok || err != nil || !proc.Ended(pid) {
			continue
		}
		if err := os.Remove(path); err == nil {
			log.Info("removed a temporary file an ended foyer process left", "path", path, "pid", pid)
		}
	}
}
