package httpapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/jpeg"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/service"
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
	t.Skip("Chromium not found; install it (apt-get install chromium) to test the inspect page in a browser")
	return ""
}

// Modes of apiGate: how the phone's network treats the API.
const (
	netUp          = iota // everything passes
	netDown               // every /api/v1/ request: the connection drops, no answer
	net503                // photos pass; inspections answer 503
	netLoseAnswers        // inspections are recorded, but their answers are lost
)

// apiGate stands in front of the server as a phone's bad network does. Pages
// (/inspect) always pass, so the page can be reloaded while the API is cut.
type apiGate struct {
	h        http.Handler
	mode     atomic.Int32
	answered atomic.Int32 // 503s sent and answers lost
}

func (g *apiGate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	mode := g.mode.Load()
	switch {
	case mode == netUp || !strings.HasPrefix(r.URL.Path, "/api/v1/"):
	case mode == netDown:
		panic(http.ErrAbortHandler) // closes the connection without an answer
	case r.URL.Path != "/api/v1/inspections":
	case mode == net503:
		g.answered.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte(`{"error":{"code":"unavailable","message":"服务暂时不可用"}}`))
		return
	case mode == netLoseAnswers:
		g.h.ServeHTTP(httptest.NewRecorder(), r)
		g.answered.Add(1)
		panic(http.ErrAbortHandler)
	}
	g.h.ServeHTTP(w, r)
}

// page drives one browser tab.
type page struct {
	t   *testing.T
	ctx context.Context
	mu  sync.Mutex
	js  []string // uncaught exceptions of the page's script
}

// do runs chromedp actions with a bound on time.
func (p *page) do(actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.t.Fatalf("browser: %v; page: %s", err, p.text())
	}
}

// eval runs a JavaScript expression for its effect.
func (p *page) eval(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](expr)
}

// text is what the page shows, for failure messages.
func (p *page) text() string {
	ctx, cancel := context.WithTimeout(p.ctx, 2*time.Second)
	defer cancel()
	s, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ''`))
	p.mu.Lock()
	defer p.mu.Unlock()
	return fmt.Sprintf("%q; script errors: %q", s, p.js)
}

// until waits for a JavaScript expression to be true in the page.
func (p *page) until(what, expr string) {
	p.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(p.ctx, 2*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("waited 10 s for %s (%s, last error %v); page: %s", what, expr, err, p.text())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// idle waits for the page's sender to finish its attempt (the page's busy
// flag), so that switching the network cannot change an attempt under way.
func (p *page) idle() {
	p.t.Helper()
	p.until("the sender to be idle", `!busy`)
}

// shows waits for the page to show a text.
func (p *page) shows(what, text string) {
	p.t.Helper()
	q, _ := json.Marshal(text)
	p.until(what, `document.body.innerText.includes(`+string(q)+`)`)
}

// lines returns the text of every list line of the page.
func (p *page) lines() []string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	out, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('li')].map(l => l.textContent)`))
	if err != nil {
		p.t.Fatalf("browser: %v; page: %s", err, p.text())
	}
	return out
}

