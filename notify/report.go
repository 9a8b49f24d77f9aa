package notify

import (
	"fmt"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/foyer-dev/foyer"
)

// Report is what a notifier says about one finished run.
type Report struct {
	RunID      string
	Kind       foyer.RunKind
	Profile    string
	Tenant     string
	Source     string // where the rows came from; shown through SafeSource
	StartedAt  time.Time
	FinishedAt time.Time
	Summary    foyer.Summary
	Failures   []Failure // the first failed rows in input order, at most KeptFailures; Summary counts them all
	DetailsURL string    // where the full results are; "" for none
}

// Failure is one row that failed, with the reason a person can act on.
type Failure struct {
	Line   int
	Email  string
	Reason string
}

// ShownFailures is how many failures the chat notifiers list before saying
// "and N more".
const ShownFailures = 10

// KeptFailures is how many failed rows a report keeps: the most any notifier
// lists (the webhook's default). The rest are counted in the summary, so a
// run of a million failed rows costs a report no more than a thousand.
const KeptFailures = 1000

// NewReport builds the report of run from its rows (which may be nil, and
// added one by one with Add). tenant is the tenant's name and detailsURL
// where the full results can be read.
func NewReport(run foyer.Run, tenant string, rows []foyer.Row, detailsURL string) Report {
	r := Report{
		RunID:      run.ID,
		Kind:       run.Kind,
		Profile:    run.Profile,
		Tenant:     tenant,
		Source:     SafeSource(run.Source),
		StartedAt:  run.StartedAt,
		FinishedAt: run.FinishedAt,
		Summary:    run.Summary,
		DetailsURL: detailsURL,
	}
	for _, row := range rows {
		r.Add(row)
	}
	return r
}

// Add adds a row of the run, in input order: a failed row becomes a
// Failure, with the row's error as the reason, while fewer than
// KeptFailures are kept. Rows are already counted in Summary.
func (r *Report) Add(row foyer.Row) {
	if row.Result != foyer.ResultFailed || len(r.Failures) >= KeptFailures {
		return
	}
	email := string(row.Email)
	if email == "" {
		email = row.Raw
	}
	reason := row.Error
	if reason == "" {
		reason = row.Reason
	}
	r.Failures = append(r.Failures, Failure{Line: row.Line, Email: email, Reason: reason})
}

// SafeSource returns a name for a source that can be shown anywhere: a URL
// loses its user info, query and fragment (where SAS tokens and keys live);
// a path is kept as written. Control characters become spaces.
func SafeSource(s string) string {
	s = strings.TrimSpace(s)
	if u, err := url.Parse(s); err == nil && u.Scheme != "" && u.Host != "" {
		u.User, u.RawQuery, u.Fragment, u.ForceQuery = nil, "", "", false
		s = u.Scheme + "://" + u.Host + u.EscapedPath()
	} else if strings.ContainsAny(s, "?#") && strings.Contains(s, "://") {
		// Not a URL we can parse, but it looks like one: keep what is
		// before the query.
		s, _, _ = strings.Cut(s, "?")
		s, _, _ = strings.Cut(s, "#")
	}
	return OneLine(s)
}

// SourceName returns the last element of SafeSource(s): "guests.csv" for
// "/data/in/guests.csv" or "https://x.blob.core.windows.net/in/guests.csv?sig=…".
func SourceName(s string) string {
	s = SafeSource(s)
	if s == "" {
		return ""
	}
	return path.Base(strings.ReplaceAll(s, "\\", "/"))
}

// OneLine replaces every control character and line or paragraph separator
// in s by a space and trims it, so that a value read from input cannot
// start a new line in a message or a header.
func OneLine(s string) string {
	if strings.IndexFunc(s, isBreak) < 0 {
		return strings.TrimSpace(s)
	}
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if isBreak(r) {
			return ' '
		}
		return r
	}, s))
}

func isBreak(r rune) bool {
	return unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || r == '\u0085'
}

