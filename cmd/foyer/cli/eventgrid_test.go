package cli_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/cmd/foyer/cli"
	"github.com/foyer-dev/foyer/config"
	"github.com/foyer-dev/foyer/sim"
	"github.com/foyer-dev/foyer/sim/simtest"
	"github.com/foyer-dev/foyer/web/hooks"
)

// The storage emulator's well-known development account (Azurite's README,
// "Default Storage Account"): public, for emulators only.
const (
	devAccount = "devstoreaccount1"
	devKey     = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

var azuriteListens = regexp.MustCompile(`successfully listens on (https?://\S+)`)

// startAzurite starts Azurite's blob service on a free port, with its data
// in a temporary directory, and returns the development account's
// connection string; it is stopped when the test ends. The test is
// skipped when FOYER_TEST_AZURITE is unset (scripts/test sets it).
func startAzurite(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("FOYER_TEST_AZURITE")
	if bin == "" {
		t.Skip("FOYER_TEST_AZURITE is unset: scripts/test installs Azurite and sets it to the azurite-blob binary")
	}
	cmd := exec.Command(bin, "--blobHost", "127.0.0.1", "--blobPort", "0", "--location", t.TempDir(),
		"--skipApiVersionCheck", "--loose", "--silent", "--disableTelemetry")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	exited := make(chan struct{})
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := azuriteListens.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
				break
			}
		}
		for sc.Scan() {
		}
		cmd.Wait()
		close(exited)
	}()
	select {
	case u := <-found:
		return "DefaultEndpointsProtocol=http;AccountName=" + devAccount + ";AccountKey=" + devKey + ";BlobEndpoint=" + u + "/" + devAccount + ";"
	case <-exited:
		t.Fatal("azurite exited before listening")
	case <-time.After(time.Minute):
		t.Fatal("azurite did not listen within a minute")
	}
	return ""
}

