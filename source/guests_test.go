package source

import (
	"testing"

	"github.com/foyer-dev/foyer"
)

// TestExampleGuests keeps examples/guests.csv, which the demo runs against
// the emulated tenant's default content, holding every kind of row: with
// the tenant's verified domains and a profile that denies gmail.com (as
// docs/csv.md describes), its rows get these verdicts. The four guests the
// emulated tenant already has (pat, ann, lee, ida) are candidates here: the
// plan finds them in the directory.
func TestExampleGuests(t *testing.T) {
	t.Parallel()
	rows, st, err := readAll(t, fixture(t, "../../examples/guests.csv"), Options{
		VerifiedDomains: []string{"contoso.example", "contoso.onmicrosoft.com"},
		Profile:         &foyer.Profile{Name: "partners", Deny: []string{"gmail.com"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if st.Rows != 30 || st.Candidates != 19 || st.Invalid != 6 || st.Duplicate != 2 || st.Skip != 3 {
		t.Errorf("stats %+v", st)
	}
	verdicts := map[string]foyer.Action{}
	for _, r := range rows {
		if r.Email != "" {
			verdicts[r.Email.Key()] = r.Action
		}
	}
	for email, want := range map[string]foyer.Action{
		"pat@fabrikam.example":       "",
		"ann@fabrikam.example":       "",
		"lee@northwind.example":      "",
		"ida@tailspin.example":       "",
		"jose@xn--bcher-kva.example": "",
		"yuki.tanaka@adatum.example": "",
		"alex@contoso.example":       foyer.ActionSkip,
		"demo.email.matt@gmail.com":  foyer.ActionSkip,
	} {
		if got, ok := verdicts[email]; !ok || got != want {
			t.Errorf("%s: %q (present %v), want %q", email, got, ok, want)
		}
	}
}
