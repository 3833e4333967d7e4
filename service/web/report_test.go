package web_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/jpeg"
	"io/fs"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/service"
	"github.com/menqian/menqian/service/photostore"
)

// citizenFrom is an anonymous browser whose connections come from ip (any
// address of 127.0.0.0/8), so the pages see it as another client address.
func (e *env) citizenFrom(ip string) *browser {
	jar, _ := cookiejar.New(nil)
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	tr := &http.Transport{DialContext: d.DialContext}
	e.t.Cleanup(tr.CloseIdleConnections)
	return &browser{e: e, c: &http.Client{Jar: jar, Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// reportRows counts the stored cases and reports.
func (e *env) reportRows() [2]int64 {
	e.t.Helper()
	var out [2]int64
	for i, tbl := range []string{"cases", "case_reports"} {
		if err := e.db.SQL().QueryRow("SELECT COUNT(*) FROM " + tbl).Scan(&out[i]); err != nil {
			e.t.Fatal(err)
		}
	}
	return out
}

// fileReport opens the report form of the plaque token as b and sends it.
func (b *browser) fileReport(token string, form url.Values) page {
	b.e.t.Helper()
	if p := b.get("/q/" + token + "/report"); p.Status != http.StatusOK {
		b.e.t.Fatalf("report form: %d %.300s", p.Status, p.Body)
	}
	return b.post("/q/"+token+"/report", form)
}

var receiptPathRE = regexp.MustCompile(`^/r/([0-9A-Z]+)(\?joined=1)?$`)

// receiptOf is the receipt a report's answer sends to.
func receiptOf(t *testing.T, p page) (receipt string, joined bool) {
	t.Helper()
	m := receiptPathRE.FindStringSubmatch(p.Header.Get("Location"))
	if p.Status != http.StatusSeeOther || m == nil {
		t.Fatalf("report answered %d to %q, want 303 to /r/{receipt}: %.300s", p.Status, p.Header.Get("Location"), p.Body)
	}
	return m[1], m[2] != ""
}

// A citizen follows the plaque's link to the form and reports; the receipt
// page shows the case received at the shop. A second report of the item
// joins the case, and says so. The phone reaches no public or merchant page.
func TestCitizenReportsFromPlaque(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			w := e.seed()
			token := e.scanToken(w.Merchant[0])
			rule := e.svc.Policy().Items[0].Code

			b := e.browser()
			plaque := b.get("/q/" + token)
			href := regexp.MustCompile(`<a [^>]*id="report" href="([^"]+)"`).FindStringSubmatch(plaque.Body)
			if plaque.Status != http.StatusOK || href == nil || !strings.Contains(plaque.Body, "我要举报") {
				t.Fatalf("plaque page has no 我要举报 link: %d %.500s", plaque.Status, plaque.Body)
			}
			if strings.Contains(plaque.Body, token) {
				t.Errorf("the anonymous plaque page (kept per shop) carries its token")
			}
			// The link ("?report", relative) leads to this plaque's report form.
			if p := b.get("/q/" + token + href[1]); p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/q/"+token+"/report" {
				t.Fatalf("%s from the plaque: %d to %q", href[1], p.Status, p.Header.Get("Location"))
			}
			form := b.get("/q/" + token + "/report")
			for _, want := range []string{"张记烧烤", `value="` + rule + `"`, `value="` + models.CaseOther + `"`, "其他", "只有区县城市管理部门能看到"} {
				if !strings.Contains(form.Body, want) {
					t.Errorf("report form lacks %q", want)
				}
			}
			// One optional photo, shrunk on the phone by the pages' script (data-shrink).
			for _, want := range []string{`enctype="multipart/form-data"`, `<input id="photo" name="photo" type="file"`, "data-shrink", "现场照片（选填）", "/static/app.js"} {
				if !strings.Contains(form.Body, want) {
					t.Errorf("report form lacks %q", want)
				}
			}
			if strings.Contains(form.Body, " multiple") {
				t.Errorf("report form takes several photos")
			}
			const phone = "13912345678"
			receipt, joined := receiptOf(t, b.post("/q/"+token+"/report", url.Values{"rule_code": {rule}, "note": {"门前堆放杂物"}, "phone": {phone}}))
			if joined {
				t.Errorf("first report answered as joined")
			}
			r := b.get("/r/" + receipt)
			for _, want := range []string{"受理", "张记烧烤张店区", "柳泉路", receipt} {
				if !strings.Contains(r.Body, want) {
					t.Errorf("receipt page lacks %q: %.800s", want, r.Body)
				}
			}
			if strings.Contains(r.Body, "已合并") {
				t.Errorf("first report's receipt says it joined")
			}

			// A second citizen, the same item: the same case, and the page says so.
			b2 := e.browser()
			again, joined := receiptOf(t, b2.fileReport(token, url.Values{"rule_code": {rule}, "phone": {"13700001111"}}))
			if again != receipt || !joined {
				t.Fatalf("second report: receipt %s joined %v, want %s joined", again, joined, receipt)
			}
			if p := b2.get("/r/" + again + "?joined=1"); !strings.Contains(p.Body, "该问题已有人反映，您的反映已合并") {
				t.Errorf("joined report's receipt page does not say so")
			}
			if got := e.reportRows(); got != [2]int64{1, 2} {
				t.Errorf("cases, reports = %v, want [1 2]", got)
			}

			// A bad form is answered on the form, and stores nothing.
			if p := b.fileReport(token, url.Values{"rule_code": {models.CaseOther}, "phone": {"123"}}); p.Status != http.StatusBadRequest || !strings.Contains(p.Body, "11 位手机号码") {
				t.Errorf("bad report: %d %.300s", p.Status, p.Body)
			}
			if got := e.reportRows(); got != [2]int64{1, 2} {
				t.Errorf("a bad report stored: %v", got)
			}

			// Nowhere public or the merchant's shows the phones.
			shop := e.signedIn(w.ShopName[0])
			pages := map[string]page{"/r/": b.get("/r/" + receipt), "/q/": e.browser().get("/q/" + token), "/q/ signed in": shop.get("/q/" + token),
				"/merchant": shop.get("/merchant"), "/merchant/ledger": shop.get("/merchant/ledger")}
			for name, p := range pages {
				if p.Status != http.StatusOK {
					t.Errorf("%s: %d", name, p.Status)
				}
				for _, ph := range []string{phone, "13700001111", "1391234", "5678"} {
					if strings.Contains(p.Body, ph) {
						t.Errorf("%s shows the reporter's phone (%s)", name, ph)
					}
				}
			}
		})
	}
}

