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

// consoleRow is a row of a console table: its key (the data-merchant,
// data-road or id attribute) and its cells as the reader sees them.
type consoleRow struct {
	Key   string
	Cells []string
}

var (
	consoleTRRE   = regexp.MustCompile(`(?s)<tr([^>]*)>(.*?)</tr>`)
	consoleTDRE   = regexp.MustCompile(`(?s)<td[^>]*>(.*?)</td>`)
	consoleKeyRE  = regexp.MustCompile(`(?:data-merchant|data-road|id)="([^"]*)"`)
	consoleTagRE  = regexp.MustCompile(`<[^>]*>`)
	consoleSpaceR = regexp.MustCompile(`\s+`)
)

// consoleTable returns the body rows of the table with id in a page (it fails
// the test when there is no such table).
func consoleTable(t *testing.T, body, id string) []consoleRow {
	t.Helper()
	start := strings.Index(body, `id="`+id+`"`)
	if start < 0 {
		t.Fatalf("no table #%s in the page: %.2000s", id, body)
	}
	rest := body[start:]
	end := strings.Index(rest, "</table>")
	tb := rest[:end]
	if i := strings.Index(tb, "<tbody>"); i >= 0 {
		tb = tb[i:]
	}
	var out []consoleRow
	for _, m := range consoleTRRE.FindAllStringSubmatch(tb, -1) {
		row := consoleRow{}
		if k := consoleKeyRE.FindStringSubmatch(m[1]); k != nil {
			row.Key = k[1]
		}
		for _, c := range consoleTDRE.FindAllStringSubmatch(m[2], -1) {
			row.Cells = append(row.Cells, consoleText(c[1]))
		}
		out = append(out, row)
	}
	return out
}

// consoleText is a fragment of HTML as text: tags dropped, entities read,
// white space collapsed.
func consoleText(s string) string {
	return strings.TrimSpace(consoleSpaceR.ReplaceAllString(html.UnescapeString(consoleTagRE.ReplaceAllString(s, " ")), " "))
}

// starsText is a rated star as the pages write it.
func starsText(n int) string { return strings.Repeat("★", n) + strings.Repeat("☆", 5-n) }

