package httpapi_test

import (
	"fmt"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/menqian/menqian/models/dbtest"
)

var recordSeq atomic.Int64

// record posts one inspection with a fresh key and fails unless it is stored.
// Deductions need the photo (see evidenceFor); pass 0 for bonus-only
// inspections.
func (e *env) record(token string, merchant, photo int64, items ...map[string]any) resp {
	e.t.Helper()
	var photos []int64
	if photo != 0 {
		photos = []int64{e.evidenceFor(token, merchant, photo)}
	}
	key := fmt.Sprintf("rec-%d-%d", merchant, recordSeq.Add(1))
	return e.must(201, "POST", "/api/v1/inspections", token, inspection(merchant, photos, items...), "Idempotency-Key", key)
}

// evidenceFor returns photo if it may document merchant (it documents no
// shop yet, or this one), else a new photo uploaded with token: a photo is
// evidence of one shop only.
func (e *env) evidenceFor(token string, merchant, photo int64) int64 {
	e.t.Helper()
	if bound := e.boundTo(photo); bound == 0 || bound == merchant {
		return photo
	}
	return e.uploadPhoto(token, tinyPNG(int(recordSeq.Add(1)))).id()
}

// designate moves a road's demonstration status.
func (e *env) designate(token string, road int64, status string) resp {
	e.t.Helper()
	body := map[string]any{"status": status}
	if status == "revoked" {
		body["note"] = "连续两月未达标"
	}
	return e.do("PUT", "/api/v1/roads/"+itoa(road)+"/demonstration", token, body)
}

// demoRoad returns one road of the county's demonstration view.
func (e *env) demoRoad(token string, county, road int64) map[string]any {
	e.t.Helper()
	v := e.must(200, "GET", "/api/v1/counties/"+itoa(county)+"/demonstration", token, nil)
	for _, r := range v.JSON["roads"].([]any) {
		if m := r.(map[string]any); int64(num(m["road_id"])) == road {
			return m
		}
	}
	e.t.Fatalf("road %d not in the demonstration view: %s", road, v.Body)
	return nil
}

func strs(v any) []string {
	out := []string{}
	for _, s := range v.([]any) {
		out = append(out, s.(string))
	}
	return out
}