// The report and reopen forms need their double-submit token; without it
// nothing is stored.
func TestCitizenFormsRefuseMissingCSRF(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			w := e.seed()
			token := e.scanToken(w.Merchant[0])
			rule := e.svc.Policy().Items[0].Code
			for name, csrf := range map[string]string{"missing": "", "forged": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"} {
				b := e.browser()
				b.get("/q/" + token + "/report")
				if p := b.post("/q/"+token+"/report", url.Values{"rule_code": {rule}, "csrf": {csrf}}); p.Status != http.StatusForbidden {
					t.Errorf("%s token: %d, want 403", name, p.Status)
				}
			}
			// No cookie at all (another site's form): refused too.
			b := e.browser()
			if p := b.post("/q/"+token+"/report", url.Values{"rule_code": {rule}, "csrf": {"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}}); p.Status != http.StatusForbidden {
				t.Errorf("no cookie: %d, want 403", p.Status)
			}
			if got := e.reportRows(); got != [2]int64{} {
				t.Errorf("refused reports stored: %v", got)
			}
		})
	}
}

// Limits per device, per client address and per shop answer 429 with
// Retry-After and a page saying when, and store nothing.
func TestCitizenReportRateLimits(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			w := e.seed()
			rule := e.svc.Policy().Items[0].Code
			stored := func() int64 { return e.reportRows()[1] }
			refused := func(what string, p page, before int64) {
				t.Helper()
				if p.Status != http.StatusTooManyRequests {
					t.Fatalf("%s: %d, want 429: %.300s", what, p.Status, p.Body)
				}
				if s, err := strconv.Atoi(p.Header.Get("Retry-After")); err != nil || s <= 0 {
					t.Errorf("%s: Retry-After %q", what, p.Header.Get("Retry-After"))
				}
				if !strings.Contains(p.Body, "以后再试") {
					t.Errorf("%s: the page does not say when to try again: %.300s", what, p.Body)
				}
				if got := stored(); got != before {
					t.Errorf("%s: stored %d reports, want %d", what, got, before)
				}
			}
			report := func(b *browser, token string) page {
				t.Helper()
				return b.fileReport(token, url.Values{"rule_code": {rule}})
			}

			// Per device: 5; the sixth is refused even from another address.
			tok := e.scanToken(w.Merchant[0])
			dev := e.citizenFrom("127.0.0.2")
			for i := 0; i < 5; i++ {
				receiptOf(t, report(dev, tok))
			}
			moved := e.citizenFrom("127.0.0.3")
			moved.c.Jar = dev.c.Jar
			refused("device", report(moved, tok), stored())

			// Per client address: 10 over two devices; an eleventh device is refused.
			tok = e.scanToken(w.Other[0])
			for i := 0; i < 10; i++ {
				if i%5 == 0 {
					dev = e.citizenFrom("127.0.0.4")
				}
				receiptOf(t, report(dev, tok))
			}
			refused("client", report(e.citizenFrom("127.0.0.4"), tok), stored())

			// Per shop: 30 a day from three addresses; a fourth is refused.
			tok = e.scanToken(w.Merchant[1])
			for i := 0; i < 30; i++ {
				if i%5 == 0 {
					dev = e.citizenFrom("127.0.1." + strconv.Itoa(i/10+1))
				}
				receiptOf(t, report(dev, tok))
			}
			before := stored()
			refused("shop", report(e.citizenFrom("127.0.2.1"), tok), before)
			// Another shop from that address is still taken.
			receiptOf(t, report(e.citizenFrom("127.0.2.1"), e.scanToken(w.Other[1])))
			if got := stored(); got != before+1 {
				t.Errorf("after the shop's limit, another shop's report: stored %d, want %d", got, before+1)
			}
		})
	}
}

