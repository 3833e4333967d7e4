package httpapi_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/service"
	"github.com/menqian/menqian/service/leaderboard"
	"github.com/menqian/menqian/service/policy"
)

// boards runs a test with the SQL board and with the Redis board, on every dialect.
func boards(t *testing.T, fn func(t *testing.T, e *env)) {
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d)+"/sql", func(t *testing.T) {
			t.Parallel()
			fn(t, newEnv(t, d))
		})
		t.Run(string(d)+"/redis", func(t *testing.T) {
			t.Parallel()
			url := dbtest.RedisURL(t)
			rdb, err := leaderboard.Connect(url)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { rdb.Close() })
			b := make([]byte, 6)
			rand.Read(b)
			prefix := "test-" + hex.EncodeToString(b)
			fn(t, newEnvWith(t, d, func(db *models.DB, p *policy.Policy, now func() time.Time) leaderboard.Board {
				return leaderboard.NewRedis(rdb, db, p, nil, leaderboard.WithPrefix(prefix), leaderboard.WithClock(now))
			}))
		})
	}
}

type rankedItem struct {
	Rank  int
	Code  string
	Score int
}

func (e *env) board(token, query string) ([]rankedItem, int) {
	e.t.Helper()
	r := e.must(200, "GET", "/api/v1/leaderboards/merchants?"+query, token, nil)
	var out []rankedItem
	for _, it := range r.JSON["items"].([]any) {
		m := it.(map[string]any)
		out = append(out, rankedItem{Rank: int(m["rank"].(float64)), Code: m["code"].(string), Score: int(m["score"].(float64))})
	}
	return out, int(r.JSON["total"].(float64))
}

func (e *env) bonus(officer string, merchant int64, rule string, key string) {
	e.t.Helper()
	e.must(201, "POST", "/api/v1/inspections", officer, map[string]any{"merchant_id": merchant, "items": []map[string]any{{"rule_code": rule}}},
		"Idempotency-Key", key)
}

