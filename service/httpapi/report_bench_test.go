package httpapi_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/qrcodes"
	"github.com/menqian/menqian/service/policy"
)

// shop is a bulk-seeded merchant and what it scored in the cycle of the test
// clock: one deduction entry, one bonus entry, one serious entry (ZXLH-05, 10
// points), each only when non-zero, under one inspection when Inspected.
type shop struct {
	Name      string
	Deduction int
	Bonus     int
	Serious   bool
	Inspected bool
}

// score is the live score policy.Default gives the shop.
func (s shop) score() int {
	return policy.Default().Score(s.tally())
}

func (s shop) tally() policy.Tally {
	t := policy.Tally{Deductions: s.Deduction, Bonuses: s.Bonus}
	if s.Serious {
		t.Deductions += 10
		t.Serious = 1
	}
	return t
}

// insertRows writes rows with multi-row INSERTs of up to 500 rows each.
func (e *env) insertRows(table string, cols []string, rows [][]any) {
	e.t.Helper()
	one := "(" + strings.TrimSuffix(strings.Repeat("?,", len(cols)), ",") + ")"
	for start := 0; start < len(rows); start += 500 {
		batch := rows[start:min(start+500, len(rows))]
		args := make([]any, 0, len(batch)*len(cols))
		for _, r := range batch {
			args = append(args, r...)
		}
		q := "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES " +
			strings.TrimSuffix(strings.Repeat(one+",", len(batch)), ",")
		if _, err := e.db.SQL().Exec(q, args...); err != nil {
			e.t.Fatalf("insert %s: %v", table, err)
		}
	}
}

// bulkShops registers shops on a road at registered and records their scores in
// the cycle of the test clock as officer would have, with multi-row inserts:
// merchants, inspections, ledger entries and score rows agree, so checkClean
// still passes. It returns the merchant ids in the order of shops.
func (e *env) bulkShops(county, road, officer int64, registered time.Time, shops []shop) []int64 {
	e.t.Helper()
	ctx := context.Background()
	registered = registered.UTC().Truncate(time.Millisecond)
	ms := make([]models.Merchant, len(shops))
	for i, s := range shops {
		code, err := qrcodes.NewCode()
		if err != nil {
			e.t.Fatal(err)
		}
		ms[i] = models.Merchant{Code: code, CountyID: county, RoadID: road, Name: s.Name, Status: "active", QRGeneration: 1,
			CreatedAt: registered, UpdatedAt: registered}
	}
	if err := e.db.InTx(ctx, func(ctx context.Context) error { return e.db.CreateMerchants(ctx, ms) }); err != nil {
		e.t.Fatal(err)
	}
	ids := make([]int64, len(ms))
	for i, m := range ms {
		ids[i] = m.ID
	}

	now := e.clock.Now().UTC().Truncate(time.Millisecond)
	cycle := policy.Default().CycleOf(now).String()
	var batch [8]byte
	rand.Read(batch[:])
	prefix := "bulk-" + hex.EncodeToString(batch[:]) + "-"
	var ins [][]any
	for i, s := range shops {
		if s.Inspected {
			t := s.tally()
			ins = append(ins, []any{ids[i], officer, cycle, now, "", s.Bonus - t.Deductions, prefix + fmt.Sprint(ids[i]),
				strings.Repeat("0", 64), "{}", now})
		}
	}
	e.insertRows("inspections", []string{"merchant_id", "officer_id", "cycle", "inspected_at", "photo_ids", "delta",
		"idempotency_key", "request_hash", "response", "created_at"}, ins)
	inspection := map[int64]int64{}
	rows, err := e.db.SQL().Query("SELECT id, merchant_id FROM inspections WHERE idempotency_key LIKE ?", prefix+"%")
	if err != nil {
		e.t.Fatal(err)
	}
	for rows.Next() {
		var id, m int64
		if err := rows.Scan(&id, &m); err != nil {
			e.t.Fatal(err)
		}
		inspection[m] = id
	}
	rows.Close()

	var ledger, scores [][]any
	for i, s := range shops {
		var insp any
		if id, ok := inspection[ids[i]]; ok {
			insp = id
		}
		entry := func(kind string, points int, serious bool, rule string) {
			ledger = append(ledger, []any{ids[i], cycle, kind, kind, points, serious, rule, insp, officer, now, now})
		}
		if s.Deduction > 0 {
			entry(models.KindDeduction, -s.Deduction, false, "ZXLH-01")
		}
		if s.Bonus > 0 {
			entry(models.KindBonus, s.Bonus, false, "BONUS-01")
		}
		if s.Serious {
			entry(models.KindDeduction, -10, true, "ZXLH-05")
		}
		t := s.tally()
		entries := 0
		for _, n := range []int{s.Deduction, s.Bonus, t.Serious} {
			if n > 0 {
				entries++
			}
		}
		if entries > 0 || s.Inspected {
			scores = append(scores, []any{ids[i], cycle, t.Deductions, t.Bonuses, t.Serious, s.score(), entries, now})
		}
	}
	e.insertRows("ledger_entries", []string{"merchant_id", "cycle", "kind", "counts_as", "points", "serious", "rule_code",
		"inspection_id", "author_id", "occurred_at", "created_at"}, ledger)
	e.insertRows("scores", []string{"merchant_id", "cycle", "deductions", "bonuses", "serious", "score", "entries", "updated_at"}, scores)
	return ids
}