// The reporter may mark a closed case unresolved once: the form shows only
// then, and the page then shows the case reopened. An unknown receipt is 404.
func TestCitizenReopensClosedCase(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			w := e.seed()
			ctx := context.Background()
			token := e.scanToken(w.Merchant[0])
			b := e.browser()
			receipt, _ := receiptOf(t, b.fileReport(token, url.Values{"rule_code": {models.CaseOther}, "note": {"占道经营"}}))
			id := e.caseID(receipt)

			if p := b.get("/r/" + receipt); strings.Contains(p.Body, "问题没有解决") || strings.Contains(p.Body, "/reopen") {
				t.Errorf("an open case offers reopening")
			}
			if p := b.post("/r/"+receipt+"/reopen", nil); p.Status != http.StatusConflict {
				t.Errorf("reopen of an open case: %d, want 409", p.Status)
			}
			admin, officer := w.Admin[0], w.Officer[0]
			steps := []func() (models.Case, error){
				func() (models.Case, error) { return e.svc.AcceptCase(ctx, admin, id) },
				func() (models.Case, error) { return e.svc.DispatchCase(ctx, admin, id, officer.UserID) },
				func() (models.Case, error) {
					return e.svc.HandleCase(ctx, officer, id, service.CaseHandling{Outcome: models.OutcomeNothing, Note: "现场未发现"})
				},
				func() (models.Case, error) { return e.svc.VerifyCase(ctx, admin, id) },
				func() (models.Case, error) { return e.svc.CloseCase(ctx, admin, id) },
			}
			for i, step := range steps {
				if _, err := step(); err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
			}
			p := b.get("/r/" + receipt)
			for _, want := range []string{"立案", "派遣", "处置", "核查", "结案", "已结案", "问题没有解决"} {
				if !strings.Contains(p.Body, want) {
					t.Errorf("closed case's page lacks %q", want)
				}
			}
			for _, secret := range []string{"现场未发现", "王巡查", "占道经营"} {
				if strings.Contains(p.Body, secret) {
					t.Errorf("receipt page shows %q", secret)
				}
			}
			// Without the form's token: refused, still closed.
			if p := e.browser().post("/r/"+receipt+"/reopen", url.Values{"csrf": {"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}}); p.Status != http.StatusForbidden {
				t.Errorf("reopen without the cookie: %d, want 403", p.Status)
			}
			if v, _ := e.svc.PublicCase(ctx, receipt); v.Status != models.CaseClosed {
				t.Fatalf("refused reopen changed the case to %s", v.Status)
			}
			p = b.post("/r/"+receipt+"/reopen", nil)
			if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Header.Get("Location"), "/r/"+receipt) {
				t.Fatalf("reopen: %d to %q %.300s", p.Status, p.Header.Get("Location"), p.Body)
			}
			p = b.get(p.Header.Get("Location"))
			if !strings.Contains(p.Body, "回访") || !strings.Contains(p.Body, "已立案") || strings.Contains(p.Body, "/reopen") {
				t.Errorf("reopened case's page: %.800s", p.Body)
			}
			// Once only.
			if p := b.post("/r/"+receipt+"/reopen", nil); p.Status != http.StatusConflict {
				t.Errorf("second reopen: %d, want 409", p.Status)
			}

			for _, r := range []string{"ZZZZZZZZZZ", "nope", "2345678923"} {
				if p := e.browser().get("/r/" + r); p.Status != http.StatusNotFound {
					t.Errorf("/r/%s: %d, want 404", r, p.Status)
				}
			}
		})
	}
}

