package cli_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/foyer-dev/foyer/cmd/foyer/cli"
	"github.com/foyer-dev/foyer/internal/browser"
	"github.com/foyer-dev/foyer/notify/email/smtptest"
	"github.com/foyer-dev/foyer/sim"
	"github.com/foyer-dev/foyer/sim/simtest"
	"github.com/foyer-dev/foyer/store"
	"github.com/foyer-dev/foyer/store/sqlite"
)

// The end-to-end tests of foyer serve: the emulated tenant, a real SMTP
// server and foyer serve in this process, and people in headless Chromium.
// Each page a person sees is kept as a screenshot (FOYER_ARTIFACTS, else
// $TMPDIR/foyer-artifacts; scripts/screenshots refreshes docs/screenshots).

const (
	e2eDeadline  = time.Minute // for what the job queue does behind a page
	e2eRequester = "rosa.diaz@fabrikam.example"
	e2eProfile   = "requests"
	e2eAlternate = "alternate@contoso.example"
)

// offsetClock is the time everyone in a test reads (foyer serve and the
// emulated tenant): the real time plus an offset the test moves forward,
// so that a stage's timeout passes without waiting for it.
type offsetClock struct{ offset atomic.Int64 }

func (c *offsetClock) Now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *offsetClock) advance(d time.Duration) { c.offset.Add(int64(d)) }

// serveE2E is one running foyer serve beside its tenant and mail server.
type serveE2E struct {
	t        *testing.T
	sim      *sim.Server
	mail     *smtptest.Server
	clock    *offsetClock
	url      string      // foyer serve's public URL
	dir      string      // the configuration's directory
	config   string      // the configuration's path
	approver string      // in the approvers group, stage 1
	password string      // every employee's
	log      *hookWriter // foyer serve's log
}

// startServeE2E starts the tenant (on the test's clock), the SMTP server
// and foyer serve, configured as foyer demo --serve configures it plus an
// smtp: section, on a free port (the web app's redirect URI names it).
// edit, when not nil, rewrites the configuration's text first.
func startServeE2E(t *testing.T, edit func(config string) string) *serveE2E {
	t.Helper()
	w := &serveE2E{t: t, clock: &offsetClock{}, dir: t.TempDir()}
	w.sim = simtest.Start(t, sim.Options{Now: w.clock.Now})
	w.mail = smtptest.Start(t, smtptest.Options{})
	port := freePort(t)
	config, approver, password, err := cli.WriteServeSimFiles(w.sim, w.dir, port)
	if err != nil {
		t.Fatal(err)
	}
	w.approver, w.password, w.config = approver, password, config
	writeFile(t, w.dir, "smtp-password", w.mail.Password+"\n")
	if err := os.Chmod(filepath.Join(w.dir, "smtp-password"), 0o600); err != nil {
		t.Fatal(err)
	}
	text, err := os.ReadFile(config)
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		text = []byte(edit(string(text)))
	}
	text = fmt.Appendf(text, "smtp:\n  host: %s\n  port: %d\n  from: access@contoso.example\n  username: %s\n  password_file: smtp-password\n  tls: starttls\n  ca_file: %s\n",
		w.mail.Host, w.mail.Port, w.mail.Username, w.mail.CAFile)
	if err := os.WriteFile(config, text, 0o644); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	stdout := &hookWriter{trigger: "\n", hook: func() { close(ready) }}
	stderr := &hookWriter{}
	w.log = stderr
	done := make(chan int, 1)
	go func() {
		done <- cli.Run(ctx, cli.Env{Args: []string{"serve", "--config", config, "--log-level", "info"}, Clock: w.clock,
			Stdin: strings.NewReader(""), Stdout: stdout, Stderr: stderr})
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != cli.ExitOK && code != cli.ExitInterrupted {
			t.Errorf("foyer serve exited %d", code)
		}
		if t.Failed() {
			t.Logf("foyer serve's log:\n%s", stderr.String())
		}
	})
	timer := time.NewTimer(e2eDeadline)
	defer timer.Stop()
	select {
	case <-ready:
	case code := <-done:
		done <- code
		t.Fatalf("foyer serve exited %d before it served:\n%s", code, stderr.String())
	case <-timer.C:
		t.Fatalf("foyer serve did not say where it listens within %s:\n%s", e2eDeadline, stderr.String())
	}
	var s struct{ URL string }
	if err := json.Unmarshal([]byte(stdout.String()), &s); err != nil || s.URL == "" {
		t.Fatalf("foyer serve's ready line %q: %v", stdout.String(), err)
	}
	w.url = s.URL
	return w
}

// freePort returns a loopback port nothing listens on just now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// until calls ok until it is true, for up to e2eDeadline.
func until(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(e2eDeadline)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %s", what, e2eDeadline)
		}
		select {
		case <-tick.C:
		case <-t.Context().Done():
			t.Fatalf("%s: %v", what, t.Context().Err())
		}
	}
}

