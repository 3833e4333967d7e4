package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/service/policy"
)

// shanghai is the policy's zone; cycles and the grace period are judged in it.
var shanghai = time.FixedZone("CST", 8*3600)

func at(y int, m time.Month, d, hh, mm, ss int) time.Time {
	return time.Date(y, m, d, hh, mm, ss, 0, shanghai)
}

// item is one inspection item; points are optional (the rule's default).
func item(code string, points ...int) map[string]any {
	it := map[string]any{"rule_code": code}
	if len(points) > 0 {
		it["points"] = points[0]
	}
	return it
}

// inspection is a request body for POST /api/v1/inspections.
func inspection(merchant int64, photos []int64, items ...map[string]any) map[string]any {
	if photos == nil {
		photos = []int64{}
	}
	return map[string]any{"merchant_id": merchant, "items": items, "photos": photos}
}

// inspect posts an inspection; an empty key sends no Idempotency-Key header.
func (e *env) inspect(token, key string, body any) resp {
	e.t.Helper()
	if key == "" {
		return e.do("POST", "/api/v1/inspections", token, body)
	}
	return e.do("POST", "/api/v1/inspections", token, body, "Idempotency-Key", key)
}

// post is a goroutine-safe POST (e.do fails the test, which only the test
// goroutine may do).
func (e *env) post(client *http.Client, path, token string, body []byte, headers ...string) (resp, error) {
	req, err := http.NewRequest("POST", e.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		return resp{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := client.Do(req)
	if err != nil {
		return resp{}, err
	}
	defer res.Body.Close()
	out := resp{Status: res.StatusCode, Header: res.Header}
	if out.Body, err = io.ReadAll(res.Body); err != nil {
		return out, err
	}
	return out, json.Unmarshal(out.Body, &out.JSON)
}

// newMerchant registers a shop on a road (as a county or city admin) and pins
// its registration to the test clock.
func (e *env) newMerchant(token string, road int64, name string) int64 {
	e.t.Helper()
	id := e.must(201, "POST", "/api/v1/merchants", token, map[string]any{"road_id": road, "name": name}).id()
	e.registeredNow(id)
	return id
}

// registeredNow sets a merchant's registration time to the test clock.
// CreateMerchant lets GORM stamp created_at with the wall clock rather than
// the service clock, so without this every merchant seeded at the test clock's
// 2026-11 would look registered today, and November records would be refused
// as earlier than the registration.
func (e *env) registeredNow(ids ...int64) {
	e.t.Helper()
	for _, id := range ids {
		if _, err := e.db.SQL().Exec("UPDATE merchants SET created_at = ? WHERE id = ?", e.clock.Now().UTC(), id); err != nil {
			e.t.Fatal(err)
		}
	}
}

// seeded builds the same world as e.seed, with the merchants' registration
// pinned to the clock, but creates the accounts in the database with a
// minimum-cost bcrypt hash and signs their tokens directly: thirteen bcrypt
// runs at the default cost take most of a minute per test under -race. The
// passwords are e.seed's, so logging in still works.
func (e *env) seeded() world {
	e.t.Helper()
	ctx := context.Background()
	var w world
	user := func(name, pw, role string, county, merchant *int64) int64 {
		hash, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
		if err != nil {
			e.t.Fatal(err)
		}
		u := models.User{Username: name, PasswordHash: string(hash), Role: role, CountyID: county, MerchantID: merchant}
		if err := e.db.CreateUser(ctx, &u); err != nil {
			e.t.Fatal(err)
		}
		return u.ID
	}
	for i, c := range seedCounties {
		w.County[i] = e.must(201, "POST", "/api/v1/counties", e.admin, map[string]any{"code": c[0], "name": c[1]}).id()
		w.Road[i] = e.must(201, "POST", "/api/v1/roads", e.admin, map[string]any{"county_id": w.County[i], "name": "柳泉路", "town": "车站街道"}).id()
		w.Merchant[i] = e.newMerchant(e.admin, w.Road[i], "张记烧烤"+c[1])
		pw := "password-" + c[0]
		user("admin"+c[0], pw, "county_admin", &w.County[i], nil)
		w.OfficerID[i] = user("officer"+c[0], pw, "officer", &w.County[i], nil)
		user("shop"+c[0], pw, "merchant", &w.County[i], &w.Merchant[i])
		w.Admin[i], w.Officer[i], w.Shop[i] = e.loginToken("admin"+c[0]), e.loginToken("officer"+c[0]), e.loginToken("shop"+c[0])
		w.Photo[i] = e.uploadPhoto(w.Officer[i], tinyPNG(i)).id()
	}
	return w
}

// relogin issues fresh tokens at the current test clock (login tokens last 12
// hours of that clock) for the first county's admin, officer and merchant
// account. It signs them with the service, as login does after the password
// check, because bcrypt makes every real login slow under -race.
func (e *env) relogin(w *world) {
	e.t.Helper()
	c := seedCounties[0][0]
	w.Admin[0], w.Officer[0], w.Shop[0] = e.loginToken("admin"+c), e.loginToken("officer"+c), e.loginToken("shop"+c)
}

// loginToken signs a login token for a user at the current test clock.
func (e *env) loginToken(username string) string {
	e.t.Helper()
	u := models.User{Username: username}
	if err := e.db.SQL().QueryRow("SELECT id, role, county_id, merchant_id FROM users WHERE username = ?", username).
		Scan(&u.ID, &u.Role, &u.CountyID, &u.MerchantID); err != nil {
		e.t.Fatal(err)
	}
	tok, _, err := e.svc.IssueToken(u)
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

// scoreOf reads the merchant view's score object.
func (e *env) scoreOf(token string, merchant int64) map[string]any {
	e.t.Helper()
	r := e.must(200, "GET", "/api/v1/merchants/"+itoa(merchant), token, nil)
	s, ok := r.JSON["score"].(map[string]any)
	if !ok {
		e.t.Fatalf("merchant %d: no score in %s", merchant, r.Body)
	}
	return s
}

func num(v any) int {
	f, _ := v.(float64)
	return int(f)
}

// count returns the number of rows of a table matching a condition.
func (e *env) count(table, where string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.db.SQL().QueryRow("SELECT COUNT(*) FROM "+table+" WHERE "+where, args...).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// TestInspectionConcurrent sends 50 different inspections of one merchant at
// once: every point lands exactly once and the bonus cap holds.
func TestInspectionConcurrent(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			w := e.seeded()
			m := w.Merchant[0]
			p := w.Photo[0]
			// A mix: bonuses (2 each, 20 in all, capped at 10), one-point and
			// three-point deductions, and inspections with two items.
			var bodies [][]byte
			deductions, bonuses, items := 0, 0, 0
			for i := range 50 {
				var body map[string]any
				switch i % 5 {
				case 0:
					body = inspection(m, nil, item("BONUS-01", 2))
					bonuses += 2
					items++
				case 1, 2:
					body = inspection(m, []int64{p}, item("HJWS-01", 1))
					deductions++
					items++
				case 3:
					body = inspection(m, []int64{p}, item("HJWS-02", 3), item("BONUS-03"))
					deductions += 3
					bonuses++
					items += 2
				case 4:
					body = inspection(m, []int64{p}, item("SRZJ-02"))
					deductions += 2
					items++
				}
				b, _ := json.Marshal(body)
				bodies = append(bodies, b)
			}
			// 100 − (20·1 + 10·3 + 10·2) + min(20 + 10, 10) = 100 − 70 + 10
			if deductions != 70 || bonuses != 30 || items != 60 {
				t.Fatalf("test arithmetic: deductions %d bonuses %d items %d", deductions, bonuses, items)
			}
			want := 40
			if got := policy.Default().Score(policy.Tally{Deductions: deductions, Bonuses: bonuses}); got != want {
				t.Fatalf("policy score = %d, want %d", got, want)
			}

			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			res := make([]resp, len(bodies))
			errs := make([]error, len(bodies))
			var wg sync.WaitGroup
			for i, b := range bodies {
				wg.Go(func() {
					res[i], errs[i] = e.post(client, "/api/v1/inspections", w.Officer[0], b, "Idempotency-Key", fmt.Sprintf("conc-%02d", i))
				})
			}
			wg.Wait()
			ids := map[int64]bool{}
			for i, r := range res {
				if errs[i] != nil || r.Status != 201 {
					t.Fatalf("request %d: %v status %d %s", i, errs[i], r.Status, r.Body)
				}
				if r.Header.Get("Idempotent-Replayed") != "" {
					t.Errorf("request %d replayed, but every key is new", i)
				}
				ids[r.id()] = true
			}
			if len(ids) != 50 {
				t.Errorf("%d distinct inspection ids, want 50", len(ids))
			}

			s := e.scoreOf(w.Officer[0], m)
			if num(s["score"]) != want || num(s["deductions"]) != deductions || num(s["bonuses"]) != bonuses {
				t.Errorf("score = %v, want score %d deductions %d bonuses %d", s, want, deductions, bonuses)
			}
			if s["star"].(float64) != 0 {
				t.Errorf("star of 40 = %v, want 0", s["star"])
			}
			hist := e.must(200, "GET", "/api/v1/merchants/"+itoa(m)+"/inspections?limit=100", w.Officer[0], nil)
			if num(hist.JSON["total"]) != 50 || len(hist.JSON["items"].([]any)) != 50 {
				t.Errorf("inspections total %v, want 50", hist.JSON["total"])
			}
			led := e.must(200, "GET", "/api/v1/merchants/"+itoa(m)+"/ledger?cycle=2026-11", w.Officer[0], nil)
			if num(led.JSON["total"]) != items {
				t.Errorf("ledger total %v, want %d", led.JSON["total"], items)
			}
			if n := e.count("inspections", "merchant_id = ?", m); n != 50 {
				t.Errorf("%d inspection rows, want 50", n)
			}
			if n := e.count("ledger_entries", "merchant_id = ?", m); n != items {
				t.Errorf("%d ledger rows, want %d", n, items)
			}
			e.checkClean()
		})
	}
}

// TestInspectionIdempotent sends twenty copies of one request at once: one
// inspection is recorded, every copy gets the same answer, the replays say so;
// the key then refuses another body, and replays still answer after the cycle
// has closed.
func TestInspectionIdempotent(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			w := e.seeded()
			m := w.Merchant[0]
			body := inspection(m, []int64{w.Photo[0]}, item("ZXLH-02", 4), item("BONUS-02"))
			body["note"] = "门前堆放纸箱"
			b, _ := json.Marshal(body)
			before := e.snapshot()

			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			res := make([]resp, 20)
			errs := make([]error, 20)
			var wg sync.WaitGroup
			for i := range res {
				wg.Go(func() {
					res[i], errs[i] = e.post(client, "/api/v1/inspections", w.Officer[0], b, "Idempotency-Key", "phone-retry-7")
				})
			}
			wg.Wait()
			replayed := 0
			for i, r := range res {
				if errs[i] != nil || r.Status != 201 {
					t.Fatalf("copy %d: %v status %d %s", i, errs[i], r.Status, r.Body)
				}
				if !bytes.Equal(r.Body, res[0].Body) {
					t.Errorf("copy %d answered %s, copy 0 %s", i, r.Body, res[0].Body)
				}
				switch r.Header.Get("Idempotent-Replayed") {
				case "true":
					replayed++
				case "":
				default:
					t.Errorf("copy %d: Idempotent-Replayed %q", i, r.Header.Get("Idempotent-Replayed"))
				}
			}
			if replayed != 19 {
				t.Errorf("%d copies marked replayed, want 19", replayed)
			}
			if num(res[0].JSON["delta"]) != -2 || num(res[0].JSON["score"].(map[string]any)["score"]) != 98 {
				t.Errorf("response = %s, want delta -2 and score 98", res[0].Body)
			}
			after := e.snapshot()
			if after["inspections"]-before["inspections"] != 1 || after["ledger_entries"]-before["ledger_entries"] != 2 {
				t.Errorf("recorded %d inspections and %d ledger entries, want 1 and 2",
					after["inspections"]-before["inspections"], after["ledger_entries"]-before["ledger_entries"])
			}

			// The same key with another body is refused and stores nothing.
			other := inspection(m, []int64{w.Photo[0]}, item("ZXLH-02", 5))
			stored := e.snapshot()
			r := e.inspect(w.Officer[0], "phone-retry-7", other)
			if r.Status != 422 || r.code() != "idempotency_key_reused" {
				t.Errorf("reused key: %d %s, want 422 idempotency_key_reused", r.Status, r.Body)
			}
			// Even an invalid other body is a reused key, not a validation error.
			r = e.inspect(w.Officer[0], "phone-retry-7", inspection(m, nil, item("NOPE-01")))
			if r.Status != 422 || r.code() != "idempotency_key_reused" {
				t.Errorf("reused key, invalid body: %d %s, want 422", r.Status, r.Body)
			}
			// Keys belong to the officer: another officer's same key is a new record
			// attempt (here refused, since the merchant is of another county).
			r = e.inspect(w.Officer[1], "phone-retry-7", body)
			if r.Status != 404 {
				t.Errorf("other county officer with the key: %d %s, want 404", r.Status, r.Body)
			}
			if got := e.snapshot(); !reflect.DeepEqual(got, stored) {
				t.Errorf("refused requests changed data: %v → %v", stored, got)
			}

			// A retry that arrives after the cycle closed and the merchant was
			// closed still gets the first answer.
			e.must(200, "PATCH", "/api/v1/merchants/"+itoa(m), w.Admin[0], map[string]any{"status": "closed"})
			e.clock.Set(at(2026, 12, 10, 9, 0, 0))
			e.relogin(&w)
			r = e.must(201, "POST", "/api/v1/inspections", w.Officer[0], body, "Idempotency-Key", "phone-retry-7")
			if !bytes.Equal(r.Body, res[0].Body) || r.Header.Get("Idempotent-Replayed") != "true" {
				t.Errorf("late replay: %s (replayed %q), want %s", r.Body, r.Header.Get("Idempotent-Replayed"), res[0].Body)
			}
			if got := e.snapshot(); !reflect.DeepEqual(got, stored) {
				t.Errorf("late replay changed data: %v → %v", stored, got)
			}
			e.checkClean()
		})
	}
}

