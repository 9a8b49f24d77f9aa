package cli

import (
	"bufio"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/notify"
)

// resultsFile is the CSV --results names. It is made ready before anything
// is planned or sent: a private temporary file (0600, created with O_EXCL)
// beside the path, so that a path that cannot be written fails the command
// while nothing has happened yet. Once every row is written it is renamed
// over the path: whatever was there, a planted symbolic link included, is
// replaced and never followed or written through.
type resultsFile struct {
	path string
	tmp  *os.File
	buf  *bufio.Writer
	w    *notify.ResultsWriter
	err  error // the first write that failed
}

// prepareResults makes the results file ready, or returns nil for no path.
func prepareResults(path string, log *slog.Logger) (*resultsFile, error) {
	if path == "" {
		return nil, nil
	}
	if fi, err := os.Lstat(path); err == nil && fi.IsDir() {
		return nil, usageError("--results %s is a directory: name a file", path)
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	removeOrphanResults(dir, base, log)
	tmp, err := os.CreateTemp(dir, resultsTempPrefix(base)+strconv.Itoa(os.Getpid())+"-*.tmp")
	if err != nil {
		return nil, withCode(ExitError, fmt.Errorf("--results %s: cannot write there: %w", path, unwrapPath(err)))
	}
	buf := bufio.NewWriterSize(tmp, 1<<16)
	return &resultsFile{path: path, tmp: tmp, buf: buf, w: notify.NewResultsWriter(buf)}, nil
}

// resultsTempPrefix is the start of the temporary files of results written
// to base: hidden, and named for the process that writes them.
func resultsTempPrefix(base string) string { return "." + base + ".foyer-" }

// removeOrphanResults removes the temporary results files that foyer
// processes which have ended (killed during a run) left beside base.
func removeOrphanResults(dir, base string, log *slog.Logger) {
	removeOrphans(dir, resultsTempPrefix(base), ".tmp", log)
}

// globEscape escapes the characters filepath.Match treats specially.
func globEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`)
	if filepath.Separator == '\\' {
		r = strings.NewReplacer(`*`, `[*]`, `?`, `[?]`, `[`, `[[]`)
	}
	return r.Replace(s)
}

// unwrapPath drops the temporary file's random name from an error.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// write writes a row; the first error is kept for commit.
func (r *resultsFile) write(row foyer.Row) {
	if r == nil || r.err != nil {
		return
	}
	r.err = r.w.Write(row)
}

// commit writes what is buffered and puts the file at its path.
func (r *resultsFile) commit() error {
	if r == nil {
		return nil
	}
	err := r.err
	if err == nil {
		err = r.w.Flush()
	}
	if err == nil {
		err = r.buf.Flush()
	}
	if err == nil {
		err = r.tmp.Sync()
	}
	if cerr := r.tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(r.tmp.Name(), r.path)
	}
	if err != nil {
		os.Remove(r.tmp.Name())
		return fmt.Errorf("write the results to %s: %w", r.path, unwrapPath(err))
	}
	r.tmp = nil
	return nil
}

// discard removes the temporary file, unless commit put it in place.
func (r *resultsFile) discard() {
	if r == nil || r.tmp == nil {
		return
	}
	r.tmp.Close()
	os.Remove(r.tmp.Name())
}
