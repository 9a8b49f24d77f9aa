package engine_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/engine"
	"github.com/foyer-dev/foyer/graph"
	"github.com/foyer-dev/foyer/sim"
	"github.com/foyer-dev/foyer/sim/chaos"
	"github.com/foyer-dev/foyer/store"
)

// people is a CSV of n new people.
func people(n int, prefix string) []byte {
	var b strings.Builder
	b.WriteString("name,email\n")
	for i := range n {
		fmt.Fprintf(&b, "Person %d,%s.%03d@partner%d.example\n", i, prefix, i, i%5)
	}
	return []byte(b.String())
}

// TestStalePlanInvitesNobodyTwice applies a plan that went stale: another
// apply invited the same people after it was made. The engine looks each
// person up right before inviting, whatever the plan and the ledger say,
// so nobody is invited twice, and the stale run reports no invitation of
// its own.
func TestStalePlanInvitesNobodyTwice(t *testing.T) {
	t.Parallel()
	for name, ledger := range ledgers {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w := newWorldOn(t, ledger, sim.Options{})
			ctx := context.Background()
			csv := people(12, "stale")
			stale := w.plan(t, csv) // B's plan, shown and waiting for its "yes"
			first := w.apply(t, csv, "digest-a")
			if n := first.Summary.Results[foyer.ResultInvited]; n != 12 {
				t.Fatalf("the first apply invited %d, want 12", n)
			}
			if err := w.eng.Start(ctx); err != nil {
				t.Fatal(err)
			}
			defer w.eng.Stop(ctx)
			run, err := w.eng.Apply(ctx, engine.ApplyInput{Profile: "partners", Source: "test.csv", Digest: "digest-b", Plan: planOf(stale)})
			if err != nil {
				t.Fatal(err)
			}
			for email, n := range w.sim.Stats().InvitationsByEmail {
				if n != 1 {
					t.Errorf("%s was invited %d times", email, n)
				}
			}
			s := run.Summary
			// Each guest found already there gets the profile's grants
			// made sure of (already held is success), and no invitation.
			if s.Results[foyer.ResultInvited] != 0 || s.Results[foyer.ResultFailed] != 0 || s.Results[foyer.ResultGranted]+s.Results[foyer.ResultUnchanged] != 12 {
				t.Errorf("the stale run's results %v: want no invitation, no failure", s.Results)
			}
		})
	}
}

// TestResumeHoldsOneLiveJobPerRow interrupts an apply four times. Each
// resume enqueues only what has no live job, so the ledger never holds
// more live jobs than unfinished rows, and in the end everyone is invited
// once.
func TestResumeHoldsOneLiveJobPerRow(t *testing.T) {
	t.Parallel()
	for name, ledger := range ledgers {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w := newWorldOn(t, ledger, sim.Options{Latency: chaos.Latency{Median: 20 * time.Millisecond, P99: 60 * time.Millisecond}})
			var logs lockedBuffer
			w.eng.Log = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
			const n = 150
			rows := w.plan(t, people(n, "resume"))
			for round := range 5 {
				ctx, cancel := context.WithCancel(context.Background())
				w.eng.Owner = engine.Owner{Host: "test", PID: 1, Nonce: fmt.Sprint("round", round)}
				if err := w.eng.Start(ctx); err != nil {
					t.Fatal(err)
				}
				live, pending := liveAndPending(t, w.store)
				if live > pending {
					t.Errorf("round %d: %d live jobs for %d unfinished rows", round, live, pending)
				}
				before := invitations(w.sim)
				done := make(chan error, 1)
				go func() {
					_, err := w.eng.Apply(ctx, engine.ApplyInput{Profile: "partners", Source: "test.csv", Digest: "d", Plan: planOf(rows)})
					done <- err
				}()
				if round < 4 {
					waitUntil(t, func() bool { return invitations(w.sim) >= before+20 || len(done) > 0 })
					cancel()
				}
				err := <-done
				cancel()
				if err := w.eng.Stop(context.Background()); err != nil {
					t.Logf("round %d: stop: %v", round, err)
				}
				if round == 4 && err != nil {
					t.Fatalf("the last round: %v", err)
				}
				live, pending = liveAndPending(t, w.store)
				t.Logf("round %d: %d invitations, %d live jobs, %d unfinished rows", round, invitations(w.sim), live, pending)
				if live > pending {
					t.Errorf("round %d ended with %d live jobs for %d unfinished rows", round, live, pending)
				}
			}
			got := w.sim.Stats().InvitationsByEmail
			if len(got) != n {
				t.Errorf("%d addresses invited, want %d", len(got), n)
				logUninvited(t, w.store, got)
				t.Logf("the engine's warnings and errors:\n%s", logs.String())
			}
			// An interrupt is no failure: nothing was recorded as failed
			// for being cut off (an invitation cut off in flight is
			// recorded as of unknown outcome, which it is).
			err := w.store.InTx(context.Background(), func(tx store.Tx) error {
				return tx.AuditLog(context.Background(), store.AuditFilter{}, func(e store.AuditEntry) error {
					if e.Error != "" && e.Detail != "outcome unknown" {
						t.Errorf("audit: %s %s failed with %q", e.Op, e.Target, e.Error)
					}
					return nil
				})
			})
			if err != nil {
				t.Fatal(err)
			}
			for email, c := range got {
				if c != 1 {
					t.Errorf("%s was invited %d times", email, c)
				}
			}
		})
	}
}