// TestLeaderboardsThroughHTTP: ranks follow inspections at once, ties share a
// rank and list by code, and each scope is visible only to its users.
func TestLeaderboardsThroughHTTP(t *testing.T) {
	t.Parallel()
	boards(t, func(t *testing.T, e *env) {
		w := e.seed()
		// Three more merchants on county 0's road.
		ids := []int64{w.Merchant[0]}
		for i := 0; i < 3; i++ {
			ids = append(ids, e.must(201, "POST", "/api/v1/merchants", w.Admin[0], map[string]any{"road_id": w.Road[0], "name": fmt.Sprintf("店%d", i)}).id())
		}
		e.bonus(w.Officer[0], ids[2], "BONUS-01", "k1") // +2 → 102
		items, total := e.board(w.Officer[0], fmt.Sprintf("scope=road&id=%d", w.Road[0]))
		if total != 4 || len(items) != 4 {
			t.Fatalf("road board total=%d items=%d, want 4", total, len(items))
		}
		if items[0].Score != 102 || items[0].Rank != 1 {
			t.Errorf("first = %+v, want score 102 rank 1", items[0])
		}
		for i := 1; i < 4; i++ {
			if items[i].Rank != 2 || items[i].Score != 100 {
				t.Errorf("item %d = %+v, want rank 2 score 100 (ties share a rank)", i, items[i])
			}
			if i > 1 && items[i].Code < items[i-1].Code {
				t.Errorf("ties not ordered by code: %s before %s", items[i-1].Code, items[i].Code)
			}
		}
		// Rank right after an inspection is the new rank.
		e.bonus(w.Officer[0], ids[3], "BONUS-04", "k2") // +5 → 105
		r := e.must(200, "GET", fmt.Sprintf("/api/v1/merchants/%d/rank", ids[3]), w.Officer[0], nil)
		if got := r.JSON["road"].(map[string]any); got["rank"].(float64) != 1 || got["of"].(float64) != 4 {
			t.Errorf("road rank after +5 = %v, want 1 of 4", got)
		}
		if got := r.JSON["city"].(map[string]any); got["rank"].(float64) != 1 || got["of"].(float64) != 5 {
			t.Errorf("city rank = %v, want 1 of 5", got)
		}
		// Paging: limit bounded, offset pages keep competition ranks.
		page, _ := e.board(w.Admin[0], fmt.Sprintf("scope=county&id=%d&limit=2&offset=2", w.County[0]))
		if len(page) != 2 || page[0].Rank != 3 || page[1].Rank != 3 {
			t.Errorf("page 2 = %+v, want two rank-3 merchants", page)
		}
		e.must(400, "GET", "/api/v1/leaderboards/merchants?scope=county&id=1&limit=101", w.Admin[0], nil)
		e.must(400, "GET", "/api/v1/leaderboards/merchants?scope=planet&id=1", w.Admin[0], nil)
		// Scope visibility.
		e.must(403, "GET", "/api/v1/leaderboards/merchants?scope=city", w.Admin[0], nil)
		e.must(200, "GET", "/api/v1/leaderboards/merchants?scope=city", e.admin, nil)
		e.must(403, "GET", fmt.Sprintf("/api/v1/leaderboards/merchants?scope=county&id=%d", w.County[1]), w.Officer[0], nil)
		e.must(404, "GET", fmt.Sprintf("/api/v1/leaderboards/merchants?scope=road&id=%d", w.Road[1]), w.Officer[0], nil)
		e.must(403, "GET", fmt.Sprintf("/api/v1/leaderboards/roads?county_id=%d", w.County[1]), w.Admin[0], nil)
		e.must(404, "GET", fmt.Sprintf("/api/v1/merchants/%d/rank", w.Merchant[1]), w.Officer[0], nil)
		e.must(200, "GET", fmt.Sprintf("/api/v1/merchants/%d/rank", w.Merchant[0]), w.Shop[0], nil)
		e.must(404, "GET", fmt.Sprintf("/api/v1/merchants/%d/rank", w.Merchant[1]), w.Shop[0], nil)
		e.must(403, "GET", "/api/v1/leaderboards/counties", w.Admin[0], nil)
		// A closed merchant leaves the rankings.
		e.must(200, "PATCH", fmt.Sprintf("/api/v1/merchants/%d", ids[3]), w.Admin[0], map[string]any{"status": "closed"})
		items, total = e.board(w.Officer[0], fmt.Sprintf("scope=road&id=%d", w.Road[0]))
		if total != 3 || items[0].Score != 102 {
			t.Errorf("after closing: total=%d first=%+v, want 3 and the 102", total, items[0])
		}
		// Roads rank by average live score.
		rr := e.must(200, "GET", fmt.Sprintf("/api/v1/leaderboards/roads?county_id=%d", w.County[0]), w.Officer[0], nil)
		road := rr.JSON["items"].([]any)[0].(map[string]any)
		if road["score"].(float64) != 100.67 || road["merchants"].(float64) != 3 {
			t.Errorf("road = %v, want score 100.67 over 3 merchants", road)
		}
		e.checkClean()
	})
}

