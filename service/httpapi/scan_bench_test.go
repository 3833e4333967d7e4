package httpapi_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/models/dbtest"
)

// scanTarget seeds the world and returns the public /q URL of a merchant.
func scanTarget(tb testing.TB, d models.Dialect) (*env, string) {
	e := newEnv(tb, d)
	w := e.seed()
	m, err := e.db.MerchantByID(context.Background(), w.Merchant[0])
	if err != nil {
		tb.Fatal(err)
	}
	return e, e.srv.URL + "/q/" + e.svc.PlaqueToken(m)
}

// bareGin is the yardstick of the scan benchmarks: a Gin engine with no
// middleware answering a JSON object of the public profile's shape.
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

// getParallel sends GET url with Accept: application/json from every
// RunParallel goroutine over keep-alive connections.
func getParallel(b *testing.B, client *http.Client, url string) {
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		req, _ := http.NewRequest("GET", url, nil)
		req.Header.Set("Accept", "application/json")
		for pb.Next() {
			res, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				b.Errorf("status %d", res.StatusCode)
				return
			}
		}
	})
}

func benchClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
}

// BenchmarkScanJSON measures GET /q/{token} with Accept: application/json
// over loopback HTTP, on SQLite and (when configured) MariaDB.
//
//	go test -run xxx -bench 'ScanJSON|BareGinJSON' ./service/httpapi/
func BenchmarkScanJSON(b *testing.B) {
	for _, d := range dbtest.Dialects(b) {
		b.Run(string(d), func(b *testing.B) {
			_, url := scanTarget(b, d)
			getParallel(b, benchClient(), url)
		})
	}
}

// BenchmarkBareGinJSON is the yardstick for BenchmarkScanJSON.
func BenchmarkBareGinJSON(b *testing.B) {
	srv := bareGin(b)
	getParallel(b, benchClient(), srv.URL+"/bare")
}

var wrkRPS = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)

// runWrk runs wrk against url, with the Accept: application/json header and
// any more headers ("Name: value"), and returns its requests per second.
func runWrk(t *testing.T, url string, headers []string, args ...string) float64 {
	t.Helper()
	args = append(args, "-H", "Accept: application/json")
	for _, h := range headers {
		args = append(args, "-H", h)
	}
	cmd := exec.Command("wrk", append(args, url)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("wrk: %v\n%s", err, out)
	}
	m := wrkRPS.FindSubmatch(out)
	if m == nil {
		t.Fatalf("wrk output without Requests/sec:\n%s", out)
	}
	t.Logf("wrk %s:\n%s", url, out)
	rps, _ := strconv.ParseFloat(string(m[1]), 64)
	return rps
}

// TestScanThroughputRatio measures GET /q/{token} (JSON) under wrk against a
// bare Gin JSON handler in the same run on the same machine and logs the
// ratio (a measurement, not a pass/fail: the target is 0.5). It needs wrk and MENQIAN_BENCH_WRK=1:
//
//	MENQIAN_BENCH_WRK=1 go test -run ScanThroughputRatio -v ./service/httpapi/
//
// MENQIAN_BENCH_WRK_ARGS overrides the wrk flags (default -t2 -c64 -d10s).
func TestScanThroughputRatio(t *testing.T) {
	args := wrkArgs(t)
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			_, url := scanTarget(t, d)
			bare := bareGin(t)
			// Warm both up (connections, caches) before measuring.
			scan, base := wrkRatio(t, url, bare.URL+"/bare", nil, args)
			t.Logf("%s: /q/{token} JSON %.0f req/s, bare Gin JSON %.0f req/s, ratio %.2f (target 0.5)", d, scan, base, scan/base)
		})
	}
}

// wrkArgs skips unless MENQIAN_BENCH_WRK=1 and wrk is installed, and returns
// the wrk flags (MENQIAN_BENCH_WRK_ARGS, default -t2 -c64 -d10s).
func wrkArgs(t *testing.T) []string {
	if os.Getenv("MENQIAN_BENCH_WRK") != "1" {
		t.Skip("set MENQIAN_BENCH_WRK=1 to run the wrk throughput comparison")
	}
	if _, err := exec.LookPath("wrk"); err != nil {
		t.Skip("wrk not installed (apt-get install wrk)")
	}
	if v := os.Getenv("MENQIAN_BENCH_WRK_ARGS"); v != "" {
		return regexp.MustCompile(`\s+`).Split(v, -1)
	}
	return []string{"-t2", "-c64", "-d10s"}
}

// wrkRatio warms both servers up, then measures the target and the bare
// baseline one after the other in the same run.
func wrkRatio(t *testing.T, target, bare string, headers []string, args []string) (float64, float64) {
	runWrk(t, target, headers, "-t1", "-c4", "-d1s")
	runWrk(t, bare, nil, "-t1", "-c4", "-d1s")
	return runWrk(t, target, headers, args...), runWrk(t, bare, nil, args...)
}
