package sim_test

import (
	"strings"
	"testing"

	"github.com/foyer-dev/foyer/sim"
	"github.com/foyer-dev/foyer/sim/simtest"
)

func cmdlet(name string, params map[string]any) map[string]any {
	return map[string]any{"CmdletInput": map[string]any{"CmdletName": name, "Parameters": params}}
}

func exoDetail(a answer) string {
	d := a.list("error.details")
	if len(d) == 0 {
		return ""
	}
	return d[0].(map[string]any)["message"].(string)
}

func TestExchangeMailContacts(t *testing.T) {
	t.Parallel()
	tn := start(t, sim.Options{})
	url := tn.s.URL() + "/adminapi/beta/" + tn.s.TenantID() + "/InvokeCommand"
	a := do(t, tn.exo, "POST", url, cmdlet("New-MailContact", map[string]any{"Name": "Jane Doe", "ExternalEmailAddress": "jane@partner.example", "DisplayName": "Jane Doe (Partner)"}))
	wantStatus(t, a, 200)
	if a.str("value.0.ExternalEmailAddress") != "SMTP:jane@partner.example" || a.str("value.0.RecipientTypeDetails") != "MailContact" || a.str("value.0.DisplayName") != "Jane Doe (Partner)" {
		t.Errorf("created: %s", a.raw)
	}
	dup := do(t, tn.exo, "POST", url, cmdlet("New-MailContact", map[string]any{"Name": "Jane 2", "ExternalEmailAddress": "jane@partner.example"}))
	wantStatus(t, dup, 400)
	if !strings.Contains(exoDetail(dup), `The proxy address "SMTP:jane@partner.example" is already being used by the proxy addresses or LegacyExchangeDN`) {
		t.Errorf("duplicate: %s", dup.raw)
	}
	// A guest's address is a proxy address too.
	guest := do(t, tn.exo, "POST", url, cmdlet("New-MailContact", map[string]any{"Name": "Ann", "ExternalEmailAddress": "ann@fabrikam.example"}))
	if guest.status != 400 || !strings.Contains(exoDetail(guest), "already being used") {
		t.Errorf("guest address: %s", guest.raw)
	}
	missing := do(t, tn.exo, "POST", url, cmdlet("New-MailContact", map[string]any{"Name": "No Address"}))
	if missing.status != 400 || !strings.Contains(exoDetail(missing), "missing mandatory parameters: ExternalEmailAddress") {
		t.Errorf("missing parameter: %s", missing.raw)
	}
	g := do(t, tn.exo, "POST", url, cmdlet("Get-MailContact", map[string]any{"Identity": "jane@partner.example"}))
	if g.str("value.0.Name") != "Jane Doe" {
		t.Errorf("get: %s", g.raw)
	}
	for _, n := range []string{"b", "c"} {
		wantStatus(t, do(t, tn.exo, "POST", url, cmdlet("New-MailContact", map[string]any{"Name": n, "ExternalEmailAddress": n + "@partner.example"})), 200)
	}
	all := do(t, tn.exo, "POST", url, cmdlet("Get-MailContact", map[string]any{}), "Prefer", "odata.maxpagesize=2")
	if len(all.list("value")) != 2 || all.str("@odata.nextLink") == "" {
		t.Fatalf("first page: %s", all.raw)
	}
	rest := do(t, tn.exo, "POST", all.str("@odata.nextLink"), cmdlet("Get-MailContact", map[string]any{}), "Prefer", "odata.maxpagesize=2")
	if len(rest.list("value")) != 1 || rest.str("@odata.nextLink") != "" {
		t.Errorf("second page: %s", rest.raw)
	}
	for _, n := range []string{"b", "c"} {
		wantStatus(t, do(t, tn.exo, "POST", url, cmdlet("Remove-MailContact", map[string]any{"Identity": n})), 200)
	}
	wantStatus(t, do(t, tn.exo, "POST", url, cmdlet("Remove-MailContact", map[string]any{"Identity": "Jane Doe", "Confirm": false})), 200)
	nf := do(t, tn.exo, "POST", url, cmdlet("Get-MailContact", map[string]any{"Identity": "Jane Doe"}))
	if nf.status != 400 || !strings.Contains(exoDetail(nf), "ManagementObjectNotFoundException|The operation couldn't be performed because object 'Jane Doe' couldn't be found") {
		t.Errorf("not found: %s", nf.raw)
	}
	unknown := do(t, tn.exo, "POST", url, cmdlet("Get-Nothing", nil))
	if unknown.status != 400 || !strings.Contains(exoDetail(unknown), "CommandNotFoundException") {
		t.Errorf("unknown cmdlet: %s", unknown.raw)
	}
	if st := tn.s.Snapshot(); len(st.MailContacts) != 0 {
		t.Errorf("state: %+v", st.MailContacts)
	}

	// An app without Exchange.ManageAsApp is refused.
	app, err := tn.s.AddApp(sim.App{DisplayName: "no-exo"})
	if err != nil {
		t.Fatal(err)
	}
	c := simtest.Bearer(t, tn.s, simtest.SecretCredential(t, tn.s, app.ClientID, app.Secret), "https://outlook.office365.com/.default")
	if r := do(t, c, "POST", url, cmdlet("Get-MailContact", nil)); r.status != 401 {
		t.Errorf("without Exchange.ManageAsApp: %d %s", r.status, r.raw)
	}
}
