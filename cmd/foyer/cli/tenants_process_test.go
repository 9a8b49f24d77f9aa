package cli_test

import (
	"crypto/tls"
	"crypto/x509"
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

// simProc is a foyer sim process: an emulated tenant of its own, judged
// by its side door's counters.
type simProc struct {
	*proc
	ready struct {
		URL        string `json:"url"`
		TenantID   string `json:"tenant_id"`
		ClientID   string `json:"client_id"`
		CAFile     string `json:"ca_file"`
		SecretFile string `json:"secret_file"`
	}
	client *http.Client
}

// startSimProc starts foyer sim in dir, with flags added to its command
// line, and waits for its ready line.
func startSimProc(t *testing.T, bin, dir string, seed int, flags ...string) *simProc {
	t.Helper()
	args := append([]string{"sim", "--dir", dir, "--seed", strconv.Itoa(seed)}, flags...)
	s := &simProc{proc: startProc(t, exec.Command(bin, args...))}
	eventually(t, time.Minute, "foyer sim says where it listens", func() bool {
		line, _, ok := strings.Cut(s.out.String(), "\n")
		return ok && json.Unmarshal([]byte(line), &s.ready) == nil && s.ready.URL != ""
	})
	pem, err := os.ReadFile(s.ready.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("%s holds no certificate", s.ready.CAFile)
	}
	s.client = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 30 * time.Second}
	return s
}

// side calls the sim's side door; out, when not nil, gets the answer.
func (s *simProc) side(t *testing.T, method, path, body string, out any) {
	t.Helper()
	r, err := http.NewRequest(method, s.ready.URL+"/_sim/"+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Content-Type", "application/json")
	resp, err := s.client.Do(r)
	if err != nil {
		t.Fatalf("%s /_sim/%s: %v", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("%s /_sim/%s: %s", method, path, resp.Status)
	}
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("%s /_sim/%s: %v", method, path, err)
		}
	}
}

// stats is the tenant's own count of what it was asked.
func (s *simProc) stats(t *testing.T) sim.Stats {
	t.Helper()
	var st sim.Stats
	s.side(t, http.MethodGet, "stats", "", &st)
	return st
}

// posts is how many invitations the tenant was sent.
func (s *simProc) posts(t *testing.T) int64 { return s.stats(t).Routes["POST /v1.0/invitations"] }

// tenantYAML is the tenants: entry that signs in to the sim.
func (s *simProc) tenantYAML(name string) string {
	return fmt.Sprintf(`  %[1]s:
    tenant_id: %[2]s
    client_id: %[3]s
    cloud: custom
    endpoints: {authority: %[4]s/, graph: %[4]s, arm: %[4]s, exchange: %[4]s}
    ca_file: %[5]s
    credential: {type: client_secret, secret_file: %[6]s}
`, name, s.ready.TenantID, s.ready.ClientID, s.ready.URL, s.ready.CAFile, s.ready.SecretFile)
}

