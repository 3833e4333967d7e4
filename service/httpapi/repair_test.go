package httpapi_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/service"
)

// repairShop registers a shop in the county of officer (a token) that is
// eligible for credit repair now: registered in October, a serious item
// (ZXLH-05, with evidence photo) recorded on 20 October, its notice
// confirmed rectified the next day, October closed since 4 November. It
// returns the shop and the token of its new merchant account. The clock is
// moved back to October for the records and restored.
func repairShop(e *env, officer string, road, photo int64, name string) (int64, string) {
	e.t.Helper()
	ctx := context.Background()
	must := func(err error) {
		e.t.Helper()
		if err != nil {
			e.t.Fatalf("an eligible shop %s: %v", name, err)
		}
	}
	off, err := e.svc.Authenticate(officer)
	must(err)
	city, err := e.svc.Authenticate(e.admin)
	must(err)
	now := e.clock.Now()
	defer e.clock.Set(now)
	e.clock.Set(time.Date(2026, 10, 20, 2, 0, 0, 0, time.UTC))
	m, err := e.svc.CreateMerchant(ctx, city, service.MerchantInput{RoadID: &road, Name: &name})
	must(err)
	_, _, err = e.svc.RecordInspection(ctx, off, "repair-"+itoa(m.ID), service.InspectionInput{MerchantID: m.ID,
		Items: []service.InspectionItem{{RuleCode: "ZXLH-05"}}, Photos: []int64{e.evidenceFor(officer, m.ID, photo)}})
	must(err)
	n, err := e.svc.IssueNotice(ctx, off, m.ID, service.NoticeInput{RuleCode: "ZXLH-05", Note: "限期整改"})
	must(err)
	e.clock.Set(time.Date(2026, 10, 21, 2, 0, 0, 0, time.UTC))
	_, err = e.svc.RectifyNotice(ctx, off, n.ID, "复查已整改")
	must(err)
	e.clock.Set(now)
	hash, err := seedHash()
	must(err)
	county, id := m.CountyID, m.ID
	u := models.User{Username: "repair_" + m.Code, PasswordHash: hash, Role: service.RoleMerchant, CountyID: &county, MerchantID: &id}
	must(e.db.CreateUser(ctx, &u))
	tok, _, err := e.svc.IssueToken(u)
	must(err)
	return m.ID, tok
}

// repairBody is a complete application with a fresh photo of the applicant's.
func repairBody(e *env, token string, n int) map[string]any {
	e.t.Helper()
	ph := e.uploadPhoto(token, tinyPNG(5000+n))
	if ph.Status != 201 {
		e.t.Fatalf("the merchant uploads its photo: %d %s", ph.Status, ph.Body)
	}
	return map[string]any{"reason": "门前已整改，申请信用修复", "photos": []int64{ph.id()}, "pledge": true, "pledge_name": "张三"}
}

// repairApplication has a fresh eligible shop of the target's county apply
// and returns the pending application's id.
func (f *authzFixture) repairApplication(e *env, tg authzTarget) int64 {
	e.t.Helper()
	shop, token := repairShop(e, tg.officer, tg.road, tg.photo, fmt.Sprintf("修复商户%d", f.next()))
	return e.must(201, "POST", "/api/v1/merchants/"+itoa(shop)+"/repairs", token, repairBody(e, token, f.next())).id()
}

// repairTarget is an eligible shop of the target's county that nobody applied
// for (one per county, made on first use): every application to it in the
// matrix is refused, so it stays without one.
func (f *authzFixture) repairTarget(e *env, tg authzTarget) int64 {
	e.t.Helper()
	if f.repairShops == nil {
		f.repairShops = map[int64]int64{}
	}
	if id, ok := f.repairShops[tg.county]; ok {
		return id
	}
	id, _ := repairShop(e, tg.officer, tg.road, tg.photo, fmt.Sprintf("待修复商户%d", f.next()))
	f.repairShops[tg.county] = id
	return id
}

