//go:build unix

package proc

import (
	"errors"
	"syscall"
)

// ended sends signal 0, which checks the pid without signalling: ESRCH
// means there is no such process; EPERM means there is one we may not
// signal.
func ended(pid int) bool {
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}