// TestServeTwoTenants: one foyer serve process, configured with two
// tenants (two foyer sim processes, each with its own credential and CA),
// works the runs of each tenant's profile in that tenant: each tenant's
// own counter of invitations is the judge. When Entra blocks the
// invitations of one tenant for suspicious activity, that tenant's later
// runs invite nobody while the other's go on; foyer tenants unblock, run
// as another process, lets the running server invite into it again.
func TestServeTwoTenants(t *testing.T) {
	t.Parallel()
	needProcesses(t)
	bin := foyerBinary(t)
	dir := t.TempDir()
	north := startSimProc(t, bin, filepath.Join(dir, "north"), 11)
	south := startSimProc(t, bin, filepath.Join(dir, "south"), 12)
	if north.ready.TenantID == south.ready.TenantID {
		t.Fatalf("both emulated tenants have id %s", north.ready.TenantID)
	}
	north.side(t, http.MethodPut, "settings", `{"invites_per_minute": 2}`, nil)
	const secret = "a-webhook-secret-of-32-bytes-ok!"
	writeFile(t, dir, "hook-secret", secret+"\n")
	if err := os.Chmod(filepath.Join(dir, "hook-secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	csvs := map[string]string{"north": filepath.Join(dir, "north.csv"), "south": filepath.Join(dir, "south.csv")}
	hook := "{secret_file: " + filepath.Join(dir, "hook-secret") + "}"
	config := writeFile(t, dir, "foyer.yaml", "tenants:\n"+north.tenantYAML("contoso")+south.tenantYAML("south")+
		"ledger: {driver: sqlite, dsn: "+filepath.Join(dir, "foyer.db")+"}\n"+
		fmt.Sprintf("serve:\n  addr: 127.0.0.1:%d\n  tenant: contoso\n  access: {admins: {users: [approver@contoso.example]}}\n", freePort(t))+
		`profiles:
  north-partners: {tenant: contoso, redirect_url: "https://myapps.microsoft.com/", sender: microsoft, groups: [DemoApp]}
  south-partners: {tenant: south, redirect_url: "https://myapps.microsoft.com/", sender: microsoft, groups: [DemoApp]}
triggers:
  north-drop: {profile: north-partners, source: `+csvs["north"]+`, webhook: `+hook+`}
  south-drop: {profile: south-partners, source: `+csvs["south"]+`, webhook: `+hook+`}
`)
	serve := startServeProc(t, bin, config)
	defer serve.stop(t)
	t.Cleanup(func() {
		if t.Failed() {
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
	invitedOnce := func(s *simProc, emails []string) {
		t.Helper()
		got := s.stats(t).InvitationsByEmail
		for _, e := range emails {
			if got[e] != 1 {
				t.Errorf("%s was invited %d times", e, got[e])
			}
		}
		if len(got) != len(emails) {
			t.Errorf("%d addresses were invited, want %d", len(got), len(emails))
		}
	}
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
	finished(1)
	invitedOnce(south, southed)
	if n := north.posts(t); n != 0 {
		t.Fatalf("north received %d invitations of south's run", n)
	}

	// North takes two invitations a minute; beyond them it answers that
	// invitations are blocked for suspicious activity: north is blocked,
	// south is not. (The run's rows are worked at once: up to all five
	// invitations may have gone out before the first refusal came back.)
	drop("north", "n1", 5)
	finished(2)
	blockedAt := north.posts(t)
	if n := len(north.stats(t).InvitationsByEmail); n != 2 || blockedAt < 3 {
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
	north.side(t, http.MethodPost, "clock", `{"advance": "2m"}`, nil)
	drop("north", "n2", 2)
	finished(3)
	southed = append(southed, drop("south", "s2", 2)...)
	finished(4)
	invitedOnce(south, southed)
	if n := north.posts(t); n != blockedAt {
		t.Errorf("north received %d invitations while blocked", n-blockedAt)
	}

	// foyer tenants unblock, from another process: the running server
	// invites into north again.
	if out, err := exec.Command(bin, "tenants", "unblock", "contoso", "--config", config).CombinedOutput(); err != nil {
		t.Fatalf("foyer tenants unblock contoso: %v\n%s", err, out)
	}
	north.side(t, http.MethodPost, "clock", `{"advance": "2m"}`, nil)
	northed := drop("north", "n3", 2)
	finished(5)
	if n := north.posts(t); n != blockedAt+2 {
		t.Errorf("north received %d invitations after the unblock, want 2", n-blockedAt)
	}
	for _, e := range northed {
		if got := north.stats(t).InvitationsByEmail[e]; got != 1 {
			t.Errorf("north: %s was invited %d times after the unblock, want once", e, got)
		}
	}
	if n := south.posts(t); n != 5 {
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
	// foyer runs show names each run's tenant.
	list, err := exec.Command(bin, "runs", "--config", config, "--output", "json").Output()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Runs []struct {
			ID      string `json:"run_id"`
			Profile string
		}
	}
	if err := json.Unmarshal(list, &doc); err != nil || len(doc.Runs) != 5 {
		t.Fatalf("foyer runs --output json: %v, %d runs, want 5:\n%s", err, len(doc.Runs), list)
	}
	for _, r := range doc.Runs {
		// (a run with failed rows exits non-zero: its output is what counts)
		show, _ := exec.Command(bin, "runs", "show", r.ID, "--config", config).Output()
		want := map[string]string{"partners": "(tenant contoso)", "south-partners": "(tenant south)"}[r.Profile]
		if !strings.Contains(string(show), "with profile "+r.Profile+" "+want) {
			t.Errorf("foyer runs show %s (profile %s): want %q named:\n%s", r.ID, r.Profile, want, show)
		}
	}
}
