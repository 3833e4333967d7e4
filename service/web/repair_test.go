package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/service"
)

// eligibleForRepair makes merchant eligible for credit repair now: registered
// in October, a serious item (ZXLH-05) recorded on 20 October and its notice
// confirmed rectified the next day (October closed on 4 November). The clock
// is moved back for the records and restored.
func (e *env) eligibleForRepair(officer service.Actor, merchant int64) {
	e.t.Helper()
	ctx := context.Background()
	now := e.clock.Now()
	defer e.clock.Set(now)
	if _, err := e.db.SQL().Exec("UPDATE merchants SET created_at = ? WHERE id = ?", time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), merchant); err != nil {
		e.t.Fatal(err)
	}
	e.clock.Set(time.Date(2026, 10, 20, 2, 0, 0, 0, time.UTC))
	e.record(officer, merchant, "ZXLH-05", 10)
	n, err := e.svc.IssueNotice(ctx, officer, merchant, service.NoticeInput{RuleCode: "ZXLH-05", Note: "限期整改"})
	if err != nil {
		e.t.Fatal(err)
	}
	e.clock.Set(time.Date(2026, 10, 21, 2, 0, 0, 0, time.UTC))
	if _, err := e.svc.RectifyNotice(ctx, officer, n.ID, "复查已整改"); err != nil {
		e.t.Fatal(err)
	}
}

// repairCase makes the first shop eligible for credit repair (for its
// merchant's form) and has its neighbour, given an account, apply (for the
// console's decision); it returns the neighbour's pending application.
func (f *secFixture) repairCase() int64 {
	f.t.Helper()
	if f.repairApp != 0 {
		return f.repairApp
	}
	ctx := context.Background()
	f.eligibleForRepair(f.w.Officer[0], f.w.Merchant[0])
	f.eligibleForRepair(f.w.Officer[0], f.w.Other[0])
	county, other := f.w.County[0], f.w.Other[0]
	if _, err := f.svc.CreateUser(ctx, f.admin, service.UserInput{Username: "repair-neighbour", Password: password,
		Role: service.RoleMerchant, CountyID: &county, MerchantID: &other}); err != nil {
		f.t.Fatal(err)
	}
	shop := f.actor("repair-neighbour", password)
	ph, err := f.svc.UploadPhoto(ctx, shop, strings.NewReader(string(f.png())))
	if err != nil {
		f.t.Fatal(err)
	}
	app, err := f.svc.ApplyRepair(ctx, shop, other, service.RepairInput{Reason: "已整改", Photos: []int64{ph.ID}, Pledge: true, PledgeName: "李四"})
	if err != nil {
		f.t.Fatal(err)
	}
	f.repairApp = app.ID
	return app.ID
}

// TestRepairPages: the merchant's repair page explains the cap, that repair
// is free, and takes the application (a refused one keeps nothing); the
// county's console lists it with its deadline and grants it (audited), and
// the merchant's page and star follow.
func TestRepairPages(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			w := e.seed()
			e.eligibleForRepair(w.Officer[0], w.Merchant[0])
			shop := e.browser()
			shop.login(w.ShopName[0], password)
			p := shop.get("/merchant/repair")
			for _, want := range []string{"最高 <strong>2 星</strong>", "信用修复免费，不收取任何费用", "信用承诺书", "10 个工作日（周一至周五）", `action="/merchant/repair"`} {
				if !strings.Contains(p.Body, want) {
					t.Errorf("/merchant/repair lacks %q", want)
				}
			}
			if p := shop.get("/merchant/ledger?cycle=2026-10"); !strings.Contains(p.Body, "信用修复：本项为严重违规") {
				t.Errorf("the ledger's serious deduction carries no repair notice")
			}
			var before int64
			count := func() int64 {
				var n int64
				if err := e.db.SQL().QueryRow("SELECT COUNT(*) FROM repair_applications").Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}
			before = count()
			p = shop.postMultipart("/merchant/repair", map[string]string{"reason": "已整改", "pledge_name": "张三"}, map[string][]byte{"photo": tinyPNG(777)})
			if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, "请阅读并勾选信用承诺") || count() != before {
				t.Errorf("without the commitment ticked: %d, %d applications (was %d)", p.Status, count(), before)
			}
			p = shop.postMultipart("/merchant/repair", map[string]string{"reason": "门前已清理，配合管理", "pledge": "1", "pledge_name": "张三"},
				map[string][]byte{"photo": tinyPNG(778)})
			if p.Status != http.StatusSeeOther {
				t.Fatalf("apply: %d %.300s", p.Status, p.Body)
			}
			p = shop.get("/merchant/repair?applied=1")
			if !strings.Contains(p.Body, "待处理") || !strings.Contains(p.Body, "答复期限") || strings.Contains(p.Body, `action="/merchant/repair"`) {
				t.Errorf("after applying the page shows no pending application, or the form again")
			}
			admin := e.browser()
			admin.login(w.AdminName[0], password)
			p = admin.get("/console/repairs")
			if !strings.Contains(p.Body, "张记烧烤") || !strings.Contains(p.Body, "2026年11月28日 00:00") || !strings.Contains(p.Body, "签名 <strong>张三</strong>") {
				t.Errorf("the console's list lacks the shop, its deadline or the signature: %.2000s", p.Body)
			}
			other := e.browser()
			other.login(w.AdminName[1], password)
			if p := other.get("/console/repairs"); strings.Contains(p.Body, "张记烧烤") {
				t.Errorf("another county's admin sees the application")
			}
			var id int64
			if err := e.db.SQL().QueryRow("SELECT id FROM repair_applications WHERE merchant_id = ?", w.Merchant[0]).Scan(&id); err != nil {
				t.Fatal(err)
			}
			path := "/console/repairs/" + strconv.FormatInt(id, 10) + "/decision"
			if p := other.post(path, url.Values{"decision": {"grant"}, "note": {"同意"}}); p.Status != http.StatusNotFound {
				t.Errorf("another county's admin decides: %d", p.Status)
			}
			if p := admin.post(path, url.Values{"decision": {"grant"}, "note": {" "}}); p.Status != http.StatusBadRequest {
				t.Errorf("a decision without a note: %d", p.Status)
			}
			if p := admin.post(path, url.Values{"decision": {"grant"}, "note": {"整改到位，同意修复"}}); p.Status != http.StatusSeeOther {
				t.Fatalf("grant: %d %.300s", p.Status, p.Body)
			}
			if p := admin.get("/console/audit"); !strings.Contains(p.Body, "处理信用修复申请") {
				t.Errorf("the audit log does not show the decision")
			}
			p = shop.get("/merchant/repair")
			if !strings.Contains(p.Body, "同意修复") || !strings.Contains(p.Body, "没有受到严重违规的上限限制") {
				t.Errorf("after the grant the merchant's page: %.1500s", p.Body)
			}
		})
	}
}
