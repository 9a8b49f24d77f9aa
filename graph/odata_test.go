package graph

import (
	"net/url"
	"strings"
	"testing"

	"github.com/foyer-dev/foyer"
)

func TestQuote(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"a@b.example", "'a@b.example'"},
		{"o'brien@fabrikam.example", "'o''brien@fabrikam.example'"},
		{"''", "''''''"},
		{"", "''"},
		{"x' or 1 eq 1 or mail eq 'y", "'x'' or 1 eq 1 or mail eq ''y'"},
	} {
		if got := quote(tc.in); got != tc.want {
			t.Errorf("quote(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// literals splits an OData filter into its text with each string literal
// replaced by '?', and the literals' values in order.
func literals(t testing.TB, f string) (shape string, lits []string) {
	var b strings.Builder
	for f != "" {
		i := strings.IndexByte(f, '\'')
		if i < 0 {
			b.WriteString(f)
			break
		}
		b.WriteString(f[:i])
		v, rest, ok := unquote(f[i:])
		if !ok {
			t.Fatalf("unterminated literal in %q", f)
		}
		b.WriteString("?")
		lits = append(lits, v)
		f = rest
	}
	return b.String(), lits
}

// FuzzQuote: any string, quoted and sent as a $filter query value, reaches
// the service as one literal with the same value and nothing else.
func FuzzQuote(f *testing.F) {
	for _, s := range []string{"o'brien@fabrikam.example", "'", "''", "a&b=c", "x#EXT#@y", "100%", "a+b c", ")", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		filter := "mail eq " + quote(s)
		q, err := url.ParseQuery(encodeQuery([][2]string{{"$filter", filter}, {"$select", "id"}}))
		if err != nil {
			t.Fatalf("encoded query does not parse: %v", err)
		}
		if got := q.Get("$filter"); got != filter {
			t.Fatalf("$filter after the round trip = %q, want %q", got, filter)
		}
		if len(q) != 2 || q.Get("$select") != "id" {
			t.Fatalf("the value leaked into other parameters: %v", q)
		}
		shape, lits := literals(t, q.Get("$filter"))
		if shape != "mail eq ?" || len(lits) != 1 || lits[0] != s {
			t.Fatalf("filter %q parses as %q with %q, want one literal %q", filter, shape, lits, s)
		}
	})
}

// FuzzPersonFilter: for any address ParseAddress accepts, the per-address
// filter has the fixed shape and carries the address in every literal.
func FuzzPersonFilter(f *testing.F) {
	for _, s := range []string{"o'brien@fabrikam.example", "a_b@c.example", "x'y''z@d.example", "A.B@Example.COM"} {
		f.Add(s)
	}
	const want = "mail eq ? or userPrincipalName eq ? or otherMails/any(x:x eq ?) or proxyAddresses/any(x:x eq ?) or startsWith(userPrincipalName,?)"
	f.Fuzz(func(t *testing.T, s string) {
		a, err := foyer.ParseAddress(s)
		if err != nil {
			return
		}
		shape, lits := literals(t, personFilter(a))
		if shape != want {
			t.Fatalf("filter shape %q, want %q", shape, want)
		}
		w := []string{string(a), string(a), string(a), "SMTP:" + string(a), extPrefix(a)}
		for i := range w {
			if lits[i] != w[i] {
				t.Fatalf("literal %d = %q, want %q", i, lits[i], w[i])
			}
		}
	})
}
