package config

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/foyer-dev/foyer"
)

// Question is one of a profile's own questions on the request page; see
// foyer.Question.
type Question struct {
	ID       string            `yaml:"id,omitempty"`     // the answer's key: lowercase letters, digits and _
	Label    string            `yaml:"label,omitempty"`  // in English
	Labels   map[string]string `yaml:"labels,omitempty"` // by language tag (fr, de-DE)
	Required bool              `yaml:"required,omitempty"`
	Choices  []string          `yaml:"choices,omitempty"` // a fixed list of answers; absent: free text
	MaxLen   int               `yaml:"max_len,omitempty"` // the longest answer, in characters; default 500
}

// Approval is how a profile's requests from the request page and the API
// are approved, and whether its recorded CSV runs need a second admin; see
// foyer.Policy.
type Approval struct {
	AutoDomains  []string   `yaml:"auto_domains,omitempty"` // requests from these domains are approved without anyone
	Stages       []Stage    `yaml:"stages,omitempty"`       // up to 3, in order
	RunApprovers *Approvers `yaml:"run_approvers,omitempty"`
}

// Stage is one step of a manual approval.
type Stage struct {
	Approvers  Approvers  `yaml:"approvers,omitempty"`
	Timeout    Duration   `yaml:"timeout,omitempty"`    // default 14d
	OnTimeout  string     `yaml:"on_timeout,omitempty"` // deny (default) or escalate
	Alternates *Approvers `yaml:"alternates,omitempty"` // who decides once escalated
}

// Approvers names who decides at a stage: members of groups, holders of app
// roles, users, and the request's sponsor.
type Approvers struct {
	Groups  []string `yaml:"groups,omitempty"`  // object ids of groups
	Roles   []string `yaml:"roles,omitempty"`   // app role values of foyer's app registration
	Users   []string `yaml:"users,omitempty"`   // object ids or user principal names
	Sponsor bool     `yaml:"sponsor,omitempty"` // the request's sponsor
}

// Limits on a profile's questions.
const (
	maxQuestions      = 20
	defaultAnswerLen  = 500
	maxAnswerLen      = 5000
	maxChoices        = 100
	maxLabelLen       = 200
	minStageTimeout   = time.Minute
	maxStageTimeout   = 365 * 24 * time.Hour
	questionIDPattern = `^[a-z0-9_]{1,40}$`
)

var (
	questionID  = regexp.MustCompile(questionIDPattern)
	languageTag = regexp.MustCompile(`^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$`)
)

func (s *Approvers) approvers() foyer.Approvers {
	if s == nil {
		return foyer.Approvers{}
	}
	return foyer.Approvers{Groups: trimmed(s.Groups), Roles: trimmed(s.Roles), Users: trimmed(s.Users), Sponsor: s.Sponsor}
}

// checkRequestPage checks a profile's public, questions and approval keys.
func (c *Config) checkRequestPage(k *checker, at, name string, p *Profile) {
	c.checkQuestions(k, at+".questions", name, p.Questions)
	a := p.Approval
	if p.Public && (a == nil || (len(a.AutoDomains) == 0 && len(a.Stages) == 0)) {
		path := at + ".public"
		if a != nil {
			path = at + ".approval"
		}
		k.add(path, "profile %s is public but has neither approval.auto_domains nor approval.stages: every request would be rejected; "+
			"list the domains approved without anyone, or add a stage of approvers", name)
	}
	if a == nil {
		return
	}
	checkDomains(k, at+".approval.auto_domains", name, a.AutoDomains)
	if len(a.Stages) > foyer.MaxStages {
		k.add(fmt.Sprintf("%s.approval.stages[%d]", at, foyer.MaxStages), "profile %s: %d approval stages; a request goes through at most %d", name, len(a.Stages), foyer.MaxStages)
	}
	for i, s := range a.Stages {
		sat := fmt.Sprintf("%s.approval.stages[%d]", at, i)
		what := fmt.Sprintf("profile %s: stage %d", name, i+1)
		checkApprovers(k, sat+".approvers", what+" approvers", &s.Approvers, true)
		if d := time.Duration(s.Timeout); d != 0 && (d < minStageTimeout || d > maxStageTimeout) {
			k.add(sat+".timeout", "%s: timeout %s: want between 1m and 365d (absent: %s)", what, d, "14d")
		}
		switch foyer.TimeoutAction(s.OnTimeout) {
		case "", foyer.TimeoutDeny:
		case foyer.TimeoutEscalate:
			if s.Alternates.approvers().Empty() {
				k.add(sat+".on_timeout", "%s: on_timeout escalate needs alternates, the people who decide once the time is up", what)
			}
		default:
			k.add(sat+".on_timeout", "%s: on_timeout %q: want deny (the default) or escalate", what, s.OnTimeout)
		}
		if s.Alternates != nil {
			checkApprovers(k, sat+".alternates", what+" alternates", s.Alternates, foyer.TimeoutAction(s.OnTimeout) != foyer.TimeoutEscalate)
		}
	}
	if ra := a.RunApprovers; ra != nil {
		checkApprovers(k, at+".approval.run_approvers", "profile "+name+": run_approvers", ra, !ra.Sponsor)
		if ra.Sponsor {
			k.add(at+".approval.run_approvers.sponsor", "profile %s: run_approvers: a CSV run has no sponsor; name groups, roles or users", name)
		}
	}
}