// TestInspectionBadInput sends every kind of bad record: each gets its status
// and code, and nothing is stored.
func TestInspectionBadInput(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			w := e.seeded()
			m, p := w.Merchant[0], w.Photo[0]
			closed := e.newMerchant(w.Admin[0], w.Road[0], "已注销商户")
			e.must(200, "PATCH", "/api/v1/merchants/"+itoa(closed), w.Admin[0], map[string]any{"status": "closed"})
			e.must(201, "POST", "/api/v1/inspections", w.Officer[0], inspection(m, nil, item("BONUS-01")), "Idempotency-Key", "used-key")
			now := e.clock.Now()
			withTime := func(t time.Time, layout string) map[string]any {
				b := inspection(m, []int64{p}, item("HJWS-01"))
				b["inspected_at"] = t.Format(layout)
				return b
			}
			ok := func() map[string]any { return inspection(m, []int64{p}, item("HJWS-01")) }
			with := func(k string, v any) map[string]any { b := ok(); b[k] = v; return b }

			cases := []struct {
				name   string
				token  string
				key    string
				body   any
				status int
				code   string
				field  string
			}{
				{"unknown rule", w.Officer[0], "k1", inspection(m, []int64{p}, item("NOPE-01")), 400, "invalid_input", "items[0].rule_code"},
				{"points above range", w.Officer[0], "k2", inspection(m, []int64{p}, item("HJWS-01", 4)), 400, "invalid_input", "items[0].points"},
				{"points below range", w.Officer[0], "k3", inspection(m, []int64{p}, item("ZXLH-05", 9)), 400, "invalid_input", "items[0].points"},
				{"zero points", w.Officer[0], "k3b", inspection(m, nil, item("BONUS-01", 0)), 400, "invalid_input", "items[0].points"},
				{"deduction without photo", w.Officer[0], "k4", inspection(m, nil, item("HJWS-01")), 400, "invalid_input", "photos"},
				{"photo of another county", w.Officer[0], "k5", inspection(m, []int64{w.Photo[1]}, item("HJWS-01")), 400, "invalid_input", "photos"},
				{"photo that does not exist", w.Officer[0], "k6", inspection(m, []int64{p, 987654}, item("HJWS-01")), 400, "invalid_input", "photos"},
				{"same photo twice", w.Officer[0], "k6b", inspection(m, []int64{p, p}, item("HJWS-01")), 400, "invalid_input", "photos"},
				{"future beyond skew", w.Officer[0], "k7", withTime(now.Add(5*time.Minute+time.Second), time.RFC3339), 400, "invalid_input", "inspected_at"},
				{"missing key", w.Officer[0], "", ok(), 400, "invalid_input", "Idempotency-Key"},
				{"key with spaces", w.Officer[0], "a key", ok(), 400, "invalid_input", "Idempotency-Key"},
				{"key too long", w.Officer[0], strings.Repeat("k", 129), ok(), 400, "invalid_input", "Idempotency-Key"},
				{"reused key, other body", w.Officer[0], "used-key", ok(), 422, "idempotency_key_reused", ""},
				{"merchant role", w.Shop[0], "k8", ok(), 403, "forbidden", ""},
				{"other county officer", w.Officer[1], "k9", ok(), 404, "not_found", ""},
				{"other county admin", w.Admin[1], "k9b", ok(), 404, "not_found", ""},
				{"unknown merchant", w.Officer[0], "k10", inspection(987654, []int64{p}, item("HJWS-01")), 404, "not_found", ""},
				{"no merchant", w.Officer[0], "k10b", map[string]any{"items": []any{item("BONUS-01")}}, 400, "invalid_input", "merchant_id"},
				{"closed merchant", w.Officer[0], "k11", inspection(closed, []int64{p}, item("HJWS-01")), 409, "conflict", ""},
				{"no items", w.Officer[0], "k12", inspection(m, []int64{p}), 400, "invalid_input", "items"},
				{"duplicate rule", w.Officer[0], "k13", inspection(m, []int64{p}, item("HJWS-01"), item("hjws-01", 2)), 400, "invalid_input", "items[1].rule_code"},
				{"bad JSON", w.Officer[0], "k14", `{"merchant_id":` + itoa(m) + `,"items":[`, 400, "invalid_input", "body"},
				{"empty body", w.Officer[0], "k14b", "", 400, "invalid_input", "body"},
				{"unknown field", w.Officer[0], "k14c", with("score", 100), 400, "invalid_input", "score"},
				{"points not a number", w.Officer[0], "k14d", inspection(m, []int64{p}, map[string]any{"rule_code": "HJWS-01", "points": "2"}), 400, "invalid_input", ""},
				{"bad time format", w.Officer[0], "k15", withTime(now, "2006-01-02 15:04"), 400, "invalid_input", "inspected_at"},
				{"bad latitude", w.Officer[0], "k16", with("lat", 91), 400, "invalid_input", "lat"},
				{"no token", "", "k17", ok(), 401, "unauthorized", ""},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					before := e.snapshot()
					r := e.inspect(c.token, c.key, c.body)
					if r.Status != c.status || r.code() != c.code {
						t.Errorf("got %d %s, want %d %s: %s", r.Status, r.code(), c.status, c.code, r.Body)
					}
					if c.field != "" {
						fields, _ := r.JSON["error"].(map[string]any)["fields"].(map[string]any)
						if _, ok := fields[c.field]; !ok {
							t.Errorf("fields = %v, want %s", fields, c.field)
						}
					}
					if rid, _ := r.JSON["error"].(map[string]any)["request_id"].(string); rid == "" {
						t.Errorf("no request_id in %s", r.Body)
					}
					if got := e.snapshot(); !reflect.DeepEqual(got, before) {
						t.Errorf("stored data changed: %v → %v", before, got)
					}
				})
			}

			// Four minutes ahead is clock skew, forgiven.
			e.must(201, "POST", "/api/v1/inspections", w.Officer[0], withTime(now.Add(4*time.Minute), time.RFC3339), "Idempotency-Key", "skew")

			// The grace period: November records are taken until 3 Dec 24:00 Shanghai.
			e.clock.Set(at(2026, 12, 3, 23, 59, 59))
			e.relogin(&w)
			r := e.must(201, "POST", "/api/v1/inspections", w.Officer[0], withTime(at(2026, 11, 30, 18, 0, 0), time.RFC3339), "Idempotency-Key", "grace-last-second")
			if c := r.JSON["score"].(map[string]any)["cycle"]; c != "2026-11" {
				t.Errorf("late November record landed in %v", c)
			}
			e.clock.Set(at(2026, 12, 4, 0, 0, 0))
			e.relogin(&w)
			for _, when := range []time.Time{at(2026, 11, 30, 18, 0, 0), at(2026, 10, 20, 9, 0, 0), at(2026, 11, 30, 23, 59, 59)} {
				before := e.snapshot()
				r := e.inspect(w.Officer[0], "closed-"+when.Format("0102"), withTime(when, time.RFC3339))
				if r.Status != 409 || r.code() != "cycle_closed" {
					t.Errorf("record of %s at 4 Dec: %d %s, want 409 cycle_closed", when, r.Status, r.Body)
				}
				if got := e.snapshot(); !reflect.DeepEqual(got, before) {
					t.Errorf("closed cycle record changed data: %v → %v", before, got)
				}
			}
			// A December record is fine then, in the new cycle.
			r = e.must(201, "POST", "/api/v1/inspections", w.Officer[0], ok(), "Idempotency-Key", "december")
			if c := r.JSON["score"].(map[string]any)["cycle"]; c != "2026-12" {
				t.Errorf("December record landed in %v", c)
			}
			e.checkClean()
		})
	}
}

