package engine_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/engine"
	"github.com/foyer-dev/foyer/notify/email"
	"github.com/foyer-dev/foyer/notify/email/smtptest"
	"github.com/foyer-dev/foyer/sim"
	"github.com/foyer-dev/foyer/store"
)

// testClock is a clock a test moves by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// serveWorld is a world whose engine works as foyer serve's does, with a
// real SMTP server for its notices.
type serveWorld struct {
	*world
	smtp  *smtptest.Server
	clock *testClock
}

const publicURL = "https://foyer.example"

var (
	alex  = foyer.Principal{ID: "id-alex", UPN: "alex@contoso.example", Name: "Alex Wilber", Email: "alex@contoso.example"}
	megan = foyer.Principal{ID: "id-megan", UPN: "megan@contoso.example", Name: "Megan Bowen", Email: "megan@contoso.example"}
	adele = foyer.Principal{ID: "id-adele", UPN: "adele@contoso.example", Name: "Adele Vance", Email: "adele@contoso.example"}
)

func newServe(t *testing.T, ledger func(*testing.T) store.Store, pol foyer.Policy) *serveWorld {
	t.Helper()
	w := newWorldOn(t, ledger, sim.Options{})
	w.profile.Public = true
	w.profile.Approval = pol
	srv := smtptest.Start(t, smtptest.Options{})
	sender, err := email.New(email.Options{Host: srv.Host, Port: srv.Port, From: "foyer@contoso.example", Username: srv.Username,
		Password: srv.Password, RootCAs: srv.RootCAs})
	if err != nil {
		t.Fatal(err)
	}
	clock := &testClock{t: time.Now().UTC()}
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
	return &serveWorld{world: w, smtp: srv, clock: clock}
}

// waitState waits until the request is in state want.
func (w *serveWorld) waitState(t *testing.T, id string, want foyer.State) foyer.RequestView {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		v, err := w.eng.View(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if v.Request.State == want {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("request %s is %s after 30 s, want %s (failure %+v)", id, v.Request.State, want, v.Request.Failure)
		}
		<-tick.C
	}
}

// mail waits for a message to addr whose subject contains subject.
func (w *serveWorld) mail(t *testing.T, addr, subject string) *smtptest.Parsed {
	t.Helper()
	return w.mailWhere(t, addr, fmt.Sprintf("about %q", subject), func(p *smtptest.Parsed) bool {
		return strings.Contains(p.Subject(), subject)
	})
}

// mailWhere waits for a message to addr that match accepts; what says
// what was awaited, for the failure.
func (w *serveWorld) mailWhere(t *testing.T, addr, what string, match func(*smtptest.Parsed) bool) *smtptest.Parsed {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for n := 1; ; n++ {
		ms, err := w.smtp.Wait(ctx, n)
		for _, m := range ms {
			if !slices.ContainsFunc(m.To, func(to string) bool { return strings.EqualFold(to, addr) }) {
				continue
			}
			p, perr := m.Parse()
			if perr != nil {
				t.Fatal(perr)
			}
			if match(p) {
				return p
			}
		}
		if err != nil {
			t.Fatalf("no email to %s %s after 30 s; %d messages arrived", addr, what, len(ms))
		}
		n = len(ms)
	}
}

// noDuplicates checks that no two messages carry the same Message-ID.
func (w *serveWorld) noDuplicates(t *testing.T) {
	t.Helper()
	seen := map[string]bool{}
	for _, m := range w.smtp.Messages() {
		p, err := m.Parse()
		if err != nil {
			t.Fatal(err)
		}
		id := p.Header.Get("Message-Id")
		if seen[id] {
			t.Errorf("message %s (%q) was sent twice", id, p.Subject())
		}
		seen[id] = true
	}
}

var linkRE = regexp.MustCompile(regexp.QuoteMeta(publicURL) + `/r/([A-Za-z0-9_-]+)`)

func code(t *testing.T, err error, want string) {
	t.Helper()
	if got := foyer.ErrorCode(err); got != want {
		t.Fatalf("error %v: code %q, want %q", err, got, want)
	}
}

