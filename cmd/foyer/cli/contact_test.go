package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/foyer-dev/foyer/cmd/foyer/cli"
	"github.com/foyer-dev/foyer/sim"
)

// TestContactConflictRefusedBeforeInviting: a profile that shows its guests
// in the address book invites a new person without making a mail contact
// (the guest keeps its address, redeems by direct link and is in the
// address book), and refuses, before any invitation, a person whose address
// an Exchange admin's mail contact holds, saying how to fix it. Once the
// contact is gone, the next apply invites that person, who redeems too.
func TestContactConflictRefusedBeforeInviting(t *testing.T) {
	t.Parallel()
	w := newGrantsWorld(t)
	if _, err := w.sim.AddMailContact(sim.MailContact{Name: "Hana (partner desk)", ExternalEmailAddress: "hana@partner.example"}); err != nil {
		t.Fatal(err)
	}
	csv := filepath.Join(w.dir, "people.csv")
	if err := os.WriteFile(csv, []byte("name,email\nNoa New,noa@partner.example\nHana Held,hana@partner.example\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := w.run(t, "apply", "--profile", "full", "--output", "json", "--yes", csv)
	if code != cli.ExitRowsFail {
		t.Fatalf("apply: exit %d, want %d (a row failed)\n%s\n%s", code, cli.ExitRowsFail, errs, out)
	}
	rows := map[string]int{}
	d := decode(t, out)
	for i, r := range d.Rows {
		rows[r.Email] = i
	}
	noa, hana := d.Rows[rows["noa@partner.example"]], d.Rows[rows["hana@partner.example"]]
	if noa.Result != "invited" || !strings.Contains(strings.Join(noa.Grants, ","), "address_book") {
		t.Errorf("noa: result %q, grants %q, error %q", noa.Result, noa.Grants, noa.Error)
	}
	for _, want := range []string{"mail contact", "Hana (partner desk)", "cannot redeem", "Remove-MailContact", "apply again"} {
		if hana.Result != "failed" || !strings.Contains(hana.Error, want) {
			t.Errorf("hana: result %q, error %q lacks %q", hana.Result, hana.Error, want)
		}
	}
	stats := w.sim.Stats().InvitationsByEmail
	if stats["noa@partner.example"] != 1 || stats["hana@partner.example"] != 0 {
		t.Fatalf("invitations %v: want noa once, hana never", stats)
	}
	st := w.sim.Snapshot()
	if len(st.MailContacts) != 1 || st.MailContacts[0].ExternalEmailAddress != "hana@partner.example" {
		t.Errorf("mail contacts %v: want only the admin's", st.MailContacts)
	}
	if got := held(w.sim, noa.UserID, noa.Email); got["address book"] != 1 {
		t.Errorf("noa holds %v, want the address book", got)
	}
	if err := w.sim.Redeem("noa@partner.example"); err != nil {
		t.Errorf("noa redeems by direct link: %v", err)
	}

	// The fix the row gave: remove the contact, apply again.
	if err := w.sim.RemoveMailContact("Hana (partner desk)"); err != nil {
		t.Fatal(err)
	}
	code, out, errs = w.run(t, "apply", "--profile", "full", "--output", "json", "--yes", csv)
	if code != cli.ExitOK {
		t.Fatalf("second apply: exit %d\n%s\n%s", code, errs, out)
	}
	for _, r := range decode(t, out).Rows {
		if want := map[string]string{"noa@partner.example": "unchanged", "hana@partner.example": "invited"}[r.Email]; r.Result != want {
			t.Errorf("second apply: %s %q (%s), want %q", r.Email, r.Result, r.Error, want)
		}
	}
	if n := w.sim.Stats().InvitationsByEmail["hana@partner.example"]; n != 1 {
		t.Errorf("hana invited %d times", n)
	}
	if err := w.sim.Redeem("hana@partner.example"); err != nil {
		t.Errorf("hana redeems by direct link: %v", err)
	}
}
