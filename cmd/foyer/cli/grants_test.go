package cli_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/foyer-dev/foyer/cmd/foyer/cli"
	"github.com/foyer-dev/foyer/notify/email/smtptest"
	"github.com/foyer-dev/foyer/sim"
	"github.com/foyer-dev/foyer/sim/simtest"
)

// grantsWorld is an emulated tenant, a real SMTP server and a configuration
// with a profile that grants every kind of access and sends its own email,
// and a second profile that shares one of its groups.
type grantsWorld struct {
	sim    *sim.Server
	smtp   *smtptest.Server
	config string
	dir    string
	env    func(string) string
}

const fullProfile = `smtp:
  host: %[2]s
  port: %[3]d
  from: invitations@contoso.example
  username: %[4]s
  password_env: SMTP_PASSWORD
  ca_file: %[5]s
profiles:
  full:
    redirect_url: https://myapps.microsoft.com/?tenantid=%[1]s
    sender: foyer
    message: Welcome to the analytics workspace.
    groups: [DemoApp]
    app_roles: [{service_principal: DemoApp, role: Reader}]
    licenses: [{sku: ENTERPRISEPACK, usage_location: US}]
    directory_roles: [Guest Inviter]
    azure_roles: [{role: Reader, scope: %[6]s/resourceGroups/rg-demo}]
    address_book: true
    email: {app_name: Contoso Analytics, organization: Contoso}
  team:
    redirect_url: https://myapps.microsoft.com/?tenantid=%[1]s
    sender: none
    groups: [DemoApp]
`

func newGrantsWorld(t *testing.T) *grantsWorld {
	t.Helper()
	return newGrantsWorldWith(t, smtptest.Options{})
}

func newGrantsWorldWith(t *testing.T, smtpOpts smtptest.Options) *grantsWorld {
	t.Helper()
	s := simtest.Start(t, sim.Options{ReplicationDelay: 300 * time.Millisecond})
	srv := smtptest.Start(t, smtpOpts)
	dir := t.TempDir()
	if _, err := cli.WriteSimFiles(s, dir); err != nil {
		t.Fatal(err)
	}
	conf := simTenantYAML(s, s.ClientID(), "client-secret") + fmt.Sprintf(fullProfile, s.TenantID(), srv.Host, srv.Port, srv.Username, srv.CAFile, defaultAppSubscription(s))
	path := filepath.Join(dir, "full.yaml")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	env := func(k string) string {
		if k == "SMTP_PASSWORD" {
			return srv.Password
		}
		return ""
	}
	return &grantsWorld{sim: s, smtp: srv, config: path, dir: dir, env: env}
}

func (w *grantsWorld) run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	args = append(args[:1:1], append([]string{"--config", w.config}, args[1:]...)...)
	code := cli.Run(context.Background(), cli.Env{Args: args, Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: w.env})
	return code, out.String(), errb.String()
}

// held counts, for one user, each kind of grant in the tenant.
func held(s *sim.Server, userID, email string) map[string]int {
	st := s.Snapshot()
	n := map[string]int{}
	for _, g := range st.Groups {
		for _, m := range g.Members {
			if strings.EqualFold(m, userID) {
				n["group "+g.DisplayName]++
			}
		}
	}
	for _, a := range st.AppRoleAssignments {
		if strings.EqualFold(a.PrincipalID, userID) {
			n["app role "+a.ResourceDisplayName]++
		}
	}
	n["license"] = len(st.Licenses[userID])
	for _, r := range st.RoleAssignments {
		if strings.EqualFold(r.PrincipalID, userID) {
			n["directory role "+r.RoleName]++
		}
	}
	for _, a := range st.AzureRoleAssignments {
		if strings.EqualFold(a.PrincipalID, userID) {
			n["azure role "+a.RoleName+" at "+a.Scope[strings.LastIndex(a.Scope, "/")+1:]]++
		}
	}
	for _, id := range st.AddressBook {
		if strings.EqualFold(id, userID) {
			n["address book"]++
		}
	}
	for _, c := range st.MailContacts {
		if strings.EqualFold(c.ExternalEmailAddress, email) {
			n["mail contact"]++
		}
	}
	return n
}