// TestConsoleRankings: the shop and road rankings of the current cycle are
// the service's; those of a closed cycle are its frozen results (names as they
// were at closing, scores that no later record changes); the city admin sees
// the city; nobody sees another county's.
func TestConsoleRankings(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			now := e.clock.Now()
			// October: the shops open, deductions and a bonus; then the cycle
			// closes (its grace ends 3 November).
			e.clock.Set(time.Date(2026, 10, 12, 2, 0, 0, 0, time.UTC))
			w := e.seed()
			e.record(w.Officer[0], w.Merchant[0], "HJWS-02", 4)
			e.record(w.Officer[0], w.Other[0], "BONUS-01", 2)
			e.record(w.Officer[1], w.Merchant[1], "ZXLH-01", 6)
			e.clock.Set(now)
			if closed, err := e.svc.CloseDueCycles(ctx); err != nil || !slices.Contains(closed, "2026-10") {
				t.Fatalf("closing October: %v %v", closed, err)
			}
			// November: the ranking changes, and a shop is renamed.
			e.record(w.Officer[0], w.Other[0], "ZXLH-01", 8)
			if _, err := e.svc.UpdateMerchant(ctx, w.Admin[0], w.Merchant[0], service.MerchantInput{Name: ptr("张记烧烤（新店名）")}); err != nil {
				t.Fatal(err)
			}
			admin := e.signedIn(w.AdminName[0])

			// A closed cycle: the frozen results, line by line.
			p := admin.get("/console/rankings?cycle=2026-10")
			if p.Status != http.StatusOK {
				t.Fatalf("rankings of 2026-10: %d %s", p.Status, p.Body)
			}
			frozen, roads, err := e.db.FrozenResults(ctx, "2026-10", w.County[0])
			if err != nil || len(frozen) != 2 {
				t.Fatalf("frozen results of 2026-10: %v, %d lines", err, len(frozen))
			}
			got := consoleTable(t, p.Body, "shops")
			if len(got) != len(frozen) {
				t.Fatalf("2026-10: %d lines, want %d (the frozen results)", len(got), len(frozen))
			}
			rank := 0
			for i, f := range frozen {
				if i == 0 || f.Score != frozen[i-1].Score {
					rank = i + 1 // ties share the rank
				}
				want := []string{strconv.Itoa(rank), f.Code, f.Name, strconv.Itoa(f.Score), starsText(f.RatedStar)}
				if got[i].Key != strconv.FormatInt(f.MerchantID, 10) || strings.Join(got[i].Cells, "|") != strings.Join(want, "|") {
					t.Errorf("2026-10 line %d: %s %v, want %d %v", i+1, got[i].Key, got[i].Cells, f.MerchantID, want)
				}
			}
			if !strings.Contains(p.Body, "张记烧烤张店区") || strings.Contains(p.Body, "新店名") {
				t.Errorf("2026-10 does not show the name at closing")
			}
			if frozen[0].Score != 102 || frozen[1].Score != 96 {
				t.Errorf("frozen scores %d, %d; want 102 and 96 (the October records)", frozen[0].Score, frozen[1].Score)
			}
			gotRoads := consoleTable(t, p.Body, "roads")
			if len(gotRoads) != len(roads) || len(roads) != 1 {
				t.Fatalf("2026-10 roads: %v, frozen %v", gotRoads, roads)
			}
			if want := fmt.Sprintf("1|%s|%.2f|%d", roads[0].Name, float64(roads[0].ScoreCents)/100, roads[0].Merchants); strings.Join(gotRoads[0].Cells[:4], "|") != want {
				t.Errorf("2026-10 road line %v, want %s", gotRoads[0].Cells, want)
			}
			if !strings.Contains(p.Body, "已结算") {
				t.Errorf("2026-10 is not marked settled")
			}

			// The current cycle: what the service ranks now.
			p = admin.get("/console/rankings")
			board, err := e.svc.MerchantBoard(ctx, w.Admin[0], service.BoardQuery{Scope: leaderboard.County, ID: w.County[0]})
			if err != nil {
				t.Fatal(err)
			}
			got = consoleTable(t, p.Body, "shops")
			if len(got) != len(board.Items) {
				t.Fatalf("live: %d lines, want %d", len(got), len(board.Items))
			}
			for i, it := range board.Items {
				want := []string{strconv.Itoa(it.Rank), it.Code, it.Name, strconv.Itoa(it.Score), starsText(it.RatedStar)}
				if strings.Join(got[i].Cells, "|") != strings.Join(want, "|") {
					t.Errorf("live line %d: %v, want %v", i+1, got[i].Cells, want)
				}
			}
			if board.Items[0].Name != "张记烧烤（新店名）" || board.Items[1].Score != 92 {
				t.Errorf("live board %+v: want the renamed shop first and its neighbour at 92", board.Items)
			}
			liveRoads, err := e.svc.RoadBoard(ctx, w.Admin[0], w.County[0], "")
			if err != nil {
				t.Fatal(err)
			}
			gotRoads = consoleTable(t, p.Body, "roads")
			if want := fmt.Sprintf("%d|%s|%.2f|%d", liveRoads[0].Rank, liveRoads[0].Name, liveRoads[0].Score, liveRoads[0].Merchants); strings.Join(gotRoads[0].Cells[:4], "|") != want {
				t.Errorf("live road line %v, want %s", gotRoads[0].Cells, want)
			}

			// One road's ranking; another county's road is not found.
			p = admin.get(fmt.Sprintf("/console/rankings?cycle=2026-10&road=%d", w.Road[0]))
			if got := consoleTable(t, p.Body, "shops"); p.Status != http.StatusOK || len(got) != 2 {
				t.Errorf("the road's ranking: %d, %d lines", p.Status, len(got))
			}
			other := []string{"张记烧烤淄川区", "李家面馆淄川区"}
			p = admin.get(fmt.Sprintf("/console/rankings?road=%d", w.Road[1]))
			if p.Status != http.StatusNotFound && p.Status != http.StatusForbidden {
				t.Errorf("another county's road: %d, want 404", p.Status)
			}
			hidden(t, "another county's road", p, other...)
			p = admin.get(fmt.Sprintf("/console/rankings?county_id=%d", w.County[1])) // a county admin ranks its own county
			hidden(t, "?county_id= of another county", p, other...)
			if len(consoleTable(t, p.Body, "shops")) != 2 {
				t.Errorf("?county_id= of another county: not the own county's ranking")
			}
			// Paging: 50 a page, so two shops are one page; page 2 is empty.
			if p := admin.get("/console/rankings?page=2"); strings.Contains(p.Body, `id="shops"`) {
				t.Errorf("page 2 of a 2-shop ranking has lines")
			}

			// The city admin: the city's frozen ranking of both counties, and a county's.
			city := e.browser()
			if p := city.login("admin", adminPassword); p.Status != http.StatusSeeOther {
				t.Fatal("city admin login")
			}
			p = city.get("/console/rankings?cycle=2026-10")
			frozen1, _, _ := e.db.FrozenResults(ctx, "2026-10", w.County[1])
			if got := consoleTable(t, p.Body, "shops"); len(got) != len(frozen)+len(frozen1) {
				t.Errorf("city ranking of 2026-10: %d lines, want %d", len(got), len(frozen)+len(frozen1))
			}
			// The city's road ranking puts every county's roads together, as the service ranks them.
			p = city.get("/console/rankings")
			cityRoads, err := e.svc.CityRoadBoard(ctx, e.admin, "")
			if err != nil {
				t.Fatal(err)
			}
			got = consoleTable(t, p.Body, "city-roads")
			if len(got) != len(cityRoads) || len(cityRoads) != 2 {
				t.Fatalf("city road ranking: %d lines, service %d, want 2", len(got), len(cityRoads))
			}
			for i, rd := range cityRoads {
				want := []string{fmt.Sprint(rd.Rank), rd.Name, rd.County.Name, fmt.Sprint(rd.CountyRank), fmt.Sprintf("%.2f", rd.Score), fmt.Sprint(rd.Merchants)}
				if fmt.Sprint(got[i].Cells[:6]) != fmt.Sprint(want) || got[i].Key != fmt.Sprint(rd.RoadID) {
					t.Errorf("city road line %d: %v (road %s), want %v (road %d)", i+1, got[i].Cells, got[i].Key, want, rd.RoadID)
				}
			}
			p = city.get(fmt.Sprintf("/console/rankings?county_id=%d", w.County[1]))
			if got := consoleTable(t, p.Body, "shops"); len(got) != 2 || !strings.Contains(p.Body, "张记烧烤淄川区") || strings.Contains(p.Body, "李家面馆张店区") {
				t.Errorf("the city admin's ranking of 淄川区: %v", got)
			}
			// A bad or future cycle is refused.
			for _, c := range []string{"2026-13", "2027-01"} {
				if p := admin.get("/console/rankings?cycle=" + c); p.Status != http.StatusBadRequest {
					t.Errorf("cycle %s: %d, want 400", c, p.Status)
				}
			}
		})
	}
}
