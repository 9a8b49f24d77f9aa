package engine_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/engine"
	"github.com/foyer-dev/foyer/sim"
	"github.com/foyer-dev/foyer/store"
)

const day = 24 * time.Hour

// inDemoApp reports whether the sim's DemoApp group holds the user.
func (w *serveWorld) inDemoApp(t *testing.T, uid string) bool {
	t.Helper()
	for _, g := range w.sim.Snapshot().Groups {
		if g.DisplayName == "DemoApp" && slices.ContainsFunc(g.Members, func(m string) bool { return strings.EqualFold(m, uid) }) {
			return true
		}
	}
	return false
}

// mailsAbout counts the messages received so far whose subject contains s.
func (w *serveWorld) mailsAbout(t *testing.T, s string) map[string]int {
	t.Helper()
	n := map[string]int{}
	for _, m := range w.smtp.Messages() {
		p, err := m.Parse()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(p.Subject(), s) {
			for _, to := range m.To {
				n[strings.ToLower(to)]++
			}
		}
	}
	return n
}

// expiryWorld is a redemption world whose profile partners has an expiry
// of 30 days and a notice 7 days before, and a profile visitors with the
// same grant and no expiry, which lee@tailwind.example holds.
func expiryWorld(t *testing.T, backend string) (w *serveWorld, kim, lee *foyer.Request) {
	t.Helper()
	w, kim = newRedemptionWorld(t, backend, foyer.Reminders{}, func(w *world) {
		v := *w.profile
		v.Name = "visitors"
		w.eng.Profiles["visitors"] = &v
		w.profile.Expiry, w.profile.ExpiryNotice = 30*day, 7*day
		// A sponsor named by object id: reached through the directory.
		seeded, err := w.sim.Seed(sim.SeedData{Users: []sim.SeedUser{{DisplayName: "Lynne", UserPrincipalName: "lynne@contoso.example", Mail: "lynne@contoso.example"}}})
		if err != nil {
			t.Fatal(err)
		}
		w.profile.Sponsors = []string{seeded.Users[0].ID}
	})
	rc, err := w.eng.Submit(context.Background(), foyer.Submission{Profile: "visitors", Email: "lee@tailwind.example", DisplayName: "Lee", By: &adele})
	if err != nil {
		t.Fatal(err)
	}
	lee = w.waitState(t, rc.Request.ID, foyer.StateInvited).Request
	return w, kim, lee
}

// TestExpiry: a guest of a profile with an expiry of 30 days is told (with
// the sponsor) once, at day 23; nothing is expired at day 29; at day 31
// its grants are taken back by a revoke run recorded by expiry (the sim's
// group no longer holds it) and the request is expired. Expiring again
// does nothing, and a profile without expiry is left alone.
func TestExpiry(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) { t.Parallel(); testExpiry(t, backend) })
	}
}

