package web_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/service"
	"github.com/menqian/menqian/service/leaderboard"
)

// dashScenario is the seeded world with two months of records in the first
// county: 柳泉路 (the two seeded shops), 华光路 (ten shops, all inspected in
// November, one of them under 重点监管 with two serious items) and 共青团路
// (two shops, one deducted 25 points); all three are designated
// demonstration roads. The first shop has two pending appeals (one past its
// decision deadline), its neighbour an overdue notice and it an open one.
type dashScenario struct {
	w                  world
	huaguang, gongqing int64   // road ids
	hg, gq             []int64 // their shops
	appeals            [2]int64
}

// shanghaiAt is 10:00 in Shanghai on the day of 2026.
func shanghaiAt(month time.Month, day int) time.Time {
	return time.Date(2026, month, day, 2, 0, 0, 0, time.UTC)
}

func (e *env) dashboardScenario() dashScenario {
	e.t.Helper()
	ctx := context.Background()
	must := func(err error) {
		e.t.Helper()
		if err != nil {
			e.t.Fatal(err)
		}
	}
	e.clock.Set(shanghaiAt(time.October, 10))
	s := dashScenario{w: e.seed()}
	w := s.w
	road := func(name string) int64 {
		r, err := e.svc.CreateRoad(ctx, e.admin, service.RoadInput{CountyID: &w.County[0], Name: ptr(name), Town: ptr("车站街道")})
		must(err)
		return r.ID
	}
	shops := func(road int64, prefix string, n int) []int64 {
		var ids []int64
		for i := range n {
			m, err := e.svc.CreateMerchant(ctx, e.admin, service.MerchantInput{RoadID: &road, Name: ptr(fmt.Sprintf("%s%02d号店", prefix, i+1))})
			must(err)
			ids = append(ids, m.ID)
		}
		return ids
	}
	s.huaguang, s.gongqing = road("华光路"), road("共青团路")
	s.hg, s.gq = shops(s.huaguang, "华光", 10), shops(s.gongqing, "共青团", 2)
	for _, r := range []struct {
		id     int64
		status []string
	}{{w.Road[0], []string{service.DemoCandidate}}, {s.huaguang, []string{service.DemoCandidate, service.DemoBuilding}},
		{s.gongqing, []string{service.DemoCandidate}}} {
		for _, st := range r.status {
			_, err := e.svc.SetDemonstration(ctx, w.Admin[0], r.id, st, "")
			must(err)
		}
	}

	// October.
	off := w.Officer[0]
	e.record(off, w.Merchant[0], "HJWS-01", 2)
	e.record(off, s.hg[0], "SSWH-01", 5)

	// November: an appeal filed on the 2nd is overdue by the 24th.
	e.clock.Set(shanghaiAt(time.November, 2))
	first := e.record(off, w.Merchant[0], "HJWS-02", 3)
	ap, err := e.svc.FileAppeal(ctx, w.Shop[0], w.Merchant[0], first, "当时门前已清扫")
	must(err)
	s.appeals[0] = ap.ID
	_, err = e.svc.IssueNotice(ctx, off, w.Other[0], service.NoticeInput{RuleCode: "ZXLH-02", Note: "门前纸箱"})
	must(err)

	e.clock.Set(shanghaiAt(time.November, 24))
	for _, id := range s.hg[:9] {
		e.record(off, id, "BONUS-01", 2)
	}
	e.record(off, s.hg[9], "ZXLH-05", 20)
	e.record(off, s.hg[9], "ZXLH-05", 19)
	e.record(off, s.hg[9], "SSWH-01", 6)
	for _, c := range []struct {
		rule   string
		points int
	}{{"SSWH-01", 8}, {"ZXLH-01", 8}, {"SSWH-01", 7}, {"HJWS-01", 2}} {
		e.record(off, s.gq[0], c.rule, c.points)
	}
	second := e.record(off, w.Merchant[0], "HJWS-01", 1)
	ap, err = e.svc.FileAppeal(ctx, w.Shop[0], w.Merchant[0], second, "不是我家门前")
	must(err)
	s.appeals[1] = ap.ID
	_, err = e.svc.IssueNotice(ctx, off, w.Merchant[0], service.NoticeInput{RuleCode: "SRZJ-01", Note: "小广告"})
	must(err)
	return s
}

// textOf is the text of the element with the id in a page (tags removed).
func textOf(t *testing.T, body, id string) string {
	t.Helper()
	m := regexp.MustCompile(`id="` + regexp.QuoteMeta(id) + `"[^>]*>(.*?)</(?:span|div|td|tr|p|ul|dd)>`).FindStringSubmatch(body)
	if m == nil {
		t.Errorf("the page has no element #%s", id)
		return ""
	}
	return strings.TrimSpace(html.UnescapeString(tagRE.ReplaceAllString(m[1], "")))
}

