package web_test

import (
	"context"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/service"
)

// TestDashboardShowsCases: the county dashboard's case figures (open,
// overdue, received and closed this month, the on-time rate) and its table
// per officer equal what the service counts, on a fixed clock.
func TestDashboardShowsCases(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			w := e.seed()
			ctx := context.Background()
			must := func(err error) {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
			}
			_, err := e.svc.UpdateRoad(ctx, w.Admin[0], w.Road[0], service.RoadInput{OfficerIDs: &[]int64{w.Officer[0].UserID}})
			must(err)
			report := func(m int64, item string) models.Case {
				t.Helper()
				r, err := e.svc.ReportCase(ctx, service.CaseReportInput{Token: e.scanToken(m), RuleCode: item, Note: "门口堆放杂物",
					Client: "203.0.113.9", Device: "device-dash"})
				must(err)
				c, err := e.db.CaseByReceipt(ctx, r.Receipt)
				must(err)
				return c
			}
			// One case closed on time; one dispatched and left past its deadline; one only received.
			done, late := report(w.Merchant[0], "HJWS-01"), report(w.Other[0], "HJWS-01")
			report(w.Merchant[0], "OTHER")
			for _, c := range []models.Case{done, late} {
				_, err := e.svc.AcceptCase(ctx, w.Admin[0], c.ID)
				must(err)
				_, err = e.svc.DispatchCase(ctx, w.Admin[0], c.ID, 0)
				must(err)
			}
			_, err = e.svc.HandleCase(ctx, w.Officer[0], done.ID, service.CaseHandling{Outcome: models.OutcomeNothing, Note: "现场已清理"})
			must(err)
			_, err = e.svc.VerifyCase(ctx, w.Admin[0], done.ID)
			must(err)
			_, err = e.svc.CloseCase(ctx, w.Admin[0], done.ID)
			must(err)
			e.clock.Set(e.clock.Now().Add(49 * time.Hour)) // past the 48 h deadline, same month

			dash, err := e.svc.CountyDashboard(ctx, w.Admin[0], w.County[0])
			must(err)
			c := dash.Cases
			if c.Received != 3 || c.Open != 2 || c.Overdue != 1 || c.Closed != 1 || c.OnTimeRate == nil || *c.OnTimeRate != 1 {
				t.Fatalf("dashboard cases: %+v, want 3 received, 2 open, 1 overdue, 1 closed on time", c)
			}
			if len(dash.CaseOfficers) != 1 || dash.CaseOfficers[0].Name != "王巡查张店区" || dash.CaseOfficers[0].Overdue != 1 ||
				dash.CaseOfficers[0].Closed != 1 {
				t.Fatalf("officers: %+v", dash.CaseOfficers)
			}
			p := e.signedIn(w.AdminName[0]).get("/console")
			for id, want := range map[string]string{"stat-cases-open": "2", "stat-cases-overdue": "1", "stat-cases-received": "3",
				"stat-cases-closed": "1", "stat-cases-ontime": "100%"} {
				m := regexp.MustCompile(`id="` + id + `">([^<]*)<`).FindStringSubmatch(p.Body)
				if m == nil || m[1] != want {
					t.Errorf("%s: %v, want %s", id, m, want)
				}
			}
			// The city's comparison shows the same per county.
			city := e.browser()
			if p := city.login("admin", adminPassword); p.Status != 303 {
				t.Fatalf("city admin login: %d", p.Status)
			}
			cp := city.get("/console")
			cityRow := regexp.MustCompile(`(?s)<tr id="county-` + strconv.FormatInt(w.County[0], 10) + `">.*?<span class="cases-open">2</span>（<span class="cases-overdue">1</span>）</td><td class="num cases-ontime">100%</td>`)
			otherRow := regexp.MustCompile(`(?s)<tr id="county-` + strconv.FormatInt(w.County[1], 10) + `">.*?<span class="cases-open">0</span>（<span class="cases-overdue">0</span>）</td><td class="num cases-ontime">—</td>`)
			if !cityRow.MatchString(cp.Body) || !otherRow.MatchString(cp.Body) {
				t.Errorf("city comparison without the counties' case figures:\n%s", cp.Body)
			}
			row := regexp.MustCompile(`(?s)<tr id="case-officer-\d+" class="bad"><td>王巡查张店区</td><td class="num">1</td><td class="num">1</td><td class="num">1</td><td class="num">100%</td></tr>`)
			if !row.MatchString(p.Body) {
				t.Errorf("no officer row with 1 open, 1 overdue, 1 closed, 100%% on time:\n%s", p.Body)
			}
		})
	}
}
