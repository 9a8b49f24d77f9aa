package cli_test

import (
	"database/sql"
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

	"github.com/foyer-dev/foyer/cmd/foyer/cli"
	"github.com/foyer-dev/foyer/sim"
	"github.com/foyer-dev/foyer/sim/chaos"
	"github.com/foyer-dev/foyer/sim/simtest"
)

// These tests prove foyer's promise at the level of processes: real foyer
// binaries against the emulated tenant, killed, paused and racing each
// other, with the tenant's own count of invitations per address as the
// judge.

// proc is a foyer process the test started.
type proc struct {
	cmd    *exec.Cmd
	out    lockedBuffer // stdout and stderr
	stdin  io.WriteCloser
	exited chan error
}

func startProc(t *testing.T, cmd *exec.Cmd) *proc {
	t.Helper()
	p := &proc{cmd: cmd, exited: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = &p.out, &p.out
	var err error
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGCONT)
		_ = cmd.Process.Kill()
		<-p.exited
		p.exited <- nil
	})
	return p
}

// wait waits for the process to end, at most d.
func (p *proc) wait(t *testing.T, d time.Duration) error {
	t.Helper()
	select {
	case err := <-p.exited:
		p.exited <- err
		return err
	case <-time.After(d):
		t.Fatalf("the process did not end within %s:\n%s", d, p.out.String())
		return nil
	}
}

// eventually polls cond every few milliseconds, failing after d.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not so within %s", what, d)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// peopleFile writes a CSV of n new people and returns its path and their
// addresses.
func peopleFile(t *testing.T, dir, prefix string, n int) (string, []string) {
	t.Helper()
	var b strings.Builder
	b.WriteString("name,email\n")
	var emails []string
	for i := range n {
		e := fmt.Sprintf("%s.%03d@partner%d.example", prefix, i, i%4)
		fmt.Fprintf(&b, "Person %d,%s\n", i, e)
		emails = append(emails, e)
	}
	path := filepath.Join(dir, prefix+".csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, emails
}

// invitedOnce fails the test unless the tenant invited every address
// exactly once and nobody else.
func invitedOnce(t *testing.T, s *sim.Server, emails []string) {
	t.Helper()
	got := s.Stats().InvitationsByEmail
	for _, e := range emails {
		if got[e] != 1 {
			t.Errorf("%s was invited %d times", e, got[e])
		}
	}
	if len(got) != len(emails) {
		t.Errorf("%d addresses were invited, want %d", len(got), len(emails))
	}
}

// processWorld is an emulated tenant with its configuration in dir (with
// extra appended) and a built foyer, for tests that run foyer processes.
func processWorld(t *testing.T, o sim.Options, extra string) (bin string, s *sim.Server, dir, config string) {
	t.Helper()
	needProcesses(t)
	bin = foyerBinary(t)
	s = simtest.Start(t, o)
	dir = t.TempDir()
	config, err := cli.WriteSimFiles(s, dir)
	if err != nil {
		t.Fatal(err)
	}
	if extra != "" {
		appendFile(t, config, extra)
	}
	return bin, s, dir, config
}

// applyArgs is an apply of file that does not ask.
func applyArgs(config, file string) []string {
	return []string{"apply", "--yes", "--output", "json", "--config", config, "--profile", "partners", file}
}

func needProcesses(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs foyer processes")
	}
	if runtime.GOOS == "windows" {
		t.Skip("signals and pseudo-terminals")
	}
}

