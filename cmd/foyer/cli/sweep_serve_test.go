package cli_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/foyer-dev/foyer/cmd/foyer/cli"
	"github.com/foyer-dev/foyer/notify/email/smtptest"
	"github.com/foyer-dev/foyer/sim"
	"github.com/foyer-dev/foyer/store"
	"github.com/foyer-dev/foyer/store/sqlite"
)

// TestSweepReleasedThroughServe: a held sweep released from /admin/runs,
// with real processes. A foyer sim holds three stale guests (created 200
// days ago, last signed in 100 days ago), an active one, and the guests
// foyer apply invited from a CSV just now; lifecycle.cap.max is 2, so
// foyer sweep --apply records the sweep and holds it (exit 7) and the
// tenant counts no disable. A foyer serve with the same configuration
// (SQLite, the tenant's lifecycle: rules) is started; the admin signs in
// through the tenant's sign-in page, sees the hold with Release on
// /admin/runs/{id}, and releases it with the page's CSRF token. serve
// then works the sweep: the tenant counts each stale guest disabled
// exactly once and nobody else disabled or deleted, foyer runs shows the
// sweep finished and approved by the admin, and the ledger's audit log
// names the admin as the one who released it.
//
// The processes read the system clock, and the sim's clock only moves
// forward, so a guest foyer invites now cannot look 90 days idle to them:
// the stale guests are seeded in the past through the sim's side door
// (their creation and sign-in recorded there), as serve_lifecycle_test.go
// records its applies in the past instead of moving a clock.
func TestSweepReleasedThroughServe(t *testing.T) {
	t.Parallel()
	needProcesses(t)
	const admin = "approver@contoso.example" // an admin in the serve: section foyer sim writes
	bin := foyerBinary(t)
	dir := t.TempDir()
	port := freePort(t)
	simDir := filepath.Join(dir, "sim")
	tenant := startSimProc(t, bin, simDir, 41, "--serve-port", strconv.Itoa(port))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("foyer sim:\n%s", tenant.out.String())
		}
	})

	// The tenant: three stale guests, one who signed in today. The demo
	// content foyer sim starts with has two stale guests of its own,
	// excluded by address below, so that the sweep's cap counts ours.
	now := time.Now().UTC()
	var seeded sim.SeedData
	var users []sim.SeedUser
	for i := range 3 {
		users = append(users, sim.SeedUser{DisplayName: fmt.Sprintf("Stale %d", i), Mail: fmt.Sprintf("stale%d@partner.example", i),
			UserType: "Guest", ExternalUserState: "Accepted", CreatedDateTime: now.AddDate(0, 0, -200)})
	}
	users = append(users, sim.SeedUser{DisplayName: "Active", Mail: "active@northwind.example", UserType: "Guest",
		ExternalUserState: "Accepted", CreatedDateTime: now.AddDate(-1, 0, 0)})
	body, err := json.Marshal(users)
	if err != nil {
		t.Fatal(err)
	}
	tenant.side(t, http.MethodPost, "users", string(body), &seeded)
	if len(seeded.Users) != len(users) {
		t.Fatalf("the sim seeded %d users, want %d", len(seeded.Users), len(users))
	}
	stale := map[string]string{} // id → address
	for _, u := range seeded.Users {
		at := now.AddDate(0, 0, -100)
		if u.Mail == "active@northwind.example" {
			at = now
		} else {
			stale[strings.ToLower(u.ID)] = u.Mail
		}
		tenant.side(t, http.MethodPost, "signin", fmt.Sprintf(`{"id":%q,"at":%q}`, u.ID, at.Format(time.RFC3339)), nil)
	}

	// The configuration foyer sim wrote (its serve: section names the
	// port given to it, the web app's redirect URI), with the tenant's
	// lifecycle rules, and a mail server for its public request page,
	// without which serve does not start.
	mail := smtptest.Start(t, smtptest.Options{})
	writeFile(t, dir, "smtp-password", mail.Password+"\n")
	if err := os.Chmod(filepath.Join(dir, "smtp-password"), 0o600); err != nil {
		t.Fatal(err)
	}
	text, err := os.ReadFile(filepath.Join(simDir, "foyer.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	const head = "tenants:\n  contoso:\n"
	if !strings.Contains(string(text), head) {
		t.Fatalf("foyer sim's configuration does not start its tenant as expected:\n%s", text)
	}
	config := writeFile(t, dir, "foyer.yaml", strings.Replace(string(text), head, head+`    lifecycle:
      stale: {no_sign_in_days: 90}
      delete_after_days: 30
      cap: {max: 2}
      exclude: {users: [lee.chen@northwind.example, ida@tailspin.example]}
`, 1)+fmt.Sprintf("smtp:\n  host: %s\n  port: %d\n  from: access@contoso.example\n  username: %s\n  password_file: smtp-password\n  tls: starttls\n  ca_file: %s\n",
		mail.Host, mail.Port, mail.Username, mail.CAFile))
	foyerCmd := func(args ...string) (int, string) {
		t.Helper()
		out, err := exec.Command(bin, args...).CombinedOutput()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatalf("foyer %s: %v", args[0], err)
		}
		if ee != nil {
			return ee.ExitCode(), string(out)
		}
		return cli.ExitOK, string(out)
	}

	// Guests foyer invites from a CSV now: not stale, never to be touched.
	csv, newcomers := peopleFile(t, dir, "newcomer", 3)
	if code, out := foyerCmd("apply", "--yes", "--config", config, "--profile", "partners", csv); code != cli.ExitOK {
		t.Fatalf("apply: exit %d:\n%s", code, out)
	}
	for _, e := range newcomers {
		if n := tenant.stats(t).InvitationsByEmail[e]; n != 1 {
			t.Fatalf("%s invited %d times by the apply, want once", e, n)
		}
	}

	// The sweep is over the cap: recorded, held, nothing changed.
	code, out := foyerCmd("sweep", "--apply", "--yes", "--config", config)
	m := runIDPattern.FindStringSubmatch(out)
	if code != cli.ExitSweepHeld || m == nil {
		t.Fatalf("sweep --apply: exit %d, want %d with the run to release:\n%s", code, cli.ExitSweepHeld, out)
	}
	id := m[1]
	if st := tenant.stats(t); len(st.DisablesByUser) != 0 || len(st.DeletesByUser) != 0 {
		t.Fatalf("a held sweep changed the tenant: disables %v, deletes %v", st.DisablesByUser, st.DeletesByUser)
	}
	if run := sweepRun(t, foyerCmd, config, id); run.State != "planned" || !run.Saved {
		t.Fatalf("the held sweep in foyer runs: %+v, want planned and saved", run)
	}

	serve := startServeProc(t, bin, config)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("foyer serve:\n%s", serve.out.String())
		}
	})
	browser := signInAdmin(t, tenant, serve.url, admin, "sim-password")
	page := browser.get(t, serve.url+"/admin/runs/"+id)
	for _, want := range []string{"This sweep is held by the cap", "more than the cap allows", `action="/admin/runs/` + id + `/release"`, ">Release</button>"} {
		if !strings.Contains(page, want) {
			t.Fatalf("the held sweep's page does not show %q:\n%s", want, page)
		}
	}
	token := csrfField.FindStringSubmatch(page)
	if token == nil {
		t.Fatalf("no CSRF token on the held sweep's page:\n%s", page)
	}
	if got, loc := browser.post(t, serve.url+"/admin/runs/"+id+"/release", token[1]); got != http.StatusSeeOther || loc != "/admin/runs/"+id {
		t.Fatalf("POST release: %d to %q, want 303 to the run's page", got, loc)
	}
	if page := browser.get(t, serve.url+"/admin/runs/"+id); strings.Contains(page, "held by the cap") {
		t.Fatalf("the released sweep's page still shows the hold:\n%s", page)
	}

	// serve works the released sweep; foyer runs reads the ledger beside
	// it.
	eventually(t, 40*time.Second, "every stale guest disabled and the sweep finished", func() bool {
		st := tenant.stats(t)
		for u := range stale {
			if st.DisablesByUser[u] == 0 {
				return false
			}
		}
		time.Sleep(100 * time.Millisecond)
		return sweepRun(t, foyerCmd, config, id).State == "finished"
	})
	serve.stop(t)

	st := tenant.stats(t)
	for u, mail := range stale {
		if st.DisablesByUser[u] != 1 {
			t.Errorf("%s: disabled %d times, want once", mail, st.DisablesByUser[u])
		}
	}
	if len(st.DisablesByUser) != len(stale) || len(st.DeletesByUser) != 0 {
		t.Errorf("the tenant counts disables %v and deletes %v; want only the %d stale guests disabled, once", st.DisablesByUser, st.DeletesByUser, len(stale))
	}
	run := sweepRun(t, foyerCmd, config, id)
	if run.State != "finished" || run.ApprovedBy != admin || run.Results["disabled"] != len(stale) {
		t.Errorf("the sweep in foyer runs: %+v, want finished, approved by %s, %d disabled", run, admin, len(stale))
	}

	ctx := context.Background()
	ledger, err := sqlite.Open(ctx, filepath.Join(simDir, "foyer.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ledger.Close()
	var released []store.AuditEntry
	err = ledger.InTx(ctx, func(tx store.Tx) error {
		released = released[:0]
		// "release sweep" is the engine's audit operation for it
		// (engine/sweep.go).
		return tx.AuditLog(ctx, store.AuditFilter{RunID: id, Op: "release sweep"}, func(e store.AuditEntry) error {
			released = append(released, e)
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(released) != 1 || released[0].Actor != admin {
		t.Errorf("the audit log's release entries of sweep %s: %+v, want one by %s", id, released, admin)
	}
}

// sweepRunJSON is a run as foyer runs --output json shows it.
type sweepRunJSON struct {
	ID         string         `json:"run_id"`
	Kind       string         `json:"kind"`
	State      string         `json:"state"`
	Saved      bool           `json:"saved"`
	ApprovedBy string         `json:"approved_by"`
	Results    map[string]int `json:"results"`
}

// sweepRun reads run id from foyer runs --output json.
func sweepRun(t *testing.T, foyer func(...string) (int, string), config, id string) sweepRunJSON {
	t.Helper()
	code, out := foyer("runs", "--output", "json", "--config", config)
	var runs struct{ Runs []sweepRunJSON }
	if err := json.Unmarshal([]byte(out), &runs); code != cli.ExitOK || err != nil {
		t.Fatalf("runs --output json: exit %d (%v):\n%s", code, err, out)
	}
	for _, r := range runs.Runs {
		if r.ID == id {
			if r.Kind != "sweep" {
				t.Fatalf("run %s is a %s, not a sweep", id, r.Kind)
			}
			return r
		}
	}
	t.Fatalf("foyer runs does not list run %s:\n%s", id, out)
	return sweepRunJSON{}
}

// adminBrowser is a browser signed in to foyer serve's approver UI: a
// cookie jar, trusting the sim's CA, following no redirect.
type adminBrowser struct{ c *http.Client }

var signInCtx = regexp.MustCompile(`name="ctx" value="([^"]+)"`)

// signInAdmin signs in to the foyer serve at serveURL as upn, through the
// sim process's sign-in page, as a browser without JavaScript does: the
// page posts loginfmt, passwd and its hidden ctx to the tenant's /login,
// and the redirects lead back to serve's /admin/callback.
func signInAdmin(t *testing.T, tenant *simProc, serveURL, upn, password string) *adminBrowser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	follow := &http.Client{Transport: tenant.client.Transport, Jar: jar, Timeout: 30 * time.Second}
	res, err := follow.Get(serveURL + "/admin/signin?next=%2Fadmin")
	if err != nil {
		t.Fatalf("the sign-in page: %v", err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := signInCtx.FindSubmatch(page)
	if m == nil || !strings.HasPrefix(res.Request.URL.String(), tenant.ready.URL) {
		t.Fatalf("no sign-in form of the tenant at %s (%d): %.300s", res.Request.URL, res.StatusCode, page)
	}
	res, err = follow.PostForm(tenant.ready.URL+"/"+tenant.ready.TenantID+"/login", url.Values{"ctx": {string(m[1])}, "loginfmt": {upn}, "passwd": {password}})
	if err != nil {
		t.Fatalf("sign in as %s: %v", upn, err)
	}
	page, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Request.URL.String(), serveURL+"/admin") {
		t.Fatalf("signing in as %s ended on %d at %s: %.300s", upn, res.StatusCode, res.Request.URL, page)
	}
	return &adminBrowser{c: &http.Client{Transport: follow.Transport, Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// get returns the page at u, which must answer 200.
func (b *adminBrowser) get(t *testing.T, u string) string {
	t.Helper()
	res, err := b.c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer res.Body.Close()
	page, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d: %.300s", u, res.StatusCode, page)
	}
	return string(page)
}

// post submits a form holding only the CSRF token to u and returns the
// status and the Location header.
func (b *adminBrowser) post(t *testing.T, u, csrf string) (int, string) {
	t.Helper()
	res, err := b.c.PostForm(u, url.Values{"csrf": {csrf}})
	if err != nil {
		t.Fatalf("POST %s: %v", u, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		page, _ := io.ReadAll(res.Body)
		t.Logf("POST %s: %d: %.500s", u, res.StatusCode, page)
	}
	return res.StatusCode, res.Header.Get("Location")
}
