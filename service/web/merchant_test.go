package web_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"html"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/service"
	"github.com/menqian/menqian/service/policy"
)

// consoleShop is a shop of the first county as the tests expect the list to show it.
type consoleShop struct {
	models.Merchant
	Road string
	R    policy.Result
}

// countyShops reads every shop of a county through the service (the API's
// list, by id) with its standing now, evaluated in Go by the policy.
func countyShops(t *testing.T, e *env, a service.Actor, county int64) []consoleShop {
	t.Helper()
	ctx := context.Background()
	var ms []models.Merchant
	for off := 0; ; off += service.MaxPage {
		page, total, err := e.svc.Merchants(ctx, a, service.MerchantFilter{CountyID: county, Paging: service.Paging{Limit: service.MaxPage, Offset: off}})
		if err != nil {
			t.Fatal(err)
		}
		ms = append(ms, page...)
		if int64(len(ms)) >= total {
			break
		}
	}
	st, err := e.svc.CurrentScores(ctx, ms)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]consoleShop, len(ms))
	for i, m := range ms {
		r, err := e.svc.Road(ctx, a, m.RoadID)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = consoleShop{Merchant: m, Road: r.Name, R: st[m.ID]}
	}
	return out
}

// shopOrders sort the expected shops as the list's sort keys say.
var shopOrders = map[string]func(a, b consoleShop) int{
	"name": func(a, b consoleShop) int { return cmp.Or(strings.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID)) },
	"code": func(a, b consoleShop) int { return strings.Compare(a.Code, b.Code) },
	"score": func(a, b consoleShop) int {
		return cmp.Or(cmp.Compare(b.R.Score, a.R.Score), strings.Compare(a.Code, b.Code))
	},
	"score_asc": func(a, b consoleShop) int {
		return cmp.Or(cmp.Compare(a.R.Score, b.R.Score), strings.Compare(a.Code, b.Code))
	},
	"road": func(a, b consoleShop) int {
		return cmp.Or(strings.Compare(a.Road, b.Road), strings.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
	},
}

var countRE = regexp.MustCompile(`<p id="count">共 <strong>(\d+)</strong> 家`)