// TestPromptLeftOpenWhileAnotherApplyRuns: apply B plans and waits at its
// prompt; apply A of the same people starts meanwhile. A must not invite
// them under B's feet (B holds the ledger's lease from before it planned),
// and when B is answered, everyone is invited once.
func TestPromptLeftOpenWhileAnotherApplyRuns(t *testing.T) {
	if _, err := exec.LookPath("script"); err != nil {
		t.Skip("needs script(1) for a pseudo-terminal")
	}
	t.Parallel()
	bin, s, dir, config := processWorld(t, sim.Options{}, "")
	file, emails := peopleFile(t, dir, "prompt", 12)
	args := fmt.Sprintf("%s apply --config %s --profile partners %s", bin, config, file)
	// B on a pseudo-terminal, so that it asks.
	b := startProc(t, exec.Command("script", "-qfec", args, "/dev/null"))
	eventually(t, time.Minute, "B asks its question", func() bool { return strings.Contains(b.out.String(), "'yes'") })

	a := startProc(t, exec.Command(bin, applyArgs(config, file)...))
	errA := a.wait(t, time.Minute)
	t.Logf("A, while B waits at its prompt: %v\n%s", errA, a.out.String())
	if n := len(s.Stats().InvitationsByEmail); n != 0 && errA == nil {
		// A may also wait for the lease and run after B; it must not run
		// while B's plan waits.
		t.Fatalf("A invited %d people while B's plan waited for its answer", n)
	}

	if _, err := io.WriteString(b.stdin, "yes\n"); err != nil {
		t.Fatal(err)
	}
	if err := b.wait(t, 2*time.Minute); err != nil {
		t.Fatalf("B: %v\n%s", err, b.out.String())
	}
	// A again, now that B is done: everyone exists, nobody is invited.
	a2 := startProc(t, exec.Command(bin, applyArgs(config, file)...))
	if err := a2.wait(t, time.Minute); err != nil {
		t.Fatalf("A after B: %v\n%s", err, a2.out.String())
	}
	invitedOnce(t, s, emails)
}

// TestKilledWhileInvitationInFlightWithReplicationLag: foyer is killed while
// invitations are on their way (the tenant carried them out, their answers
// held back) and the tenant's list queries lag longer than the lookup
// grace. The next apply finds the guests by the direct read and invites
// nobody twice.
func TestKilledWhileInvitationInFlightWithReplicationLag(t *testing.T) {
	t.Parallel()
	bin, s, dir, config := processWorld(t, sim.Options{ReplicationDelay: 8 * time.Second, AnswerDelay: 2 * time.Second,
		Latency: chaos.Latency{Median: 2 * time.Millisecond, P99: 10 * time.Millisecond}},
		"pacing:\n  lookup_grace: 1s\n")
	file, emails := peopleFile(t, dir, "inflight", 16)
	args := applyArgs(config, file)
	p := startProc(t, exec.Command(bin, args...))
	// The answers are held for 2 s: once the tenant counts invitations,
	// foyer has sent them and knows nothing of them yet.
	eventually(t, time.Minute, "invitations reach the tenant", func() bool { return invitations(s) >= 4 })
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.wait(t, 10*time.Second)
	sent := invitations(s)
	t.Logf("killed with %d invitations carried out and unanswered", sent)

	// List queries will not show those guests for 8 s; the grace is 1 s.
	again := startProc(t, exec.Command(bin, args...))
	if err := again.wait(t, 2*time.Minute); err != nil {
		t.Fatalf("the apply after the kill: %v\n%s", err, again.out.String())
	}
	invitedOnce(t, s, emails)
}

// pauseOutsideTransaction stops p (SIGSTOP) at a moment it holds no write
// transaction on the SQLite ledger at path.
func pauseOutsideTransaction(t *testing.T, p *proc, path string) {
	t.Helper()
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(300)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	for try := 0; ; try++ {
		if err := p.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		_, err := db.Exec("BEGIN IMMEDIATE; ROLLBACK;")
		if err == nil {
			return
		}
		if try == 50 {
			t.Fatalf("could not stop foyer outside a transaction: %v", err)
		}
		if err := p.cmd.Process.Signal(syscall.SIGCONT); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(10+try) * time.Millisecond)
	}
}

