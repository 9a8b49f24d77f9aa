package config

import (
	"net/url"
	"regexp"
	"strings"
)

// dsnPassword says where a PostgreSQL connection string holds a password,
// or returns "" when it holds none. It reads the string as libpq and pgx
// do (pgconn's ParseConfig; libpq's "Connection Strings",
// https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-CONNSTRING):
//
//   - a URL, postgres:// or postgresql://, carries one in its user info
//     (user:password@; pgx ends the user info at the first "@" before any
//     "/", Go's net/url at the last, so both are read) or as a query
//     parameter (?password=, ?sslpassword=, percent-encoded or not);
//   - keyword=value pairs, separated by white space, white space allowed
//     around "=", values bare (a backslash escapes the next character) or
//     in single quotes, carry one as password= or sslpassword=.
//
// Keywords are compared without regard to case (pgx passes an unknown
// keyword such as Password= to the server, secret and all). libpq expands
// a dbname that is itself a connection string, so dbname is read again. A
// string that parses as neither is refused if it has "password=" anywhere.
// The result never quotes the string.
func dsnPassword(dsn string, depth int) string {
	if depth > 2 {
		return ""
	}
	const space = " \t\n\r\v\f"
	if i := strings.Index(dsn, "://"); i > 0 && !strings.ContainsAny(dsn[:i], space+"=") {
		return urlPassword(dsn[i+3:], depth)
	}
	pairs, ok := keywordValues(dsn)
	for _, kv := range pairs {
		switch key := strings.ToLower(kv[0]); key {
		case "password", "sslpassword":
			if kv[1] != "" {
				return "as " + key + "="
			}
		case "dbname":
			if dsnPassword(kv[1], depth+1) != "" {
				return "in the connection string given as dbname"
			}
		}
	}
	if !ok && anyPassword.MatchString(dsn) {
		return "as password="
	}
	return ""
}

var anyPassword = regexp.MustCompile(`(?i)password\s*=`)

func urlPassword(rest string, depth int) string {
	end := strings.IndexByte(rest, '/')
	if end < 0 {
		end = len(rest)
	}
	if at := strings.LastIndexByte(rest[:end], '@'); at >= 0 {
		if _, pw, has := strings.Cut(rest[:at], ":"); has && pw != "" {
			return "in the URL's user info, user:password@"
		}
	}
	q := strings.IndexByte(rest, '?')
	if q < 0 {
		return ""
	}
	for pair := range strings.SplitSeq(rest[q+1:], "&") {
		k, v, _ := strings.Cut(pair, "=")
		switch key := strings.ToLower(strings.TrimSpace(unescape(k))); key {
		case "password", "sslpassword":
			if v != "" {
				return "in the URL's query, as " + key + "="
			}
		case "dbname":
			if dsnPassword(unescape(v), depth+1) != "" {
				return "in the connection string given as dbname"
			}
		}
	}
	return ""
}

func unescape(s string) string {
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}

// keywordValues splits a keyword/value connection string as pgx and libpq
// do. ok is false where they would refuse the string; the pairs before
// that point are returned all the same.
func keywordValues(s string) (pairs [][2]string, ok bool) {
	const space = " \t\n\r\v\f"
	s = strings.TrimLeft(s, space)
	for s != "" {
		eq := strings.IndexByte(s, '=')
		if eq < 0 {
			return pairs, false
		}
		key := strings.Trim(s[:eq], space)
		if key == "" || strings.ContainsAny(key, space) {
			return pairs, false
		}
		s = strings.TrimLeft(s[eq+1:], space)
		var val strings.Builder
		if s != "" && s[0] == '\'' {
			i := 1
			for ; i < len(s) && s[i] != '\''; i++ {
				if s[i] == '\\' {
					if i++; i == len(s) {
						break
					}
				}
				val.WriteByte(s[i])
			}
			if i >= len(s) {
				return append(pairs, [2]string{key, val.String()}), false // unterminated
			}
			s = s[i+1:]
		} else {
			i := 0
			for ; i < len(s) && !strings.ContainsRune(space, rune(s[i])); i++ {
				if s[i] == '\\' {
					if i++; i == len(s) {
						break
					}
				}
				val.WriteByte(s[i])
			}
			s = s[min(i, len(s)):]
		}
		pairs = append(pairs, [2]string{key, val.String()})
		s = strings.TrimLeft(s, space)
	}
	return pairs, true
}
