package httpapi_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/service"
)

// importFile posts a register file to the import endpoint.
func (e *env) importFile(token string, county int64, filename string, data []byte, commit bool) resp {
	e.t.Helper()
	path := fmt.Sprintf("/api/v1/merchants/import?county_id=%d&commit=%t", county, commit)
	return e.postMultipart(path, token, "file", filename, "application/octet-stream", data)
}

// importRoads creates the roads a generated register names.
func (e *env) importRoads(token string, county int64) []string {
	e.t.Helper()
	names := []string{"导入一路", "导入二路", "导入三路", "导入四路", "导入五路"}
	for _, n := range names {
		e.must(201, "POST", "/api/v1/roads", token, map[string]any{"county_id": county, "name": n})
	}
	return names
}

// usccFor is a valid, unique 统一社会信用代码 for row i of a county's register.
func usccFor(county string, i int) string {
	s := fmt.Sprintf("91%sMA%07d", county, i)
	return s + string(service.USCCCheckChar(s))
}

// csvBytes writes records as UTF-8 CSV with a BOM, as Excel saves it.
func csvBytes(records [][]string) []byte {
	var buf bytes.Buffer
	buf.WriteString("\ufeff")
	w := csv.NewWriter(&buf)
	w.UseCRLF = true
	w.WriteAll(records)
	return buf.Bytes()
}

// registerRows generates n good register rows numbered from first.
func registerRows(n int, county string, first int, roads []string) [][]string {
	rows := [][]string{service.ImportHeader()}
	for i := first; i < first+n; i++ {
		rows = append(rows, []string{fmt.Sprintf("商户%05d", i), roads[i%len(roads)], usccFor(county, i), "餐饮", "张三",
			fmt.Sprintf("138%08d", i), fmt.Sprintf("导入路 %d 号", i), "36.81", "118.05"})
	}
	return rows
}

// registerCSV is registerRows as a CSV file.
func registerCSV(n int, county string, first int, roads []string) []byte {
	return csvBytes(registerRows(n, county, first, roads))
}

type problem struct {
	Row    int
	Column string
}

func problemsOf(r resp) []problem {
	var out []problem
	errs, _ := r.JSON["errors"].([]any)
	for _, p := range errs {
		m := p.(map[string]any)
		out = append(out, problem{num(m["row"]), m["column"].(string)})
	}
	return out
}

