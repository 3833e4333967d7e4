package web_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"html"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/service"
)

// registerCSV writes an import register: the template's header and rows.
func registerCSV(rows ...[]string) []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write(service.ImportHeader())
	w.WriteAll(rows)
	return buf.Bytes()
}

// registerRow is a row of the register: name, road, USCC, the rest empty.
func registerRow(name, road, code string) []string {
	return []string{name, road, code, "餐饮", "", "", "", "", ""}
}

var hiddenFieldRE = regexp.MustCompile(`<input type="hidden" name="([a-z]+)" value="([^"]*)">`)

// commitForm is the dry-run page's commit form (nil when it has none).
func commitForm(body string) url.Values {
	i := strings.Index(body, `action="/console/import/commit"`)
	if i < 0 {
		return nil
	}
	form := url.Values{}
	for _, m := range hiddenFieldRE.FindAllStringSubmatch(body[i:strings.Index(body[i:], "</form>")+i], -1) {
		form.Set(m[1], html.UnescapeString(m[2]))
	}
	return form
}

// countyShops are the names of a county's merchants in the database.
func (e *env) countyShops(county int64) []string {
	e.t.Helper()
	rows, err := e.db.SQL().Query("SELECT name FROM merchants WHERE county_id = ? ORDER BY name", county)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		out = append(out, n)
	}
	return out
}

