package source

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"

	"github.com/foyer-dev/foyer"
)

// invisible reports the characters trimmed from values besides Unicode
// spaces (which include the no-break space): the zero-width ones that
// Excel, Outlook and web pages carry along when an address is copied.
func invisible(r rune) bool {
	switch r {
	case '\u200B', '\u200C', '\u200D', '\u2060', '\uFEFF', '\u00AD':
		return true
	}
	return unicode.IsSpace(r)
}

// cleanValue trims spaces and invisible characters from both ends of v.
func cleanValue(v string) string {
	// The common case, plain ASCII with nothing to trim, costs no call.
	if v == "" || (v[0] > ' ' && v[0] < utf8.RuneSelf && v[len(v)-1] > ' ' && v[len(v)-1] < utf8.RuneSelf) {
		return v
	}
	return strings.TrimFunc(v, invisible)
}

// NormalizeAddress reads an email address as people write it in a
// spreadsheet cell and returns it in the form foyer.ParseAddress accepts, or
// a reason it cannot be invited. It
//   - trims spaces, no-break spaces and zero-width characters;
//   - accepts "mailto:" links and the "Display Name <address>" form, whose
//     name it returns (unquoted) for the row's display name;
//   - refuses a cell holding several addresses, with how many;
//   - converts an internationalised domain to ASCII with IDNA's lookup
//     rules (UTS #46: "bücher.example" → "xn--bcher-kva.example"), since
//     Entra takes the ASCII form;
//   - then applies foyer.ParseAddress: Entra's refused characters, the rules
//     for dots and hyphens, lengths, a lowercase domain.
//
// The local part is not converted: Entra accepts only ASCII there, and
// ParseAddress names the character it refuses.
func NormalizeAddress(cell string) (addr foyer.Address, name string, reason string) {
	s := cleanValue(cell)
	if len(s) >= 7 && strings.EqualFold(s[:7], "mailto:") {
		s = s[7:]
		if q := strings.IndexByte(s, '?'); q >= 0 {
			s = s[:q]
		}
		s = cleanValue(s)
	}
	if strings.HasSuffix(s, ">") {
		if lt := strings.LastIndexByte(s, '<'); lt >= 0 {
			name = cleanValue(s[:lt])
			if len(name) >= 2 && name[0] == '"' && name[len(name)-1] == '"' {
				name = cleanValue(strings.ReplaceAll(name[1:len(name)-1], `\"`, `"`))
			}
			s = cleanValue(s[lt+1 : len(s)-1])
		}
	}
	if s == "" {
		return "", name, "no email address"
	}
	if !utf8.ValidString(s) {
		return "", name, fmt.Sprintf("address %q is not valid UTF-8", s)
	}
	if strings.Count(s, "@") > 1 {
		if n := countAddresses(s); n > 1 {
			return "", name, fmt.Sprintf("the cell holds %d addresses: put one address per row", n)
		}
	}
	at := strings.LastIndexByte(s, '@')
	if at >= 0 && needsIDNA(s[at+1:]) {
		d, err := idna.Lookup.ToASCII(s[at+1:])
		if err == nil {
			// The conversion must read back: IDNA encodes what it cannot
			// map, such as U+FFFD from a badly decoded file, without an
			// error, but refuses the result.
			var back string
			if back, err = idna.Lookup.ToASCII(d); err == nil && back != d {
				err = fmt.Errorf("it does not convert to ASCII consistently")
			}
		}
		if err != nil {
			return "", name, fmt.Sprintf("address %q: domain %q is not a valid internationalised domain name (%s)", s, s[at+1:], strings.TrimPrefix(err.Error(), "idna: "))
		}
		ascii := s[:at+1] + d
		a, perr := foyer.ParseAddress(ascii)
		if perr != nil {
			return "", name, fmt.Sprintf("address %q (domain in ASCII: %s): %s", s, d, afterColon(foyer.ErrorMessage(perr)))
		}
		return a, name, ""
	}
	a, err := foyer.ParseAddress(s)
	if err != nil {
		return "", name, foyer.ErrorMessage(err)
	}
	return a, name, ""
}

// afterColon drops the `address "..."` prefix of a ParseAddress message, so
// that a message about the converted address can quote the original.
func afterColon(msg string) string {
	if strings.HasPrefix(msg, "address ") {
		if i := strings.Index(msg, `": `); i >= 0 {
			return msg[i+3:]
		}
	}
	return msg
}

// needsIDNA reports whether a domain is not plain ASCII, or has a label in
// IDNA's ASCII form that must be checked ("xn--").
func needsIDNA(d string) bool {
	for i := 0; i < len(d); i++ {
		if d[i] >= utf8.RuneSelf {
			return true
		}
	}
	for i := 0; i+4 <= len(d); i++ {
		if (i == 0 || d[i-1] == '.') && (d[i] == 'x' || d[i] == 'X') && (d[i+1] == 'n' || d[i+1] == 'N') && d[i+2] == '-' && d[i+3] == '-' {
			return true
		}
	}
	return false
}

// countAddresses counts the parts of s, split at commas, semicolons and
// spaces, that contain an @.
func countAddresses(s string) int {
	n := 0
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || invisible(r) }) {
		if strings.Contains(part, "@") {
			n++
		}
	}
	return n
}