// TestDemonstrationDesignation moves a road through the statuses: allowed moves
// are recorded with who and when, the rest refused without a trace.
func TestDemonstrationDesignation(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			w := e.seeded()
			road := w.Road[0]
			admin := e.userID("admin" + seedCounties[0][0])
			events := func() int { return e.count("road_demo_events", "road_id = ?", road) }

			refused := []struct {
				name   string
				token  string
				status any
				want   int
				code   string
			}{
				{"officer", w.Officer[0], "candidate", 403, "forbidden"},
				{"merchant", w.Shop[0], "candidate", 403, "forbidden"},
				{"other county admin", w.Admin[1], "candidate", 404, "not_found"},
				{"unknown status", w.Admin[0], "approved", 400, "invalid_input"},
				{"empty status", w.Admin[0], "", 400, "invalid_input"},
				{"status not a string", w.Admin[0], 3, 400, "invalid_input"},
				{"skip to building", w.Admin[0], "building", 409, "conflict"},
				{"skip to accepted", w.Admin[0], "accepted", 409, "conflict"},
				{"revoke undesignated", w.Admin[0], "revoked", 409, "conflict"},
				{"none to none", w.Admin[0], "none", 409, "conflict"},
			}
			before := e.snapshot()
			for _, c := range refused {
				r := e.do("PUT", "/api/v1/roads/"+itoa(road)+"/demonstration", c.token, map[string]any{"status": c.status, "note": "理由"})
				if r.Status != c.want || r.code() != c.code {
					t.Errorf("%s: %d %s, want %d %s", c.name, r.Status, r.Body, c.want, c.code)
				}
			}
			if r := e.designate(w.Admin[0], 987654, "candidate"); r.Status != 404 {
				t.Errorf("unknown road: %d %s", r.Status, r.Body)
			}
			if got := e.snapshot(); !reflect.DeepEqual(got, before) || events() != 0 {
				t.Errorf("refused moves changed data: %v → %v, %d events", before, got, events())
			}

			moves := []struct {
				from, to string
				token    string
				by       int64
			}{
				{"none", "candidate", w.Admin[0], admin},
				{"candidate", "building", w.Admin[0], admin},
				{"building", "accepted", e.admin, e.userID("admin")},
				{"accepted", "revoked", w.Admin[0], admin},
				{"revoked", "candidate", w.Admin[0], admin},
			}
			for i, m := range moves {
				when := at(2026, 11, 15, 11, i, 0)
				e.clock.Set(when)
				r := e.designate(m.token, road, m.to)
				if r.Status != 200 || r.JSON["demonstration"] != m.to {
					t.Fatalf("%s → %s: %d %s", m.from, m.to, r.Status, r.Body)
				}
				if got, _ := time.Parse(time.RFC3339Nano, fmt.Sprint(r.JSON["demonstration_changed_at"])); !got.Equal(when) {
					t.Errorf("%s → %s: demonstration_changed_at %v, want %v", m.from, m.to, r.JSON["demonstration_changed_at"], when)
				}
				var from, to string
				var by int64
				var changed time.Time
				if err := e.db.SQL().QueryRow(`SELECT from_status, to_status, changed_by, changed_at FROM road_demo_events
					WHERE road_id = ? ORDER BY id DESC LIMIT 1`, road).Scan(&from, &to, &by, &changed); err != nil {
					t.Fatal(err)
				}
				if from != m.from || to != m.to || by != m.by || !changed.Equal(when) {
					t.Errorf("event %d = %s → %s by %d at %v, want %s → %s by %d at %v", i, from, to, by, changed, m.from, m.to, m.by, when)
				}
				var roadBy int64
				e.db.SQL().QueryRow("SELECT demo_changed_by FROM roads WHERE id = ?", road).Scan(&roadBy)
				if roadBy != m.by {
					t.Errorf("roads.demo_changed_by = %d, want %d", roadBy, m.by)
				}
			}
			if n := events(); n != len(moves) {
				t.Errorf("%d events, want %d", n, len(moves))
			}
			got := e.must(200, "GET", "/api/v1/roads/"+itoa(road), w.Admin[0], nil)
			if got.JSON["demonstration"] != "candidate" {
				t.Errorf("road reads back %v", got.JSON["demonstration"])
			}
			// From candidate, accepted is still two steps away.
			if r := e.designate(w.Admin[0], road, "accepted"); r.Status != 409 {
				t.Errorf("candidate → accepted: %d %s", r.Status, r.Body)
			}

			// The county's target is the city's to change.
			county := "/api/v1/counties/" + itoa(w.County[0])
			if r := e.do("PATCH", county, w.Admin[0], map[string]any{"demo_road_target": 3}); r.Status != 403 {
				t.Errorf("county admin edits the target: %d %s", r.Status, r.Body)
			}
			e.must(200, "PATCH", county, e.admin, map[string]any{"demo_road_target": 12})
			v := e.must(200, "GET", county+"/demonstration", w.Officer[0], nil)
			if num(v.JSON["target"]) != 12 || num(v.JSON["designated"]) != 1 || num(v.JSON["accepted"]) != 0 || len(v.JSON["roads"].([]any)) != 1 {
				t.Errorf("demonstration view: %s", v.Body)
			}
			for _, c := range []struct {
				token string
				want  int
			}{{w.Admin[1], 404}, {w.Officer[1], 404}, {w.Shop[0], 403}, {"", 401}} {
				if r := e.do("GET", county+"/demonstration", c.token, nil); r.Status != c.want {
					t.Errorf("demonstration view: %d %s, want %d", r.Status, r.Body, c.want)
				}
			}
		})
	}
}

