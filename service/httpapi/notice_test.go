package httpapi_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/menqian/menqian/models/dbtest"
)

// TestNotices: an officer issues a rectification notice (限期整改通知) with a
// deadline; the merchant sees it; past the deadline it is overdue and the
// road fails the demonstration criterion until the cycle ends; re-inspection
// confirms it once. Bad input and other callers change nothing.
func TestNotices(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			w := e.seeded()
			e.clock.Set(at(2026, 11, 10, 9, 0, 0))
			e.relogin(&w)
			shop := w.Merchant[0]
			path := "/api/v1/merchants/" + itoa(shop) + "/notices"

			before := e.snapshot()
			for _, c := range []struct {
				name  string
				token string
				path  string
				body  map[string]any
				want  int
				field string
			}{
				{"nothing to fix", w.Officer[0], path, map[string]any{}, 400, "note"},
				{"unknown rule", w.Officer[0], path, map[string]any{"rule_code": "NOPE-01"}, 400, "rule_code"},
				{"deadline zero", w.Officer[0], path, map[string]any{"note": "清理门前杂物", "due_days": 0}, 400, "due_days"},
				{"deadline too far", w.Officer[0], path, map[string]any{"note": "清理门前杂物", "due_days": 31}, 400, "due_days"},
				{"photo of another county", w.Officer[0], path, map[string]any{"note": "x", "photos": []int64{w.Photo[1]}}, 400, "photos"},
				{"photo that does not exist", w.Officer[0], path, map[string]any{"note": "x", "photos": []int64{99999}}, 400, "photos"},
				{"merchant account", w.Shop[0], path, map[string]any{"note": "x"}, 403, ""},
				{"officer of another county", w.Officer[1], path, map[string]any{"note": "x"}, 404, ""},
				{"no such merchant", w.Officer[0], "/api/v1/merchants/99999/notices", map[string]any{"note": "x"}, 404, ""},
			} {
				r := e.do("POST", c.path, c.token, c.body)
				if r.Status != c.want {
					t.Errorf("%s: %d %s, want %d", c.name, r.Status, r.Body, c.want)
				}
				if c.field != "" {
					if fields, _ := r.JSON["error"].(map[string]any)["fields"].(map[string]any); fields[c.field] == nil {
						t.Errorf("%s: no error on field %s: %s", c.name, c.field, r.Body)
					}
				}
			}
			if after := e.snapshot(); !reflect.DeepEqual(before, after) {
				t.Errorf("bad notices stored something: %v → %v", before, after)
			}

			photo := "/api/v1/photos/" + itoa(w.Photo[0])
			e.must(404, "GET", photo, w.Shop[0], nil) // evidence of nothing of this shop yet
			n := e.must(201, "POST", path, w.Officer[0], map[string]any{"rule_code": "zxlh-02", "note": "门前纸箱三日内清理", "photos": []int64{w.Photo[0]}})
			due, _ := time.Parse(time.RFC3339, n.JSON["due_at"].(string))
			if n.JSON["status"] != "open" || n.JSON["rule_code"] != "ZXLH-02" || n.JSON["overdue"] != false ||
				!due.Equal(at(2026, 11, 13, 9, 0, 0)) || len(n.JSON["photos"].([]any)) != 1 {
				t.Errorf("issued notice: %s", n.Body)
			}
			id := itoa(n.id())
			// The merchant sees the evidence of its notice, another merchant does not.
			e.must(200, "GET", photo, w.Shop[0], nil)
			e.must(404, "GET", photo, w.Shop[1], nil)
			// Issuing a notice moves no points.
			if s := e.scoreOf(w.Officer[0], shop); num(s["score"]) != 100 {
				t.Errorf("score after a notice: %v", s)
			}
			// The merchant sees its notices; another merchant does not.
			mine := e.must(200, "GET", path, w.Shop[0], nil)
			if num(mine.JSON["total"]) != 1 {
				t.Errorf("merchant's notices: %s", mine.Body)
			}
			e.must(404, "GET", path, w.Shop[1], nil)
			e.must(404, "GET", path, w.Officer[1], nil)

			// The road is a candidate: its only problem so far is the notice once overdue.
			if r := e.designate(w.Admin[0], w.Road[0], "candidate"); r.Status != 200 {
				t.Fatalf("designate: %d %s", r.Status, r.Body)
			}
			metrics := func() (int, []string) {
				r := e.demoRoad(w.Admin[0], w.County[0], w.Road[0])
				return num(r["metrics"].(map[string]any)["overdue_notices"]), strs(r["failing"])
			}
			if n, _ := metrics(); n != 0 {
				t.Errorf("before the deadline: %d overdue", n)
			}
			e.clock.Set(at(2026, 11, 13, 9, 0, 1))
			e.relogin(&w)
			if n, failing := metrics(); n != 1 || !contains(failing, "no_overdue_notices") {
				t.Errorf("after the deadline: %d overdue, failing %v", n, failing)
			}
			if l := e.must(200, "GET", path, w.Officer[0], nil); l.JSON["items"].([]any)[0].(map[string]any)["overdue"] != true {
				t.Errorf("listed notice not overdue: %s", l.Body)
			}

			// Re-inspection: the merchant may not confirm it, another county may not; once only.
			e.must(403, "POST", "/api/v1/notices/"+id+"/rectified", w.Shop[0], map[string]any{})
			e.must(404, "POST", "/api/v1/notices/"+id+"/rectified", w.Officer[1], map[string]any{})
			e.must(404, "POST", "/api/v1/notices/99999/rectified", w.Officer[0], map[string]any{})
			done := e.must(200, "POST", "/api/v1/notices/"+id+"/rectified", w.Officer[0], map[string]any{"note": "复查已清理"})
			if done.JSON["status"] != "rectified" || done.JSON["overdue"] != false || done.JSON["resolution_note"] != "复查已清理" {
				t.Errorf("rectified notice: %s", done.Body)
			}
			e.must(409, "POST", "/api/v1/notices/"+id+"/rectified", w.Officer[0], map[string]any{})
			// It was overdue this month, so November still fails; December starts clean.
			if n, _ := metrics(); n != 1 {
				t.Errorf("November after a late rectification: %d overdue, want 1", n)
			}
			e.clock.Set(at(2026, 12, 2, 9, 0, 0))
			e.relogin(&w)
			if n, failing := metrics(); n != 0 || contains(failing, "no_overdue_notices") {
				t.Errorf("December: %d overdue, failing %v", n, failing)
			}
			// A notice fixed in time never counts.
			n2 := e.must(201, "POST", path, w.Officer[0], map[string]any{"note": "店招破损", "due_days": 5})
			e.clock.Set(at(2026, 12, 4, 9, 0, 0))
			e.relogin(&w)
			e.must(200, "POST", "/api/v1/notices/"+itoa(n2.id())+"/rectified", w.Officer[0], map[string]any{})
			e.clock.Set(at(2026, 12, 20, 9, 0, 0))
			e.relogin(&w)
			if n, _ := metrics(); n != 0 {
				t.Errorf("a notice fixed in time counted: %d overdue", n)
			}
			// A closed merchant gets no notice.
			e.must(200, "PATCH", "/api/v1/merchants/"+itoa(shop), w.Admin[0], map[string]any{"status": "closed"})
			e.must(409, "POST", path, w.Officer[0], map[string]any{"note": "x"})
		})
	}
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// TestNoticeWorklist: GET /api/v1/notices is the re-inspection worklist of
// the caller's county: open notices by deadline, or the overdue, rectified or
// all of them, of one road if asked; the city admin sees every county or one;
// a merchant its own; other counties and bad filters are refused.
func TestNoticeWorklist(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			w := e.seeded()
			e.clock.Set(at(2026, 11, 10, 9, 0, 0))
			tokens := func() (admin, officer1 string) {
				e.relogin(&w)
				return e.loginToken("admin"), e.loginToken("officer" + seedCounties[1][0])
			}
			admin, officer1 := tokens()
			roadB := e.must(201, "POST", "/api/v1/roads", admin, map[string]any{"county_id": w.County[0], "name": "共青团路"}).id()
			shopB := e.must(201, "POST", "/api/v1/merchants", admin, map[string]any{"road_id": roadB, "name": "李记水果"}).id()
			issue := func(token string, shop int64, note string, days int) int64 {
				t.Helper()
				return e.must(201, "POST", "/api/v1/merchants/"+itoa(shop)+"/notices", token, map[string]any{"note": note, "due_days": days}).id()
			}
			n1 := issue(w.Officer[0], w.Merchant[0], "门前纸箱", 5) // due 11-15
			n2 := issue(w.Officer[0], shopB, "占道经营", 1)         // due 11-11
			n3 := issue(w.Officer[0], w.Merchant[0], "店招破损", 3) // due 11-13, fixed on 11-12
			n4 := issue(officer1, w.Merchant[1], "门前积水", 2)     // due 11-12, other county

			e.clock.Set(at(2026, 11, 12, 9, 0, 0))
			admin, officer1 = tokens()
			e.must(200, "POST", "/api/v1/notices/"+itoa(n3)+"/rectified", w.Officer[0], map[string]any{"note": "已更换"})
			e.clock.Set(at(2026, 11, 14, 9, 0, 0))
			admin, officer1 = tokens()

			ids := func(token, query string) ([]int64, resp) {
				t.Helper()
				r := e.must(200, "GET", "/api/v1/notices"+query, token, nil)
				var out []int64
				for _, it := range itemsOf(t, r) {
					out = append(out, int64(jnum(it["id"])))
				}
				return out, r
			}
			for _, c := range []struct {
				name, token, query string
				want               []int64
				total              int
			}{
				{"officer: open by deadline", w.Officer[0], "", []int64{n2, n1}, 2},
				{"officer: open, asked", w.Officer[0], "?status=open", []int64{n2, n1}, 2},
				{"officer: overdue", w.Officer[0], "?status=overdue", []int64{n2}, 1},
				{"officer: rectified", w.Officer[0], "?status=rectified", []int64{n3}, 1},
				{"officer: all, newest first", w.Officer[0], "?status=all", []int64{n3, n2, n1}, 3},
				{"officer: one road", w.Officer[0], "?road_id=" + itoa(roadB), []int64{n2}, 1},
				{"officer: own county by id", w.Officer[0], "?county_id=" + itoa(w.County[0]), []int64{n2, n1}, 2},
				{"county admin", w.Admin[0], "", []int64{n2, n1}, 2},
				{"other county's officer", officer1, "", []int64{n4}, 1},
				{"city admin: every county", admin, "", []int64{n2, n4, n1}, 3},
				{"city admin: one county", admin, "?county_id=" + itoa(w.County[1]), []int64{n4}, 1},
				{"city admin: overdue everywhere", admin, "?status=overdue", []int64{n2, n4}, 2},
				{"merchant: its own open", w.Shop[0], "", []int64{n1}, 1},
				{"merchant: its own, all", w.Shop[0], "?status=all", []int64{n3, n1}, 2},
				{"a page of one", w.Officer[0], "?limit=1", []int64{n2}, 2},
				{"the next page", w.Officer[0], "?limit=1&offset=1", []int64{n1}, 2},
			} {
				got, r := ids(c.token, c.query)
				if !reflect.DeepEqual(got, c.want) || num(r.JSON["total"]) != c.total {
					t.Errorf("%s: %v of %v, want %v of %d", c.name, got, r.JSON["total"], c.want, c.total)
				}
			}

			_, r := ids(w.Officer[0], "?status=overdue")
			it := itemsOf(t, r)[0]
			if it["merchant_id"] != float64(shopB) || it["merchant_name"] != "李记水果" || it["road_id"] != float64(roadB) ||
				it["road_name"] != "共青团路" || it["merchant_code"] == "" || it["overdue"] != true || it["note"] != "占道经营" ||
				it["status"] != "open" {
				t.Errorf("worklist line: %v", it)
			}
			if _, r := ids(w.Officer[0], "?status=rectified"); itemsOf(t, r)[0]["resolution_note"] != "已更换" || itemsOf(t, r)[0]["overdue"] != false {
				t.Errorf("rectified line: %s", r.Body)
			}

			for _, c := range []struct {
				name, token, query string
				want               int
				field              string
			}{
				{"another county by id", w.Officer[0], "?county_id=" + itoa(w.County[1]), 403, ""},
				{"another county's road", w.Officer[0], "?road_id=" + itoa(w.Road[1]), 404, ""},
				{"no such road", w.Officer[0], "?road_id=99999", 404, ""},
				{"unknown status", w.Officer[0], "?status=late", 400, "status"},
				{"county id not a number", w.Officer[0], "?county_id=abc", 400, "county_id"},
				{"limit too large", w.Officer[0], "?limit=101", 400, "limit"},
				{"no token", "", "", 401, ""},
			} {
				r := e.do("GET", "/api/v1/notices"+c.query, c.token, nil)
				if r.Status != c.want {
					t.Errorf("%s: %d %s, want %d", c.name, r.Status, r.Body, c.want)
				}
				if c.field != "" {
					if fields, _ := r.JSON["error"].(map[string]any)["fields"].(map[string]any); fields[c.field] == nil {
						t.Errorf("%s: no error on field %s: %s", c.name, c.field, r.Body)
					}
				}
			}
		})
	}
}