// TestImportBadRows: a register with bad rows is reported row by row in a dry
// run, and a commit of it stores nothing.
func TestImportBadRows(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			w := e.seeded()
			good := usccFor("370303", 1)
			bad := good[:17] + "0" // a wrong check character
			if good[17] == '0' {
				bad = good[:17] + "1"
			}
			file := csvBytes([][]string{
				service.ImportHeader(),
				{"好商户", "柳泉路", good, "餐饮", "李四", "13853300001", "柳泉路 1 号", "", ""}, // 2: good
				{"坏代码", "柳泉路", bad, "", "", "", "", "", ""},                        // 3: bad check digit
				{"无此路", "不存在路", "", "", "", "", "", "", ""},                        // 4: unknown road
				{"", "柳泉路", "", "", "", "", "", "", ""},                            // 5: no name
				{"坏电话", "柳泉路", "", "", "", "12345", "", "", ""},                    // 6: bad phone
				{"重复代码", "柳泉路", good, "", "", "", "", "", ""},                      // 7: same USCC as row 2
				{"", "", "", "", "", "", "", "", ""},                               // 8: blank, skipped
				{"坏坐标", "柳泉路", "", "", "", "", "", "north", "118"},                 // 9: bad latitude
				{"两处错", "", "", "", "", "0531", "", "", ""},                        // 10: no road, bad phone
				{"再重复", "柳泉路", strings.ToLower(good), "", "", "", "", "", ""},      // 11: same USCC, lower case
			})
			want := []problem{{3, "统一社会信用代码"}, {4, "道路"}, {5, "商户名称"}, {6, "联系电话"}, {7, "统一社会信用代码"},
				{9, "纬度"}, {10, "道路"}, {10, "联系电话"}, {11, "统一社会信用代码"}}
			before := e.snapshot()

			r := e.importFile(w.Admin[0], w.County[0], "register.csv", file, false)
			if r.Status != 200 {
				t.Fatalf("dry run: %d %s", r.Status, r.Body)
			}
			if got := problemsOf(r); !reflect.DeepEqual(got, want) {
				t.Errorf("problems = %v\nwant       %v\n%s", got, want, r.Body)
			}
			for _, p := range r.JSON["errors"].([]any) {
				if p.(map[string]any)["problem"] == "" {
					t.Errorf("problem without text: %v", p)
				}
			}
			if num(r.JSON["rows"]) != 9 || num(r.JSON["valid"]) != 1 || num(r.JSON["created"]) != 0 || r.JSON["commit"] != false {
				t.Errorf("dry run report: %s", r.Body)
			}
			for _, p := range r.JSON["errors"].([]any) {
				if row := num(p.(map[string]any)["row"]); (row == 7 || row == 11) && !strings.Contains(p.(map[string]any)["problem"].(string), "第 2 行") {
					t.Errorf("duplicate row %d does not name row 2, the first with the code: %v", row, p)
				}
			}
			if got := e.snapshot(); !reflect.DeepEqual(got, before) {
				t.Errorf("dry run stored data: %v → %v", before, got)
			}

			r = e.importFile(w.Admin[0], w.County[0], "register.csv", file, true)
			if r.Status != 400 || r.code() != "invalid_input" {
				t.Errorf("commit with bad rows: %d %s, want 400 invalid_input", r.Status, r.Body)
			}
			fields, _ := r.JSON["error"].(map[string]any)["fields"].(map[string]any)
			for _, p := range want {
				if _, ok := fields[fmt.Sprintf("row %d %s", p.Row, p.Column)]; !ok {
					t.Errorf("commit error does not name row %d %s: %v", p.Row, p.Column, fields)
				}
			}
			if got := e.snapshot(); !reflect.DeepEqual(got, before) {
				t.Errorf("refused commit stored data: %v → %v", before, got)
			}

			// Refused callers and files.
			for _, c := range []struct {
				name   string
				token  string
				county int64
				file   string
				data   []byte
				status int
			}{
				{"officer", w.Officer[0], w.County[0], "r.csv", registerCSV(1, "370303", 50, []string{"柳泉路"}), 403},
				{"merchant", w.Shop[0], w.County[0], "r.csv", registerCSV(1, "370303", 50, []string{"柳泉路"}), 403},
				{"other county admin", w.Admin[1], w.County[0], "r.csv", registerCSV(1, "370303", 50, []string{"柳泉路"}), 404},
				{"no county", w.Admin[0], 0, "r.csv", registerCSV(1, "370303", 50, []string{"柳泉路"}), 400},
				{"unknown column", w.Admin[0], w.County[0], "r.csv", []byte("商户名称,道路,备注\n甲,柳泉路,x\n"), 400},
				{"no road column", w.Admin[0], w.County[0], "r.csv", []byte("商户名称\n甲\n"), 400},
				{"not a spreadsheet", w.Admin[0], w.County[0], "r.xlsx", []byte("not a zip"), 400},
				{"unknown format", w.Admin[0], w.County[0], "r.txt", registerCSV(1, "370303", 50, []string{"柳泉路"}), 400},
				{"empty file", w.Admin[0], w.County[0], "r.csv", nil, 400},
			} {
				r := e.importFile(c.token, c.county, c.file, c.data, true)
				if r.Status != c.status {
					t.Errorf("%s: %d %s, want %d", c.name, r.Status, r.Body, c.status)
				}
			}
			if got := e.snapshot(); !reflect.DeepEqual(got, before) {
				t.Errorf("refused imports stored data: %v → %v", before, got)
			}
		})
	}
}

