package cli_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/cmd/foyer/cli"
	"github.com/foyer-dev/foyer/sim"
	"github.com/foyer-dev/foyer/sim/chaos"
	"github.com/foyer-dev/foyer/sim/simtest"
	"github.com/foyer-dev/foyer/store"
	"github.com/foyer-dev/foyer/store/sqlite"
)

// TestApplySurvivesSIGKILL kills a real `foyer apply` process at ten random
// points of a 500-row file, runs it again each time, and then checks that
// the tenant received exactly one invitation per address and that every
// row and request of the run is in its final state in the ledger.
func TestApplySurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds foyer and runs it 11 times")
	}
	t.Parallel()
	bin := foyerBinary(t)
	s := simtest.Start(t, sim.Options{Seed: 7, Latency: chaos.Latency{Median: 4 * time.Millisecond, P99: 30 * time.Millisecond}})
	dir := t.TempDir()
	config, err := cli.WriteSimFiles(s, dir)
	if err != nil {
		t.Fatal(err)
	}
	// Look for a lost invitation's guest for 2 s, not 30: the emulated
	// tenant shows new guests at once.
	appendFile(t, config, "pacing:\n  lookup_grace: 2s\n")
	var csv bytes.Buffer
	csv.WriteString("name,email\n")
	want := map[string]bool{}
	for i := range 500 {
		email := fmt.Sprintf("person.%03d@partner%d.example", i, i%7)
		fmt.Fprintf(&csv, "Person %03d,%s\n", i, email)
		want[email] = true
	}
	file := filepath.Join(dir, "people.csv")
	if err := os.WriteFile(file, csv.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"apply", "--yes", "--output", "json", "--config", config, "--profile", "partners", file}
	// Its own temporary directory, to see that the spools of killed runs
	// do not pile up.
	tmp := t.TempDir()
	env := append(os.Environ(), "TMPDIR="+tmp)

	rnd := rand.New(rand.NewPCG(1, uint64(time.Now().UnixNano())))
	for kill := range 10 {
		before := invitations(s)
		if before >= len(want) {
			break
		}
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		// Kill at a random point: during planning and enqueueing (no new
		// invitation yet), or after a random number of new invitations.
		target := before + rnd.IntN(60)
		deadline := time.After(60 * time.Second)
		tick := time.NewTicker(2 * time.Millisecond)
		killed := false
	wait:
		for {
			select {
			case err := <-exited:
				t.Logf("kill %d: apply finished on its own (%v) before the kill point", kill, err)
				break wait
			case <-deadline:
				t.Fatalf("kill %d: no progress in 60 s: %s", kill, stderr.String())
			case <-tick.C:
				if invitations(s) >= target {
					if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
						t.Fatal(err)
					}
					<-exited
					killed = true
					break wait
				}
			}
		}
		tick.Stop()
		t.Logf("kill %d: killed=%v after %d new invitations (%d in all)", kill, killed, invitations(s)-before, invitations(s))
	}

	// Resume to the end.
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("final apply: %v\n%s\n%s", err, stderr.String(), stdout.String())
	}
	d := decode(t, stdout.String())
	if d.Summary["invited"] != 500 || d.Summary["failed"] != 0 {
		t.Errorf("final run summary %v", d.Summary)
	}

	if left, _ := filepath.Glob(filepath.Join(tmp, "foyer-*")); len(left) > 0 {
		t.Errorf("temporary files left after the final apply: %v", left)
	}

	got := s.Stats().InvitationsByEmail
	for email := range want {
		if got[email] != 1 {
			t.Errorf("%s was invited %d times", email, got[email])
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d addresses were invited, want %d", len(got), len(want))
	}

	// Every row and request of the run is final in the ledger.
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "foyer.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.InTx(ctx, func(tx store.Tx) error {
		if err := tx.RunRows(ctx, d.RunID, 0, func(r foyer.Row) error {
			if r.Result != foyer.ResultInvited || r.UserID == "" {
				t.Errorf("line %d: result %q, user %q, error %q", r.Line, r.Result, r.UserID, r.Error)
			}
			return nil
		}); err != nil {
			return err
		}
		n := 0
		err := tx.Requests(ctx, store.RequestFilter{Profile: "partners"}, func(r *foyer.Request) error {
			n++
			if r.State != foyer.StateInvited || r.UserID == "" {
				t.Errorf("request for %s is %s (user %q)", r.Email, r.State, r.UserID)
			}
			return nil
		})
		if n != 500 {
			t.Errorf("%d requests, want 500", n)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func invitations(s *sim.Server) int {
	n := 0
	for _, c := range s.Stats().InvitationsByEmail {
		n += c
	}
	return n
}

func appendFile(t *testing.T, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
	_ = strings.TrimSpace
}
