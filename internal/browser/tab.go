package browser

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// StepTimeout bounds each step of a tab (a page load, a field found), within
// the test's own context, so that a page that never comes fails the test in
// seconds with what was awaited, not at the suite's timeout.
const StepTimeout = 30 * time.Second

// Tab is one test's tab. Its methods fail the test on error, so they must
// be called from the test's goroutine, as t.Fatal must.
type Tab struct {
	t   testing.TB
	b   *Browser
	ctx context.Context // the tab's chromedp context
}

// Tab opens a tab for t, closed when t ends. Each tab has a browser
// context of its own, as a private window has: its cookies and storage are
// nobody else's, so parallel tests against servers on the same host (every
// loopback server is 127.0.0.1, whatever its port) do not see each other's
// sessions, and a test can be two people at once with two tabs.
func (b *Browser) Tab(t testing.TB) *Tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	tab := &Tab{t: t, b: b, ctx: ctx}
	t.Cleanup(func() { _ = chromedp.Cancel(ctx); cancel() })
	// As for the browser, the first Run opens the tab and ties it to the
	// context it runs on, so it runs on ctx; the wait is bounded by t's.
	opened := make(chan error, 1)
	go func() { opened <- chromedp.Do(ctx) }()
	timer := time.NewTimer(StepTimeout)
	defer timer.Stop()
	select {
	case err := <-opened:
		if err != nil {
			t.Fatalf("open a tab: %v", err)
		}
	case <-t.Context().Done():
		cancel()
		<-opened
		t.Fatalf("open a tab: %v", context.Cause(t.Context()))
	case <-timer.C:
		cancel()
		<-opened
		t.Fatalf("open a tab: no answer after %s", StepTimeout)
	}
	return tab
}

// step runs a within the test's context and StepTimeout, failing the test
// with what was being done.
func step[T any](tab *Tab, what string, a chromedp.Action[T]) T {
	tab.t.Helper()
	ctx, cancel := context.WithTimeout(tab.ctx, StepTimeout)
	defer cancel()
	stop := context.AfterFunc(tab.t.Context(), cancel)
	defer stop()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		if ctx.Err() != nil && tab.t.Context().Err() == nil {
			err = fmt.Errorf("not done after %s: %w", StepTimeout, err)
		}
		tab.t.Fatalf("%s: %v (page %s)", what, err, tab.location())
	}
	return v
}