var tagRE = regexp.MustCompile(`<[^>]*>`)

// rowOf is the cells' texts of the table row with the id.
func rowOf(t *testing.T, body, id string) []string {
	t.Helper()
	m := regexp.MustCompile(`(?s)<tr id="` + regexp.QuoteMeta(id) + `"[^>]*>(.*?)</tr>`).FindStringSubmatch(body)
	if m == nil {
		t.Errorf("the page has no row #%s", id)
		return nil
	}
	var cells []string
	for _, c := range regexp.MustCompile(`(?s)<td[^>]*>(.*?)</td>`).FindAllStringSubmatch(m[1], -1) {
		cells = append(cells, strings.TrimSpace(html.UnescapeString(tagRE.ReplaceAllString(c[1], " "))))
	}
	return cells
}

// rowIDs lists the ids of the rows of a table whose ids start with prefix, in order.
func rowIDs(body, prefix string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`<tr id="(`+regexp.QuoteMeta(prefix)+`[^"]*)"`).FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

func pct(k, n int) string {
	if n == 0 {
		return "0%"
	}
	return strconv.FormatFloat(float64(int(float64(k)*1000/float64(n)+0.5))/10, 'f', -1, 64) + "%"
}

// TestCountyDashboard: the county admin's home shows the numbers the
// service's reports, rankings and lists (what the API serves) give for the
// same cycle; past cycles of the trend come from the frozen results once
// closed; other roles and other counties' admins see none of it.
func TestCountyDashboard(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			s := e.dashboardScenario()
			w := s.w
			admin := w.Admin[0]
			county := w.County[0]

			b := e.signedIn(w.AdminName[0])
			p := b.get("/console")
			if p.Status != http.StatusOK {
				t.Fatalf("/console: %d %s", p.Status, p.Body)
			}

			// This cycle at a glance, against the leaderboards and reports.
			board, err := e.svc.CountyBoard(ctx, e.admin)
			if err != nil {
				t.Fatal(err)
			}
			var rank service.CountyRank
			for _, r := range board {
				if r.County.ID == county {
					rank = r
				}
			}
			top, err := e.svc.MerchantBoard(ctx, admin, service.BoardQuery{Scope: leaderboard.County, ID: county, Paging: service.Paging{Limit: service.MaxPage}})
			if err != nil {
				t.Fatal(err)
			}
			if top.Total != 14 || rank.Merchants != 14 || len(top.Items) != 14 {
				t.Fatalf("the county ranks %d merchants (%d listed), CountyBoard %d; want 14", top.Total, len(top.Items), rank.Merchants)
			}
			stars, watch, sum := make([]int, 6), 0, 0
			for _, m := range top.Items {
				stars[m.RatedStar]++
				sum += m.Score
				if m.Score < e.svc.Policy().WatchBelow {
					watch++
				}
			}
			bul, err := e.svc.CountyBulletin(ctx, admin, county, "2026-11")
			if err != nil {
				t.Fatal(err)
			}
			inspected := 0
			for _, r := range bul.Roads {
				inspected += r.Metrics.Inspected
			}
			_, open, err := e.svc.NoticeList(ctx, admin, service.NoticeFilter{Status: service.NoticesOpen})
			if err != nil {
				t.Fatal(err)
			}
			_, overdue, err := e.svc.NoticeList(ctx, admin, service.NoticeFilter{Status: service.NoticesOverdue})
			if err != nil {
				t.Fatal(err)
			}
			aps, pending, err := e.svc.Appeals(ctx, admin, service.AppealFilter{Status: "pending"})
			if err != nil {
				t.Fatal(err)
			}
			late := 0
			for _, ap := range aps {
				if e.clock.Now().After(service.AppealDecisionDue(ap)) {
					late++
				}
			}
			if watch != 1 || open != 2 || overdue != 1 || pending != 2 || late != 1 || inspected != 12 {
				t.Fatalf("scenario: %d under watch, %d open and %d overdue notices, %d pending appeals (%d late), %d inspected; want 1, 2, 1, 2 (1), 12",
					watch, open, overdue, pending, late, inspected)
			}
			for _, c := range []struct{ id, want string }{
				{"stat-merchants", strconv.Itoa(top.Total)},
				{"stat-inspected", strconv.Itoa(inspected)},
				{"stat-inspected-share", pct(inspected, top.Total)},
				{"stat-average", fmt.Sprintf("%.2f", rank.Score)},
				{"stat-watch", strconv.Itoa(watch)},
				{"stat-notices", strconv.FormatInt(open, 10)},
				{"stat-notices-overdue", strconv.FormatInt(overdue, 10)},
				{"stat-appeals", strconv.FormatInt(pending, 10)},
				{"stat-appeals-overdue", strconv.Itoa(late)},
			} {
				if got := textOf(t, p.Body, c.id); got != c.want {
					t.Errorf("#%s shows %q, the service says %q", c.id, got, c.want)
				}
			}
			if want := fmt.Sprintf("%.2f", float64(sum)/14); want != fmt.Sprintf("%.2f", rank.Score) {
				t.Errorf("the leaderboard's scores average %s, CountyBoard %.2f", want, rank.Score)
			}
			for n, k := range stars {
				row := rowOf(t, p.Body, fmt.Sprintf("star-%d", n))
				if len(row) != 3 || row[1] != strconv.Itoa(k) || row[2] != pct(k, top.Total) {
					t.Errorf("the %d★ row is %q, want %d merchants (%s)", n, row, k, pct(k, top.Total))
				}
			}
			if !strings.Contains(p.Body, "<svg class=\"chart\"") || !strings.Contains(p.Body, "<details><summary>查看数据表</summary>") {
				t.Errorf("the dashboard has no SVG chart with a data table behind a <details>")
			}

			// The pending appeals, the longest waiting first, with their deadlines.
			if got, want := rowIDs(p.Body, "appeal-"), []string{fmt.Sprintf("appeal-%d", s.appeals[0]), fmt.Sprintf("appeal-%d", s.appeals[1])}; !slices.Equal(got, want) {
				t.Errorf("appeals listed %v, want %v (overdue first)", got, want)
			}
			for i, ap := range []int64{s.appeals[0], s.appeals[1]} {
				got, err := e.db.AppealByID(ctx, ap)
				if err != nil {
					t.Fatal(err)
				}
				due := service.AppealDecisionDue(got).In(e.svc.Policy().Location()).Format("2006年1月2日")
				row := strings.Join(rowOf(t, p.Body, fmt.Sprintf("appeal-%d", ap)), " | ")
				if !strings.Contains(row, due) || strings.Contains(row, "已超期") != (i == 0) || !strings.Contains(row, "张记烧烤张店区") {
					t.Errorf("appeal %d reads %q; want its shop, the deadline %s, overdue %v", ap, row, due, i == 0)
				}
			}

			// The ten-road programme, with the failing criteria in words.
			demo, err := e.svc.Demonstration(ctx, admin, county)
			if err != nil {
				t.Fatal(err)
			}
			if demo.Designated != 3 || demo.Qualified != 0 {
				t.Fatalf("scenario: %d designated, %d qualified; want 3, 0", demo.Designated, demo.Qualified)
			}
			for _, c := range []struct{ id, want string }{
				{"demo-target", strconv.Itoa(demo.Target)}, {"demo-designated", strconv.Itoa(demo.Designated)},
				{"demo-accepted", strconv.Itoa(demo.Accepted)}, {"demo-qualified", strconv.Itoa(demo.Qualified)},
			} {
				if got := textOf(t, p.Body, c.id); got != c.want {
					t.Errorf("#%s shows %q, the service says %q", c.id, got, c.want)
				}
			}
			for _, c := range []struct {
				road int64
				want []string
			}{
				{w.Road[0], []string{"在营商户 2 家，不足 10 家", "有 1 家本月未巡查", "本月有 1 份整改通知逾期"}},
				{s.huaguang, []string{"本月有 2 项严重违规"}},
				{s.gongqing, []string{"在营商户 2 家，不足 10 家", "有 1 家本月未巡查", "平均分 87.5 低于 90", "4 星及以上 1 家（50%），不足 80%"}},
			} {
				row := rowOf(t, p.Body, fmt.Sprintf("demo-road-%d", c.road))
				if len(row) != 6 {
					continue
				}
				var words []string
				for _, l := range strings.Split(row[5], "  ") {
					if l = strings.TrimSpace(l); l != "" {
						words = append(words, l)
					}
				}
				if !slices.Equal(words, c.want) || row[4] != "未达标" {
					t.Errorf("road %d: %q, failing %q; want 未达标 with %q", c.road, row[4], words, c.want)
				}
			}

			// The road ranking: the service's order and scores.
			roads, err := e.svc.RoadBoard(ctx, admin, county, "")
			if err != nil {
				t.Fatal(err)
			}
			var wantIDs []string
			for _, r := range roads {
				wantIDs = append(wantIDs, fmt.Sprintf("road-%d", r.RoadID))
				row := rowOf(t, p.Body, fmt.Sprintf("road-%d", r.RoadID))
				if len(row) < 4 || row[0] != strconv.Itoa(r.Rank) || row[1] != r.Name || row[2] != fmt.Sprintf("%.2f", r.Score) || row[3] != strconv.Itoa(r.Merchants) {
					t.Errorf("road %s reads %q, the ranking says #%d %.2f with %d merchants", r.Name, row, r.Rank, r.Score, r.Merchants)
				}
			}
			if got := rowIDs(p.Body, "road-"); !slices.Equal(got, wantIDs) {
				t.Errorf("roads in the order %v, the ranking's is %v", got, wantIDs)
			}

			// The trend: this cycle live; October, not closed yet, computed
			// from the score rows; before October, no merchants.
			now := rowOf(t, p.Body, "trend-2026-11")
			if len(now) != 4 || now[1] != fmt.Sprintf("%.2f", rank.Score) || now[3] != "本月实时" {
				t.Errorf("November in the trend: %q, want %.2f, live", now, rank.Score)
			}
			oct := rowOf(t, p.Body, "trend-2026-10")
			if len(oct) != 4 || oct[3] != "未结算（按当前积分记录计算）" {
				t.Errorf("October in the trend: %q, want it computed (not closed)", oct)
			}
			if sep := rowOf(t, p.Body, "trend-2026-09"); len(sep) != 4 || sep[1] != "—" || sep[2] != "0" {
				t.Errorf("September in the trend: %q, want no merchants", sep)
			}
			if n := len(rowIDs(p.Body, "trend-")); n != 12 {
				t.Errorf("the trend has %d months, want 12", n)
			}
			// October's bulletin closes it; the trend then reads the frozen results, the same figure.
			octBoard, err := e.svc.MerchantBoard(ctx, admin, service.BoardQuery{Scope: leaderboard.County, ID: county, Cycle: "2026-10", Paging: service.Paging{Limit: service.MaxPage}})
			if err != nil {
				t.Fatal(err)
			}
			octSum := 0
			for _, m := range octBoard.Items {
				octSum += m.Score
			}
			if _, err := e.db.ClosedCycleByName(ctx, "2026-10"); err != nil {
				t.Fatalf("October not closed by its ranking: %v", err)
			}
			octAverage := fmt.Sprintf("%.2f", float64((int64(octSum)*200+int64(octBoard.Total))/(2*int64(octBoard.Total)))/100)
			if octBoard.Total != 14 || len(oct) != 4 || oct[1] != octAverage || oct[2] != "14" {
				t.Errorf("October computed %q; the frozen ranking has %d merchants averaging %s", oct, octBoard.Total, octAverage)
			}
			p = b.get("/console")
			if frozen := rowOf(t, p.Body, "trend-2026-10"); len(frozen) != 4 || len(oct) != 4 || frozen[1] != oct[1] || frozen[2] != oct[2] || frozen[3] != "已结算" {
				t.Errorf("October after closing: %q, before %q; want the same figures, 已结算", frozen, oct)
			}

			// The city admin sees the same dashboard of a county it picks.
			city := e.browser()
			if p := city.login("admin", adminPassword); p.Status != http.StatusSeeOther {
				t.Fatalf("city login: %d", p.Status)
			}
			cp := city.get(fmt.Sprintf("/console?county_id=%d", county))
			if cp.Status != http.StatusOK || textOf(t, cp.Body, "stat-average") != fmt.Sprintf("%.2f", rank.Score) {
				t.Errorf("the city admin's view of the county: %d, average %q", cp.Status, textOf(t, cp.Body, "stat-average"))
			}

			// Officers, merchants and the other county's admin see none of it.
			names := []string{"华光01号店", "共青团01号店", "张记烧烤张店区", "华光路"}
			for _, c := range []struct {
				user, path string
				want       []int
			}{
				{w.OfficerName[0], "/console", []int{http.StatusForbidden}},
				{w.ShopName[0], "/console", []int{http.StatusForbidden}},
				{w.OfficerName[0], fmt.Sprintf("/console?county_id=%d", county), []int{http.StatusForbidden}},
				{w.AdminName[1], fmt.Sprintf("/console?county_id=%d", county), []int{http.StatusNotFound, http.StatusForbidden}},
				{w.AdminName[0], "/console?county_id=abc", []int{http.StatusNotFound}},
			} {
				p := e.signedIn(c.user).get(c.path)
				if !slices.Contains(c.want, p.Status) {
					t.Errorf("%s as %s: %d, want %v", c.path, c.user, p.Status, c.want)
				}
				if c.user != w.AdminName[0] {
					hidden(t, c.path+" as "+c.user, p, names...)
				}
			}
			// The other county's admin gets its own county's dashboard.
			if p := e.signedIn(w.AdminName[1]).get("/console"); p.Status != http.StatusOK || textOf(t, p.Body, "stat-merchants") != "2" {
				t.Errorf("the other county's dashboard: %d with %q merchants, want its own 2", p.Status, textOf(t, p.Body, "stat-merchants"))
			} else {
				hidden(t, "the other county's dashboard", p, names...)
			}
		})
	}
}
