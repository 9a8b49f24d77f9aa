package cli_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/foyer-dev/foyer/cmd/foyer/cli"
	"github.com/foyer-dev/foyer/sim"
	"github.com/foyer-dev/foyer/sim/simtest"
)

// seatsProfile follows simTenantYAML: one profile that gives a license.
const seatsProfile = `profiles:
  licensed:
    redirect_url: https://myapps.microsoft.com/
    sender: none
    groups: [DemoApp]
    licenses: [{sku: SEATS22, usage_location: US}]
`

// seatsSKU is a SKU with 22 seats, none used.
const seatsSKU = "7b6a1f52-2d2f-4c55-9a3e-000000000022"

// TestSeatsHeldBackInThePlan: 30 invitations against 22 free seats. The
// plan invites 22 and holds 8 back, each with its reason; apply invites
// only those 22, each gets its license, and nobody is left unlicensed or
// invited twice. With no seat left, the profile still plans: people who
// hold the license are planned, newcomers held back; profiles check shows
// the seats.
func TestSeatsHeldBackInThePlan(t *testing.T) {
	t.Parallel()
	s := simtest.Start(t, sim.Options{})
	if _, err := s.Seed(sim.SeedData{SKUs: []sim.SeedSKU{{SkuID: seatsSKU, SkuPartNumber: "SEATS22", Enabled: 22}}}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if _, err := cli.WriteSimFiles(s, dir); err != nil {
		t.Fatal(err)
	}
	config := writeFile(t, dir, "seats.yaml", simTenantYAML(s, s.ClientID(), "client-secret")+seatsProfile)
	var csv strings.Builder
	csv.WriteString("email\n")
	for i := range 30 {
		fmt.Fprintf(&csv, "seat%02d@partner.example\n", i)
	}
	input := writeFile(t, dir, "thirty.csv", csv.String())

	code, out, errs := run(t, "profiles", "check", "--config", config)
	if code != cli.ExitOK || !strings.Contains(out, "22 free seats") {
		t.Errorf("profiles check: exit %d, want the free seats shown:\n%s%s", code, out, errs)
	}

	code, out, errs = run(t, "plan", "--config", config, "--profile", "licensed", "--output", "json", input)
	if code != cli.ExitOK {
		t.Fatalf("plan: exit %d: %s", code, errs)
	}
	plan := decode(t, out)
	if plan.Summary["invite"] != 22 || plan.Summary["skip"] != 8 {
		t.Errorf("plan summary %v, want 22 invite and 8 skip", plan.Summary)
	}
	for i, r := range plan.Rows {
		want := "invite"
		if i >= 22 {
			want = "skip"
			if w := fmt.Sprintf("no free seat of license SEATS22 (22 free, this row would be number %d)", i+1); !strings.Contains(r.Reason, w) {
				t.Errorf("line %d: reason %q, want %q", r.Line, r.Reason, w)
			}
		}
		if r.Action != want {
			t.Errorf("line %d %s: %s, want %s", r.Line, r.Email, r.Action, want)
		}
	}

	code, out, errs = run(t, "apply", "--yes", "--config", config, "--profile", "licensed", "--output", "json", input)
	if code != cli.ExitOK {
		t.Fatalf("apply: exit %d: %s\n%s", code, errs, out)
	}
	st := s.Snapshot()
	invited := s.Stats().InvitationsByEmail
	if len(invited) != 22 {
		t.Errorf("%d addresses invited, want 22", len(invited))
	}
	for a, n := range invited {
		if n != 1 {
			t.Errorf("%s invited %d times", a, n)
		}
	}
	applied := decode(t, out)
	for _, r := range applied.Rows {
		if r.Result != "invited" {
			continue
		}
		if !strings.EqualFold(strings.Join(st.Licenses[r.UserID], ","), seatsSKU) {
			t.Errorf("%s (%s) holds licenses %v, want only SEATS22", r.Email, r.UserID, st.Licenses[r.UserID])
		}
	}
	if applied.Summary["invited"] != 22 || applied.Summary["failed"] != 0 {
		t.Errorf("apply summary %v, want 22 invited and none failed", applied.Summary)
	}

	// No seat left: the 22 are planned (they hold it), the others held back.
	code, out, errs = run(t, "plan", "--config", config, "--profile", "licensed", "--output", "json", input)
	if code != cli.ExitOK {
		t.Fatalf("plan with no free seat: exit %d: %s", code, errs)
	}
	if again := decode(t, out); again.Summary["exists"] != 22 || again.Summary["skip"] != 8 {
		t.Errorf("plan with no free seat: %v, want 22 exists and 8 skip", again.Summary)
	}
	code, out, _ = run(t, "profiles", "check", "--config", config)
	if code != cli.ExitOK || !strings.Contains(out, "no free seats") {
		t.Errorf("profiles check with no free seat: exit %d, want a warning:\n%s", code, out)
	}
}

// TestCheckMakesThePlansReads: profiles check makes every read the plan
// makes, so what the plan would be refused, the check reports, with the
// line of the configuration. An Azure role at a scope where the app may
// not read role assignments resolves (role definitions are public), but
// the plan's read of who holds it is refused; an app that may not read
// users resolves a group, but cannot look the rows up.
func TestCheckMakesThePlansReads(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		permissions []string // nil: the default app's
		profile     string   // the profile's grants, in YAML; {sub} is the subscription's scope
		want        []string
	}{
		{"an Azure scope without Reader", nil,
			"azure_roles: [{role: Reader, scope: {sub}/resourceGroups/rg-shared}]",
			[]string{"narrow.yaml:13:19: azure_role \"Reader\"", "roleAssignments/read"}},
		{"no permission to read users", []string{"User.Invite.All", "GroupMember.ReadWrite.All", "Domain.Read.All", "Organization.Read.All"},
			"groups: [DemoApp]",
			[]string{"look-ups: find foyer-check@foyer.invalid", "User.Read.All"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := simtest.Start(t, sim.Options{})
			sub := defaultAppSubscription(s)
			perms := tc.permissions
			if perms == nil {
				perms = s.DefaultApp().Permissions
			}
			app, err := s.AddApp(sim.App{DisplayName: "foyer-narrow", Permissions: perms,
				AzureRoles: []sim.AzureRoleGrant{{Role: "Owner", Scope: sub + "/resourceGroups/rg-demo"}}})
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			if _, err := cli.WriteSimFiles(s, dir); err != nil {
				t.Fatal(err)
			}
			writeFile(t, dir, "narrow-secret", app.Secret+"\n")
			config := writeFile(t, dir, "narrow.yaml", simTenantYAML(s, app.ClientID, "narrow-secret")+`profiles:
  shared:
    redirect_url: https://myapps.microsoft.com/
    `+strings.ReplaceAll(tc.profile, "{sub}", sub)+"\n")
			input := writeFile(t, dir, "one.csv", "email\nnew.person@partner.example\n")

			code, _, errs := run(t, "plan", "--config", config, "--profile", "shared", input)
			if code != cli.ExitError || !strings.Contains(errs, tc.want[len(tc.want)-1]) {
				t.Fatalf("plan: exit %d, want the refused read: %s", code, errs)
			}
			code, out, errs := run(t, "profiles", "check", "--config", config)
			if code != cli.ExitError {
				t.Fatalf("profiles check: exit %d, want %d:\n%s%s", code, cli.ExitError, out, errs)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("profiles check does not report %q:\n%s", w, out)
				}
			}
		})
	}
}