// TestImportLarge imports a 10,000-row register in one request, then the same
// file again: every row is a duplicate and nothing is doubled.
func TestImportLarge(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			w := e.seeded()
			roads := e.importRoads(w.Admin[0], w.County[0])
			file := registerCSV(10000, "370303", 1, roads)
			before := e.count("merchants", "county_id = ?", w.County[0])

			start := time.Now()
			r := e.importFile(w.Admin[0], w.County[0], "register.csv", file, false)
			t.Logf("%s: dry run of 10,000 rows (%d KiB) took %v", d, len(file)>>10, time.Since(start).Round(time.Millisecond))
			if r.Status != 200 || num(r.JSON["valid"]) != 10000 || len(r.JSON["errors"].([]any)) != 0 {
				t.Fatalf("dry run: %d %.500s", r.Status, r.Body)
			}
			if got := e.count("merchants", "county_id = ?", w.County[0]); got != before {
				t.Fatalf("dry run stored %d merchants", got-before)
			}

			start = time.Now()
			r = e.importFile(w.Admin[0], w.County[0], "register.csv", file, true)
			t.Logf("%s: commit of 10,000 rows took %v", d, time.Since(start).Round(time.Millisecond))
			if r.Status != 201 || num(r.JSON["created"]) != 10000 || len(r.JSON["duplicates"].([]any)) != 0 {
				t.Fatalf("commit: %d %.500s", r.Status, r.Body)
			}
			if got := e.count("merchants", "county_id = ?", w.County[0]); got != before+10000 {
				t.Errorf("%d merchants after import, want %d", got, before+10000)
			}
			if got := e.count("merchants", "county_id = ? AND uscc = ? AND name = ? AND phone = ?", w.County[0],
				usccFor("370303", 4321), "商户04321", "13800004321"); got != 1 {
				t.Errorf("row 4321 stored %d times", got)
			}
			var codes int
			e.db.SQL().QueryRow("SELECT COUNT(DISTINCT code) FROM merchants").Scan(&codes)
			if all := e.count("merchants", "1 = 1"); codes != all {
				t.Errorf("%d distinct codes for %d merchants", codes, all)
			}
			// Imported shops are ranked like any other.
			list := e.must(200, "GET", "/api/v1/leaderboards/merchants?scope=county&id="+itoa(w.County[0])+"&limit=1", w.Officer[0], nil)
			if num(list.JSON["total"]) != before+10000 {
				t.Errorf("county leaderboard total %v, want %d", list.JSON["total"], before+10000)
			}

			snap := e.snapshot()
			r = e.importFile(w.Admin[0], w.County[0], "register.csv", file, true)
			if r.Status != 200 || num(r.JSON["created"]) != 0 || len(r.JSON["duplicates"].([]any)) != 10000 {
				t.Fatalf("re-import: %d %.500s", r.Status, r.Body)
			}
			dup := r.JSON["duplicates"].([]any)[0].(map[string]any)
			if num(dup["row"]) != 2 || dup["name"] != "商户00001" || dup["code"] == "" {
				t.Errorf("first duplicate = %v", dup)
			}
			if got := e.snapshot(); !reflect.DeepEqual(got, snap) {
				t.Errorf("re-import changed data: %v → %v", snap, got)
			}
			// Without USCC, road and name identify a shop.
			noUSCC := registerRows(3, "370303", 1, roads)
			for _, row := range noUSCC[1:] {
				row[2] = ""
			}
			r = e.importFile(w.Admin[0], w.County[0], "again.csv", csvBytes(noUSCC), true)
			if r.Status != 200 || num(r.JSON["created"]) != 0 || len(r.JSON["duplicates"].([]any)) != 3 {
				t.Errorf("re-import by road and name: %d %.500s", r.Status, r.Body)
			}
			// A USCC registered in another county is an error, not a duplicate.
			r = e.importFile(w.Admin[1], w.County[1], "other.csv", csvBytes([][]string{service.ImportHeader(),
				{"跨区商户", "柳泉路", usccFor("370303", 1), "", "", "", "", "", ""}}), false)
			if got := problemsOf(r); r.Status != 200 || !reflect.DeepEqual(got, []problem{{2, "统一社会信用代码"}}) {
				t.Errorf("USCC of another county: %d %s", r.Status, r.Body)
			}
			e.checkClean()
		})
	}
}

