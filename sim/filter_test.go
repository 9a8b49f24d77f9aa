package sim

import (
	"strings"
	"testing"
	"time"
)

// fakeEntity is a map of lowercased property names to values.
type fakeEntity map[string]any

func (e fakeEntity) field(name string) any { return e[name] }

func TestFilterEval(t *testing.T) {
	t.Parallel()
	u := fakeEntity{
		"mail":              "Ann@Fabrikam.example",
		"usertype":          "Guest",
		"othermails":        []string{"ann@fabrikam.example", "ann.b@fabrikam.example"},
		"accountenabled":    true,
		"createddatetime":   time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC),
		"assignedlicenses":  []map[string]any{{"skuid": "6fd2c87f-b296-42f0-b197-1e91e994b900"}},
		"jobtitle":          "",
		"userprincipalname": "ann_fabrikam.example#EXT#@contoso.onmicrosoft.com",
		"signinactivity":    map[string]any{"lastsignindatetime": time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)},
	}
	cases := []struct {
		filter string
		want   bool
	}{
		{"mail eq 'ann@fabrikam.example'", true},
		{"mail eq 'bob@fabrikam.example'", false},
		{"mail ne 'bob@fabrikam.example'", true},
		{"userType eq 'Guest' and accountEnabled eq true", true},
		{"userType eq 'Member' or accountEnabled eq false", false},
		{"NOT (userType eq 'Member')", true},
		{"not userType eq 'Guest'", false},
		{"otherMails/any(x:x eq 'ANN.B@fabrikam.example')", true},
		{"otherMails/all(x:endsWith(x,'@fabrikam.example'))", true},
		{"otherMails/any(x:startsWith(x,'bob'))", false},
		{"assignedLicenses/any(l:l/skuId eq 6FD2C87F-B296-42F0-B197-1E91E994B900)", true},
		{"assignedLicenses/$count eq 1", true},
		{"createdDateTime ge 2024-04-01T00:00:00Z and createdDateTime le 2024-05-01", true},
		{"createdDateTime gt 2024-05-01T00:00:00Z", false},
		{"signInActivity/lastSignInDateTime le 2024-06-02T00:00:00Z", true},
		{"jobTitle eq null", true},
		{"mail eq null", false},
		{"mail ne null", true},
		{"userType in ('Member', 'Guest')", true},
		{"endsWith(userPrincipalName,'#EXT#@contoso.onmicrosoft.com')", true},
		{"mail eq 'o''brien@x.example'", false},
		{"((mail eq 'ann@fabrikam.example'))", true},
	}
	for _, c := range cases {
		n, err := parseFilter(c.filter)
		if err != nil {
			t.Errorf("%s: %v", c.filter, err)
			continue
		}
		if got := matches(n, u); got != c.want {
			t.Errorf("%s = %v, want %v", c.filter, got, c.want)
		}
	}
}

func TestFilterSyntaxErrors(t *testing.T) {
	t.Parallel()
	for _, f := range []string{
		"", "mail", "mail eq", "mail eq 'a", "mail eq 'a' and", "(mail eq 'a'", "mail eq 'a')", "mail like 'a'",
		"otherMails/any(x x eq 'a')", "startsWith(mail)", "startsWith(mail, 1)", "mail in 'a'", "mail in ('a' 'b')",
		"mail eq 2024-13-45T99:00:00Z", "mail eq #", strings.Repeat("(", 40) + "mail eq 'a'" + strings.Repeat(")", 40),
	} {
		if _, err := parseFilter(f); err == nil {
			t.Errorf("%q parsed", f)
		}
	}
	_, err := parseFilter("mail eq 'a' or")
	if fe, ok := err.(*filterError); !ok || fe.at != 14 || !strings.Contains(err.Error(), "position 14") {
		t.Errorf("error position: %v", err)
	}
}