// TestWorkedExample walks the design's worked example month by month through
// HTTP with the injected clock.
func TestWorkedExample(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			e.clock.Set(at(2026, 10, 10, 9, 0, 0))
			e.admin = e.loginToken("admin")
			w := e.seeded() // the merchant registers on 10 October
			m, p := w.Merchant[0], w.Photo[0]
			step := func(when time.Time, key string, items ...map[string]any) {
				t.Helper()
				e.clock.Set(when)
				e.relogin(&w)
				if len(items) > 0 {
					e.must(201, "POST", "/api/v1/inspections", w.Officer[0], inspection(m, []int64{p}, items...), "Idempotency-Key", key)
				}
			}
			expect := func(label string, cycle string, score, star, rated int) {
				t.Helper()
				for _, tok := range []string{w.Officer[0], w.Shop[0]} {
					s := e.scoreOf(tok, m)
					if s["cycle"] != cycle || num(s["score"]) != score || num(s["star"]) != star || num(s["rated_star"]) != rated {
						t.Errorf("%s: score = %v, want cycle %s score %d star %d rated %d", label, s, cycle, score, star, rated)
					}
				}
			}

			step(at(2026, 10, 20, 10, 0, 0), "oct", item("ZXLH-01", 6))
			expect("20 Oct, −6", "2026-10", 94, 4, 4)
			step(at(2026, 11, 1, 8, 0, 0), "")
			expect("1 Nov", "2026-11", 100, 5, 4)
			step(at(2026, 11, 12, 10, 0, 0), "nov12", item("ZXLH-01", 8), item("HJWS-02", 4))
			expect("12 Nov, −12", "2026-11", 88, 3, 3)
			step(at(2026, 11, 20, 10, 0, 0), "nov20", item("BONUS-01", 2))
			expect("20 Nov, +2", "2026-11", 90, 4, 4)
			step(at(2026, 12, 5, 10, 0, 0), "dec5", item("ZXLH-05", 10))
			expect("5 Dec, serious −10", "2026-12", 90, 4, 2)
			step(at(2027, 1, 15, 10, 0, 0), "")
			expect("January", "2027-01", 100, 5, 2)
			step(at(2027, 2, 15, 10, 0, 0), "")
			expect("February", "2027-02", 100, 5, 2)
			step(at(2027, 3, 1, 0, 0, 0), "")
			expect("1 March", "2027-03", 100, 5, 5)

			// The closed months' ledgers still read back as they were.
			led := e.must(200, "GET", "/api/v1/merchants/"+itoa(m)+"/ledger?cycle=2026-11", w.Shop[0], nil)
			if s := led.JSON["score"].(map[string]any); num(s["score"]) != 90 || num(led.JSON["total"]) != 3 {
				t.Errorf("November ledger: %s", led.Body)
			}
			e.checkClean()
		})
	}
}

