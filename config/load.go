package config

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/lexer"
	"github.com/goccy/go-yaml/parser"

	"github.com/foyer-dev/foyer"
)

// Problem is one thing wrong with a configuration, and where.
type Problem struct {
	File   string
	Line   int // 0 when the problem has no place in the file
	Column int
	Msg    string

	path string // the go-yaml path the problem is about, if known
}

func (p Problem) String() string {
	if p.Line == 0 {
		return p.File + ": " + p.Msg
	}
	return fmt.Sprintf("%s:%d:%d: %s", p.File, p.Line, p.Column, p.Msg)
}

// Problems is every problem found in a configuration. It is the error Load
// and Parse return when the file is wrong.
type Problems []Problem

func (ps Problems) Error() string {
	const shown = 50 // a file that is not a configuration at all has thousands
	lines := make([]string, 0, min(len(ps), shown+1))
	for i, p := range ps {
		if i == shown {
			lines = append(lines, fmt.Sprintf("… and %d more", len(ps)-shown))
			break
		}
		lines = append(lines, p.String())
	}
	if len(ps) == 1 {
		return "configuration: " + lines[0]
	}
	return fmt.Sprintf("configuration has %d problems:\n  %s", len(ps), strings.Join(lines, "\n  "))
}

// ErrorCode is invalid: the file is wrong.
func (ps Problems) ErrorCode() string { return foyer.EINVALID }

var _ foyer.Coder = Problems(nil)

// source is the parsed file, kept to find where keys are.
type source struct {
	name string
	dir  string
	file *ast.File
}

// pos returns the line and column of the node at path (a go-yaml path such
// as $.profiles.partners.groups[0]), or of its nearest existing parent.
func (s *source) pos(path string) (line, col int) {
	if s == nil || s.file == nil {
		return 0, 0
	}
	for path != "" && path != "$" {
		if p, err := yaml.PathString(path); err == nil {
			if n, err := p.FilterFile(s.file); err == nil && n != nil {
				if tk := n.GetToken(); tk != nil && tk.Position != nil {
					return tk.Position.Line, tk.Position.Column
				}
			}
		}
		path = parentPath(path)
	}
	return 0, 0
}

func parentPath(p string) string {
	if strings.HasSuffix(p, "]") {
		if i := strings.LastIndexByte(p, '['); i > 0 {
			return p[:i]
		}
	}
	if i := strings.LastIndexByte(p, '.'); i > 0 {
		return p[:i]
	}
	return ""
}

// Load reads and checks the configuration file at path. It returns when
// ctx is done even if the file never finishes arriving (a FIFO no one
// writes to); what it was waiting on is then abandoned. Risky things that
// are allowed (a file others may change, secret files others may read)
// are in the Config's Warnings.
func Load(ctx context.Context, path string) (*Config, error) {
	type loaded struct {
		c   *Config
		err error
	}
	done := make(chan loaded, 1)
	go func() {
		c, err := load(ctx, path)
		done <- loaded{c, err}
	}()
	select {
	case r := <-done:
		if r.err != nil && ctx.Err() != nil { // the read was cut short
			break
		}
		return r.c, r.err
	case <-ctx.Done():
	}
	return nil, fmt.Errorf("read configuration %s: %w", path, context.Cause(ctx))
}

func load(ctx context.Context, path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read configuration: %w", err)
	}
	defer f.Close()
	// A pipe's Read returns when the file is closed.
	defer context.AfterFunc(ctx, func() { f.Close() })()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read configuration: %w", err)
	}
	if len(data) > maxFileSize {
		return nil, tooLarge(path, len(data))
	}
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read configuration: %w", err)
	}
	c, err := Parse(path, data)
	if err != nil {
		return nil, err
	}
	c.warnings = append(append(fileModeWarnings(path, fi.Mode()), c.secretFileWarnings()...), c.warnings...)
	return c, nil
}

// Parse reads and checks a configuration. name is the file's path, used in
// messages and to resolve relative paths in the file. It reads no file.
func Parse(name string, data []byte) (*Config, error) {
	if len(data) > maxFileSize {
		return nil, tooLarge(name, len(data))
	}
	if tokenBound(data, maxTokens) > maxTokens {
		return nil, Problems{{File: name, Msg: fmt.Sprintf("the file has more than %s YAML tokens (keys, values, brackets); a configuration has a few hundred", commas(maxTokens))}}
	}
	tokens := lexer.Tokenize(string(data))
	if ps := checkTokens(name, tokens); len(ps) > 0 {
		return nil, ps
	}
	f, err := parser.Parse(tokens, 0)
	if err != nil {
		return nil, Problems{yamlProblem(name, err)}
	}
	src := &source{name: name, dir: filepath.Dir(name), file: f}
	c := &Config{src: src}
	shape := append(inlineSecrets(src), decodeFile(name, f, c)...)
	c.defaults()
	ps := append(shape, judged(c.validate(), shape)...)
	if len(ps) > 0 {
		sort.SliceStable(ps, func(i, j int) bool {
			if ps[i].Line != ps[j].Line {
				return ps[i].Line < ps[j].Line
			}
			return ps[i].Column < ps[j].Column
		})
		return nil, ps
	}
	c.warnings = c.deprecations()
	return c, nil
}

