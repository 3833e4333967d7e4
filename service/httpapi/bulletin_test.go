package httpapi_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/service"
	"github.com/menqian/menqian/service/policy"
)

// bulletinShops are the merchants bulletinWorld adds to 张店区, by name.
type bulletinShops map[string]int64

// bulletinWorld gives 张店区 a second road with a formula-like name and shops
// whose November puts them on the red list (bonuses, no deduction) or the
// black list (a serious item, under 60, the bottom of the ranking); four of the
// names would run as spreadsheet formulas.
func (e *env) bulletinWorld(w world) bulletinShops {
	e.t.Helper()
	admin, officer, photo := w.Admin[0], w.Officer[0], w.Photo[0]
	road := e.must(201, "POST", "/api/v1/roads", admin, map[string]any{"county_id": w.County[0], "name": "+1路"}).id()
	e.must(200, "PUT", "/api/v1/roads/"+itoa(road)+"/demonstration", admin, map[string]any{"status": "candidate"})
	shops := bulletinShops{}
	for i, name := range []string{"=1+1", "+cmd", "-2", "@x", "正常一", "正常二", "正常三"} {
		r := w.Road[0]
		if i%2 == 1 {
			r = road
		}
		shops[name] = e.newMerchant(admin, r, name)
	}
	e.record(officer, shops["=1+1"], 0, item("BONUS-04", 5))   // 105
	e.record(officer, shops["+cmd"], 0, item("BONUS-01", 2))   // 102
	e.record(officer, shops["-2"], photo, item("ZXLH-05", 10)) // 90, serious
	e.record(officer, shops["@x"], photo, item("ZXLH-05", 20), item("ZXLH-01", 8), item("SSWH-01", 8),
		item("HJWS-02", 5), item("SRZJ-01", 5)) // 54: serious, under 60
	e.record(officer, shops["正常一"], photo, item("HJWS-01", 2)) // 98
	e.record(officer, shops["正常三"], 0, item("BONUS-03", 1))    // 101
	return shops
}

func (e *env) bulletin(token string, county int64, cycle, format string) resp {
	e.t.Helper()
	return e.must(200, "GET", fmt.Sprintf("/api/v1/counties/%d/bulletins/%s?format=%s", county, cycle, format), token, nil)
}

type bulletinLine struct {
	Rank  int
	Code  string
	Name  string
	Score float64
}

// jsonLines are the red, black and road lists of a JSON bulletin; names made
// inert as the exports should show them.
func jsonLines(t *testing.T, body []byte) map[string][]bulletinLine {
	t.Helper()
	var b service.Bulletin
	if err := json.Unmarshal(body, &b); err != nil {
		t.Fatal(err)
	}
	out := map[string][]bulletinLine{"红榜": {}, "黑榜": {}, "道路排名": {}}
	for _, m := range b.Red {
		out["红榜"] = append(out["红榜"], bulletinLine{m.Rank, m.Code, inertText(m.Name), float64(m.Score)})
	}
	for _, m := range b.Black {
		out["黑榜"] = append(out["黑榜"], bulletinLine{m.Rank, m.Code, inertText(m.Name), float64(m.Score)})
	}
	for _, r := range b.Roads {
		out["道路排名"] = append(out["道路排名"], bulletinLine{r.Rank, "", inertText(r.Name), r.Score})
	}
	return out
}

func inertText(s string) string {
	if s != "" && strings.ContainsAny(s[:1], "=+-@") {
		return "'" + s
	}
	return s
}

// tableLines reads the same lists out of the export's tables (header first).
func tableLines(t *testing.T, tables map[string][][]string) map[string][]bulletinLine {
	t.Helper()
	out := map[string][]bulletinLine{}
	for _, name := range []string{"红榜", "黑榜", "道路排名"} {
		rows := tables[name]
		if len(rows) == 0 {
			t.Fatalf("no table %s in %v", name, tables)
		}
		out[name] = []bulletinLine{}
		for _, row := range rows[1:] {
			rank, err := strconv.Atoi(row[0])
			if err != nil {
				t.Fatalf("%s: rank %q", name, row[0])
			}
			var l bulletinLine
			if name == "道路排名" {
				score, err := strconv.ParseFloat(row[2], 64)
				if err != nil {
					t.Fatalf("%s: score %q", name, row[2])
				}
				l = bulletinLine{rank, "", row[1], score}
			} else {
				score, err := strconv.ParseFloat(row[4], 64)
				if err != nil {
					t.Fatalf("%s: score %q", name, row[4])
				}
				l = bulletinLine{rank, row[1], row[2], score}
			}
			out[name] = append(out[name], l)
		}
	}
	return out
}

