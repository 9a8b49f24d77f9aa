package source

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/foyer-dev/foyer"
)

// maxDisplayName is the longest displayName Entra stores (user resource,
// microsoft-graph-docs api-reference/v1.0/resources/user.md: "Maximum
// length is 256 characters").
const maxDisplayName = 256

// judge turns records into rows with verdicts.
type judge struct {
	opts     Options
	f        *file
	seen     *seen
	verified []string // lowercased, without a leading @
	internal []string
	names    []string // the configured profile names, sorted, for messages
	started  bool     // a row has been read
}

func newJudge(opts Options, f *file) *judge {
	j := &judge{opts: opts, f: f, seen: newSeen(), verified: domains(opts.VerifiedDomains), internal: domains(opts.InternalDomains)}
	for n := range opts.Profiles {
		j.names = append(j.names, n)
	}
	slices.Sort(j.names)
	return j
}

func domains(ds []string) []string {
	out := make([]string, 0, len(ds))
	for _, d := range ds {
		if d = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(d), "@")); d != "" {
			out = append(out, d)
		}
	}
	return out
}

// row turns a record into a row. It returns false for a record with no
// value at all.
func (j *judge) row(rec record) (foyer.Row, bool) {
	row := foyer.Row{Line: rec.line}
	if rec.err != "" {
		row.Raw = rec.text
		return invalid(row, rec.err), true
	}
	fields := rec.fields
	empty := true
	for i, v := range fields {
		if v = cleanValue(v); v != "" {
			empty = false
		}
		fields[i] = v
	}
	if empty {
		return row, false
	}
	firstRow := !j.started
	j.started = true
	if w := j.f.width; w > 0 && len(fields) > w && !allEmpty(fields[w:]) {
		row.Raw = truncate(strings.Join(fields, string(rune(j.f.rr.delim))), 200)
		return invalid(row, fmt.Sprintf("%d values but the header has %d columns: is there a %s inside a value that is not quoted?",
			len(fields), w, strings.TrimPrefix(delimName(rune(j.f.rr.delim)), "a "))+spans(rec)), true
	}
	for i, v := range fields {
		if !utf8.ValidString(v) {
			return invalid(row, fmt.Sprintf("column %d is not valid UTF-8: save the file as CSV UTF-8, or name its encoding", i+1)), true
		}
	}
	if reason := j.person(&row, fields); reason != "" {
		return invalid(row, reason+spans(rec)), true
	}
	reason := j.values(&row, fields)
	if j.f.template && firstRow && row.Email.InDomains([]string{"example.com", "example.org", "example.net"}) {
		return verdict(row, foyer.ActionSkip, "the portal template's example row (remove it from the file)"), true
	}
	if reason != "" {
		return invalid(row, reason), true
	}
	return j.decide(row), true
}

// person reads the address and the names into row, or says why the address
// cannot be invited.
func (j *judge) person(row *foyer.Row, fields []string) string {
	l := &j.f.layout
	row.DisplayName = l.get(fields, iDisplayName)
	row.GivenName = l.get(fields, iGivenName)
	row.Surname = l.get(fields, iSurname)
	row.Company = l.get(fields, iCompany)
	if row.DisplayName == "" {
		row.DisplayName = strings.TrimSpace(row.GivenName + " " + row.Surname)
	}
	cell := l.get(fields, iEmail)
	addr, name, reason := NormalizeAddress(cell)
	if row.DisplayName == "" {
		row.DisplayName = name
	}
	switch {
	case cell == "":
		return j.noEmail()
	case reason != "":
		row.Raw = cell
		return reason
	}
	row.Email = addr
	return ""
}