// TestPlanHoldsBackPastTheObjectQuota: a tenant with room for 10 more
// directory objects. Of 30 new people the plan invites 10 and holds 20
// back, each with the reason, and says so as a whole.
func TestPlanHoldsBackPastTheObjectQuota(t *testing.T) {
	t.Parallel()
	s, config, _ := tenant(t, sim.Options{})
	used := s.Snapshot().ObjectQuota.Used
	v := s.Settings()
	v.ObjectQuota = used + 10
	if err := s.SetSettings(v); err != nil {
		t.Fatal(err)
	}
	var csv strings.Builder
	csv.WriteString("email\nann@fabrikam.example\n") // a guest already: creates nothing
	for i := range 30 {
		fmt.Fprintf(&csv, "quota%02d@partner.example\n", i)
	}
	input := writeFile(t, t.TempDir(), "thirty.csv", csv.String())
	code, out, errs := run(t, "plan", "--config", config, "--profile", "partners", "--output", "json", input)
	if code != cli.ExitOK {
		t.Fatalf("plan: exit %d: %s", code, errs)
	}
	plan := decode(t, out)
	if plan.Summary["invite"] != 10 || plan.Summary["skip"] != 20 || plan.Summary["exists"] != 1 {
		t.Errorf("plan summary %v, want 10 invite, 20 skip, 1 exists", plan.Summary)
	}
	for _, r := range plan.Rows[11:] {
		if w := fmt.Sprintf("past the tenant's directory object quota (%d of %d objects used;", used, used+10); r.Action != "skip" || !strings.Contains(r.Reason, w) {
			t.Errorf("line %d: %s %q, want skip with %q", r.Line, r.Action, r.Reason, w)
		}
	}
	if len(plan.Notices) != 1 || !strings.Contains(plan.Notices[0], "20 rows held back") {
		t.Errorf("notices %q, want one saying 20 rows were held back", plan.Notices)
	}
	code, out, _ = run(t, "profiles", "check", "--config", config)
	if w := fmt.Sprintf("directory objects: %d of %d used (10 more fit)", used, used+10); code != cli.ExitOK || !strings.Contains(out, w) {
		t.Errorf("profiles check: exit %d, want %q:\n%s", code, w, out)
	}
}