// Truncate cuts s to at most n runes, ending with "…" when it cut.
func Truncate(s string, n int) string {
	switch {
	case utf8.RuneCountInString(s) <= n:
		return s
	case n <= 0:
		return ""
	}
	return string([]rune(s)[:n-1]) + "…"
}

// ID is the report's stable id, for receivers to drop repeats by: the same
// for every delivery and every retry of the report of one run, to every
// notifier, and different for the report of any other run. It is
// "<kind>_finished_<run id>" ("apply_finished_0f8c2c1e-…"), made only of
// letters, digits, '-' and '_': any other byte of the kind or the run id is
// written as _XX in hex, '_' included, so that no two runs share an id, and
// the id holds no '.' (Standard Webhooks signs "id.timestamp.body", and a
// '.' in the id would make that string ambiguous).
func (r Report) ID() string {
	var b strings.Builder
	idPart(&b, string(r.Kind))
	b.WriteString("_finished_")
	idPart(&b, r.RunID)
	return b.String()
}

func idPart(b *strings.Builder, s string) {
	const hexDigits = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('_')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
}

// Failed returns how many rows failed.
func (r Report) Failed() int { return r.Summary.Results[foyer.ResultFailed] }

// Duration returns how long the run took, or 0 when a time is missing.
func (r Report) Duration() time.Duration {
	if r.StartedAt.IsZero() || r.FinishedAt.IsZero() || r.FinishedAt.Before(r.StartedAt) {
		return 0
	}
	return r.FinishedAt.Sub(r.StartedAt)
}

// Title is the one line an admin reads first: what ran, where, and whether
// rows failed. It is plain text.
func (r Report) Title() string {
	what := "foyer " + kindName(r.Kind)
	if r.Tenant != "" {
		what += " on " + OneLine(r.Tenant)
	}
	switch n, f := r.Summary.Rows, r.Failed(); {
	case n == 0:
		return what + ": no rows"
	case f > 0:
		return fmt.Sprintf("%s: %d of %s failed", what, f, plural(n, "row"))
	default:
		return fmt.Sprintf("%s: %s done", what, plural(n, "row"))
	}
}

// Outcome is "ok" when no row failed and "failed" otherwise: a word for
// colours and machine-readable payloads.
func (r Report) Outcome() string {
	if r.Failed() > 0 {
		return "failed"
	}
	return "ok"
}

func kindName(k foyer.RunKind) string {
	if k == "" {
		return "run"
	}
	return OneLine(string(k))
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// Count is a number of rows under a name: an action or a result.
type Count struct {
	Name string
	N    int
}

// results lists the results in the order reports show them.
var results = [...]foyer.Result{foyer.ResultInvited, foyer.ResultGranted, foyer.ResultUnchanged, foyer.ResultSkipped, foyer.ResultFailed}

// ActionCounts returns the plan's counts by action, in foyer.Actions order,
// leaving out zeros, then any action foyer does not list.
func (r Report) ActionCounts() []Count {
	var out []Count
	known := map[string]bool{}
	for _, a := range foyer.Actions() {
		known[string(a)] = true
		if n := r.Summary.Actions[a]; n > 0 {
			out = append(out, Count{string(a), n})
		}
	}
	for a, n := range r.Summary.Actions {
		if !known[string(a)] && n > 0 {
			out = append(out, Count{OneLine(string(a)), n})
		}
	}
	return sortTail(out, len(known))
}

// ResultCounts returns the apply's counts by result, leaving out zeros.
func (r Report) ResultCounts() []Count {
	var out []Count
	known := map[string]bool{}
	for _, res := range results {
		known[string(res)] = true
		if n := r.Summary.Results[res]; n > 0 {
			out = append(out, Count{string(res), n})
		}
	}
	for res, n := range r.Summary.Results {
		if !known[string(res)] && n > 0 {
			out = append(out, Count{OneLine(string(res)), n})
		}
	}
	return sortTail(out, len(known))
}

// sortTail sorts the counts after the known ones by name, so that output
// does not depend on map order.
func sortTail(cs []Count, known int) []Count {
	start := min(known, len(cs))
	for i := start; i < len(cs); i++ {
		for j := i; j > start && cs[j].Name < cs[j-1].Name; j-- {
			cs[j], cs[j-1] = cs[j-1], cs[j]
		}
	}
	return cs
}

// FormatCounts writes counts as "invite 100 · exists 15", or "none".
func FormatCounts(cs []Count) string {
	if len(cs) == 0 {
		return "none"
	}
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = c.Name + " " + strconv.Itoa(c.N)
	}
	return strings.Join(parts, " · ")
}