// csvTables splits a bulletin CSV into its titled tables.
func csvTables(t *testing.T, body []byte) map[string][][]string {
	t.Helper()
	if !bytes.HasPrefix(body, []byte("\ufeff")) {
		t.Fatalf("CSV without BOM: %q", body[:min(len(body), 20)])
	}
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(body, []byte("\ufeff"))))
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatalf("CSV does not parse: %v", err)
	}
	out := map[string][][]string{}
	title := ""
	for _, rec := range recs {
		if len(rec) == 1 && strings.HasPrefix(rec[0], "【") {
			title = strings.Trim(rec[0], "【】")
			out[title] = [][]string{}
			continue
		}
		out[title] = append(out[title], rec)
	}
	return out
}

// xlsxTables reads every sheet of a bulletin XLSX and checks no cell is a formula.
func xlsxTables(t *testing.T, body []byte) (map[string][][]string, []string) {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("XLSX does not open: %v", err)
	}
	defer f.Close()
	out := map[string][][]string{}
	for _, sheet := range f.GetSheetList() {
		rows, err := f.GetRows(sheet)
		if err != nil {
			t.Fatal(err)
		}
		out[sheet] = rows
		for r, row := range rows {
			for c := range row {
				cell, _ := excelize.CoordinatesToCellName(c+1, r+1)
				if formula, _ := f.GetCellFormula(sheet, cell); formula != "" {
					t.Errorf("%s!%s is a formula: %q", sheet, cell, formula)
				}
			}
		}
	}
	return out, f.GetSheetList()
}

// TestBulletinExports: the CSV parses after its BOM and the XLSX reads back,
// both to the JSON's rows, with formula-like names inert in the exports and
// raw in the JSON.
func TestBulletinExports(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			w := e.seeded()
			shops := e.bulletinWorld(w)
			county := w.County[0]

			j := e.bulletin(w.Officer[0], county, "2026-11", "json")
			var b service.Bulletin
			json.Unmarshal(j.Body, &b)
			if !b.Provisional || b.ClosedAt != nil || b.Cycle != "2026-11" || b.Merchants != 8 || j.Header.Get("Cache-Control") != "private, no-store" {
				t.Errorf("current bulletin: provisional %v closed_at %v cycle %s merchants %d cache %q", b.Provisional, b.ClosedAt, b.Cycle, b.Merchants, j.Header.Get("Cache-Control"))
			}
			names := func(ms []service.BulletinMerchant) []string {
				out := []string{}
				for _, m := range ms {
					out = append(out, m.Name)
				}
				return out
			}
			// Red: no deduction, best first; 100s by code, so compare as a set.
			red := names(b.Red)
			if len(red) != 5 || red[0] != "=1+1" || red[1] != "+cmd" || red[2] != "正常三" {
				t.Errorf("red list = %v", red)
			}
			black := map[string][]string{}
			for _, m := range b.Black {
				black[m.Name] = m.Reasons
			}
			wantBlack := map[string][]string{
				"-2":  {service.ReasonSerious, service.ReasonBottom},
				"@x":  {service.ReasonSerious, service.ReasonWatch, service.ReasonBottom},
				"正常一": {service.ReasonBottom},
			}
			if !reflect.DeepEqual(black, wantBlack) {
				t.Errorf("black list = %v, want %v", black, wantBlack)
			}
			if b.Black[len(b.Black)-1].Rank != 8 || b.Black[len(b.Black)-1].MerchantID != shops["@x"] {
				t.Errorf("last of the black list = %+v", b.Black[len(b.Black)-1])
			}
			if !strings.Contains(string(j.Body), `"name":"=1+1"`) || !strings.Contains(string(j.Body), `"name":"+1路"`) {
				t.Errorf("JSON does not carry the names raw: %s", j.Body)
			}
			want := jsonLines(t, j.Body)

			c := e.bulletin(w.Officer[0], county, "2026-11", "csv")
			if ct := c.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" || !strings.Contains(c.Header.Get("Content-Disposition"), ".csv") {
				t.Errorf("CSV headers: %q %q", ct, c.Header.Get("Content-Disposition"))
			}
			if got := tableLines(t, csvTables(t, c.Body)); !reflect.DeepEqual(got, want) {
				t.Errorf("CSV rows = %v\nJSON rows  %v", got, want)
			}
			for _, raw := range []string{"\r\n=1+1", ",=1+1", ",+cmd", ",-2,", ",@x", ",+1路"} {
				if strings.Contains(string(c.Body), raw) {
					t.Errorf("CSV has a live formula cell %q", raw)
				}
			}

			x := e.bulletin(w.Officer[0], county, "2026-11", "xlsx")
			tables, sheets := xlsxTables(t, x.Body)
			if !reflect.DeepEqual(sheets, []string{"说明", "红榜", "黑榜", "道路排名"}) {
				t.Errorf("sheets = %v", sheets)
			}
			if got := tableLines(t, tables); !reflect.DeepEqual(got, want) {
				t.Errorf("XLSX rows = %v\nJSON rows   %v", got, want)
			}
			if tables["说明"][0][0] != "项目" || len(tables["红榜"][0]) != 9 || len(tables["黑榜"][0]) != 10 {
				t.Errorf("XLSX headers: %v %v %v", tables["说明"][0], tables["红榜"][0], tables["黑榜"][0])
			}

			// Who may read, and what is refused.
			for _, c := range []struct {
				token, path string
				want        int
			}{
				{w.Admin[0], "/2026-11", 200},
				{e.admin, "/2026-11?format=csv", 200},
				{w.Shop[0], "/2026-11", 403},
				{w.Officer[1], "/2026-11", 404},
				{w.Admin[1], "/2026-11?format=xlsx", 404},
				{"", "/2026-11", 401},
				{w.Officer[0], "/2026-12", 400},
				{w.Officer[0], "/2027-01", 400},
				{w.Officer[0], "/2026-13", 400},
				{w.Officer[0], "/2026-1", 400},
				{w.Officer[0], "/november", 400},
				{w.Officer[0], "/2026-11?format=pdf", 400},
			} {
				if r := e.do("GET", "/api/v1/counties/"+itoa(county)+"/bulletins"+c.path, c.token, nil); r.Status != c.want {
					t.Errorf("GET bulletin %s: %d %s, want %d", c.path, r.Status, r.Body, c.want)
				}
			}
		})
	}
}

