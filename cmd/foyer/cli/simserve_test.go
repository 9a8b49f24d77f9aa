package cli_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/cmd/foyer/cli"
	"github.com/foyer-dev/foyer/config"
	"github.com/foyer-dev/foyer/sim"
	"github.com/foyer-dev/foyer/sim/simtest"
)

// TestServeSimFiles: the configuration foyer sim and foyer demo write has
// what foyer serve needs, and the emulated tenant holds it: an approver in
// the approvers group, an alternate, and foyer's web app, whose secret in
// the directory gets tokens.
func TestServeSimFiles(t *testing.T) {
	t.Parallel()
	s := simtest.Start(t, sim.Options{})
	dir := t.TempDir()
	path, approver, password, err := cli.WriteServeSimFiles(s, dir, 8181)
	if err != nil {
		t.Fatal(err)
	}
	if approver != "approver@contoso.example" || password == "" {
		t.Errorf("approver %q, password %q", approver, password)
	}
	c, err := config.Load(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := c.ServeSettings()
	if err != nil {
		t.Fatal(err)
	}
	if st.Addr != "127.0.0.1:8181" || st.PublicURL != "http://127.0.0.1:8181" || st.Tenant != "contoso" {
		t.Errorf("serve settings %+v", st)
	}
	if !st.Admins.Matches(foyer.Principal{ID: "x", UPN: approver}, "") {
		t.Errorf("the approver is not an admin: %+v", st.Admins)
	}
	if st.SignInCredential.SecretFile != filepath.Join(dir, "web-secret") || st.SignInClientID == s.ClientID() {
		t.Errorf("sign-in app %s, credential %+v", st.SignInClientID, st.SignInCredential)
	}
	if fi, err := os.Stat(st.SignInCredential.SecretFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("web secret file: %v, %v", fi, err)
	}

	p, _, err := c.Profile("requests")
	if err != nil {
		t.Fatal(err)
	}
	pol := p.Approval
	if !p.Public || len(pol.Stages) != 2 || pol.Stages[0].OnTimeout != foyer.TimeoutEscalate || pol.Stages[0].Timeout != 72*time.Hour {
		t.Fatalf("profile requests: public %v, policy %+v", p.Public, pol)
	}
	group := pol.Stages[0].Approvers.Groups
	if len(group) != 1 || !pol.Stages[0].Alternates.Matches(foyer.Principal{ID: "y", UPN: "alternate@contoso.example"}, "") {
		t.Errorf("stage 1 %+v", pol.Stages[0])
	}

	// The group in the policy is the tenant's, with the approver in it.
	members := graphGet(t, s, "/v1.0/groups/"+group[0]+"/members?$select=userPrincipalName")
	if !strings.Contains(members, `"approver@contoso.example"`) {
		t.Errorf("the approvers group's members: %s", members)
	}

	// The web app's secret, read from its file, gets a token.
	secret, err := os.ReadFile(st.SignInCredential.SecretFile)
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {st.SignInClientID},
		"client_secret": {strings.TrimSpace(string(secret))}, "scope": {"https://graph.microsoft.com/.default"}}
	resp, err := s.Client().PostForm(s.URL()+"/"+s.TenantID()+"/oauth2/v2.0/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || resp.StatusCode != http.StatusOK || tok.AccessToken == "" {
		t.Errorf("a token for the web app: status %d, %v", resp.StatusCode, err)
	}
}

// graphGet reads a Graph path as foyer's own app.
func graphGet(t *testing.T, s *sim.Server, path string) string {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {s.ClientID()},
		"client_secret": {s.ClientSecret()}, "scope": {"https://graph.microsoft.com/.default"}}
	resp, err := s.Client().PostForm(s.URL()+"/"+s.TenantID()+"/oauth2/v2.0/token", form)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	err = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, s.URL()+path, nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err = s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d, %v", path, resp.StatusCode, err)
	}
	return string(body)
}
