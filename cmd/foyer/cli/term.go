package cli

import (
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/term"
)

// fileTerminal is Env.Terminal for the process's own files: f is a terminal
// when it is an *os.File on one; its width is the terminal's, else
// $COLUMNS.
func fileTerminal(getenv func(string) string) func(any) (bool, int) {
	return func(f any) (bool, int) {
		file, ok := f.(*os.File)
		if !ok || file == nil || !term.IsTerminal(int(file.Fd())) {
			return false, 0
		}
		if w, _, err := term.GetSize(int(file.Fd())); err == nil && w > 0 {
			return true, w
		}
		w, _ := strconv.Atoi(getenv("COLUMNS"))
		return true, max(w, 0)
	}
}

// openControllingTerminal opens the terminal the process was started from,
// whatever its standard input is.
func openControllingTerminal() (io.ReadCloser, error) {
	name := "/dev/tty"
	if runtime.GOOS == "windows" {
		name = "CONIN$"
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	if !term.IsTerminal(int(f.Fd())) {
		f.Close()
		return nil, os.ErrNotExist
	}
	return f, nil
}

// program returns how hints should name the binary: as it was invoked
// ("foyer" from $PATH, "./foyer", "/opt/foyer/foyer"), or "go run
// ./cmd/foyer" for a binary that go run built in its temporary directory.
func (env *Env) program() string {
	p := env.Program
	switch {
	case p == "":
		return "foyer"
	case strings.Contains(filepath.ToSlash(p), "/go-build") && strings.Contains(filepath.ToSlash(p), "/exe/"):
		return "go run ./cmd/foyer"
	case runtime.GOOS == "windows":
		return strings.TrimSuffix(p, ".exe")
	}
	return p
}