// TestBulletinClosedCycleFrozen closes November and proves its bulletin never
// changes again: JSON, CSV and XLSX are byte-identical before and after
// December's records, a renamed shop, road and county. Closing is refused
// while the cycle is open, and of two concurrent closers exactly one wins.
func TestBulletinClosedCycleFrozen(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			w := e.seeded()
			shops := e.bulletinWorld(w)
			ctx := context.Background()
			nov := policy.Cycle{Year: 2026, Month: 11}

			for _, now := range []time.Time{at(2026, 11, 15, 10, 0, 0), at(2026, 12, 3, 23, 59, 59)} {
				e.clock.Set(now)
				if _, err := e.svc.CloseCycle(ctx, nov, "test"); service.ErrorCode(err) != service.CodeConflict {
					t.Errorf("closing November at %v: %v, want conflict", now, err)
				}
			}
			if n := e.count("closed_cycles", "1 = 1"); n != 0 {
				t.Fatalf("%d closed cycles after refused closes", n)
			}

			// A shop registered in December's first days, while November is still
			// open to late records, is not part of November.
			e.clock.Set(at(2026, 12, 2, 9, 0, 0))
			e.relogin(&w)
			early := e.newMerchant(w.Admin[0], w.Road[0], "十二月早店")
			grace := e.bulletin(w.Admin[0], w.County[0], "2026-11", "json")
			if strings.Contains(string(grace.Body), "十二月早店") || !strings.Contains(string(grace.Body), `"provisional":true`) {
				t.Errorf("November during its grace period: %.600s", grace.Body)
			}

			e.clock.Set(at(2026, 12, 4, 0, 0, 0))
			e.relogin(&w)
			var wg sync.WaitGroup
			errs := make([]error, 2)
			counts := make([]int, 2)
			for i := range errs {
				wg.Go(func() { counts[i], errs[i] = e.svc.CloseCycle(ctx, nov, fmt.Sprint("closer-", i)) })
			}
			wg.Wait()
			won := 0
			for i, err := range errs {
				switch {
				case err == nil:
					won++
					if counts[i] != 9 { // 8 in 张店区, 1 in 淄川区
						t.Errorf("closer %d froze %d merchants, want 9", i, counts[i])
					}
				case service.ErrorCode(err) != service.CodeConflict:
					t.Errorf("closer %d: %v, want success or conflict", i, err)
				}
			}
			if won != 1 {
				t.Fatalf("%d closers succeeded (%v), want exactly 1", won, errs)
			}
			if n := e.count("cycle_merchant_results", "cycle = ?", "2026-11"); n != 9 {
				t.Errorf("%d frozen merchant results, want 9", n)
			}
			if n := e.count("cycle_road_results", "cycle = ?", "2026-11"); n != 3 {
				t.Errorf("%d frozen road results, want 3", n)
			}
			if _, err := e.svc.CloseCycle(ctx, nov, "again"); service.ErrorCode(err) != service.CodeConflict {
				t.Errorf("closing November twice: %v, want conflict", err)
			}
			closed, err := e.svc.CloseDueCycles(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range closed {
				if c == "2026-11" || c == "2026-12" {
					t.Errorf("CloseDueCycles closed %s again or early: %v", c, closed)
				}
			}
			if again, err := e.svc.CloseDueCycles(ctx); err != nil || len(again) != 0 {
				t.Errorf("second CloseDueCycles: %v %v, want nothing to do", again, err)
			}
			if n := e.count("cycle_merchant_results", "cycle = ?", "2026-11"); n != 9 {
				t.Errorf("%d frozen merchant results after CloseDueCycles, want 9", n)
			}

			county := w.County[0]
			formats := []string{"json", "csv", "xlsx"}
			first := map[string][]byte{}
			for _, f := range formats {
				first[f] = e.bulletin(w.Admin[0], county, "2026-11", f).Body
			}
			var b service.Bulletin
			json.Unmarshal(first["json"], &b)
			if b.Provisional || b.ClosedAt == nil || !b.ClosedAt.Equal(at(2026, 12, 4, 0, 0, 0)) || b.Merchants != 8 {
				t.Errorf("closed bulletin: provisional %v closed_at %v merchants %d", b.Provisional, b.ClosedAt, b.Merchants)
			}

			// December: more records, a renamed shop, road and county (with a
			// new demonstration target), a new shop.
			e.record(w.Officer[0], shops["=1+1"], w.Photo[0], item("ZXLH-01", 8))
			e.record(w.Officer[0], shops["正常二"], 0, item("BONUS-04", 5))
			e.record(w.Officer[0], shops["@x"], 0, item("BONUS-01", 3))
			e.must(200, "PATCH", "/api/v1/merchants/"+itoa(shops["+cmd"]), w.Admin[0], map[string]any{"name": "改名商户"})
			e.must(200, "PATCH", "/api/v1/roads/"+itoa(w.Road[0]), w.Admin[0], map[string]any{"name": "新柳泉路"})
			e.must(200, "PATCH", "/api/v1/counties/"+itoa(county), e.login("admin", adminPassword), map[string]any{"name": "新张店区", "demo_road_target": 12})
			e.must(200, "PUT", "/api/v1/roads/"+itoa(w.Road[0])+"/demonstration", w.Admin[0], map[string]any{"status": "candidate"})
			e.newMerchant(w.Admin[0], w.Road[0], "十二月新店")
			e.clock.Set(at(2026, 12, 20, 9, 0, 0))
			e.relogin(&w)

			for _, f := range formats {
				for range 2 {
					if got := e.bulletin(w.Admin[0], county, "2026-11", f).Body; !bytes.Equal(got, first[f]) {
						t.Errorf("closed November %s changed:\n%.400s\nwas\n%.400s", f, got, first[f])
					}
				}
			}
			dec := e.bulletin(w.Admin[0], county, "2026-12", "json")
			if !strings.Contains(string(dec.Body), `"provisional":true`) || !strings.Contains(string(dec.Body), "改名商户") ||
				!strings.Contains(string(dec.Body), `"county":"新张店区"`) || !strings.Contains(string(dec.Body), `"target":12`) ||
				!strings.Contains(string(dec.Body), "十二月新店") {
				t.Errorf("December bulletin: %.600s", dec.Body)
			}
			if n := e.count("cycle_merchant_results", "merchant_id = ?", early); n != 0 {
				t.Errorf("the December shop has %d November results", n)
			}
			if !strings.Contains(string(first["json"]), `"name":"+cmd"`) || strings.Contains(string(first["json"]), "十二月") {
				t.Errorf("November bulletin: %.600s", first["json"])
			}
			e.checkClean()
		})
	}
}