// TestConsoleImport: the dry run shows every row with its result and the bad
// ones with their reasons, and stores nothing; the commit creates exactly the
// good rows and lists them; a commit is refused when the rows are bad by then,
// when the file was changed or comes from another account.
func TestConsoleImport(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			w := e.seed()
			admin := e.signedIn(w.AdminName[0])
			p := admin.get("/console/import")
			for _, link := range []string{"/api/v1/merchants/import/template?format=csv", "/api/v1/merchants/import/template?format=xlsx"} {
				if !strings.Contains(p.Body, link) {
					t.Errorf("the import page lacks the template link %s", link)
				}
			}
			before := e.countyShops(w.County[0])

			// A register with a good row, a bad road, a bad USCC and a shop
			// registered already.
			bad := registerCSV(
				registerRow("王记包子铺", "柳泉路", uscc(100)),
				registerRow("赵家水果店", "不存在路", uscc(101)),
				registerRow("孙氏五金", "柳泉路", "91370303MA3C0YX870"),
				registerRow("张记烧烤张店区", "柳泉路", uscc(0)),
			)
			snap := e.snapshot()
			p = admin.postMultipart("/console/import", nil, map[string][]byte{"file": bad})
			if p.Status != http.StatusOK {
				t.Fatalf("dry run: %d %s", p.Status, p.Body)
			}
			if after := e.snapshot(); !maps.Equal(snap, after) || !slices.Equal(e.countyShops(w.County[0]), before) {
				t.Errorf("the dry run stored something")
			}
			lines := consoleTable(t, p.Body, "rows-table")
			if len(lines) != 4 {
				t.Fatalf("dry run shows %d rows, want 4: %v", len(lines), lines)
			}
			results := map[string]string{}
			for _, l := range lines {
				results[l.Key] = l.Cells[len(l.Cells)-1]
			}
			for row, want := range map[string]string{"row-2": "可导入", "row-3": `道路：本区县没有名为 "不存在路" 的道路`,
				"row-4": "统一社会信用代码：", "row-5": "已登记，跳过"} {
				if !strings.Contains(results[row], want) {
					t.Errorf("dry run %s: %q, want %q", row, results[row], want)
				}
			}
			for _, row := range []string{"row-3", "row-4"} {
				if !regexp.MustCompile(`<tr id="` + row + `" class="bad">`).MatchString(p.Body) {
					t.Errorf("bad %s is not highlighted", row)
				}
			}
			if f := commitForm(p.Body); f != nil {
				t.Errorf("a dry run with bad rows offers a commit")
			}
			if got := consoleText(between(p.Body, `id="bad-rows">`, "<")); got != "2" {
				t.Errorf("bad rows counted %q, want 2", got)
			}

			// The corrected register: two new shops, one registered already.
			good := registerCSV(
				registerRow("王记包子铺", "柳泉路", uscc(100)),
				registerRow("赵家水果店", "柳泉路", uscc(101)),
				registerRow("张记烧烤张店区", "柳泉路", uscc(0)),
			)
			p = admin.postMultipart("/console/import", nil, map[string][]byte{"file": good})
			form := commitForm(p.Body)
			if p.Status != http.StatusOK || form == nil || form.Get("content") == "" || form.Get("seal") == "" {
				t.Fatalf("dry run of the corrected file: %d, commit form %v", p.Status, form != nil)
			}
			if !strings.Contains(p.Body, "确认导入 2 家商户") {
				t.Errorf("the commit button does not name 2 shops")
			}
			if !slices.Equal(e.countyShops(w.County[0]), before) {
				t.Errorf("the second dry run stored something")
			}

			// Another account's commit of the same page, or a changed file: refused.
			other := e.signedIn(w.AdminName[1])
			other.get("/console/import")
			snap = e.snapshot()
			forged := maps.Clone(form)
			forged.Del("csrf")
			if p := other.post("/console/import/commit", forged); p.Status != http.StatusBadRequest || !strings.Contains(p.Body, "重新上传") {
				t.Errorf("another county's admin committing the page: %d", p.Status)
			}
			tampered := maps.Clone(form)
			tampered.Set("content", form.Get("content")[:len(form.Get("content"))-4]+"AAAA")
			if p := admin.post("/console/import/commit", tampered); p.Status != http.StatusBadRequest {
				t.Errorf("a changed file: %d, want 400", p.Status)
			}
			if after := e.snapshot(); !maps.Equal(snap, after) || !slices.Equal(e.countyShops(w.County[0]), before) || len(e.countyShops(w.County[1])) != 2 {
				t.Errorf("a refused commit stored something")
			}

			// The commit: exactly the two good rows, listed with their codes and roads.
			admin.get("/console/import")
			p = admin.post("/console/import/commit", form)
			if p.Status != http.StatusOK {
				t.Fatalf("commit: %d %s", p.Status, p.Body)
			}
			want := slices.Sorted(slices.Values(append(slices.Clone(before), "王记包子铺", "赵家水果店")))
			if got := e.countyShops(w.County[0]); !slices.Equal(got, want) {
				t.Errorf("after the commit the county has %v, want %v", got, want)
			}
			created := consoleTable(t, p.Body, "created")
			if len(created) != 2 || consoleText(between(p.Body, `id="created-count">`, "<")) != "2" {
				t.Fatalf("the result lists %v", created)
			}
			for _, c := range created {
				ms, _, err := e.svc.Merchants(ctx, w.Admin[0], service.MerchantFilter{CountyID: w.County[0], Query: c.Cells[2]})
				if err != nil || len(ms) != 1 || ms[0].Name != c.Cells[1] || c.Cells[3] != "柳泉路" {
					t.Errorf("created line %v: the database has %v (%v)", c.Cells, ms, err)
					continue
				}
				if !strings.Contains(p.Body, `href="/console/shops/`+strconv.FormatInt(ms[0].ID, 10)+`"`) {
					t.Errorf("no link to the shop %s", ms[0].Name)
				}
			}
			if skipped := consoleTable(t, p.Body, "skipped"); len(skipped) != 1 || skipped[0].Cells[1] != "张记烧烤张店区" {
				t.Errorf("skipped lines %v, want the registered shop", skipped)
			}

			// The same page committed again creates nothing more.
			admin.get("/console/import")
			if p := admin.post("/console/import/commit", form); p.Status != http.StatusOK || len(e.countyShops(w.County[0])) != len(want) {
				t.Errorf("committing twice: %d, %d shops", p.Status, len(e.countyShops(w.County[0])))
			}

			// A file whose rows are bad by the time of the commit is refused
			// whole: its USCC was registered in the other county meanwhile.
			late := registerCSV(registerRow("钱记茶庄", "柳泉路", uscc(200)), registerRow("周记粮油", "柳泉路", uscc(201)))
			p = admin.postMultipart("/console/import", nil, map[string][]byte{"file": late})
			form = commitForm(p.Body)
			if form == nil {
				t.Fatalf("no commit form for a good file")
			}
			if _, err := e.svc.CreateMerchant(ctx, w.Admin[1], service.MerchantInput{RoadID: &w.Road[1], Name: ptr("钱记茶庄"), USCC: ptr(uscc(200))}); err != nil {
				t.Fatal(err)
			}
			beforeLate := e.countyShops(w.County[0])
			p = admin.post("/console/import/commit", form)
			if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, "未导入任何商户") || !strings.Contains(p.Body, "已在其他区县登记") {
				t.Errorf("commit of a file bad by then: %d, want 400 with the reason", p.Status)
			}
			if commitForm(p.Body) != nil {
				t.Errorf("the refused commit offers to commit again")
			}
			if got := e.countyShops(w.County[0]); !slices.Equal(got, beforeLate) {
				t.Errorf("the refused commit stored %v", got)
			}

			// An old Excel file and an empty form are explained.
			if p := admin.postMultipart("/console/import", nil, map[string][]byte{"file": {0xd0, 0xcf, 0x11, 0xe0, 1, 2}}); p.Status != http.StatusBadRequest || !strings.Contains(p.Body, ".xls") {
				t.Errorf("an .xls file: %d", p.Status)
			}
			if p := admin.postMultipart("/console/import", nil, nil); p.Status != http.StatusBadRequest || !strings.Contains(p.Body, "请选择要导入") {
				t.Errorf("no file: %d", p.Status)
			}
		})
	}
}

