package web_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"image"
	"image/jpeg"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/qrcodes"
	"github.com/menqian/menqian/service/policy"
)

// benchReportShops is how many shops the report benchmark spreads its
// reports over: each takes 30 reports a day (the per-shop limit), so a run
// may send up to 30 × benchReportShops reports.
const benchReportShops = 400

// BenchmarkReportVsInspection measures, in one run, citizens' reports with a
// photo accepted per second from the plaque's report page (POST
// /q/{token}/report, multipart, as the phone sends it after shrinking the
// photo) and officers' inspections with a photo recorded per second through
// the inspection form's two requests (POST /inspect/photos, then POST
// /inspect/records), both through the pages' handler in process, 8 at a
// time, on each dialect; it logs the reports' rate as a ratio to the
// inspections'. Each photo is a 1600×1200 JPEG of about 0.5 MB, made
// distinct per request (bytes after its end) so that every request writes
// its own file. The reports' limits would refuse a load from one client
// (10 an hour per address, 5 per device, 30 a day per shop): each report
// comes from its own client address and device (no device cookie, so each
// gets a new one), and the reports go round benchReportShops shops, the
// item changing every round (mostly new cases; a shop's 18th report joins
// one). It needs MENQIAN_BENCH_REPORTS=1 (issue 14):
//
//	MENQIAN_BENCH_REPORTS=1 MENQIAN_TEST_MYSQL_DSN='root@tcp(127.0.0.1:3306)/' \
//	  go test -count=1 -run '^$' -bench ReportVsInspection -benchtime 2000x -v ./service/web/
func BenchmarkReportVsInspection(b *testing.B) {
	if os.Getenv("MENQIAN_BENCH_REPORTS") != "1" {
		b.Skip("set MENQIAN_BENCH_REPORTS=1 to measure citizens' reports against officers' inspections")
	}
	photo := benchJPEG(b)
	for _, d := range dbtest.Dialects(b) {
		b.Run(string(d), func(b *testing.B) {
			e := newEnv(b, d)
			w := e.seed()
			ctx := context.Background()
			tokens := e.benchReportShops(w.County[0], w.Road[0])
			var rules []string
			for _, it := range e.svc.Policy().Items {
				if it.Kind == policy.Deduction {
					rules = append(rules, it.Code)
				}
			}
			h := e.srv.Config.Handler
			var reports, inspections float64

			var sent atomic.Int64 // reports over every run of the sub-benchmark: shop, address and item
			b.Run("report", func(b *testing.B) {
				if total := sent.Load() + int64(b.N); total > 30*benchReportShops {
					b.Fatalf("%d reports would pass the shops' limit (30 a day each, %d shops)", total, benchReportShops)
				}
				b.SetParallelism(4)
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						n := sent.Add(1)
						shop := n % benchReportShops
						rule := rules[(n/benchReportShops)%int64(len(rules))]
						req := benchReportRequest(tokens[shop], rule, distinct(photo, n))
						req.RemoteAddr = fmt.Sprintf("10.%d.%d.%d:40000", n>>16&255, n>>8&255, n&255)
						rec := httptest.NewRecorder()
						h.ServeHTTP(rec, req)
						if rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/r/") {
							b.Errorf("report %d: %d %.300s", n, rec.Code, rec.Body.String())
							return
						}
					}
				})
				reports = float64(b.N) / b.Elapsed().Seconds()
				b.ReportMetric(reports, "reports/s")
			})

			sess, err := e.svc.StartSession(ctx, w.OfficerName[0], password)
			if err != nil {
				b.Fatal(err)
			}
			cookie := &http.Cookie{Name: "menqian_session", Value: sess.ID}
			csrf := e.svc.CSRFToken(sess.ID)
			var recorded atomic.Int64
			b.Run("inspection", func(b *testing.B) {
				b.SetParallelism(4)
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						n := recorded.Add(1)
						if err := benchInspect(h, cookie, csrf, tokens[n%benchReportShops], rules[n%int64(len(rules))], distinct(photo, -n), n); err != nil {
							b.Error(err)
							return
						}
					}
				})
				inspections = float64(b.N) / b.Elapsed().Seconds()
				b.ReportMetric(inspections, "inspections/s")
			})
			var stored [3]int64
			for i, q := range []string{"SELECT COUNT(*) FROM case_reports", "SELECT COUNT(*) FROM inspections", "SELECT COUNT(*) FROM photos"} {
				if err := e.db.SQL().QueryRow(q).Scan(&stored[i]); err != nil {
					b.Fatal(err)
				}
			}
			if stored != [3]int64{sent.Load(), recorded.Load(), sent.Load() + recorded.Load()} {
				b.Errorf("stored reports, inspections, photos = %v; sent %d reports and %d inspections", stored, sent.Load(), recorded.Load())
			}
			if inspections > 0 {
				b.Logf("%s: %.0f reports/s, %.0f inspections/s: ratio %.2f", d, reports, inspections, reports/inspections)
			}
		})
	}
}

