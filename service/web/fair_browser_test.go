package web_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/service"
)

// Browser tests of issue 15's phone pages: credit repair (the merchant's
// application, the county's decision) and the auditor's random-audit pages.

// apiJSON fetches an API path with the tab's session and evaluates a
// JavaScript expression of its JSON answer, named r.
func apiJSON[T any](b *tab, path, expr string) T {
	b.t.Helper()
	return eval[T](b, `(async () => { const r = await fetch(`+jsString(path)+
		`, {credentials: 'same-origin'}).then(x => x.json()); return `+expr+`; })()`)
}

// shownStar is the star the merchant's home draws: the filled stars of the
// star box, checked against its label.
func shownStar(b *tab) int {
	b.t.Helper()
	b.at("/merchant")
	filled := eval[int](b, `[...document.querySelector('#star .stars').textContent].filter(c => c === '★').length`)
	label := eval[string](b, `document.querySelector('#star .stars').getAttribute('aria-label')`)
	if want := strconv.Itoa(filled) + " 星（满 5 星）"; label != want {
		b.t.Errorf("the star box draws %d stars but is labelled %q", filled, label)
	}
	return filled
}

// TestCreditRepairBrowser: on a phone (390×844) a merchant whose star a
// serious item caps at 2★ opens 信用修复 from the menu, applies with a
// camera photo (shrunk by the page), the ticked 信用承诺 and its name, and
// sees its application pending with the office's deadline; the county admin,
// at a desktop, grants it on /console/repairs with a note; the merchant's
// home then draws the star the API gives, no longer capped (4★: last
// month's final score, 90, holds it), and the repair page says the cap is
// gone. Both states of the repair page pass the 适老化 audit.
func TestCreditRepairBrowser(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, models.SQLite)
	w := e.seed()
	e.eligibleForRepair(w.Officer[0], w.Merchant[0])
	photo := cameraPNG(t)
	shop := "/api/v1/merchants/" + strconv.FormatInt(w.Merchant[0], 10)

	b := e.chrome(t, through(e.pagesWithAPI()))
	b.login(w.ShopName[0], password)
	if got, api := shownStar(b), apiJSON[int](b, shop, "r.score.rated_star"); got != 2 || api != 2 {
		t.Fatalf("before the repair the home shows %d★, the API %d★; want both capped at 2★", got, api)
	}
	b.click("信用修复")
	b.at("/merchant/repair")
	b.shows("信用修复免费，不收取任何费用。")
	if got := b.within("#repair-status"); !strings.Contains(got, "最高 2 星") || !strings.Contains(got, "已整改") {
		t.Errorf("the repair page does not show the cap and the rectified item: %q", got)
	}
	b.audit("merchant-repair")
	b.screenshot("merchant-repair")

	before := e.snapshot()
	b.do(chromedp.SendKeys(chromedp.ID("reason"), "门前占道的桌椅已全部收回店内，已配合复查"),
		chromedp.SetUploadFiles(chromedp.ID("photo"), []string{photo}))
	b.until("the photo shrunk on the phone", `(f => f && f.type === 'image/jpeg')(document.getElementById('photo').files[0]) && !document.querySelector('#repair-form button').disabled`)
	// Without the commitment ticked and signed the browser keeps the form.
	if eval[bool](b, `document.querySelector('#repair-form form').checkValidity()`) {
		t.Errorf("the form may be sent without the 信用承诺 ticked and signed")
	}
	b.do(chromedp.Click(chromedp.CSS(`input[name="pledge"]`)), chromedp.SendKeys(chromedp.ID("pledge_name"), "张三"))
	b.click("提交修复申请（免费）")
	b.until("the application's confirmation", `!!document.getElementById('applied')`)
	apps, _, err := e.svc.RepairApplications(ctx, w.Admin[0], service.RepairFilter{})
	if err != nil || len(apps) != 1 {
		t.Fatalf("applications: %+v %v", apps, err)
	}
	app := apps[0]
	if app.MerchantID != w.Merchant[0] || app.Status != models.RepairPending || app.PledgeName != "张三" ||
		app.Reason != "门前占道的桌椅已全部收回店内，已配合复查" || app.ThroughCycle != "2026-10" || len(strings.Split(app.PhotoIDs, ",")) != 1 {
		t.Fatalf("the stored application: %+v", app)
	}
	if after := e.snapshot(); after["photos"] != before["photos"]+1 {
		t.Errorf("photos %d → %d, want the one shrunk photo stored", before["photos"], after["photos"])
	}
	history := b.within("#repair-history")
	if !strings.Contains(history, "待处理") || !strings.Contains(history, "答复期限 2026年11月28日") {
		t.Errorf("the merchant's application: %q, want pending with its deadline (10 working days)", history)
	}
	if eval[bool](b, `!!document.querySelector('form[action="/merchant/repair"]')`) {
		t.Errorf("the form is offered again while the application is pending")
	}
	b.audit("merchant-repair-pending")
	if got := apiJSON[int](b, shop, "r.score.rated_star"); got != 2 {
		t.Errorf("a pending application moved the star: %d★", got)
	}
	b.logout()

	// The county office, at its desk.
	b.viewport(1366, 768)
	b.login(w.AdminName[0], password)
	b.open("/console/repairs")
	card := "#repair-" + strconv.FormatInt(app.ID, 10)
	if got := b.within(card); !strings.Contains(got, "张记烧烤张店区") || !strings.Contains(got, "签名 张三") || !strings.Contains(got, "2026年11月28日") {
		t.Errorf("the console's card: %q", got)
	}
	b.until("the merchant's photo", `(i => i && i.complete && i.naturalWidth > 0)(document.querySelector(`+jsString(card+" img")+`))`)
	noteID := "note-" + strconv.FormatInt(app.ID, 10)
	b.do(chromedp.SendKeys(chromedp.ID(noteID), "已复查，整改到位，同意修复"))
	b.click("同意修复，解除星级上限")
	b.until("the decision", `!!document.getElementById('decided')`)
	if got := b.within(card); !strings.Contains(got, "同意修复") || !strings.Contains(got, "已复查，整改到位，同意修复") {
		t.Errorf("the decided card: %q", got)
	}
	b.logout()

	// The merchant's star, as the home draws it and as the API gives it.
	b.viewport(phoneWidth, phoneHeight)
	b.login(w.ShopName[0], password)
	got := shownStar(b)
	api := apiJSON[int](b, shop, "r.score.rated_star")
	if capped := apiJSON[bool](b, shop, "r.score.capped"); capped || got != api || api != 4 {
		t.Errorf("after the grant the home shows %d★, the API %d★ (capped %v); want 4★ in both, uncapped", got, api, capped)
	}
	if open := apiJSON[bool](b, shop+"/repair", "r.capped"); open {
		t.Errorf("GET %s/repair still says capped", shop)
	}
	b.open("/merchant/repair")
	if got := b.within("#repair-status"); !strings.Contains(got, "没有受到严重违规的上限限制") {
		t.Errorf("after the grant the repair page says %q", got)
	}
	if got := b.within("#repair-history"); !strings.Contains(got, "同意修复") || !strings.Contains(got, "已复查，整改到位，同意修复") {
		t.Errorf("the merchant does not see the decision: %q", got)
	}
	b.audit("merchant-repair-granted")
	b.noScriptErrors()
}

