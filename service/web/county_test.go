package web_test

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/service"
	"github.com/menqian/menqian/service/web"
)

// fieldError is the problem the page shows beside a form field ("" when none).
func fieldError(t *testing.T, body, field string) string {
	t.Helper()
	id := map[string]string{"code": "code-err", "name": "name-err", "demo_road_target": "target-err"}[field]
	if !strings.Contains(body, `id="`+id+`"`) {
		return ""
	}
	return textOf(t, body, id)
}

// TestCountyPages: the city office compares the counties with the service's
// figures, adds and edits counties (bad input shows the service's message
// beside its field and stores nothing), and reads the policy in force; county
// admins get none of these pages.
func TestCountyPages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			w := e.seed()
			e.record(w.Officer[0], w.Merchant[0], "SSWH-01", 6)
			e.record(w.Officer[1], w.Other[1], "BONUS-01", 2)
			_, err := e.svc.IssueNotice(ctx, w.Officer[1], w.Merchant[1], service.NoticeInput{Note: "门前堆放纸箱", DueDays: ptr(1)})
			if err != nil {
				t.Fatal(err)
			}
			e.clock.Set(e.clock.Now().Add(48 * time.Hour)) // the notice is overdue now
			b := e.browser()
			if p := b.login("admin", adminPassword); p.Status != http.StatusSeeOther {
				t.Fatalf("login: %d", p.Status)
			}

			// The counties compared.
			board, err := e.svc.CountyBoard(ctx, e.admin)
			if err != nil {
				t.Fatal(err)
			}
			p := b.get("/console")
			if p.Status != http.StatusOK {
				t.Fatalf("/console: %d", p.Status)
			}
			overdue := map[int64]string{w.County[0]: "0", w.County[1]: "1"}
			inspected := map[int64]string{w.County[0]: "1（50%）", w.County[1]: "1（50%）"}
			var order []string
			for _, r := range board {
				order = append(order, fmt.Sprintf("county-%d", r.County.ID))
				row := rowOf(t, p.Body, fmt.Sprintf("county-%d", r.County.ID))
				want := []string{strconv.Itoa(r.Rank), r.County.Name + " " + r.County.Code, fmt.Sprintf("%d / %d", r.Qualified, r.Target),
					fmt.Sprintf("%.2f", r.Score), strconv.Itoa(r.Merchants), inspected[r.County.ID], overdue[r.County.ID]}
				if len(row) < len(want) {
					continue
				}
				for i, c := range want {
					if strings.Join(strings.Fields(row[i]), " ") != c {
						t.Errorf("%s, column %d: %q, want %q", r.County.Name, i, row[i], c)
					}
				}
			}
			if got := rowIDs(p.Body, "county-"); strings.Join(got, ",") != strings.Join(order, ",") {
				t.Errorf("counties in the order %v, CountyBoard's is %v", got, order)
			}
			if board[0].County.ID != w.County[1] || board[0].Score != 101 || board[1].Score != 97 {
				t.Errorf("scenario: CountyBoard %+v; want 淄川区 (101.00) before 张店区 (97.00)", board)
			}
			if !strings.Contains(p.Body, `<svg class="chart"`) || !strings.Contains(p.Body, "各区县达标示范路条数") {
				t.Errorf("the comparison has no chart")
			}

			// Adding a county: bad input is shown beside its fields and stores nothing.
			if p := b.get("/console/counties"); p.Status != http.StatusOK || !strings.Contains(p.Body, "张店区") || !strings.Contains(p.Body, "淄川区") {
				t.Fatalf("/console/counties: %d", p.Status)
			}
			for _, c := range []struct {
				name   string
				form   url.Values
				status int
				want   map[string]string
			}{
				{"every field bad", url.Values{"code": {"37030"}, "name": {" "}, "demo_road_target": {"十"}}, http.StatusBadRequest,
					map[string]string{"code": "应为 6 位行政区划代码，如 370303", "name": "必填", "demo_road_target": "请填写 0 到 1000 之间的整数"}},
				{"target out of range", url.Values{"code": {"370304"}, "name": {"博山区"}, "demo_road_target": {"1001"}}, http.StatusBadRequest,
					map[string]string{"demo_road_target": "应在 0 到 1000 之间"}},
				{"a taken code", url.Values{"code": {"370303"}, "name": {"另一个张店区"}}, http.StatusConflict,
					map[string]string{"code": "区县代码已存在"}},
			} {
				before := e.snapshot()
				p := b.post("/console/counties", c.form)
				if p.Status != c.status {
					t.Errorf("%s: %d, want %d", c.name, p.Status, c.status)
				}
				for _, f := range []string{"code", "name", "demo_road_target"} {
					if got := fieldError(t, p.Body, f); got != c.want[f] {
						t.Errorf("%s: beside %s %q, want %q", c.name, f, got, c.want[f])
					}
				}
				if !strings.Contains(p.Body, `value="`+c.form.Get("name")+`"`) {
					t.Errorf("%s: the form lost the name typed", c.name)
				}
				if after := e.snapshot(); !maps.Equal(before, after) {
					t.Errorf("%s stored something: %v → %v", c.name, before, after)
				}
			}
			p = b.post("/console/counties", url.Values{"code": {"370304"}, "name": {"博山区"}})
			loc := p.Header.Get("Location")
			if p.Status != http.StatusSeeOther || !strings.HasPrefix(loc, "/console/counties?created=") {
				t.Fatalf("a good county: %d to %q, want 303 to the list", p.Status, loc)
			}
			added, err := e.db.CountyByCode(ctx, "370304")
			if err != nil || added.Name != "博山区" || added.DemoRoadTarget != e.svc.Policy().Demonstration.Target {
				t.Fatalf("stored %+v, %v; want 博山区 with the policy's target", added, err)
			}
			if p := b.get(loc); !strings.Contains(p.Body, "已添加区县：博山区（370304），示范路目标 10 条。") {
				t.Errorf("the list after adding does not say so")
			}

			// Editing: refusals beside the fields, nothing stored; then a good edit.
			path := fmt.Sprintf("/console/counties/%d", w.County[0])
			p = b.get(path)
			if p.Status != http.StatusOK || !strings.Contains(p.Body, `value="张店区"`) || !strings.Contains(p.Body, `value="10"`) {
				t.Fatalf("%s: %d without the county's values", path, p.Status)
			}
			for _, c := range []struct {
				name string
				form url.Values
				want map[string]string
			}{
				{"an empty name and a negative target", url.Values{"code": {"370303"}, "name": {""}, "demo_road_target": {"-5"}},
					map[string]string{"name": "必填", "demo_road_target": "应在 0 到 1000 之间"}},
				{"a changed code", url.Values{"code": {"370399"}, "name": {"张店区"}, "demo_road_target": {"10"}},
					map[string]string{"code": "区县代码不可修改"}},
				{"no target", url.Values{"code": {"370303"}, "name": {"张店区"}, "demo_road_target": {""}},
					map[string]string{"demo_road_target": "请填写 0 到 1000 之间的整数"}},
			} {
				before := e.snapshot()
				p := b.post(path, c.form)
				if p.Status != http.StatusBadRequest {
					t.Errorf("%s: %d, want 400", c.name, p.Status)
				}
				for _, f := range []string{"code", "name", "demo_road_target"} {
					if got := fieldError(t, p.Body, f); got != c.want[f] {
						t.Errorf("%s: beside %s %q, want %q", c.name, f, got, c.want[f])
					}
				}
				if after := e.snapshot(); !maps.Equal(before, after) {
					t.Errorf("%s stored something: %v → %v", c.name, before, after)
				}
				if got, _ := e.db.CountyByID(ctx, w.County[0]); got.Name != "张店区" || got.Code != "370303" || got.DemoRoadTarget != 10 {
					t.Errorf("%s changed the county: %+v", c.name, got)
				}
			}
			p = b.post(path, url.Values{"code": {"370303"}, "name": {"张店区（新区）"}, "demo_road_target": {"12"}})
			if p.Status != http.StatusSeeOther {
				t.Fatalf("a good edit: %d %s", p.Status, p.Body)
			}
			if got, _ := e.db.CountyByID(ctx, w.County[0]); got.Name != "张店区（新区）" || got.DemoRoadTarget != 12 {
				t.Errorf("after the edit: %+v", got)
			}
			if row := rowOf(t, b.get("/console").Body, fmt.Sprintf("county-%d", w.County[0])); len(row) < 3 || strings.Join(strings.Fields(row[2]), "") != "0/12" {
				t.Errorf("the comparison after the edit: %q, want 0/12", row)
			}
			if p := b.get("/console/counties/99999"); p.Status != http.StatusNotFound {
				t.Errorf("an unknown county's form: %d, want 404", p.Status)
			}

			// The policy in force, item by item, and where it comes from.
			pol := e.svc.Policy()
			p = b.get("/console/policy")
			if p.Status != http.StatusOK || !strings.Contains(textOf(t, p.Body, "policy-source"), "内置默认政策") {
				t.Fatalf("/console/policy: %d, source %q", p.Status, textOf(t, p.Body, "policy-source"))
			}
			if n := len(rowIDs(p.Body, "item-")); n != len(pol.Items) {
				t.Errorf("the policy page lists %d items, the policy has %d", n, len(pol.Items))
			}
			for _, it := range pol.Items {
				row := strings.Join(rowOf(t, p.Body, "item-"+it.Code), " | ")
				verb := "扣"
				if it.Kind == "bonus" {
					verb = "加"
				}
				for _, want := range []string{it.Name, fmt.Sprintf("%s %d 分", verb, it.Points), fmt.Sprintf("%d–%d 分", it.MinPoints, it.MaxPoints)} {
					if !strings.Contains(row, want) {
						t.Errorf("item %s reads %q, want %q in it", it.Code, row, want)
					}
				}
				if strings.Contains(row, "严重") != it.Serious {
					t.Errorf("item %s reads %q; serious %v", it.Code, row, it.Serious)
				}
			}
			for id, want := range map[string]string{
				"bonus-cap": fmt.Sprintf("每月 %d 分", pol.BonusCap), "watch": fmt.Sprintf("积分低于 %d 分", pol.WatchBelow),
				"band-5": "5 星 95–110 分", "band-4": "4 星 90–94 分", "band-0": "0 星 低于 75 分", "demo-target": "10",
			} {
				got := textOf(t, p.Body, id)
				if id[:4] == "band" {
					got = strings.Join(rowOf(t, p.Body, id), " ")
				}
				if got != want {
					t.Errorf("#%s reads %q, want %q", id, got, want)
				}
			}
			if got := textOf(t, p.Body, "grace"); !strings.Contains(got, fmt.Sprintf("%d 天", pol.GraceDays)) {
				t.Errorf("the grace period reads %q", got)
			}
			// Served with a policy file, the page names it.
			srv := httptest.NewServer(web.New(web.Options{Service: e.svc, Registry: prometheus.NewRegistry(), PolicyFile: "/etc/menqian/policy.yaml"}))
			defer srv.Close()
			fb := e.browser()
			fb.e = &env{t: t, db: e.db, svc: e.svc, srv: srv, clock: e.clock}
			fb.login("admin", adminPassword)
			if got := textOf(t, fb.get("/console/policy").Body, "policy-source"); !strings.Contains(got, "/etc/menqian/policy.yaml") || !strings.Contains(got, "MENQIAN_POLICY") {
				t.Errorf("with a policy file the source reads %q", got)
			}

			// None of it for a county admin, whatever it sends.
			ca := e.signedIn(w.AdminName[0])
			for _, path := range []string{"/console/counties", path, "/console/policy"} {
				if p := ca.get(path); p.Status != http.StatusForbidden || strings.Contains(p.Body, "淄川区") {
					t.Errorf("%s as a county admin: %d", path, p.Status)
				}
			}
			ca.get("/console")
			before := e.snapshot()
			for _, rq := range []struct {
				path string
				form url.Values
			}{
				{"/console/counties", url.Values{"code": {"370305"}, "name": {"周村区"}}},
				{path, url.Values{"code": {"370303"}, "name": {"张店区"}, "demo_road_target": {"0"}}},
			} {
				if p := ca.post(rq.path, rq.form); p.Status != http.StatusForbidden {
					t.Errorf("POST %s as a county admin: %d, want 403", rq.path, p.Status)
				}
			}
			if after := e.snapshot(); !maps.Equal(before, after) {
				t.Errorf("a county admin's county forms stored something: %v → %v", before, after)
			}
		})
	}
}

