package web_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/service/policy"
)

// The browser tests drive the pages in headless Chromium as a phone shows
// them, on SQLite only: they test the pages; the HTTP tests cover both
// dialects.

// TestMerchantPagesBrowser: a merchant logs in through the form, sees on its
// home the score the service computes, the deduction with its rule, officer
// and photo, and appeals it; the appeal is listed as pending with its reason
// and stored once.
func TestMerchantPagesBrowser(t *testing.T) {
	t.Parallel()
	e := newEnv(t, models.SQLite)
	w := e.seed()
	entry := e.record(w.Officer[0], w.Merchant[0], "HJWS-02", 3)
	ctx := context.Background()
	outlook, res, err := e.svc.MerchantOutlook(ctx, w.Shop[0], w.Merchant[0])
	if err != nil {
		t.Fatal(err)
	}
	entries, month, err := e.svc.Ledger(ctx, w.Shop[0], w.Merchant[0], "")
	if err != nil {
		t.Fatal(err)
	}
	if res.Score != 97 || month.Score != 97 || outlook.LiveScore != 97 || len(entries) != 1 {
		t.Fatalf("service: outlook score %d, standing %d, ledger %d with %d entries; want 97 with one entry",
			outlook.LiveScore, res.Score, month.Score, len(entries))
	}
	photos := entries[0].Photos
	if len(photos) != 1 {
		t.Fatalf("the deduction has photos %v, want one", photos)
	}

	b := e.chrome(t)
	b.login(w.ShopName[0], password)
	b.at("/merchant")

	// The score, star and tallies are the service's.
	if got := b.within("#score"); got != strconv.Itoa(res.Score) {
		t.Errorf("home shows score %q, the service says %d", got, res.Score)
	}
	if got := eval[int](b, `[...document.querySelector('#star .stars').textContent].filter(c => c === '★').length`); got != res.RatedStar {
		t.Errorf("home shows %d stars, the service says %d", got, res.RatedStar)
	}
	if got := b.within("#star .ded"); got != strconv.Itoa(res.Deductions) {
		t.Errorf("home shows deductions %q, the service says %d", got, res.Deductions)
	}
	if outlook.NextStar != 0 && contains(outlook.Holding, "live") {
		if got := b.within("#points-needed"); got != strconv.Itoa(outlook.PointsToNext) {
			t.Errorf("home says %q points to the next star, the service says %d", got, outlook.PointsToNext)
		}
	}

	// The entry: its points, rule, officer and a photo that loaded.
	line := fmt.Sprintf("#entry-%d", entry)
	got := b.within(line)
	for _, want := range []string{"−3 分", "垃圾外溢、乱倒污水", "王巡查张店区"} {
		if !strings.Contains(got, want) {
			t.Errorf("the entry shows %q, want it to have %q", got, want)
		}
	}
	img := fmt.Sprintf(`%s img[src="/photos/%d"]`, line, photos[0])
	b.do(chromedp.ScrollIntoView(chromedp.CSS(img)))
	b.until("the photo to load", `(i => i.complete && i.naturalWidth > 0)(document.querySelector(`+jsString(img)+`))`)

	// The appeal, through its link on the entry.
	b.do(chromedp.Click(chromedp.CSS(line + ` a[href$="/appeal"]`)))
	b.at(fmt.Sprintf("/merchant/ledger/%d/appeal", entry))
	const reason = "当天门前垃圾桶是环卫车未及时清运，并非本店外溢"
	b.do(chromedp.WaitVisible(chromedp.ID("reason")), chromedp.SendKeys(chromedp.ID("reason"), reason))
	b.click("提交申诉")
	b.at("/merchant/appeals")
	var appealID int64
	if err := e.db.SQL().QueryRow("SELECT id FROM appeals WHERE entry_id = ?", entry).Scan(&appealID); err != nil {
		t.Fatalf("the appeal of entry %d: %v", entry, err)
	}
	got = b.within(fmt.Sprintf("#appeal-%d", appealID))
	for _, want := range []string{"审核中", "理由：" + reason, "垃圾外溢、乱倒污水", "−3 分"} {
		if !strings.Contains(got, want) {
			t.Errorf("the appeal shows %q, want it to have %q", got, want)
		}
	}
	var all, pending int
	if err := e.db.SQL().QueryRow("SELECT COUNT(*), COALESCE(SUM(CASE WHEN status = 'pending' AND reason = ? THEN 1 ELSE 0 END), 0) FROM appeals WHERE entry_id = ?",
		reason, entry).Scan(&all, &pending); err != nil {
		t.Fatal(err)
	}
	if all != 1 || pending != 1 {
		t.Errorf("appeals of entry %d: %d, pending with the reason %d; want exactly one pending", entry, all, pending)
	}
	b.noScriptErrors()
}

