package foyer

import (
	"strings"
	"unicode/utf8"
)

// Address is an email address in the form foyer stores and sends to the
// directory: surrounding space trimmed, the domain lowercased and in ASCII.
// The local part keeps its case, as mail servers may treat it as significant;
// compare addresses with Key.
type Address string

// refusedChars are the characters Microsoft Graph refuses in
// invitedUserEmailAddress (invitation resource, microsoft-graph-docs
// api-reference/v1.0/resources/invitation.md, and the description in the
// Graph SDK models): ~ ! # $ % ^ & * ( ) + = [ ] { } \ / | ; : " < > ? ,
const refusedChars = "~!#$%^&*()+=[]{}\\/|;:\"<>?,"

// ParseAddress trims s, checks it against the rules Entra applies to an
// invited address and returns it with its domain lowercased. A domain that is
// not ASCII is refused: convert internationalised domains to their IDNA
// ("xn--") form first. Errors are *Error with code EINVALID and a message
// that names the problem.
func ParseAddress(s string) (Address, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", Errorf(EINVALID, "address is empty")
	}
	if !utf8.ValidString(s) {
		return "", Errorf(EINVALID, "address %q is not valid UTF-8", s)
	}
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return "", Errorf(EINVALID, "address %q has no @", s)
	}
	local, domain := s[:at], strings.ToLower(s[at+1:])
	if err := checkLocal(local); err != nil {
		return "", Errorf(EINVALID, "address %q: %s", s, err.Message)
	}
	if err := CheckDomain(domain); err != nil {
		return "", Errorf(EINVALID, "address %q: %s", s, err.Message)
	}
	return Address(local + "@" + domain), nil
}

func checkLocal(local string) *Error {
	switch {
	case local == "":
		return Errorf(EINVALID, "the part before @ is empty")
	case len(local) > 64:
		return Errorf(EINVALID, "the part before @ is longer than 64 characters")
	}
	for i, r := range local {
		switch {
		case r == '@':
			return Errorf(EINVALID, "more than one @")
		case r <= ' ' || r == 0x7f:
			return Errorf(EINVALID, "space or control character at position %d", i+1)
		case r > 0x7f:
			return Errorf(EINVALID, "non-ASCII character %q before @ (Entra accepts ASCII only there)", r)
		case strings.ContainsRune(refusedChars, r):
			return Errorf(EINVALID, "character %q is not allowed in an invited address", r)
		}
	}
	switch first, last := local[0], local[len(local)-1]; {
	case first == '.' || first == '-':
		return Errorf(EINVALID, "the part before @ may not start with %q", first)
	case last == '.' || last == '-':
		return Errorf(EINVALID, "the part before @ may not end with %q", last)
	case strings.Contains(local, ".."):
		return Errorf(EINVALID, "two dots in a row before @")
	}
	return nil
}

// CheckDomain reports whether d, already lowercased, is a valid ASCII DNS
// name with at least two labels.
func CheckDomain(d string) *Error {
	switch {
	case d == "":
		return Errorf(EINVALID, "the domain is empty")
	case len(d) > 253:
		return Errorf(EINVALID, "the domain is longer than 253 characters")
	}
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return Errorf(EINVALID, "domain %q has no dot", d)
	}
	for _, l := range labels {
		if l == "" {
			return Errorf(EINVALID, "domain %q has an empty label", d)
		}
		if len(l) > 63 {
			return Errorf(EINVALID, "domain %q has a label longer than 63 characters", d)
		}
		if l[0] == '-' || l[len(l)-1] == '-' {
			return Errorf(EINVALID, "domain %q has a label starting or ending with -", d)
		}
		for _, r := range l {
			switch {
			case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-':
			case r > 0x7f:
				return Errorf(EINVALID, "domain %q is not ASCII (use its xn-- form)", d)
			default:
				return Errorf(EINVALID, "character %q is not allowed in a domain", r)
			}
		}
	}
	if tld := labels[len(labels)-1]; strings.Trim(tld, "0123456789") == "" {
		return Errorf(EINVALID, "domain %q ends in a numeric label", d)
	}
	return nil
}

// Local returns the part before the @.
func (a Address) Local() string {
	local, _, _ := strings.Cut(string(a), "@")
	return local
}

// Domain returns the part after the @.
func (a Address) Domain() string {
	_, domain, _ := strings.Cut(string(a), "@")
	return domain
}

// Key returns the address lowercased: the form in which two addresses are
// the same person, as Entra compares them.
func (a Address) Key() string { return strings.ToLower(string(a)) }

// String returns the address.
func (a Address) String() string { return string(a) }

// InDomains reports whether a's domain is one of domains or a subdomain of
// one of them. Domains are compared lowercased.
func (a Address) InDomains(domains []string) bool {
	d := a.Domain()
	for _, x := range domains {
		x = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(x), "@"))
		if x != "" && (d == x || strings.HasSuffix(d, "."+x)) {
			return true
		}
	}
	return false
}
