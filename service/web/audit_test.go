package web_test

import (
	"context"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/service"
)

var (
	auditRowRE    = regexp.MustCompile(`<tr id="event-\d+"`)
	newPasswordRE = regexp.MustCompile(`<code class="big" id="new-password">([^<]+)</code>`)
)

// TestConsoleAuditLog: the audit log page lists a county's changes in words
// (who, when, what, before → after, links to the road and the shop), filters
// by kind and pages; officers and merchants are refused; a county admin never
// sees another county's events; the city admin sees all and picks a county.
func TestConsoleAuditLog(t *testing.T) {
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
			id := func(n int64) string { return strconv.FormatInt(n, 10) }
			admin0 := w.Admin[0]
			_, err := e.svc.UpdateRoad(ctx, admin0, w.Road[0], service.RoadInput{Name: ptr("柳泉东路"), LengthM: ptr(850)})
			must(err)
			_, err = e.svc.ReissuePlaque(ctx, admin0, w.Merchant[0])
			must(err)
			entry := e.record(w.Officer[0], w.Merchant[0], "HJWS-01", 2)
			_, _, err = e.svc.ReverseEntry(ctx, admin0, w.Merchant[0], entry, "重复录入")
			must(err)
			const secret = "reset-password-777"
			_, err = e.svc.UpdateUser(ctx, admin0, w.Officer[0].UserID, service.UserChange{Password: ptr(secret)})
			must(err)
			_, err = e.svc.UpdateUser(ctx, admin0, w.Officer[0].UserID, service.UserChange{Disabled: ptr(true)})
			must(err)
			_, err = e.svc.UpdateRoad(ctx, w.Admin[1], w.Road[1], service.RoadInput{Name: ptr("淄川专属路")})
			must(err)
			_, total0, err := e.svc.AuditEvents(ctx, admin0, service.AuditFilter{})
			must(err)

			// The county admin's page.
			b := e.signedIn(w.AdminName[0])
			p := b.get("/console/audit")
			if p.Status != http.StatusOK {
				t.Fatalf("/console/audit as county admin: %d %s", p.Status, p.Body)
			}
			if n := len(auditRowRE.FindAllString(p.Body, -1)); int64(n) != total0 || total0 < 12 {
				t.Errorf("county admin's page has %d rows, the service %d", n, total0)
			}
			for _, want := range []string{
				"共 " + strconv.FormatInt(total0, 10) + " 条",
				`aria-current="page">操作记录`,
				`<span class="nowrap">2026年11月15日</span> 10:00`,
				"admin370303",
				`<td class="nowrap">修改道路</td>`,
				`道路 <a href="/console/roads/` + id(w.Road[0]) + `">柳泉东路</a>`,
				"名称：柳泉路 → 柳泉东路", "长度：— → 850 米",
				`<td class="nowrap">重新制发门牌</td>`, "门牌：第 1 版 → 第 2 版",
				`<td class="nowrap">冲正积分</td>`, `商户 <a href="/console/shops/` + id(w.Merchant[0]) + `">张记烧烤张店区（`,
				"第" + id(entry) + "号流水 HJWS-01 门前垃圾、烟头、纸屑未及时清扫 −2分",
				"冲正：未冲正 → 已冲正", "理由：重复录入",
				`<td class="nowrap">修改账号</td>`, "密码：已重置", "账号状态：正常 → 已停用",
				`<td class="nowrap">登记商户</td>`, "联系电话：13853312345",
				`<td class="nowrap">新建账号</td>`, "账号类型：巡查员", "姓名：王巡查张店区",
			} {
				if !strings.Contains(p.Body, want) {
					t.Errorf("county admin's audit log lacks %q", want)
				}
			}
			for _, never := range []string{secret, "$2a$", "淄川专属路", "淄川区", "张记烧烤淄川区", "<th>区县</th>"} {
				if strings.Contains(p.Body, never) {
					t.Errorf("county admin's audit log shows %q", never)
				}
			}
			// Newest first: the disabling before the password reset before the plaque.
			if i, j, k := strings.Index(p.Body, "账号状态：正常 → 已停用"), strings.Index(p.Body, "密码：已重置"), strings.Index(p.Body, "门牌：第 1 版"); !(i < j && j < k) {
				t.Errorf("not newest first: disable at %d, reset at %d, plaque at %d", i, j, k)
			}

			// Filtered by kind.
			p = b.get("/console/audit?kind=" + service.AuditPlaqueReissue)
			if n := len(auditRowRE.FindAllString(p.Body, -1)); p.Status != http.StatusOK || n != 1 || !strings.Contains(p.Body, "门牌：第 1 版 → 第 2 版") ||
				strings.Contains(p.Body, `<td class="nowrap">修改道路</td>`) || !strings.Contains(p.Body, `<option value="plaque.reissue" selected>重新制发门牌</option>`) {
				t.Errorf("kind filter: %d, %d rows", p.Status, n)
			}
			if p = b.get("/console/audit?kind=nonsense"); p.Status != http.StatusBadRequest || !strings.Contains(p.Body, "操作类型") {
				t.Errorf("unknown kind: %d", p.Status)
			}

			// Another county's events: refused, with none of its data.
			p = b.get("/console/audit?county_id=" + id(w.County[1]))
			if p.Status != http.StatusForbidden && p.Status != http.StatusNotFound {
				t.Errorf("county admin asking for another county: %d", p.Status)
			}
			hidden(t, "another county's audit log", p, "淄川专属路", "淄川区", "张记烧烤淄川区")

			// Officers and merchants.
			for _, user := range []string{w.OfficerName[1], w.ShopName[0]} {
				p := e.signedIn(user).get("/console/audit")
				if p.Status != http.StatusForbidden {
					t.Errorf("/console/audit as %s: %d, want 403", user, p.Status)
				}
				hidden(t, "/console/audit as "+user, p, "柳泉东路", "淄川专属路", "重复录入")
			}

			// A change made through a console form is recorded once; the
			// password the page showed once never reaches the log.
			b.get("/console/accounts")
			p = b.post("/console/accounts/"+id(w.Shop[0].UserID)+"/password", nil)
			shown := newPasswordRE.FindStringSubmatch(p.Body)
			if p.Status != http.StatusOK || shown == nil {
				t.Fatalf("password reset through the accounts page: %d", p.Status)
			}
			p = b.get("/console/audit?kind=" + service.AuditUserUpdate)
			if n := len(auditRowRE.FindAllString(p.Body, -1)); n != 3 || strings.Count(p.Body, "账号 shop370303") != 1 ||
				strings.Count(p.Body, "密码：已重置") != 2 || strings.Contains(p.Body, shown[1]) {
				t.Errorf("after a reset through the page: %d account edits (want 3), shop370303 %d times, shows the password %v",
					n, strings.Count(p.Body, "账号 shop370303"), strings.Contains(p.Body, shown[1]))
			}
			total0++

			// The city admin: every county, or one.
			c := e.browser()
			if p := c.login("admin", adminPassword); p.Status != http.StatusSeeOther {
				t.Fatalf("city admin login: %d", p.Status)
			}
			p = c.get("/console/audit")
			_, all, err := e.svc.AuditEvents(ctx, e.admin, service.AuditFilter{})
			must(err)
			if n := len(auditRowRE.FindAllString(p.Body, -1)); p.Status != http.StatusOK || int64(n) != min(all, 50) {
				t.Errorf("city admin's page: %d, %d rows, want %d", p.Status, n, min(all, 50))
			}
			for _, want := range []string{"<th>区县</th>", "淄川专属路", "柳泉东路", `<td class="nowrap">淄川区</td>`, `<td class="nowrap">张店区</td>`, "全市（含市级操作）",
				`区县 <a href="/console/counties/` + id(w.County[1]) + `">淄川区（370302）</a>`} {
				if !strings.Contains(p.Body, want) {
					t.Errorf("city admin's audit log lacks %q", want)
				}
			}
			p = c.get("/console/audit?county_id=" + id(w.County[1]))
			_, total1, err := e.svc.AuditEvents(ctx, e.admin, service.AuditFilter{CountyID: w.County[1]})
			must(err)
			if n := len(auditRowRE.FindAllString(p.Body, -1)); p.Status != http.StatusOK || int64(n) != total1 ||
				!strings.Contains(p.Body, "名称：柳泉路 → 淄川专属路") || strings.Contains(p.Body, "柳泉东路") || strings.Contains(p.Body, `<td class="nowrap">张店区</td>`) {
				t.Errorf("city admin, second county: %d, %d rows of %d", p.Status, n, total1)
			}

			// Paging: 50 a page, newest first, the filters kept.
			for i := range 45 {
				_, err := e.svc.UpdateCounty(ctx, e.admin, w.County[0], service.CountyInput{DemoRoadTarget: ptr(11 + i)})
				must(err)
			}
			_, total0, err = e.svc.AuditEvents(ctx, admin0, service.AuditFilter{})
			must(err)
			p = b.get("/console/audit")
			next := `href="/console/audit?page=2"`
			if n := len(auditRowRE.FindAllString(p.Body, -1)); n != 50 || !strings.Contains(p.Body, next) ||
				!strings.Contains(p.Body, "示范路目标：54 条 → 55 条") {
				t.Errorf("first page: %d rows (of %d), next link %v", n, total0, strings.Contains(p.Body, next))
			}
			p = b.get("/console/audit?page=2")
			if n := len(auditRowRE.FindAllString(p.Body, -1)); int64(n) != total0-50 || !strings.Contains(p.Body, `<td class="nowrap">新建区县</td>`) {
				t.Errorf("second page: %d rows, want %d with the county's creation", n, total0-50)
			}
			p = c.get("/console/audit?county_id=" + id(w.County[0]) + "&kind=" + service.AuditCountyUpdate)
			if n := len(auditRowRE.FindAllString(p.Body, -1)); n != 45 || strings.Contains(p.Body, "page=2") {
				t.Errorf("city admin, first county's edits: %d rows, want 45 on one page", n)
			}
		})
	}
}
