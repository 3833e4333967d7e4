package httpapi_test

import (
	"reflect"
	"testing"

	"github.com/menqian/menqian/models/dbtest"
)

// TestHistoryViews records inspections and reads them back as the merchant and
// its officers see them: every entry with its rule, points, officer, time and
// photos; another county and another merchant see nothing.
func TestHistoryViews(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			w := e.seeded()
			m := w.Merchant[0]
			// Registered on 1 November: an inspection is never dated before it.
			if _, err := e.db.SQL().Exec("UPDATE merchants SET created_at = ? WHERE id = ?", at(2026, 11, 1, 8, 0, 0).UTC(), m); err != nil {
				t.Fatal(err)
			}
			second := e.uploadPhoto(w.Officer[0], tinyPNG(7)).id()
			unused := e.uploadPhoto(w.Officer[0], tinyPNG(8)).id()
			first := inspection(m, []int64{w.Photo[0], second}, map[string]any{"rule_code": "SRZJ-01", "points": 4, "note": "卷帘门小广告"})
			first["note"] = "早班巡查"
			first["inspected_at"] = at(2026, 11, 14, 9, 30, 0).Format("2006-01-02T15:04:05-07:00")
			first["lat"], first["lng"] = 36.8, 118.05
			insID := e.must(201, "POST", "/api/v1/inspections", w.Officer[0], first, "Idempotency-Key", "h1").id()
			bonusID := e.must(201, "POST", "/api/v1/inspections", w.Admin[0], inspection(m, nil, item("BONUS-04")), "Idempotency-Key", "h2").id()

			paths := []string{"/api/v1/merchants/" + itoa(m) + "/inspections", "/api/v1/merchants/" + itoa(m) + "/ledger?cycle=2026-11",
				"/api/v1/merchants/" + itoa(m) + "/ledger"}
			for _, tok := range []string{w.Shop[0], w.Officer[0], w.Admin[0], e.admin} {
				r := e.must(200, "GET", paths[0], tok, nil)
				items := r.JSON["items"].([]any)
				if num(r.JSON["total"]) != 2 || len(items) != 2 {
					t.Fatalf("inspections: %s", r.Body)
				}
				// Newest first: the bonus (inspected now) before the 14 Nov record.
				newest, older := items[0].(map[string]any), items[1].(map[string]any)
				if int64(num(newest["id"])) != bonusID || int64(num(older["id"])) != insID {
					t.Errorf("order: %s", r.Body)
				}
				if older["officer"] != "officer370303" || num(older["officer_id"]) != int(w.OfficerID[0]) || older["note"] != "早班巡查" ||
					older["inspected_at"] != "2026-11-14T01:30:00Z" || num(older["delta"]) != -4 || older["lat"] != 36.8 {
					t.Errorf("inspection view: %v", older)
				}
				if !reflect.DeepEqual(older["photos"], []any{float64(w.Photo[0]), float64(second)}) {
					t.Errorf("photos = %v", older["photos"])
				}
				entry := older["items"].([]any)[0].(map[string]any)
				if entry["rule_code"] != "SRZJ-01" || entry["rule_name"] != "乱贴乱画、张贴小广告" || num(entry["points"]) != -4 ||
					entry["kind"] != "deduction" || entry["author"] != "officer370303" || entry["note"] != "卷帘门小广告" ||
					entry["occurred_at"] != "2026-11-14T01:30:00Z" || len(entry["photos"].([]any)) != 2 {
					t.Errorf("entry view: %v", entry)
				}

				for _, path := range paths[1:] {
					l := e.must(200, "GET", path, tok, nil)
					items := l.JSON["items"].([]any)
					if len(items) != 2 || l.JSON["cycle"] != "2026-11" {
						t.Fatalf("%s: %s", path, l.Body)
					}
					e0, e1 := items[0].(map[string]any), items[1].(map[string]any)
					if e0["rule_code"] != "SRZJ-01" || num(e0["points"]) != -4 || e0["author"] != "officer370303" || len(e0["photos"].([]any)) != 2 ||
						e1["rule_code"] != "BONUS-04" || num(e1["points"]) != 5 || e1["author"] != "admin370303" || len(e1["photos"].([]any)) != 0 {
						t.Errorf("%s: %s", path, l.Body)
					}
					if s := l.JSON["score"].(map[string]any); num(s["score"]) != 101 || num(s["deductions"]) != 4 || num(s["bonuses"]) != 5 {
						t.Errorf("%s score: %v", path, s)
					}
				}
			}
			// Another cycle's ledger is empty; a bad cycle is 400.
			if l := e.must(200, "GET", "/api/v1/merchants/"+itoa(m)+"/ledger?cycle=2026-10", w.Shop[0], nil); num(l.JSON["total"]) != 0 {
				t.Errorf("October ledger: %s", l.Body)
			}
			if r := e.do("GET", "/api/v1/merchants/"+itoa(m)+"/ledger?cycle=2026-13", w.Shop[0], nil); r.Status != 400 || r.code() != "invalid_input" {
				t.Errorf("bad cycle: %d %s", r.Status, r.Body)
			}
			// Another county and another merchant see nothing.
			for _, tok := range []string{w.Officer[1], w.Admin[1], w.Shop[1]} {
				for _, path := range paths {
					if r := e.do("GET", path, tok, nil); r.Status != 404 {
						t.Errorf("%s by outsider: %d %s, want 404", path, r.Status, r.Body)
					}
				}
			}

			// Evidence photos: the merchant it documents and the county's officers.
			for _, c := range []struct {
				name   string
				token  string
				photo  int64
				status int
			}{
				{"merchant, its evidence", w.Shop[0], second, 200},
				{"merchant, seed evidence", w.Shop[0], w.Photo[0], 200},
				{"merchant, photo of no inspection of its", w.Shop[0], unused, 404},
				{"officer of the county", w.Officer[0], second, 200},
				{"county admin", w.Admin[0], unused, 200},
				{"city admin", e.admin, second, 200},
				{"other county officer", w.Officer[1], second, 404},
				{"other county admin", w.Admin[1], second, 404},
				{"other merchant", w.Shop[1], second, 404},
				{"unknown photo", w.Officer[0], 987654, 404},
			} {
				r := e.do("GET", "/api/v1/photos/"+itoa(c.photo), c.token, nil)
				if r.Status != c.status {
					t.Errorf("%s: %d %s, want %d", c.name, r.Status, r.Body, c.status)
					continue
				}
				if c.status == 200 && (r.Header.Get("Content-Type") != "image/png" || string(r.Body) != string(tinyPNG(map[int64]int{second: 7, unused: 8, w.Photo[0]: 0}[c.photo]))) {
					t.Errorf("%s: content %s, %d bytes", c.name, r.Header.Get("Content-Type"), len(r.Body))
				}
				if c.status == 404 && r.code() != "not_found" {
					t.Errorf("%s: %s", c.name, r.Body)
				}
			}
			if r := e.do("GET", "/api/v1/photos/"+itoa(second), "", nil); r.Status != 401 {
				t.Errorf("anonymous photo: %d", r.Status)
			}
			e.checkClean()
		})
	}
}