// TestQualificationEdges puts roads on each side of every threshold: 9 vs 10
// merchants, one uninspected merchant, one serious item, average 89.99 vs
// 90.00, 79% vs 80% and 7 vs 8 of 10 rated at least 4★.
func TestQualificationEdges(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			w := e.seeded()
			admin, officer, photo, county := w.Admin[0], w.Officer[0], w.Photo[0], w.County[0]
			newRoad := func(name string) int64 {
				id := e.must(201, "POST", "/api/v1/roads", admin, map[string]any{"county_id": county, "name": name}).id()
				e.must(200, "PUT", "/api/v1/roads/"+itoa(id)+"/demonstration", admin, map[string]any{"status": "candidate"})
				return id
			}
			expect := func(label string, road int64, failing []string, metrics map[string]float64) {
				t.Helper()
				r := e.demoRoad(admin, county, road)
				if got := strs(r["failing"]); !reflect.DeepEqual(got, failing) || r["qualified"] != (len(failing) == 0) {
					t.Errorf("%s: qualified %v failing %v, want failing %v", label, r["qualified"], got, failing)
				}
				m := r["metrics"].(map[string]any)
				for k, want := range metrics {
					if got, _ := m[k].(float64); got != want {
						t.Errorf("%s: metrics.%s = %v, want %v (%v)", label, k, m[k], want, m)
					}
				}
			}

			// Road A: 9 merchants, then a 10th uninspected, then all inspected,
			// then a serious item.
			a := newRoad("示范路甲")
			var shops []int64
			for i := range 9 {
				shops = append(shops, e.newMerchant(admin, a, fmt.Sprintf("甲%02d", i)))
				e.record(officer, shops[i], 0, item("BONUS-01", 2))
			}
			expect("9 merchants", a, []string{"min_merchants"}, map[string]float64{"active_merchants": 9, "inspected": 9, "average_score": 102})
			shops = append(shops, e.newMerchant(admin, a, "甲09"))
			expect("10 merchants, one uninspected", a, []string{"all_inspected"},
				map[string]float64{"active_merchants": 10, "inspected": 9, "inspected_share": 0.9, "average_score": 101.8})
			e.record(officer, shops[9], 0, item("BONUS-03", 1))
			expect("10 merchants, all inspected", a, []string{}, map[string]float64{"inspected_share": 1, "rated_high_share": 1, "average_score": 101.9})
			// A closed merchant no longer counts: 9 active again.
			e.must(200, "PATCH", "/api/v1/merchants/"+itoa(shops[9]), admin, map[string]any{"status": "closed"})
			expect("one closed", a, []string{"min_merchants"}, map[string]float64{"active_merchants": 9})
			e.must(200, "PATCH", "/api/v1/merchants/"+itoa(shops[9]), admin, map[string]any{"status": "active"})
			e.record(officer, shops[0], photo, item("ZXLH-05", 10))
			expect("one serious item", a, []string{"no_serious_items"},
				map[string]float64{"serious_items": 1, "rated_high": 9, "rated_high_share": 0.9, "average_score": 100.9})

			// Road B: 10 merchants, 8 rated 5★ and 2 at 85 (3★): 80%; then one of
			// the 8 drops to 89: 70%.
			b := newRoad("示范路乙")
			var bs []int64
			for i := range 10 {
				bs = append(bs, e.newMerchant(admin, b, fmt.Sprintf("乙%02d", i)))
				if i < 8 {
					e.record(officer, bs[i], 0, item("BONUS-01", 2))
				} else {
					e.record(officer, bs[i], photo, item("ZXLH-01", 8), item("SSWH-01", 7))
				}
			}
			expect("8 of 10 rated high", b, []string{}, map[string]float64{"rated_high": 8, "rated_high_share": 0.8, "average_score": 98.6})
			e.record(officer, bs[0], photo, item("ZXLH-01", 8), item("SSWH-01", 5))
			expect("7 of 10 rated high", b, []string{"rated_share"}, map[string]float64{"rated_high": 7, "rated_high_share": 0.7, "average_score": 97.3})

			// Road C: 100 merchants at exactly 90 (4★): average 90.00; one more
			// point off one of them: 89.99.
			c := newRoad("示范路丙")
			now := e.clock.Now()
			cs := make([]shop, 100)
			for i := range cs {
				cs[i] = shop{Name: fmt.Sprintf("丙%03d", i), Deduction: 10, Inspected: true}
			}
			cids := e.bulkShops(county, c, w.OfficerID[0], now, cs)
			expect("average 90.00", c, []string{}, map[string]float64{"active_merchants": 100, "average_score": 90, "rated_high_share": 1})
			e.record(officer, cids[37], photo, item("HJWS-01", 1))
			expect("average 89.99", c, []string{"average_score"}, map[string]float64{"average_score": 89.99, "rated_high": 99, "rated_high_share": 0.99})

			// Road D: 100 merchants, 80 at 102 and 20 at 85: 80% rated high;
			// one of the 80 drops to 89: 79%.
			dd := newRoad("示范路丁")
			ds := make([]shop, 100)
			for i := range ds {
				ds[i] = shop{Name: fmt.Sprintf("丁%03d", i), Bonus: 2, Inspected: true}
				if i >= 80 {
					ds[i] = shop{Name: fmt.Sprintf("丁%03d", i), Deduction: 15, Inspected: true}
				}
			}
			dids := e.bulkShops(county, dd, w.OfficerID[0], now, ds)
			expect("80 of 100 rated high", dd, []string{}, map[string]float64{"rated_high": 80, "rated_high_share": 0.8, "average_score": 98.6})
			e.record(officer, dids[5], photo, item("ZXLH-01", 8), item("SSWH-01", 5))
			expect("79 of 100 rated high", dd, []string{"rated_share"}, map[string]float64{"rated_high": 79, "rated_high_share": 0.79, "average_score": 98.47})

			// The view counts the designated roads that qualify now: B and C do
			// not any more, A has a serious item; so none.
			v := e.must(200, "GET", "/api/v1/counties/"+itoa(county)+"/demonstration", admin, nil)
			if num(v.JSON["designated"]) != 4 || num(v.JSON["qualified"]) != 0 || num(v.JSON["target"]) != 10 || v.JSON["cycle"] != "2026-11" {
				t.Errorf("demonstration view: designated %v qualified %v target %v cycle %v", v.JSON["designated"], v.JSON["qualified"], v.JSON["target"], v.JSON["cycle"])
			}
			// The undesignated seed road is not listed; revoking a road keeps it
			// listed but not counted.
			if len(v.JSON["roads"].([]any)) != 4 {
				t.Errorf("%d roads listed, want the 4 designated", len(v.JSON["roads"].([]any)))
			}
			// A revocation says why.
			if r := e.must(400, "PUT", "/api/v1/roads/"+itoa(b)+"/demonstration", admin, map[string]any{"status": "revoked"}); !strings.Contains(string(r.Body), "撤销示范路须写明原因") {
				t.Errorf("revoking without a reason: %s", r.Body)
			}
			e.must(200, "PUT", "/api/v1/roads/"+itoa(b)+"/demonstration", admin, map[string]any{"status": "revoked", "note": "整改不到位"})
			v = e.must(200, "GET", "/api/v1/counties/"+itoa(county)+"/demonstration", admin, nil)
			if num(v.JSON["designated"]) != 3 || len(v.JSON["roads"].([]any)) != 4 {
				t.Errorf("after revoking: designated %v, %d roads", v.JSON["designated"], len(v.JSON["roads"].([]any)))
			}
			e.checkClean()
		})
	}
}