// TestCheckFindsCorruptScore corrupts a stored score behind the service's back
// and shows the consistency check reports exactly that merchant.
func TestCheckFindsCorruptScore(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			w := e.seeded()
			for i := range 2 {
				e.must(201, "POST", "/api/v1/inspections", w.Officer[i], inspection(w.Merchant[i], []int64{w.Photo[i]}, item("HJWS-01")), "Idempotency-Key", "k")
			}
			e.checkClean()
			if _, err := e.db.SQL().Exec("UPDATE scores SET score = score + 1 WHERE merchant_id = ?", w.Merchant[1]); err != nil {
				t.Fatal(err)
			}
			bad, n, err := e.svc.Check(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if n < 2 || len(bad) != 1 || bad[0].MerchantID != w.Merchant[1] || bad[0].StoredScore != 99 || bad[0].RecomputedScore != 98 {
				t.Errorf("check = %d rows, %+v; want one mismatch of merchant %d, stored 99, ledger 98", n, bad, w.Merchant[1])
			}
			// A tally that disagrees with the ledger is found even when the score agrees.
			if _, err := e.db.SQL().Exec("UPDATE scores SET score = score - 1, deductions = deductions + 1, bonuses = bonuses + 1 WHERE merchant_id = ?", w.Merchant[1]); err != nil {
				t.Fatal(err)
			}
			if bad, _, _ := e.svc.Check(context.Background()); len(bad) != 1 {
				t.Errorf("check after tally corruption = %+v, want one mismatch", bad)
			}
		})
	}
}
