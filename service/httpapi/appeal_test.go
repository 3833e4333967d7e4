package httpapi_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/menqian/menqian/models/dbtest"
)

// TestAppeals: a merchant contests a deduction (申诉); the county admin
// accepts it (a reversal restores the points, in the same transaction as the
// decision) or rejects it with a note; everyone else is refused.
func TestAppeals(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			w := e.seed()
			m := w.Merchant[0]
			// Two deductions: SRZJ-01 −3 and ZXLH-02 −3.
			e.record(w.Officer[0], m, w.Photo[0], map[string]any{"rule_code": "SRZJ-01"}, map[string]any{"rule_code": "ZXLH-02"})
			entries := e.entryIDs(w.Shop[0], m, "2026-11")
			if len(entries) != 2 {
				t.Fatalf("ledger has %d entries, want 2", len(entries))
			}
			appealPath := func(entry int64) string { return fmt.Sprintf("/api/v1/merchants/%d/ledger/%d/appeal", m, entry) }
			body := map[string]any{"reason": "当时门前是路人乱丢，已有监控录像"}

			// Only the merchant itself may appeal, with a reason.
			before := e.snapshot()
			e.must(403, "POST", appealPath(entries[0]), w.Officer[0], body)
			e.must(403, "POST", appealPath(entries[0]), w.Admin[0], body)
			e.must(404, "POST", fmt.Sprintf("/api/v1/merchants/%d/ledger/%d/appeal", w.Merchant[1], entries[0]), w.Shop[1], body)
			e.must(404, "POST", fmt.Sprintf("/api/v1/merchants/%d/ledger/%d/appeal", m, 999999), w.Shop[0], body)
			if r := e.must(400, "POST", appealPath(entries[0]), w.Shop[0], map[string]any{"reason": ""}); r.JSON["error"].(map[string]any)["fields"].(map[string]any)["reason"] == nil {
				t.Errorf("empty reason: no fields.reason in %s", r.Body)
			}
			if after := e.snapshot(); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Errorf("refused appeals changed tables:\n%v\n%v", before, after)
			}

			first := e.must(201, "POST", appealPath(entries[0]), w.Shop[0], body)
			second := e.must(201, "POST", appealPath(entries[1]), w.Shop[0], body)
			if first.JSON["status"] != "pending" {
				t.Errorf("new appeal status %v", first.JSON["status"])
			}
			e.must(409, "POST", appealPath(entries[0]), w.Shop[0], body) // one appeal per entry

			// The ledger marks the appealed entries; the county sees them pending.
			led := e.must(200, "GET", fmt.Sprintf("/api/v1/merchants/%d/ledger?cycle=2026-11", m), w.Shop[0], nil)
			for _, it := range led.JSON["items"].([]any) {
				if ap, _ := it.(map[string]any)["appeal"].(map[string]any); ap == nil || ap["status"] != "pending" {
					t.Errorf("ledger entry without its pending appeal: %v", it)
				}
			}
			list := e.must(200, "GET", fmt.Sprintf("/api/v1/appeals?county_id=%d&status=pending", w.County[0]), w.Admin[0], nil)
			if list.JSON["total"].(float64) != 2 {
				t.Errorf("pending appeals of the county: %v, want 2", list.JSON["total"])
			}
			if other := e.must(200, "GET", "/api/v1/appeals", w.Admin[1], nil); other.JSON["total"].(float64) != 0 {
				t.Errorf("the other county sees %v appeals", other.JSON["total"])
			}
			e.must(403, "GET", fmt.Sprintf("/api/v1/appeals?county_id=%d", w.County[0]), w.Admin[1], nil)
			if own := e.must(200, "GET", "/api/v1/appeals", w.Shop[0], nil); own.JSON["total"].(float64) != 2 {
				t.Errorf("the merchant sees %v of its appeals, want 2", own.JSON["total"])
			}

			// Decisions: only the county admin of that county.
			decide := func(id int64) string { return fmt.Sprintf("/api/v1/appeals/%d/decision", id) }
			e.must(403, "POST", decide(first.id()), w.Officer[0], map[string]any{"accept": true})
			e.must(403, "POST", decide(first.id()), w.Shop[0], map[string]any{"accept": true})
			e.must(404, "POST", decide(first.id()), w.Admin[1], map[string]any{"accept": true})
			e.must(400, "POST", decide(second.id()), w.Admin[0], map[string]any{"accept": false}) // a rejection needs a note
			e.must(400, "POST", decide(second.id()), w.Admin[0], map[string]any{"note": "x"})     // accept is required

			if got := e.scoreOf(w.Shop[0], m)["score"].(float64); got != 94 {
				t.Fatalf("score before decisions %v, want 94", got)
			}
			ok := e.must(200, "POST", decide(first.id()), w.Admin[0], map[string]any{"accept": true, "note": "监控证实非商户责任"})
			if ok.JSON["status"] != "accepted" {
				t.Errorf("accepted appeal status %v", ok.JSON["status"])
			}
			if got := e.scoreOf(w.Shop[0], m)["score"].(float64); got != 97 {
				t.Errorf("score after an accepted appeal %v, want 97 (the 3 points restored)", got)
			}
			e.must(409, "POST", decide(first.id()), w.Admin[0], map[string]any{"accept": false, "note": "改判"})
			no := e.must(200, "POST", decide(second.id()), w.Admin[0], map[string]any{"accept": false, "note": "现场照片清楚"})
			if no.JSON["status"] != "rejected" || no.JSON["decision_note"] != "现场照片清楚" {
				t.Errorf("rejected appeal: %s", no.Body)
			}
			if got := e.scoreOf(w.Shop[0], m)["score"].(float64); got != 97 {
				t.Errorf("score after a rejected appeal %v, want 97", got)
			}
			if n := e.count("ledger_entries", "kind = 'reversal'"); n != 1 {
				t.Errorf("%d reversal entries, want 1", n)
			}
			e.checkClean()

			// After the cycle closes nothing more can be appealed.
			e.record(w.Officer[0], m, w.Photo[0], map[string]any{"rule_code": "HJWS-01"})
			late := e.entryIDs(w.Shop[0], m, "2026-11")
			e.clock.Set(time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC))
			e.relogin(&w)
			e.must(409, "POST", appealPath(late[len(late)-1]), w.Shop[0], body)
		})
	}
}

