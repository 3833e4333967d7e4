package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/service/httpapi"
	"github.com/menqian/menqian/service/photostore/s3test"
	"github.com/menqian/menqian/service/web"
)

// The phone the pages are tried on: 390×844 CSS px at 3 device pixels per px
// (a common Android or iPhone size); the narrowest phone the pages must fit
// without horizontal scrolling is 360 px wide.
const (
	phoneWidth, phoneHeight = 390, 844
	narrowWidth             = 360
	shotDir                 = "/tmp/menqian-shots" // screenshots, outside the repository
)

// chromium finds a Chromium or Chrome binary. None found skips the test, or
// fails it with MENQIAN_TEST_REQUIRE=1 (as the dbtest helpers do for services).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv(dbtest.EnvRequire) == "1" {
		t.Fatalf("Chromium is required (%s=1) but not found; install it: apt-get install chromium", dbtest.EnvRequire)
	}
	t.Skip("Chromium not found; install it (apt-get install chromium) to test the pages in a browser")
	return ""
}

// tab is one browser tab on the pages of an env, as a phone shows them.
type tab struct {
	t    *testing.T
	ctx  context.Context
	base string // the server's URL
	mu   sync.Mutex
	js   []string // uncaught exceptions of the pages' scripts
}

// chromeProcess is the one Chromium of the test binary, started by the first test
// that needs it and ended by TestMain: each test opens its tabs in a browser
// context of its own (as an incognito window is: its own cookies, storage and
// cache), so tests share the process, never state. Starting a Chromium per
// test cost a second or more each.
var chromeProcess struct {
	sync.Mutex
	ctx  context.Context // the browser's first tab; tabs are made from it
	stop func()
	err  error
}

// sharedBrowser starts the browser once and returns its context.
func sharedBrowser(t *testing.T, exe string) context.Context {
	t.Helper()
	chromeProcess.Lock()
	defer chromeProcess.Unlock()
	if chromeProcess.ctx == nil && chromeProcess.err == nil {
		opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU,
			chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-sync", true))
		actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...) // no UserDataDir: a fresh temporary profile
		ctx, cancelTab := chromedp.NewContext(actx)
		start := time.Now()
		if err := chromedp.Do(ctx); err != nil { // starts the browser, bound to ctx (not to a timeout)
			cancelTab()
			cancelAlloc()
			chromeProcess.err = fmt.Errorf("start %s: %w", exe, err)
		} else {
			t.Logf("Chromium started in %v", time.Since(start).Round(time.Millisecond))
			chromeProcess.ctx, chromeProcess.stop = ctx, func() { cancelTab(); cancelAlloc() } // ends Chromium and removes its profile
		}
	}
	if chromeProcess.err != nil {
		t.Fatal(chromeProcess.err)
	}
	return chromeProcess.ctx
}

// TestMain ends the shared browser and the shared S3 server (s3test) after
// the tests.
func TestMain(m *testing.M) {
	code := s3test.Run(m)
	chromeProcess.Lock()
	if chromeProcess.stop != nil {
		chromeProcess.stop()
	}
	chromeProcess.Unlock()
	os.Exit(code)
}

// chrome opens a tab with the phone's viewport on the env's server (or as
// the options say), in a browser context of its own that ends with the test.
func (e *env) chrome(t *testing.T, options ...func(*tab)) *tab {
	t.Helper()
	exe := chromium(t)
	b := &tab{t: t, base: e.srv.URL}
	for _, o := range options { // before the tab's cleanup, so that it runs after the tab is closed
		o(b)
	}
	ctx, cancelTab := chromedp.NewContext(sharedBrowser(t, exe), chromedp.WithNewBrowserContext())
	t.Cleanup(cancelTab) // closes the tab and disposes of its browser context
	b.ctx = ctx
	start := time.Now()
	if err := chromedp.Do(ctx); err != nil { // opens the tab, bound to ctx (not to a timeout)
		t.Fatalf("open a tab: %v", err)
	}
	t.Logf("tab opened in %v", time.Since(start).Round(time.Millisecond))
	console := chromedp.Console(ctx)
	go func() { // ends with the tab
		for m, err := range console {
			if err != nil {
				return
			}
			if m.IsException() {
				b.mu.Lock()
				b.js = append(b.js, m.String())
				b.mu.Unlock()
			}
		}
	}()
	b.viewport(phoneWidth, phoneHeight)
	return b
}

// through is an option of env.chrome: the tab opens the pages through h, a
// handler in front of the env's (as a bad network is), on a server of its own.
func through(h http.Handler) func(*tab) {
	return func(b *tab) {
		srv := httptest.NewServer(h)
		b.t.Cleanup(srv.Close)
		b.base = srv.URL
	}
}

// pagesWithAPI serves the pages and the JSON API on one server, as serve
// routes them, so that a page's figures can be compared with the API's
// (whose GETs take the session cookie).
func (e *env) pagesWithAPI() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/api/", httpapi.New(httpapi.Options{Service: e.svc, Registry: prometheus.NewRegistry()}))
	mux.Handle("/", web.New(web.Options{Service: e.svc, Registry: prometheus.NewRegistry()}))
	return mux
}

