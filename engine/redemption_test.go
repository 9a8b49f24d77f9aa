package engine_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/directory"
	"github.com/foyer-dev/foyer/engine"
	"github.com/foyer-dev/foyer/notify/email"
	"github.com/foyer-dev/foyer/notify/email/smtptest"
	"github.com/foyer-dev/foyer/sim"
	"github.com/foyer-dev/foyer/store"
	"github.com/foyer-dev/foyer/store/postgres"
	"github.com/foyer-dev/foyer/store/sqlite"
)

// clockedLedgers are the engine tests' ledgers with their clock given, so
// that the steps' times move with the engine's.
var clockedLedgers = map[string]func(t *testing.T, clock foyer.Clock) store.Store{
	"sqlite": func(t *testing.T, clock foyer.Clock) store.Store {
		db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "ledger.db"), sqlite.Options{Clock: clock})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	},
	"postgres": func(t *testing.T, clock foyer.Clock) store.Store {
		dsn := os.Getenv("FOYER_TEST_POSTGRES")
		if dsn == "" {
			t.Skip("FOYER_TEST_POSTGRES is not set (scripts/test sets it)")
		}
		ctx := context.Background()
		b := make([]byte, 6)
		_, _ = rand.Read(b)
		schema := "foyer_redemption_" + hex.EncodeToString(b)
		t.Cleanup(func() {
			conn, err := pgx.Connect(ctx, dsn)
			if err != nil {
				t.Errorf("drop schema %s: %v", schema, err)
				return
			}
			defer conn.Close(ctx)
			if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE"); err != nil {
				t.Errorf("drop schema %s: %v", schema, err)
			}
		})
		db, err := postgres.Open(ctx, dsn, postgres.Options{Schema: schema, Clock: clock})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	},
}

// newRedemptionWorld is a serve world whose ledger and engine share one
// clock that the test moves, with kim@tailwind.example invited as guest
// of "partners" on adele's word (adele is its sponsor).
func newRedemptionWorld(t *testing.T, backend string, reminders foyer.Reminders, tweaks ...func(*world)) (*serveWorld, *foyer.Request) {
	t.Helper()
	clock := &testClock{t: time.Now().UTC()}
	ledger := func(t *testing.T) store.Store { return clockedLedgers[backend](t, clock) }
	w := newWorldOn(t, ledger, sim.Options{})
	w.profile.Approval = foyer.Policy{AutoDomains: []string{"tailwind.example"}}
	w.profile.Reminders = reminders
	// The tests drive the sync and the reminders themselves.
	w.eng.RedemptionEvery = -1
	for _, tweak := range tweaks {
		tweak(w)
	}
	srv := smtptest.Start(t, smtptest.Options{})
	sender, err := email.New(email.Options{Host: srv.Host, Port: srv.Port, From: "foyer@contoso.example", Username: srv.Username,
		Password: srv.Password, RootCAs: srv.RootCAs})
	if err != nil {
		t.Fatal(err)
	}
	e := w.eng
	e.Service, e.Postman, e.PublicURL, e.Clock, e.RunPoll = true, email.Postman{Sender: sender}, publicURL, clock, 50*time.Millisecond
	ctx := context.Background()
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.Stop(ctx); err != nil {
			t.Errorf("stop the engine: %v", err)
		}
	})
	sw := &serveWorld{world: w, smtp: srv, clock: clock}
	rc, err := e.Submit(ctx, foyer.Submission{Profile: "partners", Email: "kim@tailwind.example", DisplayName: "Kim", By: &adele})
	if err != nil {
		t.Fatal(err)
	}
	v := sw.waitState(t, rc.Request.ID, foyer.StateInvited)
	return sw, v.Request
}

