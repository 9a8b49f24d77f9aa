package graph

import (
	"encoding/json"
	"testing"
)

func TestExtAddress(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ upn, want string }{
		{"AdeleV_adatum.com#EXT#@contoso.onmicrosoft.com", "adelev@adatum.com"},
		{"o'brien_fabrikam.example#EXT#@contoso.example", "o'brien@fabrikam.example"},
		{"a_b_c.example#EXT#@t.example", "a_b@c.example"},
		{"admin@contoso.example", ""},
		{"_x.example#EXT#@t", ""},
		{"x_#EXT#@t", ""},
		{"#EXT#@t", ""},
	} {
		if got := extAddress(tc.upn); got != tc.want {
			t.Errorf("extAddress(%q) = %q, want %q", tc.upn, got, tc.want)
		}
	}
}

func TestBestPrefersMail(t *testing.T) {
	t.Parallel()
	users := []user{
		{ID: "proxy", ProxyAddresses: []string{"smtp:x@y.example"}},
		{ID: "other", OtherMails: []string{"X@Y.example"}},
		{ID: "mail", Mail: "x@Y.EXAMPLE"},
		{ID: "none", Mail: "z@y.example"},
	}
	p, ok := best(users, "x@y.example")
	if !ok || p.ID != "mail" {
		t.Fatalf("best = %q %v, want mail", p.ID, ok)
	}
	if _, ok := best(users[3:], "x@y.example"); ok {
		t.Fatal("a user without the address matched")
	}
}

// FuzzUserPage: any answer body either fails to decode or yields people
// whose address forms are all lowercase.
func FuzzUserPage(f *testing.F) {
	f.Add(`{"value":[{"id":"1","mail":"A@B.example","userPrincipalName":"a_b.example#EXT#@t.example","proxyAddresses":["SMTP:A@B.example"],"accountEnabled":false}],"@odata.nextLink":"https://x/v1.0/users?$skiptoken=1"}`)
	f.Add(`{"value":null}`)
	f.Fuzz(func(t *testing.T, body string) {
		var page userPage
		if json.Unmarshal([]byte(body), &page) != nil {
			return
		}
		for _, u := range page.Value {
			_ = u.person()
			u.forms(func(k string, r int) {
				if r < rankMail || r >= rankNone {
					t.Fatalf("rank %d out of range", r)
				}
				if u.rank(k) > r {
					t.Fatalf("rank(%q) = %d, worse than a form it carries (%d)", k, u.rank(k), r)
				}
			})
		}
	})
}