// benchReportShops adds the report benchmark's shops on a road and returns
// their plaque tokens.
func (e *env) benchReportShops(county, road int64) []string {
	e.t.Helper()
	ctx := context.Background()
	now := e.clock.Now().UTC().Truncate(time.Millisecond)
	ms := make([]models.Merchant, benchReportShops)
	for i := range ms {
		code, err := qrcodes.NewCode()
		if err != nil {
			e.t.Fatal(err)
		}
		ms[i] = models.Merchant{Code: code, CountyID: county, RoadID: road, Name: fmt.Sprintf("举报测试商户%03d", i), Status: "active",
			QRGeneration: 1, CreatedAt: now, UpdatedAt: now}
	}
	if err := e.db.CreateMerchants(ctx, ms); err != nil {
		e.t.Fatal(err)
	}
	tokens := make([]string, len(ms))
	for i, m := range ms {
		tokens[i] = e.svc.PlaqueToken(m)
	}
	return tokens
}

// benchJPEG is a photo as the page sends it after shrinking: a 1600×1200
// JPEG at quality 80.
func benchJPEG(b *testing.B) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 1600, 1200))
	rnd := rand.New(rand.NewPCG(3, 4))
	for y := 0; y < 1200; y++ {
		for x := 0; x < 1600; x++ {
			i := img.PixOffset(x, y)
			n := uint8(rnd.IntN(24))
			img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = uint8(x/7)+n, uint8(y/5)+n, uint8((x+y)/13)+n, 255
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 80}); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// distinct is photo with n written after its end, so each request's photo
// is stored as its own file.
func distinct(photo []byte, n int64) []byte {
	return binary.BigEndian.AppendUint64(append([]byte(nil), photo...), uint64(n))
}

// benchReportRequest is the report form as the phone posts it, with the
// form's double-submit token in its cookie and field, and no device cookie.
func benchReportRequest(token, rule string, photo []byte) *http.Request {
	const csrf = "bench-report-form-token"
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("csrf", csrf)
	mw.WriteField("rule_code", rule)
	mw.WriteField("note", "门前堆放纸箱，挡住了人行道")
	fw, _ := mw.CreateFormFile("photo", "photo-1.jpg")
	fw.Write(photo)
	mw.Close()
	req := httptest.NewRequest(http.MethodPost, "/q/"+token+"/report", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.AddCookie(&http.Cookie{Name: "menqian_report_csrf", Value: csrf})
	return req
}

// benchInspect records one deduction with a photo as the inspection form
// does: the photo, then the record under its own Idempotency-Key.
func benchInspect(h http.Handler, cookie *http.Cookie, csrf, token, rule string, photo []byte, n int64) error {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "photo-1.jpg")
	fw.Write(photo)
	mw.Close()
	req := httptest.NewRequest(http.MethodPost, "/inspect/photos", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("X-CSRF-Token", csrf)
	req.AddCookie(cookie)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var up struct {
		ID int64 `json:"id"`
	}
	if rec.Code != http.StatusCreated || json.Unmarshal(rec.Body.Bytes(), &up) != nil || up.ID == 0 {
		return fmt.Errorf("photo %d: %d %.300s", n, rec.Code, rec.Body.String())
	}
	record, _ := json.Marshal(map[string]any{"qr_token": token, "items": []map[string]any{{"rule_code": rule}}, "photos": []int64{up.ID}})
	req = httptest.NewRequest(http.MethodPost, "/inspect/records", bytes.NewReader(record))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", csrf)
	req.Header.Set("Idempotency-Key", fmt.Sprintf("bench-%d", n))
	req.AddCookie(cookie)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusCreated {
		return fmt.Errorf("record %d: %d %.300s", n, rec.Code, rec.Body.String())
	}
	return nil
}
