package engine_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/foyer-dev/foyer"
)

// planEnd returns what PlanExpiry says of a request: when it ends, and
// whether an extension set it.
func (w *serveWorld) planEnd(t *testing.T, requestID string) (time.Time, bool) {
	t.Helper()
	p, err := w.eng.PlanExpiry(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range p.Items {
		if it.Request.ID == requestID {
			return it.Ends, it.Extended
		}
	}
	t.Fatalf("PlanExpiry does not list request %s: %+v", requestID, p.Items)
	return time.Time{}, false
}

// expire runs expiry and checks how many requests it expired.
func (w *serveWorld) expire(t *testing.T, step string, expired int) {
	t.Helper()
	done, err := w.eng.Expire(context.Background(), nil)
	if err != nil {
		t.Fatalf("%s: %v", step, err)
	}
	if done.Expired != expired {
		t.Fatalf("%s: %d expired, want %d", step, done.Expired, expired)
	}
}

// TestExtensionAutomatic: kim's domain is one of the profile's automatic
// domains, so a sponsor's ask for more time is approved at once by the
// policy: PlanExpiry and the view show the new end, nothing expires at
// the old end, and kim expires at the new one. Asks beyond
// extension_max, not later than the current end, or from a guest of the
// tenant are refused.
func TestExtensionAutomatic(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) { t.Parallel(); testExtensionAutomatic(t, backend) })
	}
}

