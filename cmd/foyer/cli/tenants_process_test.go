package cli_test

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/foyer-dev/foyer/sim"
	"github.com/foyer-dev/foyer/sim/simtest"
	"github.com/foyer-dev/foyer/web/hooks"
)

// insertUnder inserts entry (YAML written at two spaces a level) as the
// first child of the top-level key in text, indented as that key's
// children are.
func insertUnder(t *testing.T, text, key, entry string) string {
	t.Helper()
	head := key + ":\n"
	i := strings.Index(text, head)
	if i < 0 || (i > 0 && text[i-1] != '\n') {
		t.Fatalf("no top-level %s: in the configuration:\n%s", key, text)
	}
	rest := text[i+len(head):]
	indent := rest[:len(rest)-len(strings.TrimLeft(rest, " "))]
	var b strings.Builder
	for line := range strings.SplitSeq(strings.TrimRight(entry, "\n"), "\n") {
		spaces := len(line) - len(strings.TrimLeft(line, " "))
		b.WriteString(strings.Repeat(indent, spaces/2+1) + strings.TrimLeft(line, " ") + "\n")
	}
	return text[:i+len(head)] + b.String() + rest
}

// TestServeTwoTenants: one foyer serve process, configured with two
// tenants (each its own emulated tenant, credential and CA), works the
// runs of each tenant's profile in that tenant: each tenant's own counter
// of invitations is the judge. When Entra blocks the invitations of one
// tenant for suspicious activity, that tenant's later runs invite nobody
// while the other's go on; foyer tenants unblock, run as another
// process, lets the running server invite into it again.
func TestServeTwoTenants(t *testing.T) {
	t.Parallel()
	south := simtest.Start(t, sim.Options{Seed: 12})
	side := t.TempDir()
	writeFile(t, side, "south-ca.pem", string(south.CAPEM()))
	writeFile(t, side, "south-secret", south.ClientSecret()+"\n")
	if err := os.Chmod(filepath.Join(side, "south-secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	const secret = "a-webhook-secret-of-32-bytes-ok!"
	writeFile(t, side, "hook-secret", secret+"\n")
	if err := os.Chmod(filepath.Join(side, "hook-secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	csvs := map[string]string{"north": filepath.Join(side, "north.csv"), "south": filepath.Join(side, "south.csv")}
	bin, north, _, config := serveProcessWorld(t, sim.Options{Seed: 11, InvitesPerMinute: 2}, func(c string) string {
		c = insertUnder(t, c, "tenants", fmt.Sprintf(`south:
  tenant_id: %[1]s
  client_id: %[2]s
  cloud: custom
  endpoints: {authority: %[3]s/, graph: %[3]s, arm: %[3]s, exchange: %[3]s}
  ca_file: %[4]s
  credential: {type: client_secret, secret_file: %[5]s}
`, south.TenantID(), south.ClientID(), south.URL(), filepath.Join(side, "south-ca.pem"), filepath.Join(side, "south-secret")))
		c = insertUnder(t, c, "profiles", `north-partners:
  tenant: contoso
  redirect_url: https://myapps.microsoft.com/
  sender: microsoft
  groups: [DemoApp]
south-partners:
  tenant: south
  redirect_url: https://myapps.microsoft.com/
  sender: microsoft
  groups: [DemoApp]
`)
		hook := "{secret_file: " + filepath.Join(side, "hook-secret") + "}"
		return c + "triggers:\n  north-drop:\n    profile: north-partners\n    source: " + csvs["north"] + "\n    webhook: " + hook +
			"\n  south-drop:\n    profile: south-partners\n    source: " + csvs["south"] + "\n    webhook: " + hook + "\n"
	})
	if north.TenantID() == south.TenantID() {
		t.Fatalf("both emulated tenants have id %s", north.TenantID())
	}
	serve := startServeProc(t, bin, config)
	defer serve.stop(t)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("north: %v; south: %v", north.Stats().Routes, south.Stats().Routes)
			t.Logf("foyer serve:\n%s", serve.out.String())
		}
	})

	deliveries := 0
	// drop writes n new people into the tenant's CSV and fires its
	// trigger; it returns their addresses.
	drop := func(tenant, prefix string, n int) []string {
		t.Helper()
		var b strings.Builder
		b.WriteString("name,email\n")
		var emails []string
		for i := range n {
			e := fmt.Sprintf("%s.%03d@partner%d.example", prefix, i, i%4)
			fmt.Fprintf(&b, "Person %d,%s\n", i, e)
			emails = append(emails, e)
		}
		if err := os.WriteFile(csvs[tenant], []byte(b.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		deliveries++
		delivery := "d-" + strconv.Itoa(deliveries)
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		r, err := http.NewRequest("POST", serve.url+"/hooks/run/"+tenant+"-drop", strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		r.Header.Set(hooks.HeaderTimestamp, ts)
		r.Header.Set(hooks.HeaderDelivery, delivery)
		r.Header.Set(hooks.HeaderSignature, "sha256="+hex.EncodeToString(hooks.Sign([]byte(secret), ts, delivery, []byte("{}"))))
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("the delivery to %s-drop: %d, want 202", tenant, resp.StatusCode)
		}
		return emails
	}
	posts := func(s *sim.Server) int64 { return s.Stats().Routes["POST /v1.0/invitations"] }
	// runs lists the ledger's runs, as foyer runs --output json does.
	type runJSON struct{ Profile, Tenant, State string }
	runs := func() []runJSON {
		t.Helper()
		out, err := exec.Command(bin, "runs", "--config", config, "--output", "json").Output()
		if err != nil {
			t.Fatalf("foyer runs: %v\n%s", err, out)
		}
		var doc struct{ Runs []runJSON }
		if err := json.Unmarshal(out, &doc); err != nil {
			t.Fatalf("foyer runs --output json: %v\n%s", err, out)
		}
		return doc.Runs
	}
	// finished waits until the ledger says n runs finished.
	finished := func(n int) {
		t.Helper()
		eventually(t, 2*time.Minute, fmt.Sprintf("%d runs finished", n), func() bool {
			done := 0
			for _, r := range runs() {
				if r.State == "finished" {
					done++
				}
			}
			return done >= n
		})
	}

	// South's run lands in south, and only there.
	southed := drop("south", "s1", 3)
	eventually(t, 2*time.Minute, "south's three invitations", func() bool { return posts(south) == 3 })
	invitedOnce(t, south, southed)
	if n := posts(north); n != 0 {
		t.Fatalf("north received %d invitations of south's run", n)
	}
	finished(1)

	// North takes two invitations a minute; beyond them it answers that
	// invitations are blocked for suspicious activity: north is blocked,
	// south is not. (The run's rows are worked at once: up to all five
	// invitations may have gone out before the first refusal came back.)
	drop("north", "n1", 5)
	finished(2)
	blockedAt := posts(north)
	if n := len(north.Stats().InvitationsByEmail); n != 2 || blockedAt < 3 {
		t.Fatalf("north: %d invited of %d invitations sent; want 2 invited, and at least one refused", n, blockedAt)
	}
	out, err := exec.Command(bin, "tenants", "--config", config).CombinedOutput()
	if err != nil {
		t.Fatalf("foyer tenants: %v\n%s", err, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		blocked := strings.Contains(line, "INVITATIONS BLOCKED")
		if strings.HasPrefix(line, "contoso") != blocked {
			t.Errorf("foyer tenants: %q; want contoso blocked and south not", line)
		}
	}

	// A while later north's cap would take invitations again, but foyer
	// remembers the block: north's next run sends nothing, south's goes on.
	north.Advance(2 * time.Minute)
	drop("north", "n2", 2)
	finished(3)
	southed = append(southed, drop("south", "s2", 2)...)
	eventually(t, 2*time.Minute, "south's next two invitations", func() bool { return posts(south) == 5 })
	finished(4)
	invitedOnce(t, south, southed)
	if n := posts(north); n != blockedAt {
		t.Errorf("north received %d invitations while blocked", n-blockedAt)
	}

	// foyer tenants unblock, from another process: the running server
	// invites into north again.
	if out, err := exec.Command(bin, "tenants", "unblock", "contoso", "--config", config).CombinedOutput(); err != nil {
		t.Fatalf("foyer tenants unblock contoso: %v\n%s", err, out)
	}
	north.Advance(2 * time.Minute)
	drop("north", "n3", 2)
	eventually(t, 2*time.Minute, "north's invitations after the unblock", func() bool { return posts(north) == blockedAt+2 })
	finished(5)
	if n := posts(south); n != 5 {
		t.Errorf("south received %d invitations in all, want 5", n)
	}
	// The ledger names each run's tenant: its profile's.
	want := map[string]string{"north-partners": "contoso", "south-partners": "south"}
	for _, r := range runs() {
		if r.Tenant != want[r.Profile] {
			t.Errorf("a run of profile %s is recorded with tenant %q, want %q", r.Profile, r.Tenant, want[r.Profile])
		}
	}
}

// TestApplyTwoTenants: foyer apply, one process per run, with a
// configuration of two tenants: each run goes to its profile's tenant;
// once Entra blocks one tenant, an apply into it invites nobody and says
// why, while an apply into the other goes on; foyer tenants unblock lets
// the next apply invite again.
func TestApplyTwoTenants(t *testing.T) {
	t.Parallel()
	south := simtest.Start(t, sim.Options{Seed: 22})
	bin, north, dir, config := processWorld(t, sim.Options{Seed: 21, InvitesPerMinute: 2}, "")
	writeFile(t, dir, "south-ca.pem", string(south.CAPEM()))
	writeFile(t, dir, "south-secret", south.ClientSecret()+"\n")
	if err := os.Chmod(filepath.Join(dir, "south-secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	text, err := os.ReadFile(config)
	if err != nil {
		t.Fatal(err)
	}
	c := insertUnder(t, string(text), "tenants", fmt.Sprintf(`south:
  tenant_id: %[1]s
  client_id: %[2]s
  cloud: custom
  endpoints: {authority: %[3]s/, graph: %[3]s, arm: %[3]s, exchange: %[3]s}
  ca_file: south-ca.pem
  credential: {type: client_secret, secret_file: south-secret}
`, south.TenantID(), south.ClientID(), south.URL()))
	c = insertUnder(t, c, "profiles", "south-partners: {tenant: south, redirect_url: https://myapps.microsoft.com/, sender: microsoft, groups: [DemoApp]}\n")
	if err := os.WriteFile(config, []byte(c), 0o644); err != nil {
		t.Fatal(err)
	}
	apply := func(profile, prefix string, n int) ([]string, string) {
		t.Helper()
		file, emails := peopleFile(t, dir, prefix, n)
		out, _ := exec.Command(bin, "apply", "--yes", "--config", config, "--profile", profile, file).CombinedOutput()
		return emails, string(out)
	}
	posts := func(s *sim.Server) int64 { return s.Stats().Routes["POST /v1.0/invitations"] }

	southed, out := apply("south-partners", "s1", 3)
	invitedOnce(t, south, southed)
	if n := posts(north); n != 0 {
		t.Fatalf("north received %d invitations of south's run:\n%s", n, out)
	}
	_, out = apply("partners", "n1", 5)
	blockedAt := posts(north)
	if n := len(north.Stats().InvitationsByEmail); n != 2 || blockedAt < 3 {
		t.Fatalf("north: %d invited of %d invitations sent; want 2 invited and at least one refused:\n%s", n, blockedAt, out)
	}
	north.Advance(2 * time.Minute)
	_, out = apply("partners", "n2", 2)
	if n := posts(north); n != blockedAt {
		t.Errorf("north received %d invitations while blocked:\n%s", n-blockedAt, out)
	}
	if !strings.Contains(out, "foyer tenants unblock") {
		t.Errorf("an apply into a blocked tenant does not say how to unblock it:\n%s", out)
	}
	more, out := apply("south-partners", "s2", 2)
	invitedOnce(t, south, append(southed, more...))
	if strings.Contains(out, "blocked") {
		t.Errorf("an apply into south speaks of a block:\n%s", out)
	}
	if out, err := exec.Command(bin, "tenants", "unblock", "contoso", "--config", config).CombinedOutput(); err != nil {
		t.Fatalf("foyer tenants unblock contoso: %v\n%s", err, out)
	}
	_, out = apply("partners", "n3", 2)
	if n := posts(north); n != blockedAt+2 {
		t.Errorf("north received %d invitations after the unblock, want 2:\n%s", n-blockedAt, out)
	}
}