// link waits for an email to to whose subject holds subject, and returns
// the link in its text that matches path (a regular expression for the
// link's path).
func (w *serveE2E) link(to, subject, path string) string {
	w.t.Helper()
	re := regexp.MustCompile(regexp.QuoteMeta(w.url) + path)
	found := ""
	until(w.t, fmt.Sprintf("an email to %s about %q", to, subject), func() bool {
		for _, m := range w.mail.Messages() {
			if !slices.Contains(m.To, to) {
				continue
			}
			p, err := m.Parse()
			if err != nil {
				w.t.Fatalf("an email to %s: %v", to, err)
			}
			if strings.Contains(p.Subject(), subject) {
				if found = re.FindString(p.Text); found == "" {
					w.t.Fatalf("the email to %s, %q, has no link like %s:\n%s", to, p.Subject(), re, p.Text)
				}
				return true
			}
		}
		return false
	})
	return found
}

// ask is a person asking for access on the request page and confirming
// their address from the email; it returns the status link.
func (w *serveE2E) ask(tab *browser.Tab, shots bool) string {
	w.t.Helper()
	shot := func(name string) {
		if shots {
			tab.Screenshot(name)
		}
	}
	if status := tab.Navigate(w.url + "/request/" + e2eProfile); status != http.StatusOK {
		w.t.Fatalf("the request page answered %d", status)
	}
	tab.WaitText("Ask for access")
	tab.Fill("Full name (required)", "Rosa Diaz")
	tab.Fill("Email address (required)", e2eRequester)
	tab.Fill("Company or organisation", "Fabrikam")
	tab.Fill("Why do you need access? (required)", "We run the Apollo launch reviews with your team.")
	tab.Fill("Project (required)", "Apollo")
	shot("request-page")
	if status := tab.Click("Send the request"); status != http.StatusOK {
		w.t.Fatalf("sending the request answered %d:\n%s", status, tab.Text())
	}
	tab.WaitText("Check your email")
	shot("request-sent")

	link := w.link(e2eRequester, "Confirm your address", `/r/[A-Za-z0-9_-]+`)
	tab.Navigate(link)
	tab.WaitText("Confirm my address")
	shot("confirm-address")
	tab.Click("Confirm my address")
	tab.WaitText("Waiting for approval.")
	shot("status-pending")
	return link
}

// signIn signs in on the emulated tenant's page, which tab shows.
func (w *serveE2E) signIn(tab *browser.Tab, who string, shot string) {
	w.t.Helper()
	tab.WaitText("Sign in")
	if !strings.HasPrefix(tab.Location(), w.sim.URL()) {
		w.t.Fatalf("the sign-in page is %s, not the tenant's (%s)", tab.Location(), w.sim.URL())
	}
	tab.Fill("Email or username", who)
	tab.Fill("Password", w.password)
	if shot != "" {
		tab.Screenshot(shot)
	}
	if status := tab.Click("Sign in"); status != http.StatusOK {
		w.t.Fatalf("signing in as %s ended on %d:\n%s", who, status, tab.Text())
	}
	if !strings.HasPrefix(tab.Location(), w.url+"/admin") {
		w.t.Fatalf("after signing in as %s the tab shows %s:\n%s", who, tab.Location(), tab.Text())
	}
}

// waitStatus reloads the requester's status page until it says want.
func waitStatus(t *testing.T, tab *browser.Tab, link, want string) {
	t.Helper()
	until(t, fmt.Sprintf("the status page saying %q", want), func() bool {
		tab.Navigate(link)
		return strings.Contains(tab.Text(), want)
	})
}

// guestInvited checks the tenant: one invitation for the address, a guest
// user, a member of the profile's group DemoApp.
func (w *serveE2E) guestInvited() {
	w.t.Helper()
	if n := w.sim.Stats().InvitationsByEmail[e2eRequester]; n != 1 {
		w.t.Errorf("the tenant answered %d invitations for %s; want 1", n, e2eRequester)
	}
	filter := url.QueryEscape("mail eq '" + e2eRequester + "'")
	var users struct {
		Value []struct{ ID, UserType, Mail string }
	}
	if err := json.Unmarshal([]byte(graphGet(w.t, w.sim, "/v1.0/users?$filter="+filter+"&$select=id,userType,mail")), &users); err != nil {
		w.t.Fatal(err)
	}
	if len(users.Value) != 1 || users.Value[0].UserType != "Guest" {
		w.t.Fatalf("users with mail %s: %+v; want one guest", e2eRequester, users.Value)
	}
	guest := users.Value[0].ID
	for _, g := range w.sim.Snapshot().Groups {
		if g.DisplayName == "DemoApp" {
			if !slices.Contains(g.Members, guest) {
				w.t.Errorf("the guest %s is not in DemoApp: %v", guest, g.Members)
			}
			return
		}
	}
	w.t.Error("the tenant has no group DemoApp")
}

