package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/foyer-dev/foyer/internal/proc"
)

// The directory `foyer sim` and `foyer demo` write into holds a client
// secret and a private key, and a foyer.yaml that later commands trust. So
// it must be a directory only this user can change: not a symbolic link
// (whose target someone else may have chosen), owned by this user, writable
// by neither group nor others. Files are written through an os.Root opened
// on the checked directory, as new temporary files (O_EXCL) renamed over
// their names: a symbolic link planted at a name is replaced, never
// followed, and nothing but those new files is ever chmod-ed.

// simLockName is the file that says which process serves from a directory.
const simLockName = "sim.pid"

// simDir makes the output directory, or a temporary one, and checks it
// (openSimDir). It returns its absolute path.
func simDir(dir string) (string, error) {
	if dir == "" {
		d, err := os.MkdirTemp("", "foyer-sim-")
		if err != nil {
			return "", fmt.Errorf("make a directory for the sim's files: %w", err)
		}
		return d, nil
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("--dir %s: %w", dir, err)
	}
	if _, err := os.Lstat(abs); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(abs, 0o700); err != nil {
			return "", fmt.Errorf("--dir %s: %w", dir, err)
		}
	}
	root, err := openSimDir(abs)
	if err != nil {
		return "", err
	}
	root.Close()
	return abs, nil
}

// openSimDir opens dir for writing the sim's files, refusing a directory
// that someone else could change (see the top of this file).
func openSimDir(dir string) (*os.Root, error) {
	fi, err := os.Lstat(dir)
	if err != nil {
		return nil, fmt.Errorf("--dir %s: %w", dir, err)
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return nil, fmt.Errorf("--dir %s is a symbolic link: name the directory itself, so that foyer can check who may change it", dir)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("--dir %s is not a directory", dir)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("--dir %s: %w", dir, err)
	}
	// Check the directory opened, not the name: a directory swapped in
	// after the Lstat is refused.
	opened, err := root.Stat(".")
	if err == nil && !os.SameFile(fi, opened) {
		err = errors.New("it was replaced while being opened")
	}
	if err == nil {
		err = checkPrivate(opened)
	}
	if err != nil {
		root.Close()
		return nil, fmt.Errorf("--dir %s: %w", dir, err)
	}
	return root, nil
}

// writeNewFile writes data to name in root with exactly this mode: into a
// temporary file created exclusively, synced, then renamed over name.
// Rename replaces whatever name was, a symbolic link included, and never
// writes through it.
func writeNewFile(root *os.Root, name string, data []byte, mode os.FileMode) (err error) {
	var (
		f   *os.File
		tmp string
	)
	for range 10 {
		tmp = "." + name + "." + strconv.FormatUint(rand.Uint64(), 36) + ".tmp"
		f, err = root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if !errors.Is(err, fs.ErrExist) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			root.Remove(tmp)
			err = fmt.Errorf("write %s: %w", name, err)
		}
	}()
	// Through the descriptor, so that only the file just made changes
	// mode, whatever the umask took off.
	if err = f.Chmod(mode); err != nil {
		return err
	}
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return root.Rename(tmp, name)
}

// lockSimDir claims dir for this process, so that a second `foyer sim` or
// `foyer demo` does not overwrite the files of a tenant that still serves
// from it. It writes DIR/sim.pid with this process's id atomically (a new
// file hard-linked to the name, which fails if the name exists). A pid file
// whose process has ended (a sim killed with SIGKILL) is taken over; one
// whose process runs is refused, naming it. unlock removes the file if it
// is still this process's.
//
// Two processes that find the same stale file at the same moment could
// both remove it, and the later could remove the other's new one; the
// window is the time between a read and a remove.
func lockSimDir(root *os.Root, dir string) (unlock func(), err error) {
	me := strconv.Itoa(os.Getpid())
	tmp := "." + simLockName + "." + me + "." + strconv.FormatUint(rand.Uint64(), 36)
	if err := writeNewFile(root, tmp, []byte(me+"\n"), 0o644); err != nil {
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	defer root.Remove(tmp)
	path := filepath.Join(dir, simLockName)
	for range 3 {
		err := root.Link(tmp, simLockName)
		if err == nil {
			return func() {
				if b, err := root.ReadFile(simLockName); err == nil && strings.TrimSpace(string(b)) == me {
					root.Remove(simLockName)
				}
			}, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("lock %s: %w", dir, err)
		}
		b, err := root.ReadFile(simLockName)
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed meanwhile
		}
		if err != nil {
			return nil, fmt.Errorf("lock %s: %w", dir, err)
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 0 {
			return nil, fmt.Errorf("%s holds %q, not a process id: if no foyer sim or demo serves from %s, remove it", path, b, dir)
		}
		if !proc.Ended(pid) {
			return nil, fmt.Errorf("%s is in use: foyer process %d serves an emulated tenant from it (%s); stop it, or choose another --dir", dir, pid, path)
		}
		// Left by a process that was killed: take it over.
		if err := root.Remove(simLockName); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("lock %s: remove the pid file process %d left: %w", dir, pid, err)
		}
	}
	return nil, fmt.Errorf("lock %s: %s keeps changing", dir, path)
}
