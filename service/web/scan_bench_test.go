package web_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/service/wrktest"
)

// The Accept headers of the two answers of GET /q/{token}: the page a phone
// opens, and the public profile a program reads.
const (
	scanAcceptPage = "text/html"
	scanAcceptJSON = "application/json"
)

// scanBenchTarget seeds the world and returns the plaque URL of a merchant.
func scanBenchTarget(tb testing.TB, d models.Dialect) string {
	e := newEnv(tb, d)
	w := e.seed()
	return e.srv.URL + "/q/" + e.scanToken(w.Merchant[0])
}

// scanAnswer is one answer of GET url with accept, read once: the body and
// content type a bare handler replays.
type scanAnswer struct {
	body        []byte
	contentType string
}

func scanFetch(tb testing.TB, url, accept string) scanAnswer {
	tb.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Accept", accept)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		tb.Fatalf("GET %s (Accept: %s): %d %.300s", url, accept, res.StatusCode, body)
	}
	return scanAnswer{body: body, contentType: res.Header.Get("Content-Type")}
}

// scanBare is the yardstick of the scan benchmarks: a net/http server with no
// middleware (the pages are plain net/http, as this is) that answers every
// request with the bytes and content type of a, so the target and the
// yardstick write bodies of the same size.
func scanBare(tb testing.TB, a scanAnswer) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", a.contentType)
		w.Write(a.body)
	}))
	tb.Cleanup(srv.Close)
	return srv.URL + "/bare"
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
//	go test -run xxx -bench 'Scan(JSON|Page|Bare)' ./service/web/
func BenchmarkScanJSON(b *testing.B) {
	for _, d := range dbtest.Dialects(b) {
		b.Run(string(d), func(b *testing.B) {
			scanParallel(b, scanBenchTarget(b, d), scanAcceptJSON)
		})
	}
}

// BenchmarkScanPage measures the HTML page a phone gets from GET /q/{token}.
func BenchmarkScanPage(b *testing.B) {
	for _, d := range dbtest.Dialects(b) {
		b.Run(string(d), func(b *testing.B) {
			scanParallel(b, scanBenchTarget(b, d), scanAcceptPage)
		})
	}
}

// BenchmarkScanBare is the yardstick of both: a bare handler replaying the
// JSON answer and the page, byte for byte.
func BenchmarkScanBare(b *testing.B) {
	url := scanBenchTarget(b, models.SQLite)
	for _, c := range []struct{ name, accept string }{{"json", scanAcceptJSON}, {"page", scanAcceptPage}} {
		b.Run(c.name, func(b *testing.B) {
			scanParallel(b, scanBare(b, scanFetch(b, url, c.accept)), c.accept)
		})
	}
}

// TestScanThroughputRatio measures both answers of GET /q/{token} (the JSON
// profile and the HTML page a phone gets) through the pages' handler under
// wrk, each against a bare net/http handler that writes the same bytes with
// the same content type, in the same run on the same machine, and logs the
// ratios (a measurement, not a pass/fail: the target is 0.5 for both). It
// needs wrk and MENQIAN_BENCH_WRK=1:
//
//	MENQIAN_BENCH_WRK=1 go test -count=1 -run ScanThroughputRatio -v ./service/web/
//
// MENQIAN_BENCH_WRK_ARGS overrides the wrk flags (default -t2 -c64 -d10s).
func TestScanThroughputRatio(t *testing.T) {
	args := wrktest.Args(t)
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			url := scanBenchTarget(t, d)
			var report []any
			for _, accept := range []string{scanAcceptJSON, scanAcceptPage} {
				a := scanFetch(t, url, accept)
				h := []string{"Accept: " + accept}
				scan, base := wrktest.Ratio(t, url, h, scanBare(t, a), h, args)
				report = append(report, accept, len(a.body), scan, base, scan/base)
			}
			t.Logf("%s: /q/{token} %s (%d bytes) %.0f req/s, bare %.0f req/s, ratio %.2f; %s (%d bytes) %.0f req/s, bare %.0f req/s, ratio %.2f (target 0.5 each)",
				append([]any{d}, report...)...)
		})
	}
}
