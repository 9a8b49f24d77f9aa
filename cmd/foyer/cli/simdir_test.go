package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/foyer-dev/foyer/sim"
	"github.com/foyer-dev/foyer/sim/simtest"
)

// simFileNames are the files `foyer sim` writes into its directory.
var simFileNames = []string{"ca.pem", "client-secret", "client.pem", "foyer.yaml"}

// TestSimDirDoesNotFollowSymlinks plants a symbolic link at every name the
// sim writes, each to a file outside with mode 0644: the files outside
// keep their content and mode, and the names become the sim's own files.
func TestSimDirDoesNotFollowSymlinks(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("symbolic links need a privilege on Windows")
	}
	s := simtest.Start(t, sim.Options{})
	dir, outside := t.TempDir(), t.TempDir()
	for _, name := range append(simFileNames, "guests.csv") {
		target := filepath.Join(outside, name)
		if err := os.WriteFile(target, []byte("precious "+name), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(target, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	ready, err := writeSimFiles(s, dir, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeDemoFile(dir, "guests.csv", []byte("email\n")); err != nil {
		t.Fatal(err)
	}
	want := map[string]os.FileMode{"ca.pem": 0o644, "client-secret": 0o600, "client.pem": 0o600, "foyer.yaml": 0o644, "guests.csv": 0o644}
	for name, mode := range want {
		target := filepath.Join(outside, name)
		b, err := os.ReadFile(target)
		fi, _ := os.Stat(target)
		if err != nil || string(b) != "precious "+name || fi.Mode().Perm() != 0o644 {
			t.Errorf("%s, outside the directory, was changed: %q %v (%v)", name, b, fi.Mode(), err)
		}
		fi, err = os.Lstat(filepath.Join(dir, name))
		if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != mode {
			t.Errorf("%s in the directory: %v %v, want a regular file with mode %v", name, fi.Mode(), err, mode)
		}
	}
	if b, _ := os.ReadFile(ready.SecretFile); strings.TrimSpace(string(b)) != s.ClientSecret() {
		t.Error("client-secret does not hold the secret")
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// runSimCmd runs `foyer ARGS` in-process until it prints its ready line
// (then stops it and fails) or exits; it returns the exit code and stderr.
func runRefused(t *testing.T, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	outR, outW := io.Pipe()
	stderr := &syncWriter{b: &strings.Builder{}}
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, Env{Args: args, Stdout: outW, Stderr: stderr})
		outW.Close()
	}()
	line, _ := bufio.NewReader(outR).ReadString('\n')
	go io.Copy(io.Discard, outR)
	if line != "" {
		t.Errorf("%v started: %s", args, line)
		cancel()
	}
	return <-done, stderr.String()
}

func TestSimDirRefusesUnsafeDirectories(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("Windows guards directories with ACLs, not mode bits")
	}
	base := t.TempDir()
	mk := func(name string, mode os.FileMode) string {
		d := filepath.Join(base, name)
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(d, mode); err != nil {
			t.Fatal(err)
		}
		return d
	}
	link := filepath.Join(base, "link")
	if err := os.Symlink(mk("target", 0o700), link); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(base, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		dir, msg string
	}{
		{mk("world", 0o777), "other users may write to it (mode 0777)"},
		{mk("sticky", 0o1777), "other users may write to it (mode 0777)"},
		{mk("group", 0o770), "other users may write to it (mode 0770)"},
		{link, "is a symbolic link"},
		{file, "is not a directory"},
	}
	if os.Geteuid() == 0 {
		// As root, a directory handed to nobody (65534).
		d := mk("nobody", 0o755)
		if err := os.Chown(d, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		tests = append(tests, struct{ dir, msg string }{d, "belongs to user 65534"})
	} else {
		t.Log("not root: the directory of another user is not tried")
	}
	for _, tt := range tests {
		for _, cmd := range []string{"sim", "demo"} {
			code, stderr := runRefused(t, cmd, "--dir", tt.dir)
			if code != ExitError || !strings.Contains(stderr, tt.msg) {
				t.Errorf("%s --dir %s: exit %d, stderr %q; want %d and %q", cmd, tt.dir, code, stderr, ExitError, tt.msg)
			}
			if names, _ := filepath.Glob(filepath.Join(tt.dir, "*")); len(names) > 0 && tt.dir != file {
				t.Errorf("%s --dir %s wrote %v", cmd, tt.dir, names)
			}
		}
	}
}

// TestSimHelperProcess is `foyer sim` run by TestSimDirLock in a process of
// its own, so that it can be killed with SIGKILL.
func TestSimHelperProcess(t *testing.T) {
	dir := os.Getenv("FOYER_SIM_HELPER_DIR")
	if dir == "" {
		t.Skip("run by TestSimDirLock")
	}
	os.Exit(Run(context.Background(), Env{Args: []string{"sim", "--dir", dir, "--seed", "5"}, Stdout: os.Stdout, Stderr: os.Stderr}))
}

// TestSimDirLock: while a sim serves from a directory, a second sim and a
// demo there are refused, naming its process, and leave its files alone;
// once it is killed (SIGKILL, so its pid file stays), a new sim takes the
// directory over, and removes the pid file when it stops.
func TestSimDirLock(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("SIGKILL")
	}
	t.Parallel()
	dir := t.TempDir()
	helper := exec.Command(os.Args[0], "-test.run=^TestSimHelperProcess$")
	helper.Env = append(os.Environ(), "FOYER_SIM_HELPER_DIR="+dir)
	out, err := helper.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var helperErr strings.Builder
	helper.Stderr = &helperErr
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { helper.Wait(); close(exited) }()
	t.Cleanup(func() { helper.Process.Kill(); <-exited })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("the first sim's ready line: %v (%s)", err, helperErr.String())
	}
	var first simReady
	if err := json.Unmarshal([]byte(line), &first); err != nil {
		t.Fatal(err)
	}
	before := readDir(t, dir)
	pid := fmt.Sprint(helper.Process.Pid)
	if strings.TrimSpace(before[simLockName]) != pid {
		t.Errorf("sim.pid holds %q, want %s", before[simLockName], pid)
	}

	for _, args := range [][]string{{"sim", "--dir", dir, "--seed", "6"}, {"demo", "--dir", dir}} {
		code, stderr := runRefused(t, args...)
		if code != ExitError || !strings.Contains(stderr, "in use: foyer process "+pid) {
			t.Errorf("%v while another sim serves: exit %d, stderr %q", args, code, stderr)
		}
	}
	after := readDir(t, dir)
	for name, b := range before {
		if after[name] != b {
			t.Errorf("%s changed while the first sim served", name)
		}
	}
	if len(after) != len(before) {
		t.Errorf("files before %d, after %d", len(before), len(after))
	}

	if err := helper.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-exited
	if _, err := os.Stat(filepath.Join(dir, simLockName)); err != nil {
		t.Fatalf("the killed sim's pid file: %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	outR, outW := io.Pipe()
	stderr := &syncWriter{b: &strings.Builder{}}
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, Env{Args: []string{"sim", "--dir", dir, "--seed", "7"}, Stdout: outW, Stderr: stderr})
		outW.Close()
	}()
	line, err = bufio.NewReader(outR).ReadString('\n')
	go io.Copy(io.Discard, outR)
	if err != nil {
		t.Fatalf("a sim after the first was killed: %v (%s)", err, stderr.String())
	}
	if b, _ := os.ReadFile(filepath.Join(dir, simLockName)); strings.TrimSpace(string(b)) != fmt.Sprint(os.Getpid()) {
		t.Errorf("sim.pid holds %q after the takeover, want %d", b, os.Getpid())
	}
	if b, _ := os.ReadFile(first.SecretFile); string(b) == before["client-secret"] {
		t.Error("the new sim did not write its own secret")
	}
	cancel()
	select {
	case code := <-done:
		if code != ExitOK {
			t.Errorf("exit %d: %s", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("foyer sim did not stop")
	}
	if _, err := os.Stat(filepath.Join(dir, simLockName)); !os.IsNotExist(err) {
		t.Errorf("sim.pid after the sim stopped: %v", err)
	}
}

func readDir(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		m[e.Name()] = string(b)
	}
	return m
}
