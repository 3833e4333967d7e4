package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/models/dbtest"
)

// TestCaseQueueServerTime measures the county's triage queue (GET
// /console/cases as the county admin) with 10,000 open cases, through the
// pages' handler in process: a render after a write (the data stamp moved,
// so the page is rendered again) and a kept page (nothing changed), each as
// the median and p95 of n requests and as a ratio to a bare Gin HTML handler
// measured in the same run. A measurement, logged, not a pass/fail; it needs
// MENQIAN_BENCH_LARGE=1 (issue 14):
//
//	MENQIAN_BENCH_LARGE=1 MENQIAN_TEST_MYSQL_DSN='root@tcp(127.0.0.1:3306)/' \
//	  go test -count=1 -run CaseQueueServerTime -v ./service/web/
//
// MENQIAN_BENCH_N sets n (default 50).
func TestCaseQueueServerTime(t *testing.T) {
	if os.Getenv("MENQIAN_BENCH_LARGE") != "1" {
		t.Skip("set MENQIAN_BENCH_LARGE=1 to measure the triage queue with 10,000 open cases")
	}
	n := 50
	if v, err := strconv.Atoi(os.Getenv("MENQIAN_BENCH_N")); err == nil && v > 0 {
		n = v
	}
	gh := bareGin()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			e := newEnv(t, d)
			w := e.seed()
			ctx := context.Background()
			start := time.Now()
			// 10,000 open cases of the first county, in every open state; the
			// dispatched ones with deadlines, a tenth of them past.
			now := e.clock.Now().UTC().Truncate(time.Millisecond)
			states := []string{models.CaseReceived, models.CaseAccepted, models.CaseDispatched, models.CaseHandled, models.CaseReturned}
			err := e.db.InTx(ctx, func(ctx context.Context) error {
				for i := range 10_000 {
					c := models.Case{Receipt: fmt.Sprintf("B%09d", i), CountyID: w.County[0], RuleCode: "OTHER", Status: states[i%len(states)],
						Source: models.CaseFromPlaque, Note: "占道经营", Reports: 1 + i%3, ReceivedAt: now.Add(-time.Duration(i) * time.Minute), UpdatedAt: now}
					if c.Status == models.CaseDispatched {
						due := now.Add(time.Duration(i%100-10) * time.Hour)
						officer := w.Officer[0].UserID
						c.DueAt, c.OfficerID = &due, &officer
					}
					r := models.CaseReport{Note: c.Note, ReportedAt: c.ReceivedAt}
					ev := models.CaseEvent{Action: "report", ToStatus: models.CaseReceived, At: c.ReceivedAt}
					if err := e.db.CreateCase(ctx, &c, &r, &ev); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: 10,000 cases seeded in %v", d, time.Since(start).Round(100*time.Millisecond))
			sess, err := e.svc.StartSession(ctx, w.AdminName[0], password)
			if err != nil {
				t.Fatal(err)
			}
			cookie := &http.Cookie{Name: "menqian_session", Value: sess.ID}
			h := e.srv.Config.Handler
			// After a write: rename the officer (a version bump the county
			// views skip) before each timed request.
			var rendered []time.Duration
			for i := range n + 3 {
				if _, err := e.db.SQL().ExecContext(ctx, "UPDATE users SET display_name = ? WHERE id = ?", fmt.Sprintf("王巡查%d", i), w.Officer[0].UserID); err != nil {
					t.Fatal(err)
				}
				req := httptest.NewRequest("GET", "/console/cases", nil)
				req.AddCookie(cookie)
				rec := httptest.NewRecorder()
				start := time.Now()
				h.ServeHTTP(rec, req)
				if took := time.Since(start); i >= 3 {
					rendered = append(rendered, took)
				}
				if rec.Code != http.StatusOK {
					t.Fatalf("/console/cases: %d %.300s", rec.Code, rec.Body.String())
				}
			}
			slices.Sort(rendered)
			kept := serverTimes(t, h, "/console/cases", cookie, n)
			base := serverTimes(t, gh, "/", nil, max(n, 1000))
			for _, m := range []struct {
				name string
				ds   []time.Duration
			}{{"rendered after a write", rendered}, {"kept", kept}} {
				med, p95 := quantile(m.ds, 0.5), quantile(m.ds, 0.95)
				t.Logf("%s: triage queue %s: median %v, p95 %v (n=%d); bare Gin HTML median %v; ratio median %.0f×",
					d, m.name, med.Round(time.Microsecond), p95.Round(time.Microsecond), n, quantile(base, 0.5).Round(100*time.Nanosecond),
					float64(med)/float64(quantile(base, 0.5)))
			}
		})
	}
}