func TestIntakeTwoStages(t *testing.T) {
	t.Parallel()
	for name, ledger := range ledgers {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			testIntakeTwoStages(t, ledger)
		})
	}
}

func testIntakeTwoStages(t *testing.T, ledger func(*testing.T) store.Store) {
	ctx := context.Background()
	w := newServe(t, ledger, foyer.Policy{Stages: []foyer.Stage{
		{Approvers: foyer.Approvers{Users: []string{"alex@contoso.example"}}},
		{Approvers: foyer.Approvers{Sponsor: true}},
	}})
	rc, err := w.eng.Submit(ctx, foyer.Submission{Profile: "partners", Email: " Zoe@Wingtip.example ", DisplayName: "Zoé Martin",
		Details: foyer.Details{Justification: "the Wingtip project", Sponsor: "megan@contoso.example", Language: "fr", RequestedBy: "forged"}})
	if err != nil {
		t.Fatal(err)
	}
	req := rc.Request
	if rc.Again || rc.Token == "" || req.State != foyer.StateReceived || req.Origin != foyer.OriginPortal || req.Details.RequestedBy != "" {
		t.Fatalf("receipt %+v, request %+v: want a new received portal request with a link, nobody named as its maker", rc, req)
	}

	// The link arrives by email, in French.
	m := w.mail(t, "Zoe@wingtip.example", "Confirmez")
	got := linkRE.FindStringSubmatch(m.Text)
	if got == nil || got[1] != rc.Token {
		t.Fatalf("the verification email does not hold the link %s/r/%s:\n%s", publicURL, rc.Token, m.Text)
	}
	if v, err := w.eng.Status(ctx, rc.Token); err != nil || v.Verified || v.Expired {
		t.Fatalf("Status before the proof = %+v, %v; want unverified, not expired", v, err)
	}
	if ps, err := w.eng.Pending(ctx, alex, "", 0); err != nil || len(ps) != 0 {
		t.Fatalf("Pending before the proof = %v, %v; want none", ps, err)
	}

	v, err := w.eng.Confirm(ctx, rc.Token)
	if err != nil {
		t.Fatal(err)
	}
	if r := v.Request; r.State != foyer.StatePendingApproval || r.Stage != 1 || !v.Verified || r.StageDue.IsZero() {
		t.Fatalf("after Confirm: %+v (verified %v); want pending at stage 1", r, v.Verified)
	}
	if v2, err := w.eng.Confirm(ctx, rc.Token); err != nil || v2.Request.State != foyer.StatePendingApproval {
		t.Fatalf("Confirm again = %v, %v; want the same request, unchanged", v2.Request, err)
	}
	m = w.mail(t, "alex@contoso.example", "awaits your decision")
	if !strings.Contains(m.Text, publicURL+"/admin/requests/"+req.ID) || !strings.Contains(m.Text, "the Wingtip project") {
		t.Errorf("the approver's email lacks the link or the justification:\n%s", m.Text)
	}
	if ps, err := w.eng.Pending(ctx, alex, "", 0); err != nil || len(ps) != 1 || ps[0].ID != req.ID {
		t.Fatalf("Pending(alex) = %v, %v; want the request", ps, err)
	}
	if ps, err := w.eng.Pending(ctx, megan, "", 0); err != nil || len(ps) != 0 {
		t.Fatalf("Pending(megan) at stage 1 = %v, %v; want none", ps, err)
	}

	_, err = w.eng.Decide(ctx, req.ID, megan, foyer.Decision{Approve: true})
	code(t, err, foyer.EFORBIDDEN)
	if _, err := w.eng.Decide(ctx, req.ID, alex, foyer.Decision{Approve: true, Stage: 1}); err != nil {
		t.Fatal(err)
	}
	_, err = w.eng.Decide(ctx, req.ID, alex, foyer.Decision{Approve: true, Stage: 1})
	code(t, err, foyer.ECONFLICT) // the page went stale: stage 2 now
	_, err = w.eng.Decide(ctx, req.ID, alex, foyer.Decision{Approve: true})
	code(t, err, foyer.EFORBIDDEN) // stage 2 is the sponsor's
	_, err = w.eng.Decide(ctx, req.ID, megan, foyer.Decision{Approve: false})
	code(t, err, foyer.EINVALID) // a denial says why
	self := megan
	self.Email = "zoe@wingtip.example"
	_, err = w.eng.Decide(ctx, req.ID, self, foyer.Decision{Approve: true})
	code(t, err, foyer.EFORBIDDEN) // nobody approves their own request
	w.mail(t, "megan@contoso.example", "awaits your decision")

	if _, err := w.eng.Decide(ctx, req.ID, megan, foyer.Decision{Approve: true, Justification: "known partner"}); err != nil {
		t.Fatal(err)
	}
	v = w.waitState(t, req.ID, foyer.StateInvited)
	w.mail(t, "zoe@wingtip.example", "approuvée")
	w.mail(t, "zoe@wingtip.example", "est prêt")

	// Invited once, with the profile's grant and the sponsor.
	if n := w.sim.Stats().InvitationsByEmail["zoe@wingtip.example"]; n != 1 {
		t.Errorf("zoe was invited %d times, want once", n)
	}
	uid := v.Request.UserID
	snap := w.sim.Snapshot()
	member := false
	for _, g := range snap.Groups {
		if g.DisplayName == "DemoApp" && slices.ContainsFunc(g.Members, func(m string) bool { return strings.EqualFold(m, uid) }) {
			member = true
		}
	}
	if !member {
		t.Errorf("the guest %s is not in DemoApp", uid)
	}
	mp, found, err := w.dir.Lookup(ctx, "megan@contoso.example")
	if err != nil || !found {
		t.Fatalf("look megan up: %v %v", found, err)
	}
	if sp := snap.Sponsors[uid]; !slices.ContainsFunc(sp, func(s string) bool { return strings.EqualFold(s, mp.ID) }) {
		t.Errorf("the guest's sponsors are %v, want megan (%s)", sp, mp.ID)
	}
	if len(v.Decisions) != 2 || v.Decisions[0].Approver != alex.ID || v.Decisions[1].Approver != megan.ID {
		t.Errorf("decisions %+v, want alex's then megan's", v.Decisions)
	}
	var path []foyer.State
	for _, h := range v.History {
		path = append(path, h.To)
	}
	want := []foyer.State{foyer.StateReceived, foyer.StateVerified, foyer.StatePendingApproval, foyer.StateApproved, foyer.StateProvisioning, foyer.StateInvited}
	if !slices.Equal(path, want) {
		t.Errorf("history %v, want %v", path, want)
	}
	run := w.waitRun(t, v.Request.RunID)
	if run.RecordedBy != megan.String() || run.ApprovedBy != megan.String() || run.Summary.Results[foyer.ResultInvited] != 1 {
		t.Errorf("the request's run: recorded by %q, approved by %q, results %v; want megan's, one invited", run.RecordedBy, run.ApprovedBy, run.Summary.Results)
	}

	// Asking again: the person holds the profile.
	_, err = w.eng.Submit(ctx, foyer.Submission{Profile: "partners", Email: "zoe@wingtip.example"})
	code(t, err, foyer.ECONFLICT)
	w.noDuplicates(t)
}

