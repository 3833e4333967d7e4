package web_test

import (
	"context"
	"fmt"
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

// besideField checks a form page shows want as the problem of field, in the
// field's own block: the input marked invalid and the message right after it.
func besideField(t *testing.T, what string, p page, field, want string) {
	t.Helper()
	at := strings.Index(p.Body, `id="`+field+`"`)
	if at < 0 {
		t.Errorf("%s: no field %s on the page", what, field)
		return
	}
	end := strings.Index(p.Body[at:], "</div>")
	if end < 0 {
		end = len(p.Body) - at
	}
	block := p.Body[at : at+end]
	if !strings.Contains(block, `aria-invalid="true"`) || !strings.Contains(block, `<p class="err" id="`+field+`-err">`+want) {
		t.Errorf("%s: field %s shows %q, want it marked invalid with %q beside it", what, field, block, want)
	}
}

// noProblemAt checks a field is not marked invalid.
func noProblemAt(t *testing.T, what string, p page, field string) {
	t.Helper()
	if strings.Contains(p.Body, `id="`+field+`-err"`) {
		t.Errorf("%s: field %s shows a problem", what, field)
	}
}

// tableRowIDs lists the ids of the rows <tr id="prefix-N"> of the table with id table, in order.
func tableRowIDs(p page, table, prefix string) []int64 {
	at := strings.Index(p.Body, `<table class="data" id="`+table+`"`)
	if at < 0 {
		return nil
	}
	body := p.Body[at:]
	body = body[:strings.Index(body, "</table>")]
	var out []int64
	for _, m := range regexp.MustCompile(`<tr id="`+prefix+`-(\d+)"`).FindAllStringSubmatch(body, -1) {
		n, _ := strconv.ParseInt(m[1], 10, 64)
		out = append(out, n)
	}
	return out
}

// tableRow is the HTML of the row <tr id="id"> of a page.
func tableRow(p page, id string) string {
	at := strings.Index(p.Body, `<tr id="`+id+`"`)
	if at < 0 {
		return ""
	}
	row := p.Body[at:]
	return row[:strings.Index(row, "</tr>")]
}

// refusedWith checks a console request for another county's or an unknown
// thing is 403 or 404, names none of names and stores nothing.
func refusedWith(t *testing.T, e *env, what string, send func() page, names ...string) {
	t.Helper()
	(&secFixture{env: e}).notFound(t, what, send, names...)
}

// TestConsoleRoads: the county admin lists its roads with the ranking's
// numbers and the plaque links, adds and edits roads (a refused form shows the
// service's problem beside the field and stores nothing), assigns officers;
// the city admin picks a county; other counties' roads are refused.
func TestConsoleRoads(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			w := e.seed()
			ctx := context.Background()
			id := func(n int64) string { return strconv.FormatInt(n, 10) }
			c0, r0 := id(w.County[0]), id(w.Road[0])
			e.record(w.Officer[0], w.Merchant[0], "HJWS-02", 3)
			b := e.signedIn(w.AdminName[0])

			// The list: the ranking's shops and score, the officers, the plaques.
			second, err := e.svc.CreateUser(ctx, w.Admin[0], service.UserInput{Username: "officer2", Password: password,
				Role: service.RoleOfficer, CountyID: &w.County[0], DisplayName: "赵巡查"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.svc.UpdateRoad(ctx, w.Admin[0], w.Road[0], service.RoadInput{OfficerIDs: &[]int64{w.Officer[0].UserID}}); err != nil {
				t.Fatal(err)
			}
			board, err := e.svc.RoadBoard(ctx, w.Admin[0], w.County[0], "")
			if err != nil || len(board) != 1 {
				t.Fatalf("road board %v, %v", board, err)
			}
			p := b.get("/console/roads")
			if p.Status != http.StatusOK {
				t.Fatalf("/console/roads: %d %s", p.Status, p.Body)
			}
			row := tableRow(p, "road-"+r0)
			for _, want := range []string{"柳泉路", "车站街道", `<td class="num shops">` + strconv.Itoa(board[0].Merchants) + "</td>",
				`<td class="num score">` + fmt.Sprintf("%.2f", board[0].Score) + "</td>", `<td class="num rank">1</td>`, "王巡查张店区", "未列入",
				`/api/v1/roads/` + r0 + `/plaques?format=html`, `/api/v1/roads/` + r0 + `/plaques?format=zip`} {
				if !strings.Contains(row, want) {
					t.Errorf("the road's row %q lacks %q", row, want)
				}
			}
			if board[0].Merchants != 2 || board[0].Score != 98.5 {
				t.Errorf("the ranking says %d shops, %.2f; want 2 and 98.50", board[0].Merchants, board[0].Score)
			}
			for _, want := range []string{"/api/v1/counties/" + c0 + "/plaques?format=html", "/api/v1/counties/" + c0 + "/plaques?format=zip"} {
				if !strings.Contains(p.Body, want) {
					t.Errorf("/console/roads lacks the county's plaques link %s", want)
				}
			}
			if strings.Contains(p.Body, "淄川区") {
				t.Errorf("the first county's road list names the second county")
			}
			if ids := tableRowIDs(b.get("/console/roads?q="+url.QueryEscape("柳泉")), "roads", "road"); !slices.Equal(ids, []int64{w.Road[0]}) {
				t.Errorf("search 柳泉: roads %v, want [%d]", ids, w.Road[0])
			}
			if ids := tableRowIDs(b.get("/console/roads?q="+url.QueryEscape("华光")), "roads", "road"); len(ids) != 0 {
				t.Errorf("search 华光: roads %v, want none", ids)
			}

			// A refused road: the problems beside the fields, nothing stored.
			for _, c := range []struct {
				name   string
				form   url.Values
				status int
				field  map[string]string
			}{
				{"no name and a length that is no number", url.Values{"name": {" "}, "town": {"马尚街道"}, "length_m": {"一千"}}, http.StatusBadRequest,
					map[string]string{"name": "必填", "length_m": "应在 0 到 100000 米之间"}},
				{"a negative length", url.Values{"name": {"华光路"}, "length_m": {"-5"}}, http.StatusBadRequest,
					map[string]string{"length_m": "应在 0 到 100000 米之间"}},
				{"the name of a road of the county", url.Values{"name": {"柳泉路"}}, http.StatusConflict,
					map[string]string{"name": "同名道路已存在"}},
			} {
				b.get("/console/roads")
				before := e.snapshot()
				p := b.post("/console/roads?county_id="+c0, c.form)
				if p.Status != c.status {
					t.Errorf("%s: %d, want %d", c.name, p.Status, c.status)
				}
				for f, want := range c.field {
					besideField(t, c.name, p, f, want)
				}
				if c.field["name"] == "" {
					noProblemAt(t, c.name, p, "name")
				}
				if !strings.Contains(p.Body, `value="`+c.form.Get("length_m")+`"`) {
					t.Errorf("%s: the form lost the length typed", c.name)
				}
				if after := e.snapshot(); !maps.Equal(before, after) {
					t.Errorf("%s stored something: %v → %v", c.name, before, after)
				}
			}

			// A road added, then edited.
			p = b.post("/console/roads?county_id="+c0, url.Values{"name": {"华光路"}, "town": {"马尚街道"}, "length_m": {"1200"}})
			loc := p.Header.Get("Location")
			newID, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(loc, "/console/roads/"), "?created=1"), 10, 64)
			if p.Status != http.StatusSeeOther || err != nil {
				t.Fatalf("add 华光路: %d to %q: %s", p.Status, loc, p.Body)
			}
			got, err := e.svc.Road(ctx, w.Admin[0], newID)
			if err != nil || got.Name != "华光路" || got.Town != "马尚街道" || got.LengthM == nil || *got.LengthM != 1200 || got.CountyID != w.County[0] {
				t.Fatalf("the road stored: %+v, %v", got, err)
			}
			p = b.get(loc)
			for _, want := range []string{"已添加道路“华光路”", `value="1200"`, "/api/v1/roads/" + id(newID) + "/plaques?format=html",
				"/api/v1/roads/" + id(newID) + "/plaques?format=zip", "这条道路还没有商户"} {
				if !strings.Contains(p.Body, want) {
					t.Errorf("the new road's page lacks %q", want)
				}
			}
			before := e.snapshot()
			p = b.post("/console/roads/"+id(newID), url.Values{"name": {""}, "town": {"马尚街道"}, "length_m": {"x"}})
			if p.Status != http.StatusBadRequest {
				t.Errorf("edit with no name: %d, want 400", p.Status)
			}
			besideField(t, "edit with no name", p, "name", "必填")
			besideField(t, "edit with no name", p, "length_m", "应在 0 到 100000 米之间")
			if after := e.snapshot(); !maps.Equal(before, after) {
				t.Errorf("a refused edit stored something: %v → %v", before, after)
			}
			p = b.post("/console/roads/"+id(newID), url.Values{"name": {"柳泉路"}, "town": {"马尚街道"}})
			if p.Status != http.StatusConflict {
				t.Errorf("rename to a taken name: %d, want 409", p.Status)
			}
			besideField(t, "rename to a taken name", p, "name", "同名道路已存在")
			if p := b.post("/console/roads/"+id(newID), url.Values{"name": {"华光路东段"}, "town": {"科苑街道"}, "length_m": {"1500"}}); p.Status != http.StatusSeeOther {
				t.Fatalf("edit: %d %s", p.Status, p.Body)
			}
			got, _ = e.svc.Road(ctx, w.Admin[0], newID)
			if got.Name != "华光路东段" || got.Town != "科苑街道" || got.LengthM == nil || *got.LengthM != 1500 {
				t.Errorf("after the edit the road is %+v", got)
			}

			// Officers (定人定责): the boxes ticked are the road's officers.
			p = b.get("/console/roads/" + r0)
			for _, want := range []string{`value="` + id(w.Officer[0].UserID) + `" checked`, `value="` + id(second.ID) + `">`} {
				if !strings.Contains(p.Body, want) {
					t.Errorf("the officers' boxes lack %q", want)
				}
			}
			if p := b.post("/console/roads/"+r0+"/officers", url.Values{"officer_id": {id(w.Officer[0].UserID), id(second.ID)}}); p.Status != http.StatusSeeOther {
				t.Fatalf("set officers: %d %s", p.Status, p.Body)
			}
			if got, _ := e.svc.Road(ctx, w.Admin[0], w.Road[0]); !slices.Equal(got.OfficerIDs, []int64{w.Officer[0].UserID, second.ID}) {
				t.Errorf("officers stored %v, want [%d %d]", got.OfficerIDs, w.Officer[0].UserID, second.ID)
			}
			if row := tableRow(b.get("/console/roads"), "road-"+r0); !strings.Contains(row, "王巡查张店区、赵巡查") {
				t.Errorf("the road's row names the officers as %q, want 王巡查张店区、赵巡查", row)
			}
			b.get("/console/roads/" + r0)
			before = e.snapshot()
			p = b.post("/console/roads/"+r0+"/officers", url.Values{"officer_id": {id(second.ID), id(w.Officer[1].UserID)}})
			if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, "责任人须为本区县巡查员") {
				t.Errorf("another county's officer: %d, shows the service's problem: %v", p.Status, strings.Contains(p.Body, "责任人须为本区县巡查员"))
			}
			if after := e.snapshot(); !maps.Equal(before, after) {
				t.Errorf("a refused officer stored something")
			}
			if p := b.post("/console/roads/"+r0+"/officers", nil); p.Status != http.StatusSeeOther {
				t.Fatalf("clear officers: %d", p.Status)
			}
			if got, _ := e.svc.Road(ctx, w.Admin[0], w.Road[0]); len(got.OfficerIDs) != 0 {
				t.Errorf("officers after clearing: %v", got.OfficerIDs)
			}

			// The city admin chooses a county, then sees its roads.
			city := e.browser()
			if p := city.login("admin", adminPassword); p.Status != http.StatusSeeOther {
				t.Fatal("city admin login")
			}
			p = city.get("/console/roads")
			for _, c := range seedCounties {
				if !strings.Contains(p.Body, c[1]) {
					t.Errorf("the city admin's county choice lacks %s", c[1])
				}
			}
			if ids := tableRowIDs(city.get("/console/roads?county_id="+id(w.County[1])), "roads", "road"); !slices.Equal(ids, []int64{w.Road[1]}) {
				t.Errorf("the city admin's roads of the second county: %v, want [%d]", ids, w.Road[1])
			}
			if p := city.post("/console/roads?county_id="+id(w.County[1]), url.Values{"name": {"人民路"}}); p.Status != http.StatusSeeOther {
				t.Errorf("the city admin adds a road to the second county: %d", p.Status)
			}

			// The second county's roads, from the first county's admin.
			r1 := id(w.Road[1])
			other := []string{"张记烧烤淄川区", "李家面馆淄川区", "人民路"}
			b.get("/console/roads")
			for _, c := range []struct {
				what string
				send func() page
			}{
				{"its road list", func() page { return b.get("/console/roads?county_id=" + id(w.County[1])) }},
				{"its road", func() page { return b.get("/console/roads/" + r1) }},
				{"an unknown road", func() page { return b.get("/console/roads/999999") }},
				{"a road added to it", func() page {
					return b.post("/console/roads?county_id="+id(w.County[1]), url.Values{"name": {"新村路"}})
				}},
				{"a rename of its road", func() page { return b.post("/console/roads/"+r1, url.Values{"name": {"改名路"}}) }},
				{"its road's officers", func() page {
					return b.post("/console/roads/"+r1+"/officers", url.Values{"officer_id": {id(w.Officer[1].UserID)}})
				}},
			} {
				refusedWith(t, e, "the second county's "+c.what, c.send, other...)
			}
		})
	}
}
