// Package proc answers one question about another process on this host:
// has it ended? foyer asks it before taking over the ledger lease of a
// process that died, and before removing the temporary files one left.
package proc

// Ended reports whether no process with this pid runs on this host. It
// answers false when it cannot tell (an unknown platform, no permission to
// ask), so that callers act only on certainty.
func Ended(pid int) bool {
	if pid <= 0 {
		return false
	}
	return ended(pid)
}
