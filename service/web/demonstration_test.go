package web_test

import (
	"context"
	"fmt"
	"maps"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/service"
	"github.com/menqian/menqian/service/policy"
)

// whyNot writes the failing criteria of a road as the console must say them,
// with the service's metrics and the policy's thresholds.
func whyNot(d policy.Demonstration, r service.RoadResultView) []string {
	m := r.Metrics
	num := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	pct := func(share float64) string { return num(math.Round(share*1000)/10) + "%" }
	var out []string
	for _, f := range r.Failing {
		switch f {
		case service.FailMerchants:
			out = append(out, fmt.Sprintf("在营商户 %d 家，不足 %d 家", m.ActiveMerchants, d.MinMerchants))
		case service.FailInspected:
			out = append(out, fmt.Sprintf("有 %d 家本月未巡查", m.ActiveMerchants-m.Inspected))
		case service.FailAverage:
			out = append(out, fmt.Sprintf("平均分 %s 低于 %s", num(m.AverageScore), num(d.MinAverageScore)))
		case service.FailRated:
			out = append(out, fmt.Sprintf("%d 星及以上 %d 家（%s），不足 %s", d.MinRatedStar, m.RatedHigh, pct(m.RatedHighShare), pct(d.MinRatedShare)))
		case service.FailSerious:
			out = append(out, fmt.Sprintf("本月有 %d 项严重违规", m.SeriousItems))
		case service.FailOverdue:
			out = append(out, fmt.Sprintf("本月有 %d 份整改通知逾期", m.OverdueNotices))
		}
	}
	return out
}

// demoWorld gives the first county's road three shops that fail in several
// ways (3 shops; one not inspected; a serious item, so 2 of 3 rated 4★ or
// more) and a second road of ten inspected shops that qualifies.
func demoWorld(t *testing.T, e *env, w world) (qualifying int64) {
	t.Helper()
	ctx := context.Background()
	road0 := w.Road[0]
	if _, err := e.svc.CreateMerchant(ctx, w.Admin[0], service.MerchantInput{RoadID: &road0, Name: ptr("王记包子铺")}); err != nil {
		t.Fatal(err)
	}
	e.record(w.Officer[0], w.Merchant[0], "HJWS-01", 2)
	e.record(w.Officer[0], w.Other[0], "ZXLH-05", 10)
	r, err := e.svc.CreateRoad(ctx, w.Admin[0], service.RoadInput{CountyID: &w.County[0], Name: ptr("华光路")})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		m, err := e.svc.CreateMerchant(ctx, w.Admin[0], service.MerchantInput{RoadID: &r.ID, Name: ptr(fmt.Sprintf("华光商户%d", i))})
		if err != nil {
			t.Fatal(err)
		}
		e.record(w.Officer[0], m.ID, "BONUS-01", 1)
	}
	return r.ID
}

// demoRow is the road's row of the demonstration page: status, whether it
// qualifies, and the failing criteria listed.
func demoRow(t *testing.T, p page, road int64) (status, qualified string, why []string) {
	t.Helper()
	row := tableRow(p, "road-"+strconv.FormatInt(road, 10))
	if row == "" {
		t.Fatalf("the demonstration page has no row of road %d", road)
	}
	if m := regexp.MustCompile(`<td class="status[^"]*">([^<]*)</td>`).FindStringSubmatch(row); m != nil {
		status = m[1]
	}
	if m := regexp.MustCompile(`<td class="qualified"><span class="tag \w+">([^<]*)</span>`).FindStringSubmatch(row); m != nil {
		qualified = m[1]
	}
	for _, m := range regexp.MustCompile(`<li>([^<]*)</li>`).FindAllStringSubmatch(row, -1) {
		why = append(why, m[1])
	}
	return status, qualified, why
}

func demoStatusOf(t *testing.T, e *env, road int64) string {
	t.Helper()
	r, err := e.svc.Road(context.Background(), e.admin, road)
	if err != nil {
		t.Fatal(err)
	}
	return r.DemoStatus
}