func TestProfileGrantsEverythingOnceAndRevokes(t *testing.T) {
	t.Parallel()
	w := newGrantsWorld(t)
	csv := filepath.Join(w.dir, "two.csv")
	// A display name with a line break and a header after it: it must not
	// become a header of the invitation email.
	data := "name,email\n\"Eve Example\r\nBcc: evil@attacker.example\",eve@partner.example\nFinn Field,finn@partner.example\n"
	if err := os.WriteFile(csv, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := w.run(t, "apply", "--profile", "full", "--output", "json", "--yes", csv)
	if code != cli.ExitOK {
		t.Fatalf("apply: exit %d\n%s\n%s", code, errs, out)
	}
	d := decode(t, out)
	users := map[string]string{}
	for _, r := range d.Rows {
		if r.Result != "invited" || len(r.Grants) != 6 {
			t.Errorf("line %d: result %q, grants %q, error %q", r.Line, r.Result, r.Grants, r.Error)
		}
		users[r.Email] = r.UserID
	}
	want := map[string]int{"group DemoApp": 1, "app role DemoApp": 1, "license": 1, "directory role Guest Inviter": 1,
		"azure role Reader at rg-demo": 1, "address book": 1}
	for email, id := range users {
		got := held(w.sim, id, email)
		for k, n := range want {
			if got[k] != n {
				t.Errorf("%s holds %q %d times, want %d (all: %v)", email, k, got[k], n, got)
			}
		}
	}

	// The invitation emails arrived through SMTP, with a redeem URL that
	// works, and without the header hidden in the name.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	msgs, err := w.smtp.Wait(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if len(m.To) != 1 {
			t.Errorf("message to %v: want exactly one recipient", m.To)
		}
		p, err := m.Parse()
		if err != nil {
			t.Fatal(err)
		}
		if p.Header.Get("Bcc") != "" || strings.Contains(string(m.Data), "\r\nBcc:") {
			t.Errorf("a Bcc header got in:\n%s", m.Data)
		}
		if !strings.Contains(p.Text, "Welcome to the analytics workspace.") {
			t.Errorf("the inviter's words are missing:\n%s", p.Text)
		}
		redeem := regexp.MustCompile(`https://127\.0\.0\.1:\d+/redeem\S*`).FindString(p.Text)
		if redeem == "" {
			t.Fatalf("no redeem URL in:\n%s", p.Text)
		}
		resp, err := w.sim.Client().Get(redeem)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET redeem URL: %s", resp.Status)
		}
	}
	code, out, _ = w.run(t, "plan", "--profile", "full", "--output", "json", "--verbose", csv)
	for _, r := range decode(t, out).Rows {
		if code != cli.ExitOK || !strings.Contains(r.Reason, "Accepted") || !strings.Contains(r.Reason, "every grant") {
			t.Errorf("after redeeming, line %d plans %s: %q", r.Line, r.Action, r.Reason)
		}
	}

	// Again: nothing changes, nobody is invited or emailed twice.
	code, out, errs = w.run(t, "apply", "--profile", "full", "--output", "json", "--yes", csv)
	if code != cli.ExitOK || decode(t, out).Summary["unchanged"] != 2 {
		t.Fatalf("second apply: exit %d %s\n%s", code, errs, out)
	}
	for email, id := range users {
		if got := held(w.sim, id, email); fmt.Sprint(got) != fmt.Sprint(mapWith(want, "license", 1)) {
			t.Errorf("after the second apply %s holds %v", email, got)
		}
		if n := w.sim.Stats().InvitationsByEmail[email]; n != 1 {
			t.Errorf("%s invited %d times", email, n)
		}
	}
	if n := len(w.smtp.Messages()); n != 2 {
		t.Errorf("%d emails after the second apply, want 2", n)
	}

	// Eve also holds profile team, which grants the same group.
	if code, out, errs := w.run(t, "apply", "--profile", "team", "--output", "json", "--yes", csv); code != cli.ExitOK {
		t.Fatalf("apply team: exit %d %s\n%s", code, errs, out)
	}
	code, out, errs = w.run(t, "revoke", "--profile", "full", "--output", "json", "--yes", "eve@partner.example", "finn@partner.example")
	if code != cli.ExitOK {
		t.Fatalf("revoke: exit %d %s\n%s", code, errs, out)
	}
	for email, id := range users {
		got := held(w.sim, id, email)
		for k := range want {
			wantN := 0
			if k == "group DemoApp" {
				wantN = 1 // profile team still grants it
			}
			if got[k] != wantN {
				t.Errorf("after revoke, %s holds %q %d times, want %d", email, k, got[k], wantN)
			}
		}
	}
}

