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
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
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