// waitRun waits until a run is finished.
func (w *serveWorld) waitRun(t *testing.T, id string) *foyer.Run {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		run, err := w.eng.Run(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if run.State() == foyer.RunFinished {
			return run
		}
		if time.Now().After(deadline) {
			t.Fatalf("run %s is %s after 30 s", id, run.State())
		}
		time.Sleep(20 * time.Millisecond) // polling the ledger, bounded by the deadline
	}
}

func TestIntakeRefusals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newServe(t, ledgers["sqlite"], foyer.Policy{AutoDomains: []string{"tailwind.example"}})
	cases := []struct {
		name string
		s    foyer.Submission
		code string
	}{
		{"bad address", foyer.Submission{Email: "not an address"}, foyer.EINVALID},
		{"internal address", foyer.Submission{Email: "someone@contoso.example"}, foyer.EFORBIDDEN},
		{"denied domain", foyer.Submission{Email: "someone@gmail.com"}, foyer.EFORBIDDEN},
		{"unknown question", foyer.Submission{Email: "a@tailwind.example", Details: foyer.Details{Answers: map[string]string{"x": "y"}}}, foyer.EINVALID},
		{"unknown profile", foyer.Submission{Profile: "nope", Email: "a@tailwind.example"}, foyer.ENOTFOUND},
	}
	for _, c := range cases {
		if c.s.Profile == "" {
			c.s.Profile = "partners"
		}
		_, err := w.eng.Submit(ctx, c.s)
		if foyer.ErrorCode(err) != c.code {
			t.Errorf("%s: %v, want code %s", c.name, err, c.code)
		}
	}
	w.profile.Public = false
	_, err := w.eng.Submit(ctx, foyer.Submission{Profile: "partners", Email: "a@tailwind.example"})
	code(t, err, foyer.EFORBIDDEN)
}