// repairRows are the matrix rows of the credit-repair endpoints.
func repairRows(f *authzFixture) []authzRow {
	w := &f.w
	lists := func(t *testing.T, tg authzTarget, r resp, role string) {
		t.Helper()
		counties := map[int64]bool{}
		for _, it := range itemsOf(t, r) {
			counties[int64(jnum(it["county_id"]))] = true
			if role == "merchant" {
				t.Errorf("a merchant sees another shop's application: %v", it)
			}
		}
		switch {
		case role == "city_admin" && tg.county == 0 && (!counties[w.County[0]] || !counties[w.County[1]]):
			t.Errorf("the city admin does not see both counties' applications: %s", r.Body)
		case role == "county_admin" && (len(counties) != 1 || !counties[w.County[0]]):
			t.Errorf("the county admin sees counties %v, want only its own: %s", counties, r.Body)
		}
	}
	withApplications := func(path func(*authzFixture, *env, authzTarget) string) func(*authzFixture, *env, authzTarget) string {
		return func(f *authzFixture, e *env, tg authzTarget) string {
			if !f.repairListed {
				f.repairListed = true
				for _, sc := range scopes2 {
					f.repairApplication(e, f.target(sc))
				}
			}
			return path(f, e, tg)
		}
	}
	return []authzRow{
		{method: "GET", route: "/api/v1/merchants/:id/repair", scopes: scopes3, path: idPath("/api/v1/merchants/", merchantOf, "/repair"),
			want: map[string][]int{"city_admin": {200, 200, 200}, "county_admin": {200, 404, 200}, "officer": {200, 404, 200}, "merchant": {200, 404, 404}},
			check: func(t *testing.T, _ authzTarget, r resp, _ string) {
				if r.JSON["free"] != true || jnum(r.JSON["decision_days"]) != 10 || r.JSON["eligible"] != false {
					t.Errorf("repair status = %s", r.Body)
				}
			}},
		// Only a merchant applies, for its own shop: the matrix's merchant
		// account owns none of these eligible shops, so every cell is refused.
		{method: "POST", route: "/api/v1/merchants/:id/repairs", scopes: scopes2,
			path: func(f *authzFixture, e *env, tg authzTarget) string {
				return "/api/v1/merchants/" + itoa(f.repairTarget(e, tg)) + "/repairs"
			},
			body: func(*authzFixture, authzTarget) any {
				return map[string]any{"reason": "代为申请", "photos": []int64{}, "pledge": true, "pledge_name": "张三"}
			},
			want:      map[string][]int{"city_admin": {403, 403}, "county_admin": {403, 403}, "officer": {403, 403}, "merchant": {404, 404}},
			unchanged: storesNothing("repair_applications", "merchant_id = ?", "/merchants/")},
		{method: "GET", route: "/api/v1/repairs", name: "unfiltered", scopes: scopesNone, path: withApplications(fixedPath("/api/v1/repairs?limit=100")),
			want:  map[string][]int{"city_admin": {200}, "county_admin": {200}, "officer": {403}, "merchant": {200}},
			check: lists},
		{method: "GET", route: "/api/v1/repairs", name: "county_id", scopes: scopes2, path: withApplications(idPath("/api/v1/repairs?county_id=", countyOf, "")),
			want: map[string][]int{"city_admin": {200, 200}, "county_admin": {200, 403}, "officer": {403, 403}, "merchant": {200, 200}},
			check: func(t *testing.T, tg authzTarget, r resp, role string) {
				if role == "merchant" {
					lists(t, tg, r, role)
					return
				}
				wantItems("county_id", countyOf, 1)(t, tg, r, role)
			}},
		// Decisions: the county admin of the shop's county, or the city admin.
		{method: "POST", route: "/api/v1/repairs/:id/decision", scopes: scopes3,
			path: func(f *authzFixture, e *env, tg authzTarget) string {
				return "/api/v1/repairs/" + itoa(f.repairApplication(e, tg)) + "/decision"
			},
			body: func(*authzFixture, authzTarget) any {
				return map[string]any{"grant": true, "note": "整改到位，同意修复"}
			},
			want: map[string][]int{"city_admin": {200, 200, 200}, "county_admin": {200, 404, 200}, "officer": {403, 403, 403}, "merchant": {403, 403, 403}},
			check: func(t *testing.T, tg authzTarget, r resp, _ string) {
				if r.JSON["status"] != "granted" || int64(jnum(r.JSON["county_id"])) != tg.county {
					t.Errorf("decided application = %s", r.Body)
				}
			},
			unchanged: storesNothing("repairs", "application_id = ?", "/repairs/")},
	}
}