// TestOfficerPagesBrowser: an officer logs in to its worklist, goes down to a
// shop through its road, records a deduction with a photo on the inspection
// form and sees the new score the service stored; the worklist counts one
// shop fewer. Then it issues a rectification notice from the shop file and
// confirms it.
func TestOfficerPagesBrowser(t *testing.T) {
	t.Parallel()
	e := newEnv(t, models.SQLite)
	e.clock.Set(time.Now()) // the inspection form stamps inspected_at with the browser's clock
	w := e.seed()
	shop, road := w.Merchant[0], w.Road[0]
	b := e.chrome(t)
	b.login(w.OfficerName[0], password)
	b.at("/officer")

	roadLine := `#roads a[href="/officer/roads/` + strconv.FormatInt(road, 10) + `"]`
	if got := b.within(roadLine); !strings.Contains(got, "柳泉路") || !strings.Contains(got, "未巡查 2") {
		t.Errorf("the worklist's road shows %q, want 柳泉路 with 未巡查 2", got)
	}
	if got := b.within("#roads h2"); !strings.Contains(got, "2 家") {
		t.Errorf("the worklist heading %q, want 2 家 not yet inspected", got)
	}

	b.do(chromedp.Click(chromedp.CSS(roadLine)))
	b.at(fmt.Sprintf("/officer/roads/%d", road))
	shopLine := fmt.Sprintf(`a[href="/officer/shops/%d"]`, shop)
	if got := b.within(shopLine); !strings.Contains(got, "张记烧烤张店区") || !strings.Contains(got, "未巡查") {
		t.Errorf("the road's line of the shop shows %q, want 张记烧烤张店区, 未巡查", got)
	}
	b.do(chromedp.Click(chromedp.CSS(shopLine)))
	b.at(fmt.Sprintf("/officer/shops/%d", shop))

	// The inspection form, opened from the shop file, for this shop.
	b.click("巡查记录（扣分或加分）")
	b.at("/inspect")
	if got := b.within("#shop"); !strings.Contains(got, "张记烧烤张店区") {
		t.Errorf("the inspection form is for %q, want 张记烧烤张店区", got)
	}
	item := `.item:has(input[value="HJWS-01"])`
	if got := b.within(item + " label"); !strings.Contains(got, "门前垃圾、烟头、纸屑未及时清扫") {
		t.Errorf("item HJWS-01 reads %q", got)
	}
	photo := filepath.Join(t.TempDir(), "shop-front.png")
	if err := os.WriteFile(photo, tinyPNG(7), 0o644); err != nil {
		t.Fatal(err)
	}
	b.do(chromedp.Click(chromedp.CSS(item+` input[type=checkbox]`)), chromedp.SetValue(chromedp.CSS(item+" select"), "3"),
		chromedp.SetUploadFiles(chromedp.ID("photo"), []string{photo}))
	if !eval[bool](b, `document.querySelector('`+item+` input').checked && document.querySelector('`+item+` select').value === '3'`) {
		t.Fatalf("HJWS-01 is not checked at 3 points; page: %s", b.text())
	}
	b.click("提交巡查记录")
	b.until("the record's answer", `document.getElementById('out').textContent.includes('本月积分')`)
	out := b.within("#out")
	if !strings.Contains(out, "已记录 -3 分") || !strings.Contains(out, "本月积分 97 分") {
		t.Errorf("the form answered %q, want 已记录 -3 分 and 本月积分 97 分", out)
	}
	ctx := context.Background()
	entries, res, err := e.svc.Ledger(ctx, w.Officer[0], shop, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].RuleCode != "HJWS-01" || entries[0].Points != -3 || len(entries[0].Photos) != 1 || res.Score != 97 {
		t.Errorf("ledger after the form: %+v, score %d; want one HJWS-01 entry of -3 with a photo, score 97", entries, res.Score)
	}
	if !strings.Contains(out, fmt.Sprintf("星级 %d 星", res.RatedStar)) {
		t.Errorf("the form answered %q, the service's star is %d", out, res.RatedStar)
	}

	// The worklist counts the shop as inspected.
	b.click("今日任务")
	b.at("/officer")
	if got := b.within(roadLine); !strings.Contains(got, "未巡查 1") {
		t.Errorf("after the inspection the worklist's road shows %q, want 未巡查 1", got)
	}
	if got := b.within("#roads h2"); !strings.Contains(got, "1 家") {
		t.Errorf("after the inspection the worklist heading %q, want 1 家", got)
	}

	// A rectification notice from the shop file, then its confirmation.
	b.open(fmt.Sprintf("/officer/shops/%d", shop))
	if got := b.within("#score"); got != strconv.Itoa(res.Score) {
		t.Errorf("the shop file shows score %q, the service says %d", got, res.Score)
	}
	if n := eval[int](b, `document.querySelectorAll('#entries a[href$="/appeal"]').length`); n != 0 {
		t.Errorf("the shop file offers the officer %d appeal links: only the merchant appeals", n)
	}
	b.click("下发整改通知（不扣分）")
	b.at(fmt.Sprintf("/officer/shops/%d/notice", shop))
	b.do(chromedp.WaitVisible(chromedp.ID("rule_code")), chromedp.SetValue(chromedp.ID("rule_code"), "SRZJ-02"),
		chromedp.SendKeys(chromedp.ID("note"), "门前晾晒衣物，今日收起"))
	b.click("下发整改通知")
	b.at(fmt.Sprintf("/officer/shops/%d", shop))
	b.shows("整改通知已下发。")
	var notice int64
	var status string
	if err := e.db.SQL().QueryRow("SELECT id, status FROM notices WHERE merchant_id = ? AND rule_code = 'SRZJ-02'", shop).Scan(&notice, &status); err != nil {
		t.Fatalf("the notice: %v", err)
	}
	card := fmt.Sprintf("#notice-%d", notice)
	if got := b.within(card); !strings.Contains(got, "乱拉乱挂、晾晒衣物") || !strings.Contains(got, "门前晾晒衣物，今日收起") || status != models.NoticeOpen {
		t.Errorf("the shop file lists the notice as %q (stored %s), want its rule and note, open", got, status)
	}
	b.do(chromedp.Click(chromedp.CSS(card + ` button[type=submit]`)))
	b.shows("已确认整改。")
	b.until("the notice to leave the list", `!document.querySelector(`+jsString(card)+`)`)
	if err := e.db.SQL().QueryRow("SELECT status FROM notices WHERE id = ?", notice).Scan(&status); err != nil || status != models.NoticeRectified {
		t.Errorf("notice %d is %q (%v) after the confirmation, want %s", notice, status, err, models.NoticeRectified)
	}
	b.noScriptErrors()
}

// TestLogoutBrowser: 退出登录 ends the session: the browser is on the login
// page, and the pages of either role send it back there.
func TestLogoutBrowser(t *testing.T) {
	t.Parallel()
	e := newEnv(t, models.SQLite)
	w := e.seed()
	b := e.chrome(t)
	for _, c := range []struct{ user, home string }{{w.ShopName[0], "/merchant"}, {w.OfficerName[0], "/officer"}} {
		b.login(c.user, password)
		b.at(c.home)
		b.logout()
		for _, path := range []string{"/merchant", "/officer"} {
			b.open(path)
			b.at("/login")
			b.do(chromedp.WaitVisible(chromedp.ID("username")))
		}
		var open int
		if err := e.db.SQL().QueryRow(`SELECT COUNT(*) FROM web_sessions s JOIN users u ON u.id = s.user_id
			WHERE u.username = ? AND s.ended_at IS NULL`, c.user).Scan(&open); err != nil {
			t.Fatal(err)
		}
		if open != 0 {
			t.Errorf("%s: %d sessions still open after logging out", c.user, open)
		}
	}
	b.noScriptErrors()
}

// contains reports whether terms has term.
func contains(terms []policy.Term, term policy.Term) bool {
	return slices.Contains(terms, term)
}
