package slack_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/foyer-dev/foyer/notify"
	"github.com/foyer-dev/foyer/notify/notifytest"
	"github.com/foyer-dev/foyer/notify/slack"
)

func TestConformance(t *testing.T) {
	notifytest.Run(t, func(t *testing.T, url string) notify.Notifier {
		n, err := slack.New(url, slack.Options{Retry: notifytest.Retry()})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}, decode)
}

var (
	failureLine = regexp.MustCompile(`^• line \d+ (\S+)`)
	moreLine    = regexp.MustCompile(`^_and (\d+) more_$`)
	linkRe      = regexp.MustCompile(`<([^|>]+)\|Open the details>`)
	runRe       = regexp.MustCompile(`^Run (\S+)`)
)

func unescape(s string) string {
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(s)
}

// decode reads a message as Slack would, failing t if it breaks Block
// Kit's limits.
func decode(t *testing.T, body []byte) notifytest.Seen {
	t.Helper()
	var m slack.Message
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("decode the message: %v\n%s", err, body)
	}
	if err := m.Check(); err != nil {
		t.Fatalf("the message breaks Block Kit's limits: %v", err)
	}
	var seen notifytest.Seen
	var texts []string
	add := func(x *slack.Text) {
		if x != nil {
			texts = append(texts, unescape(x.Text))
		}
	}
	for _, b := range m.Blocks {
		if b.Type == "context" {
			seen.ReportID = b.BlockID
		}
		add(b.Text)
		for _, f := range b.Fields {
			add(f)
		}
		for _, e := range b.Elements {
			add(e)
			if mm := runRe.FindStringSubmatch(e.Text); mm != nil {
				seen.RunID = unescape(mm[1])
			}
		}
		if b.Text == nil {
			continue
		}
		if mm := linkRe.FindStringSubmatch(b.Text.Text); mm != nil {
			seen.DetailsURL = unescape(mm[1])
		}
		for _, line := range strings.Split(b.Text.Text, "\n") {
			if mm := failureLine.FindStringSubmatch(line); mm != nil {
				seen.Failures = append(seen.Failures, unescape(strings.TrimSuffix(mm[1], ":")))
			}
			if mm := moreLine.FindStringSubmatch(line); mm != nil {
				seen.More, _ = strconv.Atoi(mm[1])
			}
		}
	}
	seen.Text = strings.Join(texts, "\n")
	return seen
}

func TestEscapesValues(t *testing.T) {
	t.Parallel()
	r := notifytest.Report(1)
	r.Failures[0].Email = "<!channel>"
	r.Failures[0].Reason = "see <https://evil.example|your bank> & tell <@U123> <!here>\nnow"
	r.Profile = "<!everyone>"
	m := slack.Build(r, 10)
	var all strings.Builder
	for _, b := range m.Blocks {
		for _, x := range append(append([]*slack.Text{b.Text}, b.Fields...), b.Elements...) {
			if x != nil {
				all.WriteString(x.Text + "\n")
			}
		}
	}
	text := all.String()
	for _, bad := range []string{"<!channel>", "<https://evil.example|", "<@U123>", "<!here>", "<!everyone>"} {
		if strings.Contains(text, bad) {
			t.Errorf("a value reached the message unescaped: %q in\n%s", bad, text)
		}
	}
	if !strings.Contains(text, "&lt;!channel&gt;") || !strings.Contains(text, "&amp; tell") {
		t.Errorf("values not escaped as entities:\n%s", text)
	}
	for _, b := range m.Blocks {
		for _, x := range append(append([]*slack.Text{b.Text}, b.Fields...), b.Elements...) {
			if x != nil && x.Type == "mrkdwn" && !x.Verbatim {
				t.Errorf("mrkdwn text without verbatim: %q", x.Text)
			}
		}
	}
}

func TestMessageShape(t *testing.T) {
	t.Parallel()
	r := notifytest.Report(13)
	m := slack.Build(r, 10)
	if err := m.Check(); err != nil {
		t.Fatal(err)
	}
	if m.Text != "foyer apply on contoso: 13 of 120 rows failed" {
		t.Errorf("fallback text = %q", m.Text)
	}
	var types []string
	for _, b := range m.Blocks {
		types = append(types, b.Type)
	}
	if got := strings.Join(types, " "); got != "header section divider section section context" {
		t.Errorf("blocks = %s", got)
	}
	fail := m.Blocks[3].Text.Text
	if !strings.HasPrefix(fail, "*Failures*\n• line 2 guest000@partner.example: forbidden:") || !strings.HasSuffix(fail, "\n_and 3 more_") {
		t.Errorf("failures section = %q", fail)
	}
	if got := m.Blocks[4].Text.Text; got != "<https://foyer.example/runs/run-0042|Open the details>" {
		t.Errorf("details = %q", got)
	}
}

func TestCheckFindsEveryProblem(t *testing.T) {
	t.Parallel()
	m := slack.Message{Blocks: []slack.Block{
		{Type: "header", Text: &slack.Text{Type: "mrkdwn", Text: "x"}},
		{Type: "section"},
		{Type: "section", Text: &slack.Text{Type: "mrkdwn", Text: strings.Repeat("a", 3001)}},
		{Type: "video"},
		{Type: "divider", BlockID: "same"},
		{Type: "divider", BlockID: "same"},
		{Type: "divider", BlockID: strings.Repeat("b", 256)},
	}}
	for range 47 {
		m.Blocks = append(m.Blocks, slack.Block{Type: "divider"})
	}
	err := m.Check()
	for _, want := range []string{"fallback text is empty", "54 blocks", "block 1 (header) text is mrkdwn", "block 2 (section) has neither", "3001 characters", "unknown block type",
		`block 6 (divider): block_id "same" is not unique`, "block_id has 256 characters"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Check() = %v, want it to mention %q", err, want)
		}
	}
}