// checkApprovers checks an approvers block; mustName: an empty one is a
// problem of its own (an escalation without alternates says so itself).
func checkApprovers(k *checker, at, what string, s *Approvers, mustName bool) {
	if mustName && s.approvers().Empty() {
		k.add(at, "%s name nobody: give groups, roles, users or sponsor: true", what)
	}
	checkMembers(k, at, what, Members{Groups: s.Groups, Roles: s.Roles, Users: s.Users})
}

func (c *Config) checkQuestions(k *checker, at, profile string, qs []Question) {
	if len(qs) > maxQuestions {
		k.add(fmt.Sprintf("%s[%d]", at, maxQuestions), "profile %s: %d questions; the request page asks at most %d", profile, len(qs), maxQuestions)
	}
	seen := map[string]bool{}
	for i, q := range qs {
		qat := fmt.Sprintf("%s[%d]", at, i)
		switch {
		case !questionID.MatchString(q.ID):
			k.add(qat+".id", "profile %s: question id %q: use 1 to 40 lowercase letters, digits and _ (it names the answer)", profile, q.ID)
		case seen[q.ID]:
			k.add(qat+".id", "profile %s: question id %q is used twice", profile, q.ID)
		}
		seen[q.ID] = true
		what := fmt.Sprintf("profile %s: question %s", profile, q.ID)
		checkLabel(k, qat+".label", what+": label", q.Label)
		for _, lang := range sortedKeys(q.Labels) {
			if !languageTag.MatchString(lang) {
				k.add(qat+".labels."+lang, "%s: %q is not a language tag, such as fr or de-DE", what, lang)
			}
			checkLabel(k, qat+".labels."+lang, what+": label in "+lang, q.Labels[lang])
		}
		if len(q.Choices) > maxChoices {
			k.add(qat+".choices", "%s: %d choices; at most %d", what, len(q.Choices), maxChoices)
		}
		choices := map[string]bool{}
		for j, ch := range q.Choices {
			cat := fmt.Sprintf("%s.choices[%d]", qat, j)
			norm := strings.TrimSpace(ch)
			switch {
			case norm == "":
				k.add(cat, "%s: an empty choice", what)
			case choices[norm]:
				k.add(cat, "%s: choice %q is listed twice", what, ch)
			case len([]rune(norm)) > maxLabelLen:
				k.add(cat, "%s: a choice is longer than %d characters", what, maxLabelLen)
			}
			choices[norm] = true
		}
		if q.MaxLen < 0 || q.MaxLen > maxAnswerLen {
			k.add(qat+".max_len", "%s: max_len must be between 1 and %d (absent: %d)", what, maxAnswerLen, defaultAnswerLen)
		}
	}
}

func checkLabel(k *checker, at, what, label string) {
	switch l := strings.TrimSpace(label); {
	case l == "":
		k.add(at, "%s is empty: people must see what is asked", what)
	case len([]rune(l)) > maxLabelLen:
		k.add(at, "%s is longer than %d characters", what, maxLabelLen)
	}
}

// requestPage converts a profile's public, questions and approval keys
// into p.
func (cp *Profile) requestPage(p *foyer.Profile) {
	p.Public = cp.Public
	for _, q := range cp.Questions {
		fq := foyer.Question{ID: q.ID, Label: strings.TrimSpace(q.Label), Required: q.Required, MaxLen: q.MaxLen}
		if fq.MaxLen == 0 {
			fq.MaxLen = defaultAnswerLen
		}
		if len(q.Labels) > 0 {
			fq.Labels = make(map[string]string, len(q.Labels))
			for lang, l := range q.Labels {
				fq.Labels[lang] = strings.TrimSpace(l)
			}
		}
		fq.Choices = trimmed(q.Choices)
		p.Questions = append(p.Questions, fq)
	}
	a := cp.Approval
	if a == nil {
		return
	}
	p.Approval = foyer.Policy{AutoDomains: domainNames(a.AutoDomains), RunApprovers: a.RunApprovers.approvers()}
	for _, s := range a.Stages {
		st := foyer.Stage{Approvers: s.Approvers.approvers(), Timeout: time.Duration(s.Timeout), OnTimeout: foyer.TimeoutAction(s.OnTimeout), Alternates: s.Alternates.approvers()}
		if st.OnTimeout == "" {
			st.OnTimeout = foyer.TimeoutDeny
		}
		if st.Timeout == 0 {
			st.Timeout = foyer.DefaultStageTimeout
		}
		p.Approval.Stages = append(p.Approval.Stages, st)
	}
}
