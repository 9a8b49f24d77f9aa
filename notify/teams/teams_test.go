package teams_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/foyer-dev/foyer/notify"
	"github.com/foyer-dev/foyer/notify/notifytest"
	"github.com/foyer-dev/foyer/notify/teams"
)

func TestConformance(t *testing.T) {
	notifytest.Run(t, func(t *testing.T, url string) notify.Notifier {
		n, err := teams.New(url, teams.Options{Retry: notifytest.Retry()})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}, decode)
}

var (
	escaped     = regexp.MustCompile(`\\([[:punct:]])`)
	failureLine = regexp.MustCompile(`^line \d+ (\S+?):? `)
	moreLine    = regexp.MustCompile(`^and (\d+) more$`)
	runRe       = regexp.MustCompile(`^Run (\S+)`)
)

func unescape(s string) string { return escaped.ReplaceAllString(s, "$1") }

// decode reads a card message as Teams would, failing t if it breaks what
// Teams requires.
func decode(t *testing.T, body []byte) notifytest.Seen {
	t.Helper()
	var m teams.Message
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("decode the card: %v\n%s", err, body)
	}
	if !bytes.Contains(body, []byte(`"contentUrl":null`)) {
		t.Errorf("the attachment lacks contentUrl: null")
	}
	if err := m.Check(); err != nil {
		t.Fatalf("the card breaks Teams' rules: %v", err)
	}
	var seen notifytest.Seen
	var texts []string
	card := m.Attachments[0].Content
	for _, e := range card.Body {
		text := unescape(e.Text)
		texts = append(texts, text)
		for _, f := range e.Facts {
			texts = append(texts, f.Title+": "+unescape(f.Value))
		}
		if mm := failureLine.FindStringSubmatch(text); mm != nil {
			seen.Failures = append(seen.Failures, mm[1])
		}
		if mm := moreLine.FindStringSubmatch(text); mm != nil {
			seen.More, _ = strconv.Atoi(mm[1])
		}
		if mm := runRe.FindStringSubmatch(text); mm != nil {
			seen.RunID = mm[1]
			seen.ReportID = e.ID
		}
	}
	if len(card.Actions) > 0 {
		seen.DetailsURL = card.Actions[0].URL
	}
	seen.Text = strings.Join(texts, "\n")
	return seen
}

func TestEscape(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"plain text":                    "plain text",
		"[click](https://evil.example)": `\[click\]\(https://evil.example\)`,
		"**bold** _it_ `code`":          `\*\*bold\*\* \_it\_ \` + "`code\\`",
		"- item":                        `\- item`,
		"1. item":                       `1\. item`,
		"<https://evil.example>":        `\<https://evil.example\>`,
		"line\r\nbreak":                 "line  break",
		"guest-a@partner.example":       "guest-a@partner.example",
	} {
		if got := teams.Escape(in); got != want {
			t.Errorf("Escape(%q) = %q, want %q", in, got, want)
		}
		if got := unescape(teams.Escape(in)); got != notify.OneLine(in) {
			t.Errorf("unescape(Escape(%q)) = %q", in, got)
		}
	}
}

func TestCardShape(t *testing.T) {
	t.Parallel()
	r := notifytest.Report(2)
	r.Failures[0].Reason = "[verify your account](https://evil.example)"
	m := teams.Build(r, 10)
	if err := m.Check(); err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(m)
	if bytes.Contains(body, []byte("[verify your account](https")) {
		t.Errorf("a reason became a link: %s", body)
	}
	card := m.Attachments[0].Content
	if card.Version != "1.4" || card.Body[0].Color != "Attention" || card.Body[1].Type != "FactSet" {
		t.Errorf("card = %+v", card)
	}
	if len(card.Actions) != 1 || card.Actions[0].Type != "Action.OpenUrl" || card.Actions[0].URL != r.DetailsURL {
		t.Errorf("actions = %+v", card.Actions)
	}
	ok := teams.Build(notifytest.Report(0), 10).Attachments[0].Content
	if ok.Body[0].Color != "Good" {
		t.Errorf("a run without failures has title colour %q", ok.Body[0].Color)
	}
	r.DetailsURL = "javascript:alert(1)"
	if acts := teams.Build(r, 10).Attachments[0].Content.Actions; len(acts) != 0 {
		t.Errorf("an unsafe details URL became an action: %+v", acts)
	}
}

func TestCheckFindsEveryProblem(t *testing.T) {
	t.Parallel()
	m := teams.Message{Type: "card", Attachments: []teams.Attachment{{ContentType: "text/plain", Content: teams.Card{
		Type: "Card", Version: "2.0",
		Body: []teams.Element{{Type: "TextBlock"}, {Type: "FactSet"}, {Type: "Image"},
			{Type: "TextBlock", ID: "same", Text: "a"}, {Type: "TextBlock", ID: "same", Text: "b"}},
		Actions: []teams.Action{{Type: "Action.Submit"}},
	}}}}
	err := m.Check()
	for _, want := range []string{"type is \"card\"", "content type", "card type", "version \"2.0\"", "TextBlock without text", "FactSet without facts", "\"Image\"", "actions[0]", `body[4]: id "same" is not unique`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Check() = %v, want it to mention %q", err, want)
		}
	}
}

