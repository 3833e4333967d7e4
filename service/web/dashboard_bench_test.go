package web_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/qrcodes"
	"github.com/menqian/menqian/service"
	"github.com/menqian/menqian/service/leaderboard"
	"github.com/menqian/menqian/service/policy"
)

// benchShops registers 200 shops on a road at registered and records, as the
// officer would have, what the county of the report benchmarks
// (service/httpapi/report_bench_test.go) gives them in the cycle of the test
// clock: shop k is inspected unless k%50 == 0, and gets a serious item
// (ZXLH-05, 10 points) when k%997 == 0, else a deduction of 3+k%15 when
// k%7 == 0, else a bonus of 2 when k%3 == 0. Merchants, inspections, ledger
// entries and score rows agree, written in bulk through models.
func (e *env) benchShops(county, road, officer int64, first int, registered time.Time) {
	e.t.Helper()
	ctx := context.Background()
	pol := e.svc.Policy()
	now := e.clock.Now().UTC().Truncate(time.Millisecond)
	cycle := pol.CycleOf(now).String()
	var tag [6]byte
	rand.Read(tag[:])
	err := e.db.InTx(ctx, func(ctx context.Context) error {
		ms := make([]models.Merchant, 200)
		for i := range ms {
			code, err := qrcodes.NewCode()
			if err != nil {
				return err
			}
			ms[i] = models.Merchant{Code: code, CountyID: county, RoadID: road, Name: fmt.Sprintf("商户%05d", first+i), Status: "active",
				QRGeneration: 1, CreatedAt: registered, UpdatedAt: registered}
		}
		if err := e.db.CreateMerchants(ctx, ms); err != nil {
			return err
		}
		var ins []models.Inspection
		var tallies []policy.Tally
		for i, m := range ms {
			k := first + i
			t := policy.Tally{}
			switch {
			case k%997 == 0:
				t = policy.Tally{Deductions: 10, Serious: 1}
			case k%7 == 0:
				t.Deductions = 3 + k%15
			case k%3 == 0:
				t.Bonuses = 2
			}
			tallies = append(tallies, t)
			if k%50 != 0 {
				ins = append(ins, models.Inspection{MerchantID: m.ID, OfficerID: officer, Cycle: cycle, InspectedAt: now, Delta: t.Bonuses - t.Deductions,
					IdempotencyKey: fmt.Sprintf("bench-%x-%d", tag, m.ID), RequestHash: "0", Response: "{}", CreatedAt: now})
			}
		}
		if err := e.db.CreateInspections(ctx, ins); err != nil {
			return err
		}
		inspection := map[int64]*int64{}
		for i := range ins {
			inspection[ins[i].MerchantID] = &ins[i].ID
		}
		var ledger []models.LedgerEntry
		var scores []models.Score
		for i, m := range ms {
			t := tallies[i]
			entry := func(kind string, points int, serious bool, rule string) {
				ledger = append(ledger, models.LedgerEntry{MerchantID: m.ID, Cycle: cycle, Kind: kind, CountsAs: kind, Points: points,
					Serious: serious, RuleCode: rule, InspectionID: inspection[m.ID], AuthorID: officer, OccurredAt: now, CreatedAt: now})
			}
			switch {
			case t.Serious > 0:
				entry(models.KindDeduction, -10, true, "ZXLH-05")
			case t.Deductions > 0:
				entry(models.KindDeduction, -t.Deductions, false, "ZXLH-01")
			case t.Bonuses > 0:
				entry(models.KindBonus, t.Bonuses, false, "BONUS-01")
			}
			n := 0
			if t != (policy.Tally{}) {
				n = 1
			}
			if n > 0 || inspection[m.ID] != nil {
				scores = append(scores, models.Score{MerchantID: m.ID, Cycle: cycle, Deductions: t.Deductions, Bonuses: t.Bonuses,
					Serious: t.Serious, Score: pol.Score(t), Entries: n})
			}
		}
		if err := e.db.AppendLedger(ctx, ledger); err != nil {
			return err
		}
		return e.db.SetScores(ctx, scores)
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

// benchCounty is the county of the report benchmarks: 100 roads of 200
// shops (20,000) registered in October, ten roads designated, October
// closed; a few notices and appeals for the queues.
func benchCounty(t *testing.T, d models.Dialect, opts ...func(*service.Options)) (*env, world) {
	e := newEnv(t, d, opts...)
	w := e.seed()
	ctx := context.Background()
	start := time.Now()
	registered := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	for i := range 100 {
		road, err := e.svc.CreateRoad(ctx, e.admin, service.RoadInput{CountyID: &w.County[0], Name: ptr(fmt.Sprintf("示范大道%03d", i))})
		if err != nil {
			t.Fatal(err)
		}
		e.benchShops(w.County[0], road.ID, w.Officer[0].UserID, i*200, registered)
		if i < 10 {
			if _, err := e.svc.SetDemonstration(ctx, w.Admin[0], road.ID, service.DemoCandidate, ""); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i := range 5 {
		if _, err := e.svc.IssueNotice(ctx, w.Officer[0], w.Merchant[0], service.NoticeInput{Note: fmt.Sprintf("整改事项 %d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	entry := e.record(w.Officer[0], w.Merchant[0], "HJWS-01", 2)
	if _, err := e.svc.FileAppeal(ctx, w.Shop[0], w.Merchant[0], entry, "已清扫"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.CloseCycle(ctx, policy.Cycle{Year: 2026, Month: 10}, "bench"); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.RebuildLeaderboards(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: seeded 20,000 merchants in 100 roads and closed October in %v", d, time.Since(start).Round(time.Millisecond))
	return e, w
}

// withRedis is an option of newEnv: the service's rankings on the test Redis,
// under keys of their own (removed afterwards), on the env's clock.
func withRedis(t *testing.T) func(*service.Options) {
	return func(o *service.Options) {
		rdb, err := leaderboard.Connect(dbtest.RedisURL(t))
		if err != nil {
			t.Fatal(err)
		}
		var b [6]byte
		rand.Read(b[:])
		prefix := "lbdash" + hex.EncodeToString(b[:])
		t.Cleanup(func() {
			ctx := context.Background()
			iter := rdb.Scan(ctx, 0, prefix+":*", 1000).Iterator()
			for iter.Next(ctx) {
				rdb.Del(ctx, iter.Val())
			}
			rdb.Close()
		})
		o.Board = leaderboard.NewRedis(rdb, o.DB, o.Policy, slog.New(slog.NewTextHandler(io.Discard, nil)),
			leaderboard.WithPrefix(prefix), leaderboard.WithClock(o.Clock))
	}
}

// serverTimes sends n GET requests for path through h (in process, one at a
// time, after a few to warm up) and returns their durations, sorted.
func serverTimes(t *testing.T, h http.Handler, path string, cookie *http.Cookie, n int) []time.Duration {
	t.Helper()
	out := make([]time.Duration, 0, n)
	for i := range n + 3 {
		req := httptest.NewRequest("GET", path, nil)
		if cookie != nil {
			req.AddCookie(cookie)
		}
		rec := httptest.NewRecorder()
		start := time.Now()
		h.ServeHTTP(rec, req)
		d := time.Since(start)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: %d %.300s", path, rec.Code, rec.Body.String())
		}
		if i >= 3 {
			out = append(out, d)
		}
	}
	slices.Sort(out)
	return out
}

// quantile of sorted durations (nearest rank).
func quantile(sorted []time.Duration, q float64) time.Duration {
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// bareGin is the yardstick: a bare Gin handler rendering a small HTML template.
func bareGin() http.Handler {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.SetHTMLTemplate(template.Must(template.New("page").Parse(`<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">` +
		`<title>{{.Title}}</title></head><body><h1>{{.Title}}</h1><p>在营商户 {{.Merchants}} 家，平均积分 {{printf "%.2f" .Average}}</p></body></html>`)))
	r.GET("/", func(c *gin.Context) {
		c.HTML(http.StatusOK, "page", gin.H{"Title": "张店区概况", "Merchants": 20000, "Average": 99.07})
	})
	return r
}

// TestDashboardServerTime measures the county dashboard (GET /console as the
// county admin) on the county of the report benchmarks (100 roads, 20,000
// shops), through the pages' handler in process: the median and p95 of n
// requests on SQLite alone and on MariaDB with Redis, each as a ratio to a
// bare Gin HTML handler measured in the same run. A measurement, logged, not
// a pass/fail; it needs MENQIAN_BENCH_LARGE=1 (minutes of seeding):
//
//	MENQIAN_BENCH_LARGE=1 MENQIAN_TEST_MYSQL_DSN='root@tcp(127.0.0.1:3306)/' MENQIAN_TEST_REDIS_URL=redis://127.0.0.1:6379/0 \
//	  go test -count=1 -run DashboardServerTime -v -timeout 30m ./service/web/
//
// MENQIAN_BENCH_N sets n (default 50).
func TestDashboardServerTime(t *testing.T) {
	if os.Getenv("MENQIAN_BENCH_LARGE") != "1" {
		t.Skip("set MENQIAN_BENCH_LARGE=1 to measure the dashboard on a county of 20,000 shops")
	}
	n := 50
	if v, err := strconv.Atoi(os.Getenv("MENQIAN_BENCH_N")); err == nil && v > 0 {
		n = v
	}
	setups := []struct {
		name    string
		dialect models.Dialect
		redis   bool
	}{{"sqlite", models.SQLite, false}}
	if slices.Contains(dbtest.Dialects(t), models.MySQL) {
		setups = append(setups, struct {
			name    string
			dialect models.Dialect
			redis   bool
		}{"mysql+redis", models.MySQL, true})
	}
	gh := bareGin()
	for _, s := range setups {
		t.Run(s.name, func(t *testing.T) {
			var opts []func(*service.Options)
			if s.redis {
				opts = append(opts, withRedis(t))
			}
			e, w := benchCounty(t, s.dialect, opts...)
			sess, err := e.svc.StartSession(context.Background(), w.AdminName[0], password)
			if err != nil {
				t.Fatal(err)
			}
			cookie := &http.Cookie{Name: "menqian_session", Value: sess.ID}
			h := e.srv.Config.Handler
			base := serverTimes(t, gh, "/", nil, max(n, 1000))
			dash := serverTimes(t, h, "/console", cookie, n)
			after := serverTimes(t, gh, "/", nil, max(n, 1000))
			base = append(base, after...)
			slices.Sort(base)
			med, p95 := quantile(dash, 0.5), quantile(dash, 0.95)
			bmed, bp95 := quantile(base, 0.5), quantile(base, 0.95)
			t.Logf("%s: dashboard median %v, p95 %v (n=%d); bare Gin HTML median %v, p95 %v; ratio median %.0f×, p95 %.0f×",
				s.name, med.Round(time.Microsecond), p95.Round(time.Microsecond), n, bmed.Round(100*time.Nanosecond), bp95.Round(100*time.Nanosecond),
				float64(med)/float64(bmed), float64(p95)/float64(bp95))
		})
	}
}