func testExpiry(t *testing.T, backend string) {
	ctx := context.Background()
	w, kim, lee := expiryWorld(t, backend)
	if !w.inDemoApp(t, kim.UserID) || !w.inDemoApp(t, lee.UserID) {
		t.Fatal("the guests are not in DemoApp after their invitation")
	}
	if err := w.sim.Redeem("kim@tailwind.example"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.eng.SyncRedemptions(ctx); err != nil {
		t.Fatal(err)
	}
	w.waitState(t, kim.ID, foyer.StateActive)
	expire := func(step string, notices, expired int) engine.ExpiryDone {
		t.Helper()
		done, err := w.eng.Expire(ctx, nil)
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		if done.Notices != notices || done.Expired != expired {
			t.Fatalf("%s: %d notices, %d expired; want %d, %d", step, done.Notices, done.Expired, notices, expired)
		}
		return done
	}
	expire("day 0", 0, 0)
	w.clock.Advance(22 * day)
	expire("day 22", 0, 0)
	w.clock.Advance(day + time.Hour)
	expire("day 23", 1, 0)
	w.mail(t, "kim@tailwind.example", "ends on")
	w.mail(t, string(adele.Email), "ends on")
	w.mail(t, "lynne@contoso.example", "ends on")
	expire("day 23 again", 0, 0)
	w.clock.Advance(6 * day)
	expire("day 29", 0, 0)
	if got := w.mailsAbout(t, "ends on"); got["kim@tailwind.example"] != 1 || got[string(adele.Email)] != 1 {
		t.Errorf("expiry notices sent %v, want one each to kim and adele", got)
	}
	if !w.inDemoApp(t, kim.UserID) {
		t.Fatal("kim left DemoApp before the end")
	}
	w.clock.Advance(2 * day)
	done := expire("day 31", 0, 1)
	if len(done.Runs) != 1 || done.Runs[0].Kind != foyer.RunRevoke || done.Runs[0].RecordedBy != engine.ExpiryActor {
		t.Fatalf("runs %+v, want one revoke run recorded by %s", done.Runs, engine.ExpiryActor)
	}
	run := w.waitRun(t, done.Runs[0].ID)
	v := w.waitState(t, kim.ID, foyer.StateExpired)
	if v.Request.State != foyer.StateExpired {
		t.Fatalf("kim's request is %s", v.Request.State)
	}
	if w.inDemoApp(t, kim.UserID) {
		t.Error("kim is still in DemoApp after expiry")
	}
	if !w.inDemoApp(t, lee.UserID) {
		t.Error("lee (profile without expiry) left DemoApp")
	}
	var rows []foyer.Row
	err := w.store.InTx(ctx, func(tx store.Tx) error {
		return tx.RunRows(ctx, run.ID, 0, func(r foyer.Row) error { rows = append(rows, r); return nil })
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].Email != "kim@tailwind.example" || rows[0].Result != foyer.ResultRevoked {
		t.Errorf("expiry run rows %+v, want kim revoked", rows)
	}
	if got := w.audits(t, kim.ID); !contains(got, "outcome revoke group DemoApp") {
		t.Errorf("audit %v lacks the revoke's outcome", got)
	}
	expire("day 31 again", 0, 0)
	w.clock.Advance(365 * day)
	expire("a year later", 0, 0)
	if lv := w.waitState(t, lee.ID, foyer.StateInvited); lv.Request.State != foyer.StateInvited {
		t.Errorf("lee's request is %s", lv.Request.State)
	}
	w.noDuplicates(t)
}

// TestExpiryExtend: an extension moves the end: the guest is not expired
// at the old end, is told again before the new one, and is expired after.
func TestExpiryExtend(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w, kim, _ := expiryWorld(t, "sqlite")
	if _, err := w.eng.Extend(ctx, "kim@tailwind.example", "visitors", w.clock.Now().Add(day), "alex"); foyer.ErrorCode(err) != foyer.EINVALID {
		t.Errorf("extending a profile without expiry: %v, want EINVALID", err)
	}
	if _, err := w.eng.Extend(ctx, "kim@tailwind.example", "partners", w.clock.Now().Add(-day), "alex"); foyer.ErrorCode(err) != foyer.EINVALID {
		t.Errorf("extending into the past: %v, want EINVALID", err)
	}
	w.clock.Advance(24 * day)
	if done, err := w.eng.Expire(ctx, nil); err != nil || done.Notices != 1 {
		t.Fatalf("day 24: %+v, %v; want the notice", done, err)
	}
	until := w.clock.Now().Add(30 * day) // day 54
	if _, err := w.eng.Extend(ctx, "kim@tailwind.example", "partners", until, "alex"); err != nil {
		t.Fatal(err)
	}
	w.clock.Advance(7 * day) // day 31
	p, err := w.eng.PlanExpiry(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Expire) != 0 || len(p.Items) != 1 || !p.Items[0].Extended || !p.Items[0].Ends.Equal(until.UTC().Truncate(time.Second)) {
		t.Fatalf("day 31 after an extension to %s: %+v", until, p)
	}
	w.clock.Advance(17 * day) // day 48: the new end's notice
	if done, err := w.eng.Expire(ctx, nil); err != nil || done.Notices != 1 || done.Expired != 0 {
		t.Fatalf("day 48: %+v, %v; want a second notice", done, err)
	}
	w.clock.Advance(7 * day) // day 55
	done, err := w.eng.Expire(ctx, nil)
	if err != nil || done.Expired != 1 {
		t.Fatalf("day 55: %+v, %v; want kim expired", done, err)
	}
	w.waitState(t, kim.ID, foyer.StateExpired)
	if got := w.audits(t, kim.ID); !contains(got, "change expiry extend") {
		t.Errorf("audit %v lacks the extension", got)
	}
}

// TestExpiryInServe: in service mode the periodic redemption job expires
// by itself: once the clock passes the end, the request becomes expired
// and its group membership is gone, without any call of the test's.
func TestExpiryInServe(t *testing.T) {
	t.Parallel()
	w, kim := newRedemptionWorld(t, "sqlite", foyer.Reminders{}, func(w *world) {
		w.profile.Expiry = 30 * day
		w.eng.RedemptionEvery = 100 * time.Millisecond
	})
	if !w.inDemoApp(t, kim.UserID) {
		t.Fatal("kim is not in DemoApp after the invitation")
	}
	w.clock.Advance(29 * day)
	time.Sleep(500 * time.Millisecond) // several periods of the job, which must leave kim alone
	if v := w.waitState(t, kim.ID, foyer.StateInvited); !w.inDemoApp(t, kim.UserID) {
		t.Fatalf("kim (%s) left DemoApp before the end", v.Request.State)
	}
	w.clock.Advance(2 * day)
	w.waitState(t, kim.ID, foyer.StateExpired)
	if w.inDemoApp(t, kim.UserID) {
		t.Error("kim is still in DemoApp after expiry")
	}
}

// TestExpiresOn: a profile's expires_on day ends access then when it comes
// before the expiry (and the expiry when it comes first).
func TestExpiresOn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var on time.Time
	w, kim := newRedemptionWorld(t, "sqlite", foyer.Reminders{}, func(w *world) {
		on = time.Now().UTC().Add(10 * day).Truncate(day)
		w.profile.Expiry, w.profile.ExpiresOn = 30*day, on
	})
	p, err := w.eng.PlanExpiry(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Items) != 1 || !p.Items[0].Ends.Equal(on) {
		t.Fatalf("plan %+v, want kim ending on %s", p.Items, on)
	}
	w.clock.Advance(on.Sub(w.clock.Now()) - time.Minute)
	if done, err := w.eng.Expire(ctx, nil); err != nil || done.Expired != 0 {
		t.Fatalf("a minute before expires_on: %+v, %v; want nothing expired", done, err)
	}
	w.clock.Advance(time.Minute)
	if done, err := w.eng.Expire(ctx, nil); err != nil || done.Expired != 1 {
		t.Fatalf("on expires_on: %+v, %v; want kim expired", done, err)
	}
	w.waitState(t, kim.ID, foyer.StateExpired)
}