// TestCityComparesCountiesBrowser: the city admin signs in, sees on its home
// each county's qualified roads against the target and average score as
// CountyBoard gives them, then changes a county's target and sees it there.
func TestCityComparesCountiesBrowser(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, models.SQLite)
	w := e.seed()
	// A qualifying demonstration road in the second county: ten shops, all inspected.
	road, err := e.svc.CreateRoad(ctx, e.admin, service.RoadInput{CountyID: &w.County[1], Name: ptr("人民路"), Town: ptr("般阳路街道")})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		m, err := e.svc.CreateMerchant(ctx, e.admin, service.MerchantInput{RoadID: &road.ID, Name: ptr(fmt.Sprintf("人民路%02d号店", i+1))})
		if err != nil {
			t.Fatal(err)
		}
		e.record(w.Officer[1], m.ID, "BONUS-01", 1)
	}
	if _, err := e.svc.SetDemonstration(ctx, w.Admin[1], road.ID, service.DemoCandidate, ""); err != nil {
		t.Fatal(err)
	}
	e.record(w.Officer[0], w.Merchant[0], "ZXLH-01", 7)
	board, err := e.svc.CountyBoard(ctx, e.admin)
	if err != nil {
		t.Fatal(err)
	}
	if board[0].County.ID != w.County[1] || board[0].Qualified != 1 {
		t.Fatalf("scenario: CountyBoard %+v; want 淄川区 first with one qualified road", board)
	}

	b := e.chrome(t)
	b.viewport(1366, 768)
	b.login("admin", adminPassword)
	b.at("/console")
	b.shows("区县排名")
	check := func(target map[int64]int) {
		t.Helper()
		for _, r := range board {
			sel := fmt.Sprintf("#county-%d", r.County.ID)
			got := strings.Join(strings.Fields(b.within(sel+" .qualified")+"/"+b.within(sel+" .target")), "")
			if want := fmt.Sprintf("%d/%d", r.Qualified, target[r.County.ID]); got != want {
				t.Errorf("%s shows %s roads qualified of the target, the service says %s", r.County.Name, got, want)
			}
			if got, want := b.within(sel+" .score"), fmt.Sprintf("%.2f", r.Score); got != want {
				t.Errorf("%s shows average %s, the service says %s", r.County.Name, got, want)
			}
		}
	}
	check(map[int64]int{w.County[0]: board[1].Target, w.County[1]: board[0].Target})
	b.screenshot("console-city")

	// Change the first county's target through its form.
	b.do(chromedp.Click(chromedp.CSS(fmt.Sprintf(`#county-%d a[href="/console/counties/%d"]`, w.County[0], w.County[0]))))
	b.at(fmt.Sprintf("/console/counties/%d", w.County[0]))
	b.do(chromedp.WaitVisible(chromedp.ID("demo_road_target")))
	if got := eval[string](b, `(i => { const v = i.value; i.value = ''; return v })(document.getElementById('demo_road_target'))`); got != "10" {
		t.Errorf("the form shows target %q, want 10", got)
	}
	b.do(chromedp.SendKeys(chromedp.ID("demo_road_target"), "8"))
	b.click("保存")
	b.at("/console/counties")
	b.shows("已保存：张店区（370303），示范路目标 8 条。")
	if got := b.within(fmt.Sprintf("#county-%d .target", w.County[0])); got != "8" {
		t.Errorf("the counties list shows target %q, want 8", got)
	}
	if c, _ := e.db.CountyByID(ctx, w.County[0]); c.DemoRoadTarget != 8 {
		t.Errorf("stored target %d, want 8", c.DemoRoadTarget)
	}
	board, err = e.svc.CountyBoard(ctx, e.admin)
	if err != nil {
		t.Fatal(err)
	}
	b.click("区县对比")
	b.at("/console")
	check(map[int64]int{w.County[0]: 8, w.County[1]: 10})
	for _, r := range board {
		if r.County.ID == w.County[0] && r.Target != 8 {
			t.Errorf("CountyBoard's target after the edit: %d", r.Target)
		}
	}
	b.noScriptErrors()
}