// location is the tab's address, for messages; "" when it cannot be read.
func (tab *Tab) location() string {
	ctx, cancel := context.WithTimeout(tab.ctx, time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	return loc
}

// Context returns the tab's chromedp context, for actions this package
// has no helper for. Bound each Run with the test's context.
func (tab *Tab) Context() context.Context { return tab.ctx }

// Navigate opens url and waits for the page to load. It returns the HTTP
// status of the page.
func (tab *Tab) Navigate(url string) int {
	tab.t.Helper()
	resp := step(tab, "open "+url, func(ctx context.Context, t *chromedp.Target) (int64, error) {
		r, err := chromedp.NavigateResponse(url)(ctx, t)
		if err != nil || r == nil {
			return 0, err
		}
		return r.Status, nil
	})
	return int(resp)
}

// Location returns the address of the page the tab shows.
func (tab *Tab) Location() string {
	tab.t.Helper()
	return step(tab, "read the address", chromedp.Location())
}

// Text returns the text of the page as a person reads it (the body's
// innerText: no markup, no hidden elements).
func (tab *Tab) Text() string {
	tab.t.Helper()
	return step(tab, "read the page", chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
}

// WaitText waits until the page's text holds s, and returns the text.
func (tab *Tab) WaitText(s string) string {
	tab.t.Helper()
	expr := fmt.Sprintf(`document.body && document.body.innerText.includes(%s) ? document.body : null`, jsString(s))
	step(tab, fmt.Sprintf("wait for %q on the page", s), chromedp.WaitReady(chromedp.JSPath(expr)))
	return tab.Text()
}

// labelled is a JavaScript expression for the form control whose label
// reads label (white space folded, a trailing "*" of a required field
// ignored), or whose aria-label is label; null when there is none yet.
func labelled(label string) chromedp.JSPath {
	return chromedp.JSPath(fmt.Sprintf(`(() => {
  const want = %s;
  const norm = s => s.replace(/\s+/g, " ").replace(/\s*\*$/, "").trim();
  for (const l of document.querySelectorAll("label")) {
    if (norm(l.textContent) === want && l.control) return l.control;
  }
  return document.querySelector("[aria-label=" + JSON.stringify(want) + "]");
})()`, jsString(strings.Join(strings.Fields(label), " "))))
}

// Fill sets the form control labelled label to value: the text of an input
// or textarea, the option of a select (by its value or its text), a
// checkbox or radio button checked when value is "true" or "on". It sends
// the input and change events a person's typing would.
func (tab *Tab) Fill(label, value string) {
	tab.t.Helper()
	const set = `function(v) {
  if (this.type === "checkbox" || this.type === "radio") {
    this.checked = v === "true" || v === "on";
  } else if (this.tagName === "SELECT") {
    const o = [...this.options].find(o => o.value === v || o.text.trim() === v);
    if (!o) throw new Error("no option " + JSON.stringify(v));
    this.value = o.value;
  } else {
    this.value = v;
  }
  this.dispatchEvent(new Event("input", {bubbles: true}));
  this.dispatchEvent(new Event("change", {bubbles: true}));
}`
	step(tab, fmt.Sprintf("fill %q", label), callOn(labelled(label), set, value))
}

// button is a JavaScript expression for the visible button, submit input
// or link whose text is text (white space folded); null when there is none
// yet.
func button(text string) chromedp.JSPath {
	return chromedp.JSPath(fmt.Sprintf(`(() => {
  const want = %s;
  const norm = s => (s || "").replace(/\s+/g, " ").trim();
  const all = document.querySelectorAll("button, input[type=submit], input[type=button], a[href]");
  return [...all].find(e => e.offsetParent !== null && norm(e.tagName === "INPUT" ? e.value : e.innerText) === want) || null;
})()`, jsString(strings.Join(strings.Fields(text), " "))))
}

// Click presses the button or link whose text is text and waits for the
// page it opens to load. It returns that page's HTTP status.
func (tab *Tab) Click(text string) int {
	tab.t.Helper()
	status := step(tab, fmt.Sprintf("press %q", text), func(ctx context.Context, _ *chromedp.Target) (int64, error) {
		resp, err := chromedp.RunResponse(ctx, chromedp.Click(button(text), chromedp.NodeVisible))
		if err != nil || resp == nil {
			return 0, err
		}
		return resp.Status, nil
	})
	return int(status)
}

// Screenshot saves a PNG of the whole page (beyond the window) to the
// artifacts directory as <test name>.png, or <test name>-<name>.png, and
// returns its path.
func (tab *Tab) Screenshot(name string) string {
	tab.t.Helper()
	png := step(tab, "take a screenshot", chromedp.FullScreenshot(100))
	dir := artifactsDir(tab.b.opts.ArtifactsDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tab.t.Fatalf("screenshot: %v", err)
	}
	file := fileName(tab.t.Name())
	if name != "" {
		file += "-" + fileName(name)
	}
	path := filepath.Join(dir, file+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		tab.t.Fatalf("screenshot: %v", err)
	}
	return path
}

// artifactsDir is where screenshots go: dir, else FOYER_ARTIFACTS, else
// $TMPDIR/foyer-artifacts.
func artifactsDir(dir string) string {
	if dir != "" {
		return dir
	}
	if d := os.Getenv("FOYER_ARTIFACTS"); d != "" {
		return d
	}
	return filepath.Join(os.TempDir(), "foyer-artifacts")
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// fileName makes a test's name (TestX/sub case) a file name: TestX_sub_case.
func fileName(s string) string {
	return strings.Trim(unsafeName.ReplaceAllString(s, "_"), "_.")
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s) // a string always marshals
	return string(b)
}

// callOn calls the JavaScript function fn with this bound to the element
// sel finds, once it is there, and arg as its argument.
func callOn(sel chromedp.JSPath, fn string, arg string) chromedp.Action[chromedp.Void] {
	return chromedp.QueryAfter(sel, func(ctx context.Context, t *chromedp.Target, nodes []*chromedp.Node) (chromedp.Void, error) {
		if len(nodes) == 0 {
			return chromedp.Void{}, errors.New("no such element")
		}
		r, err := cdp.Call(ctx, t, dom.ResolveNode, dom.ResolveNodeParams{NodeID: nodes[0].NodeID})
		if err != nil {
			return chromedp.Void{}, err
		}
		this := func(p *runtime.CallFunctionOnParams) { p.ObjectID = r.Object.ObjectID }
		_, err = chromedp.CallFunctionOn[any](fn, this, arg)(ctx, t)
		return chromedp.Void{}, err
	}, chromedp.NodeReady)
}