func mapWith(m map[string]int, k string, v int) map[string]int {
	out := map[string]int{k: v}
	for kk, vv := range m {
		out[kk] = vv
	}
	return out
}

// TestOwedInvitationEmailSentOnNextApply: the mail server refuses one
// guest's invitation email; the invitation exists but the guest has no way
// in. Once the server takes it, applying the same file again sends that
// email, without a second invitation, and a third apply sends nothing.
func TestOwedInvitationEmailSentOnNextApply(t *testing.T) {
	t.Parallel()
	var refuse atomic.Bool
	refuse.Store(true)
	w := newGrantsWorldWith(t, smtptest.Options{RejectRcpt: func(addr string) error {
		if refuse.Load() && strings.EqualFold(addr, "eve@partner.example") {
			return errors.New("mailbox unavailable")
		}
		return nil
	}})
	csv := filepath.Join(w.dir, "two.csv")
	if err := os.WriteFile(csv, []byte("name,email\nEve Example,eve@partner.example\nFinn Field,finn@partner.example\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	results := func(out string) map[string]string {
		got := map[string]string{}
		for _, r := range decode(t, out).Rows {
			got[r.Email] = r.Result
		}
		return got
	}
	sentTo := func(addr string) int {
		n := 0
		for _, m := range w.smtp.Messages() {
			for _, to := range m.To {
				if strings.EqualFold(to, addr) {
					n++
				}
			}
		}
		return n
	}

	code, out, errs := w.run(t, "apply", "--profile", "full", "--output", "json", "--yes", csv)
	if code != cli.ExitRowsFail {
		t.Fatalf("first apply: exit %d, want %d (a row failed)\n%s\n%s", code, cli.ExitRowsFail, errs, out)
	}
	if got := results(out); got["eve@partner.example"] != "failed" || got["finn@partner.example"] != "invited" {
		t.Fatalf("first apply: results %v, want eve failed (email refused), finn invited", got)
	}
	if n := w.sim.Stats().InvitationsByEmail["eve@partner.example"]; n != 1 || sentTo("eve@partner.example") != 0 {
		t.Fatalf("first apply: eve invited %d times, emailed %d times; want invited once, never emailed", n, sentTo("eve@partner.example"))
	}

	refuse.Store(false)
	code, out, errs = w.run(t, "apply", "--profile", "full", "--output", "json", "--yes", csv)
	if code != cli.ExitOK {
		t.Fatalf("second apply: exit %d\n%s\n%s", code, errs, out)
	}
	if got := results(out); got["eve@partner.example"] != "invited" || got["finn@partner.example"] != "unchanged" {
		t.Errorf("second apply: results %v, want eve invited (her email sent), finn unchanged", got)
	}
	if sentTo("eve@partner.example") != 1 || sentTo("finn@partner.example") != 1 {
		t.Errorf("after the second apply: eve emailed %d times, finn %d; want once each",
			sentTo("eve@partner.example"), sentTo("finn@partner.example"))
	}

	code, out, errs = w.run(t, "apply", "--profile", "full", "--output", "json", "--yes", csv)
	if code != cli.ExitOK || decode(t, out).Summary["unchanged"] != 2 {
		t.Errorf("third apply: exit %d, summary %v; want both unchanged\n%s", code, decode(t, out).Summary, errs)
	}
	for _, addr := range []string{"eve@partner.example", "finn@partner.example"} {
		if n := w.sim.Stats().InvitationsByEmail[addr]; n != 1 || sentTo(addr) != 1 {
			t.Errorf("after three applies %s was invited %d times and emailed %d; want once each", addr, n, sentTo(addr))
		}
	}
}
