package web_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/service/wrktest"
)

// scanBenchTarget seeds the world and returns the plaque URL of a merchant.
func scanBenchTarget(tb testing.TB, d models.Dialect) string {
	e := newEnv(tb, d)
	w := e.seed()
	return e.srv.URL + "/q/" + e.scanToken(w.Merchant[0])
}

// scanBare is the yardstick of the scan benchmarks: a net/http server with no
// middleware answering a JSON object of the public profile's shape (the
// pages are plain net/http, as this is).
func scanBare(tb testing.TB) *httptest.Server {
	body := map[string]any{"code": "K7M2Q9XW", "name": "张记烧烤张店区", "road": "柳泉路", "county": "张店区",
		"category": "餐饮", "star": 5, "rated_star": 5, "score": 100, "cycle": "2026-11"}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		json.NewEncoder(w).Encode(body)
	}))
	tb.Cleanup(srv.Close)
	return srv
}

// scanParallel sends GET url with accept as the Accept header from every
// RunParallel goroutine over keep-alive connections.
func scanParallel(b *testing.B, url, accept string) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		req, _ := http.NewRequest("GET", url, nil)
		req.Header.Set("Accept", accept)
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

// BenchmarkScanJSON measures GET /q/{token} with Accept: application/json
// through the pages' handler over loopback HTTP, on SQLite and (when
// configured) MariaDB.
//
//	go test -run xxx -bench 'Scan(JSON|BareJSON|Page)' ./service/web/
func BenchmarkScanJSON(b *testing.B) {
	for _, d := range dbtest.Dialects(b) {
		b.Run(string(d), func(b *testing.B) {
			scanParallel(b, scanBenchTarget(b, d), "application/json")
		})
	}
}

// BenchmarkScanPage measures the HTML page a phone gets from GET /q/{token}.
func BenchmarkScanPage(b *testing.B) {
	for _, d := range dbtest.Dialects(b) {
		b.Run(string(d), func(b *testing.B) {
			scanParallel(b, scanBenchTarget(b, d), "text/html")
		})
	}
}

// BenchmarkScanBareJSON is the yardstick for BenchmarkScanJSON.
func BenchmarkScanBareJSON(b *testing.B) {
	scanParallel(b, scanBare(b).URL+"/bare", "application/json")
}

// TestScanThroughputRatio measures GET /q/{token} (JSON) through the pages'
// handler under wrk against a bare net/http JSON handler in the same run on
// the same machine, and logs the ratio (a measurement, not a pass/fail: the
// target is 0.5); the HTML page a phone gets is measured and logged besides.
// It needs wrk and MENQIAN_BENCH_WRK=1:
//
//	MENQIAN_BENCH_WRK=1 go test -count=1 -run ScanThroughputRatio -v ./service/web/
//
// MENQIAN_BENCH_WRK_ARGS overrides the wrk flags (default -t2 -c64 -d10s).
func TestScanThroughputRatio(t *testing.T) {
	args := wrktest.Args(t)
	accept := []string{"Accept: application/json"}
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			url := scanBenchTarget(t, d)
			bare := scanBare(t).URL + "/bare"
			scan, base := wrktest.Ratio(t, url, accept, bare, accept, args)
			page := wrktest.RPS(t, url, []string{"Accept: text/html"}, args...)
			t.Logf("%s: /q/{token} JSON %.0f req/s, bare net/http JSON %.0f req/s, ratio %.2f (target 0.5); the HTML page %.0f req/s (%.2f)",
				d, scan, base, scan/base, page, page/base)
		})
	}
}