// judged returns the problems of checks whose part of the file has a sound
// shape: a tenant with a misspelt key is not also told that a key is
// missing.
func judged(checks, shape Problems) Problems {
	broken := map[string]bool{} // every path at or above a shape problem
	for _, s := range shape {
		for p := s.path; p != "" && !broken[p]; p = parentPath(p) {
			broken[p] = true
		}
	}
	var out Problems
	for _, p := range checks {
		if !broken[p.path] {
			out = append(out, p)
		}
	}
	return out
}

func yamlProblem(name string, err error) Problem {
	var ye yaml.Error
	if errors.As(err, &ye) {
		p := Problem{File: name, Msg: ye.GetMessage()}
		if tk := ye.GetToken(); tk != nil && tk.Position != nil {
			p.Line, p.Column = tk.Position.Line, tk.Position.Column
		}
		return p
	}
	return Problem{File: name, Msg: err.Error()}
}

// secretKeys are keys people write when they put a secret in the file. They
// get a message that says where secrets go instead of "unknown field".
var secretKeys = map[string]string{
	"secret":        "write secret_env or secret_file, not the secret itself",
	"client_secret": "write secret_env or secret_file, not the secret itself",
	"password":      "write password_env or password_file, not the password itself",
	"url":           "webhook URLs carry tokens: write url_env or url_file",
}

func inlineSecrets(src *source) Problems {
	var ps Problems
	for _, doc := range src.file.Docs {
		ast.Walk(visitor(func(n ast.Node) {
			mv, ok := n.(*ast.MappingValueNode)
			if !ok {
				return
			}
			key := strings.ToLower(mv.Key.String())
			if msg, bad := secretKeys[key]; bad {
				tk := mv.Key.GetToken()
				ps = append(ps, Problem{File: src.name, Line: tk.Position.Line, Column: tk.Position.Column, path: mv.GetPath(),
					Msg: fmt.Sprintf("%q: secrets are not written in the configuration; %s", key, msg)})
			}
		}), doc)
	}
	return ps
}

type visitor func(ast.Node)

func (v visitor) Visit(n ast.Node) ast.Visitor { v(n); return v }

// UnmarshalYAML reads "90d", "2w" or a Go duration.
func (d *Duration) UnmarshalYAML(b []byte) error {
	s := strings.Trim(strings.TrimSpace(string(b)), `"'`)
	v, err := ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration as ParseDuration reads it back: whole
// days as "3d", anything else in Go's notation ("90m0s").
func (d Duration) MarshalYAML() (any, error) {
	const day = 24 * time.Hour
	if v := time.Duration(d); v > 0 && v%day == 0 {
		return strconv.FormatInt(int64(v/day), 10) + "d", nil
	}
	return time.Duration(d).String(), nil
}

// ParseDuration reads a duration in days ("90d"), weeks ("2w") or Go's
// notation ("36h", "90m").
func ParseDuration(s string) (time.Duration, error) {
	if s == "" || s == "0" {
		return 0, nil
	}
	for suffix, unit := range map[string]time.Duration{"d": 24 * time.Hour, "w": 7 * 24 * time.Hour} {
		if n, ok := strings.CutSuffix(s, suffix); ok {
			v, err := strconv.Atoi(n)
			if err != nil || v < 0 {
				return 0, fmt.Errorf("duration %q: want a whole number of days or weeks, e.g. 90d", s)
			}
			return time.Duration(v) * unit, nil
		}
	}
	v, err := time.ParseDuration(s)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("duration %q: want e.g. 90d, 2w or 36h", s)
	}
	return v, nil
}

// Path resolves a path written in the file relative to the file's
// directory.
func (c *Config) Path(p string) string {
	if p == "" || filepath.IsAbs(p) || c.src == nil {
		return p
	}
	return filepath.Join(c.src.dir, p)
}

// Where returns "file:line:col" for a go-yaml path in the file, for
// messages about things found later (a group that does not exist in the
// tenant, say).
func (c *Config) Where(path string) string {
	if c.src == nil {
		return ""
	}
	line, col := c.src.pos(path)
	if line == 0 {
		return c.src.name
	}
	return fmt.Sprintf("%s:%d:%d", c.src.name, line, col)
}

// Name returns the file's name as given to Load or Parse.
func (c *Config) Name() string {
	if c.src == nil {
		return ""
	}
	return c.src.name
}

// ProfileNames returns the profiles' names, sorted.
func (c *Config) ProfileNames() []string { return sortedKeys(c.Profiles) }

// TenantNames returns the tenants' names, sorted.
func (c *Config) TenantNames() []string { return sortedKeys(c.Tenants) }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