// TestPausedLeaseHolderSendsNothingItHeld: foyer is stopped (SIGSTOP, as
// Ctrl-Z or a laptop asleep would) longer than its lease, another apply
// takes over and works the run, and the first is resumed (SIGCONT). It must
// not send the invitations it was holding when it stopped.
func TestPausedLeaseHolderSendsNothingItHeld(t *testing.T) {
	t.Parallel()
	// Two invitations a second: most rows wait in the pacer when A stops.
	bin, s, dir, config := processWorld(t, sim.Options{}, "pacing:\n  invitations_per_minute: 120\n  lookup_grace: 1s\n")
	file, emails := peopleFile(t, dir, "paused", 24)
	args := applyArgs(config, file)
	a := startProc(t, exec.Command(bin, args...))
	eventually(t, time.Minute, "A invites", func() bool { return invitations(s) >= 3 })
	// Stopped inside a SQLite transaction, A would hold the ledger's
	// write lock and B could not even open it (a pause on PostgreSQL
	// blocks nobody): stop it between transactions.
	pauseOutsideTransaction(t, a, filepath.Join(dir, "foyer.db"))
	// Past the 15 s lease.
	time.Sleep(17 * time.Second)
	b := startProc(t, exec.Command(bin, args...))
	eventually(t, time.Minute, "B takes over and invites", func() bool {
		if invitations(s) >= 8 {
			return true
		}
		select {
		case err := <-b.exited:
			b.exited <- err
			t.Fatalf("B ended before inviting: %v\n%s", err, b.out.String())
		default:
		}
		return false
	})
	if err := a.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	if err := b.wait(t, 2*time.Minute); err != nil {
		t.Fatalf("B: %v\n%s", err, b.out.String())
	}
	errA := a.wait(t, time.Minute)
	t.Logf("A after SIGCONT: %v\n%s", errA, a.out.String())
	if errA == nil {
		t.Errorf("A, resumed after losing its lease, exited 0")
	}
	invitedOnce(t, s, emails)
	if t.Failed() {
		t.Logf("B:\n%s", b.out.String())
	}
}

// TestRevokeKilledHalfwayRemovesEveryGrantOnce: a revoke killed half way
// and run again resumes the same run: every grant is removed, once.
func TestRevokeKilledHalfwayRemovesEveryGrantOnce(t *testing.T) {
	t.Parallel()
	bin, s, dir, config := processWorld(t, sim.Options{Latency: chaos.Latency{Median: 20 * time.Millisecond, P99: 60 * time.Millisecond}}, "")
	file, emails := peopleFile(t, dir, "revoked", 30)
	if out, err := exec.Command(bin, applyArgs(config, file)...).CombinedOutput(); err != nil {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	removals := func() int64 {
		var n int64
		for route, c := range s.Stats().Routes {
			if strings.HasPrefix(route, "DELETE ") {
				n += c
			}
		}
		return n
	}
	args := append([]string{"revoke", "--yes", "--output", "json", "--config", config, "--profile", "partners"}, emails...)
	p := startProc(t, exec.Command(bin, args...))
	eventually(t, time.Minute, "the revoke removes grants", func() bool { return removals() >= 8 })
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.wait(t, 10*time.Second)
	t.Logf("killed after %d removals", removals())
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("the revoke run again: %v\n%s", err, out)
	}
	if n := removals(); n != 30 {
		t.Errorf("%d removals reached the tenant, want 30: each grant once", n)
	}
	members := map[string]bool{}
	for _, g := range s.Snapshot().Groups {
		if g.DisplayName == "DemoApp" {
			for _, m := range g.Members {
				members[strings.ToLower(m)] = true
			}
		}
	}
	var d doc
	if err := json.Unmarshal(out[strings.Index(string(out), "{"):], &d); err != nil {
		t.Fatalf("the resumed revoke's output: %v\n%s", err, out)
	}
	if d.Summary["revoked"] != 30 {
		t.Errorf("the resumed revoke's summary: %v; want all 30 revoked", d.Summary)
	}
	for _, r := range d.Rows {
		if members[strings.ToLower(r.UserID)] {
			t.Errorf("%s is still in DemoApp (row %+v)", r.Email, r)
		}
	}
}