// Shown returns the first n failures and how many are left out.
func (r Report) Shown(n int) (shown []Failure, more int) {
	if n < 0 {
		n = 0
	}
	if len(r.Failures) <= n {
		return r.Failures, max(0, r.Failed()-len(r.Failures))
	}
	return r.Failures[:n], max(len(r.Failures), r.Failed()) - n
}

// FormatDuration writes d for people: "1h2m", "2m13s", "4s", "<1s".
func FormatDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "unknown"
	case d < time.Second:
		return "<1s"
	case d < time.Hour:
		return d.Round(time.Second).String()
	default:
		s := d.Round(time.Minute).String()
		return strings.TrimSuffix(s, "0s")
	}
}

// FailureLine writes one failure as plain text: "line 4 a@b.example: reason".
// Reasons are cut to maxReason runes.
func FailureLine(f Failure, maxReason int) string {
	var b strings.Builder
	if f.Line > 0 {
		b.WriteString("line " + strconv.Itoa(f.Line) + " ")
	}
	email := OneLine(f.Email)
	if email == "" {
		email = "(no address)"
	}
	b.WriteString(Truncate(email, 254))
	if reason := OneLine(f.Reason); reason != "" {
		b.WriteString(": " + Truncate(reason, maxReason))
	}
	return b.String()
}

// MoreLine says how many failures were left out: "and 37 more".
func MoreLine(more int) string {
	if more <= 0 {
		return ""
	}
	return "and " + strconv.Itoa(more) + " more"
}

// Facts says what a report carries besides its counts, as labelled plain
// text: profile, tenant, source, duration. Empty values are left out.
func (r Report) Facts() []Fact {
	var out []Fact
	add := func(label, v string) {
		if v = OneLine(v); v != "" {
			out = append(out, Fact{label, v})
		}
	}
	add("Profile", r.Profile)
	add("Tenant", r.Tenant)
	add("Source", SourceName(r.Source))
	if d := r.Duration(); d > 0 {
		add("Duration", FormatDuration(d))
	}
	add("Run", r.RunID)
	return out
}

// Fact is a labelled value a message shows.
type Fact struct {
	Label string
	Value string
}

// Text renders the whole report as plain text, the form chat services show
// in notifications and the fallback for clients that cannot show cards.
func (r Report) Text() string {
	var b strings.Builder
	b.WriteString(r.Title())
	b.WriteString("\n")
	for _, d := range r.Facts() {
		b.WriteString(d.Label + ": " + d.Value + "\n")
	}
	b.WriteString("Planned: " + FormatCounts(r.ActionCounts()) + "\n")
	b.WriteString("Result: " + FormatCounts(r.ResultCounts()) + "\n")
	shown, more := r.Shown(ShownFailures)
	for _, f := range shown {
		b.WriteString("- " + FailureLine(f, 200) + "\n")
	}
	if more > 0 {
		b.WriteString(MoreLine(more) + "\n")
	}
	if u := SafeLink(r.DetailsURL); u != "" {
		b.WriteString("Details: " + u + "\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

// SafeLink returns u when it is an absolute http or https URL without
// spaces or control characters, and "" otherwise, so that a details link
// can be put in a button or a link without becoming javascript: or breaking
// the markup around it.
func SafeLink(u string) string {
	if u == "" || strings.IndexFunc(u, func(r rune) bool { return r <= ' ' || r == 0x7f || isBreak(r) }) >= 0 {
		return ""
	}
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" || p.User != nil {
		return ""
	}
	return p.String()
}
