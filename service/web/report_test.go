package web_test

import (
	"context"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/service"
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
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
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
			if main, _, _ := strings.Cut(form.Body, "</main>"); strings.Contains(main, "照片") || strings.Contains(main, `type="file"`) {
				t.Errorf("report form speaks of photos, which it cannot take")
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
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
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
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
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
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
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

// caseID is the id of the case with receipt.
func (e *env) caseID(receipt string) int64 {
	e.t.Helper()
	var id int64
	if err := e.db.SQL().QueryRow("SELECT id FROM cases WHERE receipt = ?", receipt).Scan(&id); err != nil {
		e.t.Fatal(err)
	}
	return id
}
