package graph

import "strings"

// quote returns s as an OData string literal for a $filter: in single
// quotes, with every single quote doubled (OData ABNF, SQUOTE-in-string =
// SQUOTE SQUOTE). The whole $filter is then percent-encoded as a query
// value by encodeQuery, so '#', '&', '+', '%' and spaces in s reach the
// service as themselves. Every string foyer puts in a filter goes through
// here; FuzzQuote checks that any input comes back as the same literal.
func quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// unquote reads the OData string literal at the start of s and returns its
// value and the rest of s; ok is false if s does not start with a complete
// literal. It is quote's inverse, used by tests and by the fuzz target.
func unquote(s string) (value, rest string, ok bool) {
	if !strings.HasPrefix(s, "'") {
		return "", s, false
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		if s[i] != '\'' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 < len(s) && s[i+1] == '\'' {
			b.WriteByte('\'')
			i++
			continue
		}
		return b.String(), s[i+1:], true
	}
	return "", s, false
}