func TestFilterSchema(t *testing.T) {
	t.Parallel()
	cases := []struct {
		filter   string
		advanced bool
		code     string // "" = accepted
	}{
		{"mail eq 'a@b.example'", false, ""},
		{"endsWith(mail,'@b.example')", false, "Request_UnsupportedQuery"},
		{"endsWith(mail,'@b.example')", true, ""},
		{"proxyAddresses/any(p:endsWith(p,'b.example'))", true, ""},
		{"userType ne 'Guest'", false, "Request_UnsupportedQuery"},
		{"not(otherMails/any(x:x eq 'a@b.example'))", true, ""},
		{"userType eq null", false, "Request_UnsupportedQuery"},
		{"userType eq null", true, ""},
		{"createdDateTime gt 2024-01-01", true, "Request_UnsupportedQuery"},
		{"createdDateTime ge 'yesterday'", false, "BadRequest"},
		{"accountEnabled eq 'true'", false, "BadRequest"},
		{"mail/any(x:x eq 'a')", false, "BadRequest"},
		{"nothing eq 'a'", false, "BadRequest"},
		{"jobTitle eq 'x' and startsWith(jobTitle,'x')", true, "Request_UnsupportedQuery"},
		{"startsWith(accountEnabled,'t')", false, "BadRequest"},
		{"signInActivity/lastSignInDateTime ge 2024-01-01T00:00:00Z", false, ""},
		{"signInActivity/lastSignInDateTime ge 2024-01-01T00:00:00Z and mail eq 'a@b.example'", false, "Request_UnsupportedQuery"},
		{"signInActivity/lastSignInDateTime ge 2024-01-01T00:00:00Z or signInActivity/lastNonInteractiveSignInDateTime ge 2024-01-01T00:00:00Z", false, "Request_UnsupportedQuery"},
		{"signInActivity/lastSuccessfulSignInDateTime ge 2024-01-01T00:00:00Z and signInActivity/lastSuccessfulSignInDateTime le 2024-06-01T00:00:00Z", false, ""},
		{"identities/any(c:c/issuerAssignedId eq 'a@b.example' and c/issuer eq 'contoso.onmicrosoft.com')", false, ""},
		{strings.TrimSuffix(strings.Repeat("mail eq 'a@b.example' or ", 15), " or "), false, ""},
		{strings.TrimSuffix(strings.Repeat("mail eq 'a@b.example' or ", 16), " or "), false, "Request_UnsupportedQuery"},
		{"(" + strings.TrimSuffix(strings.Repeat("mail eq 'a@b.example' or ", 10), " or ") + ") and (" + strings.TrimSuffix(strings.Repeat("mail eq 'a@b.example' or ", 10), " or ") + ")", false, ""},
	}
	for _, c := range cases {
		n, err := parseFilter(c.filter)
		if err != nil {
			t.Fatalf("%s: %v", c.filter, err)
		}
		e := userFilter.check(n, c.advanced)
		got := ""
		if e != nil {
			got = e.code
		}
		if got != c.code {
			t.Errorf("%s (advanced %v): %q, want %q (%v)", c.filter, c.advanced, got, c.code, e)
		}
	}
}

// FuzzFilter: the parser never panics, and what it accepts the checker and
// the evaluator handle.
func FuzzFilter(f *testing.F) {
	for _, s := range []string{
		"mail eq 'a@b.example'", "otherMails/any(x:x eq 'a')", "not(userType eq 'Guest') and accountEnabled eq true",
		"assignedLicenses/any(x:x/skuId eq 6fd2c87f-b296-42f0-b197-1e91e994b900)", "createdDateTime ge 2024-01-01T00:00:00Z",
		"startsWith(mail,'a') or endsWith(userPrincipalName,'#EXT#@x')", "userType in ('Guest','Member')", "mail eq null",
		"signInActivity/lastSignInDateTime le 2024-01-01", "(((mail eq 'x')))", "mail eq 'it''s'", "assignedLicenses/$count eq 0",
	} {
		f.Add(s)
	}
	u := fakeEntity{"mail": "a@b.example", "othermails": []string{"a"}, "assignedlicenses": []map[string]any{{"skuid": "x"}}}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parseFilter(s)
		if err != nil {
			if _, ok := err.(*filterError); !ok {
				t.Fatalf("error of type %T", err)
			}
			return
		}
		_ = userFilter.check(n, true)
		_ = groupFilter.check(n, false)
		_ = matches(n, u)
	})
}
