package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/service"
)

// TestCitizenReportBrowser: on a phone (390×844), a citizen opens a shop's
// plaque page, taps 我要举报, reports a problem, and follows the receipt page
// as the county accepts and dispatches the case, the officer records a
// deduction for it and the county closes it; then marks it unresolved and
// sees it reopen. The report and receipt pages pass the 适老化 audit.
func TestCitizenReportBrowser(t *testing.T) {
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

	b := e.chrome(t)
	b.open("/q/" + token)
	b.click("我要举报")
	b.at("/q/" + token + "/report")
	b.audit("report form")
	b.do(chromedp.Click(chromedp.CSS(`input[name="rule_code"][value="HJWS-01"]`)),
		chromedp.SendKeys(chromedp.ID("note"), "门口堆了很多纸箱，挡住了盲道"),
		chromedp.SendKeys(chromedp.ID("phone"), "13853312399"))
	b.click("提交")
	b.until("the receipt page", `location.pathname.startsWith('/r/')`)
	receipt := strings.TrimPrefix(b.where(), "/r/")
	c, err := e.db.CaseByReceipt(ctx, receipt)
	if err != nil {
		t.Fatalf("receipt %q: %v", receipt, err)
	}
	if c.RuleCode != "HJWS-01" || c.MerchantID == nil || *c.MerchantID != w.Merchant[0] || c.Status != models.CaseReceived {
		t.Fatalf("stored case: %+v", c)
	}
	b.shows("已受理")
	b.shows("张记烧烤张店区")
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
	if strings.Contains(b.text(), "王巡查") {
		t.Errorf("the receipt page names the officer")
	}

	// The officer goes there an hour later and deducts for it; the county
	// verifies and closes it.
	e.clock.Set(e.clock.Now().Add(time.Hour))
	entry := e.record(w.Officer[0], w.Merchant[0], "HJWS-01", 2)
	le, err := e.db.LedgerEntryByID(ctx, entry)
	if err != nil || le.InspectionID == nil {
		t.Fatalf("ledger entry %d: %+v %v", entry, le, err)
	}
	must(e.svc.HandleCase(ctx, w.Officer[0], c.ID, service.CaseHandling{Outcome: models.OutcomeInspection, InspectionID: *le.InspectionID}))
	must(e.svc.VerifyCase(ctx, w.Admin[0], c.ID))
	must(e.svc.CloseCase(ctx, w.Admin[0], c.ID))
	b.open("/r/" + receipt)
	b.shows("已结案")
	b.shows("按期")

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