// audits returns the operations of the audit entries of a request, as
// "kind op".
func (w *serveWorld) audits(t *testing.T, requestID string) []string {
	t.Helper()
	var out []string
	err := w.store.InTx(context.Background(), func(tx store.Tx) error {
		return tx.AuditLog(context.Background(), store.AuditFilter{RequestID: requestID}, func(e store.AuditEntry) error {
			out = append(out, string(e.Kind)+" "+e.Op)
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRedemptionAccepted: a guest who redeemed moves its request from
// invited to active at the next sync, the sponsor is told by email, and a
// second sync changes nothing.
func TestRedemptionAccepted(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) { t.Parallel(); testRedemptionAccepted(t, backend) })
	}
}

func testRedemptionAccepted(t *testing.T, backend string) {
	ctx := context.Background()
	w, req := newRedemptionWorld(t, backend, foyer.Reminders{})
	sum, err := w.eng.SyncRedemptions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Pending != 1 || sum.Accepted != 0 {
		t.Fatalf("before redemption: %+v, want 1 pending, none accepted", sum)
	}
	if err := w.sim.Redeem("kim@tailwind.example"); err != nil {
		t.Fatal(err)
	}
	if sum, err = w.eng.SyncRedemptions(ctx); err != nil {
		t.Fatal(err)
	}
	if sum.Accepted != 1 {
		t.Fatalf("after redemption: %+v, want 1 accepted", sum)
	}
	v := w.waitState(t, req.ID, foyer.StateActive)
	if v.Request.RedeemURL != "" {
		t.Errorf("an active request keeps its redeem URL")
	}
	m := w.mail(t, string(adele.Email), "accepted the invitation")
	if !strings.Contains(m.Subject(), "Kim <kim@tailwind.example>") {
		t.Errorf("notice subject %q does not name the guest", m.Subject())
	}
	if sum, err = w.eng.SyncRedemptions(ctx); err != nil || sum.Pending != 0 || sum.Accepted != 0 {
		t.Fatalf("a second sync: %+v, %v; want nothing pending", sum, err)
	}
	if got := w.audits(t, req.ID); !contains(got, "change redemption Accepted") {
		t.Errorf("audit %v lacks the redemption", got)
	}
	w.noDuplicates(t)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestReminders: a pending guest is invited again once its profile's
// reminders.after has passed, once per period, at most reminders.max
// times; the tenant keeps one guest (the sim counts the invitations and
// Entra's emails), and every reminder is recorded intent then outcome.
func TestReminders(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) { t.Parallel(); testReminders(t, backend) })
	}
}

func testReminders(t *testing.T, backend string) {
	ctx := context.Background()
	const day = 24 * time.Hour
	w, req := newRedemptionWorld(t, backend, foyer.Reminders{After: 7 * day, Max: 2})
	guests := w.sim.Snapshot().Guests
	kim := "kim@tailwind.example"
	steps := []struct {
		advance time.Duration
		sent    int // reminders this call sends
		total   int // invitations the tenant has received for kim
	}{
		{0, 0, 1},
		{6 * day, 0, 1},
		{day + time.Hour, 1, 2}, // 7 days after the invitation
		{0, 0, 2},               // not twice in a period
		{3 * day, 0, 2},
		{4 * day, 1, 3}, // 7 days after the first reminder
		{8 * day, 0, 3}, // at most 2
		{30 * day, 0, 3},
	}
	for i, s := range steps {
		w.clock.Advance(s.advance)
		n, err := w.eng.RemindPending(ctx)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if n != s.sent {
			t.Errorf("step %d: %d reminders sent, want %d", i, n, s.sent)
		}
		if got := w.sim.Stats().InvitationsByEmail[kim]; got != s.total {
			t.Errorf("step %d: the tenant received %d invitations for kim, want %d", i, got, s.total)
		}
	}
	if got := w.sim.Snapshot().Guests; got != guests {
		t.Errorf("the tenant holds %d guests after the reminders, want %d (no duplicate)", got, guests)
	}
	mails := 0
	for _, m := range w.sim.Mail() {
		if strings.EqualFold(m.To, kim) {
			mails++
		}
	}
	if mails != 3 {
		t.Errorf("Entra sent kim %d invitation emails, want 3 (the invitation and two reminders)", mails)
	}
	got := w.audits(t, req.ID)
	for _, want := range []string{"intent remind 1", "outcome remind 1", "intent remind 2", "outcome remind 2"} {
		if !contains(got, want) {
			t.Errorf("audit %v lacks %q", got, want)
		}
	}
	// Redeemed, the guest gets no more reminders even with a larger max.
	if err := w.sim.Redeem(kim); err != nil {
		t.Fatal(err)
	}
	if _, err := w.eng.SyncRedemptions(ctx); err != nil {
		t.Fatal(err)
	}
	w.profile.Reminders.Max = 5
	w.clock.Advance(30 * day)
	if n, err := w.eng.RemindPending(ctx); err != nil || n != 0 {
		t.Errorf("after redemption: %d reminders, %v; want none", n, err)
	}
}

