package sim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/foyer-dev/foyer/sim"
	"github.com/foyer-dev/foyer/sim/chaos"
	"github.com/foyer-dev/foyer/sim/simtest"
)

// tenant is a started sim with an authenticated Graph client.
type tenant struct {
	t     *testing.T
	s     *sim.Server
	graph *http.Client
	arm   *http.Client
	exo   *http.Client
	plain *http.Client
}

func start(t *testing.T, o sim.Options) *tenant {
	t.Helper()
	s := simtest.Start(t, o)
	cred := simtest.Credential(t, s)
	return &tenant{
		t: t, s: s,
		graph: simtest.Bearer(t, s, cred, "https://graph.microsoft.com/.default"),
		arm:   simtest.Bearer(t, s, cred, "https://management.azure.com/.default"),
		exo:   simtest.Bearer(t, s, cred, "https://outlook.office365.com/.default"),
		plain: s.Client(),
	}
}

// answer is a decoded response.
type answer struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

func (a answer) str(path string) string {
	v := a.get(path)
	s, _ := v.(string)
	return s
}

// get walks a dotted path ("error.code", "value.0.id") through the body.
func (a answer) get(path string) any {
	if v, ok := a.body[path]; ok {
		return v
	}
	var v any = a.body
	var parts []string
	for _, p := range strings.Split(path, ".") {
		if n := len(parts); n > 0 && parts[n-1] == "@odata" {
			parts[n-1] += "." + p
			continue
		}
		parts = append(parts, p)
	}
	for _, p := range parts {
		switch x := v.(type) {
		case map[string]any:
			v = x[p]
		case []any:
			i := 0
			for _, c := range p {
				i = i*10 + int(c-'0')
			}
			if i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

func (a answer) list(path string) []any {
	l, _ := a.get(path).([]any)
	return l
}

func do(t testing.TB, c *http.Client, method, url string, body any, headers ...string) answer {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header, raw: raw}
	if len(raw) > 0 && raw[0] == '{' {
		if err := json.Unmarshal(raw, &a.body); err != nil {
			t.Fatalf("%s %s: decode %q: %v", method, url, raw, err)
		}
	}
	return a
}

func (tn *tenant) g(method, path string, body any, headers ...string) answer {
	tn.t.Helper()
	return do(tn.t, tn.graph, method, tn.s.URL()+"/v1.0"+path, body, headers...)
}

func (tn *tenant) side(method, path string, body any) answer {
	tn.t.Helper()
	return do(tn.t, tn.plain, method, tn.s.URL()+"/_sim"+path, body)
}

// invite posts a minimal invitation and returns the answer.
func (tn *tenant) invite(email string) answer {
	tn.t.Helper()
	return tn.g("POST", "/invitations", map[string]any{"invitedUserEmailAddress": email, "inviteRedirectUrl": "https://myapps.microsoft.com"})
}

func wantStatus(t testing.TB, a answer, status int) {
	t.Helper()
	if a.status != status {
		t.Fatalf("status %d, want %d: %s", a.status, status, a.raw)
	}
}

// wantError checks a Graph error answer: status, code, message prefix and
// the innerError members.
func wantError(t testing.TB, a answer, status int, code, message string) {
	t.Helper()
	wantStatus(t, a, status)
	if got := a.str("error.code"); got != code {
		t.Errorf("error.code %q, want %q (%s)", got, code, a.raw)
	}
	if got := a.str("error.message"); !strings.HasPrefix(got, message) {
		t.Errorf("error.message %q, want it to start with %q", got, message)
	}
	for _, k := range []string{"date", "request-id", "client-request-id"} {
		if a.str("error.innerError."+k) == "" {
			t.Errorf("error.innerError.%s missing: %s", k, a.raw)
		}
	}
	if a.header.Get("request-id") == "" {
		t.Errorf("no request-id header")
	}
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

func chaosFaults(s string) (chaos.Faults, error)   { return chaos.ParseFaults(s) }
func chaosLatency(s string) (chaos.Latency, error) { return chaos.ParseLatency(s) }