// TestIntakeAutomatic: an employee asks for a guest of an automatic
// domain; nobody approves, the guest is invited with the employee as
// sponsor, and nothing is asked of the guest's address.
func TestIntakeAutomatic(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newServe(t, ledgers["sqlite"], foyer.Policy{AutoDomains: []string{"tailwind.example"}})
	w.profile.Public = false // employees may still ask
	rc, err := w.eng.Submit(ctx, foyer.Submission{Profile: "partners", Email: "kim@tailwind.example", DisplayName: "Kim", By: &adele})
	if err != nil {
		t.Fatal(err)
	}
	if rc.Token != "" || rc.Request.Details.Sponsor != adele.UPN || rc.Request.Details.RequestedBy != adele.ID {
		t.Fatalf("receipt %+v: want no link, adele as sponsor and maker", rc)
	}
	v := w.waitState(t, rc.Request.ID, foyer.StateInvited)
	if !v.Verified {
		t.Errorf("an employee's request should need no proof")
	}
	if n := w.sim.Stats().InvitationsByEmail["kim@tailwind.example"]; n != 1 {
		t.Errorf("kim was invited %d times, want once", n)
	}
	run := w.waitRun(t, v.Request.RunID)
	if run.RecordedBy != "policy" {
		t.Errorf("run recorded by %q, want policy", run.RecordedBy)
	}
	// Nothing was sent to prove kim's address; kim hears it is ready.
	w.mail(t, "kim@tailwind.example", "is ready")
	for _, m := range w.smtp.Messages() {
		p, _ := m.Parse()
		if strings.Contains(p.Subject(), "Confirm") {
			t.Errorf("an employee's request sent a verification email: %q", p.Subject())
		}
	}
	w.noDuplicates(t)

	// Revoked from the approver UI: a revoke run takes the group back.
	_, err = w.eng.RevokeRequest(ctx, rc.Request.ID, megan)
	if err != nil {
		t.Fatal(err)
	}
	w.waitState(t, rc.Request.ID, foyer.StateRevoked)
	for _, g := range w.sim.Snapshot().Groups {
		if g.DisplayName == "DemoApp" && slices.ContainsFunc(g.Members, func(m string) bool { return strings.EqualFold(m, v.Request.UserID) }) {
			t.Errorf("the revoked guest is still in DemoApp")
		}
	}
	_, err = w.eng.RevokeRequest(ctx, rc.Request.ID, megan)
	code(t, err, foyer.ECONFLICT)
}

// TestIntakeNoStages: a request from a domain that is not automatic, for a
// profile without stages, is rejected, and the requester told why.
func TestIntakeNoStages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newServe(t, ledgers["sqlite"], foyer.Policy{AutoDomains: []string{"tailwind.example"}})
	rc, err := w.eng.Submit(ctx, foyer.Submission{Profile: "partners", Email: "lou@elsewhere.example", By: &adele})
	if err != nil {
		t.Fatal(err)
	}
	if rc.Request.State != foyer.StateRejected {
		t.Fatalf("request %s, want rejected", rc.Request.State)
	}
	w.mail(t, "lou@elsewhere.example", "was not approved")
}