// TestCountyLeaderboard: counties rank by roads qualified now, then by the
// average live score of their merchants; only the city admin sees it.
func TestCountyLeaderboard(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			w := e.seeded()
			now := e.clock.Now()
			// 张店区: one qualified road of ten merchants at 90, plus the seed
			// merchant at 100: average 1000 / 11 = 90.91.
			road := e.must(201, "POST", "/api/v1/roads", w.Admin[0], map[string]any{"county_id": w.County[0], "name": "示范路"}).id()
			for _, status := range []string{"candidate", "building"} {
				e.must(200, "PUT", "/api/v1/roads/"+itoa(road)+"/demonstration", w.Admin[0], map[string]any{"status": status})
			}
			shops := make([]shop, 10)
			for i := range shops {
				shops[i] = shop{Name: fmt.Sprintf("示范%02d", i), Deduction: 10, Inspected: true}
			}
			e.bulkShops(w.County[0], road, w.OfficerID[0], now, shops)
			// 淄川区: no qualified road, its one merchant at 102.
			e.record(w.Officer[1], w.Merchant[1], 0, item("BONUS-01", 2))
			// 博山区: no qualified road, merchants at 80 and 100: 90.
			third := e.must(201, "POST", "/api/v1/counties", e.admin, map[string]any{"code": "370304", "name": "博山区", "demo_road_target": 5}).id()
			troad := e.must(201, "POST", "/api/v1/roads", e.admin, map[string]any{"county_id": third, "name": "山头路"}).id()
			e.bulkShops(third, troad, w.OfficerID[0], now, []shop{{Name: "博山一", Deduction: 20, Inspected: true}, {Name: "博山二"}})
			// 周村区: nothing at all.
			empty := e.must(201, "POST", "/api/v1/counties", e.admin, map[string]any{"code": "370306", "name": "周村区"}).id()

			type line struct {
				Rank      int
				County    int64
				Qualified int
				Target    int
				Score     float64
			}
			want := []line{{1, w.County[0], 1, 10, 90.91}, {2, w.County[1], 0, 10, 102}, {3, third, 0, 5, 90}, {4, empty, 0, 10, 0}}
			r := e.must(200, "GET", "/api/v1/leaderboards/counties", e.admin, nil)
			var got []line
			for _, it := range r.JSON["items"].([]any) {
				m := it.(map[string]any)
				got = append(got, line{num(m["rank"]), int64(num(m["county_id"])), num(m["qualified"]), num(m["target"]), m["score"].(float64)})
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("county ranking = %v\nwant            %v", got, want)
			}
			for _, tok := range []string{w.Admin[0], w.Officer[0], w.Shop[0]} {
				if r := e.do("GET", "/api/v1/leaderboards/counties", tok, nil); r.Status != 403 || r.code() != "forbidden" {
					t.Errorf("non-city user: %d %s, want 403", r.Status, r.Body)
				}
			}
			e.checkClean()
		})
	}
}
