package source

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/foyer-dev/foyer"
)

func TestNormalizeAddress(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, addr, name, reason string
	}{
		{in: "ana@fabrikam.example", addr: "ana@fabrikam.example"},
		{in: "  Ana.Lima@FABRIKAM.Example\t", addr: "Ana.Lima@fabrikam.example"},
		{in: "\u00a0\u200bana@fabrikam.example\ufeff\u2060", addr: "ana@fabrikam.example"},
		{in: "MAILTO:ana@fabrikam.example?subject=Welcome", addr: "ana@fabrikam.example"},
		{in: "Ana Lima <ana@fabrikam.example>", addr: "ana@fabrikam.example", name: "Ana Lima"},
		{in: `"Lima, Ana" < ana@fabrikam.example >`, addr: "ana@fabrikam.example", name: "Lima, Ana"},
		{in: "<ana@fabrikam.example>", addr: "ana@fabrikam.example"},
		{in: "jose@Bücher.example", addr: "jose@xn--bcher-kva.example"},
		{in: "anna@ｆａｂｒｉｋａｍ.example", addr: "anna@fabrikam.example"},
		{in: "omar@XN--MGBH0FB.example", addr: "omar@xn--mgbh0fb.example"},
		{in: "o'brien+tag@fabrikam.example", reason: `character '+' is not allowed in an invited address`},
		{in: "o'brien_x@fabrikam.example", addr: "o'brien_x@fabrikam.example"},
		{in: "", reason: "no email address"},
		{in: "Ana Lima <>", name: "Ana Lima", reason: "no email address"},
		{in: "ana.fabrikam.example", reason: "has no @"},
		{in: "ana@fabrikam", reason: `domain "fabrikam" has no dot`},
		{in: "a;b@fabrikam.example", reason: `character ';' is not allowed`},
		{in: "ana@fabrikam.example, bram@northwind.example", reason: "the cell holds 2 addresses: put one address per row"},
		{in: "a@x.example b@y.example c@z.example", reason: "the cell holds 3 addresses"},
		{in: "a@@x.example", reason: "more than one @"},
		{in: "ana lima@fabrikam.example", reason: "space or control character at position 4"},
		{in: "zoë@northwind.example", reason: "non-ASCII character 'ë' before @"},
		{in: "ana-@fabrikam.example", reason: "may not end with '-'"},
		{in: "ana@xn--a.example", reason: `domain "xn--a.example" is not a valid internationalised domain name`},
		{in: "ana@bü cher.example", reason: "is not a valid internationalised domain name"},
		{in: "ana@fabrikam.example.", reason: "has an empty label"},
		{in: "ana@例え.1", reason: "(domain in ASCII: xn--r8jz45g.1): domain \"xn--r8jz45g.1\" ends in a numeric label"},
	}
	for _, tt := range tests {
		addr, name, reason := NormalizeAddress(tt.in)
		if string(addr) != tt.addr || name != tt.name || !strings.Contains(reason, tt.reason) || (tt.reason == "") != (reason == "") {
			t.Errorf("NormalizeAddress(%q) = %q, %q, %q; want %q, %q, %q", tt.in, addr, name, reason, tt.addr, tt.name, tt.reason)
		}
	}
}

// FuzzNormalizeAddress checks that an accepted address is in the form
// foyer.ParseAddress gives (so it round-trips), ASCII, free of the
// characters Entra refuses, and read the same when read again.
func FuzzNormalizeAddress(f *testing.F) {
	for _, s := range []string{"ana@fabrikam.example", "Ana <A@B.example>", "mailto:x@bücher.example", "x@xn--a.example", "\u200ba@b.example", "a@b@c.example", "a,b@c.example"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		addr, _, reason := NormalizeAddress(in)
		if reason != "" {
			if addr != "" {
				t.Fatalf("%q: address %q with reason %q", in, addr, reason)
			}
			return
		}
		s := string(addr)
		back, err := foyer.ParseAddress(s)
		if err != nil || back != addr {
			t.Fatalf("%q → %q, which ParseAddress reads as %q, %v", in, addr, back, err)
		}
		if strings.ContainsAny(s, `~!#$%^&*()+=[]{}\/|;:"<>?, `) {
			t.Fatalf("%q → %q holds a refused character", in, addr)
		}
		for i := 0; i < len(s); i++ {
			if s[i] >= utf8.RuneSelf || s[i] < ' ' {
				t.Fatalf("%q → %q is not printable ASCII", in, addr)
			}
		}
		if again, _, reason := NormalizeAddress(s); again != addr || reason != "" {
			t.Fatalf("%q → %q → %q (%s)", in, addr, again, reason)
		}
		if addr.Domain() != strings.ToLower(addr.Domain()) {
			t.Fatalf("%q → %q: domain not lowercase", in, addr)
		}
	})
}