// between is the text of s after the first from up to the next to.
func between(s, from, to string) string {
	i := strings.Index(s, from)
	if i < 0 {
		return ""
	}
	s = s[i+len(from):]
	if j := strings.Index(s, to); j >= 0 {
		return s[:j]
	}
	return s
}

// consoleSec is what the security tables' console requests need, made once
// per fixture: a pending appeal of the first shop, a spare officer account to
// disable and reset, and a register with the commit form of its dry run.
type consoleSec struct {
	appeal, spare int64
	register      []byte
	commit        url.Values
}

// consoleData makes the console requests' data on first use.
func (f *secFixture) consoleData() *consoleSec {
	f.t.Helper()
	if f.consoleSec != nil {
		return f.consoleSec
	}
	ctx := context.Background()
	entry := f.record(f.w.Officer[0], f.w.Merchant[0], "HJWS-03", 3)
	ap, err := f.svc.FileAppeal(ctx, f.w.Shop[0], f.w.Merchant[0], entry, "当时门前已经清扫干净")
	if err != nil {
		f.t.Fatal(err)
	}
	spare, err := f.svc.CreateUser(ctx, f.w.Admin[0], service.UserInput{Username: "spare-officer", Password: password,
		Role: service.RoleOfficer, CountyID: &f.w.County[0]})
	if err != nil {
		f.t.Fatal(err)
	}
	c := &consoleSec{appeal: ap.ID, spare: spare.ID, register: registerCSV(registerRow("新开便利店", "柳泉路", uscc(300)))}
	b := f.signIn(asCounty) // a browser of its own: the tables' browsers keep their pages
	b.get("/console/import")
	p := b.postMultipart("/console/import", nil, map[string][]byte{"file": c.register})
	if c.commit = commitForm(p.Body); c.commit == nil {
		f.t.Fatalf("the register's dry run offers no commit: %d", p.Status)
	}
	c.commit.Del("csrf")
	f.consoleSec = c
	return c
}