// TestSpotCheckBrowser: on a phone (390×844) an auditor signs in to its
// worklist (/spotcheck), opens a sampled shop, records what it finds with
// the points of its choice and a note, and is back on the worklist with the
// shop marked 已检查; the visit is stored apart from the score (no ledger
// entry, the same score). Neither page shows the shop's score or star, the
// officer or the officer's deduction this month. Both pages (and the
// visited shop's page) pass the 适老化 audit.
func TestSpotCheckBrowser(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, models.SQLite)
	w := e.seed()
	e.record(w.Officer[0], w.Merchant[0], "HJWS-01", 2) // this month's deduction, which the auditor must not see
	county := w.County[0]
	auditor, err := e.svc.CreateUser(ctx, w.Admin[0], service.UserInput{Username: "auditor370303", Password: password,
		Role: service.RoleAuditor, CountyID: &county, DisplayName: "抽查员甲"})
	if err != nil {
		t.Fatal(err)
	}
	seed := int64(20261115)
	sc, err := e.svc.DrawSpotCheck(ctx, w.Admin[0], service.SpotCheckInput{CountyID: county, Size: 2, Seed: &seed, AuditorID: auditor.ID})
	if err != nil || sc.Shops != 2 {
		t.Fatalf("draw: %d shops, %v", sc.Shops, err)
	}
	m, err := e.svc.Merchant(ctx, w.Admin[0], w.Merchant[0])
	if err != nil {
		t.Fatal(err)
	}
	scores := func() shopStanding {
		t.Helper()
		st, err := e.svc.CurrentScores(ctx, []models.Merchant{m})
		if err != nil {
			t.Fatal(err)
		}
		var entries int64
		if err := e.db.SQL().QueryRow("SELECT COUNT(*) FROM ledger_entries").Scan(&entries); err != nil {
			t.Fatal(err)
		}
		r := st[m.ID]
		return shopStanding{r.Score, r.RatedStar, entries}
	}
	before := scores()
	if before.score != 98 {
		t.Fatalf("the shop's score before the visit: %+v, want 98", before)
	}

	b := e.chrome(t)
	b.login("auditor370303", password)
	b.at("/spotcheck")
	blind := func(page string) {
		t.Helper()
		text := eval[string](b, `document.body.innerText`)
		for _, hidden := range []string{"星", "98 分", "98分", "实时积分", "积分明细", "巡查记录", "王巡查", w.OfficerName[0]} {
			if strings.Contains(text, hidden) {
				t.Errorf("%s shows %q", page, hidden)
			}
		}
		if n := eval[int](b, `document.querySelectorAll('main .stars, main img, main a[href^="/photos/"], main a[href^="/merchant"], main a[href^="/officer"], input[name=item]:checked').length`); n != 0 {
			t.Errorf("%s has %d star boxes, photos, links to the merchant's or officer's pages or items ticked beforehand", page, n)
		}
	}
	shopLink := "/spotcheck/" + strconv.FormatInt(sc.ID, 10) + "/shops/" + strconv.FormatInt(w.Merchant[0], 10)
	work := b.within("#spotcheck-" + strconv.FormatInt(sc.ID, 10))
	if !strings.Contains(work, "张记烧烤张店区") || !strings.Contains(work, "李家面馆张店区") || !strings.Contains(work, "已检查 0 / 2 家") {
		t.Errorf("the worklist: %q", work)
	}
	blind("the worklist")
	b.audit("auditor-home")
	b.screenshot("auditor-home")

	b.do(chromedp.Click(chromedp.CSS(`a[href="` + shopLink + `"]`)))
	b.at(shopLink)
	b.shows("提交抽查记录")
	blind("the visit form")
	b.audit("auditor-visit")
	b.screenshot("auditor-visit")
	b.do(chromedp.Click(chromedp.CSS(`input[name="item"][value="ZXLH-02"]`)),
		chromedp.SetValue(chromedp.CSS(`select[name="points_ZXLH-02"]`), "4"),
		chromedp.Click(chromedp.CSS(`input[name="item"][value="SRZJ-01"]`)),
		chromedp.SendKeys(chromedp.ID("note"), "门前堆放纸箱，墙上有小广告"))
	b.click("提交抽查记录")
	b.at("/spotcheck")
	b.shows("已检查 1 / 2 家")
	done := eval[string](b, `[...document.querySelectorAll('#spotcheck-`+strconv.FormatInt(sc.ID, 10)+` li')].map(li => li.innerText).join('\n')`)
	if !strings.Contains(done, "张记烧烤张店区") || !strings.Contains(done, "已检查") || eval[bool](b, `!!document.querySelector('a[href="`+shopLink+`"]')`) {
		t.Errorf("after the visit the worklist still offers the shop: %q", done)
	}
	blind("the worklist after the visit")
	b.audit("auditor-home-visited")

	// What was stored: the auditor's findings, apart from the score.
	view, err := e.svc.SpotCheck(ctx, w.Admin[0], sc.ID)
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, r := range view.Roads {
		for _, s := range r.Shops {
			if s.MerchantID != w.Merchant[0] {
				continue
			}
			if s.VisitedAt == nil || s.Note != "门前堆放纸箱，墙上有小广告" {
				t.Errorf("the visit: %+v", s.SpotCheckShopLine)
			}
			for _, rec := range s.Records {
				found = append(found, rec.RuleCode+" "+strconv.Itoa(rec.Points))
			}
		}
	}
	if strings.Join(found, ", ") != "SRZJ-01 3, ZXLH-02 4" && strings.Join(found, ", ") != "ZXLH-02 4, SRZJ-01 3" {
		t.Errorf("the auditor's findings: %v, want ZXLH-02 at 4 and SRZJ-01 at its default 3", found)
	}
	if after := scores(); after != before {
		t.Errorf("the visit moved the score or the ledger: %+v → %+v", before, after)
	}

	// The visited shop's page says when, and takes no second visit.
	b.open(shopLink)
	b.shows("已于 2026年11月15日")
	if eval[bool](b, `!!document.querySelector('form[action="`+shopLink+`"]')`) {
		t.Errorf("the visited shop's page offers the form again")
	}
	blind("the visited shop's page")
	b.audit("auditor-visited")
	b.noScriptErrors()
}

