package cli_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/foyer-dev/foyer/cmd/foyer/cli"
	"github.com/foyer-dev/foyer/sim"
	"github.com/foyer-dev/foyer/sim/throttle"
	"github.com/foyer-dev/foyer/web/hooks"
)

// replicaDatabase makes a PostgreSQL database of its own for a test, on
// the server FOYER_TEST_POSTGRES names, dropped when the test ends, and
// returns its DSN.
func replicaDatabase(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv("FOYER_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("FOYER_TEST_POSTGRES is not set (scripts/test sets it)")
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "foyer_replicas_" + hex.EncodeToString(b)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect to FOYER_TEST_POSTGRES: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Errorf("drop database %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// replicaWorld is an emulated tenant whose app may make `quota` writes
// per `window`, and a foyer serve configuration on a PostgreSQL ledger of
// its own with a webhook trigger "drop" that applies a CSV of `rows` new
// people through the profile partners. The write budget is the tenant's
// quota.
type replicaWorld struct {
	bin, config, secret, dsn string
	sim                      *sim.Server
	rows                     int
}

func newReplicaWorld(t *testing.T, rows, quota int, window time.Duration) *replicaWorld {
	t.Helper()
	dsn := replicaDatabase(t)
	w := &replicaWorld{dsn: dsn, rows: rows, secret: "a-webhook-secret-of-32-bytes-ok!"}
	var dir string
	w.bin, w.sim, dir, w.config = serveProcessWorld(t, sim.Options{Throttle: throttle.Config{AppTenantWrites: throttle.Limit{N: quota, Per: window}}},
		func(text string) string {
			text = regexp.MustCompile(`(?m)^ledger:\n  driver: sqlite\n  dsn: .*\n`).ReplaceAllString(text,
				"ledger:\n  driver: postgres\n  dsn: "+strconv.Quote(dsn)+"\n")
			return text
		})
	var csv strings.Builder
	csv.WriteString("email,name\n")
	for i := range rows {
		fmt.Fprintf(&csv, "guest%04d@partner%d.example,Guest %d\n", i, i%7, i)
	}
	src := writeFile(t, dir, "people.csv", csv.String())
	secretFile := writeFile(t, dir, "hook-secret", w.secret+"\n")
	if err := os.Chmod(secretFile, 0o600); err != nil {
		t.Fatal(err)
	}
	text, err := os.ReadFile(w.config)
	if err != nil {
		t.Fatal(err)
	}
	text = fmt.Appendf(text, "triggers:\n  drop:\n    profile: partners\n    source: %s\n    webhook: {secret_file: %s}\n", src, secretFile)
	text = fmt.Appendf(text, "pacing:\n  lookup_grace: 2s\n  write_budget: {writes: %d, window: %s, margin: 1s}\n", quota, window)
	if err := os.WriteFile(w.config, text, 0o644); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(text), "driver: postgres") {
		t.Fatalf("the configuration's ledger was not replaced:\n%s", text)
	}
	return w
}

// start starts a replica on a port of its own.
func (w *replicaWorld) start(t *testing.T) *serveProc {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	p := startProc(t, exec.Command(w.bin, "serve", "--config", w.config, "--addr", addr))
	eventually(t, time.Minute, "foyer serve listens", func() bool {
		select {
		case err := <-p.exited:
			p.exited <- err
			t.Fatalf("foyer serve ended before it served (%v):\n%s", err, p.out.String())
		default:
		}
		return strings.Contains(p.out.String(), `{"url":`)
	})
	return &serveProc{proc: p, url: "http://" + addr}
}

// trigger delivers the webhook that starts the run, once.
func (w *replicaWorld) trigger(t *testing.T, to *serveProc) {
	t.Helper()
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	r, err := http.NewRequest("POST", to.url+"/hooks/run/drop", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set(hooks.HeaderTimestamp, ts)
	r.Header.Set(hooks.HeaderDelivery, "delivery-1")
	r.Header.Set(hooks.HeaderSignature, "sha256="+hex.EncodeToString(hooks.Sign([]byte(w.secret), ts, "delivery-1", []byte("{}"))))
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusAccepted {
		t.Fatalf("the webhook: %d, want 202", res.StatusCode)
	}
}

func (w *replicaWorld) invited() int { return len(w.sim.Stats().InvitationsByEmail) }

// leaseEnded reports whether the replica with process id pid lost its
// lease: a live replica ended it.
func (w *replicaWorld) leaseEnded(t *testing.T, pid int) bool {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, w.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	err = conn.QueryRow(ctx, `SELECT count(*) FROM leases WHERE name LIKE $1 AND owner = ''`,
		"replica:%:"+strconv.Itoa(pid)+":%").Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n == 1
}

// runState is the state of the trigger's run, as foyer runs shows it.
func (w *replicaWorld) runFinished(t *testing.T) bool {
	t.Helper()
	out, err := exec.Command(w.bin, "runs", "--config", w.config).CombinedOutput()
	if err != nil {
		t.Fatalf("foyer runs: %v\n%s", err, out)
	}
	return strings.Contains(string(out), "finished")
}

// TestReplicasShareARunThroughAKill: three foyer serve replicas on one
// PostgreSQL ledger work a run started once by a webhook, against a tenant
// whose write quota makes pacing matter. One replica is SIGKILLed when
// about half the people are invited: a live one takes its jobs over, the
// run finishes, everyone is invited exactly once, and the tenant never
// refused a write for its quota (its limiter counts every refusal).
//
// FOYER_SOAK_REPLICAS=1 runs it with 3,000 rows (scripts/soak replicas).
func TestReplicasShareARunThroughAKill(t *testing.T) {
	t.Parallel()
	rows, quota, window := 300, 60, 5*time.Second
	if os.Getenv("FOYER_SOAK_REPLICAS") != "" {
		rows, quota, window = 3000, 400, 5*time.Second
	}
	w := newReplicaWorld(t, rows, quota, window)
	reps := []*serveProc{w.start(t), w.start(t), w.start(t)}
	t.Cleanup(func() { logReplicas(t, reps) })
	w.trigger(t, reps[0])

	eventually(t, 10*time.Minute, "half the people are invited", func() bool { return w.invited() >= rows/2 })
	killed := reps[1].cmd.Process.Pid
	if err := reps[1].cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	eventually(t, time.Minute, "a live replica ends the killed one's lease", func() bool { return w.leaseEnded(t, killed) })
	eventually(t, 10*time.Minute, "every person is invited", func() bool { return w.invited() == rows })
	eventually(t, time.Minute, "the run finishes", func() bool { return w.runFinished(t) })
	w.checkOnce(t)
	if st := w.sim.Stats(); st.Throttled != 0 {
		t.Errorf("the tenant refused %d writes for its quota of %d per %s", st.Throttled, quota, window)
	}
	reps[0].stop(t)
	reps[2].stop(t)
}

// TestReplicaStoppedPastItsLease: of two replicas working a run, one is
// SIGSTOPped with invitations in hand until the other ended its lease and
// took its jobs over, then resumed: it fails its fence, exits non-zero
// saying it lost its lease, and nobody is invited twice. (A write stopped
// between its last check and the socket still goes out when the process
// resumes, late: docs/architecture.md, "Why no one is invited twice".)
func TestReplicaStoppedPastItsLease(t *testing.T) {
	t.Parallel()
	const rows = 200
	w := newReplicaWorld(t, rows, 60, 5*time.Second)
	reps := []*serveProc{w.start(t), w.start(t)}
	t.Cleanup(func() { logReplicas(t, reps) })
	w.trigger(t, reps[0])

	eventually(t, 10*time.Minute, "a third of the people are invited", func() bool { return w.invited() >= rows/3 })
	if err := reps[1].cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stopped := reps[1].cmd.Process.Pid
	eventually(t, time.Minute, "the live replica ends the stopped one's lease", func() bool { return w.leaseEnded(t, stopped) })
	if err := reps[1].cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	if err := reps[1].wait(t, time.Minute); err == nil {
		t.Errorf("the replica resumed after losing its lease exited 0")
	}
	if out := reps[1].out.String(); !strings.Contains(out, "lost the ledger's worker lease") {
		t.Errorf("the resumed replica does not say it lost its lease")
	}
	eventually(t, 10*time.Minute, "every person is invited", func() bool { return w.invited() == rows })
	// The resumed replica's River client, as it stops, may record a job
	// the live one took over as retryable: it then waits its backoff
	// (at most a minute and a half).
	eventually(t, 3*time.Minute, "the run finishes", func() bool { return w.runFinished(t) })
	w.checkOnce(t)
	reps[0].stop(t)
}

// checkOnce checks the tenant's count: every address invited once.
func (w *replicaWorld) checkOnce(t *testing.T) {
	t.Helper()
	st := w.sim.Stats()
	if len(st.InvitationsByEmail) != w.rows {
		t.Errorf("%d addresses invited, want %d", len(st.InvitationsByEmail), w.rows)
	}
	for addr, n := range st.InvitationsByEmail {
		if n != 1 {
			t.Errorf("%s invited %d times", addr, n)
		}
	}
}

// logReplicas shows the replicas' output when the test failed.
func logReplicas(t *testing.T, reps []*serveProc) {
	if t.Failed() {
		for i, r := range reps {
			t.Logf("replica %d:\n%s", i+1, r.out.String())
		}
	}
}

// TestSecondServeOnSQLiteRefused: on a SQLite ledger one foyer serve runs
// at a time; a second one says so, names PostgreSQL, and exits with an
// error before it serves.
func TestSecondServeOnSQLiteRefused(t *testing.T) {
	t.Parallel()
	bin, _, _, config := serveProcessWorld(t, sim.Options{}, nil)
	first := startServeProc(t, bin, config)
	second := exec.Command(bin, "serve", "--config", config, "--addr", fmt.Sprintf("127.0.0.1:%d", freePort(t)))
	out, err := second.CombinedOutput()
	if code := second.ProcessState.ExitCode(); err == nil || code != cli.ExitError {
		t.Errorf("a second foyer serve on SQLite: exit %d, want %d:\n%s", code, cli.ExitError, out)
	}
	if !strings.Contains(string(out), "PostgreSQL") {
		t.Errorf("the refusal does not say replicas need PostgreSQL:\n%s", out)
	}
	first.stop(t)
}
