package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"golang.org/x/crypto/bcrypt"

	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/service"
	"github.com/menqian/menqian/service/photostore"
	"github.com/menqian/menqian/service/policy"
	"github.com/menqian/menqian/service/web"
)

// TestKeptPagesAreNeverStale reads every kept page of every role on one
// instance after each kind of write on another (and as time passes), and
// compares it with the same page
// rendered by a server that never read it before (on the same service and
// database): a kept page that missed a change differs. The reads before any
// write must come from the kept pages.
func TestKeptPagesAreNeverStale(t *testing.T) {
	t.Parallel()
	nonceAttr := regexp.MustCompile(`nonce="[^"]*"`)
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			w := e.seed()
			ctx := context.Background()
			// The kept pages are another instance's: a second Service on the
			// same database, while every write goes through the first.
			other := service.New(service.Options{DB: e.db, Policy: policy.Default(), Secret: []byte("test-secret-0123456789"),
				Photos: photostore.NewLocal(t.TempDir()), PublicURL: "http://mq.test", Clock: e.clock.Now, PasswordCost: bcrypt.MinCost})
			reg := prometheus.NewRegistry()
			kept := httptest.NewServer(web.New(web.Options{Service: other, Registry: reg}))
			t.Cleanup(kept.Close)

			admin, officer, shop, city := e.browser(), e.browser(), e.browser(), e.browser()
			// signIn signs every browser in again (sessions end after a day).
			signIn := func() {
				t.Helper()
				*admin, *officer, *shop = *e.signedIn(w.AdminName[0]), *e.signedIn(w.OfficerName[0]), *e.signedIn(w.ShopName[0])
				*city = *e.browser()
				if p := city.login("admin", adminPassword); p.Status != http.StatusSeeOther {
					t.Fatalf("city admin login: %d", p.Status)
				}
			}
			signIn()
			m, road, cycle := strconv.FormatInt(w.Merchant[0], 10), strconv.FormatInt(w.Road[0], 10), "2026-11"
			type read struct {
				b    *browser
				path string
			}
			reads := []read{
				{admin, "/console"}, {admin, "/console/shops"}, {admin, "/console/shops/" + m}, {admin, "/console/shops/" + m + "/edit"},
				{admin, "/console/shops/new"}, {admin, "/console/roads"}, {admin, "/console/roads/" + road},
				{admin, "/console/rankings"}, {admin, "/console/demonstration"}, {admin, "/console/bulletins"},
				{admin, "/console/bulletins/" + cycle}, {admin, "/console/appeals"}, {admin, "/console/notices"},
				{admin, "/console/accounts"}, {admin, "/console/audit"}, {city, "/console/audit"},
				{officer, "/officer"}, {officer, "/officer/roads/" + road}, {officer, "/officer/shops/" + m},
				{officer, "/officer/shops/" + m + "/notice"}, {officer, "/inspect?m=" + m},
				{shop, "/merchant"}, {shop, "/merchant/ledger"}, {shop, "/merchant/appeals"}, {shop, "/merchant/notices"},
				{city, "/console"}, {city, "/console/counties"}, {city, "/console/rankings"}, {city, "/console/rankings?scope=city"},
				{city, "/console/counties/" + strconv.FormatInt(w.County[0], 10)},
			}
			get := func(srv *httptest.Server, b *browser, path string) page {
				t.Helper()
				req, _ := http.NewRequest("GET", srv.URL+path, nil)
				u, _ := url.Parse(e.srv.URL)
				for _, c := range b.c.Jar.Cookies(u) {
					req.AddCookie(c)
				}
				res, err := http.DefaultTransport.RoundTrip(req)
				if err != nil {
					t.Fatal(err)
				}
				defer res.Body.Close()
				body, err := io.ReadAll(res.Body)
				if err != nil {
					t.Fatal(err)
				}
				return page{Status: res.StatusCode, Header: res.Header, Body: string(body)}
			}
			check := func(step string) {
				t.Helper()
				fresh := httptest.NewServer(web.New(web.Options{Service: e.svc, Registry: prometheus.NewRegistry()}))
				defer fresh.Close()
				for _, r := range reads {
					got, want := get(kept, r.b, r.path), get(fresh, r.b, r.path)
					if got.Status != http.StatusOK || want.Status != http.StatusOK {
						t.Fatalf("%s: %s: %d (fresh %d)", step, r.path, got.Status, want.Status)
					}
					if g, w := nonceAttr.ReplaceAllString(got.Body, ""), nonceAttr.ReplaceAllString(want.Body, ""); g != w {
						t.Fatalf("%s: %s differs from a fresh render:\n%s", step, r.path, firstDifference(g, w))
					}
				}
			}
			check("first read")
			hits := keptCount(t, reg, "hit")
			check("read again")
			if got := keptCount(t, reg, "hit") - hits; got != float64(len(reads)) {
				t.Fatalf("read again: %v pages kept, want all %d", got, len(reads))
			}

			// Each write is seen by the next read of every page.
			entry := e.record(w.Officer[0], w.Merchant[0], "ZXLH-01", 8)
			check("an inspection")
			e.record(w.Officer[1], w.Merchant[1], "ZXLH-01", 5)
			check("an inspection in the other county")
			if _, err := e.svc.UpdateUser(ctx, w.Admin[0], w.Officer[0].UserID, service.UserChange{DisplayName: ptr("赵巡查")}); err != nil {
				t.Fatal(err)
			}
			check("the officer renamed")
			if _, err := e.svc.UpdateUser(ctx, w.Admin[0], w.Officer[0].UserID, service.UserChange{Password: ptr(password)}); err != nil {
				t.Fatal(err)
			}
			*officer = *e.signedIn(w.OfficerName[0]) // a reset ends the account's sessions (only)
			check("the officer's password reset (in the audit log only)")
			if _, err := e.svc.UpdateRoad(ctx, w.Admin[0], w.Road[0], service.RoadInput{OfficerIDs: &[]int64{w.Officer[0].UserID}}); err != nil {
				t.Fatal(err)
			}
			check("the road's officer set")
			nv, err := e.svc.IssueNotice(ctx, w.Officer[0], w.Merchant[0], service.NoticeInput{RuleCode: "ZXLH-01", DueDays: ptr(1)})
			if err != nil {
				t.Fatal(err)
			}
			check("a notice issued")
			ap, err := e.svc.FileAppeal(ctx, w.Shop[0], w.Merchant[0], entry, "当天已经清理干净")
			if err != nil {
				t.Fatal(err)
			}
			check("an appeal filed")
			// Time passes with no write: the notice and then the appeal fall
			// due, read by the same sessions just before and just after.
			for _, due := range []time.Time{nv.DueAt, service.AppealDecisionDue(ap)} {
				e.clock.Set(due.Add(-2 * time.Second))
				signIn()
				check("just before " + due.String())
				e.clock.Set(due.Add(time.Second))
				check("just after " + due.String())
			}
			if _, err := e.svc.UpdateMerchant(ctx, w.Admin[0], w.Merchant[0], service.MerchantInput{Name: ptr("张记烧烤总店")}); err != nil {
				t.Fatal(err)
			}
			check("a shop renamed")
			// The month closes: past the grace days, the cycle is closed.
			e.clock.Set(time.Date(2026, 12, 6, 2, 0, 0, 0, time.UTC))
			signIn()
			check("in the next month")
			if _, err := e.svc.CloseDueCycles(ctx); err != nil {
				t.Fatal(err)
			}
			check("the cycle closed")
		})
	}
}

// keptCount is the kept-page counter of result (hit or miss) in reg.
func keptCount(t *testing.T, reg *prometheus.Registry, result string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "menqian_page_kept_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			if labelOf(m, "result") == result {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

func labelOf(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// firstDifference shows where two pages part.
func firstDifference(got, want string) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	from := max(0, i-200)
	return "kept:  …" + got[from:min(len(got), i+200)] + "\nfresh: …" + want[from:min(len(want), i+200)]
}
