package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/service/httpapi"
	"github.com/menqian/menqian/service/wrktest"
)

// TestLeaderboardThroughputRatio measures GET /api/v1/leaderboards/merchants
// (a county's first page of 20, the default) under wrk against a bare Gin
// JSON handler in the same run, and logs the ratio (target 0.5):
//
//	MENQIAN_BENCH_WRK=1 MENQIAN_TEST_MYSQL_DSN='root@tcp(127.0.0.1:3306)/' \
//	MENQIAN_TEST_REDIS_URL=redis://127.0.0.1:6379/0 go test -count=1 -run 'LeaderboardThroughputRatio/.*/redis' -v ./service/httpapi/
//
// (-count=1: go test would otherwise replay a cached run; without /.*/redis
// the SQL board is measured too, which is not what the target is about.)
//
// The yardstick of the target is bareGin, a public profile's small body. A
// second ratio, logged besides, is against a bare Gin handler that renders a
// copy of the same page (an equal-sized body, about ten times larger), so
// that the cost of moving the bytes is left out of the comparison.
func TestLeaderboardThroughputRatio(t *testing.T) {
	args := wrktest.Args(t)
	boards(t, func(t *testing.T, e *env) {
		w := e.seed()
		ctx := context.Background()
		ms := make([]models.Merchant, 2000)
		for i := range ms {
			ms[i] = models.Merchant{Code: fmt.Sprintf("Z%07d", i), CountyID: w.County[0], RoadID: w.Road[0],
				Name: fmt.Sprintf("商户%d", i), Status: "active", QRGeneration: 1, CreatedAt: e.clock.Now(), UpdatedAt: e.clock.Now()}
		}
		if err := e.db.InTx(ctx, func(ctx context.Context) error { return e.db.CreateMerchants(ctx, ms) }); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.RebuildLeaderboards(ctx); err != nil {
			t.Fatal(err)
		}
		url := fmt.Sprintf("%s/api/v1/leaderboards/merchants?scope=county&id=%d", e.srv.URL, w.County[0])
		page := e.must(200, "GET", url[len(e.srv.URL):], w.Officer[0], nil)
		bare := bareGin(t)
		same := bareGinPage(t, page.Body)
		accept := []string{"Accept: application/json"}
		auth := append([]string{"Authorization: Bearer " + w.Officer[0]}, accept...)
		got, base := wrktest.Ratio(t, url, auth, bare.URL+"/bare", accept, args)
		t.Logf("leaderboard default page (20) %.0f req/s, bare Gin JSON %.0f req/s, ratio %.2f (target 0.5)", got, base, got/base)
		got2, base2 := wrktest.Ratio(t, url, auth, same.URL+"/bare", accept, args)
		t.Logf("equal-sized body (%d bytes): leaderboard %.0f req/s, bare Gin rendering the same page %.0f req/s, ratio %.2f",
			len(page.Body), got2, base2, got2/base2)
	})
}

// bareGinPage is a Gin engine with no middleware answering, with c.JSON, a
// copy of the leaderboard page body.
func bareGinPage(tb testing.TB, body []byte) *httptest.Server {
	var page httpapi.BoardJSON
	if err := json.Unmarshal(body, &page); err != nil {
		tb.Fatal(err)
	}
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.GET("/bare", func(c *gin.Context) { c.JSON(http.StatusOK, page) })
	srv := httptest.NewServer(r)
	tb.Cleanup(srv.Close)
	return srv
}

// bareGin is the yardstick of the throughput ratios: a Gin engine with no
// middleware answering a JSON object of the public plaque profile's shape.
func bareGin(tb testing.TB) *httptest.Server {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.GET("/bare", func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"code": "K7M2Q9XW", "name": "张记烧烤张店区", "road": "柳泉路", "county": "张店区",
			"category": "餐饮", "star": 5, "rated_star": 5, "score": 100, "cycle": "2026-11"})
	})
	srv := httptest.NewServer(r)
	tb.Cleanup(srv.Close)
	return srv
}