// lockedBuffer is a bytes.Buffer the engine's goroutines may log into.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// logUninvited logs the rows, and the steps of their requests, of the
// addresses the tenant did not count, to tell why.
func logUninvited(t *testing.T, s store.Store, got map[string]int) {
	t.Helper()
	ctx := context.Background()
	err := s.InTx(ctx, func(tx store.Tx) error {
		return tx.ListRuns(ctx, 10, func(r *foyer.Run) error {
			return tx.RunRows(ctx, r.ID, 0, func(row foyer.Row) error {
				if got[strings.ToLower(row.Email.String())] > 0 {
					return nil
				}
				t.Logf("not invited: run %s line %d %s: action %s result %q error %q reason %q user %s",
					r.ID, row.Line, row.Email, row.Action, row.Result, row.Error, row.Reason, row.UserID)
				req, err := tx.FindRequest(ctx, r.Profile, row.Email)
				if err != nil {
					return err
				}
				t.Logf("  request %s: %s user %s", req.ID, req.State, req.UserID)
				steps, err := tx.RequestSteps(ctx, req.ID)
				for _, st := range steps {
					t.Logf("  step %s: %s attempts %d result %q error %q", st.Name, st.State, st.Attempts, st.Result, st.Error)
				}
				return err
			})
		})
	})
	if err != nil {
		t.Error(err)
	}
}