// viewport emulates a phone screen of w×h CSS px.
func (b *tab) viewport(w, h int64) {
	b.t.Helper()
	b.do(chromedp.EmulateViewport(w, h, chromedp.EmulateScale(3), chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait))
}

// do runs chromedp actions with a bound on time.
func (b *tab) do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 15*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("browser: %v; page %s: %s", err, b.where(), b.text())
	}
}

// eval runs a JavaScript expression in the page and decodes its value.
func eval[T any](b *tab, expr string) T {
	b.t.Helper()
	v, err := evalWithin[T](b, 15*time.Second, expr)
	if err != nil {
		b.t.Fatalf("browser: %v evaluating %.80q; page %s: %s", err, expr, b.where(), b.text())
	}
	return v
}

// evalWithin evaluates a JavaScript expression in the page (awaiting a
// promise it returns), giving up after d.
func evalWithin[T any](b *tab, d time.Duration, expr string) (T, error) {
	ctx, cancel := context.WithTimeout(b.ctx, d)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
}

// where is the tab's current path and query, or "?" when it cannot be read.
func (b *tab) where() string {
	s, err := evalWithin[string](b, 2*time.Second, `location.pathname + location.search`)
	if err != nil {
		return "?"
	}
	return s
}

// text is what the page shows, with the script errors so far, for failure messages.
func (b *tab) text() string {
	s, _ := evalWithin[string](b, 2*time.Second, `document.body ? document.body.innerText : ''`)
	b.mu.Lock()
	defer b.mu.Unlock()
	return fmt.Sprintf("%q; script errors: %q", s, b.js)
}

// until waits for a JavaScript expression to be true in the page. It polls,
// and rides over navigations (an evaluation in a page that is going away fails
// and is tried again in the next one).
func (b *tab) until(what, expr string) {
	b.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.readyState === 'complete' && (`+expr+`)`,
			chromedp.WithPollingInterval(25*time.Millisecond), chromedp.WithPollingTimeout(1500*time.Millisecond)))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("waited 10 s for %s (%s, last error %v); page %s: %s", what, expr, err, b.where(), b.text())
		}
	}
}

// open loads a page (a path of the server) and waits for it.
func (b *tab) open(path string) {
	b.t.Helper()
	b.do(chromedp.Navigate(b.base + path))
	b.until("the page "+path+" to load", `!!document.body`)
}

// at waits for the tab to show the page at path (a path without the query).
func (b *tab) at(path string) {
	b.t.Helper()
	b.until("the page "+path, `location.pathname === `+jsString(path))
}

// shows waits for the page to show a text.
func (b *tab) shows(text string) {
	b.t.Helper()
	b.until("the text "+text, `document.body.innerText.includes(`+jsString(text)+`)`)
}

// within returns the visible text of the element of a CSS selector, waiting for it.
func (b *tab) within(sel string) string {
	b.t.Helper()
	b.do(chromedp.WaitVisible(chromedp.CSS(sel)))
	return eval[string](b, `document.querySelector(`+jsString(sel)+`).innerText`)
}

// click clicks the visible button or link whose text is text.
func (b *tab) click(text string) {
	b.t.Helper()
	sel := `//*[self::button or self::a or self::summary][normalize-space()=` + xpathString(text) + `]`
	b.do(chromedp.WaitVisible(chromedp.Search(sel)), chromedp.Click(chromedp.Search(sel)))
}

// loginForm is true in the page when it is the login form.
const loginForm = `location.pathname === '/login' && !!document.getElementById('username')`

// login opens the login page and signs in.
func (b *tab) login(username, pw string) {
	b.t.Helper()
	b.open("/login")
	b.signIn(username, pw)
}

// signIn signs in through the login form the tab shows or is going to (a
// page that sends to it keeps where to come back to) as a person does: it
// types the username and password, taps 登录 and waits to leave the form.
func (b *tab) signIn(username, pw string) {
	b.t.Helper()
	b.until("the login form", loginForm)
	b.do(chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), username), chromedp.SendKeys(chromedp.ID("password"), pw))
	b.click("登录")
	b.until("to leave the login page", `location.pathname !== '/login'`)
}

// logout taps 退出登录 and waits for the login page.
func (b *tab) logout() {
	b.t.Helper()
	b.click("退出登录")
	b.until("the login page after logging out", loginForm)
}

// screenshot saves the whole page as a PNG under shotDir.
func (b *tab) screenshot(name string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 15*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.Action[[]byte](func(ctx context.Context, t *chromedp.Target) ([]byte, error) {
		r, err := cdp.Call(ctx, t, cdppage.CaptureScreenshot, cdppage.CaptureScreenshotParams{
			CaptureBeyondViewport: ptr(true), FromSurface: ptr(true), OptimizeForSpeed: ptr(true)}) // the whole page
		return r.Data, err
	}))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(shotDir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(shotDir, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// noScriptErrors fails the test when a page's script threw.
func (b *tab) noScriptErrors() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.js) > 0 {
		b.t.Errorf("script errors on the pages: %q", b.js)
	}
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	q, _ := json.Marshal(s)
	return string(q)
}

// xpathString quotes s as an XPath string literal.
func xpathString(s string) string {
	if !strings.Contains(s, `"`) {
		return `"` + s + `"`
	}
	return `'` + s + `'`
}
