package admin_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/store"
	"github.com/foyer-dev/foyer/web"
	"github.com/foyer-dev/foyer/web/admin"
)

// fakeIntake is the engine as the pages see it: it holds requests and
// runs, records every call, and answers with foyer's rules where they are
// pure (CheckDecision) so that refusals are real ones.
type fakeIntake struct {
	mu         sync.Mutex
	requests   []*foyer.Request
	extensions []*foyer.Extension
	ends       map[string]time.Time // the end of access, by request
	policy     foyer.Policy
	calls      []string
	runErr     error
	// sweepRules are the lifecycle rules the engine carries, by tenant.
	sweepRules map[string]foyer.SweepRules
}

func (f *fakeIntake) record(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf(format, args...))
}

func (f *fakeIntake) called() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func (f *fakeIntake) find(id string) *foyer.Request {
	for _, r := range f.requests {
		if r.ID == id {
			return r
		}
	}
	return nil
}

func (f *fakeIntake) View(_ context.Context, id string) (foyer.RequestView, error) {
	f.record("View %s", id)
	r := f.find(id)
	if r == nil {
		return foyer.RequestView{}, foyer.Errorf(foyer.ENOTFOUND, "no request %s", id)
	}
	v := foyer.RequestView{Request: r, Verified: true,
		History:   []foyer.Transition{{To: foyer.StateReceived, At: r.CreatedAt, Note: "asked: " + r.Details.Justification}},
		Decisions: []foyer.Decision{{RequestID: id, Stage: 1, ApproverName: "<b>Mallory</b>", Approve: false, Justification: "<script>alert('d')</script>"}},
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	v.AccessEnds = f.ends[id]
	for _, x := range f.extensions {
		if x.RequestID == id {
			v.Extension = x
		}
	}
	v.CanExtend = !v.AccessEnds.IsZero() && (v.Extension == nil || v.Extension.State != foyer.ExtensionPending)
	return v, nil
}

// PendingExtensions lists the pending extensions CheckExtensionDecision
// lets who decide.
func (f *fakeIntake) PendingExtensions(_ context.Context, who foyer.Principal, limit int) ([]foyer.RequestView, error) {
	f.record("PendingExtensions %s limit=%d", who.ID, limit)
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []foyer.RequestView
	for _, x := range f.extensions {
		r := f.find(x.RequestID)
		if foyer.CheckExtensionDecision(r, x, f.policy, who, true, "") == nil {
			out = append(out, foyer.RequestView{Request: r, Extension: x, AccessEnds: f.ends[r.ID]})
		}
	}
	return out, nil
}

func (f *fakeIntake) DecideExtension(_ context.Context, id string, who foyer.Principal, d foyer.Decision) (*foyer.Extension, error) {
	approve, why := d.Approve, d.Justification
	f.record("DecideExtension %s by %s stage=%d approve=%t why=%q", id, who.ID, d.Stage, approve, why)
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, x := range f.extensions {
		if x.ID != id {
			continue
		}
		if err := foyer.CheckExtensionDecision(f.find(x.RequestID), x, f.policy, who, approve, why); err != nil {
			return nil, err
		}
		x.State, x.DecidedBy, x.Stage = foyer.ExtensionRejected, who.String(), 0
		if approve {
			x.State = foyer.ExtensionApproved
			f.ends[x.RequestID] = x.Until
		}
		return x, nil
	}
	return nil, foyer.Errorf(foyer.ENOTFOUND, "no extension %s", id)
}

func (f *fakeIntake) AskExtension(_ context.Context, id string, who foyer.Principal, until time.Time, why string) (*foyer.Extension, error) {
	f.record("AskExtension %s by %s until=%s why=%q", id, who.ID, until.Format(time.RFC3339), why)
	f.mu.Lock()
	defer f.mu.Unlock()
	end, ok := f.ends[id]
	switch {
	case f.find(id) == nil:
		return nil, foyer.Errorf(foyer.ENOTFOUND, "no request %s", id)
	case !ok:
		return nil, foyer.Errorf(foyer.EINVALID, "the access of request %s does not end", id)
	case !until.After(end):
		return nil, foyer.Errorf(foyer.EINVALID, "the end asked for is not later than the current end of access")
	}
	x := &foyer.Extension{ID: fmt.Sprintf("ext-%d", len(f.extensions)+1), RequestID: id, Until: until, Justification: why,
		AskedBy: who.String(), State: foyer.ExtensionPending, Stage: 1}
	f.extensions = append(f.extensions, x)
	return x, nil
}

func (f *fakeIntake) Pending(_ context.Context, who foyer.Principal, after string, limit int) ([]*foyer.Request, error) {
	f.record("Pending %s after=%s limit=%d", who.ID, after, limit)
	var out []*foyer.Request
	past := after == ""
	for _, r := range f.requests {
		if past && r.State == foyer.StatePendingApproval && len(out) < limit {
			out = append(out, r)
		}
		past = past || r.ID == after
	}
	return out, nil
}

func (f *fakeIntake) Decide(_ context.Context, id string, who foyer.Principal, d foyer.Decision) (*foyer.Request, error) {
	f.record("Decide %s by %s approve=%t why=%q stage=%d", id, who.ID, d.Approve, d.Justification, d.Stage)
	r := f.find(id)
	if r == nil {
		return nil, foyer.Errorf(foyer.ENOTFOUND, "no request %s", id)
	}
	if err := foyer.CheckDecision(r, f.policy, r.Stage, r.Escalated, who, d); err != nil {
		return nil, err
	}
	c := *r
	c.State = foyer.StateApproved
	if !d.Approve {
		c.State = foyer.StateRejected
	}
	return &c, nil
}

func (f *fakeIntake) ApproveRunAs(_ context.Context, id string, who foyer.Principal) (*foyer.Run, error) {
	f.record("ApproveRunAs %s by %s", id, who.ID)
	return &foyer.Run{ID: id}, f.runErr
}

func (f *fakeIntake) DiscardRunAs(_ context.Context, id string, who foyer.Principal) error {
	f.record("DiscardRunAs %s by %s", id, who.ID)
	return f.runErr
}

func (f *fakeIntake) ReleaseSweepAs(_ context.Context, id string, who foyer.Principal) (*foyer.Run, error) {
	f.record("ReleaseSweepAs %s by %s", id, who.UPN)
	return &foyer.Run{ID: id}, f.runErr
}

func (f *fakeIntake) SweepRules(tenant string) (foyer.SweepRules, bool) {
	r, ok := f.sweepRules[tenant]
	return r, ok
}

// fakeStore is a ledger holding runs, rows, guests and audit entries; a
// method the pages must not use panics (the embedded nil Tx).
type fakeStore struct {
	runs   []*foyer.Run
	rows   []foyer.Row
	guests []*foyer.Guest
	held   []store.HeldGrant
	audit  []store.AuditEntry
}

func (s *fakeStore) InTx(ctx context.Context, fn func(store.Tx) error) error {
	return fn(fakeTx{s: s})
}
func (s *fakeStore) Queue(*river.Config) (store.Queue, error) { panic("no queue") }
func (s *fakeStore) Close() error                             { return nil }

type fakeTx struct {
	store.Tx
	s *fakeStore
}

func (t fakeTx) ListRuns(_ context.Context, limit int, fn func(*foyer.Run) error) error {
	for i, r := range t.s.runs {
		if limit > 0 && i == limit {
			break
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

func (t fakeTx) Run(_ context.Context, id string) (*foyer.Run, error) {
	for _, r := range t.s.runs {
		if r.ID == id {
			return r, nil
		}
	}
	return nil, foyer.Errorf(foyer.ENOTFOUND, "no run %s", id)
}

func (t fakeTx) RunRows(_ context.Context, _ string, after int, fn func(foyer.Row) error) error {
	for _, r := range t.s.rows {
		if r.Line > after {
			if err := fn(r); err != nil {
				return err
			}
		}
	}
	return nil
}

func (t fakeTx) matching(q string) []*foyer.Guest {
	var out []*foyer.Guest
	for _, g := range t.s.guests {
		if strings.Contains(strings.ToLower(string(g.Email)+g.DisplayName+g.UPN), strings.ToLower(q)) {
			out = append(out, g)
		}
	}
	return out
}

func (t fakeTx) Guest(_ context.Context, id string) (*foyer.Guest, error) {
	for _, g := range t.s.guests {
		if g.UserID == id {
			return g, nil
		}
	}
	return nil, foyer.Errorf(foyer.ENOTFOUND, "no guest %s", id)
}

func (t fakeTx) HeldGrants(_ context.Context, id string) ([]store.HeldGrant, error) {
	var out []store.HeldGrant
	for _, h := range t.s.held {
		if h.UserID == id {
			out = append(out, h)
		}
	}
	return out, nil
}

func (t fakeTx) CountGuests(_ context.Context, q string) (int, error) { return len(t.matching(q)), nil }

func (t fakeTx) ListGuests(_ context.Context, f store.GuestFilter, fn func(*foyer.Guest) error) error {
	n := 0
	for _, g := range t.matching(f.Query) {
		if string(g.Email) <= f.After || n == f.Limit {
			continue
		}
		n++
		if err := fn(g); err != nil {
			return err
		}
	}
	return nil
}

func (t fakeTx) AuditLog(_ context.Context, f store.AuditFilter, fn func(store.AuditEntry) error) error {
	n := 0
	for _, e := range t.s.audit {
		if e.Seq <= f.AfterSeq || f.Limit > 0 && n == f.Limit || f.RunID != "" && e.RunID != f.RunID || f.Op != "" && e.Op != f.Op {
			continue
		}
		n++
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

const xss = `<script>alert(1)</script>"><img src=x onerror=alert(2)>`

var (
	approver = &foyer.Principal{ID: "oid-approver", UPN: "anna@contoso.example", Email: "anna@contoso.example", Groups: []string{"g-approvers"}}
	adminP   = &foyer.Principal{ID: "oid-admin", UPN: "root@contoso.example", Roles: []string{"Foyer.Admin"}}
)

// pages is the approver UI over the fakes, as signed in as who.
type pages struct {
	intake *fakeIntake
	store  *fakeStore
	srv    *httptest.Server
	h      *admin.Handler
}

func newPages(t *testing.T, who *foyer.Principal) *pages {
	t.Helper()
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	in := &fakeIntake{policy: foyer.Policy{Stages: []foyer.Stage{{Approvers: foyer.Approvers{Groups: []string{"g-approvers"}}}}}}
	for i := range 3 {
		in.requests = append(in.requests, &foyer.Request{
			ID: fmt.Sprintf("req-%d", i), Email: foyer.Address(fmt.Sprintf("p%d@partner.example", i)), DisplayName: xss, Profile: "partners",
			State: foyer.StatePendingApproval, Stage: 1, StageDue: now.Add(time.Hour), CreatedAt: now,
			Details: foyer.Details{Company: xss, Justification: xss, Answers: map[string]string{"project": xss}},
		})
	}
	in.requests[2].Email = "anna@contoso.example" // her own: refused
	// An active guest who asked for more time, and one whose access ends.
	in.requests = append(in.requests,
		&foyer.Request{ID: "req-act", Email: "kim@partner.example", DisplayName: xss, Profile: "partners", State: foyer.StateActive, CreatedAt: now},
		&foyer.Request{ID: "req-own", Email: "anna@contoso.example", Profile: "partners", State: foyer.StateActive, CreatedAt: now})
	in.ends = map[string]time.Time{"req-act": now.Add(10 * 24 * time.Hour), "req-own": now.Add(5 * 24 * time.Hour)}
	in.extensions = []*foyer.Extension{
		{ID: "ext-0", RequestID: "req-act", Until: now.Add(40 * 24 * time.Hour), Justification: xss, AskedBy: "guest kim@partner.example",
			State: foyer.ExtensionPending, Stage: 1, StageDue: now.Add(time.Hour)},
		{ID: "ext-own", RequestID: "req-own", Until: now.Add(20 * 24 * time.Hour), AskedBy: "guest anna@contoso.example",
			State: foyer.ExtensionPending, Stage: 1, StageDue: now.Add(time.Hour)},
	}
	st := &fakeStore{}
	h, err := admin.New(admin.Options{Issuer: "https://login.example/t/v2.0", ClientID: "c", RedirectURL: "https://foyer.example/admin/callback",
		Key: []byte(strings.Repeat("k", 32)), Admins: foyer.Approvers{Roles: []string{"Foyer.Admin"}}, CSRF: csrf,
		Intake: in, Store: st, Clock: foyer.ClockFunc(func() time.Time { return now })})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(muxAs(h, who))
	t.Cleanup(srv.Close)
	return &pages{intake: in, store: st, srv: srv, h: h}
}

func (p *pages) do(t *testing.T, method, path string, form url.Values) (int, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, p.srv.URL+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// noRaw fails if the page holds the payload unescaped.
func noRaw(t *testing.T, page string) {
	t.Helper()
	for _, bad := range []string{"<script>", "<img", "onerror=alert(2)>", "<b>Mallory"} {
		if strings.Contains(page, bad) {
			t.Errorf("page holds %q unescaped", bad)
		}
	}
	if !strings.Contains(page, "&lt;script&gt;") {
		t.Errorf("page does not show the payload escaped")
	}
}

func TestPagesEscape(t *testing.T) {
	t.Parallel()
	p := newPages(t, approver)
	for _, path := range []string{"/admin/requests", "/admin/requests/req-0"} {
		status, page := p.do(t, "GET", path, nil)
		if status != http.StatusOK {
			t.Fatalf("%s: status %d: %.400s", path, status, page)
		}
		noRaw(t, page)
		if !strings.Contains(page, `name="csrf" value="test-csrf"`) || !strings.Contains(page, `href="/static/foyer.css"`) || strings.Contains(page, "style=") {
			t.Errorf("%s: want the CSRF field, the shared CSS and no style attribute", path)
		}
	}
}

func TestDecideMany(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		form     url.Values
		status   int
		decides  int
		contains []string
	}{
		{"deny needs a justification", url.Values{"id": {"req-0", "req-1"}, "decision": {"deny"}}, http.StatusBadRequest, 0, []string{"Say why the request is denied"}},
		{"none ticked", url.Values{"decision": {"approve"}}, http.StatusBadRequest, 0, []string{"Tick at least one request"}},
		{"each outcome shown", url.Values{"id": {"req-0", "req-2", "req-9"}, "decision": {"approve"}}, http.StatusUnprocessableEntity, 3,
			[]string{"now approved", "nobody approves their own request", "no request req-9"}},
		{"deny with a reason", url.Values{"id": {"req-1"}, "decision": {"deny"}, "justification": {"unknown company"}}, http.StatusOK, 1, []string{"now rejected"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := newPages(t, approver)
			tc.form.Set("csrf", "test-csrf")
			status, page := p.do(t, "POST", "/admin/requests/decide", tc.form)
			if status != tc.status {
				t.Errorf("status %d, want %d", status, tc.status)
			}
			for _, s := range tc.contains {
				if !strings.Contains(page, s) {
					t.Errorf("page lacks %q", s)
				}
			}
			n := 0
			for _, c := range p.intake.called() {
				if strings.HasPrefix(c, "Decide ") {
					n++
					if !strings.Contains(c, "by oid-approver") {
						t.Errorf("call %q: not as the signed-in approver", c)
					}
				}
			}
			if n != tc.decides {
				t.Errorf("%d Decide calls, want %d: %v", n, tc.decides, p.intake.called())
			}
			noRaw(t, page)
		})
	}
}

func TestDecideOne(t *testing.T) {
	t.Parallel()
	p := newPages(t, approver)
	status, _ := p.do(t, "POST", "/admin/requests/req-0/decide", url.Values{"csrf": {"x"}, "decision": {"approve"}, "justification": {"known partner"}, "stage": {"1"}})
	if status != http.StatusSeeOther {
		t.Errorf("approve: status %d, want 303", status)
	}
	// The stage the page showed goes with the decision, so that the
	// engine refuses a decision made on a page left open too long.
	if calls := p.intake.called(); !strings.Contains(strings.Join(calls, "\n"), "Decide req-0 by") || !strings.Contains(strings.Join(calls, "\n"), "stage=1") {
		t.Errorf("the decision did not carry the page's stage: %q", calls)
	}
	status, page := p.do(t, "POST", "/admin/requests/req-2/decide", url.Values{"decision": {"approve"}})
	if status != http.StatusForbidden || !strings.Contains(page, "nobody approves their own request") {
		t.Errorf("own request: status %d, want 403 with the engine's message", status)
	}
	status, _ = p.do(t, "GET", "/admin/requests/nope", nil)
	if status != http.StatusNotFound {
		t.Errorf("unknown request: status %d, want 404", status)
	}
}

func TestRuns(t *testing.T) {
	t.Parallel()
	p := newPages(t, adminP)
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	p.store.runs = []*foyer.Run{
		{ID: "run-new", Profile: "partners", RecordedBy: "oid-admin", StartedAt: now, SealedAt: now},
		{ID: "run-old", Profile: "partners", RecordedBy: "bob", StartedAt: now, SealedAt: now, ApprovedAt: now, FinishedAt: now},
	}
	for i := 1; i <= 120; i++ {
		p.store.rows = append(p.store.rows, foyer.Row{Line: i + 1, Email: foyer.Address(fmt.Sprintf("r%d@x.example", i)), DisplayName: xss, Action: foyer.ActionInvite})
	}
	status, page := p.do(t, "GET", "/admin/runs", nil)
	if status != http.StatusOK || !strings.Contains(page, "awaiting approval") {
		t.Errorf("runs: status %d, want the planned run marked", status)
	}
	status, page = p.do(t, "GET", "/admin/runs/run-new", nil)
	if status != http.StatusOK || !strings.Contains(page, "/admin/runs/run-new/approve") || !strings.Contains(page, "?after=51") || strings.Contains(page, "r51@x.example") {
		t.Errorf("run page: status %d; want the approve form and 50 rows with a next link", status)
	}
	noRaw(t, page)
	_, page = p.do(t, "GET", "/admin/runs/run-old", nil)
	if strings.Contains(page, "/approve") {
		t.Errorf("a finished run offers approval")
	}
	if status, _ := p.do(t, "POST", "/admin/runs/run-new/approve", url.Values{}); status != http.StatusSeeOther {
		t.Errorf("approve: status %d, want 303", status)
	}
	p.intake.runErr = foyer.Errorf(foyer.EFORBIDDEN, "the admin who recorded a run may not approve it")
	status, page = p.do(t, "POST", "/admin/runs/run-new/approve", url.Values{})
	if status != http.StatusForbidden || !strings.Contains(page, "may not approve it") {
		t.Errorf("four eyes: status %d, want 403 with the engine's message", status)
	}
	status, _ = p.do(t, "POST", "/admin/runs/run-new/discard", url.Values{})
	if status != http.StatusForbidden {
		t.Errorf("discard refused: status %d", status)
	}
}

// TestHeldSweep: the page of a sweep held by the cap shows why (the held
// entry, with the plan's count and cap), what it would do and the cap
// serve carries, with Release and Discard for an admin, each posting with
// the CSRF token and calling the engine in the signed-in admin's name;
// without the tenant's rules it names foyer sweep release instead of
// offering Release; both routes are an admin's.
func TestHeldSweep(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	setup := func(t *testing.T, who *foyer.Principal, rules bool) *pages {
		p := newPages(t, who)
		p.store.runs = []*foyer.Run{{ID: "run-held", Kind: foyer.RunSweep, Profile: "contoso", Saved: true, RecordedBy: "cli:ops@host",
			StartedAt: now, SealedAt: now, Summary: foyer.Summary{Rows: 5, Actions: map[foyer.Action]int{
				foyer.ActionDisable: 3, foyer.ActionDelete: 1, foyer.ActionNoticeDisable: 1}}}}
		p.store.audit = []store.AuditEntry{
			{Seq: 1, RunID: "run-other", Op: "sweep held by cap", Detail: "not this run"},
			{Seq: 2, RunID: "run-held", Op: "sweep held by cap", Actor: "cli:ops@host", At: now,
				Detail: "4 guests to disable or delete, more than the cap allows (2 of 40 guests)"},
		}
		if rules {
			p.intake.sweepRules = map[string]foyer.SweepRules{"contoso": {Cap: foyer.SweepCap{Max: 2, MaxShare: 0.05}}}
		}
		return p
	}
	p := setup(t, adminP, true)
	status, page := p.do(t, "GET", "/admin/runs", nil)
	if status != http.StatusOK || !strings.Contains(page, "<strong>held by the cap</strong>") {
		t.Errorf("runs: status %d, want the sweep marked held", status)
	}
	status, page = p.do(t, "GET", "/admin/runs/run-held", nil)
	for _, want := range []string{"This sweep is held by the cap", "more than the cap allows (2 of 40 guests)", "cli:ops@host",
		"<dt>To disable</dt><dd>3</dd>", "<dt>To delete</dt><dd>1</dd>", "<dt>Notices</dt><dd>1</dd>",
		"at most 2 guests and at most 5% of the guests", `action="/admin/runs/run-held/release"`,
		`action="/admin/runs/run-held/discard"`, `name="csrf" value="test-csrf"`} {
		if !strings.Contains(page, want) {
			t.Errorf("held sweep page (status %d) lacks %q", status, want)
		}
	}
	if strings.Contains(page, "not this run") || strings.Contains(page, "/approve") {
		t.Errorf("held sweep page shows another run's entry or an approval")
	}
	if status, _ := p.do(t, "POST", "/admin/runs/run-held/release", url.Values{"csrf": {"test-csrf"}}); status != http.StatusSeeOther {
		t.Errorf("release: status %d, want 303", status)
	}
	if status, _ := p.do(t, "POST", "/admin/runs/run-held/discard", url.Values{"csrf": {"test-csrf"}}); status != http.StatusSeeOther {
		t.Errorf("discard: status %d, want 303", status)
	}
	if got := p.intake.called(); !slices.Contains(got, "ReleaseSweepAs run-held by root@contoso.example") || !slices.Contains(got, "DiscardRunAs run-held by oid-admin") {
		t.Errorf("engine calls %q; want the release and the discard in the admin's name", got)
	}
	p.intake.runErr = foyer.Errorf(foyer.ECONFLICT, "sweep run-held is applying, not held by the cap")
	if status, page := p.do(t, "POST", "/admin/runs/run-held/release", url.Values{"csrf": {"test-csrf"}}); status != http.StatusConflict || !strings.Contains(page, "not held by the cap") {
		t.Errorf("refused release: status %d, want 409 with the engine's message", status)
	}

	p = setup(t, adminP, false)
	_, page = p.do(t, "GET", "/admin/runs/run-held", nil)
	if strings.Contains(page, "/release") || !strings.Contains(page, "foyer sweep release run-held") {
		t.Errorf("without the tenant's rules the page offers Release, or does not name foyer sweep release")
	}

	// web enforces the role each route names: Release and Discard are
	// an admin's.
	for _, rt := range p.h.Routes() {
		if rt.Method == "POST" && (strings.HasSuffix(rt.Pattern, "/release") || strings.HasSuffix(rt.Pattern, "/discard")) && rt.Access != web.Admin {
			t.Errorf("%s %s is open to %v, want admins only", rt.Method, rt.Pattern, rt.Access)
		}
	}
}

func TestGuestsAndAuditPage(t *testing.T) {
	t.Parallel()
	p := newPages(t, adminP)
	for i := range 120 {
		p.store.guests = append(p.store.guests, &foyer.Guest{UserID: fmt.Sprint(i), Email: foyer.Address(fmt.Sprintf("g%03d@partner.example", i)), DisplayName: xss})
		p.store.audit = append(p.store.audit, store.AuditEntry{Seq: int64(i + 1), Kind: store.AuditChange, Op: "move", Actor: xss})
	}
	status, page := p.do(t, "GET", "/admin/guests?q=partner", nil)
	if status != http.StatusOK || !strings.Contains(page, "120 guests") || !strings.Contains(page, "after=g049%40partner.example") || strings.Contains(page, "g050@") {
		t.Errorf("guests page 1: status %d: %.300s", status, page)
	}
	noRaw(t, page)
	_, page = p.do(t, "GET", "/admin/guests?q=partner&after=g049%40partner.example", nil)
	if !strings.Contains(page, "g050@") || strings.Contains(page, "g049@") {
		t.Errorf("guests page 2 does not continue after g049")
	}
	status, page = p.do(t, "GET", "/admin/audit?after=100", nil)
	if status != http.StatusOK || !strings.Contains(page, "<td>101</td>") || strings.Contains(page, "<td>100</td>") || strings.Contains(page, "after=") {
		t.Errorf("audit after 100: status %d", status)
	}
	noRaw(t, page)
}

// TestGuestPage: a guest's page lists what foyer gave it, by profile.
func TestGuestPage(t *testing.T) {
	t.Parallel()
	p := newPages(t, adminP)
	p.store.guests = append(p.store.guests, &foyer.Guest{UserID: "u-1", Email: "kim@partner.example", DisplayName: xss})
	p.store.held = append(p.store.held,
		store.HeldGrant{UserID: "u-1", Profile: "partners", Key: "group:g-1", Grant: "group DemoApp"},
		store.HeldGrant{UserID: "u-1", Profile: "vendors", Key: "app_role:sp-1:r-1:", Grant: xss},
		store.HeldGrant{UserID: "u-2", Profile: "partners", Key: "group:g-9", Grant: "group Other"})
	status, page := p.do(t, "GET", "/admin/guests/u-1", nil)
	if status != http.StatusOK || !strings.Contains(page, "group DemoApp") || !strings.Contains(page, "vendors") || strings.Contains(page, "group Other") {
		t.Errorf("guest page: status %d: %.800s", status, page)
	}
	noRaw(t, page)
	if status, _ := p.do(t, "GET", "/admin/guests/nobody", nil); status != http.StatusNotFound {
		t.Errorf("unknown guest: status %d, want 404", status)
	}
	_, list := p.do(t, "GET", "/admin/guests", nil)
	if !strings.Contains(list, `href="/admin/guests/u-1"`) {
		t.Error("the guest list does not link the guest's page")
	}
}

func TestHome(t *testing.T) {
	t.Parallel()
	p := newPages(t, approver)
	status, page := p.do(t, "GET", "/admin", nil)
	if status != http.StatusOK || !strings.Contains(page, "3 requests you may decide") || strings.Contains(page, "/admin/runs") {
		t.Errorf("approver home: status %d: %.600s", status, page)
	}
}

// TestExtensionPages: /admin/requests marks the extensions the approver
// may decide, with both ends, and decides them with the same rules; a
// request's page shows when access ends and asks for more time.
func TestExtensionPages(t *testing.T) {
	t.Parallel()
	p := newPages(t, approver)
	status, page := p.do(t, "GET", "/admin/requests", nil)
	if status != http.StatusOK || !strings.Contains(page, "Extension</span>") || !strings.Contains(page, "2026-12-17 09:00 UTC") ||
		!strings.Contains(page, "2027-01-16 09:00 UTC") || !strings.Contains(page, `action="/admin/extensions/ext-0/decide"`) {
		t.Errorf("requests: status %d; want ext-0 marked, ending 2026-12-17, asked 2027-01-16, with its form: %.2000s", status, page)
	}
	if strings.Contains(page, "ext-own") {
		t.Error("the list offers the approver the extension of her own access")
	}
	noRaw(t, page)

	status, page = p.do(t, "POST", "/admin/extensions/ext-0/decide", url.Values{"csrf": {"test-csrf"}, "decision": {"deny"}})
	if status != http.StatusBadRequest || !strings.Contains(page, "Say why more time is denied") {
		t.Errorf("deny without a reason: status %d", status)
	}
	status, page = p.do(t, "POST", "/admin/extensions/ext-own/decide", url.Values{"csrf": {"test-csrf"}, "decision": {"approve"}, "request": {"req-own"}})
	if status != http.StatusForbidden || !strings.Contains(page, "nobody approves the extension of their own access") {
		t.Errorf("her own: status %d, want 403 with the rule's message", status)
	}
	status, _ = p.do(t, "POST", "/admin/extensions/ext-0/decide", url.Values{"csrf": {"test-csrf"}, "decision": {"approve"}, "stage": {"1"}})
	if status != http.StatusSeeOther || !strings.Contains(strings.Join(p.intake.called(), "\n"), "DecideExtension ext-0 by oid-approver stage=1 approve=true") {
		t.Errorf("approve: status %d, calls %q", status, p.intake.called())
	}

	status, page = p.do(t, "GET", "/admin/requests/req-act", nil)
	if status != http.StatusOK || !strings.Contains(page, "Access ends") || !strings.Contains(page, "2027-01-16 09:00 UTC") ||
		!strings.Contains(page, `action="/admin/requests/req-act/extensions"`) {
		t.Errorf("request page: status %d; want the new end and the ask form: %.3000s", status, page)
	}
	status, _ = p.do(t, "POST", "/admin/requests/req-act/extensions", url.Values{"csrf": {"test-csrf"}, "until": {"next year"}})
	if status != http.StatusBadRequest {
		t.Errorf("a bad day: status %d, want 400", status)
	}
	status, page = p.do(t, "POST", "/admin/requests/req-act/extensions", url.Values{"csrf": {"test-csrf"}, "until": {"2027-01-01"}})
	if status != http.StatusBadRequest || !strings.Contains(page, "not later than the current end") {
		t.Errorf("an earlier end: status %d, want 400 with the engine's message", status)
	}
	status, _ = p.do(t, "POST", "/admin/requests/req-act/extensions", url.Values{"csrf": {"test-csrf"}, "until": {"2027-02-01"}, "justification": {"audit"}})
	if status != http.StatusSeeOther || !strings.Contains(strings.Join(p.intake.called(), "\n"), "AskExtension req-act by oid-approver until=2027-02-01T00:00:00Z why=\"audit\"") {
		t.Errorf("ask: status %d, calls %q", status, p.intake.called())
	}
	_, page = p.do(t, "GET", "/admin/requests/req-act", nil)
	if !strings.Contains(page, `action="/admin/extensions/ext-3/decide"`) || strings.Contains(page, `action="/admin/requests/req-act/extensions"`) {
		t.Errorf("after the ask: want the pending extension's form and no ask form")
	}
}
