//go:build unix

package cli

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// checkPrivate refuses a directory that another user owns, or that its
// group or others may write to (sticky or not: in /tmp anyone may create
// the names foyer is about to use).
func checkPrivate(fi fs.FileInfo) error {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("it belongs to user %d, not to you (user %d); another user could replace the credentials foyer writes there: choose a directory of yours", st.Uid, os.Geteuid())
	}
	if perm := fi.Mode().Perm(); perm&0o022 != 0 {
		return fmt.Errorf("its group or other users may write to it (mode %04o), and so replace the credentials foyer writes there: chmod go-w it, or choose another directory", perm)
	}
	return nil
}