func TestAnswers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status   int
		body     string
		wantCode string
		requests int
	}{
		{200, "ok", "", 1},
		{200, "missing_text_or_fallback_or_attachments", "missing_text_or_fallback_or_attachments", 1},
		{404, "channel_not_found", slack.CodeChannelNotFound, 1},
		{410, "channel_is_archived", slack.CodeChannelIsArchived, 1},
		{403, "action_prohibited", slack.CodeActionProhibited, 1},
		{404, "no_service", slack.CodeNoService, 1},
		{500, "rollup_error", slack.CodeRollupError, 3},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status, tt.body), func(t *testing.T) {
			t.Parallel()
			var n atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n.Add(1)
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			nt, err := slack.New(srv.URL+"/services/T1/B2/SECRET", slack.Options{Retry: notifytest.Retry()})
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
			if want := srv.URL + "/services/T1/B2/***"; e.Target != want || strings.Contains(err.Error(), "SECRET") {
				t.Errorf("error %q, want target %s and no token", err, want)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://hooks.slack.com/services/T0123ABC/B0456DEF/xoxbSecretToken": "https://hooks.slack.com/services/T0123ABC/B0456DEF/***",
		"https://hooks.slack.com/triggers/T01/123456/abcdef":                 "https://hooks.slack.com/triggers/T01/123456/***",
		"https://hooks.slack.com/services/secret":                            "https://hooks.slack.com/***",
		"https://relay.example/slack?token=abc":                              "https://relay.example/***",
		"not a url":                                                          "***",
	} {
		if got := slack.Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNewRefusesBadURLs(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"", "http://hooks.slack.com/services/T1/B1/SECRET", "https://user:SECRET@hooks.slack.com/x", "ftp://x/SECRET", "hooks.slack.com/services/SECRET"} {
		_, err := slack.New(u, slack.Options{})
		if err == nil {
			t.Errorf("New(%q) accepted it", u)
			continue
		}
		if strings.Contains(err.Error(), "SECRET") {
			t.Errorf("New(%q) error shows the secret: %v", u, err)
		}
	}
}

func TestLogsWithoutSecret(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.WriteHeader(503)
			return
		}
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	n, _ := slack.New(srv.URL+"/services/T1/B2/SECRET", slack.Options{Retry: notifytest.Retry(), Log: log})
	if err := n.Notify(t.Context(), notifytest.Report(2)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "will retry") || !strings.Contains(logs.String(), "delivered") {
		t.Errorf("logs lack the retry and the delivery:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), "SECRET") {
		t.Errorf("logs show the token:\n%s", logs.String())
	}
}

func BenchmarkBuild(b *testing.B) {
	r := notifytest.Report(500)
	b.ReportAllocs()
	for b.Loop() {
		m := slack.Build(r, 10)
		if _, err := json.Marshal(m); err != nil {
			b.Fatal(err)
		}
	}
}

func TestAnnouncerConformance(t *testing.T) {
	notifytest.RunAnnouncer(t, func(t *testing.T, url string) notify.Announcer {
		n, err := slack.New(url, slack.Options{Retry: notifytest.Retry()})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}, decodeAnnouncement)
}

var announceLinkRe = regexp.MustCompile(`<([^|>]+)\|[^>]*>`)

// decodeAnnouncement reads an announcement's message as Slack would.
func decodeAnnouncement(t *testing.T, body []byte) notifytest.Seen {
	t.Helper()
	seen := decode(t, body)
	var m slack.Message
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	seen.DetailsURL = ""
	for _, b := range m.Blocks {
		if b.Text != nil && b.Type == "section" {
			if mm := announceLinkRe.FindStringSubmatch(b.Text.Text); mm != nil {
				seen.DetailsURL = unescape(mm[1])
			}
		}
	}
	return seen
}

// TestAnnouncementIsInert: a requester's values cannot mention the channel
// or add a link, and the message keeps Block Kit's limits when they are
// huge.
func TestAnnouncementIsInert(t *testing.T) {
	t.Parallel()
	a := notifytest.Announcement()
	a.Facts[0].Value = "<!channel> <https://evil.example|click> & co"
	a.Text = strings.Repeat("<@U123> justification ", 500)
	for range 20 {
		a.Facts = append(a.Facts, notify.Fact{Label: "More", Value: strings.Repeat("x", 5000)})
	}
	m := slack.BuildAnnouncement(a)
	if err := m.Check(); err != nil {
		t.Fatalf("the message breaks Block Kit's limits: %v", err)
	}
	var texts []string
	for _, b := range m.Blocks {
		for _, x := range append(append([]*slack.Text{b.Text}, b.Fields...), b.Elements...) {
			if x != nil {
				texts = append(texts, x.Text)
			}
		}
	}
	all := strings.Join(texts, "\n")
	for _, bad := range []string{"<!channel>", "<https://evil.example", "<@U123>", "&lt…", "&l…"} {
		if strings.Contains(all, bad) {
			t.Errorf("the message carries %q", bad)
		}
	}
	if !strings.Contains(all, "&lt;!channel&gt;") {
		t.Errorf("the requester's value is not shown escaped")
	}
}