// TestLeaderboardsOfPastCycles: ?cycle= ranks a past cycle, live while it is
// in its grace period, then from its frozen results, which later changes
// (a rename, new records) do not touch.
func TestLeaderboardsOfPastCycles(t *testing.T) {
	t.Parallel()
	boards(t, func(t *testing.T, e *env) {
		w := e.seed()
		ids := []int64{w.Merchant[0]}
		for i := 0; i < 2; i++ {
			ids = append(ids, e.must(201, "POST", "/api/v1/merchants", w.Admin[0], map[string]any{"road_id": w.Road[0], "name": fmt.Sprintf("店%d", i)}).id())
		}
		e.bonus(w.Officer[0], ids[1], "BONUS-04", "nov-1") // 105
		e.bonus(w.Officer[0], ids[0], "BONUS-01", "nov-2") // 102
		nov := fmt.Sprintf("scope=county&id=%d&cycle=2026-11", w.County[0])

		// 2 December: November is in its grace period, live.
		e.clock.Set(time.Date(2026, 12, 2, 2, 0, 0, 0, time.UTC))
		e.relogin(&w)
		e.must(201, "POST", "/api/v1/inspections", w.Officer[0], map[string]any{"merchant_id": ids[2],
			"inspected_at": "2026-11-30T10:00:00+08:00", "items": []map[string]any{{"rule_code": "BONUS-03"}}}, "Idempotency-Key", "late")
		want := []rankedItem{{1, "", 105}, {2, "", 102}, {3, "", 101}}
		check := func(label string) {
			t.Helper()
			items, total := e.board(w.Admin[0], nov)
			if total != 3 || len(items) != 3 {
				t.Fatalf("%s: total %d items %d, want 3", label, total, len(items))
			}
			for i, it := range items {
				if it.Rank != want[i].Rank || it.Score != want[i].Score {
					t.Errorf("%s: line %d = %+v, want rank %d score %d", label, i, it, want[i].Rank, want[i].Score)
				}
			}
		}
		check("grace period")
		cur, _ := e.board(w.Admin[0], fmt.Sprintf("scope=county&id=%d", w.County[0]))
		for _, it := range cur {
			if it.Score != 100 || it.Rank != 1 {
				t.Errorf("December line %+v, want everyone 100 and rank 1", it)
			}
		}

		// 5 December: November is closed; its ranking is frozen.
		e.clock.Set(time.Date(2026, 12, 5, 2, 0, 0, 0, time.UTC))
		e.relogin(&w)
		check("closed")
		before := e.must(200, "GET", "/api/v1/leaderboards/merchants?"+nov, w.Admin[0], nil).Body
		roadsBefore := e.must(200, "GET", fmt.Sprintf("/api/v1/leaderboards/roads?county_id=%d&cycle=2026-11", w.County[0]), w.Admin[0], nil)
		if road := roadsBefore.JSON["items"].([]any)[0].(map[string]any); road["score"].(float64) != 102.67 {
			t.Errorf("November road score %v, want 102.67", road["score"])
		}
		e.must(200, "PATCH", fmt.Sprintf("/api/v1/merchants/%d", ids[1]), w.Admin[0], map[string]any{"name": "改名"})
		e.bonus(w.Officer[0], ids[0], "BONUS-04", "dec-1")
		after := e.must(200, "GET", "/api/v1/leaderboards/merchants?"+nov, w.Admin[0], nil).Body
		if string(before) != string(after) {
			t.Errorf("closed November ranking changed:\n%s\n%s", before, after)
		}
		e.must(400, "GET", fmt.Sprintf("/api/v1/leaderboards/merchants?scope=county&id=%d&cycle=2027-01", w.County[0]), w.Admin[0], nil)
		e.must(400, "GET", fmt.Sprintf("/api/v1/leaderboards/roads?county_id=%d&cycle=11-2026", w.County[0]), w.Admin[0], nil)
		e.must(403, "GET", fmt.Sprintf("/api/v1/leaderboards/merchants?scope=county&id=%d&cycle=2026-11", w.County[1]), w.Admin[0], nil)
	})
}

