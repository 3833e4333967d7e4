package web_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/service"
)

// cameraPNG is a photo as a phone's camera might hand it over: 1800×1350
// px of noise, a PNG larger than the 5 MiB the server takes.
func cameraPNG(t *testing.T) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 1800, 1350))
	rnd := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < len(img.Pix); i += 4 {
		v := rnd.Uint32()
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = uint8(v), uint8(v>>8), uint8(v>>16), 255
	}
	img.Set(0, 0, color.RGBA{255, 0, 0, 255})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	if buf.Len() <= service.MaxPhotoBytes {
		t.Fatalf("the camera's photo is %d bytes, want more than the server takes", buf.Len())
	}
	path := filepath.Join(t.TempDir(), "IMG_0001.png")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestCitizenReportBrowser: on a phone (390×844), a citizen opens a shop's
// plaque page, taps 我要举报, reports a problem with a photo from the camera
// (larger than the server takes: the page shrinks it first), and follows the
// receipt page, which never shows the photo, as the county accepts and
// dispatches the case. The officer sees the photo on the case page labelled
// 市民举报照片, records a deduction and hands the case in with the photo as
// its evidence; the county closes it; the citizen then marks it unresolved
// and sees it reopen. The report, receipt and officer's case pages pass the
// 适老化 audit.
func TestCitizenReportBrowser(t *testing.T) {
	t.Parallel()
	e := newEnv(t, models.SQLite)
	w := e.seed()
	ctx := context.Background()
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(e.svc.UpdateRoad(ctx, w.Admin[0], w.Road[0], service.RoadInput{OfficerIDs: &[]int64{w.Officer[0].UserID}}))
	token := e.scanToken(w.Merchant[0])
	photo := cameraPNG(t)

	b := e.chrome(t)
	b.open("/q/" + token)
	b.click("我要举报")
	b.at("/q/" + token + "/report")
	b.audit("report form")
	b.do(chromedp.Click(chromedp.CSS(`input[name="rule_code"][value="HJWS-01"]`)),
		chromedp.SendKeys(chromedp.ID("note"), "门口堆了很多纸箱，挡住了盲道"),
		chromedp.SendKeys(chromedp.ID("phone"), "13853312399"),
		chromedp.SetUploadFiles(chromedp.ID("photo"), []string{photo}))
	// The pages' script swaps the chosen file for its small JPEG copy.
	b.until("the photo shrunk on the phone", `(f => f && f.type === 'image/jpeg' && f.name === 'photo-1.jpg')(document.getElementById('photo').files[0])`)
	b.click("提交")
	b.until("the receipt page", `location.pathname.startsWith('/r/')`)
	receipt := strings.TrimPrefix(b.where(), "/r/")
	c, err := e.db.CaseByReceipt(ctx, receipt)
	if err != nil {
		t.Fatalf("receipt %q: %v", receipt, err)
	}
	if c.RuleCode != "HJWS-01" || c.MerchantID == nil || *c.MerchantID != w.Merchant[0] || c.Status != models.CaseReceived || c.PhotoID == nil {
		t.Fatalf("stored case: %+v", c)
	}
	// What the server kept is the phone's JPEG of at most 1600 px.
	ph, err := e.svc.Photo(ctx, w.Admin[0], *c.PhotoID)
	if err != nil {
		t.Fatal(err)
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(storedPhoto(t, ph)))
	if err != nil || format != "jpeg" || ph.ContentType != "image/jpeg" || ph.Origin != models.PhotoFromCitizen || max(cfg.Width, cfg.Height) != 1600 {
		t.Errorf("stored photo: %s %s %d×%d origin %s (%v), want the shrunk JPEG, 1600 px long, a citizen's", format, ph.ContentType, cfg.Width, cfg.Height, ph.Origin, err)
	}
	noPhoto := func(when string) {
		t.Helper()
		if n := eval[int](b, `document.querySelectorAll('main img, main figure, main a[href^="/photos/"]').length`); n != 0 || strings.Contains(b.text(), "照片") {
			t.Errorf("%s: the receipt page shows the photo (%d elements)", when, n)
		}
	}
	b.shows("已受理")
	b.shows("张记烧烤张店区")
	noPhoto("received")
	b.audit("receipt")
	if strings.Contains(b.text(), "13853312399") {
		t.Errorf("the receipt page shows the reporter's phone")
	}

	// The county accepts and dispatches it (to the road's officer).
	must(e.svc.AcceptCase(ctx, w.Admin[0], c.ID))
	must(e.svc.DispatchCase(ctx, w.Admin[0], c.ID, 0))
	b.open("/r/" + receipt)
	b.shows("已派遣")
	b.shows("办理期限")
	noPhoto("dispatched")
	if strings.Contains(b.text(), "王巡查") {
		t.Errorf("the receipt page names the officer")
	}

	// The officer goes there an hour later and deducts for it, then hands
	// the case in on its page, the citizen's photo as the evidence.
	e.clock.Set(e.clock.Now().Add(time.Hour))
	entry := e.record(w.Officer[0], w.Merchant[0], "HJWS-01", 2)
	le, err := e.db.LedgerEntryByID(ctx, entry)
	if err != nil || le.InspectionID == nil {
		t.Fatalf("ledger entry %d: %+v %v", entry, le, err)
	}
	b.login(w.OfficerName[0], password)
	b.open("/officer/cases/" + strconv.FormatInt(c.ID, 10))
	if got := b.within("#citizen-photo figcaption"); got != "市民举报照片" {
		t.Errorf("the officer's case page labels the photo %q, want 市民举报照片", got)
	}
	b.until("the citizen's photo on the officer's page", `(i => i.complete && i.naturalWidth === 1600)(document.querySelector('#citizen-photo img'))`)
	b.audit("officer case")
	b.do(chromedp.Click(chromedp.ID("o-insp")), chromedp.Click(chromedp.ID("attach_photo")))
	b.click("提交处置结果")
	b.shows("已处置，等待区县核查。")
	b.shows("已作为检查记录的证据。")
	b.logout()
	must(e.svc.VerifyCase(ctx, w.Admin[0], c.ID))
	must(e.svc.CloseCase(ctx, w.Admin[0], c.ID))
	if in, err := e.db.InspectionByID(ctx, *le.InspectionID); err != nil || !strings.HasSuffix(in.PhotoIDs, ","+strconv.FormatInt(*c.PhotoID, 10)) {
		t.Errorf("the inspection's evidence %q (%v) lacks the citizen's photo %d", in.PhotoIDs, err, *c.PhotoID)
	}
	b.open("/r/" + receipt)
	b.shows("已结案")
	b.shows("按期")
	noPhoto("closed")

	// Not solved: the citizen reopens it, once.
	b.click("问题没有解决")
	b.shows("已收到，本件将重新办理。")
	b.shows("已立案")
	if got, err := e.db.CaseByReceipt(ctx, receipt); err != nil || got.Status != models.CaseAccepted || !got.Reopened {
		t.Fatalf("after reopening: %+v %v", got, err)
	}
	if strings.Contains(b.text(), "问题没有解决？") {
		t.Errorf("the reopen form is still offered after the one reopen")
	}
	b.noScriptErrors()
}