// TestConsoleDemonstration: the programme's figures and each road's failing
// criteria in words equal the service's metrics; designating and each move
// happen only after the confirmation step; revoking needs a reason; a move
// the programme does not have is refused; the city admin sees any county;
// another county's roads are refused.
func TestConsoleDemonstration(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			w := e.seed()
			ctx := context.Background()
			id := func(n int64) string { return strconv.FormatInt(n, 10) }
			qualifying := demoWorld(t, e, w)
			c0, r0 := id(w.County[0]), id(w.Road[0])
			rules := e.svc.Policy().Demonstration
			b := e.signedIn(w.AdminName[0])
			open := func() page {
				t.Helper()
				p := b.get("/console/demonstration?county_id=" + c0)
				if p.Status != http.StatusOK {
					t.Fatalf("/console/demonstration: %d %s", p.Status, p.Body)
				}
				return p
			}
			figures := func(p page, designated, accepted, qualified int) {
				t.Helper()
				dv, err := e.svc.Demonstration(ctx, w.Admin[0], w.County[0])
				if err != nil {
					t.Fatal(err)
				}
				if dv.Designated != designated || dv.Accepted != accepted || dv.Qualified != qualified || dv.Target != 10 {
					t.Fatalf("the service's programme: %d designated, %d accepted, %d qualified of %d; the test wants %d, %d, %d of 10",
						dv.Designated, dv.Accepted, dv.Qualified, dv.Target, designated, accepted, qualified)
				}
				for _, f := range []struct {
					id string
					n  int
				}{{"target", dv.Target}, {"designated", dv.Designated}, {"accepted", dv.Accepted}, {"qualified", dv.Qualified}} {
					if want := `<div class="value" id="` + f.id + `">` + strconv.Itoa(f.n) + " 条</div>"; !strings.Contains(p.Body, want) {
						t.Errorf("the programme lacks %s", want)
					}
				}
			}
			post := func(road string, form url.Values) page {
				t.Helper()
				open()
				return b.post("/console/roads/"+road+"/demonstration", form)
			}

			// Nothing designated: both roads offered, the target and who sets it.
			p := open()
			figures(p, 0, 0, 0)
			if !strings.Contains(p.Body, "由市级管理员设定") || strings.Contains(p.Body, "修改目标") {
				t.Errorf("the page does not say who sets the target, or offers the county admin to change it")
			}
			if ids := tableRowIDs(p, "other-roads", "road"); !slices.Equal(ids, []int64{w.Road[0], qualifying}) {
				t.Errorf("roads offered %v, want [%d %d]", ids, w.Road[0], qualifying)
			}

			// Designating: a confirmation step, then the change, once.
			events := func() int {
				var n int
				e.db.SQL().QueryRow("SELECT COUNT(*) FROM road_demo_events").Scan(&n)
				return n
			}
			before := e.snapshot()
			p = post(r0, url.Values{"status": {"candidate"}})
			if p.Status != http.StatusOK || !strings.Contains(p.Body, "确认列为候选示范路") || !strings.Contains(p.Body, "柳泉路") {
				t.Errorf("designate without confirmation: %d, asks: %v", p.Status, strings.Contains(p.Body, "确认列为候选示范路"))
			}
			if after := e.snapshot(); !maps.Equal(before, after) || demoStatusOf(t, e, w.Road[0]) != service.DemoNone {
				t.Errorf("the question changed something")
			}
			p = post(r0, url.Values{"status": {"candidate"}, "confirm": {"1"}})
			if loc := p.Header.Get("Location"); p.Status != http.StatusSeeOther || !strings.Contains(loc, "done="+r0) {
				t.Fatalf("designate: %d to %q", p.Status, loc)
			}
			if got := demoStatusOf(t, e, w.Road[0]); got != service.DemoCandidate || events() != 1 {
				t.Errorf("after designating: %s with %d events, want candidate with 1", got, events())
			}
			if p := post(id(qualifying), url.Values{"status": {"candidate"}, "confirm": {"1"}}); p.Status != http.StatusSeeOther {
				t.Fatalf("designate 华光路: %d", p.Status)
			}

			// Why each road qualifies or not, in the service's numbers.
			p = open()
			figures(p, 2, 0, 1)
			dv, _ := e.svc.Demonstration(ctx, w.Admin[0], w.County[0])
			for _, rv := range dv.Roads {
				status, qualified, why := demoRow(t, p, rv.RoadID)
				want := whyNot(rules, rv)
				wantQ := map[bool]string{true: "达标", false: "未达标"}[rv.Qualified]
				if status != "候选" || qualified != wantQ || fmt.Sprint(why) != fmt.Sprint(want) {
					t.Errorf("%s: %s, %s, %q; want 候选, %s, %q", rv.Name, status, qualified, why, wantQ, want)
				}
			}
			if rv := dv.Roads[slices.IndexFunc(dv.Roads, func(r service.RoadResultView) bool { return r.RoadID == w.Road[0] })]; rv.Qualified ||
				len(rv.Failing) != 4 || rv.Metrics.ActiveMerchants != 3 || rv.Metrics.Inspected != 2 || rv.Metrics.SeriousItems != 1 || rv.Metrics.RatedHigh != 2 {
				t.Errorf("柳泉路's metrics %+v failing %v: the test wants 3 shops, 2 inspected, 1 serious item, 2 rated 4★", rv.Metrics, rv.Failing)
			}

			// Building: asked first (with the warning that it does not qualify).
			p = post(r0, url.Values{"status": {"building"}})
			if p.Status != http.StatusOK || !strings.Contains(p.Body, "确认开始创建") || !strings.Contains(p.Body, "该路本月尚未达标（在营商户 3 家") {
				t.Errorf("building without confirmation: %d, asks with the warning: %v", p.Status, strings.Contains(p.Body, "尚未达标"))
			}
			if got := demoStatusOf(t, e, w.Road[0]); got != service.DemoCandidate {
				t.Errorf("the question moved the road to %s", got)
			}
			if p := post(r0, url.Values{"status": {"building"}, "confirm": {"1"}}); p.Status != http.StatusSeeOther {
				t.Fatalf("building: %d", p.Status)
			}
			if status, _, _ := demoRow(t, open(), w.Road[0]); status != "创建中" || demoStatusOf(t, e, w.Road[0]) != service.DemoBuilding {
				t.Errorf("after building: the page says %s, stored %s", status, demoStatusOf(t, e, w.Road[0]))
			}

			// Revoking needs a reason; the reason is kept with the change.
			before = e.snapshot()
			p = post(r0, url.Values{"status": {"revoked"}, "confirm": {"1"}, "note": {"  "}})
			if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, "请填写撤销原因") {
				t.Errorf("revoke without a reason: %d, asks for it: %v", p.Status, strings.Contains(p.Body, "请填写撤销原因"))
			}
			if after := e.snapshot(); !maps.Equal(before, after) {
				t.Errorf("revoking without a reason changed something")
			}
			const reason = "商户不足十家，暂缓创建"
			if p := post(r0, url.Values{"status": {"revoked"}, "confirm": {"1"}, "note": {reason}}); p.Status != http.StatusSeeOther {
				t.Fatalf("revoke: %d %s", p.Status, p.Body)
			}
			var note, to string
			e.db.SQL().QueryRow("SELECT note, to_status FROM road_demo_events WHERE road_id = ? ORDER BY id DESC LIMIT 1", w.Road[0]).Scan(&note, &to)
			if note != reason || to != service.DemoRevoked {
				t.Errorf("the last event: %s with %q, want revoked with %q", to, note, reason)
			}
			p = open()
			figures(p, 1, 0, 1)
			if status, _, _ := demoRow(t, p, w.Road[0]); status != "已撤销" || !strings.Contains(tableRow(p, "road-"+r0), "重新列为候选") {
				t.Errorf("the revoked road shows %s, offers to designate it again: %v", status, strings.Contains(tableRow(p, "road-"+r0), "重新列为候选"))
			}

			// Moves the programme does not have, and unknown statuses.
			for _, c := range []struct {
				status string
				want   int
			}{{"accepted", http.StatusConflict}, {"building", http.StatusConflict}, {"done", http.StatusBadRequest}} {
				before := e.snapshot()
				if p := post(r0, url.Values{"status": {c.status}, "confirm": {"1"}}); p.Status != c.want {
					t.Errorf("revoked → %s: %d, want %d", c.status, p.Status, c.want)
				}
				if after := e.snapshot(); !maps.Equal(before, after) {
					t.Errorf("revoked → %s changed something", c.status)
				}
			}

			// The city admin: the second county's programme, and its roads.
			city := e.browser()
			city.login("admin", adminPassword)
			p = city.get("/console/demonstration?county_id=" + id(w.County[1]))
			if p.Status != http.StatusOK || !strings.Contains(p.Body, seedCounties[1][1]) || !slices.Equal(tableRowIDs(p, "other-roads", "road"), []int64{w.Road[1]}) {
				t.Errorf("the city admin's view of the second county: %d", p.Status)
			}
			if !strings.Contains(p.Body, `<a href="/console/counties/`+id(w.County[1])+`">修改目标</a>`) {
				t.Errorf("the city admin is not offered to change the second county's target")
			}
			if p := city.post("/console/roads/"+id(w.Road[1])+"/demonstration", url.Values{"status": {"candidate"}, "confirm": {"1"}}); p.Status != http.StatusSeeOther {
				t.Errorf("the city admin designates in the second county: %d", p.Status)
			}

			// The first county's admin, at the second county's.
			other := []string{"张记烧烤淄川区", "李家面馆淄川区"}
			open()
			refusedWith(t, e, "the second county's programme", func() page { return b.get("/console/demonstration?county_id=" + id(w.County[1])) }, other...)
			for _, st := range []string{"building", "revoked"} {
				refusedWith(t, e, "a move of the second county's road to "+st, func() page {
					return b.post("/console/roads/"+id(w.Road[1])+"/demonstration", url.Values{"status": {st}, "confirm": {"1"}, "note": {"越权"}})
				}, other...)
			}
		})
	}
}