func TestIntakeTimeouts(t *testing.T) {
	t.Parallel()
	for _, escalate := range []bool{false, true} {
		name := "deny"
		if escalate {
			name = "escalate"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			testTimeout(t, escalate)
		})
	}
}

func testTimeout(t *testing.T, escalate bool) {
	ctx := context.Background()
	st := foyer.Stage{Approvers: foyer.Approvers{Users: []string{"alex@contoso.example"}}, Timeout: time.Hour}
	if escalate {
		st.OnTimeout, st.Alternates = foyer.TimeoutEscalate, foyer.Approvers{Users: []string{"megan@contoso.example"}}
	}
	w := newServe(t, ledgers["sqlite"], foyer.Policy{Stages: []foyer.Stage{st}})
	rc, err := w.eng.Submit(ctx, foyer.Submission{Profile: "partners", Email: "sam@wingtip.example", By: &adele})
	if err != nil {
		t.Fatal(err)
	}
	id := rc.Request.ID
	if rc.Request.State != foyer.StatePendingApproval {
		t.Fatalf("request %s, want pending approval", rc.Request.State)
	}
	w.clock.Advance(2 * time.Hour)
	w.wakeTimeouts(t)
	if !escalate {
		v := w.waitState(t, id, foyer.StateRejected)
		if h := v.History[len(v.History)-1]; !strings.Contains(h.Note, "nobody decided in time") {
			t.Errorf("rejected with %q, want nobody decided in time", h.Note)
		}
		w.mail(t, "sam@wingtip.example", "was not approved")
		return
	}
	w.mail(t, "megan@contoso.example", "awaits your decision")
	v, err := w.eng.View(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if r := v.Request; r.State != foyer.StatePendingApproval || !r.Escalated {
		t.Fatalf("after the time limit: %s escalated %v; want pending, escalated", r.State, r.Escalated)
	}
	_, err = w.eng.Decide(ctx, id, alex, foyer.Decision{Approve: true})
	code(t, err, foyer.EFORBIDDEN) // the alternates decide now
	if _, err := w.eng.Decide(ctx, id, megan, foyer.Decision{Approve: true}); err != nil {
		t.Fatal(err)
	}
	w.waitState(t, id, foyer.StateInvited)
	// The escalated stage's own time limit finds the request decided.
	w.clock.Advance(2 * time.Hour)
	w.wakeTimeouts(t)
	if v, err := w.eng.View(ctx, id); err != nil || v.Request.State != foyer.StateInvited {
		t.Errorf("after the second time limit: %v, %v; want still invited", v.Request.State, err)
	}
}

// wakeTimeouts makes the approval time limits' jobs due now, as if their
// time had come (the jobs compare the request's due time with the
// engine's clock).
func (w *serveWorld) wakeTimeouts(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	err := w.store.InTx(ctx, func(tx store.Tx) error {
		_, err := tx.WakeJobs(ctx, "intake") // the engine's queue of intake jobs
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestIntakeExpiredLink: a link opened after its time proves nothing;
// asking again sends a fresh link to the same request.
func TestIntakeExpiredLink(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newServe(t, ledgers["sqlite"], foyer.Policy{AutoDomains: []string{"wingtip.example"}})
	rc, err := w.eng.Submit(ctx, foyer.Submission{Profile: "partners", Email: "ria@wingtip.example"})
	if err != nil {
		t.Fatal(err)
	}
	w.clock.Advance(31 * time.Minute)
	_, err = w.eng.Confirm(ctx, rc.Token)
	code(t, err, foyer.EINVALID)
	if !strings.Contains(foyer.ErrorMessage(err), "expired") {
		t.Errorf("message %q does not say the link expired", foyer.ErrorMessage(err))
	}
	if v, err := w.eng.Status(ctx, rc.Token); err != nil || !v.Expired || v.Verified {
		t.Errorf("Status of the expired link = %+v, %v; want expired, unverified", v, err)
	}
	_, err = w.eng.Confirm(ctx, "not-a-token")
	code(t, err, foyer.ENOTFOUND)

	again, err := w.eng.Submit(ctx, foyer.Submission{Profile: "partners", Email: "ria@wingtip.example"})
	if err != nil {
		t.Fatal(err)
	}
	if !again.Again || again.Request.ID != rc.Request.ID || again.Token == "" || again.Token == rc.Token {
		t.Fatalf("second submission: %+v; want the same request again with a new link", again)
	}
	if _, err := w.eng.Confirm(ctx, again.Token); err != nil {
		t.Fatal(err)
	}
	w.waitState(t, rc.Request.ID, foyer.StateInvited)
	w.noDuplicates(t)
}

// TestIntakeIdempotency: the API's key answers the same request for the
// same body and refuses another body.
func TestIntakeIdempotency(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newServe(t, ledgers["sqlite"], foyer.Policy{Stages: []foyer.Stage{{Approvers: foyer.Approvers{Users: []string{"alex@contoso.example"}}}}})
	crm := &foyer.Principal{ID: "apikey:crm", App: true}
	s := foyer.Submission{Profile: "partners", Email: "ola@wingtip.example", By: crm, IdempotencyKey: "k1", BodyHash: "h1"}
	first, err := w.eng.Submit(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	r := first.Request
	if first.Again || r.Origin != foyer.OriginAPI || r.State != foyer.StatePendingApproval || r.Details.Sponsor != "" || r.Details.RequestedBy != crm.ID {
		t.Fatalf("first: %+v, %+v; want a new API request pending approval, made by the key, no sponsor", first, r)
	}
	second, err := w.eng.Submit(ctx, s)
	if err != nil || !second.Again || second.Request.ID != r.ID {
		t.Fatalf("the same key and body: %+v, %v; want the same request again", second, err)
	}
	s.BodyHash, s.Email = "h2", "other@wingtip.example"
	_, err = w.eng.Submit(ctx, s)
	code(t, err, foyer.ECONFLICT)
	// Another client's key of the same name is its own.
	s.By = &foyer.Principal{ID: "apikey:erp", App: true}
	third, err := w.eng.Submit(ctx, s)
	if err != nil || third.Again {
		t.Fatalf("another client's key: %+v, %v; want a new request", third, err)
	}
}

// TestFourEyes: a profile that wants a second admin on its CSV runs; the
// admin who recorded a run may not approve it, nor may an admin who is not
// a run approver; the run approver's approval has the run worked.
func TestFourEyes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newServe(t, ledgers["sqlite"], foyer.Policy{RunApprovers: foyer.Approvers{Users: []string{"megan@contoso.example", "alex@contoso.example"}}})
	rows := w.plan(t, []byte("email,display_name\nnia@wingtip.example,Nia\nnoa@wingtip.example,Noa\n"))
	run, err := w.eng.Record(ctx, engine.RecordInput{Profile: "partners", Source: "two.csv", Digest: "d2", Saved: true,
		RecordedBy: alex.UPN, Plan: planOf(rows)})
	if err != nil {
		t.Fatal(err)
	}
	if run.RecordedBy != alex.UPN {
		t.Fatalf("RecordedBy = %q", run.RecordedBy)
	}
	_, err = w.eng.ApproveRunAs(ctx, run.ID, alex)
	code(t, err, foyer.EFORBIDDEN)
	_, err = w.eng.ApproveRunAs(ctx, run.ID, adele)
	code(t, err, foyer.EFORBIDDEN)
	err = w.eng.DiscardRunAs(ctx, run.ID, adele)
	code(t, err, foyer.EFORBIDDEN)
	if _, err := w.eng.ApproveRunAs(ctx, run.ID, megan); err != nil {
		t.Fatal(err)
	}
	done := w.waitRun(t, run.ID)
	if done.ApprovedBy != megan.String() || done.Summary.Results[foyer.ResultInvited] != 2 {
		t.Errorf("run approved by %q, results %v; want megan, two invited", done.ApprovedBy, done.Summary.Results)
	}
	for _, a := range []string{"nia@wingtip.example", "noa@wingtip.example"} {
		if n := w.sim.Stats().InvitationsByEmail[a]; n != 1 {
			t.Errorf("%s invited %d times, want once", a, n)
		}
	}
	err = w.eng.DiscardRunAs(ctx, run.ID, megan)
	code(t, err, foyer.ECONFLICT)
}

// TestPurgeOnStart: in service mode, the engine deletes, when it starts and
// hourly, the links that expired, the idempotency keys older than their
// time and the seen versions of a trigger's input that a later version
// replaced 30 days ago; the requests and the applied versions stay.
func TestPurgeOnStart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newServe(t, ledgers["sqlite"], foyer.Policy{Stages: []foyer.Stage{{Approvers: foyer.Approvers{Users: []string{"alex@contoso.example"}}}}})
	link, err := w.eng.Submit(ctx, foyer.Submission{Profile: "partners", Email: "ria@wingtip.example"})
	if err != nil {
		t.Fatal(err)
	}
	crm := &foyer.Principal{ID: "apikey:crm", App: true}
	keyed, err := w.eng.Submit(ctx, foyer.Submission{Profile: "partners", Email: "ola@wingtip.example", By: crm, IdempotencyKey: "k1", BodyHash: "h1"})
	if err != nil {
		t.Fatal(err)
	}
	items := []store.TriggerItem{
		{Trigger: "drops", Item: "/in/a.csv", Version: "1@1", State: store.ItemSeen},
		{Trigger: "drops", Item: "/in/b.csv", Version: "1@1", State: store.ItemApplied, RunID: "run-b"},
	}
	err = w.store.InTx(ctx, func(tx store.Tx) error {
		for _, it := range items {
			if err := tx.PutTriggerItem(ctx, it); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	w.clock.Advance(time.Second)
	// a.csv changed: its first version is superseded; b.csv was applied,
	// then changed too, and its applied version stays.
	err = w.store.InTx(ctx, func(tx store.Tx) error {
		for _, it := range []store.TriggerItem{
			{Trigger: "drops", Item: "/in/a.csv", Version: "2@2", State: store.ItemSeen},
			{Trigger: "drops", Item: "/in/b.csv", Version: "2@2", State: store.ItemSeen},
		} {
			if err := tx.PutTriggerItem(ctx, it); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// A restart past both times: the link expired 90 days after it was
	// made, the key after 7.
	if err := w.eng.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	w.clock.Advance(91 * 24 * time.Hour)
	if err := w.eng.Start(ctx); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		_, lerr := w.eng.Status(ctx, link.Token)
		var kerr error
		var ierr error
		_ = w.store.InTx(ctx, func(tx store.Tx) error {
			_, kerr = tx.IdempotencyKeyOf(ctx, crm.ID, "k1")
			_, ierr = tx.TriggerItem(ctx, "drops", "/in/a.csv", "1@1")
			return nil
		})
		if foyer.ErrorCode(lerr) == foyer.ENOTFOUND && foyer.ErrorCode(kerr) == foyer.ENOTFOUND && foyer.ErrorCode(ierr) == foyer.ENOTFOUND {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 30 s the link answers %v, the key %v and a.csv's first version %v; want all purged", lerr, kerr, ierr)
		}
		<-tick.C
	}
	for _, id := range []string{link.Request.ID, keyed.Request.ID} {
		if _, err := w.eng.View(ctx, id); err != nil {
			t.Errorf("request %s after the purge: %v", id, err)
		}
	}
	_ = w.store.InTx(ctx, func(tx store.Tx) error {
		for _, v := range []struct{ item, version string }{{"/in/a.csv", "2@2"}, {"/in/b.csv", "1@1"}, {"/in/b.csv", "2@2"}} {
			if _, err := tx.TriggerItem(ctx, "drops", v.item, v.version); err != nil {
				t.Errorf("%s %s after the purge: %v; want it kept", v.item, v.version, err)
			}
		}
		return nil
	})
}
