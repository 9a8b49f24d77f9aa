package cli_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/foyer-dev/foyer/cmd/foyer/cli"
	"github.com/foyer-dev/foyer/sim"
	"github.com/foyer-dev/foyer/store/sqlite"
	"github.com/foyer-dev/foyer/web/api"
)

// A key foyer apikeys create prints is one the API accepts, against the
// real ledger, until foyer apikeys revoke.
func TestAPIKeys(t *testing.T) {
	t.Parallel()
	_, config, _ := tenant(t, sim.Options{})
	code, key, errs := run(t, "apikeys", "create", "--config", config, "crm")
	key = strings.TrimSuffix(key, "\n")
	if code != cli.ExitOK || !strings.HasPrefix(key, api.KeyPrefix) || strings.ContainsAny(key, " \n") || !strings.Contains(errs, "cannot be shown again") {
		t.Fatalf("create: exit %d, stdout %q, stderr %q", code, key, errs)
	}
	if strings.Contains(errs, key) {
		t.Error("the key is on stderr too")
	}
	if code, _, errs := run(t, "apikeys", "create", "--config", config, "crm"); code != cli.ExitError || !strings.Contains(errs, "exists already") {
		t.Errorf("the same name again: exit %d %s", code, errs)
	}
	if code, _, errs := run(t, "apikeys", "create", "--config", config, "no spaces"); code != cli.ExitUsage {
		t.Errorf("a bad name: exit %d %s", code, errs)
	}

	db, err := sqlite.Open(context.Background(), filepath.Join(filepath.Dir(config), "foyer.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	auth, err := api.NewAuthenticator(t.Context(), api.AuthOptions{Ledger: db})
	if err != nil {
		t.Fatal(err)
	}
	authenticate := func() (string, error) {
		r := httptest.NewRequest("GET", "/api/v1/guests", nil)
		r.Header.Set("Authorization", "Bearer "+key)
		p, err := auth.Authenticate(r)
		if p == nil {
			return "", err
		}
		return p.ID, err
	}
	if id, err := authenticate(); id != "apikey:crm" || err != nil {
		t.Errorf("the new key: %q %v", id, err)
	}

	code, out, errs := run(t, "apikeys", "list", "--config", config, "--json")
	var list struct {
		Keys []struct {
			Name, Prefix string
			RevokedAt    *string `json:"revoked_at"`
		} `json:"api_keys"`
	}
	if code != cli.ExitOK || json.Unmarshal([]byte(out), &list) != nil || len(list.Keys) != 1 || list.Keys[0].Name != "crm" ||
		!strings.HasPrefix(key, list.Keys[0].Prefix) || list.Keys[0].RevokedAt != nil || strings.Contains(out, key) {
		t.Errorf("list --json: exit %d\n%s\n%s", code, out, errs)
	}

	if code, _, errs := run(t, "apikeys", "revoke", "--config", config, "crm"); code != cli.ExitOK {
		t.Fatalf("revoke: exit %d %s", code, errs)
	}
	if id, err := authenticate(); id != "" || err == nil || !strings.Contains(err.Error(), "revoked") {
		t.Errorf("a revoked key: %q %v", id, err)
	}
	code, out, _ = run(t, "apikeys", "list", "--config", config)
	if code != cli.ExitOK || !strings.Contains(out, "crm") || strings.Contains(out, key) || strings.Count(out, "\n") != 2 || strings.HasSuffix(strings.TrimSpace(out), "-") {
		t.Errorf("list after revoke: exit %d\n%s", code, out)
	}
	if code, _, errs := run(t, "apikeys", "revoke", "--config", config, "nobody"); code != cli.ExitError || !strings.Contains(errs, "no API key named nobody") {
		t.Errorf("revoke an unknown key: exit %d %s", code, errs)
	}
}