// TestResetRedemption: an admin's reset sends resetRedemption for the
// guest's object: the same guest is PendingAcceptance again, its request
// goes back to invited, and the reset is in the audit log, intent then
// outcome, in the admin's name.
func TestResetRedemption(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) { t.Parallel(); testResetRedemption(t, backend) })
	}
}

func testResetRedemption(t *testing.T, backend string) {
	ctx := context.Background()
	w, req := newRedemptionWorld(t, backend, foyer.Reminders{})
	kim := foyer.Address("kim@tailwind.example")
	if err := w.sim.Redeem(string(kim)); err != nil {
		t.Fatal(err)
	}
	if _, err := w.eng.SyncRedemptions(ctx); err != nil {
		t.Fatal(err)
	}
	w.waitState(t, req.ID, foyer.StateActive)
	guests := w.sim.Snapshot().Guests
	res, err := w.eng.ResetRedemption(ctx, kim, "partners", "admin@host")
	if err != nil {
		t.Fatal(err)
	}
	if res.UserID != req.UserID || len(res.Requests) != 1 || res.Requests[0] != req.ID {
		t.Fatalf("reset %+v: want guest %s and request %s", res, req.UserID, req.ID)
	}
	p, found, err := w.dir.Lookup(ctx, kim)
	if err != nil || !found {
		t.Fatalf("look kim up: %v, %v", found, err)
	}
	if p.ID != req.UserID || p.ExternalUserState != foyer.PendingAcceptance {
		t.Errorf("after the reset kim is %s %s, want %s PendingAcceptance", p.ID, p.ExternalUserState, req.UserID)
	}
	if got := w.sim.Snapshot().Guests; got != guests {
		t.Errorf("%d guests after the reset, want %d", got, guests)
	}
	w.waitState(t, req.ID, foyer.StateInvited)
	var ops []string
	err = w.store.InTx(ctx, func(tx store.Tx) error {
		return tx.AuditLog(ctx, store.AuditFilter{}, func(e store.AuditEntry) error {
			if e.Op == "reset redemption" {
				ops = append(ops, string(e.Kind)+" "+e.Actor)
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(ops) != 2 || ops[0] != "intent cli:admin@host" || ops[1] != "outcome cli:admin@host" {
		t.Errorf("reset audit %v, want intent then outcome by cli:admin@host", ops)
	}
	// Nobody holds the address: refused, nothing sent.
	if _, err := w.eng.ResetRedemption(ctx, "nobody@tailwind.example", "partners", "admin@host"); foyer.ErrorCode(err) != foyer.ENOTFOUND {
		t.Errorf("reset of an unknown address: %v, want not_found", err)
	}
	_ = engine.ResetResult{}
}

// TestResetRedemptionAnswerLost: the ledger holds a reset's intent
// without its outcome, as a command killed while the reset's answer was on
// its way leaves it. When the tenant shows the guest pending again the
// reset was carried out: it is recorded and not sent again (the sim's
// count of resets is the judge); for sender none a plain invitation gets
// the redeem URL the lost answer carried. When the tenant still shows the
// guest Accepted the reset never arrived, and is sent.
func TestResetRedemptionAnswerLost(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		sender     foyer.Sender
		carriedOut bool
		resets     int      // the sim's count after the command
		invites    int      // kim's invitations after the command (1 was the first)
		ops        []string // the reset's audit entries, "kind op"
		url        bool     // the command gives a redeem URL
		again      bool     // the guest redeemed again after the lost reset
	}{
		{"carried out, sender microsoft", foyer.SenderMicrosoft, true, 1, 2,
			[]string{"intent reset redemption", "outcome reset redemption"}, false, false},
		{"carried out, sender none", foyer.SenderNone, true, 1, 3,
			[]string{"intent reset redemption", "intent reset redemption: new redeem URL", "outcome reset redemption", "outcome reset redemption: new redeem URL"}, true, false},
		{"never arrived", foyer.SenderMicrosoft, false, 1, 2,
			[]string{"intent reset redemption", "intent reset redemption", "outcome reset redemption"}, false, false},
		{"carried out, redeemed again since", foyer.SenderMicrosoft, true, 1, 2,
			[]string{"intent reset redemption", "outcome reset redemption"}, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			w, req := newRedemptionWorld(t, "sqlite", foyer.Reminders{}, func(w *world) { w.profile.Sender = tc.sender })
			kim := foyer.Address("kim@tailwind.example")
			if err := w.sim.Redeem(string(kim)); err != nil {
				t.Fatal(err)
			}
			if _, err := w.eng.SyncRedemptions(ctx); err != nil {
				t.Fatal(err)
			}
			w.waitState(t, req.ID, foyer.StateActive)
			w.later(time.Minute) // the killed command came later than the redemption
			// What the killed command left: its intent, and the reset
			// carried out or not.
			target := string(kim) + " (" + req.UserID + ")"
			if err := w.store.InTx(ctx, func(tx store.Tx) error {
				return tx.AppendAudit(ctx, store.AuditEntry{Kind: store.AuditIntent, Actor: "cli:admin@host", Op: "reset redemption", Target: target})
			}); err != nil {
				t.Fatal(err)
			}
			if tc.carriedOut {
				if _, err := w.dir.Invite(ctx, directory.Invitation{Email: kim, RedirectURL: w.profile.RedirectURL, Reset: true, UserID: req.UserID}); err != nil {
					t.Fatal(err)
				}
			}
			if tc.again {
				w.later(time.Minute)
				if err := w.sim.Redeem(string(kim)); err != nil {
					t.Fatal(err)
				}
			}
			res, err := w.eng.ResetRedemption(ctx, kim, "partners", "admin@host")
			if err != nil {
				t.Fatal(err)
			}
			if tc.again {
				// The reset landed and the guest redeemed the new
				// invitation already: nothing to send, the request stays.
				if len(res.Requests) != 0 || res.RedeemURL != "" {
					t.Errorf("reset %+v: want no request moved and no redeem URL", res)
				}
				w.waitState(t, req.ID, foyer.StateActive)
			} else {
				if len(res.Requests) != 1 || res.Requests[0] != req.ID || (res.RedeemURL != "") != tc.url {
					t.Errorf("reset %+v: want request %s back to invited, a redeem URL %v", res, req.ID, tc.url)
				}
				w.waitState(t, req.ID, foyer.StateInvited)
			}
			st := w.sim.Stats()
			if n := st.ResetsByUser[strings.ToLower(req.UserID)]; n != tc.resets {
				t.Errorf("kim reset %d times, want %d", n, tc.resets)
			}
			if n := st.InvitationsByEmail[string(kim)]; n != tc.invites {
				t.Errorf("kim invited %d times, want %d", n, tc.invites)
			}
			var ops []string
			if err := w.store.InTx(ctx, func(tx store.Tx) error {
				return tx.AuditLog(ctx, store.AuditFilter{}, func(e store.AuditEntry) error {
					if strings.HasPrefix(e.Op, "reset redemption") {
						ops = append(ops, string(e.Kind)+" "+e.Op)
					}
					return nil
				})
			}); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ops, tc.ops) {
				t.Errorf("reset audit %q, want %q", ops, tc.ops)
			}
			// Recorded: a reset now is a new one, sent.
			if _, err := w.eng.ResetRedemption(ctx, kim, "partners", "admin@host"); err != nil {
				t.Fatal(err)
			}
			if n := w.sim.Stats().ResetsByUser[strings.ToLower(req.UserID)]; n != tc.resets+1 {
				t.Errorf("kim reset %d times after another reset, want %d", n, tc.resets+1)
			}
		})
	}
}

// recordingMailer keeps the invitation emails foyer sends itself.
type recordingMailer struct {
	mu   sync.Mutex
	sent []engine.InvitationMail
}

func (m *recordingMailer) Check(engine.InvitationMail) error { return nil }

func (m *recordingMailer) SendInvitation(_ context.Context, im engine.InvitationMail) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sent = append(m.sent, im)
	return "<" + im.ID + "@test>", nil
}

func (m *recordingMailer) mails() []engine.InvitationMail {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.sent)
}

