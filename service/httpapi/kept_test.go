package httpapi_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/bcrypt"

	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/service"
	"github.com/menqian/menqian/service/httpapi"
	"github.com/menqian/menqian/service/photostore"
	"github.com/menqian/menqian/service/policy"
)

// TestKeptAnswersAreNeverStale reads every kept list of the API as each role
// on one instance after each kind of write on another (and as a notice falls
// due), and compares it with
// the answer of a server that never answered it before, on the same service:
// a kept answer that missed a change differs. A second read with nothing
// changed comes from the kept answers.
func TestKeptAnswersAreNeverStale(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			w := e.seed()
			// The kept answers are another instance's: a second Service on the
			// same database, while every write goes through the first.
			other := service.New(service.Options{DB: e.db, Policy: policy.Default(), Secret: []byte("test-secret-0123456789"),
				Photos: photostore.NewLocal(t.TempDir()), PublicURL: "http://mq.test", Clock: e.clock.Now, PasswordCost: bcrypt.MinCost})
			reg := prometheus.NewRegistry()
			keptSrv := httptest.NewServer(httpapi.New(httpapi.Options{Service: other, Registry: reg}))
			t.Cleanup(keptSrv.Close)

			c, m, road := strconv.FormatInt(w.County[0], 10), strconv.FormatInt(w.Merchant[0], 10), strconv.FormatInt(w.Road[0], 10)
			type read struct {
				token *string
				path  string
			}
			reads := []read{
				{&e.admin, "/api/v1/counties"}, {&e.admin, "/api/v1/counties/" + c},
				{&w.Admin[0], "/api/v1/roads?county_id=" + c}, {&w.Admin[0], "/api/v1/roads/" + road},
				{&w.Admin[0], "/api/v1/merchants?county_id=" + c}, {&w.Admin[0], "/api/v1/merchants/" + m},
				{&w.Admin[0], "/api/v1/merchants/" + m + "/inspections"}, {&w.Admin[0], "/api/v1/merchants/" + m + "/ledger"},
				{&w.Admin[0], "/api/v1/counties/" + c + "/demonstration"}, {&w.Admin[0], "/api/v1/counties/" + c + "/bulletins/2026-11?format=json"},
				{&w.Admin[0], "/api/v1/appeals?county_id=" + c}, {&w.Admin[0], "/api/v1/notices?county_id=" + c},
				{&w.Officer[0], "/api/v1/merchants/" + m + "/notices"}, {&w.Shop[0], "/api/v1/merchants/" + m + "/ledger"},
				{&w.Shop[0], "/api/v1/merchants/" + m}, {&e.admin, "/api/v1/merchants?county_id=" + c + "&sort=score"},
			}
			get := func(srv *httptest.Server, token, path string) (int, string) {
				t.Helper()
				req, _ := http.NewRequest("GET", srv.URL+path, nil)
				req.Header.Set("Authorization", "Bearer "+token)
				res, err := http.DefaultTransport.RoundTrip(req)
				if err != nil {
					t.Fatal(err)
				}
				defer res.Body.Close()
				body, err := io.ReadAll(res.Body)
				if err != nil {
					t.Fatal(err)
				}
				return res.StatusCode, string(body)
			}
			check := func(step string) {
				t.Helper()
				fresh := httptest.NewServer(httpapi.New(httpapi.Options{Service: e.svc, Registry: prometheus.NewRegistry()}))
				defer fresh.Close()
				for _, r := range reads {
					gs, got := get(keptSrv, *r.token, r.path)
					ws, want := get(fresh, *r.token, r.path)
					if gs != http.StatusOK || gs != ws {
						t.Fatalf("%s: %s: %d (fresh %d): %s", step, r.path, gs, ws, got)
					}
					if got != want {
						t.Fatalf("%s: %s differs from a fresh answer:\nkept:  %s\nfresh: %s", step, r.path, got, want)
					}
				}
			}
			check("first read")
			before := keptHits(t, reg)
			check("read again")
			if got := keptHits(t, reg) - before; got != float64(len(reads)) {
				t.Fatalf("read again: %v answers kept, want all %d", got, len(reads))
			}

			key := 0
			inspect := func(token string, merchant int64, rule string, photo int64) int64 {
				t.Helper()
				key++
				body := map[string]any{"merchant_id": merchant, "items": []map[string]any{{"rule_code": rule}}}
				if photo != 0 {
					body["photos"] = []int64{photo}
				}
				r := e.must(201, "POST", "/api/v1/inspections", token, body, "Idempotency-Key", fmt.Sprintf("kept-%d", key))
				var entry int64
				if err := e.db.SQL().QueryRow("SELECT id FROM ledger_entries WHERE inspection_id = ?", r.id()).Scan(&entry); err != nil {
					t.Fatal(err)
				}
				return entry
			}
			entry := inspect(w.Officer[0], w.Merchant[0], "HJWS-01", w.Photo[0])
			check("an inspection")
			inspect(w.Officer[1], w.Merchant[1], "HJWS-01", w.Photo[1])
			check("an inspection in the other county")
			e.must(200, "PATCH", "/api/v1/roads/"+road, w.Admin[0], map[string]any{"officer_ids": []int64{w.OfficerID[0]}})
			check("the road's officer set")
			e.must(200, "PATCH", "/api/v1/merchants/"+m, w.Admin[0], map[string]any{"name": "张记烧烤总店"})
			check("a shop renamed")
			n := e.must(201, "POST", "/api/v1/merchants/"+m+"/notices", w.Officer[0], map[string]any{"note": "清理门前杂物", "due_days": 1})
			check("a notice issued")
			ap := e.must(201, "POST", fmt.Sprintf("/api/v1/merchants/%s/ledger/%d/appeal", m, entry), w.Shop[0], map[string]any{"reason": "当天已经清理干净"})
			check("an appeal filed")
			e.must(200, "POST", fmt.Sprintf("/api/v1/appeals/%d/decision", ap.id()), w.Admin[0], map[string]any{"accept": true, "note": "核实属实"})
			check("the appeal accepted")
			// The notice falls due with no write, read just before and after.
			due, err := time.Parse(time.RFC3339, n.JSON["due_at"].(string))
			if err != nil {
				t.Fatal(err)
			}
			e.clock.Set(due.Add(-2 * time.Second))
			e.admin = e.login("admin", adminPassword) // tokens last a shift
			w.Admin[0], w.Officer[0], w.Shop[0] = e.login("admin370303", "password-370303"),
				e.login("officer370303", "password-370303"), e.login("shop370303", "password-370303")
			check("just before the notice's deadline")
			e.clock.Set(due.Add(time.Second))
			check("just after the notice's deadline")
		})
	}
}

// keptHits is how many kept answers reg's API wrote again.
func keptHits(t *testing.T, reg *prometheus.Registry) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "menqian_api_kept_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "result" && l.GetValue() == "hit" {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}