// userID looks up a user's id by name.
func (e *env) userID(username string) int64 {
	e.t.Helper()
	var id int64
	if err := e.db.SQL().QueryRow("SELECT id FROM users WHERE username = ?", username).Scan(&id); err != nil {
		e.t.Fatal(err)
	}
	return id
}

// bigCounty seeds the benchmark county: 100 roads of 200 merchants each
// (20,000), registered in October; in November most are inspected, with a mix
// of bonuses, deductions and a few serious items; ten roads are designated.
func bigCounty(tb testing.TB, d models.Dialect) (*env, world) {
	e := newEnv(tb, d)
	w := e.seeded()
	roads := make([]int64, 100)
	for i := range roads {
		roads[i] = e.must(201, "POST", "/api/v1/roads", w.Admin[0], map[string]any{"county_id": w.County[0], "name": fmt.Sprintf("示范大道%03d", i)}).id()
	}
	registered := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	start := time.Now()
	for r, road := range roads {
		shops := make([]shop, 200)
		for i := range shops {
			k := r*200 + i
			s := shop{Name: fmt.Sprintf("商户%05d", k), Inspected: k%50 != 0}
			switch {
			case k%997 == 0:
				s.Serious = true
			case k%7 == 0:
				s.Deduction = 3 + k%15
			case k%3 == 0:
				s.Bonus = 2
			}
			shops[i] = s
		}
		e.bulkShops(w.County[0], road, w.OfficerID[0], registered, shops)
	}
	tb.Logf("%s: seeded 20,000 merchants in %v", d, time.Since(start).Round(time.Millisecond))
	for _, road := range roads[:10] {
		e.must(200, "PUT", "/api/v1/roads/"+itoa(road)+"/demonstration", w.Admin[0], map[string]any{"status": "candidate"})
	}
	return e, w
}

// BenchmarkCountyReports times a county's demonstration view and bulletin (100
// roads, 20,000 merchants) through HTTP: the live current cycle, and a closed
// cycle read from the frozen results. Seeding runs once per dialect, outside
// the timed sub-benchmarks.
func BenchmarkCountyReports(b *testing.B) {
	for _, d := range dbtest.Dialects(b) {
		b.Run(string(d), func(b *testing.B) {
			e, w := bigCounty(b, d)
			start := time.Now()
			n, err := e.svc.CloseCycle(context.Background(), policy.Cycle{Year: 2026, Month: 10}, "bench")
			if err != nil || n != 20000 { // the two seeded merchants registered in November are not in October
				b.Logf("close 2026-10: %d merchants, %v", n, err)
			}
			b.Logf("%s: CloseCycle(2026-10) froze %d merchant results in %v", d, n, time.Since(start).Round(time.Millisecond))
			county := itoa(w.County[0])
			for _, c := range []struct{ name, path string }{
				{"demonstration", "/api/v1/counties/" + county + "/demonstration"},
				{"bulletin-live-json", "/api/v1/counties/" + county + "/bulletins/2026-11"},
				{"bulletin-live-csv", "/api/v1/counties/" + county + "/bulletins/2026-11?format=csv"},
				{"bulletin-live-xlsx", "/api/v1/counties/" + county + "/bulletins/2026-11?format=xlsx"},
				{"bulletin-closed-json", "/api/v1/counties/" + county + "/bulletins/2026-10"},
				{"bulletin-closed-xlsx", "/api/v1/counties/" + county + "/bulletins/2026-10?format=xlsx"},
				{"roads-leaderboard", "/api/v1/leaderboards/roads?county_id=" + county},
				{"counties-leaderboard", "/api/v1/leaderboards/counties"},
			} {
				token := w.Admin[0]
				if c.name == "counties-leaderboard" {
					token = e.admin
				}
				e.must(200, "GET", c.path, token, nil) // warm, and fail early
				b.Run(c.name, func(b *testing.B) {
					for b.Loop() {
						if r := e.do("GET", c.path, token, nil); r.Status != 200 {
							b.Fatalf("%s: %d %s", c.path, r.Status, r.Body)
						}
					}
				})
			}
		})
	}
}

// BenchmarkImport10k times importing a 10,000-row CSV register through HTTP:
// the dry run, and the commit into a fresh county each time.
func BenchmarkImport10k(b *testing.B) {
	for _, d := range dbtest.Dialects(b) {
		b.Run(string(d), func(b *testing.B) {
			e := newEnv(b, d)
			w := e.seeded()
			roads := e.importRoads(w.Admin[0], w.County[0])
			file := registerCSV(10000, "370303", 1, roads)
			b.Run("dry-run", func(b *testing.B) {
				for b.Loop() {
					r := e.importFile(w.Admin[0], w.County[0], "register.csv", file, false)
					if r.Status != 200 || num(r.JSON["valid"]) != 10000 {
						b.Fatalf("dry run: %d %.300s", r.Status, r.Body)
					}
				}
			})
			b.Run("commit", func(b *testing.B) {
				i := 0
				for b.Loop() {
					b.StopTimer()
					i++
					code := fmt.Sprintf("%06d", 410000+i)
					county := e.must(201, "POST", "/api/v1/counties", e.admin, map[string]any{"code": code, "name": "导入区" + code}).id()
					roads := e.importRoads(e.admin, county)
					file := registerCSV(10000, code, 1, roads)
					b.StartTimer()
					r := e.importFile(e.admin, county, "register.csv", file, true)
					if r.Status != 201 || num(r.JSON["created"]) != 10000 {
						b.Fatalf("commit: %d %.300s", r.Status, r.Body)
					}
				}
			})
		})
	}
}