// TestRemindersByFoyersEmail: for a profile whose sender is foyer, a
// reminder is foyer's own email with the new redeem URL the invitation
// sent again answered (Entra sends nothing), with a Message-ID of its own;
// the ledger forgets the URL once the email is out.
func TestRemindersByFoyersEmail(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := &recordingMailer{}
	w, req := newRedemptionWorld(t, "sqlite", foyer.Reminders{After: 7 * 24 * time.Hour, Max: 1}, func(w *world) {
		w.profile.Sender = foyer.SenderFoyer
		w.eng.Mailer = m
	})
	if got := m.mails(); len(got) != 1 || got[0].RedeemURL == "" {
		t.Fatalf("after the invitation foyer sent %+v, want one email with a redeem URL", got)
	}
	w.clock.Advance(8 * 24 * time.Hour)
	if n, err := w.eng.RemindPending(ctx); err != nil || n != 1 {
		t.Fatalf("reminders: %d, %v; want 1", n, err)
	}
	got := m.mails()
	if len(got) != 2 || got[1].RedeemURL == "" || got[1].RedeemURL == got[0].RedeemURL || got[1].ID == got[0].ID || got[1].To != req.Email {
		t.Fatalf("emails %+v: want a second one to %s with a new redeem URL and its own id", got, req.Email)
	}
	for _, mail := range w.sim.Mail() {
		if strings.EqualFold(mail.To, string(req.Email)) {
			t.Errorf("Entra sent an email to %s for a profile whose sender is foyer", mail.To)
		}
	}
	v, err := w.eng.View(ctx, req.ID)
	if err != nil {
		t.Fatal(err)
	}
	if v.Request.RedeemURL != "" {
		t.Errorf("the ledger keeps the redeem URL after the reminder's email")
	}
	w.clock.Advance(8 * 24 * time.Hour)
	if n, err := w.eng.RemindPending(ctx); err != nil || n != 0 || len(m.mails()) != 2 {
		t.Errorf("past max: %d reminders, %v, %d emails; want none more", n, err, len(m.mails()))
	}
	ops := w.audits(t, req.ID)
	for _, want := range []string{"intent send reminder 1's email", "outcome send reminder 1's email"} {
		if !contains(ops, want) {
			t.Errorf("audit %v lacks %q", ops, want)
		}
	}
}

