package httpapi_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/menqian/menqian/models"
)

// TestLeaderboardThroughputRatio measures GET /api/v1/leaderboards/merchants
// (a county's first page of 20, the default) under wrk against a bare Gin
// JSON handler in the same run, and logs the ratio (target 0.5):
//
//	MENQIAN_BENCH_WRK=1 MENQIAN_TEST_MYSQL_DSN='root@tcp(127.0.0.1:3306)/' \
//	MENQIAN_TEST_REDIS_URL=redis://127.0.0.1:6379/0 go test -run LeaderboardThroughputRatio -v ./service/httpapi/
func TestLeaderboardThroughputRatio(t *testing.T) {
	args := wrkArgs(t)
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
		e.must(200, "GET", url[len(e.srv.URL):], w.Officer[0], nil)
		bare := bareGin(t)
		got, base := wrkRatio(t, url, bare.URL+"/bare", []string{"Authorization: Bearer " + w.Officer[0]}, args)
		t.Logf("leaderboard default page (20) %.0f req/s, bare Gin JSON %.0f req/s, ratio %.2f (target 0.5)", got, base, got/base)
	})
}
