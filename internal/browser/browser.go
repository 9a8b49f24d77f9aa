// Package browser drives headless Chromium for foyer's end-to-end tests:
// one browser per test package, shared by its parallel tests, a tab per
// test, and helpers that act as a person does (open a page, fill a field by
// its label, press a button by its text, read the page) and keep a
// full-page screenshot of what the person saw.
//
// Chromium is FOYER_CHROMIUM, else /usr/bin/chromium (scripts/test installs
// Debian's). Without it the tests that ask for a tab are skipped, with a
// message saying how to install it, except when CI=true: then they fail.
//
// Only tests import this package.
package browser

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// DefaultPath is where Debian's chromium package puts the browser.
const DefaultPath = "/usr/bin/chromium"

// startTimeout bounds starting the browser, beside the test's own context.
const startTimeout = time.Minute

// Options configure a Browser.
type Options struct {
	// Path is the browser's executable; empty: FOYER_CHROMIUM, else
	// DefaultPath.
	Path string
	// InsecureCerts makes the browser accept any TLS certificate, for test
	// servers on loopback with a throwaway CA (the emulated tenant's).
	InsecureCerts bool
	// Width and Height are the window's size in CSS pixels; 0: 1280×900.
	Width, Height int
	// ArtifactsDir is where screenshots go; empty: FOYER_ARTIFACTS, else
	// $TMPDIR/foyer-artifacts.
	ArtifactsDir string
}

// Browser is a running headless Chromium. Its methods are safe for
// concurrent use; each tab is one test's.
type Browser struct {
	opts      Options
	ctx       context.Context // the browser's chromedp context
	cancel    context.CancelFunc
	closeOnce sync.Once
}

// ErrNoBrowser is returned by Start when no browser executable is found.
var ErrNoBrowser = errors.New("no Chromium found")

// Path returns the browser executable Start would use, and whether it is
// there.
func (o Options) path() (string, bool) {
	p := o.Path
	if p == "" {
		p = os.Getenv("FOYER_CHROMIUM")
	}
	if p == "" {
		p = DefaultPath
	}
	fi, err := os.Stat(p)
	return p, err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// Start starts a headless browser. It returns when the browser answers, or
// when ctx is done (the browser is then stopped). ctx bounds the start
// only: the browser runs until Close.
func Start(ctx context.Context, o Options) (*Browser, error) {
	path, ok := o.path()
	if !ok {
		return nil, fmt.Errorf("start the browser: %w at %s (set FOYER_CHROMIUM, or run scripts/test, which installs Debian's chromium)", ErrNoBrowser, path)
	}
	if o.Width == 0 || o.Height == 0 {
		o.Width, o.Height = 1280, 900
	}
	allocOpts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.WindowSize(o.Width, o.Height),
		chromedp.Flag("lang", "en-US"),
	)
	if os.Geteuid() == 0 { // Chromium refuses to run as root with its sandbox
		allocOpts = append(allocOpts, chromedp.NoSandbox)
	}
	if o.InsecureCerts {
		allocOpts = append(allocOpts, chromedp.IgnoreCertErrors)
	}
	// The browser outlives ctx: its contexts hang off a context of its own,
	// which Close cancels.
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), allocOpts...)
	bctx, cancelBrowser := chromedp.NewContext(allocCtx)
	b := &Browser{opts: o, ctx: bctx, cancel: func() { cancelBrowser(); cancelAlloc() }}

	// The first Run starts the browser and ties it to bctx, so it must run
	// on bctx itself, without a deadline; the wait for it is bounded here.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(bctx) }()
	timer := time.NewTimer(startTimeout)
	defer timer.Stop()
	select {
	case err := <-started:
		if err != nil {
			b.Close()
			return nil, fmt.Errorf("start the browser %s: %w", path, err)
		}
		return b, nil
	case <-ctx.Done():
		b.Close()
		<-started
		return nil, fmt.Errorf("start the browser %s: %w", path, context.Cause(ctx))
	case <-timer.C:
		b.Close()
		<-started
		return nil, fmt.Errorf("start the browser %s: no answer after %s", path, startTimeout)
	}
}

// Close stops the browser and removes its profile directory.
func (b *Browser) Close() {
	b.closeOnce.Do(func() {
		_ = chromedp.Cancel(b.ctx) // closes the browser gracefully, then waits for it
		b.cancel()
	})
}

// Shared is one browser started the first time a test of the package asks
// for a tab, and shared by the package's tests. Its zero value is ready;
// TestMain closes it after the tests:
//
//	var chrome browser.Shared
//
//	func TestMain(m *testing.M) {
//		code := m.Run()
//		chrome.Close()
//		os.Exit(code)
//	}
type Shared struct {
	Options Options // set before the first Tab

	once sync.Once
	b    *Browser
	err  error
}

// Tab opens a tab for t in the shared browser, closed when t ends. When
// there is no browser, t is skipped, or fails if CI=true.
func (s *Shared) Tab(t testing.TB) *Tab {
	t.Helper()
	s.once.Do(func() {
		ctx, cancel := context.WithTimeout(t.Context(), startTimeout)
		defer cancel()
		s.b, s.err = Start(ctx, s.Options)
	})
	if s.err != nil {
		missing(t, s.err)
	}
	return s.b.Tab(t)
}

// Close stops the shared browser, if it was started.
func (s *Shared) Close() {
	if s.b != nil {
		s.b.Close()
	}
}

// missing skips t for a browser that could not start, or fails it on CI,
// where the end-to-end tests must run.
func missing(t testing.TB, err error) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("browser tests cannot run on CI: %v", err)
	}
	t.Skipf("skipping a browser test: %v", err)
}
