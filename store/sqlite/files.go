package sqlite

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"runtime"
)

// createPrivate creates the database file readable and writable by its
// owner only (0600), unless it exists. SQLite gives the -wal and -shm files
// it creates beside it the database file's permissions. The ledger holds
// every address foyer invited, redeem URLs until foyer's own email is sent,
// and the audit log: nobody else on the machine should read it. An existing
// file with looser permissions is used as it is, with a warning that says
// how to fix it.
func createPrivate(path string, log *slog.Logger) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case err == nil:
		return f.Close()
	case !errors.Is(err, fs.ErrExist):
		return fmt.Errorf("create SQLite database %s: %w", path, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("open SQLite database %s: %w", path, err)
	}
	if fi.IsDir() {
		return fmt.Errorf("open SQLite database %s: it is a directory", path)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		log.Warn("the ledger can be read by other users of this machine; it holds addresses and the audit log",
			"path", path, "mode", fmt.Sprintf("%04o", fi.Mode().Perm()), "fix", "chmod 600 "+path)
	}
	return nil
}
