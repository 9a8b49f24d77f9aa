package proc_test

import (
	"os"
	"os/exec"
	"testing"

	"github.com/foyer-dev/foyer/internal/proc"
)

func TestEnded(t *testing.T) {
	t.Parallel()
	if proc.Ended(os.Getpid()) {
		t.Error("this process is said to have ended")
	}
	for _, pid := range []int{0, -1} {
		if proc.Ended(pid) {
			t.Errorf("pid %d is said to have ended; it names no process and should be unknown", pid)
		}
	}
	// A child that ran and was waited for has ended. (Its pid could be
	// reused in between; on a test machine that is vanishingly rare.)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	if !proc.Ended(cmd.Process.Pid) {
		t.Errorf("child %d exited and was waited for, but is not said to have ended", cmd.Process.Pid)
	}
}
