package web_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/service"
)

// bulletinReasons are the black-list reasons as the page words them.
var bulletinReasons = map[string]string{service.ReasonSerious: "严重违规", service.ReasonWatch: "重点监管（低于60分）", service.ReasonBottom: "排名末位"}

// checkBulletinPage compares a bulletin page's red list, black list and road
// ranking, line by line, with the service's bulletin.
func checkBulletinPage(t *testing.T, what, body string, b service.Bulletin) {
	t.Helper()
	if !strings.Contains(body, b.County+" "+fmt.Sprintf("%d年%d月", mustYear(b.Cycle), mustMonth(b.Cycle))+" 门前五包红黑榜") {
		t.Errorf("%s: the title does not name %s and the month %s", what, b.County, b.Cycle)
	}
	if got := strings.Contains(body, `id="provisional"`); got != b.Provisional {
		t.Errorf("%s: provisional mark shown %v, want %v", what, got, b.Provisional)
	}
	lists := []struct {
		id    string
		lines []service.BulletinMerchant
		row   func(m service.BulletinMerchant) []string
	}{
		{"red", b.Red, func(m service.BulletinMerchant) []string {
			return []string{strconv.Itoa(m.Rank), m.Name, m.Code, m.Road, strconv.Itoa(m.Score), starsText(m.RatedStar), strconv.Itoa(m.Bonuses)}
		}},
		{"black", b.Black, func(m service.BulletinMerchant) []string {
			why := make([]string, len(m.Reasons))
			for i, r := range m.Reasons {
				why[i] = bulletinReasons[r]
			}
			return []string{strconv.Itoa(m.Rank), m.Name, m.Code, m.Road, strconv.Itoa(m.Score), starsText(m.RatedStar),
				strconv.Itoa(m.Deductions), strconv.Itoa(m.Serious), strings.Join(why, "、")}
		}},
	}
	for _, l := range lists {
		if len(l.lines) == 0 {
			t.Fatalf("%s: the service's %s list is empty: the test needs lines", what, l.id)
		}
		got := consoleTable(t, body, l.id)
		if len(got) != len(l.lines) {
			t.Errorf("%s: %s list has %d lines, want %d", what, l.id, len(got), len(l.lines))
			continue
		}
		for i, m := range l.lines {
			if want := l.row(m); got[i].Key != strconv.FormatInt(m.MerchantID, 10) || !slices.Equal(got[i].Cells, want) {
				t.Errorf("%s: %s line %d: %v, want %v", what, l.id, i+1, got[i].Cells, want)
			}
		}
	}
	got := consoleTable(t, body, "road-ranking")
	if len(got) != len(b.Roads) {
		t.Fatalf("%s: %d road lines, want %d", what, len(got), len(b.Roads))
	}
	for i, r := range b.Roads {
		want := []string{strconv.Itoa(r.Rank), r.Name, fmt.Sprintf("%.2f", r.Score), strconv.Itoa(r.Merchants)}
		if !slices.Equal(got[i].Cells[:4], want) {
			t.Errorf("%s: road line %d: %v, want %v", what, i+1, got[i].Cells, want)
		}
	}
	if want := fmt.Sprintf("参加排名商户 %d 家。示范路：目标 %d 条，已申报 %d 条，已验收 %d 条，当前达标 %d 条。", b.Merchants,
		b.Demonstration.Target, b.Demonstration.Designated, b.Demonstration.Accepted, b.Demonstration.Qualified); consoleText(between(body, `id="summary">`, "</p>")) != want {
		t.Errorf("%s: summary %q, want %q", what, consoleText(between(body, `id="summary">`, "</p>")), want)
	}
	for _, f := range []string{"csv", "xlsx"} {
		if link := fmt.Sprintf(`href="/api/v1/counties/%d/bulletins/%s?format=%s"`, b.CountyID, b.Cycle, f); !strings.Contains(body, link) {
			t.Errorf("%s: no download link %s", what, link)
		}
	}
}