// ledgerRow reads one ledger row raw, to prove it is never rewritten.
func (e *env) ledgerRow(id int64) []any {
	e.t.Helper()
	row := make([]any, 15)
	ptrs := make([]any, len(row))
	for i := range row {
		ptrs[i] = &row[i]
	}
	if err := e.db.SQL().QueryRow(`SELECT id, merchant_id, cycle, kind, counts_as, points, serious, rule_code, inspection_id,
		reverses_id, author_id, note, reason, occurred_at, created_at FROM ledger_entries WHERE id = ?`, id).Scan(ptrs...); err != nil {
		e.t.Fatal(err)
	}
	return row
}

// entryIDs returns the merchant's ledger entry ids of a cycle, in order.
func (e *env) entryIDs(token string, merchant int64, cycle string) []int64 {
	e.t.Helper()
	r := e.must(200, "GET", "/api/v1/merchants/"+itoa(merchant)+"/ledger?cycle="+cycle, token, nil)
	var out []int64
	for _, it := range r.JSON["items"].([]any) {
		out = append(out, int64(num(it.(map[string]any)["id"])))
	}
	return out
}

// TestReversal: a county admin cancels a ledger entry with a reason; the score
// and the serious-item cap follow; nothing is edited; the rules around it hold.
func TestReversal(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			w := e.seeded()
			m := w.Merchant[0]
			e.must(201, "POST", "/api/v1/inspections", w.Officer[0], inspection(m, []int64{w.Photo[0]}, item("HJWS-02", 3)), "Idempotency-Key", "r1")
			e.must(201, "POST", "/api/v1/inspections", w.Officer[0], inspection(m, []int64{w.Photo[0]}, item("ZXLH-05")), "Idempotency-Key", "r2")
			ids := e.entryIDs(w.Officer[0], m, "2026-11")
			plain, serious := ids[0], ids[1]
			if s := e.scoreOf(w.Officer[0], m); num(s["score"]) != 87 || num(s["rated_star"]) != 2 {
				t.Fatalf("before reversal: %v", s)
			}
			reversal := func(entry int64) string {
				return "/api/v1/merchants/" + itoa(m) + "/ledger/" + itoa(entry) + "/reversal"
			}
			original := e.ledgerRow(plain)

			// Refused reversals store nothing.
			for _, c := range []struct {
				name   string
				token  string
				path   string
				body   any
				status int
				code   string
			}{
				{"officer", w.Officer[0], reversal(plain), map[string]any{"reason": "误扣"}, 403, "forbidden"},
				{"merchant", w.Shop[0], reversal(plain), map[string]any{"reason": "误扣"}, 403, "forbidden"},
				{"other county admin", w.Admin[1], reversal(plain), map[string]any{"reason": "误扣"}, 404, "not_found"},
				{"missing reason", w.Admin[0], reversal(plain), map[string]any{}, 400, "invalid_input"},
				{"blank reason", w.Admin[0], reversal(plain), map[string]any{"reason": "  "}, 400, "invalid_input"},
				{"unknown entry", w.Admin[0], reversal(987654), map[string]any{"reason": "误扣"}, 404, "not_found"},
				{"entry of another merchant", w.Admin[0], "/api/v1/merchants/" + itoa(e.newMerchant(w.Admin[0], w.Road[0], "隔壁")) + "/ledger/" + itoa(plain) + "/reversal", map[string]any{"reason": "误扣"}, 404, "not_found"},
				{"bad JSON", w.Admin[0], reversal(plain), `{"reason":`, 400, "invalid_input"},
			} {
				before := e.snapshot()
				r := e.do("POST", c.path, c.token, c.body)
				if r.Status != c.status || r.code() != c.code {
					t.Errorf("%s: %d %s, want %d %s", c.name, r.Status, r.Body, c.status, c.code)
				}
				if got := e.snapshot(); !reflect.DeepEqual(got, before) {
					t.Errorf("%s changed data: %v → %v", c.name, before, got)
				}
			}

			r := e.must(201, "POST", reversal(plain), w.Admin[0], map[string]any{"reason": "照片显示非本店垃圾"})
			entry, score := r.JSON["entry"].(map[string]any), r.JSON["score"].(map[string]any)
			if entry["kind"] != "reversal" || num(entry["points"]) != 3 || int64(num(entry["reverses_id"])) != plain ||
				entry["reason"] != "照片显示非本店垃圾" || entry["author"] != "admin370303" || num(score["score"]) != 90 {
				t.Errorf("reversal: %s", r.Body)
			}
			if s := e.scoreOf(w.Shop[0], m); num(s["score"]) != 90 || num(s["deductions"]) != 10 || num(s["rated_star"]) != 2 {
				t.Errorf("after reversal: %v", s)
			}
			if got := e.ledgerRow(plain); !reflect.DeepEqual(got, original) {
				t.Errorf("reversed row changed: %v → %v", original, got)
			}
			l := e.must(200, "GET", "/api/v1/merchants/"+itoa(m)+"/ledger", w.Shop[0], nil)
			if items := l.JSON["items"].([]any); len(items) != 3 || int64(num(items[0].(map[string]any)["reversed_by"])) != int64(num(entry["id"])) {
				t.Errorf("ledger after reversal: %s", l.Body)
			}

			// Twice is a conflict; a reversal itself cannot be reversed.
			before := e.snapshot()
			if r := e.do("POST", reversal(plain), w.Admin[0], map[string]any{"reason": "再次"}); r.Status != 409 || r.code() != "conflict" {
				t.Errorf("second reversal: %d %s, want 409 conflict", r.Status, r.Body)
			}
			if r := e.do("POST", reversal(int64(num(entry["id"]))), w.Admin[0], map[string]any{"reason": "再次"}); r.Status != 400 {
				t.Errorf("reversal of a reversal: %d %s, want 400", r.Status, r.Body)
			}
			if got := e.snapshot(); !reflect.DeepEqual(got, before) {
				t.Errorf("refused reversals changed data: %v → %v", before, got)
			}

			// Reversing the serious item lifts the 2★ cap (the city admin may too).
			e.must(201, "POST", reversal(serious), e.admin, map[string]any{"reason": "复核：商户已整改配合"})
			if s := e.scoreOf(w.Shop[0], m); num(s["score"]) != 100 || num(s["rated_star"]) != 5 || s["capped"] == true {
				t.Errorf("after serious reversal: %v", s)
			}
			if n := e.count("ledger_entries", "merchant_id = ?", m); n != 4 {
				t.Errorf("%d ledger rows, want 4 (two entries, two reversals)", n)
			}
			e.checkClean()

			// After the grace period the cycle is closed to reversals too.
			e.must(201, "POST", "/api/v1/inspections", w.Officer[0], inspection(m, []int64{w.Photo[0]}, item("HJWS-03")), "Idempotency-Key", "r3")
			last := e.entryIDs(w.Officer[0], m, "2026-11")
			e.clock.Set(at(2026, 12, 4, 0, 0, 0))
			e.relogin(&w)
			before = e.snapshot()
			if r := e.do("POST", reversal(last[len(last)-1]), w.Admin[0], map[string]any{"reason": "逾期"}); r.Status != 409 || r.code() != "cycle_closed" {
				t.Errorf("reversal in a closed cycle: %d %s, want 409 cycle_closed", r.Status, r.Body)
			}
			if got := e.snapshot(); !reflect.DeepEqual(got, before) {
				t.Errorf("closed-cycle reversal changed data: %v → %v", before, got)
			}
			e.checkClean()
		})
	}
}