// TestImportFormats imports XLSX and GBK-encoded CSV registers, and the
// downloadable templates re-import as a valid one-row dry run.
func TestImportFormats(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			w := e.seeded()
			roads := []string{"柳泉路"}

			// XLSX, first sheet, with an English header and an extra blank row.
			rows := registerRows(3, "370303", 100, roads)
			rows[0] = []string{"name", "road", "uscc", "category", "owner_name", "phone", "address", "lat", "lng"}
			x := excelize.NewFile()
			for r, row := range rows {
				for c, v := range row {
					cell, _ := excelize.CoordinatesToCellName(c+1, r+1)
					x.SetCellStr("Sheet1", cell, v)
				}
			}
			x.SetCellStr("Sheet1", "A6", "商户00103")
			x.SetCellStr("Sheet1", "B6", "柳泉路")
			buf, err := x.WriteToBuffer()
			if err != nil {
				t.Fatal(err)
			}
			r := e.importFile(w.Admin[0], w.County[0], "登记表.XLSX", buf.Bytes(), true)
			if r.Status != 201 || num(r.JSON["created"]) != 4 {
				t.Fatalf("xlsx import: %d %s", r.Status, r.Body)
			}
			got := e.must(200, "GET", "/api/v1/merchants?q=商户00101", w.Admin[0], nil)
			items := got.JSON["items"].([]any)
			if len(items) != 1 || items[0].(map[string]any)["uscc"] != usccFor("370303", 101) {
				t.Errorf("xlsx row 101: %s", got.Body)
			}

			// GBK, as Chinese Excel saves "CSV (逗号分隔)", without BOM.
			var plain bytes.Buffer
			cw := csv.NewWriter(&plain)
			cw.WriteAll([][]string{service.ImportHeader(), {"老王烧烤", "柳泉路", usccFor("370303", 200), "餐饮", "王五", "0533-2181234", "张店区柳泉路 9 号", "", ""}})
			gbk, err := simplifiedchinese.GBK.NewEncoder().Bytes(plain.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			r = e.importFile(w.Admin[0], w.County[0], "gbk.csv", gbk, true)
			if r.Status != 201 || num(r.JSON["created"]) != 1 {
				t.Fatalf("gbk import: %d %s", r.Status, r.Body)
			}
			got = e.must(200, "GET", "/api/v1/merchants?q="+usccFor("370303", 200), w.Admin[0], nil)
			items = got.JSON["items"].([]any)
			if len(items) != 1 || items[0].(map[string]any)["name"] != "老王烧烤" || items[0].(map[string]any)["address"] != "张店区柳泉路 9 号" {
				t.Errorf("gbk row read back as %s", got.Body)
			}

			// Templates.
			for _, format := range []string{"csv", "xlsx"} {
				tpl := e.must(200, "GET", "/api/v1/merchants/import/template?format="+format, w.Admin[0], nil)
				if !strings.Contains(tpl.Header.Get("Content-Disposition"), "attachment") {
					t.Errorf("%s template: Content-Disposition %q", format, tpl.Header.Get("Content-Disposition"))
				}
				before := e.snapshot()
				r := e.importFile(w.Admin[0], w.County[0], "template."+format, tpl.Body, false)
				if r.Status != 200 || num(r.JSON["rows"]) != 1 || num(r.JSON["valid"]) != 1 || len(r.JSON["errors"].([]any)) != 0 {
					t.Errorf("%s template dry run: %d %s", format, r.Status, r.Body)
				}
				if got := e.snapshot(); !reflect.DeepEqual(got, before) {
					t.Errorf("%s template dry run stored data", format)
				}
			}
			e.must(400, "GET", "/api/v1/merchants/import/template?format=pdf", w.Admin[0], nil)
			e.checkClean()
		})
	}
}
