package cli_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/cmd/foyer/cli"
	"github.com/foyer-dev/foyer/notify/email/smtptest"
	"github.com/foyer-dev/foyer/sim"
)

// TestServeLifecycleHourly: a real foyer serve, its lifecycle round set to
// a second (serve.lifecycle_interval), against a real foyer sim, does at
// start and then round after round what foyer guests sync and expire do:
// the guest who redeemed (through the sim's side door) has its request
// active; the pending guest is reminded once when the reminder comes due
// and not again in the rounds after; the guests whose access ends are told
// once, and when it ends their grants are removed by an expiry run. serve
// is SIGKILLed in the middle of that run and started again: every grant is
// removed once, no notice or reminder goes twice (the sim's counters and
// the mail server are the judges).
//
// foyer's own clock is the system's, not the sim's: the applies are
// recorded in the past (the reminder comes due remindIn, and the access
// ends expireIn, after its apply starts) instead of moving a clock.
func TestServeLifecycleHourly(t *testing.T) {
	t.Parallel()
	needProcesses(t)
	const (
		day      = 24 * time.Hour
		remindIn = 6 * time.Second  // after the partners' apply starts
		expireIn = 15 * time.Second // after the visitors' apply starts
		visitors = 12
	)
	bin := foyerBinary(t)
	dir := t.TempDir()
	tenant := startSimProc(t, bin, filepath.Join(dir, "sim"), 31)
	mail := smtptest.Start(t, smtptest.Options{})
	writeFile(t, dir, "smtp-password", mail.Password+"\n")
	if err := os.Chmod(filepath.Join(dir, "smtp-password"), 0o600); err != nil {
		t.Fatal(err)
	}
	config := writeFile(t, dir, "foyer.yaml", "tenants:\n"+tenant.tenantYAML("contoso")+
		"ledger: {driver: sqlite, dsn: "+filepath.Join(dir, "foyer.db")+"}\n"+
		fmt.Sprintf("serve:\n  addr: 127.0.0.1:%d\n  access: {admins: {users: [approver@contoso.example]}}\n  lifecycle_interval: 1s\n", freePort(t))+
		`profiles:
  partners:
    redirect_url: https://myapps.microsoft.com/
    sender: microsoft
    reminders: {after: 7d, max: 2}
  visitors:
    redirect_url: https://myapps.microsoft.com/
    sender: microsoft
    groups: [DemoApp]
    expiry: 30d
    expiry_notice: 7d
`+fmt.Sprintf("smtp:\n  host: %s\n  port: %d\n  from: access@contoso.example\n  username: %s\n  password_file: smtp-password\n  tls: starttls\n  ca_file: %s\n",
		mail.Host, mail.Port, mail.Username, mail.CAFile))

	start := time.Now()
	// applyAt applies file to profile with foyer's clock moved by offset.
	applyAt := func(profile, file string, offset time.Duration) {
		t.Helper()
		var out, errs strings.Builder
		code := cli.Run(context.Background(), cli.Env{Args: []string{"apply", "--yes", "--config", config, "--profile", profile, file},
			Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errs, Getenv: func(string) string { return "" },
			Clock: foyer.ClockFunc(func() time.Time { return time.Now().Add(offset) })})
		if code != cli.ExitOK {
			t.Fatalf("apply %s: exit %d: %s", profile, code, errs.String())
		}
		t.Logf("%s applied %s after the start", profile, time.Since(start).Round(time.Millisecond))
	}
	visitorsFile, ended := peopleFile(t, dir, "visitor", visitors)
	demoApp := func() map[string]bool {
		var st sim.State
		tenant.side(t, http.MethodGet, "state", "", &st)
		for _, g := range st.Groups {
			if g.DisplayName == "DemoApp" {
				m := map[string]bool{}
				for _, id := range g.Members {
					m[strings.ToLower(id)] = true
				}
				return m
			}
		}
		t.Fatal("the sim has no group DemoApp")
		return nil
	}
	before := demoApp()
	applyAt("visitors", visitorsFile, expireIn-30*day)
	if n := len(demoApp()); n != len(before)+visitors {
		t.Fatalf("DemoApp holds %d members after the apply, want %d", n, len(before)+visitors)
	}
	const kim, lee = "kim@tailwind.example", "lee@tailwind.example"
	remindAt := time.Now().Add(remindIn)
	applyAt("partners", writeFile(t, dir, "partners.csv", "email\n"+kim+"\n"+lee+"\n"), remindIn-7*day)
	tenant.side(t, http.MethodPost, "redeem", `{"email":"`+lee+`"}`, nil)

	removals := func() int64 {
		var n int64
		for route, c := range tenant.stats(t).Routes {
			if strings.HasPrefix(route, "DELETE ") {
				n += c
			}
		}
		return n
	}
	ledger, err := sql.Open("sqlite", filepath.Join(dir, "foyer.db")+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer ledger.Close()
	// states maps each address to its request's state, as the ledger
	// holds them.
	states := func() map[string]string {
		rows, err := ledger.Query("SELECT email, state FROM requests")
		if err != nil {
			t.Fatalf("read the requests: %v", err)
		}
		defer rows.Close()
		m := map[string]string{}
		for rows.Next() {
			var email, state string
			if err := rows.Scan(&email, &state); err != nil {
				t.Fatal(err)
			}
			m[strings.ToLower(email)] = state
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return m
	}
	// notices counts, per address, the emails that say access ends.
	notices := func() map[string]int {
		m := map[string]int{}
		for _, msg := range mail.Messages() {
			p, err := msg.Parse()
			if err != nil {
				t.Fatalf("an email foyer sent: %v", err)
			}
			if strings.Contains(p.Subject(), " ends on ") {
				for _, to := range msg.To {
					m[strings.ToLower(to)]++
				}
			}
		}
		return m
	}

	serve := startServeProc(t, bin, config)
	t.Logf("serve listens %s after the start", time.Since(start).Round(time.Millisecond))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("foyer serve:\n%s", serve.out.String())
		}
	})
	// At start: lee's redemption is seen, every visitor is told once.
	eventually(t, 20*time.Second, "lee's request is active", func() bool { return states()[lee] == "active" })
	if time.Now().Before(remindAt) {
		// The start's round came before the reminder was due: the
		// reminder to come is a later round's.
		if n := tenant.stats(t).InvitationsByEmail[kim]; n != 1 {
			t.Errorf("kim was invited %d times before the reminder was due, want 1", n)
		}
	} else {
		t.Logf("serve's first round ended %s after the start, after the reminder came due", time.Since(start).Round(time.Millisecond))
	}
	eventually(t, 20*time.Second, "every visitor is told their access ends", func() bool {
		n := notices()
		for _, e := range ended {
			if n[e] == 0 {
				return false
			}
		}
		return true
	})
	// A later round reminds kim, once.
	eventually(t, 20*time.Second, "kim is reminded", func() bool { return tenant.stats(t).InvitationsByEmail[kim] >= 2 })

	// The expiry's revoke run, slowed down by the tenant, is cut by a
	// SIGKILL half way.
	tenant.side(t, http.MethodPut, "settings", `{"latency":"150ms,300ms"}`, nil)
	eventually(t, 30*time.Second, "the expiry removes grants", func() bool { return removals() >= 4 })
	if err := serve.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	serve.wait(t, 10*time.Second)
	t.Logf("serve killed after %d removals, %s after the start", removals(), time.Since(start).Round(time.Millisecond))
	if n := removals(); n >= visitors {
		t.Fatalf("the expiry removed all %d grants before the kill: nothing was cut", n)
	}
	tenant.side(t, http.MethodPut, "settings", `{"latency":"off"}`, nil)

	serve = startServeProc(t, bin, config)
	eventually(t, 30*time.Second, "every visitor's request is expired", func() bool {
		st := states()
		for _, e := range ended {
			if st[e] != "expired" {
				return false
			}
		}
		return true
	})
	// A few more rounds do nothing more.
	time.Sleep(3 * time.Second)
	serve.stop(t)

	st := tenant.stats(t)
	if n := removals(); n != visitors {
		t.Errorf("%d removals reached the tenant, want %d: each grant once", n, visitors)
	}
	if got := demoApp(); len(got) != len(before) {
		t.Errorf("DemoApp holds %d members after the expiry, want the %d it held before the apply", len(got), len(before))
	}
	if n := st.InvitationsByEmail[kim]; n != 2 {
		t.Errorf("kim was invited %d times, want 2: the invitation and one reminder in this period", n)
	}
	if n := st.InvitationsByEmail[lee]; n != 1 {
		t.Errorf("lee, who redeemed, was invited %d times, want once", n)
	}
	n := notices()
	for _, e := range ended {
		if n[e] != 1 {
			t.Errorf("%s was told %d times that access ends, want once", e, n[e])
		}
	}
	if len(n) != visitors {
		t.Errorf("%d addresses were told that access ends, want the %d visitors: %v", len(n), visitors, n)
	}
	final := states()
	if final[lee] != "active" || final[kim] != "invited" {
		t.Errorf("lee's request is %s (want active), kim's %s (want invited)", final[lee], final[kim])
	}
	if len(st.ResetsByUser) != 0 || len(st.DeletesByUser) != 0 || len(st.DisablesByUser) != 0 {
		t.Errorf("the lifecycle reset, deleted or disabled users: %+v", st)
	}
}