// uploadBlob puts body in container/name and returns the blob's ETag.
func uploadBlob(t *testing.T, cs, container, name, body string) string {
	t.Helper()
	c, err := azblob.NewClientFromConnectionString(cs, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.CreateContainer(ctx, container, nil); err != nil && !strings.Contains(err.Error(), "ContainerAlreadyExists") {
		t.Fatalf("create container: %v", err)
	}
	resp, err := c.UploadBuffer(ctx, container, name, []byte(body), nil)
	if err != nil {
		t.Fatalf("upload: %v", err)
	}
	return strings.Trim(string(*resp.ETag), `"`)
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "web", "hooks", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestServeEventGrid: foyer serve answers both of Event Grid's handshakes;
// a BlobCreated event (as Azure sends it) for a blob uploaded to Azurite
// invites the blob's people; the same event again, and another event for
// the same version of the blob, invite nobody twice; events without the
// key or with a wrong one are refused.
func TestServeEventGrid(t *testing.T) {
	t.Parallel()
	cs := startAzurite(t)
	const people = "email,name\nana@fabrikam.example,Ana\nbo@fabrikam.example,Bo\n"
	etag := uploadBlob(t, cs, "drops", "partners/guests.csv", people)
	dir := t.TempDir()
	const key = "an-event-grid-key-of-32-bytes-ok"
	writeFile(t, dir, "eg-key", key+"\n")
	writeFile(t, dir, "storage", cs+"\n")
	for _, f := range []string{"eg-key", "storage"} {
		if err := os.Chmod(filepath.Join(dir, f), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	w := startServeE2E(t, func(c string) string {
		return c + "storage: {connection_string_file: " + filepath.Join(dir, "storage") + "}\n" +
			"event_grid: {key_file: " + filepath.Join(dir, "eg-key") + ", audience: api://foyer-events}\n" +
			"triggers:\n  drops:\n    profile: requests\n    source: azblob://drops/partners/\n    event_grid: true\n"
	})
	post := func(query string, body []byte, header ...string) *http.Response {
		t.Helper()
		r, err := http.NewRequest("POST", w.url+"/hooks/eventgrid"+query, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		r.Header.Set("Content-Type", "application/json")
		for i := 0; i+1 < len(header); i += 2 {
			r.Header.Set(header[i], header[i+1])
		}
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	// The Event Grid schema's handshake.
	resp := post("?key="+key, readTestdata(t, "eventgrid-validation.json"), hooks.HeaderEventType, "SubscriptionValidation")
	var v map[string]string
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || resp.StatusCode != 200 || v["validationResponse"] != "512d38b6-c7b8-40c8-89fe-f46f9e9622b6" {
		t.Fatalf("validation: %d %v %v", resp.StatusCode, v, err)
	}
	// CloudEvents' handshake.
	r, _ := http.NewRequest("OPTIONS", w.url+"/hooks/eventgrid?key="+key, nil)
	r.Header.Set(hooks.HeaderRequestOrigin, "eventgrid.azure.net")
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get(hooks.HeaderAllowedOrigin) != "eventgrid.azure.net" {
		t.Fatalf("OPTIONS: %d %v", resp.StatusCode, resp.Header)
	}
	// The event as Azure sends it, for the blob uploaded.
	event := bytes.ReplaceAll(readTestdata(t, "eventgrid-blobcreated.json"), []byte("0x8D4BCC2E4835CD0"), []byte(etag))
	event = bytes.ReplaceAll(event, []byte(`"contentLength": 524`), fmt.Appendf(nil, `"contentLength": %d`, len(people)))
	for name, q := range map[string]string{"unsigned": "", "forged": "?key=an-event-grid-key-of-32-bytes-no"} {
		if resp := post(q, event, hooks.HeaderEventType, "Notification"); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s event: %d, want 401", name, resp.StatusCode)
		}
	}
	if resp := post("?key="+key, event, hooks.HeaderEventType, "Notification"); resp.StatusCode != 200 {
		t.Fatalf("the event: %d", resp.StatusCode)
	}
	if resp := post("?key="+key, event, hooks.HeaderEventType, "Notification"); resp.StatusCode != 200 {
		t.Fatalf("the event again: %d", resp.StatusCode)
	}
	until(t, "both people are invited", func() bool { return len(w.sim.Stats().InvitationsByEmail) == 2 })
	// Another event for the same version, delivered with Event Grid's
	// Entra token instead of the key: the ledger knows it was applied.
	// Tokens of an app without the role, or for another audience, are
	// refused.
	grid, idle := eventGridApps(t, w)
	other := bytes.ReplaceAll(event, []byte("831e1650-001e-001b-66ab-eeb76e069631"), []byte("831e1650-001e-001b-66ab-eeb76e069632"))
	for name, tok := range map[string]string{
		"without the role":   appToken(t, w, idle, "api://foyer-events/.default"),
		"another audience":   appToken(t, w, grid, "https://graph.microsoft.com/.default"),
		"not a token at all": "eyJhbGciOiJub25lIn0.e30.",
	} {
		if resp := post("", other, "Authorization", "Bearer "+tok, hooks.HeaderEventType, "Notification"); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("a token %s: %d, want 401", name, resp.StatusCode)
		}
	}
	if resp := post("", other, "Authorization", "Bearer "+appToken(t, w, grid, "api://foyer-events/.default"), hooks.HeaderEventType, "Notification"); resp.StatusCode != 200 {
		t.Fatalf("another event, with Event Grid's token: %d", resp.StatusCode)
	}
	until(t, "the other event's job finds the version applied", func() bool {
		return strings.Contains(w.log.String(), "this version was applied already")
	})
	for addr, n := range w.sim.Stats().InvitationsByEmail {
		if n != 1 {
			t.Errorf("%s invited %d times", addr, n)
		}
	}
	if n := strings.Count(w.log.String(), "trigger started a run"); n != 1 {
		t.Errorf("%d runs started, want 1", n)
	}
}

// eventGridApps registers foyer's events app (an API with the Event Grid
// role), Event Grid's service principal holding that role, and an app
// holding nothing, in the emulated tenant.
func eventGridApps(t *testing.T, w *serveE2E) (grid, idle sim.App) {
	t.Helper()
	if _, err := w.sim.AddApp(sim.App{DisplayName: "foyer events", IdentifierURIs: []string{"api://foyer-events"},
		AppRoles: []sim.AppRole{{ID: "1b4f816e-5eaf-48b9-8613-7923830595ad", Value: "AzureEventGridSecureWebhookSubscriber", DisplayName: "Event Grid"}}}); err != nil {
		t.Fatal(err)
	}
	grid, err := w.sim.AddApp(sim.App{DisplayName: "Microsoft.EventGrid", APIPermissions: map[string][]string{"api://foyer-events": {"AzureEventGridSecureWebhookSubscriber"}}})
	if err != nil {
		t.Fatal(err)
	}
	if idle, err = w.sim.AddApp(sim.App{DisplayName: "idle"}); err != nil {
		t.Fatal(err)
	}
	return grid, idle
}

// appToken gets an app-only token for scope from the emulated tenant.
func appToken(t *testing.T, w *serveE2E, app sim.App, scope string) string {
	t.Helper()
	tok, err := simtest.SecretCredential(t, w.sim, app.ClientID, app.Secret).GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{scope}})
	if err != nil {
		t.Fatalf("token for %s: %v", app.DisplayName, err)
	}
	return tok.Token
}

// TestServeWatchedFolder: a file written in two parts into a watched
// folder is applied once, after it stopped growing, with both parts'
// people.
func TestServeWatchedFolder(t *testing.T) {
	t.Parallel()
	drop := t.TempDir()
	w := startServeE2E(t, func(c string) string {
		return c + "triggers:\n  share:\n    profile: requests\n    watch: " + drop + "\n    watch_interval: 2s\n"
	})
	path := filepath.Join(drop, "partners.csv")
	if err := os.WriteFile(path, []byte("email,name\nana@fabrikam.example,Ana\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	until(t, "the first part is seen", func() bool { return strings.Contains(w.log.String(), "a file was found") })
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("bo@fabrikam.example,Bo\ncy@fabrikam.example,Cy\n"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	until(t, "the three people are invited", func() bool { return len(w.sim.Stats().InvitationsByEmail) == 3 })
	for addr, n := range w.sim.Stats().InvitationsByEmail {
		if n != 1 {
			t.Errorf("%s invited %d times", addr, n)
		}
	}
	if n := strings.Count(w.log.String(), "trigger started a run"); n != 1 {
		t.Fatalf("%d runs started, want 1 (the whole file, once it stopped growing)", n)
	}
	// Scans go on: the file, unchanged, is not applied again; grown
	// again, it is a new version, applied once more (its earlier people
	// are found, not invited again).
	f, err = os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("dee@fabrikam.example,Dee\n"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	until(t, "the fourth person is invited", func() bool { return len(w.sim.Stats().InvitationsByEmail) == 4 })
	for addr, n := range w.sim.Stats().InvitationsByEmail {
		if n != 1 {
			t.Errorf("%s invited %d times", addr, n)
		}
	}
	if n := strings.Count(w.log.String(), "trigger started a run"); n != 2 {
		t.Errorf("%d runs started, want 2", n)
	}
}

const listConfig = "tenants: {t: {tenant_id: 6c1e3a52-0000-4000-8000-000000000001, client_id: 6c1e3a52-0000-4000-8000-000000000002, credential: {type: azure_cli}}}\n" +
	"profiles: {p: {redirect_url: https://app.example}}\n"

// TestListInputs: a blob prefix lists its blobs in Azurite, with their
// ETags; a folder its regular files, whose version changes as they grow.
func TestListInputs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	writeFile(t, dir, "a.csv", "email\n")
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	c, err := config.Parse(filepath.Join(dir, "foyer.yaml"), []byte(listConfig))
	if err != nil {
		t.Fatal(err)
	}
	items, err := cli.ListInputs(ctx, c, dir)
	if err != nil || len(items) != 1 || items[0].Spec != filepath.Join(dir, "a.csv") || items[0].Size != 6 {
		t.Fatalf("the folder: %+v, %v; want a.csv alone", items, err)
	}
	appendFile(t, filepath.Join(dir, "a.csv"), "ana@fabrikam.example\n")
	again, err := cli.ListInputs(ctx, c, dir)
	if err != nil || len(again) != 1 || again[0].Version == items[0].Version {
		t.Errorf("after a.csv grew: %+v, %v; want a new version", again, err)
	}
	if _, err := cli.ListInputs(ctx, c, filepath.Join(dir, "gone")); foyer.ErrorCode(err) != foyer.ENOTFOUND {
		t.Errorf("a missing folder: %v, want not_found", err)
	}

	cs := startAzurite(t)
	etag := uploadBlob(t, cs, "drops", "partners/b.csv", "email\n")
	uploadBlob(t, cs, "drops", "other.csv", "email\n")
	writeFile(t, dir, "storage", cs+"\n")
	c, err = config.Parse(filepath.Join(dir, "foyer.yaml"), []byte(listConfig+"storage: {connection_string_file: storage}\n"))
	if err != nil {
		t.Fatal(err)
	}
	blobs, err := cli.ListInputs(ctx, c, "azblob://drops/partners/")
	if err != nil || len(blobs) != 1 || blobs[0].Spec != "azblob://drops/partners/b.csv" || blobs[0].Version != etag || blobs[0].Size != 6 {
		t.Errorf("the prefix: %+v, %v; want partners/b.csv in version %s", blobs, err, etag)
	}
}