// TestConsoleDemonstrationBrowser: on a 1366×768 screen the county admin
// designates a road from the demonstration page through its confirmation,
// reads why it does not qualify (the failing criteria in words, with the
// service's numbers), and moves it to building through the confirmation.
func TestConsoleDemonstrationBrowser(t *testing.T) {
	t.Parallel()
	e := newEnv(t, models.SQLite)
	w := e.seed()
	demoWorld(t, e, w)
	ctx := context.Background()
	road := w.Road[0]
	row := "#road-" + strconv.FormatInt(road, 10)

	b := e.chrome(t)
	b.viewport(1366, 768)
	b.login(w.AdminName[0], password)
	b.open("/console/demonstration")
	if got := b.within(row); !strings.Contains(got, "柳泉路") || !strings.Contains(got, "列为候选示范路") {
		t.Fatalf("the road's row offers %q", got)
	}
	b.do(chromedp.Click(chromedp.CSS(row + " button")))
	b.at("/console/roads/" + strconv.FormatInt(road, 10) + "/demonstration")
	b.shows("示范路状态将由“未列入”改为“候选”")
	if got := demoStatusOf(t, e, road); got != service.DemoNone {
		t.Fatalf("the confirmation page already changed the road to %s", got)
	}
	b.click("确认列为候选示范路")
	b.at("/console/demonstration")
	b.shows("“柳泉路”已改为候选")
	if got := demoStatusOf(t, e, road); got != service.DemoCandidate {
		t.Fatalf("after confirming the road is %s", got)
	}

	// Why it does not qualify, in the service's numbers.
	dv, err := e.svc.Demonstration(ctx, w.Admin[0], w.County[0])
	if err != nil {
		t.Fatal(err)
	}
	var rv service.RoadResultView
	for _, r := range dv.Roads {
		if r.RoadID == road {
			rv = r
		}
	}
	want := whyNot(e.svc.Policy().Demonstration, rv)
	got := eval[[]string](b, `[...document.querySelectorAll(`+jsString(row+" .why li")+`)].map(li => li.innerText.trim())`)
	if rv.Qualified || len(want) != 4 || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("the page says the road fails for %q; the service's metrics %+v say %q", got, rv.Metrics, want)
	}
	for _, s := range []string{"在营商户 3 家，不足 10 家", "有 1 家本月未巡查", "4 星及以上 2 家（66.7%），不足 80%", "本月有 1 项严重违规"} {
		if !slices.Contains(got, s) {
			t.Errorf("the reasons %q lack %q", got, s)
		}
	}
	if got := b.within(row + " .status"); got != "候选" {
		t.Errorf("the status shows %q, want 候选", got)
	}
	if got := b.within("#qualified"); got != strconv.Itoa(dv.Qualified)+" 条" {
		t.Errorf("qualified now shows %q, the service says %d", got, dv.Qualified)
	}

	// To building, through its confirmation.
	b.click("开始创建")
	b.shows("示范路状态将由“候选”改为“创建中”")
	b.shows("注意：该路本月尚未达标")
	if got := demoStatusOf(t, e, road); got != service.DemoCandidate {
		t.Fatalf("the confirmation page already changed the road to %s", got)
	}
	b.click("确认开始创建")
	b.at("/console/demonstration")
	b.shows("“柳泉路”已改为创建中")
	if got := b.within(row + " .status"); got != "创建中" {
		t.Errorf("the status shows %q, want 创建中", got)
	}
	if got := demoStatusOf(t, e, road); got != service.DemoBuilding {
		t.Errorf("after confirming the road is %s, want building", got)
	}
	b.screenshot("console-demonstration")
	b.noScriptErrors()
}