func testExtensionAutomatic(t *testing.T, backend string) {
	ctx := context.Background()
	w, kim, lee := expiryWorld(t, backend)
	end, _ := w.planEnd(t, kim.ID)
	if got, ok, err := w.eng.AccessEnds(ctx, kim.ID); err != nil || !ok || !got.Equal(end) {
		t.Fatalf("AccessEnds = %v, %v, %v; want %v", got, ok, err, end)
	}
	if _, ok, err := w.eng.AccessEnds(ctx, lee.ID); err != nil || ok {
		t.Fatalf("AccessEnds of a profile without expiry = %v, %v; want no end", ok, err)
	}

	_, err := w.eng.AskExtension(ctx, kim.ID, adele, w.clock.Now().Add(31*day), "")
	code(t, err, foyer.EINVALID) // beyond extension_max (the expiry, 30 days)
	_, err = w.eng.AskExtension(ctx, kim.ID, adele, end.Add(-time.Hour), "")
	code(t, err, foyer.EINVALID) // not later than the current end
	_, err = w.eng.AskExtension(ctx, lee.ID, adele, w.clock.Now().Add(10*day), "")
	code(t, err, foyer.EINVALID) // visitors' access does not end
	guest := foyer.Principal{ID: "id-g", UPN: "g_partner.example#EXT#@contoso.example", Email: "g@partner.example"}
	_, err = w.eng.AskExtension(ctx, kim.ID, guest, end.Add(day), "")
	code(t, err, foyer.EFORBIDDEN)

	w.clock.Advance(20 * day)
	until := w.clock.Now().Add(20 * day).Truncate(time.Second) // day 40
	x, err := w.eng.AskExtension(ctx, kim.ID, adele, until, "the project runs on")
	if err != nil {
		t.Fatal(err)
	}
	if x.State != foyer.ExtensionApproved || x.DecidedBy != "policy" || !x.Until.Equal(until) {
		t.Fatalf("extension %+v, want approved by the policy until %v", x, until)
	}
	if got, extended := w.planEnd(t, kim.ID); !got.Equal(until) || !extended {
		t.Fatalf("PlanExpiry: kim ends %v (extended %v), want %v", got, extended, until)
	}
	v, err := w.eng.View(ctx, kim.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !v.AccessEnds.Equal(until) || v.Extension == nil || v.Extension.ID != x.ID || !v.CanExtend {
		t.Fatalf("view: ends %v, extension %+v, can extend %v; want %v, %s, true", v.AccessEnds, v.Extension, v.CanExtend, until, x.ID)
	}
	w.mail(t, "kim@tailwind.example", "now ends on")
	w.mail(t, string(adele.Email), "now ends on")
	if got := w.audits(t, kim.ID); !contains(got, "change ask extension") || !contains(got, "change approve extension") ||
		!contains(got, "change expiry extend") {
		t.Errorf("audit %v lacks the ask, the approval or the extend", got)
	}

	w.clock.Advance(11 * day) // day 31: the profile's end
	w.expire(t, "day 31", 0)
	w.clock.Advance(10 * day) // day 41
	w.expire(t, "day 41", 1)
	w.waitState(t, kim.ID, foyer.StateExpired)
	if _, err := w.eng.AskExtension(ctx, kim.ID, adele, w.clock.Now().Add(day), ""); foyer.ErrorCode(err) != foyer.ECONFLICT {
		t.Errorf("asking for an expired request: %v, want ECONFLICT", err)
	}
}

// TestExtensionStages: where an approver decides, an ask waits at stage
// 1; the guest and whoever asked may not approve it; a second ask is
// refused while it waits; the approver's approval moves the end; a
// denial keeps it; a stage's time limit denies; and a pending extension
// lapses when access ends.
func TestExtensionStages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w, kim, _ := expiryWorld(t, "sqlite")
	w.waitRun(t, kim.RunID)
	w.profile.Approval = foyer.Policy{Stages: []foyer.Stage{{Approvers: foyer.Approvers{Users: []string{"alex@contoso.example", "megan@contoso.example"}}, Timeout: time.Hour}}}
	w.clock.Advance(20 * day) // the end is 10 days away, extension_max 30
	end, _ := w.planEnd(t, kim.ID)

	// Approved by an approver.
	until := end.Add(5 * day).Truncate(time.Second) // ends are kept to the second
	x, err := w.eng.AskExtension(ctx, kim.ID, megan, until, "one more sprint")
	if err != nil {
		t.Fatal(err)
	}
	if x.State != foyer.ExtensionPending || x.Stage != 1 || x.StageDue.IsZero() {
		t.Fatalf("extension %+v, want pending at stage 1", x)
	}
	m := w.mail(t, "alex@contoso.example", "awaits your decision")
	if !strings.Contains(m.Text, publicURL+"/admin/requests/"+kim.ID) || !strings.Contains(m.Text, "one more sprint") {
		t.Errorf("the approver's email lacks the link or the justification:\n%s", m.Text)
	}
	_, err = w.eng.AskExtension(ctx, kim.ID, adele, until.Add(day), "")
	code(t, err, foyer.ECONFLICT) // one pending at a time
	if err == nil || !strings.Contains(err.Error(), x.ID) {
		t.Errorf("the refusal %v does not name the pending extension %s", err, x.ID)
	}
	if ps, err := w.eng.PendingExtensions(ctx, alex, 0); err != nil || len(ps) != 1 || ps[0].Extension.ID != x.ID || !ps[0].AccessEnds.Equal(end) {
		t.Fatalf("PendingExtensions(alex) = %+v, %v; want the extension, ending %v now", ps, err, end)
	}
	if ps, err := w.eng.PendingExtensions(ctx, megan, 0); err != nil || len(ps) != 0 {
		t.Fatalf("PendingExtensions(megan, who asked) = %+v, %v; want none", ps, err)
	}
	kimself := foyer.Principal{ID: "id-kim", Email: "kim@tailwind.example", Name: "Kim"}
	_, err = w.eng.DecideExtension(ctx, x.ID, kimself, foyer.Decision{Approve: true, Justification: ""})
	code(t, err, foyer.EFORBIDDEN) // the guest does not extend their own access
	_, err = w.eng.DecideExtension(ctx, x.ID, megan, foyer.Decision{Approve: true, Justification: ""})
	code(t, err, foyer.EFORBIDDEN) // who asked does not decide
	_, err = w.eng.DecideExtension(ctx, x.ID, adele, foyer.Decision{Approve: true, Justification: ""})
	code(t, err, foyer.EFORBIDDEN) // not an approver
	_, err = w.eng.DecideExtension(ctx, x.ID, alex, foyer.Decision{Approve: true, Stage: 2})
	code(t, err, foyer.ECONFLICT) // decided on a page that showed another stage
	if x, err = w.eng.DecideExtension(ctx, x.ID, alex, foyer.Decision{Approve: true, Justification: ""}); err != nil {
		t.Fatal(err)
	}
	if x.State != foyer.ExtensionApproved || x.DecidedBy != alex.String() {
		t.Fatalf("after alex's approval: %+v", x)
	}
	if got, extended := w.planEnd(t, kim.ID); !got.Equal(until) || !extended {
		t.Fatalf("PlanExpiry after the approval: %v (extended %v), want %v", got, extended, until)
	}
	w.mail(t, "kim@tailwind.example", "now ends on")
	w.mail(t, "megan@contoso.example", "now ends on") // who asked
	_, err = w.eng.DecideExtension(ctx, x.ID, alex, foyer.Decision{Approve: true, Justification: ""})
	code(t, err, foyer.ECONFLICT)

	// Denied: the end stays.
	y, err := w.eng.AskExtension(ctx, kim.ID, adele, until.Add(3*day), "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = w.eng.DecideExtension(ctx, y.ID, alex, foyer.Decision{Approve: false, Justification: " "})
	code(t, err, foyer.EINVALID) // a denial says why
	if y, err = w.eng.DecideExtension(ctx, y.ID, alex, foyer.Decision{Approve: false, Justification: "the project ended"}); err != nil {
		t.Fatal(err)
	}
	if y.State != foyer.ExtensionRejected || y.Note != "the project ended" {
		t.Fatalf("after the denial: %+v", y)
	}
	if got, _ := w.planEnd(t, kim.ID); !got.Equal(until) {
		t.Fatalf("the end moved to %v on a denial, want %v", got, until)
	}
	w.mail(t, "kim@tailwind.example", "was not given")

	// Nobody decides in time: denied.
	z, err := w.eng.AskExtension(ctx, kim.ID, adele, until.Add(3*day), "")
	if err != nil {
		t.Fatal(err)
	}
	w.clock.Advance(2 * time.Hour)
	w.wakeTimeouts(t)
	z = w.waitExtension(t, kim.ID, z.ID, foyer.ExtensionRejected)
	if !strings.Contains(z.Note, "nobody decided in time") {
		t.Errorf("timed out with %q", z.Note)
	}
	if got, _ := w.planEnd(t, kim.ID); !got.Equal(until) {
		t.Fatalf("the end moved to %v on a time out, want %v", got, until)
	}

	// Pending when access ends: lapsed.
	last, err := w.eng.AskExtension(ctx, kim.ID, adele, until.Add(3*day), "")
	if err != nil {
		t.Fatal(err)
	}
	w.clock.Advance(until.Sub(w.clock.Now()) + time.Minute)
	w.expire(t, "at the end", 1)
	w.waitState(t, kim.ID, foyer.StateExpired)
	last = w.waitExtension(t, kim.ID, last.ID, foyer.ExtensionLapsed)
	_, err = w.eng.DecideExtension(ctx, last.ID, alex, foyer.Decision{Approve: true, Justification: ""})
	code(t, err, foyer.ECONFLICT)
	if got := w.audits(t, kim.ID); !contains(got, "change lapse extension") || !contains(got, "change reject extension") {
		t.Errorf("audit %v lacks the lapse or the rejection", got)
	}
}

// TestExtensionEscalates: a stage that escalates on its time limit goes
// to its alternates, who decide.
func TestExtensionEscalates(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w, kim, _ := expiryWorld(t, "sqlite")
	w.waitRun(t, kim.RunID)
	w.profile.Approval = foyer.Policy{Stages: []foyer.Stage{{Approvers: foyer.Approvers{Users: []string{"alex@contoso.example"}},
		Timeout: time.Hour, OnTimeout: foyer.TimeoutEscalate, Alternates: foyer.Approvers{Users: []string{"megan@contoso.example"}}}}}
	w.clock.Advance(20 * day)
	end, _ := w.planEnd(t, kim.ID)
	x, err := w.eng.AskExtension(ctx, kim.ID, adele, end.Add(day), "")
	if err != nil {
		t.Fatal(err)
	}
	w.clock.Advance(2 * time.Hour)
	w.wakeTimeouts(t)
	w.mail(t, "megan@contoso.example", "awaits your decision")
	_, err = w.eng.DecideExtension(ctx, x.ID, alex, foyer.Decision{Approve: true, Justification: ""})
	code(t, err, foyer.EFORBIDDEN) // the alternates decide now
	if x, err = w.eng.DecideExtension(ctx, x.ID, megan, foyer.Decision{Approve: true, Justification: ""}); err != nil || x.State != foyer.ExtensionApproved {
		t.Fatalf("megan's approval: %+v, %v", x, err)
	}
}

// TestExtensionByLink: the guest's expiry notice carries a link; through
// it the guest asks for more time as "guest <address>". A profile whose
// policy cannot decide for the guest refuses the ask, saying an
// administrator extends.
func TestExtensionByLink(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w, kim, _ := expiryWorld(t, "sqlite")
	w.clock.Advance(24 * day)
	if done, err := w.eng.Expire(ctx, nil); err != nil || done.Notices != 1 {
		t.Fatalf("day 24: %+v, %v; want the notice", done, err)
	}
	m := w.mail(t, "kim@tailwind.example", "ends on")
	got := linkRE.FindStringSubmatch(m.Text)
	if got == nil {
		t.Fatalf("the guest's expiry notice holds no link:\n%s", m.Text)
	}
	sm := w.mail(t, string(adele.Email), "ends on")
	if linkRE.MatchString(sm.Text) || !strings.Contains(sm.Text, publicURL+"/extend/"+kim.ID) || strings.Contains(sm.Text, "/admin/") {
		t.Errorf("the sponsor's notice holds the guest's link or an approver's page, or lacks the sponsors' /extend page:\n%s", sm.Text)
	}
	v, err := w.eng.Status(ctx, got[1])
	if err != nil || v.Request.ID != kim.ID || !v.CanExtend || v.AccessEnds.IsZero() {
		t.Fatalf("Status of the notice's link = %+v, %v; want kim's request, which may be extended", v, err)
	}
	until := v.AccessEnds.Add(3 * day)
	x, err := w.eng.AskExtensionByLink(ctx, got[1], until, "still working")
	if err != nil {
		t.Fatal(err)
	}
	if x.AskedBy != "guest kim@tailwind.example" || x.State != foyer.ExtensionApproved {
		t.Fatalf("extension %+v, want approved, asked by the guest", x)
	}
	if _, err := w.eng.AskExtensionByLink(ctx, "no-such-link", until, ""); foyer.ErrorCode(err) != foyer.ENOTFOUND {
		t.Errorf("an unknown link: %v, want ENOTFOUND", err)
	}

	// Neither automatic nor staged for kim's domain: refused.
	w.waitRun(t, kim.RunID)
	w.profile.Approval = foyer.Policy{AutoDomains: []string{"elsewhere.example"}}
	_, err = w.eng.AskExtensionByLink(ctx, got[1], until.Add(day), "")
	code(t, err, foyer.EFORBIDDEN)
	if err == nil || !strings.Contains(err.Error(), "foyer guests extend") {
		t.Errorf("the refusal %v does not say an administrator extends", err)
	}
	if v, err := w.eng.View(ctx, kim.ID); err != nil || v.CanExtend {
		t.Errorf("the view says more time may be asked for: %v", err)
	}
}

// waitExtension waits until a request's extension is in state want.
func (w *serveWorld) waitExtension(t *testing.T, requestID, id string, want foyer.ExtensionState) *foyer.Extension {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		v, err := w.eng.View(context.Background(), requestID)
		if err != nil {
			t.Fatal(err)
		}
		if x := v.Extension; x != nil && x.ID == id && x.State == want {
			return x
		}
		if time.Now().After(deadline) {
			t.Fatalf("extension %s of request %s is %+v after 30 s, want %s", id, requestID, v.Extension, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