// TestRepairAPI: a merchant's application through the API, its status, the
// repair notice on its ledger, a second one refused while the first is
// open, another county's admin refused, and the grant lifting the cap.
func TestRepairAPI(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			w := seedFast(e)
			shop, token := repairShop(e, w.Officer[0], w.Road[0], w.Photo[0], "修复测试商户")
			base := "/api/v1/merchants/" + itoa(shop)
			st := e.must(200, "GET", base+"/repair", token, nil)
			if st.JSON["eligible"] != true || st.JSON["capped"] != true || st.JSON["through_cycle"] != "2026-10" || st.JSON["free"] != true {
				t.Fatalf("status before applying: %s", st.Body)
			}
			ledger := e.must(200, "GET", base+"/ledger?cycle=2026-10", token, nil)
			if items := itemsOf(t, ledger); len(items) != 1 || !strings.Contains(items[0]["repair"].(string), "信用修复") ||
				!strings.Contains(items[0]["repair"].(string), "不收取任何费用") {
				t.Errorf("the deduction's repair notice: %s", ledger.Body)
			}
			bad := e.do("POST", base+"/repairs", token, map[string]any{"reason": "已整改", "pledge": false, "pledge_name": ""})
			if bad.Status != 400 || !strings.Contains(string(bad.Body), `"pledge"`) || !strings.Contains(string(bad.Body), `"photos"`) {
				t.Errorf("an application without commitment or photo: %d %s", bad.Status, bad.Body)
			}
			app := e.must(201, "POST", base+"/repairs", token, repairBody(e, token, 1))
			if app.JSON["status"] != "pending" || app.JSON["due_at"] != "2026-11-27T16:00:00Z" {
				t.Errorf("application = %s; want pending, due at the end of the 10th working day (Friday 27 November; 15 November is a Sunday)", app.Body)
			}
			if again := e.do("POST", base+"/repairs", token, repairBody(e, token, 2)); again.Status != 409 {
				t.Errorf("a second open application: %d %s", again.Status, again.Body)
			}
			path := "/api/v1/repairs/" + itoa(app.id()) + "/decision"
			if r := e.do("POST", path, w.Admin[1], map[string]any{"grant": true, "note": "同意"}); r.Status != 404 {
				t.Errorf("another county's admin decides: %d %s", r.Status, r.Body)
			}
			if n := e.count("repairs", "application_id = ?", app.id()); n != 0 {
				t.Fatalf("%d repairs stored by a refused decision", n)
			}
			e.must(200, "POST", path, w.Admin[0], map[string]any{"grant": true, "note": "整改到位，同意修复"})
			st = e.must(200, "GET", base+"/repair", token, nil)
			if st.JSON["capped"] != false || st.JSON["eligible"] != false {
				t.Errorf("status after the grant: %s", st.Body)
			}
			m := e.must(200, "GET", base, token, nil)
			if score, _ := m.JSON["score"].(map[string]any); jnum(score["rated_star"]) != 4 {
				t.Errorf("rated star after the grant = %v, want 4 (October's final 90 holds it until the December review)", score["rated_star"])
			}
		})
	}
}