// liveAndPending counts the provisioning queue's live jobs and the
// unfinished rows of every run.
func liveAndPending(t *testing.T, s store.Store) (live, pending int) {
	t.Helper()
	ctx := context.Background()
	err := s.InTx(ctx, func(tx store.Tx) error {
		var err error
		if live, err = tx.LiveJobs(ctx, "provision"); err != nil {
			return err
		}
		r, err := tx.OpenRun(ctx, foyer.RunApply, "partners", "d")
		if foyer.ErrorCode(err) == foyer.ENOTFOUND {
			return nil
		}
		if err != nil {
			return err
		}
		pending, err = tx.PendingRunRows(ctx, r.ID)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return live, pending
}

func invitations(s *sim.Server) int {
	n := 0
	for _, c := range s.Stats().InvitationsByEmail {
		n += c
	}
	return n
}

// waitUntil polls cond for up to a minute.
func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within a minute")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestAttemptTimeoutFailsRow: a row whose every attempt runs out of time
// ends failed, with the reason, rather than leaving the run waiting for
// ever on a job River gave up.
func TestAttemptTimeoutFailsRow(t *testing.T) {
	t.Parallel()
	w := newWorld(t, sim.Options{Latency: chaos.Latency{Median: 2 * time.Second, P99: 2 * time.Second}})
	// Each attempt is cut off while the directory takes its 2 s, never
	// before it reaches the directory: 600 ms leave the ledger's reads
	// time enough on a loaded machine.
	w.eng.AttemptTimeout, w.eng.MaxAttempts = 600*time.Millisecond, 2
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// The plan is made by hand: planning itself would wait on the latency.
	rows := []foyer.Row{{Line: 2, Email: "slow@partner.example", Action: foyer.ActionInvite, Reason: "no user has this address",
		Grants: []string{w.profile.Grants[0].String()}}}
	if err := w.eng.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer w.eng.Stop(ctx)
	run, err := w.eng.Apply(ctx, engine.ApplyInput{Profile: "partners", Source: "test.csv", Digest: "d", Plan: planOf(rows)})
	if err != nil {
		t.Fatal(err)
	}
	got := runRows(t, w.store, run.ID)
	if len(got) != 1 || got[0].Result != foyer.ResultFailed || !strings.Contains(got[0].Error, "gave up after 2 attempts") {
		t.Errorf("rows %+v: want line 2 failed, having given up after 2 attempts", got)
	}
}

// TestBlockRememberedUntilCleared: once Entra blocks the tenant's
// invitations, the block is kept in the ledger: a later apply (another
// process) sends no invitation into the tenant and says why, until an
// operator clears the block.
func TestBlockRememberedUntilCleared(t *testing.T) {
	t.Parallel()
	w := newWorld(t, sim.Options{InvitesPerMinute: 2})
	w.eng.Tenant, w.eng.Workers = "tenant-1", 1
	first := w.apply(t, people(5, "first"), "d1")
	if first.Summary.Results[foyer.ResultInvited] != 2 || first.Summary.Results[foyer.ResultFailed] != 3 {
		t.Fatalf("the first run: %v; want 2 invited and 3 failed on the block", first.Summary.Results)
	}
	ctx := context.Background()
	var notices []string
	var mu sync.Mutex
	sink := func(ev engine.Event) {
		if ev.Kind == engine.EventNotice {
			mu.Lock()
			notices = append(notices, ev.Message)
			mu.Unlock()
		}
	}
	posts := func() int64 { return w.sim.Stats().Routes["POST /v1.0/invitations"] }
	// A new process, a minute later: the tenant's cap no longer refuses,
	// but foyer remembers the block and sends nothing.
	w.sim.Advance(2 * time.Minute)
	before := posts()
	dir := newDirectory(t, w.sim, graph.Pacing{RetryDelay: 20 * time.Millisecond, GroupWindow: 50 * time.Millisecond})
	later := &engine.Engine{Store: w.store, Dir: dir, Profiles: w.eng.Profiles, NewID: w.eng.NewID,
		Owner: engine.Owner{Host: "test", PID: 2, Nonce: "later"}, Tenant: "tenant-1", Workers: 1}
	if err := later.Start(ctx); err != nil {
		t.Fatal(err)
	}
	rows := w.plan(t, people(3, "second"))
	run, err := later.Apply(ctx, engine.ApplyInput{Profile: "partners", Source: "second.csv", Digest: "d2", Plan: planOf(rows), Events: sink})
	if err != nil {
		t.Fatal(err)
	}
	if posts() != before {
		t.Errorf("%d invitations were sent into a blocked tenant", posts()-before)
	}
	if run.Summary.Results[foyer.ResultFailed] != 3 {
		t.Errorf("the run into a blocked tenant: %v; want its 3 rows failed", run.Summary.Results)
	}
	for _, r := range runRows(t, w.store, run.ID) {
		if !strings.Contains(r.Error, "foyer tenants unblock") {
			t.Errorf("line %d failed with %q; want the way out named", r.Line, r.Error)
		}
	}
	if len(notices) == 0 || !strings.Contains(notices[0], "blocked invitations into tenant tenant-1") {
		t.Errorf("notices %q; want the block announced before the rows", notices)
	}
	cleared, err := later.ClearBlock(ctx, "test")
	if err != nil || !cleared {
		t.Fatalf("ClearBlock = %v, %v", cleared, err)
	}
	run, err = later.Apply(ctx, engine.ApplyInput{Profile: "partners", Source: "third.csv", Digest: "d3", Plan: planOf(w.plan(t, people(2, "third")))})
	if err != nil {
		t.Fatal(err)
	}
	if run.Summary.Results[foyer.ResultInvited] != 2 {
		t.Errorf("after the block was cleared: %v; want both invited", run.Summary.Results)
	}
	if err := later.Stop(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestLeaseLostStopsWrites: an engine whose lease another process took
// (as when it was paused past the lease) sends no directory write it was
// holding: every write passes the lease's fence right before it goes out.
func TestLeaseLostStopsWrites(t *testing.T) {
	t.Parallel()
	for name, ledger := range ledgers {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			// One invitation a second, so that most rows wait in the pacer
			// when the lease changes hands.
			w := newWorldPaced(t, ledger, sim.Options{}, graph.Pacing{InvitesPerMinute: 60})
			ctx := context.Background()
			rows := w.plan(t, people(20, "fenced"))
			if err := w.eng.Start(ctx); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() {
				_, err := w.eng.Apply(ctx, engine.ApplyInput{Profile: "partners", Source: "test.csv", Digest: "d", Plan: planOf(rows)})
				done <- err
			}()
			waitUntil(t, func() bool { return invitations(w.sim) >= 2 })
			// Another process takes the lease over.
			err := w.store.InTx(ctx, func(tx store.Tx) error {
				_, err := tx.AcquireLease(ctx, "workers", "elsewhere:1:x", w.eng.Owner.String(), tx.Now().Add(time.Hour))
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			taken := invitations(w.sim)
			err = <-done
			if !errors.Is(err, engine.ErrLeaseLost) {
				t.Errorf("Apply after the lease was taken: %v; want ErrLeaseLost", err)
			}
			_ = w.eng.Stop(ctx)
			// At most one invitation was on its way when the lease moved.
			time.Sleep(1500 * time.Millisecond)
			if got := invitations(w.sim); got > taken+1 {
				t.Errorf("%d invitations were sent after the lease was taken (%d before)", got-taken, taken)
			}
		})
	}
}

// TestRevokeNeedsLease: revoke works under the ledger's lease, so that it
// never races an apply.
func TestRevokeNeedsLease(t *testing.T) {
	t.Parallel()
	w := newWorld(t, sim.Options{})
	ctx := context.Background()
	if _, err := w.eng.Revoke(ctx, "partners", []foyer.Address{"x@partner.example"}, nil); err == nil {
		t.Errorf("Revoke without the lease succeeded")
	}
	other := &engine.Engine{Store: w.store, Dir: w.dir, Profiles: w.eng.Profiles, NewID: w.eng.NewID,
		Owner: engine.Owner{Host: "elsewhere", PID: 9, Nonce: "apply"}}
	if err := other.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer other.Stop(ctx)
	if err := w.eng.Start(ctx); err == nil || !strings.Contains(err.Error(), "another foyer process") {
		t.Errorf("Start while another process holds the lease: %v; want a refusal naming it", err)
		w.eng.Stop(ctx)
	}
}

// checkingMailer is a Mailer whose messages for one address cannot be
// built, and which counts what it sends.
type checkingMailer struct {
	mu   sync.Mutex
	bad  foyer.Address
	sent []foyer.Address
}

func (m *checkingMailer) Check(im engine.InvitationMail) error {
	if im.To == m.bad {
		return foyer.Errorf(foyer.EINVALID, "the invitation email to %s cannot be built", im.To)
	}
	return nil
}

func (m *checkingMailer) SendInvitation(_ context.Context, im engine.InvitationMail) (string, error) {
	if err := m.Check(im); err != nil {
		return "", err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sent = append(m.sent, im.To)
	return "<" + im.ID + "@test>", nil
}

// TestMailBuiltBeforeInviting: for a profile that sends its own invitation
// emails, an email that cannot be built fails its row before the person is
// invited, not after (when the guest would be left with no way in).
func TestMailBuiltBeforeInviting(t *testing.T) {
	t.Parallel()
	w := newWorld(t, sim.Options{})
	w.profile.Sender = foyer.SenderFoyer
	m := &checkingMailer{bad: "bad.001@partner1.example"}
	w.eng.Mailer = m
	run := w.apply(t, people(3, "bad"), "d")
	if n := w.sim.Stats().InvitationsByEmail["bad.001@partner1.example"]; n != 0 {
		t.Errorf("the person whose email cannot be built was invited %d times", n)
	}
	for _, r := range runRows(t, w.store, run.ID) {
		switch {
		case r.Email == m.bad && (r.Result != foyer.ResultFailed || !strings.Contains(r.Error, "cannot be built")):
			t.Errorf("line %d (%s): %s %q; want failed with the reason", r.Line, r.Email, r.Result, r.Error)
		case r.Email != m.bad && r.Result != foyer.ResultInvited:
			t.Errorf("line %d (%s): %s %q; want invited", r.Line, r.Email, r.Result, r.Error)
		}
	}
	if len(m.sent) != 2 {
		t.Errorf("sent %v; want the two others' emails", m.sent)
	}
	// The redeem URL is kept only until the email is sent.
	err := w.store.InTx(context.Background(), func(tx store.Tx) error {
		return tx.Requests(context.Background(), store.RequestFilter{Profile: "partners"}, func(r *foyer.Request) error {
			if r.RedeemURL != "" {
				t.Errorf("the request for %s still holds its redeem URL after its email was sent", r.Email)
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestWaitingForTheInvitationPaceIsNoFailedAttempt: rows that spend a
// whole attempt waiting for their invitation's turn (a slow pace, as the
// governor sets on a real tenant) are not failed for it.
func TestWaitingForTheInvitationPaceIsNoFailedAttempt(t *testing.T) {
	t.Parallel()
	// One invitation every 1.5 s: the last of the 8 waits 10.5 s for its
	// turn, seven attempts of 1.5 s. Three attempts are allowed, so that a
	// row may lose one to a look-up or ledger write slowed by a loaded
	// machine (which rightly counts) and still pass, while counting the
	// waiting would fail the last rows.
	w := newWorldPaced(t, ledgers["sqlite"], sim.Options{}, graph.Pacing{InvitesPerMinute: 40})
	w.eng.AttemptTimeout, w.eng.MaxAttempts, w.eng.Workers = 1500*time.Millisecond, 3, 8
	run := w.apply(t, people(8, "paced"), "d")
	if n := run.Summary.Results[foyer.ResultInvited]; n != 8 {
		t.Errorf("results %v; want all 8 invited, however long they waited for their turn", run.Summary.Results)
	}
}

// refusingMailer builds every message but the server refuses to send it,
// as an SMTP server answering 5xx does.
type refusingMailer struct{}

func (refusingMailer) Check(engine.InvitationMail) error { return nil }
func (refusingMailer) SendInvitation(context.Context, engine.InvitationMail) (string, error) {
	return "", foyer.Errorf(foyer.EINVALID, "550 mailbox unavailable")
}

// TestOwedMailSentByTheNextApply: foyer's own invitation email refused by
// the mail server fails the row once the guest is invited; the next apply
// of the same people, once the server takes mail, sends the email each
// guest is owed, without a second invitation.
func TestOwedMailSentByTheNextApply(t *testing.T) {
	t.Parallel()
	for name, ledger := range ledgers {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w := newWorldOn(t, ledger, sim.Options{})
			w.profile.Sender = foyer.SenderFoyer
			w.eng.Mailer = refusingMailer{}
			csv := people(3, "owed")
			first := w.apply(t, csv, "d1")
			if first.Summary.Results[foyer.ResultFailed] != 3 {
				t.Fatalf("the first run with the mail server refusing: %v; want 3 failed", first.Summary.Results)
			}
			m := &checkingMailer{}
			w.eng.Mailer = m
			second := w.apply(t, csv, "d2")
			if second.Summary.Results[foyer.ResultInvited] != 3 || len(m.sent) != 3 {
				t.Errorf("the second run: %v, %d emails sent; want the 3 owed emails sent", second.Summary.Results, len(m.sent))
			}
			for email, n := range w.sim.Stats().InvitationsByEmail {
				if n != 1 {
					t.Errorf("%s was invited %d times", email, n)
				}
			}
		})
	}
}