// TestServeRequestToGuest is issue 10's acceptance: a person asks on the
// request page, proves the address from the email, the approvers group's
// member signs in through the tenant's sign-in page and approves stage 1,
// the alternate (another browser, told by email) approves stage 2, and the
// guest is in the tenant with the profile's group; the requester's status
// page says invited.
func TestServeRequestToGuest(t *testing.T) {
	t.Parallel()
	w := startServeE2E(t, nil)
	person := chrome.Tab(t)
	status := w.ask(person, true)

	// The group's members get no email (mail reaches approvers named by
	// address): the approver goes to the approver UI, signs in, and finds
	// the request there.
	approver := chrome.Tab(t)
	approver.Navigate(w.url + "/admin/requests")
	w.signIn(approver, w.approver, "sign-in")
	approver.WaitText("Requests pending your decision")
	approver.Screenshot("admin-requests")
	approver.Click("Rosa Diaz")
	approver.WaitText("Your decision")
	approver.Screenshot("admin-request")
	approver.Click("Approve")
	approver.WaitText("approved")
	approver.Screenshot("admin-approved")

	// Stage 2 is the alternate's, told by email with the request's link.
	link := w.link(e2eAlternate, "awaits your decision", `/admin/requests/[A-Za-z0-9-]+`)
	alternate := chrome.Tab(t)
	alternate.Navigate(link)
	w.signIn(alternate, e2eAlternate, "")
	if alternate.Location() != link {
		t.Errorf("after signing in the alternate is at %s, not the link %s", alternate.Location(), link)
	}
	alternate.WaitText("Your decision")
	alternate.Screenshot("admin-request-stage2")
	alternate.Click("Approve")
	alternate.WaitText("Decisions")

	waitStatus(t, person, status, "Invited")
	person.Screenshot("status-invited")
	w.guestInvited()
	until(t, "the request shown as invited to the alternate", func() bool {
		alternate.Navigate(link)
		return strings.Contains(alternate.Text(), "nvited")
	})
	alternate.Screenshot("admin-request-invited")
}

// TestServeTwoStageTimeoutEscalates: nobody decides stage 1 in time, so it
// escalates to the alternate; the group's approver may no longer decide
// it, the alternate approves both stages, and the guest is invited.
//
// Stage 1 waits ten minutes here, not the demo's three days: the tenant
// reads the test's clock too (its sign-in and tokens must agree with foyer
// on the time), and foyer's Graph token, taken at the start and kept for
// the hour the token says in real time, must still be good in the
// tenant's eyes after the move.
func TestServeTwoStageTimeoutEscalates(t *testing.T) {
	t.Parallel()
	const timeout = 10 * time.Minute
	w := startServeE2E(t, func(c string) string {
		if !strings.Contains(c, "timeout: 3d\n") {
			t.Fatalf("the demo's stage 1 no longer waits 3d:\n%s", c)
		}
		return strings.Replace(c, "timeout: 3d\n", "timeout: 10m\n", 1)
	})
	person := chrome.Tab(t)
	status := w.ask(person, false)

	approver := chrome.Tab(t)
	approver.Navigate(w.url + "/admin/requests")
	w.signIn(approver, w.approver, "")
	approver.Click("Rosa Diaz")
	approver.WaitText("Your decision")
	requestURL := approver.Location()

	// Once the stage's time has passed, the intake job waiting for it is
	// woken: the stage escalates.
	w.clock.advance(timeout + time.Minute)
	w.wakeIntake()
	link := w.link(e2eAlternate, "awaits your decision", `/admin/requests/[A-Za-z0-9-]+`)
	if link != requestURL {
		t.Errorf("the alternate's link %s; the request is %s", link, requestURL)
	}

	// The group's approver, still on the page, is refused: the stage is
	// the alternates' now.
	if status := approver.Click("Approve"); status != http.StatusForbidden {
		t.Errorf("the group's approver approving an escalated stage: status %d, want 403", status)
	}
	if text := approver.Text(); !strings.Contains(text, "not an approver") {
		t.Errorf("the group's approver approving an escalated stage is told:\n%s", text)
	}
	approver.Screenshot("admin-refused-escalated")

	alternate := chrome.Tab(t)
	alternate.Navigate(link)
	w.signIn(alternate, e2eAlternate, "")
	alternate.WaitText("escalated to the alternates")
	alternate.Screenshot("admin-request-escalated")
	alternate.Click("Approve")
	until(t, "stage 2 offered to the alternate", func() bool {
		alternate.Navigate(link)
		text := alternate.Text()
		return strings.Contains(text, "Your decision") && !strings.Contains(text, "escalated to the alternates")
	})
	alternate.Click("Approve")

	waitStatus(t, person, status, "Invited")
	w.guestInvited()
}

// wakeIntake makes the engine's intake jobs that wait for their time (a
// stage's timeout) run now, through the ledger foyer serve uses.
func (w *serveE2E) wakeIntake() {
	w.t.Helper()
	ctx := w.t.Context()
	db, err := sqlite.Open(ctx, filepath.Join(w.dir, "foyer.db"), sqlite.Options{})
	if err != nil {
		w.t.Fatal(err)
	}
	defer db.Close()
	if err := db.InTx(ctx, func(tx store.Tx) error {
		_, err := tx.WakeJobs(ctx, "intake")
		return err
	}); err != nil {
		w.t.Fatal(err)
	}
}
