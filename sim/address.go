package sim

import "strings"

// validAddress applies the rules Graph documents for
// invitedUserEmailAddress (GD api-reference/v1.0/resources/invitation.md):
// none of ~ ! # $ % ^ & * ( ) + = [ ] { } \ / | ; : " < > ? , in the user
// name, '.' and '-' anywhere but at its start or end, '_' anywhere; and a
// domain of dot-separated labels.
func validAddress(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || domain == "" || strings.ContainsAny(s, " \t\r\n") {
		return false
	}
	if strings.ContainsAny(local, `~!#$%^&*()+=[]{}\/|;:"<>?,@`) {
		return false
	}
	if strings.IndexAny(local[:1], ".-") == 0 || strings.IndexAny(local[len(local)-1:], ".-") == 0 {
		return false
	}
	return validDomain(domain)
}

func validDomain(d string) bool {
	if len(d) > 253 || !strings.Contains(d, ".") {
		return false
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := range len(label) {
			c := label[i] | 0x20
			if !('a' <= c && c <= 'z' || '0' <= label[i] && label[i] <= '9' || label[i] == '-') {
				return false
			}
		}
	}
	return true
}

// domainOf returns the lowercased domain of an address.
func domainOf(addr string) string {
	_, d, _ := strings.Cut(addr, "@")
	return strings.ToLower(d)
}

// guestUPN is the userPrincipalName Entra gives a guest:
// local_domain#EXT#@tenant.onmicrosoft.com (ED docs/external-id/user-properties.md).
// When it is taken, a number is added before #EXT#.
func guestUPN(email, initialDomain string, taken func(string) bool) (upn, nickname string) {
	base := strings.Replace(email, "@", "_", 1)
	for i := 0; ; i++ {
		nick := base
		if i > 0 {
			nick += itoa(i)
		}
		nick += "#EXT#"
		upn = nick + "@" + initialDomain
		if !taken(upn) {
			return upn, nick
		}
	}
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b [20]byte
	n := len(b)
	for i > 0 {
		n--
		b[n] = byte('0' + i%10)
		i /= 10
	}
	return string(b[n:])
}
