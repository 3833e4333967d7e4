package web_test

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
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/service"
)

// Modes of queueGate: how the phone's network treats the form's sending.
const (
	queueNetUp          = iota // everything passes
	queueNetDown               // every send (photos, records): the connection drops, no answer
	queueNet503                // photos pass; records answer 503
	queueNetLoseAnswers        // records are recorded, but their answers are lost
)

// queueGate stands in front of the pages as a phone's bad network does. Only
// the form's sending (POST /inspect/…) is hit; pages and the sign-in always
// pass, so the form can be reloaded while sending is cut.
type queueGate struct {
	h        http.Handler
	mode     atomic.Int32
	answered atomic.Int32 // 503s sent and answers lost
}

func (g *queueGate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	mode := g.mode.Load()
	switch {
	case mode == queueNetUp || r.Method != http.MethodPost || !strings.HasPrefix(r.URL.Path, "/inspect/"):
	case mode == queueNetDown:
		panic(http.ErrAbortHandler) // closes the connection without an answer
	case r.URL.Path != "/inspect/records":
	case mode == queueNet503:
		g.answered.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte(`{"error":{"code":"unavailable","message":"服务暂时不可用"}}`))
		return
	case mode == queueNetLoseAnswers:
		g.h.ServeHTTP(httptest.NewRecorder(), r)
		g.answered.Add(1)
		panic(http.ErrAbortHandler)
	}
	g.h.ServeHTTP(w, r)
}

// idle waits for the inspection form's sender to finish its attempt (its
// busy flag), so that switching the network cannot change an attempt under way.
func (b *tab) idle() {
	b.t.Helper()
	b.until("the sender to be idle", `typeof busy !== 'undefined' && !busy`)
}

// line waits for exactly one list line of the page to have all the parts.
func (b *tab) line(parts ...string) {
	b.t.Helper()
	q, _ := json.Marshal(parts)
	b.until(fmt.Sprintf("one line with %q", parts),
		`[...document.querySelectorAll('li')].filter(l => `+string(q)+`.every(s => l.textContent.includes(s))).length === 1`)
}

// record fills the inspection form (items by rule code → points, "" for the
// default) and submits it. The points are each item's <select>.
func (b *tab) record(token string, items map[string]string, photo, note string) {
	b.t.Helper()
	actions := []chromedp.Action[chromedp.Void]{chromedp.SetValue(chromedp.ID("t"), token)}
	for code, pts := range items {
		actions = append(actions, chromedp.Click(chromedp.CSS(`.item input[type=checkbox][value="`+code+`"]`)))
		if pts != "" {
			actions = append(actions, chromedp.SetValue(chromedp.CSS(`.item:has(input[value="`+code+`"]) select`), pts))
		}
	}
	if photo != "" {
		actions = append(actions, chromedp.SetUploadFiles(chromedp.ID("photo"), []string{photo}))
	}
	if note != "" { // (SetValue cannot set ""; the page clears the note after each record)
		actions = append(actions, chromedp.SetValue(chromedp.ID("note"), note))
	}
	b.do(actions...)
	b.click("提交巡查记录")
}