// pngWithText is a PNG with a tEXt chunk (key, value) after its header, as
// a phone or an editor may write.
func pngWithText(p []byte, key, value string) []byte {
	data := []byte(key + "\x00" + value)
	chunk := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	chunk = append(chunk, "tEXt"...)
	chunk = append(chunk, data...)
	chunk = binary.BigEndian.AppendUint32(chunk, crc32.ChecksumIEEE(append([]byte("tEXt"), data...)))
	const afterIHDR = 8 + 25
	return append(append(append([]byte(nil), p[:afterIHDR]...), chunk...), p[afterIHDR:]...)
}

// tinyJPEG is a valid 8×8 JPEG without metadata.
func tinyJPEG(t *testing.T) []byte {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, image.NewGray(image.Rect(0, 0, 8, 8)), nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// jpegWithMetadata is j with what a phone's camera writes after its start:
// an Exif segment (the place and the phone) and a comment.
func jpegWithMetadata(j []byte) []byte {
	seg := func(marker byte, body string) []byte {
		return append([]byte{0xFF, marker, byte((len(body) + 2) >> 8), byte(len(body) + 2)}, body...)
	}
	out := append([]byte(nil), j[:2]...)
	out = append(out, seg(0xE1, "Exif\x00\x00GPSLatitude 36.81 GPSLongitude 118.05 Model iPhone 15")...)
	out = append(out, seg(0xFE, "拍摄者 13912345678")...)
	return append(out, j[2:]...)
}

// caseID is the id of the case with receipt.
func (e *env) caseID(receipt string) int64 {
	e.t.Helper()
	var id int64
	if err := e.db.SQL().QueryRow("SELECT id FROM cases WHERE receipt = ?", receipt).Scan(&id); err != nil {
		e.t.Fatal(err)
	}
	return id
}

// photoDirEnv is newEnv with the photos kept in a directory the test can
// look into.
func photoDirEnv(t *testing.T, d models.Dialect) (*env, string) {
	dir := t.TempDir()
	return newEnv(t, d, func(o *service.Options) { o.Photos = photostore.NewLocal(dir) }), dir
}

// photoState counts what a photo upload stores: the rows of photos, cases
// and case reports, and the files under the photo directory.
func (e *env) photoState(dir string) [4]int64 {
	e.t.Helper()
	var out [4]int64
	rows := e.reportRows()
	out[1], out[2] = rows[0], rows[1]
	if err := e.db.SQL().QueryRow("SELECT COUNT(*) FROM photos").Scan(&out[0]); err != nil {
		e.t.Fatal(err)
	}
	err := filepath.WalkDir(dir, func(_ string, de fs.DirEntry, err error) error {
		if err == nil && !de.IsDir() {
			out[3]++
		}
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

// A report's photo passes the officer's checks: too big (413), not an image
// or not readable as one (400) is answered on the form with what is wrong
// and stores nothing, no case, no photo row, no file; nor does a good photo
// with a bad form.
func TestCitizenReportPhotoChecks(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e, dir := photoDirEnv(t, d)
			w := e.seed()
			token := e.scanToken(w.Merchant[0])
			rule := e.svc.Policy().Items[0].Code
			huge := append(tinyPNG(1), make([]byte, service.MaxPhotoBytes)...) // a PNG, 5 MiB + 100 bytes
			cases := []struct {
				name   string
				phone  string
				photo  []byte
				status int
				says   string
			}{
				{"too big", "", huge, http.StatusRequestEntityTooLarge, "照片不能超过 5 MB"},
				{"not an image", "", []byte("%PDF-1.4 this is not a photo"), http.StatusBadRequest, "仅支持 JPEG 或 PNG 图片"},
				{"a broken PNG", "", append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 64)...), http.StatusBadRequest, "图片不完整或已损坏"},
				{"a good photo, a bad phone", "123", tinyPNG(2), http.StatusBadRequest, "11 位手机号码"},
			}
			for _, c := range cases {
				b := e.browser()
				b.get("/q/" + token + "/report")
				p := b.postMultipart("/q/"+token+"/report", map[string]string{"rule_code": rule, "note": "门前堆放杂物", "phone": c.phone},
					map[string][]byte{"photo": c.photo})
				if p.Status != c.status || !strings.Contains(p.Body, c.says) {
					t.Errorf("%s: %d, want %d saying %q: %.600s", c.name, p.Status, c.status, c.says, p.Body)
				}
				// The form comes back with what was typed, and asks for the photo again.
				if !strings.Contains(p.Body, `name="rule_code" value="`+rule+`" required checked`) || !strings.Contains(p.Body, "门前堆放杂物") {
					t.Errorf("%s: the form is not shown again with the report", c.name)
				}
				if got := e.photoState(dir); got != [4]int64{} {
					t.Errorf("%s stored photos, cases, reports, files = %v, want none", c.name, got)
				}
			}
		})
	}
}