// TestServeSyncsRedemptionsAtStart: in service mode the redemption job
// runs when the engine starts (and hourly): a guest who redeemed while
// foyer serve was down is active once it is back, without a command.
func TestServeSyncsRedemptionsAtStart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w, req := newRedemptionWorld(t, "sqlite", foyer.Reminders{}, func(w *world) { w.eng.RedemptionEvery = 0 })
	if err := w.eng.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := w.sim.Redeem(string(req.Email)); err != nil {
		t.Fatal(err)
	}
	if err := w.eng.Start(ctx); err != nil {
		t.Fatal(err)
	}
	w.waitState(t, req.ID, foyer.StateActive)
	w.mail(t, string(adele.Email), "accepted the invitation")
}

// TestRemindersAtOnce: several calls at once send a due reminder once:
// the step is started in the transaction that admits the invitation, and
// a call that finds it started sends nothing.
func TestRemindersAtOnce(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			w, _ := newRedemptionWorld(t, backend, foyer.Reminders{After: 24 * time.Hour, Max: 3})
			w.clock.Advance(25 * time.Hour)
			var (
				wg   sync.WaitGroup
				mu   sync.Mutex
				sent int
			)
			for range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					n, err := w.eng.RemindPending(ctx)
					if err != nil {
						t.Errorf("remind: %v", err)
					}
					mu.Lock()
					sent += n
					mu.Unlock()
				}()
			}
			wg.Wait()
			if n := w.sim.Stats().InvitationsByEmail["kim@tailwind.example"]; sent != 1 || n != 2 {
				t.Errorf("%d reminders sent, kim invited %d times; want 1 and 2", sent, n)
			}
		})
	}
}