// TestClosedAfterTheCycleStillRanks: a shop closed after November ended (in
// its grace period) took part in November: it stays in November's rankings,
// road scores and bulletin, provisional and frozen, and leaves December's. A
// shop closed during November ranks in neither; one opened in November's grace
// period ranks in December only; one reopened ranks again.
func TestClosedAfterTheCycleStillRanks(t *testing.T) {
	t.Parallel()
	boards(t, func(t *testing.T, e *env) {
		w := e.seeded()
		e.clock.Set(at(2026, 11, 20, 9, 0, 0))
		e.relogin(&w)
		early := e.newMerchant(w.Admin[0], w.Road[0], "月中关门的店")
		late := e.newMerchant(w.Admin[0], w.Road[0], "月底后关门的店")
		e.record(w.Officer[0], early, w.Photo[0], item("ZXLH-01", 8)) // 92
		e.record(w.Officer[0], late, w.Photo[0], item("ZXLH-01", 6))  // 94
		closeShop := func(id int64) {
			t.Helper()
			e.must(200, "PATCH", "/api/v1/merchants/"+itoa(id), w.Admin[0], map[string]any{"status": "closed"})
		}
		e.clock.Set(at(2026, 11, 25, 9, 0, 0))
		e.relogin(&w)
		closeShop(early)
		e.clock.Set(at(2026, 12, 2, 9, 0, 0)) // November's grace period
		e.relogin(&w)
		closeShop(late)
		opened := e.newMerchant(w.Admin[0], w.Road[0], "十二月新开的店")

		codeOf := func(id int64) string {
			t.Helper()
			m, err := e.db.MerchantByID(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			return m.Code
		}
		lateCode, earlyCode := codeOf(late), codeOf(early)
		county := "scope=county&id=" + itoa(w.County[0])
		check := func(when string) {
			t.Helper()
			nov, novTotal := e.board(w.Officer[0], county+"&cycle=2026-11")
			dec, decTotal := e.board(w.Officer[0], county)
			score := map[string]int{}
			for _, it := range nov {
				score[it.Code] = it.Score
			}
			if score[lateCode] != 94 || novTotal != 2 {
				t.Errorf("%s: November ranks %v of %d, want the late-closed shop at 94 among 2", when, nov, novTotal)
			}
			if _, ok := score[earlyCode]; ok {
				t.Errorf("%s: November ranks the shop closed in November: %v", when, nov)
			}
			if decTotal != 2 || len(dec) != 2 || dec[0].Code == lateCode || dec[1].Code == lateCode {
				t.Errorf("%s: December ranks %v of %d, want the two open shops", when, dec, decTotal)
			}
			if _, ok := score[codeOf(opened)]; ok {
				t.Errorf("%s: November ranks the shop opened in December: %v", when, nov)
			}
			roads := e.must(200, "GET", "/api/v1/leaderboards/roads?cycle=2026-11&county_id="+itoa(w.County[0]), w.Officer[0], nil)
			for _, it := range itemsOf(t, roads) {
				if int64(jnum(it["road_id"])) == w.Road[0] && (jnum(it["merchants"]) != 2 || jnum(it["score"]) != 97) {
					t.Errorf("%s: November road: %v, want 2 merchants averaging 97", when, it)
				}
			}
			var b service.Bulletin
			if err := json.Unmarshal(e.bulletin(w.Officer[0], w.County[0], "2026-11", "json").Body, &b); err != nil {
				t.Fatal(err)
			}
			black := map[string]int{}
			for _, m := range b.Black {
				black[m.Code] = m.Score
			}
			if b.Merchants != 2 || black[lateCode] != 94 {
				t.Errorf("%s: November bulletin: %d merchants, black list %v; want 2 with the late-closed shop at 94", when, b.Merchants, b.Black)
			}
		}
		check("in the grace period")
		e.clock.Set(at(2026, 12, 10, 9, 0, 0)) // November is closed (frozen on first read)
		e.relogin(&w)
		check("after closing")

		// Reopened, it ranks in December again.
		e.must(200, "PATCH", "/api/v1/merchants/"+itoa(late), w.Admin[0], map[string]any{"status": "active"})
		if _, total := e.board(w.Officer[0], county); total != 3 {
			t.Errorf("December after reopening: %d ranked, want 3", total)
		}
		var closedAt sql.NullTime
		if err := e.db.SQL().QueryRow("SELECT closed_at FROM merchants WHERE id = ?", late).Scan(&closedAt); err != nil || closedAt.Valid {
			t.Errorf("reopened shop keeps closed_at %v (%v)", closedAt, err)
		}
	})
}