// TestInspectQueueBrowser drives the officer's inspection form in headless
// Chromium through a bad network. The officer signs in through the /login
// form (the session is an HttpOnly cookie: nothing in localStorage, nothing
// a script can read) and opens /inspect?t=… as a plaque's scan does. Records
// made offline wait in the phone's queue (and survive a reload), each saved
// before anything is sent; they are sent in order once the network is back,
// each exactly once with its own shop, items and photo, the photo uploaded
// once however often the record is retried; a refused record is shown with
// its reason and does not hold up the others; an expired session keeps the
// queue, sends nothing, and everything goes once the officer signs in again
// through the page's 重新登录 link; a camera photo over the server's 5 MB is
// made a 1600 px JPEG before it is queued, while a small photo is sent
// unchanged; on a phone shared by two accounts, a record is sent only by
// the account that made it. SQLite only: it tests the page.
func TestInspectQueueBrowser(t *testing.T) {
	t.Parallel()
	e := newEnv(t, models.SQLite)
	e.clock.Set(time.Now()) // the form stamps inspected_at with the browser's clock
	w := e.seed()
	ctx := context.Background()
	shopA, shopB := w.Merchant[0], w.Other[0]
	tokA, tokB := e.scanToken(shopA), e.scanToken(shopB)
	nameA, nameB := e.scanMerchant(shopA).Name, e.scanMerchant(shopB).Name

	gate := &queueGate{h: e.srv.Config.Handler}
	p := e.chrome(t, through(gate))

	dir := t.TempDir()
	photo, photo2 := filepath.Join(dir, "shop-front.png"), filepath.Join(dir, "drain.png")
	png, png2 := tinyPNG(42), tinyPNG(43)
	if err := os.WriteFile(photo, png, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(photo2, png2, 0o644); err != nil {
		t.Fatal(err)
	}
	count := func(table, where string, args ...any) int {
		t.Helper()
		var n int
		if err := e.db.SQL().QueryRow("SELECT COUNT(*) FROM "+table+" WHERE "+where, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	photos := func() int { return count("photos", "1=1") }
	inspections := func(m int64) int { return count("inspections", "merchant_id = ?", m) }
	latest := func(m int64) service.InspectionView {
		t.Helper()
		ins, _, err := e.svc.Inspections(ctx, w.Admin[0], m, service.Paging{Limit: 100})
		if err != nil || len(ins) == 0 {
			t.Fatalf("inspections of %d: %v (%d)", m, err, len(ins))
		}
		newest := ins[0]
		for _, in := range ins {
			if in.ID > newest.ID {
				newest = in
			}
		}
		return newest
	}
	lastPhoto := func() (id int64, sum, ctype string, size int) {
		t.Helper()
		if err := e.db.SQL().QueryRow("SELECT id, sha256, content_type, size_bytes FROM photos ORDER BY id DESC LIMIT 1").Scan(&id, &sum, &ctype, &size); err != nil {
			t.Fatal(err)
		}
		return
	}
	photos0 := photos()

	// 1. The plaque's scan opens the form; not signed in, the officer signs
	// in through the form and comes back to it, the plaque filled in.
	officer := w.OfficerName[0]
	p.open("/inspect?t=" + tokA)
	p.signIn(officer, password)
	p.until("the form after signing in", `location.pathname === '/inspect' && document.getElementById('t').value === `+jsString(tokA))
	p.shows(nameA) // the shop named from the plaque
	p.until("no login a script can read", `localStorage.length === 0 && !document.cookie.includes('menqian_session')`)

	// Both records are saved on the phone with sending cut.
	gate.mode.Store(queueNetDown)
	before := time.Now()
	p.record(tokA, map[string]string{"HJWS-01": "3"}, photo, "门前烟头未清扫")
	p.shows("待发送 1 条") // the first record queued
	queuedAt := time.Now()
	p.until("the form to be cleared", `!document.querySelector('.item input:checked') && document.getElementById('t').value === '' &&
		document.getElementById('note').value === '' && document.getElementById('photo').files.length === 0 &&
		document.querySelector('.item:has(input[value="HJWS-01"]) select').value === '2' && location.search === '' && !document.getElementById('shop')`)
	// The camera app deletes its file: the queued record has its own copy.
	if err := os.Remove(photo); err != nil {
		t.Fatal(err)
	}
	p.record(tokB, map[string]string{"BONUS-01": ""}, "", "")
	p.shows("待发送 2 条") // both records queued
	p.idle()
	if n := inspections(shopA) + inspections(shopB); n != 0 {
		t.Fatalf("%d inspections stored while offline", n)
	}
	if n := photos(); n != photos0 {
		t.Fatalf("photos while offline: %d, want %d", n, photos0)
	}

	// The photos pass but the server answers 503 to the record: it stays,
	// with its photo uploaded once.
	gate.mode.Store(queueNet503)
	p.click("重新发送")
	queueWaitFor(t, "the photo upload and a 503", func() bool { return gate.answered.Load() >= 1 })
	p.shows("（503）") // the 503 message
	p.idle()
	p.shows("待发送 2 条") // both records still queued
	if n := photos(); n != photos0+1 {
		t.Fatalf("photos after the 503: %d, want %d", n, photos0+1)
	}

	// 2. The network is back: both are sent, once each, in order.
	gate.mode.Store(queueNetUp)
	p.click("重新发送")
	p.shows("待发送 0 条") // an empty queue
	if a, b := inspections(shopA), inspections(shopB); a != 1 || b != 1 {
		t.Fatalf("inspections: shop A %d, shop B %d; want 1 each", a, b)
	}
	if n := photos(); n != photos0+1 {
		t.Fatalf("photos: %d, want %d: a retry uploaded the photo again", n, photos0+1)
	}
	photoID, sum, _, _ := lastPhoto()
	if want := sha256.Sum256(png); sum != hex.EncodeToString(want[:]) { // small (under 1600 px and 1 MB): sent as it is
		t.Fatalf("uploaded photo sha256 %s, want that of the file chosen: a small photo is uploaded unchanged", sum)
	}
	ia := latest(shopA)
	if len(ia.Photos) != 1 || ia.Photos[0] != photoID || ia.Note != "门前烟头未清扫" || ia.Delta != -3 {
		t.Fatalf("shop A inspection: photos %v (want [%d]), note %q, delta %d", ia.Photos, photoID, ia.Note, ia.Delta)
	}
	// The browser and the test read the same clock; the form keeps milliseconds.
	if at := ia.InspectedAt; at.Before(before.Truncate(time.Millisecond)) || at.After(queuedAt) {
		t.Fatalf("inspected_at %v, want the time of submission, between %v and %v", at, before, queuedAt)
	}
	var first int64
	if err := e.db.SQL().QueryRow("SELECT merchant_id FROM inspections ORDER BY id LIMIT 1").Scan(&first); err != nil || first != shopA {
		t.Fatalf("first inspection stored for merchant %d (%v), want shop A %d: the queue is sent in order", first, err, shopA)
	}
	ledger := func(m int64) string {
		t.Helper()
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
	p.line(nameA, "已记录 -3 分", "本月积分 97 分")
	p.line(nameB, "已记录 +2 分", "本月积分 102 分")

	// 3. A record whose answer is lost stays queued across a reload, and the
	// resend is recognised by its key: recorded once.
	gate.mode.Store(queueNetLoseAnswers)
	lost := gate.answered.Load()
	p.record(tokA, map[string]string{"BONUS-03": ""}, "", "")
	queueWaitFor(t, "the inspection to be recorded and its answer lost", func() bool { return gate.answered.Load() > lost })
	p.shows("待发送 1 条") // the record still queued
	if n := inspections(shopA); n != 2 {
		t.Fatalf("shop A inspections after the lost answer: %d, want 2", n)
	}
	gate.mode.Store(queueNetDown)
	p.do(chromedp.Reload())
	p.shows("待发送 1 条") // the record queued after the reload
	p.line("门牌码 "+tokA, "1 项")
	p.idle()
	p.shows("网络不通") // the failed attempt after the reload
	gate.mode.Store(queueNetUp)
	p.click("重新发送")
	p.shows("待发送 0 条") // an empty queue after the reload
	if n := inspections(shopA); n != 2 {
		t.Fatalf("shop A inspections after the resend: %d, want 2", n)
	}
	p.line(nameA, "已记录 +1 分", "本月积分 98 分")

	// 4. A refused record (no such plaque) is shown with its reason and does
	// not hold up the next one; the online event starts the sender.
	gate.mode.Store(queueNetDown)
	p.record("NO-SUCH-PLAQUE", map[string]string{"BONUS-01": ""}, "", "")
	p.shows("待发送 1 条") // the bad record queued
	p.record(tokB, map[string]string{"BONUS-02": ""}, "", "")
	p.shows("待发送 2 条") // two records queued
	p.idle()
	gate.mode.Store(queueNetUp)
	eval[chromedp.Void](p, `dispatchEvent(new Event('online'))`)
	p.shows("待发送 0 条") // an empty queue after the refusal
	p.line("门牌码 NO-SUCH-PLAQUE", "未记录", "不存在", "请重新录入")
	p.line(nameB, "已记录 +2 分", "本月积分 104 分")
	if n := inspections(shopB); n != 2 {
		t.Fatalf("shop B inspections: %d, want 2", n)
	}

	// 5. The session expires with the form open: a deduction with its photo
	// is kept on the phone, nothing is sent, and the page asks to sign in
	// again; signing in through its 重新登录 link sends it, the photo once.
	photos5 := photos()
	if _, err := e.db.SQL().Exec("UPDATE web_sessions SET expires_at = ? WHERE ended_at IS NULL", e.clock.Now().Add(-time.Minute).UTC()); err != nil {
		t.Fatal(err)
	}
	p.record(tokB, map[string]string{"HJWS-02": "3"}, photo2, "门前污水")
	p.shows("登录已失效")   // the request to sign in again
	p.shows("待发送 1 条") // the record kept
	p.until("the 重新登录 link", `document.getElementById('relogin').offsetParent !== null`)
	p.idle()
	if n := inspections(shopB); n != 2 {
		t.Fatalf("shop B inspections with an expired session: %d, want 2", n)
	}
	if n := photos(); n != photos5 {
		t.Fatalf("photos with an expired session: %d, want %d", n, photos5)
	}
	if err := os.Remove(photo2); err != nil {
		t.Fatal(err)
	}
	p.click("重新登录")
	p.signIn(officer, password)
	p.at("/inspect")
	p.shows("待发送 0 条") // an empty queue after signing in
	p.line(nameB, "已记录 -3 分", "本月积分 101 分")
	if n := inspections(shopB); n != 3 {
		t.Fatalf("shop B inspections after signing in: %d, want 3", n)
	}
	if n := photos(); n != photos5+1 {
		t.Fatalf("photos after signing in: %d, want %d: uploaded once", n, photos5+1)
	}
	photoID, sum, _, _ = lastPhoto()
	if want := sha256.Sum256(png2); sum != hex.EncodeToString(want[:]) {
		t.Fatalf("the photo sent after signing in is not the one chosen")
	}
	if ib := latest(shopB); len(ib.Photos) != 1 || ib.Photos[0] != photoID || ib.Note != "门前污水" || ib.Delta != -3 {
		t.Fatalf("shop B inspection after signing in: photos %v (want [%d]), note %q, delta %d", ib.Photos, photoID, ib.Note, ib.Delta)
	}

	// 6. A record the earlier one-record page left in localStorage is sent
	// once, and the login token it kept there is forgotten.
	old, _ := json.Marshal(map[string]any{"key": "old-page-key", "body": map[string]any{"qr_token": tokA,
		"items": []any{map[string]any{"rule_code": "BONUS-02", "points": 2}}, "photos": []any{}, "note": "",
		"inspected_at": time.Now().UTC().Format(time.RFC3339)}})
	p.do(chromedp.Evaluate[chromedp.Void](`localStorage.setItem('menqian_pending', `+jsString(string(old))+`); localStorage.setItem('menqian_token', 'old-token')`),
		chromedp.Reload())
	p.line(nameA, "已记录 +2 分", "本月积分 100 分")
	p.until("the old record taken over and the old login forgotten",
		`localStorage.getItem('menqian_pending') === null && localStorage.getItem('menqian_token') === null`)
	if n := count("inspections", "idempotency_key = ?", "old-page-key"); n != 1 {
		t.Fatalf("inspections of the old page's record: %d, want 1", n)
	}

	// 7. A camera photo over the server's 5 MB is made small on the phone
	// before the record is saved: a JPEG of 1600 px on the long side,
	// uploaded once across a 503, the evidence of a deduction.
	camera := queueCameraJPEG(t, 4000, 3000)
	if len(camera) <= service.MaxPhotoBytes {
		t.Fatalf("the camera photo is %d bytes, want over %d", len(camera), service.MaxPhotoBytes)
	}
	big := filepath.Join(t.TempDir(), "IMG_20261115_100000.jpg")
	if err := os.WriteFile(big, camera, 0o644); err != nil {
		t.Fatal(err)
	}
	photos7 := photos()
	gate.mode.Store(queueNetDown)
	p.record(tokB, map[string]string{"HJWS-01": "3"}, big, "门前堆放杂物")
	p.until("the camera photo's record queued or refused", `document.body.innerText.includes('待发送 1 条') || document.getElementById('out').textContent.includes('5 MB')`)
	if strings.Contains(eval[string](p, `document.body.innerText`), "每张照片不能超过 5 MB") {
		t.Fatalf("the camera photo of %d bytes was refused, not made small; page: %s", len(camera), p.text())
	}
	p.until("the form to be cleared", `document.getElementById('photo').files.length === 0 && document.getElementById('note').value === ''`)
	if err := os.Remove(big); err != nil {
		t.Fatal(err)
	}
	type queuedPhoto struct {
		Name, Type, SHA256 string
		Size               int
	}
	qp := eval[[]queuedPhoto](p, `queued().then(rs => Promise.all(rs.flatMap(r => r.photos).map(async ph =>
		({name: ph.name, type: ph.blob.type, size: ph.blob.size, sha256: Array.from(new Uint8Array(
			await crypto.subtle.digest('SHA-256', await ph.blob.arrayBuffer())), b => b.toString(16).padStart(2, '0')).join('')}))))`)
	if len(qp) != 1 || qp[0].Name != "photo-1.jpg" || qp[0].Type != "image/jpeg" || qp[0].Size >= service.MaxPhotoBytes/4 {
		t.Fatalf("queued photos %+v, want one JPEG photo-1.jpg well under 5 MB", qp)
	}
	if n := photos(); n != photos7 {
		t.Fatalf("photos while offline: %d, want %d", n, photos7)
	}
	p.idle()
	gate.mode.Store(queueNet503)
	answered := gate.answered.Load()
	p.click("重新发送")
	queueWaitFor(t, "the camera photo's upload and a 503", func() bool { return gate.answered.Load() > answered })
	p.idle()
	p.shows("待发送 1 条") // the camera photo's record still queued
	if n := photos(); n != photos7+1 {
		t.Fatalf("photos after the 503: %d, want %d", n, photos7+1)
	}
	gate.mode.Store(queueNetUp)
	p.click("重新发送")
	p.shows("待发送 0 条") // an empty queue after the camera photo
	p.line(nameB, "已记录 -3 分", "本月积分 98 分")
	if n := photos(); n != photos7+1 {
		t.Fatalf("photos after the camera photo's record: %d, want %d: uploaded once", n, photos7+1)
	}
	var ctype string
	var size int
	photoID, sum, ctype, size = lastPhoto()
	if sum != qp[0].SHA256 || ctype != "image/jpeg" || size != qp[0].Size {
		t.Fatalf("stored photo %s %s %d bytes, want the queued one %+v", sum, ctype, size, qp[0])
	}
	f, err := e.svc.Photo(ctx, w.Admin[0], photoID)
	if err != nil {
		t.Fatal(err)
	}
	stored := storedPhoto(t, f)
	cfg, format, err := image.DecodeConfig(bytes.NewReader(stored))
	if got := sha256.Sum256(stored); err != nil || format != "jpeg" || cfg.Width != 1600 || cfg.Height != 1200 ||
		hex.EncodeToString(got[:]) != sum || len(stored) != size {
		t.Fatalf("stored photo: %s %d×%d (%v), %d bytes, sha256 %x; want a JPEG of 1600×1200, %d bytes, sha256 %s",
			format, cfg.Width, cfg.Height, err, len(stored), got, size, sum)
	}
	t.Logf("camera photo %d×%d, %d bytes → stored %d×%d, %d bytes", 4000, 3000, len(camera), cfg.Width, cfg.Height, len(stored))
	if ib := latest(shopB); len(ib.Photos) != 1 || ib.Photos[0] != photoID || ib.Note != "门前堆放杂物" || ib.Delta != -3 {
		t.Fatalf("shop B inspection: photos %v (want [%d]), note %q, delta %d", ib.Photos, photoID, ib.Note, ib.Delta)
	}
	if a, b := inspections(shopA), inspections(shopB); a != 3 || b != 4 {
		t.Fatalf("inspections after the camera photo: shop A %d, shop B %d; want 3 and 4", a, b)
	}

	// 8. A shared phone: the officer's record is recorded but its answer
	// lost, and the officer signs out. The next to sign in (the county
	// admin) sees it waiting as the officer's but never sends it (the server
	// knows a key per account: sent by another account it would count
	// twice), and sends its own records past it. When the officer signs in
	// again, it goes, recognised by its key: counted once.
	gate.mode.Store(queueNetLoseAnswers)
	lost = gate.answered.Load()
	p.record(tokA, map[string]string{"BONUS-01": ""}, "", "")
	queueWaitFor(t, "the officer's record to be recorded and its answer lost", func() bool { return gate.answered.Load() > lost })
	gate.mode.Store(queueNetDown)
	p.idle()
	p.shows("待发送 1 条") // the officer's record still queued
	if n := inspections(shopA); n != 4 {
		t.Fatalf("shop A inspections after the lost answer: %d, want 4", n)
	}
	p.logout()
	p.signIn(w.AdminName[0], password)
	p.at("/console") // the county admin's
	gate.mode.Store(queueNetUp)
	p.open("/inspect")
	p.shows("另有其他账号的 1 条") // the officer's record waiting for the officer
	p.line("门牌码 "+tokA, "王巡查张店区 的记录")
	p.record(tokB, map[string]string{"BONUS-03": ""}, "", "")
	p.line(nameB, "已记录 +1 分", "本月积分 99 分")
	p.idle()
	p.shows("待发送 0 条（另有其他账号的 1 条") // only the officer's record left
	if a, b := inspections(shopA), inspections(shopB); a != 4 || b != 5 {
		t.Fatalf("inspections with the county admin signed in: shop A %d, shop B %d; want 4 (the officer's record not sent again) and 5", a, b)
	}
	p.logout()
	p.signIn(officer, password)
	p.at("/officer")
	p.open("/inspect")
	p.line(nameA, "已记录 +2 分", "本月积分 102 分")
	p.shows("待发送 0 条") // an empty queue
	p.until("no record of another account", `!document.body.innerText.includes('其他账号')`)
	if a, b := inspections(shopA), inspections(shopB); a != 4 || b != 5 {
		t.Fatalf("inspections at the end: shop A %d, shop B %d; want 4 and 5", a, b)
	}

	p.noScriptErrors()
	if bad, _, err := e.svc.Check(ctx); err != nil || len(bad) > 0 {
		t.Fatalf("check: %v, %d mismatches: %+v", err, len(bad), bad)
	}
}

// queueCameraJPEG is a photo as a phone camera makes it, w×h pixels: a
// colour gradient under fine noise, encoded at quality 100, so that its file
// is over 5 MB (as camera photos of 12 megapixels and more often are).
func queueCameraJPEG(t *testing.T, w, h int) []byte {
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

// queueWaitFor polls a condition of the server side for up to 10 s.
func queueWaitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !ok(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited 10 s for %s", what)
		}
	}
}