// A citizen's photo reaches the county office's case page and the
// officer's, labelled as the citizen's; it is served only to the county's
// office roles, never on the receipt, the plaque or the merchant's pages, until
// the officer's handling makes it evidence of an inspection: then the
// merchant sees it in the ledger labelled 市民举报照片, and nothing of the
// reporter. It is never evidence an officer names by id.
func TestCitizenReportPhoto(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e, dir := photoDirEnv(t, d)
			w := e.seed()
			token := e.scanToken(w.Merchant[0])
			const phone, note = "13912345678", "门口纸箱堆到了盲道上"
			// The phone's file names its author; what is kept and served is the picture alone.
			photo := tinyPNG(42)
			sent := pngWithText(photo, "Author", "举报人 13912345678")

			citizen := e.browser()
			citizen.get("/q/" + token + "/report")
			receipt, _ := receiptOf(t, citizen.postMultipart("/q/"+token+"/report",
				map[string]string{"rule_code": "ZXLH-02", "note": note, "phone": phone}, map[string][]byte{"photo": sent}))
			c, err := e.db.CaseByReceipt(ctx, receipt)
			if err != nil || c.PhotoID == nil {
				t.Fatalf("case %s: photo %v, %v", receipt, c.PhotoID, err)
			}
			id := *c.PhotoID
			ph, err := e.db.PhotoByID(ctx, id)
			if err != nil || ph.Origin != models.PhotoFromCitizen || ph.UploadedBy != nil || ph.CountyID != w.County[0] {
				t.Fatalf("photo row %+v %v, want a citizen's of county %d, no uploader", ph, err, w.County[0])
			}
			if got := e.photoState(dir); got != [4]int64{1, 1, 1, 1} {
				t.Errorf("photos, cases, reports, files = %v, want one each", got)
			}
			src := "/photos/" + strconv.FormatInt(id, 10)

			// A second report joins with its own photo, a JPEG with the phone's
			// Exif and a comment, kept without them; the case's photo stays the first.
			later := e.citizenFrom("127.0.0.9")
			later.get("/q/" + token + "/report")
			plain := tinyJPEG(t)
			if again, joined := receiptOf(t, later.postMultipart("/q/"+token+"/report", map[string]string{"rule_code": "ZXLH-02"},
				map[string][]byte{"photo": jpegWithMetadata(plain)})); again != receipt || !joined {
				t.Fatalf("second report: %s joined %v", again, joined)
			}
			if got, _ := e.db.CaseByReceipt(ctx, receipt); got.PhotoID == nil || *got.PhotoID != id {
				t.Errorf("after a second photo the case's photo is %v, want %d", got.PhotoID, id)
			}
			reports, err := e.db.CaseReports(ctx, c.ID)
			if err != nil || len(reports) != 2 || reports[1].PhotoID == nil {
				t.Fatalf("reports %+v %v", reports, err)
			}
			for name, want := range map[int64][]byte{id: photo, *reports[1].PhotoID: plain} {
				f, err := e.svc.Photo(ctx, w.Admin[0], name)
				if err != nil {
					t.Fatal(err)
				}
				if kept := storedPhoto(t, f); !bytes.Equal(kept, want) {
					t.Errorf("photo %d kept as %d bytes, want the %d of the picture without its metadata", name, len(kept), len(want))
				}
			}

			// Who may open it.
			shop := e.signedIn(w.ShopName[0])
			admin, officer := e.signedIn(w.AdminName[0]), e.signedIn(w.OfficerName[0])
			opens := func(who string, b *browser, want bool) {
				t.Helper()
				p := b.get(src)
				if got := p.Status == http.StatusOK && p.Body == string(photo); got != want {
					t.Errorf("%s opens the citizen's photo: %v (%d), want %v", who, got, p.Status, want)
				}
			}
			opens("the county admin", admin, true)
			opens("the county's officer", officer, true)
			city := e.browser()
			if p := city.login("admin", adminPassword); p.Status != http.StatusSeeOther {
				t.Fatalf("city admin login: %d", p.Status)
			}
			opens("the city admin", city, true)
			opens("another county's admin", e.signedIn(w.AdminName[1]), false)
			opens("another county's officer", e.signedIn(w.OfficerName[1]), false)
			opens("the merchant", shop, false)
			opens("the reporter's browser", citizen, false)
			opens("anyone", e.browser(), false)

			// The case pages show it, labelled; the public and the merchant's pages do not.
			labelled := func(name string, p page) {
				t.Helper()
				fig := regexp.MustCompile(`<figure class="citizen-photo"[^>]*><a href="` + src + `"[^>]*><img src="` + src + `" alt="市民举报照片"></a><figcaption>市民举报照片</figcaption>`)
				if p.Status != http.StatusOK || !fig.MatchString(p.Body) {
					t.Errorf("%s: %d, does not show the photo labelled 市民举报照片: %.1500s", name, p.Status, p.Body)
				}
			}
			casePath := "/console/cases/" + strconv.FormatInt(c.ID, 10)
			labelled("console case page", admin.get(casePath))
			if _, err := e.svc.AcceptCase(ctx, w.Admin[0], c.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := e.svc.DispatchCase(ctx, w.Admin[0], c.ID, w.Officer[0].UserID); err != nil {
				t.Fatal(err)
			}
			officerPath := "/officer/cases/" + strconv.FormatInt(c.ID, 10)
			labelled("officer case page", officer.get(officerPath))
			hidden := func(when string) {
				t.Helper()
				pages := map[string]page{"/r/": citizen.get("/r/" + receipt), "/q/": e.browser().get("/q/" + token),
					"/q/ as the merchant": shop.get("/q/" + token), "/merchant": shop.get("/merchant"), "/merchant/ledger": shop.get("/merchant/ledger")}
				for name, p := range pages {
					if p.Status != http.StatusOK {
						t.Errorf("%s %s: %d", when, name, p.Status)
					}
					if strings.Contains(p.Body, src) || strings.Contains(p.Body, "市民举报") {
						t.Errorf("%s %s shows the citizen's photo", when, name)
					}
				}
				if main, _, _ := strings.Cut(pages["/r/"].Body, "</main>"); strings.Contains(main, "/photos/") || strings.Contains(main, "照片") {
					t.Errorf("%s the receipt page shows a photo", when)
				}
			}
			hidden("dispatched:")

			// The officer may not name it as evidence of an inspection itself.
			pts := 3
			_, _, err = e.svc.RecordInspection(ctx, w.Officer[0], "citizen-photo-by-id", service.InspectionInput{MerchantID: w.Merchant[0],
				Items: []service.InspectionItem{{RuleCode: "ZXLH-02", Points: &pts}}, Photos: []int64{id}})
			if service.ErrorCode(err) != service.CodeInvalid {
				t.Errorf("an inspection naming the citizen's photo: %v, want invalid", err)
			}
			hidden("after a refused inspection:")

			// The officer inspects, then handles the case with that inspection
			// and the citizen's photo as its evidence (the page's form).
			e.clock.Set(e.clock.Now().Add(time.Hour))
			entry := e.record(w.Officer[0], w.Merchant[0], "ZXLH-02", 3)
			le, err := e.db.LedgerEntryByID(ctx, entry)
			if err != nil || le.InspectionID == nil {
				t.Fatalf("entry %d: %+v %v", entry, le, err)
			}
			insp := strconv.FormatInt(*le.InspectionID, 10)
			// Not with another outcome: refused on the form, nothing stored.
			before := e.caseState()
			if p := officer.post(officerPath+"/handle", url.Values{"outcome": {"nothing"}, "note": {"没看到"}, "attach_photo": {"1"}}); p.Status != http.StatusBadRequest ||
				!strings.Contains(p.Body, "举报照片只能作为检查记录的证据") {
				t.Errorf("attach with nothing found: %d %.300s", p.Status, p.Body)
			}
			if got := e.caseState(); got != before {
				t.Errorf("a refused handling stored: %s, was %s", got, before)
			}
			officer.get(officerPath)
			if p := officer.post(officerPath+"/handle", url.Values{"outcome": {"inspection"}, "inspection_id": {insp}, "attach_photo": {"1"}}); p.Status != http.StatusSeeOther {
				t.Fatalf("handle with the photo: %d %.500s", p.Status, p.Body)
			}
			in, err := e.db.InspectionByID(ctx, *le.InspectionID)
			if err != nil || !strings.HasSuffix(in.PhotoIDs, ","+strconv.FormatInt(id, 10)) {
				t.Fatalf("inspection's photos %q %v, want its own then %d", in.PhotoIDs, err, id)
			}
			if p := admin.get(casePath); !strings.Contains(p.Body, "已作为检查记录的证据") {
				t.Errorf("the console case page does not say the photo became evidence")
			}

			// The merchant sees it with the deduction, labelled, and may open it;
			// nothing of the reporter.
			for _, path := range []string{"/merchant/ledger", "/merchant"} {
				p := shop.get(path)
				ev := regexp.MustCompile(`<figure class="citizen-photo"><a href="` + src + `" class="zoomable"><img src="` + src + `" alt="市民举报照片" loading="lazy"></a><figcaption>市民举报照片</figcaption></figure>`)
				if !ev.MatchString(p.Body) {
					t.Errorf("%s: the evidence photo is not labelled as the citizen's: %.2000s", path, p.Body)
				}
				for _, secret := range []string{phone, note, receipt, "13912"} {
					if strings.Contains(p.Body, secret) {
						t.Errorf("%s shows %q of the report", path, secret)
					}
				}
			}
			opens("the merchant, once evidence", shop, true)
			opens("another merchant", e.signedIn(w.ShopName[1]), false)
			opens("anyone, once evidence", e.browser(), false)
			for name, p := range map[string]page{"/r/": citizen.get("/r/" + receipt), "/q/": e.browser().get("/q/" + token)} {
				if strings.Contains(p.Body, src) {
					t.Errorf("once evidence, %s shows the citizen's photo", name)
				}
			}
		})
	}
}