func mustYear(cycle string) int  { n, _ := strconv.Atoi(cycle[:4]); return n }
func mustMonth(cycle string) int { n, _ := strconv.Atoi(cycle[5:]); return n }

// TestConsoleBulletin: the 红黑榜 page of the current cycle (provisional) and
// of a closed one shows the service's numbers line by line; the city admin
// picks a county; nobody sees another county's.
func TestConsoleBulletin(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			now := e.clock.Now()
			e.clock.Set(time.Date(2026, 10, 8, 2, 0, 0, 0, time.UTC))
			w := e.seed()
			// October: a serious item (black), a bonus (red).
			e.record(w.Officer[0], w.Merchant[0], "ZXLH-05", 12)
			e.record(w.Officer[0], w.Other[0], "BONUS-02", 2)
			e.clock.Set(now)
			// November: a deduction (black: the bottom) and a clean shop (red).
			e.record(w.Officer[0], w.Other[0], "HJWS-01", 3)
			road2, err := e.svc.CreateRoad(ctx, w.Admin[0], service.RoadInput{CountyID: &w.County[0], Name: ptr("人民路"), Town: ptr("公园街道")})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.svc.CreateMerchant(ctx, w.Admin[0], service.MerchantInput{RoadID: &road2.ID, Name: ptr("周记粮油"), USCC: ptr(uscc(50))}); err != nil {
				t.Fatal(err)
			}
			admin := e.signedIn(w.AdminName[0])

			for _, c := range []struct{ path, cycle string }{
				{"/console/bulletins", "2026-11"},
				{"/console/bulletins/2026-11", "2026-11"},
				{"/console/bulletins?cycle=2026-10", "2026-10"},
				{"/console/bulletins/2026-10", "2026-10"},
			} {
				p := admin.get(c.path)
				if p.Status != http.StatusOK {
					t.Fatalf("%s: %d %s", c.path, p.Status, p.Body)
				}
				b, err := e.svc.CountyBulletin(ctx, w.Admin[0], w.County[0], c.cycle)
				if err != nil {
					t.Fatal(err)
				}
				if b.Provisional != (c.cycle == "2026-11") {
					t.Fatalf("%s: the service's bulletin is provisional %v", c.cycle, b.Provisional)
				}
				checkBulletinPage(t, c.path, p.Body, b)
				hidden(t, c.path, p, "张记烧烤淄川区", "李家面馆淄川区")
			}
			// A county admin's bulletin is its own county's, whatever ?county_id= says.
			p := admin.get(fmt.Sprintf("/console/bulletins?county_id=%d", w.County[1]))
			hidden(t, "?county_id= of another county", p, "张记烧烤淄川区", "李家面馆淄川区")

			// The city admin picks a county.
			city := e.browser()
			city.login("admin", adminPassword)
			p = city.get("/console/bulletins")
			if p.Status != http.StatusOK || strings.Contains(p.Body, `id="red"`) || !strings.Contains(p.Body, "请选择区县") {
				t.Errorf("the city admin's bulletin page without a county: %d", p.Status)
			}
			p = city.get(fmt.Sprintf("/console/bulletins/2026-11?county_id=%d", w.County[1]))
			b, err := e.svc.CountyBulletin(ctx, e.admin, w.County[1], "2026-11")
			if err != nil {
				t.Fatal(err)
			}
			if got := consoleTable(t, p.Body, "red"); len(got) != len(b.Red) || !strings.Contains(p.Body, "淄川区 2026年11月 门前五包红黑榜") {
				t.Errorf("the city admin's bulletin of 淄川区: %v", got)
			}

			// Bad and future months.
			for _, c := range []string{"2026-13", "november", "2027-02"} {
				if p := admin.get("/console/bulletins/" + c); p.Status != http.StatusBadRequest {
					t.Errorf("/console/bulletins/%s: %d, want 400", c, p.Status)
				}
			}
		})
	}
}