// TestAppealPhotos: a merchant attaches up to three photos it uploaded itself;
// another account's photo, or a fourth, is refused and stores nothing.
func TestAppealPhotos(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			w := e.seed()
			m := w.Merchant[0]
			e.record(w.Officer[0], m, w.Photo[0], map[string]any{"rule_code": "SRZJ-01"})
			entry := e.entryIDs(w.Shop[0], m, "2026-11")[0]
			path := fmt.Sprintf("/api/v1/merchants/%d/ledger/%d/appeal", m, entry)
			var mine []any
			for i := range 4 {
				mine = append(mine, float64(e.uploadPhoto(w.Shop[0], tinyPNG(100+i)).id()))
			}
			theirs := e.uploadPhoto(w.Shop[1], tinyPNG(200)).id()

			before := e.snapshot()
			for name, photos := range map[string][]any{
				"another merchant's photo": {theirs},
				"the officer's evidence":   {w.Photo[0]},
				"four photos":              mine,
				"unknown photo":            {999999},
			} {
				r := e.must(400, "POST", path, w.Shop[0], map[string]any{"reason": "路人乱丢", "photos": photos})
				if f, _ := r.JSON["error"].(map[string]any)["fields"].(map[string]any); f["photos"] == nil {
					t.Errorf("%s: no fields.photos in %s", name, r.Body)
				}
			}
			if after := e.snapshot(); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Errorf("refused appeals changed tables:\n%v\n%v", before, after)
			}
			r := e.must(201, "POST", path, w.Shop[0], map[string]any{"reason": "路人乱丢", "photos": mine[:3]})
			if got := fmt.Sprint(r.JSON["photos"]); got != fmt.Sprint(mine[:3]) {
				t.Errorf("appeal photos %s, want %v", got, mine[:3])
			}
			// The county sees the merchant's photos; the other county does not.
			id := int64(mine[0].(float64))
			e.must(200, "GET", fmt.Sprintf("/api/v1/photos/%d", id), w.Admin[0], nil)
			e.must(404, "GET", fmt.Sprintf("/api/v1/photos/%d", id), w.Admin[1], nil)
			e.must(404, "GET", fmt.Sprintf("/api/v1/photos/%d", id), w.Shop[1], nil)
		})
	}
}