// decide gives a valid row its verdict: duplicate, skip, or none.
func (j *judge) decide(row foyer.Row) foyer.Row {
	p := j.opts.Profile
	if row.Profile != "" {
		name, ok := j.profile(row.Profile)
		if !ok {
			return invalid(row, j.unknownProfile(row.Profile))
		}
		row.Profile, p = name, j.opts.Profiles[name]
	}
	if first, dup := j.seen.add(row.Email.Key(), row.Line); dup {
		return verdict(row, foyer.ActionDuplicate, fmt.Sprintf("duplicate of line %d", first))
	}
	if reason := j.internalDomain(row.Email); reason != "" {
		return verdict(row, foyer.ActionSkip, reason)
	}
	if p != nil {
		if ok, reason := p.DomainVerdict(row.Email); !ok {
			return verdict(row, foyer.ActionSkip, reason)
		}
	}
	return row
}

func invalid(row foyer.Row, reason string) foyer.Row {
	return verdict(row, foyer.ActionInvalid, reason)
}

func verdict(row foyer.Row, a foyer.Action, reason string) foyer.Row {
	row.Action, row.Reason = a, reason
	return row
}

// spans tells where a record that spans several lines ends, for a reason
// that might otherwise puzzle: a quote opened on the first line joins them.
func spans(rec record) string {
	if rec.last > rec.line {
		return fmt.Sprintf(" (this record spans lines %d–%d: check the quotes on line %d)", rec.line, rec.last, rec.line)
	}
	return ""
}

func (j *judge) noEmail() string {
	i := j.f.layout[iEmail] - 1
	if j.f.names == nil {
		return "no email address"
	}
	return fmt.Sprintf("no email address in column %d (%q)", i+1, cleanValue(j.f.names[i]))
}

// values reads and checks the values that go to the invitation as they
// are.
func (j *judge) values(row *foyer.Row, fields []string) string {
	l := &j.f.layout
	row.RedirectURL = l.get(fields, iRedirectURL)
	row.Message = l.get(fields, iMessage)
	row.Profile = l.get(fields, iProfile)
	if n := utf8.RuneCountInString(row.DisplayName); n > maxDisplayName {
		return fmt.Sprintf("the display name has %d characters; Entra takes at most %d", n, maxDisplayName)
	}
	if v := l.get(fields, iSendEmail); v != "" {
		switch strings.ToLower(v) {
		case "true", "yes", "y", "1":
			row.SendEmail = "true"
		case "false", "no", "n", "0":
			row.SendEmail = "false"
		default:
			return fmt.Sprintf("send email is %q: write true or false", truncate(v, 40))
		}
	}
	if u := row.RedirectURL; u != "" {
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
			return fmt.Sprintf("redirect URL %q is not an absolute http or https URL", truncate(u, 80))
		}
	}
	return ""
}

// profile finds a configured profile by name, exactly or ignoring case.
func (j *judge) profile(name string) (string, bool) {
	if _, ok := j.opts.Profiles[name]; ok {
		return name, true
	}
	for _, n := range j.names {
		if strings.EqualFold(n, name) {
			return n, true
		}
	}
	return "", false
}

func (j *judge) unknownProfile(name string) string {
	if len(j.names) == 0 {
		return fmt.Sprintf("profile %q is not configured (no profiles are)", truncate(name, 60))
	}
	known := j.names
	if len(known) > 10 {
		known = known[:10]
	}
	return fmt.Sprintf("profile %q is not configured (configured: %s)", truncate(name, 60), strings.Join(known, ", "))
}

// internalDomain returns why an address belongs to the organisation itself,
// or "".
func (j *judge) internalDomain(a foyer.Address) string {
	d := a.Domain()
	if v := match(d, j.verified); v != "" {
		if v == d {
			return d + " is a verified domain of the tenant"
		}
		return d + " is a subdomain of " + v + ", a verified domain of the tenant"
	}
	if v := match(d, j.internal); v != "" {
		if v == d {
			return d + " is configured as an internal domain of the tenant"
		}
		return d + " is a subdomain of " + v + ", configured as an internal domain of the tenant"
	}
	return ""
}

// match returns the entry of ds that d is or is a subdomain of, or "".
func match(d string, ds []string) string {
	for _, x := range ds {
		if d == x || (len(d) > len(x) && d[len(d)-len(x)-1] == '.' && strings.HasSuffix(d, x)) {
			return x
		}
	}
	return ""
}
