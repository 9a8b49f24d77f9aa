package browser_test

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/foyer-dev/foyer/internal/browser"
)

var chrome browser.Shared

func TestMain(m *testing.M) {
	code := m.Run()
	chrome.Close()
	os.Exit(code)
}

var formPage = template.Must(template.New("form").Parse(`<!doctype html>
<html lang="en"><head><title>Ask</title></head><body>
<h1>Ask for access</h1>
<form method="post" action="/submit">
  <label for="name">Name *</label> <input id="name" name="name" required>
  <label>Why
    <textarea name="why"></textarea></label>
  <label for="project">Project</label>
  <select id="project" name="project"><option value="">Choose</option><option value="apollo">Apollo</option><option value="gemini">Gemini</option></select>
  <label><input type="checkbox" name="terms" value="yes"> I accept the terms</label>
  <input aria-label="Company" name="company">
  <p hidden><button type="button">Send</button></p>
  <button type="submit">Send</button>
</form></body></html>`))

var resultPage = template.Must(template.New("result").Parse(`<!doctype html>
<html lang="en"><head><title>Thanks</title></head><body>
<p>Thank you, {{.name}}.</p><p>Why: {{.why}}</p><p>Project: {{.project}}</p><p>Terms: {{.terms}}</p><p>Company: {{.company}}</p>
<p hidden>hidden words</p>
</body></html>`))

func formServer(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { _ = formPage.Execute(w, nil) })
	mux.HandleFunc("POST /submit", func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		values := map[string]string{}
		for _, k := range []string{"name", "why", "project", "terms", "company"} {
			values[k] = r.PostForm.Get(k)
		}
		w.WriteHeader(http.StatusAccepted)
		_ = resultPage.Execute(w, values)
	})
	s := httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

// TestForm: a person opens a page, fills the form by its labels, presses
// the button by its text, and reads what the server answered; the
// screenshot of each page is a PNG in the artifacts directory.
func TestForm(t *testing.T) { // not parallel: it sets FOYER_ARTIFACTS
	srv := formServer(t)
	artifacts := t.TempDir()
	t.Setenv("FOYER_ARTIFACTS", artifacts)
	tab := chrome.Tab(t)

	if status := tab.Navigate(srv.URL + "/"); status != http.StatusOK {
		t.Fatalf("status %d", status)
	}
	before := tab.Screenshot("form")
	tab.Fill("Name", "Ada <Lovelace>")
	tab.Fill("Why", "to read\nthe reports")
	tab.Fill("Project", "Gemini") // by the option's text
	tab.Fill("I accept the terms", "true")
	tab.Fill("Company", "Fabrikam")
	if status := tab.Click("Send"); status != http.StatusAccepted {
		t.Fatalf("the form's answer: status %d", status)
	}
	text := tab.WaitText("Thank you")
	for _, want := range []string{"Thank you, Ada <Lovelace>.", "Why: to read the reports", "Project: gemini", "Terms: yes", "Company: Fabrikam"} {
		if !strings.Contains(text, want) {
			t.Errorf("the page lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "hidden words") {
		t.Errorf("Text shows hidden elements:\n%s", text)
	}
	if loc := tab.Location(); loc != srv.URL+"/submit" {
		t.Errorf("location %q", loc)
	}
	after := tab.Screenshot("")

	if want := filepath.Join(artifacts, "TestForm-form.png"); before != want {
		t.Errorf("screenshot at %s, want %s", before, want)
	}
	if want := filepath.Join(artifacts, "TestForm.png"); after != want {
		t.Errorf("screenshot at %s, want %s", after, want)
	}
	for _, p := range []string{before, after} {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")) || len(data) < 1000 {
			t.Errorf("%s is not a PNG of a page (%d bytes)", p, len(data))
		}
	}
}

// TestTabsInParallel: tests share the browser, each in its own tab.
func TestTabsInParallel(t *testing.T) {
	t.Parallel()
	srv := formServer(t)
	for i := range 3 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			tab := chrome.Tab(t)
			tab.Navigate(srv.URL + "/")
			name := fmt.Sprintf("Person %d", i)
			tab.Fill("Name", name)
			tab.Click("Send")
			if text := tab.WaitText("Thank you"); !strings.Contains(text, name+".") {
				t.Errorf("tab %d shows another's answer:\n%s", i, text)
			}
		})
	}
}

// failures records what a helper reported instead of failing the test.
type failures struct {
	testing.TB
	ctx context.Context
	mu  sync.Mutex
	msg string
}

func (f *failures) Context() context.Context { return f.ctx }
func (f *failures) Helper()                  {}
func (f *failures) Fatalf(format string, args ...any) {
	f.mu.Lock()
	f.msg = fmt.Sprintf(format, args...)
	f.mu.Unlock()
	runtime.Goexit()
}

// TestWaitsEnd: a field or button that never comes fails the test with
// what was awaited, once the test's context ends.
func TestWaitsEnd(t *testing.T) {
	t.Parallel()
	srv := formServer(t)
	tab := chrome.Tab(t)
	tab.Navigate(srv.URL + "/")
	tests := []struct {
		name string
		do   func(*browser.Tab)
		want string
	}{
		{"no such label", func(tab *browser.Tab) { tab.Fill("Surname", "x") }, `fill "Surname"`},
		{"no such option", func(tab *browser.Tab) { tab.Fill("Project", "Mercury") }, `no option "Mercury"`},
		{"no such button", func(tab *browser.Tab) { tab.Click("Cancel") }, `press "Cancel"`},
		{"no such text", func(tab *browser.Tab) { tab.WaitText("never there") }, `wait for "never there"`},
	}
	for _, tt := range tests {
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		f := &failures{TB: t, ctx: ctx}
		done := make(chan struct{})
		start := time.Now()
		go func() {
			defer close(done)
			tt.do(browser.WithTB(tab, f))
		}()
		<-done
		cancel()
		if f.msg == "" || !strings.Contains(f.msg, tt.want) {
			t.Errorf("%s: failure %q, want one with %q", tt.name, f.msg, tt.want)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("%s: took %s, past the test's context", tt.name, d)
		}
	}
}