// shopStanding is a shop's score and star now, and the ledger's size.
type shopStanding struct {
	score, star int
	entries     int64
}

// TestCertificatePhonePagesBrowser: the public verification page of a
// credit certificate, as a bank's clerk or a landlord scans it on a phone
// (390×844), says 真实有效 with what the certificate said and the star now,
// 证明已撤销 for a revoked one and 无法核实 for a forged token; each of
// its three answers, and the merchant's 信用证明 page listing both
// certificates, pass the 适老化 audit.
func TestCertificatePhonePagesBrowser(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, models.SQLite)
	w := e.seed()
	e.record(w.Officer[0], w.Merchant[0], "HJWS-02", 4)
	valid, err := e.svc.IssueCertificate(ctx, w.Shop[0], w.Merchant[0])
	if err != nil {
		t.Fatal(err)
	}
	revoked, err := e.svc.IssueCertificate(ctx, w.Shop[0], w.Merchant[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.RevokeCertificate(ctx, w.Admin[0], revoked.ID, "商户冒用证明"); err != nil {
		t.Fatal(err)
	}
	forged := []byte(valid.Token) // one character changed (to another of the token's alphabet)
	if forged[len(forged)-1] == '2' {
		forged[len(forged)-1] = '3'
	} else {
		forged[len(forged)-1] = '2'
	}

	b := e.chrome(t)
	for _, c := range []struct {
		name, token, verdict, says string
		starNow                    string // "": the page shows none
	}{
		{"verify-valid", valid.Token, "真实有效", "96 分", "5"}, // 100 − 4: 5★, registered this month
		{"verify-revoked", revoked.Token, "证明已撤销", "不再有效", ""},
		{"verify-forged", string(forged), "无法核实", "请勿采信", ""},
	} {
		b.open("/v/" + c.token)
		if got := b.within("#verdict"); got != c.verdict {
			t.Errorf("%s: the page says %q, want %q", c.name, got, c.verdict)
		}
		if got := b.within("main"); !strings.Contains(got, c.says) {
			t.Errorf("%s: the page does not say %q: %q", c.name, c.says, got)
		}
		if c.starNow != "" && b.within("#star-now") != c.starNow || c.starNow == "" && eval[bool](b, `!!document.getElementById('star-now')`) {
			t.Errorf("%s: the star now is not %q", c.name, c.starNow)
		}
		b.audit(c.name)
		b.screenshot(c.name)
	}

	b.login(w.ShopName[0], password)
	b.open("/merchant/certificates")
	list := b.within("#certificates")
	if !strings.Contains(list, valid.Serial) || !strings.Contains(list, revoked.Serial) || !strings.Contains(list, "已撤销") || !strings.Contains(list, "有效") {
		t.Errorf("the merchant's certificates: %q", list)
	}
	b.audit("merchant-certificates")
	b.noScriptErrors()
}