// TestConsoleShops: the shop list's search, filters (road, status, rated
// star, 重点监管), sorts and pages return exactly the shops the database and
// the policy say, in order; the forms show the service's problems beside the
// fields and store nothing on bad input; a shop's file shows its standing,
// ledger by month, notices, appeals and plaque; a new plaque needs the
// confirmation and then the old one stops resolving; closing and reopening
// need a confirmation and show in the list; other counties' shops are refused.
func TestConsoleShops(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			ctx := context.Background()
			id := func(n int64) string { return strconv.FormatInt(n, 10) }
			now := e.clock.Now()
			e.clock.Set(time.Date(2026, 10, 10, 2, 0, 0, 0, time.UTC)) // registered in October: a previous cycle
			w := e.seed()
			c0 := id(w.County[0])
			officer := w.Officer[0]
			road := func(name string) int64 {
				r, err := e.svc.CreateRoad(ctx, w.Admin[0], service.RoadInput{CountyID: &w.County[0], Name: ptr(name)})
				if err != nil {
					t.Fatal(err)
				}
				return r.ID
			}
			testRoad, second := road("测试路"), road("二号路")
			shop := func(roadID int64, name, address string) int64 {
				m, err := e.svc.CreateMerchant(ctx, w.Admin[0], service.MerchantInput{RoadID: &roadID, Name: ptr(name), Address: ptr(address)})
				if err != nil {
					t.Fatal(err)
				}
				return m.ID
			}
			a := shop(testRoad, "阿福小吃店", "测试路 1 号")     // Oct −6 (4★), Nov nothing: rated 4★ with live 100
			bb := shop(testRoad, "百味餐馆", "测试路 2 号")     // Nov −12: 88, 3★
			c := shop(second, "晨光超市", "二号路 3 号")        // Nov serious −10: 90 capped at 2★
			dd := shop(second, "大福便利店", "二号路 4 号")      // Oct serious: Nov 100 still capped at 2★
			ee := shop(testRoad, "恩泽五金", "测试路 5 号")     // Nov −45: 55, 0★, 重点监管
			ff := shop(second, "福满楼", "二号路 6 号")        // Oct −25: 75, rated 1★
			closed := shop(testRoad, "广源茶行", "测试路 9 号") // Nov −7: 93, then closed
			jj := shop(second, "金鼎烟酒店", "二号路 10 号")     // Nov −20: 80, 2★ uncapped
			kk := shop(testRoad, "康乐药房", "测试路 11 号")    // Nov −5 +2: 97
			for i := range 16 {
				shop(second, fmt.Sprintf("批发商户%02d", i), "二号路批发市场")
			}
			e.record(officer, a, "HJWS-02", 3)
			e.record(officer, a, "ZXLH-02", 3)
			e.record(officer, dd, "ZXLH-05", 10)
			e.record(officer, ff, "ZXLH-01", 8)
			e.record(officer, ff, "ZXLH-01", 8)
			e.record(officer, ff, "ZXLH-01", 8)
			e.record(officer, ff, "HJWS-01", 1)

			e.clock.Set(now)                         // November
			g := shop(testRoad, "高升面包坊", "测试路 12 号") // registered in November: no previous cycle; −3: 97, 5★
			shop(testRoad, "好运来水果", "测试路 13 号")      // registered in November, no records: 100, 5★
			e.record(officer, bb, "ZXLH-01", 7)
			e.record(officer, bb, "SRZJ-03", 5)
			e.record(officer, c, "ZXLH-05", 10)
			for range 5 {
				e.record(officer, ee, "ZXLH-01", 8)
			}
			e.record(officer, ee, "HJWS-02", 5)
			e.record(officer, closed, "ZXLH-02", 4)
			e.record(officer, closed, "ZXLH-02", 3)
			e.record(officer, jj, "SSWH-01", 8)
			e.record(officer, jj, "SSWH-01", 8)
			e.record(officer, jj, "ZXLH-04", 4)
			e.record(officer, kk, "ZXLH-01", 5)
			e.record(officer, kk, "BONUS-01", 2)
			e.record(officer, g, "HJWS-02", 3)
			if _, err := e.svc.UpdateMerchant(ctx, w.Admin[0], closed, service.MerchantInput{Status: ptr("closed")}); err != nil {
				t.Fatal(err)
			}

			all := countyShops(t, e, w.Admin[0], w.County[0])
			byID := map[int64]consoleShop{}
			for _, s := range all {
				byID[s.ID] = s
			}
			// The world is what the cases below need: every star, caps that
			// hold a live 4★ and 5★ down, a previous month holding a live 5★
			// down, a shop under 重点监管, a closed one, more than a page.
			for _, c := range []struct {
				id           int64
				score, rated int
				watch        bool
			}{{a, 100, 4, false}, {bb, 88, 3, false}, {c, 90, 2, false}, {dd, 100, 2, false}, {ee, 55, 0, true},
				{ff, 100, 1, false}, {closed, 93, 4, false}, {jj, 80, 2, false}, {kk, 97, 5, false}, {g, 97, 5, false}} {
				if r := byID[c.id].R; r.Score != c.score || r.RatedStar != c.rated || r.UnderWatch != c.watch {
					t.Fatalf("%s: score %d, rated %d★, 重点监管 %v; the test wants %d, %d★, %v", byID[c.id].Name, r.Score, r.RatedStar,
						r.UnderWatch, c.score, c.rated, c.watch)
				}
			}
			if len(all) != 29 {
				t.Fatalf("the county has %d shops, the test wants 29", len(all))
			}

			b := e.signedIn(w.AdminName[0])
			list := func(query string) page {
				t.Helper()
				p := b.get("/console/shops?county_id=" + c0 + "&" + query)
				if p.Status != http.StatusOK {
					t.Fatalf("/console/shops?%s: %d %s", query, p.Status, p.Body)
				}
				return p
			}
			for _, c := range []struct {
				query string
				keep  func(consoleShop) bool
				sort  string
				page  int
			}{
				{"", nil, "name", 1},
				{"page=2", nil, "name", 2},
				{"sort=score", nil, "score", 1},
				{"sort=score&page=2", nil, "score", 2},
				{"sort=score_asc", nil, "score_asc", 1},
				{"sort=code", nil, "code", 1},
				{"sort=road&page=2", nil, "road", 2},
				{"star=0", func(s consoleShop) bool { return s.R.RatedStar == 0 }, "name", 1},
				{"star=1", func(s consoleShop) bool { return s.R.RatedStar == 1 }, "name", 1},
				{"star=2", func(s consoleShop) bool { return s.R.RatedStar == 2 }, "name", 1},
				{"star=3&sort=score", func(s consoleShop) bool { return s.R.RatedStar == 3 }, "score", 1},
				{"star=4", func(s consoleShop) bool { return s.R.RatedStar == 4 }, "name", 1},
				{"star=5&status=active&sort=score", func(s consoleShop) bool { return s.R.RatedStar == 5 && s.Status == "active" }, "score", 1},
				{"watch=1", func(s consoleShop) bool { return s.R.UnderWatch }, "name", 1},
				{"watch=1&star=2", func(s consoleShop) bool { return s.R.UnderWatch && s.R.RatedStar == 2 }, "name", 1},
				{"status=closed", func(s consoleShop) bool { return s.Status == "closed" }, "name", 1},
				{"status=active&road=" + id(testRoad) + "&sort=score_asc", func(s consoleShop) bool {
					return s.Status == "active" && s.RoadID == testRoad
				}, "score_asc", 1},
				{"q=" + url.QueryEscape("店") + "&sort=code", func(s consoleShop) bool {
					return strings.Contains(s.Name, "店") || strings.Contains(s.Address, "店")
				}, "code", 1},
				{"q=" + url.QueryEscape("二号路") + "&star=2&sort=score", func(s consoleShop) bool {
					return (strings.Contains(s.Name, "二号路") || strings.Contains(s.Address, "二号路")) && s.R.RatedStar == 2
				}, "score", 1},
				{"q=" + byID[jj].Code, func(s consoleShop) bool { return s.Code == byID[jj].Code }, "name", 1},
			} {
				want := slices.Clone(all)
				if c.keep != nil {
					want = slices.DeleteFunc(want, func(s consoleShop) bool { return !c.keep(s) })
				}
				slices.SortStableFunc(want, shopOrders[c.sort])
				total := len(want)
				want = want[min(len(want), (c.page-1)*20):min(len(want), c.page*20)]
				p := list(c.query)
				got := tableRowIDs(p, "shops", "shop")
				var wantIDs, wantNames, gotNames []string
				for _, s := range want {
					wantIDs, wantNames = append(wantIDs, id(s.ID)), append(wantNames, s.Name)
					row := tableRow(p, "shop-"+id(s.ID))
					if !strings.Contains(row, ">"+html.EscapeString(s.Name)+"</a>") || !strings.Contains(row, `<td class="num score">`+strconv.Itoa(s.R.Score)+"</td>") ||
						!strings.Contains(row, `<td class="num star">`+strconv.Itoa(s.R.RatedStar)+" 星</td>") || !strings.Contains(row, ">"+s.Road+"<") {
						t.Errorf("?%s: the row of %s is %q, want its name, road %s, score %d and %d★", c.query, s.Name, row, s.Road, s.R.Score, s.R.RatedStar)
					}
				}
				for _, n := range got {
					gotNames = append(gotNames, byID[n].Name)
				}
				if fmt.Sprint(gotNames) != fmt.Sprint(wantNames) || len(got) != len(wantIDs) {
					t.Errorf("?%s: shops %v, want %v", c.query, gotNames, wantNames)
				}
				if m := countRE.FindStringSubmatch(p.Body); m == nil || m[1] != strconv.Itoa(total) {
					t.Errorf("?%s: the count says %v, want %d", c.query, m, total)
				}
			}
			// The pager: 21 shops of 5★ are two pages, linked with the filters kept.
			p := list("sort=score&star=5")
			if n := len(slices.DeleteFunc(slices.Clone(all), func(s consoleShop) bool { return s.R.RatedStar != 5 })); n <= 20 {
				t.Fatalf("only %d shops of 5★: the pager case needs more than 20", n)
			}
			links := regexp.MustCompile(`<nav class="pager noprint" aria-label="翻页" id="pager">[\s\S]*?</nav>`).FindString(p.Body)
			m := regexp.MustCompile(`<a href="([^"]*)">2</a>`).FindStringSubmatch(links)
			if m == nil {
				t.Fatalf("page 1 of 5★ has no link to page 2: %q", links)
			}
			next, _ := url.Parse(html.UnescapeString(m[1]))
			if q := next.Query(); next.Path != "/console/shops" || q.Get("page") != "2" || q.Get("star") != "5" || q.Get("sort") != "score" || q.Get("county_id") != c0 {
				t.Errorf("the link to page 2 is %q, want the filters kept", next)
			}
			if !strings.Contains(links, "下一页") || strings.Contains(links, "上一页") {
				t.Errorf("page 1's pager: %q", links)
			}
			for _, bad := range []string{"star=6", "star=x", "sort=rank", "page=0", "status=open"} {
				if p := b.get("/console/shops?county_id=" + c0 + "&" + bad); p.Status != http.StatusBadRequest {
					t.Errorf("/console/shops?%s: %d, want 400", bad, p.Status)
				}
			}

			// A new shop: refused input shows beside the fields and stores nothing.
			if p := b.get("/console/shops/new?county_id=" + c0); p.Status != http.StatusOK || !strings.Contains(p.Body, `<option value="`+id(testRoad)+`">测试路</option>`) {
				t.Fatalf("the new shop form: %d, lists the roads: %v", p.Status, strings.Contains(p.Body, "测试路"))
			}
			for _, c := range []struct {
				name   string
				form   url.Values
				status int
				field  map[string]string
			}{
				{"bad fields", url.Values{"road_id": {id(testRoad)}, "name": {""}, "uscc": {"91370300000000000X"}, "phone": {"12345"}, "lat": {"北纬"}, "lng": {"118.05"}},
					http.StatusBadRequest, map[string]string{"name": "必填", "uscc": "统一社会信用代码无效", "phone": "电话号码无效", "lat": "纬度应在 -90 到 90 之间"}},
				{"no road", url.Values{"name": {"无路商户"}}, http.StatusBadRequest, map[string]string{"road_id": "必填"}},
				{"another county's road", url.Values{"road_id": {id(w.Road[1])}, "name": {"越界商户"}}, http.StatusBadRequest,
					map[string]string{"road_id": "道路不存在"}},
				{"a registered USCC", url.Values{"road_id": {id(testRoad)}, "name": {"重复商户"}, "uscc": {uscc(0)}}, http.StatusConflict,
					map[string]string{"uscc": "统一社会信用代码已存在"}},
			} {
				b.get("/console/shops/new?county_id=" + c0)
				before := e.snapshot()
				p := b.post("/console/shops?county_id="+c0, c.form)
				if p.Status != c.status {
					t.Errorf("%s: %d, want %d", c.name, p.Status, c.status)
				}
				for f, want := range c.field {
					besideField(t, c.name, p, f, want)
				}
				for _, f := range []string{"lng", "category"} {
					noProblemAt(t, c.name, p, f)
				}
				if v := c.form.Get("phone"); v != "" && !strings.Contains(p.Body, `value="`+v+`"`) {
					t.Errorf("%s: the form lost the phone typed", c.name)
				}
				if after := e.snapshot(); !maps.Equal(before, after) {
					t.Errorf("%s stored something: %v → %v", c.name, before, after)
				}
			}
			p = b.post("/console/shops?county_id="+c0, url.Values{"road_id": {id(testRoad)}, "name": {"新开小卖部"}, "uscc": {uscc(100)},
				"category": {"零售"}, "owner_name": {"刘四"}, "phone": {"13912345678"}, "address": {"测试路 20 号"}, "lat": {"36.8"}, "lng": {"118.05"}})
			loc := p.Header.Get("Location")
			newID, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(loc, "/console/shops/"), "?created=1"), 10, 64)
			if p.Status != http.StatusSeeOther || err != nil {
				t.Fatalf("add a shop: %d to %q: %s", p.Status, loc, p.Body)
			}
			m0, err := e.svc.Merchant(ctx, w.Admin[0], newID)
			if err != nil || m0.Name != "新开小卖部" || m0.USCC == nil || *m0.USCC != uscc(100) || m0.Category != "零售" || m0.OwnerName != "刘四" ||
				m0.Phone != "13912345678" || m0.Address != "测试路 20 号" || m0.Lat == nil || *m0.Lat != 36.8 || m0.Lng == nil || *m0.Lng != 118.05 ||
				m0.RoadID != testRoad || m0.CountyID != w.County[0] || m0.Status != "active" {
				t.Fatalf("the shop stored: %+v, %v", m0, err)
			}
			p = b.get(loc)
			for _, want := range []string{"已添加商户，一户一码编码 " + m0.Code, `<div class="value" id="score">100</div>`, `<div class="value" id="rated-star">5 星</div>`,
				`<img class="plaque-qr" src="/api/v1/merchants/` + id(newID) + `/qrcode.png?size=256"`, "91370300", "刘四", "13912345678", "测试路 20 号", "零售"} {
				if !strings.Contains(p.Body, want) {
					t.Errorf("the new shop's page lacks %q", want)
				}
			}

			// Its changes: refused input stores nothing; good input is stored.
			if p := b.get("/console/shops/" + id(newID) + "/edit"); p.Status != http.StatusOK || !strings.Contains(p.Body, `value="13912345678"`) {
				t.Fatalf("the edit form: %d, has the phone: %v", p.Status, strings.Contains(p.Body, "13912345678"))
			}
			before := e.snapshot()
			p = b.post("/console/shops/"+id(newID), url.Values{"road_id": {id(second)}, "name": {"新开小卖部二店"}, "phone": {"139"}, "uscc": {uscc(100)}})
			if p.Status != http.StatusBadRequest {
				t.Errorf("edit with a bad phone: %d, want 400", p.Status)
			}
			besideField(t, "edit with a bad phone", p, "phone", "电话号码无效")
			if after := e.snapshot(); !maps.Equal(before, after) {
				t.Errorf("a refused edit stored something: %v → %v", before, after)
			}
			if got, _ := e.svc.Merchant(ctx, w.Admin[0], newID); got.Name != "新开小卖部" || got.RoadID != testRoad {
				t.Errorf("after a refused edit the shop is %+v", got)
			}
			p = b.post("/console/shops/"+id(newID), url.Values{"road_id": {id(second)}, "name": {"新开小卖部二店"}, "phone": {"0533-1234567"},
				"uscc": {""}, "category": {"零售"}, "address": {"二号路 20 号"}})
			if p.Status != http.StatusSeeOther {
				t.Fatalf("edit: %d %s", p.Status, p.Body)
			}
			if got, _ := e.svc.Merchant(ctx, w.Admin[0], newID); got.Name != "新开小卖部二店" || got.RoadID != second || got.Phone != "0533-1234567" ||
				got.USCC != nil || got.Address != "二号路 20 号" || got.OwnerName != "" {
				t.Errorf("after the edit the shop is %+v", got)
			}

			// A shop's file: standing, the month's ledger and the other months,
			// notices and appeals.
			n, err := e.svc.IssueNotice(ctx, officer, a, service.NoticeInput{RuleCode: "SRZJ-01", Note: "门前小广告"})
			if err != nil {
				t.Fatal(err)
			}
			p = b.get("/console/shops/" + id(a))
			for _, want := range []string{`<div class="value" id="score">100</div>`, `<div class="value" id="rated-star">4 星</div>`, "上月最终 94 分（4 星）",
				`?cycle=2026-10#ledger">2026年10月</a>`, `?cycle=2026-11#ledger" aria-current="page">2026年11月</a>`, "本月还没有记录",
				`id="notice-` + id(n.ID) + `"`, "乱贴乱画、张贴小广告", "门前小广告", "没有申诉"} {
				if !strings.Contains(p.Body, want) {
					t.Errorf("阿福小吃店's file lacks %q", want)
				}
			}
			p = b.get("/console/shops/" + id(a) + "?cycle=2026-10")
			if !strings.Contains(p.Body, `<strong id="month-score">94</strong>`) || strings.Count(p.Body, `<li class="entry"`) != 2 ||
				!strings.Contains(p.Body, "垃圾外溢、乱倒污水") {
				t.Errorf("阿福小吃店's October: score 94 and its 2 entries shown: %v, %d entries", strings.Contains(p.Body, `id="month-score">94<`),
					strings.Count(p.Body, `<li class="entry"`))
			}
			entry := e.record(officer, w.Merchant[0], "HJWS-02", 4)
			if _, err := e.svc.FileAppeal(ctx, w.Shop[0], w.Merchant[0], entry, "当天已经清理干净"); err != nil {
				t.Fatal(err)
			}
			if p := b.get("/console/shops/" + id(w.Merchant[0])); !strings.Contains(p.Body, "当天已经清理干净") || !strings.Contains(p.Body, "待审核") ||
				!strings.Contains(p.Body, "−4 分 垃圾外溢、乱倒污水") {
				t.Errorf("张记烧烤's file does not show its pending appeal of −4")
			}

			// A new plaque only after the confirmation; then the old one is dead.
			plaqued, _ := e.svc.Merchant(ctx, w.Admin[0], a)
			oldToken := e.svc.PlaqueToken(plaqued)
			resolves := func() bool {
				_, err := e.svc.ProfileByToken(ctx, oldToken)
				return err == nil
			}
			b.get("/console/shops/" + id(a))
			for _, c := range []struct {
				name   string
				form   url.Values
				status int
				shows  string
			}{
				{"the button", nil, http.StatusOK, "我确认旧门牌将失效"},
				{"the confirmation without the box ticked", url.Values{"confirm": {"1"}}, http.StatusBadRequest, "请勾选“我确认旧门牌将失效”后再提交"},
				{"the box without the confirmation", url.Values{"ack": {"yes"}}, http.StatusOK, "确认重新制作门牌"},
			} {
				before := e.snapshot()
				p := b.post("/console/shops/"+id(a)+"/reissue", c.form)
				if p.Status != c.status || !strings.Contains(p.Body, c.shows) {
					t.Errorf("reissue, %s: %d, shows %q: %v; want %d", c.name, p.Status, c.shows, strings.Contains(p.Body, c.shows), c.status)
				}
				if after := e.snapshot(); !maps.Equal(before, after) || !resolves() {
					t.Errorf("reissue, %s: changed the plaque", c.name)
				}
			}
			if p := b.post("/console/shops/"+id(a)+"/reissue", url.Values{"confirm": {"1"}, "ack": {"yes"}}); p.Status != http.StatusSeeOther {
				t.Fatalf("reissue confirmed: %d %s", p.Status, p.Body)
			}
			_, err = e.svc.ProfileByToken(ctx, oldToken)
			if !errors.Is(err, service.ErrPlaqueReplaced) {
				t.Errorf("the old plaque after the reissue: %v, want it replaced", err)
			}
			m2, _ := e.svc.Merchant(ctx, w.Admin[0], a)
			if prof, err := e.svc.ProfileByToken(ctx, e.svc.PlaqueToken(m2)); err != nil || prof.Name != "阿福小吃店" || m2.QRGeneration != plaqued.QRGeneration+1 {
				t.Errorf("the new plaque: generation %d → %d, resolves to %q, %v", plaqued.QRGeneration, m2.QRGeneration, prof.Name, err)
			}
			if p := b.get("/console/shops/" + id(a) + "?reissued=1"); !strings.Contains(p.Body, fmt.Sprintf("第 %d 版门牌", m2.QRGeneration)) {
				t.Errorf("the shop's page does not show plaque generation %d", m2.QRGeneration)
			}

			// Closing and reopening: a confirmation, then it shows in the lists.
			statusIs := func(want string) {
				t.Helper()
				if got, _ := e.svc.Merchant(ctx, w.Admin[0], bb); got.Status != want {
					t.Errorf("百味餐馆 is %s, want %s", got.Status, want)
				}
			}
			b.get("/console/shops/" + id(bb))
			if p := b.post("/console/shops/"+id(bb)+"/status", url.Values{"status": {"closed"}}); p.Status != http.StatusOK || !strings.Contains(p.Body, "确认注销") {
				t.Errorf("close without confirmation: %d, asks: %v", p.Status, strings.Contains(p.Body, "确认注销"))
			}
			statusIs("active")
			if p := b.post("/console/shops/"+id(bb)+"/status", url.Values{"status": {"closed"}, "confirm": {"1"}}); p.Status != http.StatusSeeOther {
				t.Fatalf("close: %d %s", p.Status, p.Body)
			}
			statusIs("closed")
			if p := b.get("/console/shops/" + id(bb) + "?status=closed"); !strings.Contains(p.Body, `<div class="value" id="status">已注销</div>`) || !strings.Contains(p.Body, "恢复营业") {
				t.Errorf("the closed shop's page does not say so")
			}
			if ids := tableRowIDs(list("status=closed"), "shops", "shop"); !slices.Contains(ids, bb) {
				t.Errorf("closed shops %v lack 百味餐馆", ids)
			}
			if ids := tableRowIDs(list("status=active&road="+id(testRoad)), "shops", "shop"); slices.Contains(ids, bb) {
				t.Errorf("active shops %v still list 百味餐馆", ids)
			}
			if p := b.post("/console/shops/"+id(bb)+"/status", url.Values{"status": {"active"}}); p.Status != http.StatusOK || !strings.Contains(p.Body, "确认恢复营业") {
				t.Errorf("reopen without confirmation: %d", p.Status)
			}
			statusIs("closed")
			if p := b.post("/console/shops/"+id(bb)+"/status", url.Values{"status": {"active"}, "confirm": {"1"}}); p.Status != http.StatusSeeOther {
				t.Fatalf("reopen: %d", p.Status)
			}
			statusIs("active")

			// The second county's shops, from the first county's admin.
			m1 := id(w.Merchant[1])
			other := []string{"张记烧烤淄川区", "李家面馆淄川区"}
			b.get("/console/shops?county_id=" + c0)
			for _, c := range []struct {
				what string
				send func() page
			}{
				{"shop list", func() page { return b.get("/console/shops?county_id=" + id(w.County[1])) }},
				{"new shop form", func() page { return b.get("/console/shops/new?county_id=" + id(w.County[1])) }},
				{"shop", func() page { return b.get("/console/shops/" + m1) }},
				{"shop's edit form", func() page { return b.get("/console/shops/" + m1 + "/edit") }},
				{"unknown shop", func() page { return b.get("/console/shops/99999999") }},
				{"shops added", func() page {
					return b.post("/console/shops?county_id="+id(w.County[1]), url.Values{"road_id": {id(w.Road[1])}, "name": {"越界"}})
				}},
				{"shop's edit", func() page {
					return b.post("/console/shops/"+m1, url.Values{"road_id": {id(w.Road[1])}, "name": {"改名"}})
				}},
				{"shop's new plaque", func() page {
					return b.post("/console/shops/"+m1+"/reissue", url.Values{"confirm": {"1"}, "ack": {"yes"}})
				}},
				{"shop's closing", func() page {
					return b.post("/console/shops/"+m1+"/status", url.Values{"status": {"closed"}, "confirm": {"1"}})
				}},
				{"road's shops", func() page { return b.get("/console/shops?county_id=" + c0 + "&road=" + id(w.Road[1])) }},
			} {
				refusedWith(t, e, "the second county's "+c.what, c.send, other...)
			}
		})
	}
}