// TestBulletinClosesLazily: a cycle past its grace period that no job closed
// is closed by the first request for it, and then stays frozen.
func TestBulletinClosesLazily(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			w := e.seeded()
			shops := e.bulletinWorld(w)
			e.clock.Set(at(2026, 12, 5, 9, 0, 0))
			e.relogin(&w)
			first := e.bulletin(w.Officer[0], w.County[0], "2026-11", "csv").Body
			var by string
			if err := e.db.SQL().QueryRow("SELECT closed_by FROM closed_cycles WHERE cycle = '2026-11'").Scan(&by); err != nil || by != "auto" {
				t.Fatalf("closed_cycles row: %q %v, want closed by auto", by, err)
			}
			e.record(w.Officer[0], shops["正常二"], w.Photo[0], item("ZXLH-01", 8))
			e.must(200, "PATCH", "/api/v1/merchants/"+itoa(shops["=1+1"]), w.Admin[0], map[string]any{"name": "不再是公式"})
			if got := e.bulletin(w.Officer[0], w.County[0], "2026-11", "csv").Body; !bytes.Equal(got, first) {
				t.Errorf("lazily closed November changed:\n%s\nwas\n%s", got, first)
			}
			e.admin = e.login("admin", adminPassword)
			if got := e.bulletin(e.admin, w.County[1], "2026-11", "json"); !strings.Contains(string(got.Body), `"provisional":false`) {
				t.Errorf("the other county's November: %s", got.Body)
			}
		})
	}
}