// line waits for exactly one list line to have all the parts.
func (p *page) line(parts ...string) {
	p.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var found []string
		for _, l := range p.lines() {
			all := true
			for _, s := range parts {
				all = all && strings.Contains(l, s)
			}
			if all {
				found = append(found, l)
			}
		}
		if len(found) == 1 {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("waited 10 s for one line with %q, found %q; page: %s", parts, found, p.text())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// record fills the form (items by rule code → points, "" for the default) and submits it.
func (p *page) record(token string, items map[string]string, photo, note string) {
	p.t.Helper()
	actions := []chromedp.Action[chromedp.Void]{chromedp.SetValue(chromedp.ID("t"), token)}
	for code, pts := range items {
		box := `.item input[value="` + code + `"]`
		actions = append(actions, chromedp.Click(chromedp.CSS(box)))
		if pts != "" {
			actions = append(actions, chromedp.SetValue(chromedp.CSS(box+` ~ input[type=number]`), pts))
		}
	}
	if photo != "" {
		actions = append(actions, chromedp.SetUploadFiles(chromedp.ID("photo"), []string{photo}))
	}
	if note != "" { // (SetValue cannot set ""; the page clears the note after each record)
		actions = append(actions, chromedp.SetValue(chromedp.ID("note"), note))
	}
	actions = append(actions, p.click("提交巡查记录"))
	p.do(actions...)
}

// click clicks the button with a text.
func (p *page) click(text string) chromedp.Action[chromedp.Void] {
	return chromedp.Click(chromedp.Search(`//button[normalize-space()="` + text + `"]`))
}

// login logs in through the page's login box.
func (p *page) login(username, password string) {
	p.t.Helper()
	p.do(chromedp.SetValue(chromedp.ID("u"), username), chromedp.SetValue(chromedp.ID("p"), password), p.click("登录"))
}

// TestInspectPageBrowserQueue drives the officer's page in headless Chromium
// through a bad network: records made offline wait in the phone's queue (and
// survive a reload), are sent in order once the network is back, each exactly
// once with its own shop, items and photo; a refused record is dropped with
// its error and does not hold up the others; an expired login keeps the
// queue until the officer logs in again; a camera photo over the server's
// 5 MB is made a 1600 px JPEG before it is queued, while a small photo is sent
// unchanged. SQLite only: it tests the page.
func TestInspectPageBrowserQueue(t *testing.T) {
	exe := chromium(t)
	e := newEnv(t, models.SQLite)
	e.clock.Set(time.Now()) // the page stamps inspected_at with the browser's clock
	e.admin = e.loginToken("admin")
	w := e.seeded()
	shopA, shopB := w.Merchant[0], e.newMerchant(w.Admin[0], w.Road[0], "李记面馆")
	tokA, tokB := e.token(shopA), e.token(shopB)

	gate := &apiGate{h: e.srv.Config.Handler}
	srv := httptest.NewServer(gate)
	t.Cleanup(srv.Close)

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...) // a fresh temporary profile
	defer cancelAlloc()                                                           // ends Chromium and removes its profile
	ctx, cancelTab := chromedp.NewContext(actx)
	defer cancelTab()
	p := &page{t: t, ctx: ctx}
	start := time.Now()
	if err := chromedp.Do(ctx); err != nil { // starts the browser, bound to ctx (not to a timeout)
		t.Fatalf("start %s: %v", exe, err)
	}
	t.Logf("Chromium started in %v", time.Since(start).Round(time.Millisecond))
	console := chromedp.Console(ctx)
	go func() { // ends with the tab
		for m, err := range console {
			if err != nil {
				return
			}
			if m.IsException() {
				p.mu.Lock()
				p.js = append(p.js, m.String())
				p.mu.Unlock()
			}
		}
	}()

	photo := filepath.Join(t.TempDir(), "shop-front.png")
	png := tinyPNG(42)
	if err := os.WriteFile(photo, png, 0o644); err != nil {
		t.Fatal(err)
	}
	photos0 := e.count("photos", "1=1")
	inspections := func(m int64) int { return e.count("inspections", "merchant_id = ?", m) }

	// 1. Log in through the page, then record two shops with the API cut.
	officer, password := "officer"+seedCounties[0][0], "password-"+seedCounties[0][0]
	p.do(chromedp.Navigate(srv.URL + "/inspect?t=" + tokA))
	p.login(officer, password)
	p.until("the login box to go", `localStorage.getItem('menqian_token') && document.getElementById('loginBox').offsetParent === null`)
	p.until("the plaque token from the URL", `document.getElementById('t').value === `+jsString(tokA))

	gate.mode.Store(netDown)
	before := time.Now()
	p.record(tokA, map[string]string{"HJWS-01": "3"}, photo, "门前烟头未清扫")
	p.shows("the first record queued", "待发送 1 条")
	queuedAt := time.Now()
	p.until("the form to be cleared", `!document.querySelector('.item input:checked') && document.getElementById('t').value === '' &&
		document.getElementById('note').value === '' && document.getElementById('photo').files.length === 0 &&
		document.querySelector('.item input[value="HJWS-01"] ~ input[type=number]').value === '2' && location.search === ''`)
	// The camera app deletes its file: the queued record has its own copy.
	if err := os.Remove(photo); err != nil {
		t.Fatal(err)
	}
	p.record(tokB, map[string]string{"BONUS-01": ""}, "", "")
	p.shows("both records queued", "待发送 2 条")
	p.idle()
	if n := inspections(shopA) + inspections(shopB); n != 0 {
		t.Fatalf("%d inspections stored while offline", n)
	}

	// The photos pass but the server answers 503 to the inspection: the record
	// stays, with its photo uploaded once.
	gate.mode.Store(net503)
	p.do(p.click("重新发送"))
	waitFor(t, "the photo upload and a 503", func() bool { return gate.answered.Load() >= 1 })
	p.shows("the 503 message", "（503）")
	p.idle()
	p.shows("both records still queued", "待发送 2 条")
	if n := e.count("photos", "1=1"); n != photos0+1 {
		t.Fatalf("photos after the 503: %d, want %d", n, photos0+1)
	}

	// 2. The network is back: both are sent, once each, in order.
	gate.mode.Store(netUp)
	p.do(p.click("重新发送"))
	p.shows("an empty queue", "待发送 0 条")
	if a, b := inspections(shopA), inspections(shopB); a != 1 || b != 1 {
		t.Fatalf("inspections: shop A %d, shop B %d; want 1 each", a, b)
	}
	if n := e.count("photos", "1=1"); n != photos0+1 {
		t.Fatalf("photos: %d, want %d: a retry uploaded the photo again", n, photos0+1)
	}
	var photoID int64
	var sum string
	if err := e.db.SQL().QueryRow("SELECT id, sha256 FROM photos ORDER BY id DESC LIMIT 1").Scan(&photoID, &sum); err != nil {
		t.Fatal(err)
	}
	if want := sha256.Sum256(png); sum != hex.EncodeToString(want[:]) { // small (under 1600 px and 1 MB): sent as it is
		t.Fatalf("uploaded photo sha256 %s, want that of the file chosen: a small photo is uploaded unchanged", sum)
	}
	ia := e.must(200, "GET", "/api/v1/merchants/"+itoa(shopA)+"/inspections", w.Admin[0], nil).JSON["items"].([]any)[0].(map[string]any)
	if ph := ia["photos"].([]any); len(ph) != 1 || int64(ph[0].(float64)) != photoID {
		t.Fatalf("shop A inspection photos %v, want [%d]", ph, photoID)
	}
	if ia["note"] != "门前烟头未清扫" || num(ia["delta"]) != -3 {
		t.Fatalf("shop A inspection: %v", ia)
	}
	// The browser and the test read the same clock; the page keeps milliseconds.
	at, err := time.Parse(time.RFC3339, ia["inspected_at"].(string))
	if err != nil || at.Before(before.Truncate(time.Millisecond)) || at.After(queuedAt) {
		t.Fatalf("inspected_at %v (%v), want the time of submission, between %v and %v", ia["inspected_at"], err, before, queuedAt)
	}
	var first int64
	if err := e.db.SQL().QueryRow("SELECT merchant_id FROM inspections ORDER BY id LIMIT 1").Scan(&first); err != nil || first != shopA {
		t.Fatalf("first inspection stored for merchant %d (%v), want shop A %d: the queue is sent in order", first, err, shopA)
	}
	ledger := func(m int64) string {
		var code string
		var pts int
		if err := e.db.SQL().QueryRow("SELECT rule_code, points FROM ledger_entries WHERE merchant_id = ? ORDER BY id DESC LIMIT 1", m).Scan(&code, &pts); err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("%s %+d", code, pts)
	}
	if a, b := ledger(shopA), ledger(shopB); a != "HJWS-01 -3" || b != "BONUS-01 +2" {
		t.Fatalf("ledger: shop A %q, shop B %q", a, b)
	}
	p.line(tokA, "已记录 -3 分", "本月积分 97")
	p.line(tokB, "已记录 +2 分", "本月积分 102")

	// 3. A record whose answer is lost stays queued across a reload, and the
	// resend is recognised by its key: recorded once.
	gate.mode.Store(netLoseAnswers)
	lost := gate.answered.Load()
	p.record(tokA, map[string]string{"BONUS-03": ""}, "", "")
	waitFor(t, "the inspection to be recorded and its answer lost", func() bool { return gate.answered.Load() > lost })
	p.shows("the record still queued", "待发送 1 条")
	gate.mode.Store(netDown)
	p.do(chromedp.Reload())
	p.shows("the record queued after the reload", "待发送 1 条")
	p.line(tokA, "1 项")
	p.idle()
	p.shows("the failed attempt after the reload", "网络不通")
	gate.mode.Store(netUp)
	p.do(p.click("重新发送"))
	p.shows("an empty queue after the reload", "待发送 0 条")
	if n := inspections(shopA); n != 2 {
		t.Fatalf("shop A inspections after the resend: %d, want 2", n)
	}
	p.line(tokA, "已记录 +1 分", "本月积分 98")

	// 4. A refused record (no such plaque) is dropped with its error and does
	// not hold up the next one; the online event starts the sender.
	gate.mode.Store(netDown)
	p.record("NO-SUCH-PLAQUE", map[string]string{"BONUS-01": ""}, "", "")
	p.shows("the bad record queued", "待发送 1 条")
	p.record(tokB, map[string]string{"BONUS-02": ""}, "", "")
	p.shows("two records queued", "待发送 2 条")
	p.idle()
	gate.mode.Store(netUp)
	p.do(p.eval(`dispatchEvent(new Event('online'))`))
	p.shows("an empty queue after the refusal", "待发送 0 条")
	p.line("NO-SUCH-PLAQUE", "未记录", "对象不存在或不可见", "请重新录入")
	p.line(tokB, "已记录 +2 分", "本月积分 104")
	if n := inspections(shopB); n != 2 {
		t.Fatalf("shop B inspections: %d, want 2", n)
	}

	// 5. An expired login keeps the record and asks to log in; logging in sends it.
	p.do(p.eval(`localStorage.setItem('menqian_token', 'expired')`), chromedp.Reload())
	p.record(tokB, map[string]string{"BONUS-03": ""}, "", "")
	p.shows("the request to log in again", "登录已失效")
	p.shows("the record kept", "待发送 1 条")
	p.until("the login box", `document.getElementById('loginBox').offsetParent !== null`)
	if n := inspections(shopB); n != 2 {
		t.Fatalf("shop B inspections with an expired login: %d, want 2", n)
	}
	p.login(officer, password)
	p.shows("an empty queue after logging in", "待发送 0 条")
	p.line(tokB, "已记录 +1 分", "本月积分 105")
	if n := inspections(shopB); n != 3 {
		t.Fatalf("shop B inspections after logging in: %d, want 3", n)
	}

	// 6. A record the earlier one-record page left in localStorage is sent once.
	old, _ := json.Marshal(map[string]any{"key": "old-page-key", "body": map[string]any{"qr_token": tokA,
		"items": []any{map[string]any{"rule_code": "BONUS-02", "points": 2}}, "photos": []any{}, "note": "",
		"inspected_at": time.Now().UTC().Format(time.RFC3339)}})
	p.do(p.eval(`localStorage.setItem('menqian_pending', `+jsString(string(old))+`)`), chromedp.Reload())
	p.line(tokA, "已记录 +2 分", "本月积分 100")
	p.until("the old record to be taken over", `localStorage.getItem('menqian_pending') === null`)
	if n := e.count("inspections", "idempotency_key = ?", "old-page-key"); n != 1 {
		t.Fatalf("inspections of the old page's record: %d, want 1", n)
	}

	// 7. A camera photo over the server's 5 MB is made small on the phone before
	// the record is saved: a JPEG of 1600 px on the long side, uploaded once
	// across a 503, the evidence of a deduction.
	camera := cameraJPEG(t, 4000, 3000)
	if len(camera) <= service.MaxPhotoBytes {
		t.Fatalf("the camera photo is %d bytes, want over %d", len(camera), service.MaxPhotoBytes)
	}
	big := filepath.Join(t.TempDir(), "IMG_20261115_100000.jpg")
	if err := os.WriteFile(big, camera, 0o644); err != nil {
		t.Fatal(err)
	}
	photos7 := e.count("photos", "1=1")
	gate.mode.Store(netDown)
	p.record(tokB, map[string]string{"HJWS-01": "3"}, big, "门前堆放杂物")
	p.until("the camera photo's record queued or refused", `document.body.innerText.includes('待发送 1 条') || document.getElementById('out').textContent.includes('5 MB')`)
	if out := p.text(); strings.Contains(out, "每张照片不能超过 5 MB") {
		t.Fatalf("the camera photo of %d bytes was refused, not made small; page: %s", len(camera), out)
	}
	p.until("the form to be cleared", `document.getElementById('photo').files.length === 0 && document.getElementById('note').value === ''`)
	if err := os.Remove(big); err != nil {
		t.Fatal(err)
	}
	type queuedPhoto struct {
		Name, Type, SHA256 string
		Size               int
	}
	qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	qp, err := chromedp.Run(qctx, chromedp.Evaluate[[]queuedPhoto](`queued().then(rs => Promise.all(rs.flatMap(r => r.photos).map(async ph =>
		({name: ph.name, type: ph.blob.type, size: ph.blob.size, sha256: Array.from(new Uint8Array(
			await crypto.subtle.digest('SHA-256', await ph.blob.arrayBuffer())), b => b.toString(16).padStart(2, '0')).join('')}))))`,
		chromedp.EvalAwaitPromise))
	cancel()
	if err != nil {
		t.Fatalf("reading the queue: %v; page: %s", err, p.text())
	}
	if len(qp) != 1 || qp[0].Name != "photo-1.jpg" || qp[0].Type != "image/jpeg" || qp[0].Size >= service.MaxPhotoBytes/4 {
		t.Fatalf("queued photos %+v, want one JPEG photo-1.jpg well under 5 MB", qp)
	}
	if n := e.count("photos", "1=1"); n != photos7 {
		t.Fatalf("photos while offline: %d, want %d", n, photos7)
	}
	p.idle()
	gate.mode.Store(net503)
	answered := gate.answered.Load()
	p.do(p.click("重新发送"))
	waitFor(t, "the camera photo's upload and a 503", func() bool { return gate.answered.Load() > answered })
	p.idle()
	p.shows("the camera photo's record still queued", "待发送 1 条")
	if n := e.count("photos", "1=1"); n != photos7+1 {
		t.Fatalf("photos after the 503: %d, want %d", n, photos7+1)
	}
	gate.mode.Store(netUp)
	p.do(p.click("重新发送"))
	p.shows("an empty queue after the camera photo", "待发送 0 条")
	p.line(tokB, "已记录 -3 分", "本月积分 102")
	if n := e.count("photos", "1=1"); n != photos7+1 {
		t.Fatalf("photos after the camera photo's record: %d, want %d: uploaded once", n, photos7+1)
	}
	var ctype string
	var size int
	if err := e.db.SQL().QueryRow("SELECT id, sha256, content_type, size_bytes FROM photos ORDER BY id DESC LIMIT 1").Scan(&photoID, &sum, &ctype, &size); err != nil {
		t.Fatal(err)
	}
	if sum != qp[0].SHA256 || ctype != "image/jpeg" || size != qp[0].Size {
		t.Fatalf("stored photo %s %s %d bytes, want the queued one %+v", sum, ctype, size, qp[0])
	}
	stored := e.must(200, "GET", "/api/v1/photos/"+itoa(photoID), w.Admin[0], nil).Body // the file on disk
	cfg, format, err := image.DecodeConfig(bytes.NewReader(stored))
	if got := sha256.Sum256(stored); err != nil || format != "jpeg" || cfg.Width != 1600 || cfg.Height != 1200 ||
		hex.EncodeToString(got[:]) != sum || len(stored) != size {
		t.Fatalf("stored photo: %s %d×%d (%v), %d bytes, sha256 %x; want a JPEG of 1600×1200, %d bytes, sha256 %s",
			format, cfg.Width, cfg.Height, err, len(stored), got, size, sum)
	}
	t.Logf("camera photo %d×%d, %d bytes → stored %d×%d, %d bytes", 4000, 3000, len(camera), cfg.Width, cfg.Height, len(stored))
	ib := e.must(200, "GET", "/api/v1/merchants/"+itoa(shopB)+"/inspections", w.Admin[0], nil).JSON["items"].([]any)[0].(map[string]any)
	if ph := ib["photos"].([]any); len(ph) != 1 || int64(ph[0].(float64)) != photoID || ib["note"] != "门前堆放杂物" || num(ib["delta"]) != -3 {
		t.Fatalf("shop B inspection %v, want −3 with photo %d", ib, photoID)
	}
	if n := inspections(shopB); n != 4 {
		t.Fatalf("shop B inspections after the camera photo: %d, want 4", n)
	}

	p.mu.Lock()
	if len(p.js) > 0 {
		t.Errorf("script errors on the page: %q", p.js)
	}
	p.mu.Unlock()
	e.checkClean()
}

// cameraJPEG is a photo as a phone camera makes it, w×h pixels: a colour
// gradient under fine noise, encoded at quality 100, so that its file is over
// 5 MB (as camera photos of 12 megapixels and more often are).
func cameraJPEG(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	r := rand.New(rand.NewPCG(7, 7))
	for y := range h {
		for x := range w {
			i, n := img.PixOffset(x, y), r.Uint32()
			img.Pix[i] = uint8(32 + 160*x/w + int(n&31))
			img.Pix[i+1] = uint8(32 + 160*y/h + int(n>>8&31))
			img.Pix[i+2] = uint8(96 + int(n>>16&31))
			img.Pix[i+3] = 255
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 100}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// waitFor polls a condition of the server side for up to 10 s.
func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !ok(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited 10 s for %s", what)
		}
	}
}
