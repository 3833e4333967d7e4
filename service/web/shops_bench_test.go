package web_test

import (
	"context"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/menqian/menqian/models/dbtest"
)

// TestShopListServerTime measures the console's shop list (GET /console/shops
// as the county admin) on the county of the report benchmarks (100 roads,
// 20,000 shops): by name, by live score, filtered by rated star, and 重点监管
// with a search, on SQLite and on MariaDB: the median and p95 of n requests
// through the pages' handler in process. A measurement, logged; it needs
// MENQIAN_BENCH_LARGE=1 (minutes of seeding):
//
//	MENQIAN_BENCH_LARGE=1 MENQIAN_TEST_MYSQL_DSN='root@tcp(127.0.0.1:3306)/' \
//	  go test -count=1 -run ShopListServerTime -v -timeout 30m ./service/web/
//
// MENQIAN_BENCH_N sets n (default 30).
func TestShopListServerTime(t *testing.T) {
	if os.Getenv("MENQIAN_BENCH_LARGE") != "1" {
		t.Skip("set MENQIAN_BENCH_LARGE=1 to measure the shop list on a county of 20,000 shops")
	}
	n := 30
	if v, err := strconv.Atoi(os.Getenv("MENQIAN_BENCH_N")); err == nil && v > 0 {
		n = v
	}
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			e, w := benchCounty(t, d)
			sess, err := e.svc.StartSession(context.Background(), w.AdminName[0], password)
			if err != nil {
				t.Fatal(err)
			}
			cookie := &http.Cookie{Name: "menqian_session", Value: sess.ID}
			c0 := strconv.FormatInt(w.County[0], 10)
			for _, q := range []string{"", "sort=score", "sort=score&page=500", "star=4", "star=2&sort=score_asc", "watch=1&q=" + "%E5%95%86%E6%88%B7"} {
				times := serverTimes(t, e.srv.Config.Handler, "/console/shops?county_id="+c0+"&"+q, cookie, n)
				t.Logf("%s /console/shops?%s: median %v, p95 %v (n=%d)", d, q, quantile(times, 0.5).Round(time.Microsecond),
					quantile(times, 0.95).Round(time.Microsecond), n)
			}
		})
	}
}