func TestAnswers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		status   int
		body     string
		wantCode string
		requests int
	}{
		{"workflow accepted", 202, "", "", 1},
		{"legacy ok", 200, "1", "", 1},
		{"legacy throttled", 200, "Microsoft Teams endpoint returned HTTP error 429 with ContextId tcid=0,server=msgapi", "http_error_429", 3},
		{"legacy too large", 200, "Microsoft Teams endpoint returned HTTP error 413 with ContextId x", "http_error_413", 1},
		{"logic apps bad request", 400, `{"error":{"code":"InvalidRequestContent","message":"The request content is not valid"}}`, "InvalidRequestContent", 1},
		{"logic apps throttled", 429, `{"error":{"code":"WorkflowRequestsThrottled","message":"slow down"}}`, "WorkflowRequestsThrottled", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var n atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n.Add(1)
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			nt, err := teams.New(srv.URL+"/workflows/abc/triggers/manual/paths/invoke?api-version=1&sig=SECRETSIG", teams.Options{Retry: notifytest.Retry()})
			if err != nil {
				t.Fatal(err)
			}
			err = nt.Notify(t.Context(), notifytest.Report(1))
			if int(n.Load()) != tt.requests {
				t.Errorf("%d requests, want %d", n.Load(), tt.requests)
			}
			if tt.wantCode == "" {
				if err != nil {
					t.Errorf("Notify = %v", err)
				}
				return
			}
			var e *notify.Error
			if !errors.As(err, &e) || e.Code != tt.wantCode {
				t.Fatalf("err = %v, want code %s", err, tt.wantCode)
			}
			if strings.Contains(fmt.Sprint(err), "SECRETSIG") {
				t.Errorf("error shows the signature: %v", err)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://prod-12.westeurope.logic.azure.com:443/workflows/0a1b/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=S3CRET": "https://prod-12.westeurope.logic.azure.com:443/workflows/0a1b/triggers/manual/paths/invoke?api-version=2016-06-01&sig=***&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0",
		"https://default0a.1b.environment.api.powerplatform.com:443/powerautomate/automations/direct/workflows/9f/triggers/manual/paths/invoke?api-version=1&sig=S3CRET":    "https://default0a.1b.environment.api.powerplatform.com:443/powerautomate/automations/direct/workflows/9f/triggers/manual/paths/invoke?api-version=1&sig=***",
		"https://contoso.webhook.office.com/webhookb2/S3CRET@tenant/IncomingWebhook/S3CRET/owner":                                                                           "https://contoso.webhook.office.com/***",
		"http://127.0.0.1:8080/hook?sig=S3CRET": "http://127.0.0.1:8080/***",
	} {
		got := teams.Redact(in)
		if got != want {
			t.Errorf("Redact(%q)\n = %q\nwant %q", in, got, want)
		}
		if strings.Contains(got, "S3CRET") {
			t.Errorf("Redact kept the secret: %q", got)
		}
	}
}

func BenchmarkBuild(b *testing.B) {
	r := notifytest.Report(500)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(teams.Build(r, 10)); err != nil {
			b.Fatal(err)
		}
	}
}

func TestAnnouncerConformance(t *testing.T) {
	notifytest.RunAnnouncer(t, func(t *testing.T, url string) notify.Announcer {
		n, err := teams.New(url, teams.Options{Retry: notifytest.Retry()})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}, decodeAnnouncement)
}

// decodeAnnouncement reads an announcement's card as Teams would: the id
// is the footer's element id.
func decodeAnnouncement(t *testing.T, body []byte) notifytest.Seen {
	t.Helper()
	seen := decode(t, body)
	var m teams.Message
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	for _, e := range m.Attachments[0].Content.Body {
		if e.ID != "" {
			seen.ReportID = e.ID
		}
	}
	return seen
}

// TestAnnouncementIsInert: a requester's values cannot add a link or
// formatting, and a huge justification keeps the card under Teams' size.
func TestAnnouncementIsInert(t *testing.T) {
	t.Parallel()
	a := notifytest.Announcement()
	a.Facts[0].Value = "[click](https://evil.example) **bold**"
	a.Text = strings.Repeat("[x](https://evil.example) ", 2000)
	m := teams.BuildAnnouncement(a)
	if err := m.Check(); err != nil {
		t.Fatalf("the card breaks Teams' rules: %v", err)
	}
	body, _ := json.Marshal(m)
	if strings.Contains(string(body), "[click](") || strings.Contains(string(body), "[x](") {
		t.Errorf("the card carries a Markdown link unescaped")
	}
	if !strings.Contains(string(body), `\\[click\\]`) {
		t.Errorf("the requester's value is not shown escaped: %.300s", body)
	}
}
