package config_test

import (
	"strings"
	"testing"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/config"
)

// TestAddressBookGrant: address_book: true gives the address-book grant;
// the old mail_contact: true gives the same grant (foyer no longer makes
// mail contacts) with a warning that names its line and says what to
// write; both give it once.
func TestAddressBookGrant(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, keys string
		path       string // where the grant comes from
		warning    string // "line:col" of the warning, "" for none
	}{
		{"address_book", "    address_book: true\n", "$.profiles.p.address_book", ""},
		{"mail_contact, the old name", "    mail_contact: true\n", "$.profiles.p.mail_contact", "9:19"},
		{"both", "    mail_contact: true\n    address_book: true\n", "$.profiles.p.address_book", "9:19"},
		{"neither", "    mail_contact: false\n", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := config.Parse("foyer.yaml", []byte(minimal+tc.keys))
			if err != nil {
				t.Fatal(err)
			}
			p, paths, err := c.Profile("p")
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tc.path == "" && len(p.Grants) != 0:
				t.Errorf("grants %v, want none", p.Grants)
			case tc.path != "" && (len(p.Grants) != 1 || p.Grants[0].Kind != foyer.GrantAddressBook || paths[0] != tc.path):
				t.Errorf("grants %+v at %v, want one %s at %s", p.Grants, paths, foyer.GrantAddressBook, tc.path)
			}
			ws := c.Warnings()
			if tc.warning == "" {
				if len(ws) != 0 {
					t.Errorf("warnings %v, want none", ws)
				}
				return
			}
			if len(ws) != 1 {
				t.Fatalf("warnings %v, want one", ws)
			}
			w := ws[0].String()
			for _, want := range []string{"foyer.yaml:" + tc.warning + ":", "mail_contact", "write address_book: true", "redeem"} {
				if !strings.Contains(w, want) {
					t.Errorf("warning %q lacks %q", w, want)
				}
			}
		})
	}
}
