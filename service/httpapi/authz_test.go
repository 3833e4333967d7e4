package httpapi_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/bcrypt"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/service"
	"github.com/menqian/menqian/service/httpapi"
)

// seedPassword is the password of every account seedFast makes.
const seedPassword = "password-seeded"

var seedHash = sync.OnceValues(func() (string, error) { return service.HashPassword(seedPassword, bcrypt.MinCost) })

// seedFast builds the world of env.seed — counties, roads, shops and photos
// through the API, the same names, USCCs and usernames — but stores the six
// accounts with one shared bcrypt hash and issues their tokens directly:
// creating accounts and logging in through HTTP are tested on their own
// (TestRegistry, TestBadInput), and a bcrypt run is not free even at the
// minimum cost under -race.
func seedFast(e *env) world {
	e.t.Helper()
	hash, err := seedHash()
	if err != nil {
		e.t.Fatal(err)
	}
	account := func(name, role string, county, merchant *int64) (int64, string) {
		u := models.User{Username: name, PasswordHash: hash, Role: role, CountyID: county, MerchantID: merchant}
		if err := e.db.CreateUser(context.Background(), &u); err != nil {
			e.t.Fatal(err)
		}
		tok, _, err := e.svc.IssueToken(u)
		if err != nil {
			e.t.Fatal(err)
		}
		return u.ID, tok
	}
	var w world
	for i, c := range seedCounties {
		w.County[i] = e.must(201, "POST", "/api/v1/counties", e.admin, map[string]any{"code": c[0], "name": c[1]}).id()
		w.Road[i] = e.must(201, "POST", "/api/v1/roads", e.admin, map[string]any{"county_id": w.County[i], "name": "柳泉路", "town": "车站街道"}).id()
		w.Merchant[i] = e.must(201, "POST", "/api/v1/merchants", e.admin, map[string]any{"road_id": w.Road[i], "name": "张记烧烤" + c[1],
			"uscc": seedUSCC(i), "phone": "13853312345", "owner_name": "张三", "category": "餐饮"}).id()
		county, shop := w.County[i], w.Merchant[i]
		_, w.Admin[i] = account("admin"+c[0], service.RoleCountyAdmin, &county, nil)
		w.OfficerID[i], w.Officer[i] = account("officer"+c[0], service.RoleOfficer, &county, nil)
		_, w.Shop[i] = account("shop"+c[0], service.RoleMerchant, &county, &shop)
		w.Photo[i] = e.uploadPhoto(w.Officer[i], tinyPNG(i)).id()
	}
	return w
}

// authzRoles are the callers of the authorization matrix: the four roles of
// the first county (the city admin has none), a caller without a token and
// one whose token carries a forged signature.
var authzRoles = []string{"city_admin", "county_admin", "officer", "merchant", "anonymous", "forged"}

// authzScope says whose data a cell touches, seen from the first county.
type authzScope string

const (
	scopeNone    authzScope = "-"       // the endpoint names no county
	scopeOwn     authzScope = "own"     // the caller's county (for a merchant: its own shop)
	scopeOther   authzScope = "other"   // the second county
	scopeSibling authzScope = "sibling" // another shop of the caller's county
)

// authzTarget is what a cell's request names.
type authzTarget struct {
	county, road, merchant, photo int64
	officer                       string // token of an officer of the target's county
	shop                          string // token of the target shop's merchant account
}

// authzFixture is the seeded world plus what the matrix needs around it.
type authzFixture struct {
	admin        string // city admin token
	w            world
	sibling      int64            // a second shop of county 0
	spot         spotCheckFixture // the random audits' (spotcheck_test.go)
	siblingShop  string           // token of the sibling's merchant account
	photo        int64            // county 0 photo documenting the sibling's inspection
	codes        map[int64]string // public codes of the three shops
	markers      []string         // strings only the second county's data contains
	seq          int
	repairShops  map[int64]int64 // an eligible shop of each county nobody applies for (repair_test.go)
	repairListed bool            // the repair lists' applications are made
}

func (f *authzFixture) next() int { f.seq++; return f.seq }

func (f *authzFixture) target(s authzScope) authzTarget {
	switch s {
	case scopeOther:
		return authzTarget{county: f.w.County[1], road: f.w.Road[1], merchant: f.w.Merchant[1], photo: f.w.Photo[1], officer: f.w.Officer[1], shop: f.w.Shop[1]}
	case scopeSibling:
		return authzTarget{county: f.w.County[0], road: f.w.Road[0], merchant: f.sibling, photo: f.photo, officer: f.w.Officer[0], shop: f.siblingShop}
	}
	return authzTarget{county: f.w.County[0], road: f.w.Road[0], merchant: f.w.Merchant[0], photo: f.w.Photo[0], officer: f.w.Officer[0], shop: f.w.Shop[0]}
}

func (f *authzFixture) tokenOf(role string) string {
	switch role {
	case "city_admin":
		return f.admin
	case "county_admin":
		return f.w.Admin[0]
	case "officer":
		return f.w.Officer[0]
	case "merchant":
		return f.w.Shop[0]
	case "forged": // a real header and claims, a signature nobody made
		parts := strings.Split(f.w.Admin[0], ".")
		return parts[0] + "." + parts[1] + ".c2lnbmF0dXJlLW9mLW5vYm9keS1hdC1hbGwtMTIzNDU"
	}
	return ""
}

// freshEntry records a bonus on the target shop (by an officer of its
// county) and returns its ledger entry, so each reversal cell has its own.
func (f *authzFixture) freshEntry(e *env, tg authzTarget) int64 {
	e.t.Helper()
	return f.recordEntry(e, tg, map[string]any{"merchant_id": tg.merchant, "items": []map[string]any{{"rule_code": "BONUS-01"}}})
}

// freshDeduction records a deduction on the target shop, with the target's
// photo as evidence, and returns its ledger entry, so each appeal cell has
// its own.
func (f *authzFixture) freshDeduction(e *env, tg authzTarget) int64 {
	e.t.Helper()
	return f.recordEntry(e, tg, map[string]any{"merchant_id": tg.merchant, "items": []map[string]any{{"rule_code": "HJWS-01"}},
		"photos": []int64{tg.photo}})
}

// recordEntry records a one-item inspection by an officer of the target's
// county and returns its ledger entry.
func (f *authzFixture) recordEntry(e *env, tg authzTarget, inspection map[string]any) int64 {
	e.t.Helper()
	r := e.must(201, "POST", "/api/v1/inspections", tg.officer, inspection, "Idempotency-Key", fmt.Sprintf("authz-entry-%d", f.next()))
	var entry int64
	if err := e.db.SQL().QueryRow("SELECT id FROM ledger_entries WHERE inspection_id = ?", r.id()).Scan(&entry); err != nil {
		e.t.Fatal(err)
	}
	return entry
}

// freshAppeal has the target shop's merchant account appeal a fresh
// deduction and returns the pending appeal, so each decision cell has its own.
func (f *authzFixture) freshAppeal(e *env, tg authzTarget) int64 {
	e.t.Helper()
	path := "/api/v1/merchants/" + itoa(tg.merchant) + "/ledger/" + itoa(f.freshDeduction(e, tg)) + "/appeal"
	return e.must(201, "POST", path, tg.shop, map[string]any{"reason": "门前垃圾系路人丢弃"}).id()
}

// freshUser stores an account of role in county (the shared seed password)
// and returns its id, so each account-changing cell has its own.
func (f *authzFixture) freshUser(e *env, role string, county int64) int64 {
	e.t.Helper()
	hash, err := seedHash()
	if err != nil {
		e.t.Fatal(err)
	}
	u := models.User{Username: fmt.Sprintf("authz_fresh%d", f.next()), PasswordHash: hash, Role: role, CountyID: &county}
	if err := e.db.CreateUser(context.Background(), &u); err != nil {
		e.t.Fatal(err)
	}
	return u.ID
}

// authzRow is one endpoint of the matrix.
type authzRow struct {
	method, route string // route is the template registered with gin
	name          string // tells rows of one route apart
	scopes        []authzScope
	// want is each role's status per scope; anonymous and forged are always 401.
	want    map[string][]int
	path    func(f *authzFixture, e *env, tg authzTarget) string
	body    func(f *authzFixture, tg authzTarget) any
	headers func(f *authzFixture) []string
	upload  bool                                                    // a multipart photo instead of JSON
	file    func(f *authzFixture, tg authzTarget) (string, []byte)  // a multipart "file" (name, data) instead of JSON
	check   func(t *testing.T, tg authzTarget, r resp, role string) // what a success must carry
	// unchanged proves that a refused cell changed nothing it names, given
	// the cell's path (which names its fresh resource).
	unchanged func(t *testing.T, e *env, path string)
}

var (
	scopes3    = []authzScope{scopeOwn, scopeOther, scopeSibling}
	scopes2    = []authzScope{scopeOwn, scopeOther}
	scopesNone = []authzScope{scopeNone}
)

func idPath(prefix string, pick func(authzTarget) int64, suffix string) func(*authzFixture, *env, authzTarget) string {
	return func(_ *authzFixture, _ *env, tg authzTarget) string { return prefix + itoa(pick(tg)) + suffix }
}

func fixedPath(p string) func(*authzFixture, *env, authzTarget) string {
	return func(*authzFixture, *env, authzTarget) string { return p }
}

// pathID is the id that follows prefix in a cell's path.
func pathID(path, prefix string) int64 {
	_, rest, _ := strings.Cut(path, prefix)
	var id int64
	for _, c := range rest {
		if c < '0' || c > '9' {
			break
		}
		id = id*10 + int64(c-'0')
	}
	return id
}

// storesNothing is an unchanged check: no row of table matches where, whose
// one placeholder is the id that follows prefix in the cell's path.
func storesNothing(table, where, prefix string) func(*testing.T, *env, string) {
	return func(t *testing.T, e *env, path string) {
		t.Helper()
		id := pathID(path, prefix)
		if id == 0 {
			t.Fatalf("no id after %q in %s", prefix, path)
		}
		if n := e.count(table, where, id); n != 0 {
			t.Errorf("refused, yet %d row(s) of %s where %s (id %d)", n, table, where, id)
		}
	}
}

func merchantOf(tg authzTarget) int64 { return tg.merchant }
func countyOf(tg authzTarget) int64   { return tg.county }
func roadOf(tg authzTarget) int64     { return tg.road }
func photoOf(tg authzTarget) int64    { return tg.photo }

// listsMerchant reports whether a leaderboard page lists the shop.
func listsMerchant(t testing.TB, r resp, id int64) bool {
	t.Helper()
	for _, it := range itemsOf(t, r) {
		if int64(jnum(it["merchant_id"])) == id {
			return true
		}
	}
	return false
}

// jnum reads a JSON number.
func jnum(v any) float64 { f, _ := v.(float64); return f }

// itemsOf returns the items of a list response.
func itemsOf(t testing.TB, r resp) []map[string]any {
	t.Helper()
	raw, ok := r.JSON["items"].([]any)
	if !ok {
		t.Fatalf("no items array: %s", r.Body)
	}
	out := make([]map[string]any, len(raw))
	for i, x := range raw {
		out[i], _ = x.(map[string]any)
	}
	return out
}

// wantID checks that a single resource is the one asked for.
func wantID(pick func(authzTarget) int64) func(*testing.T, authzTarget, resp, string) {
	return func(t *testing.T, tg authzTarget, r resp, _ string) {
		t.Helper()
		if r.id() != pick(tg) {
			t.Errorf("id = %d, want %d: %s", r.id(), pick(tg), r.Body)
		}
	}
}

// wantField checks one numeric field of the response.
func wantField(field string, pick func(authzTarget) int64) func(*testing.T, authzTarget, resp, string) {
	return func(t *testing.T, tg authzTarget, r resp, _ string) {
		t.Helper()
		if got := int64(jnum(r.JSON[field])); got != pick(tg) {
			t.Errorf("%s = %d, want %d: %s", field, got, pick(tg), r.Body)
		}
	}
}

// wantItems checks a list: at least least items, each with field equal to
// the target's value.
func wantItems(field string, pick func(authzTarget) int64, least int) func(*testing.T, authzTarget, resp, string) {
	return func(t *testing.T, tg authzTarget, r resp, _ string) {
		t.Helper()
		items := itemsOf(t, r)
		if len(items) < least {
			t.Errorf("%d items, want at least %d: %s", len(items), least, r.Body)
		}
		for _, it := range items {
			if got := int64(jnum(it[field])); got != pick(tg) {
				t.Errorf("an item has %s %d, want only %d", field, got, pick(tg))
			}
		}
	}
}

// wantScoped checks an unfiltered list: the city admin sees both seeded
// counties, everybody else only the first.
func wantScoped(field string, w *world) func(*testing.T, authzTarget, resp, string) {
	return func(t *testing.T, _ authzTarget, r resp, role string) {
		t.Helper()
		seen := map[int64]bool{}
		for _, it := range itemsOf(t, r) {
			seen[int64(jnum(it[field]))] = true
		}
		switch {
		case !seen[w.County[0]]:
			t.Errorf("the first county is missing: %s", r.Body)
		case role == "city_admin" && !seen[w.County[1]]:
			t.Errorf("the city admin does not see the second county: %s", r.Body)
		case role != "city_admin" && len(seen) != 1:
			t.Errorf("%s sees counties %v, want only %d", role, seen, w.County[0])
		}
	}
}

// wantEvidence checks that a shop's history shows its seeded deduction with
// the target's photo as evidence.
func wantEvidence(t *testing.T, tg authzTarget, r resp, _ string) {
	t.Helper()
	for _, it := range itemsOf(t, r) {
		photos, _ := it["photos"].([]any)
		if len(photos) == 1 && int64(jnum(photos[0])) == tg.photo {
			return
		}
	}
	t.Errorf("no record with photo %d as evidence: %s", tg.photo, r.Body)
}

var pngMagic = []byte("\x89PNG\r\n\x1a\n")

// noticeList gives the target shop a notice, then names the worklist of
// every notice, filtered by the target's county or road (by = "county_id" or
// "road_id") or not at all.
func noticeList(by string) func(*authzFixture, *env, authzTarget) string {
	return func(_ *authzFixture, e *env, tg authzTarget) string {
		e.must(201, "POST", "/api/v1/merchants/"+itoa(tg.merchant)+"/notices", tg.officer, map[string]any{"note": "门前积水"})
		path := "/api/v1/notices?status=all&limit=100"
		switch by {
		case "county_id":
			path += "&county_id=" + itoa(tg.county)
		case "road_id":
			path += "&road_id=" + itoa(tg.road)
		}
		return path
	}
}

// wantNoticesOf checks a worklist: the merchant's own notices only; the
// target's shops when filtered; the caller's county's, or every county's for
// the city admin, when not.
func wantNoticesOf(f *authzFixture, by string) func(*testing.T, authzTarget, resp, string) {
	return func(t *testing.T, tg authzTarget, r resp, role string) {
		t.Helper()
		w := f.w
		seen := true // whether the target shop's notice must be listed
		switch {
		case role == "merchant":
			wantShops(t, r, w.Merchant[0])
			seen = tg.merchant == w.Merchant[0]
		case by == "" && role == "city_admin":
			wantShops(t, r, w.Merchant[0], f.sibling, w.Merchant[1])
		case by == "":
			wantShops(t, r, w.Merchant[0], f.sibling)
			seen = tg.county == w.County[0]
		case tg.county == w.County[1]:
			wantShops(t, r, w.Merchant[1])
		default:
			wantShops(t, r, w.Merchant[0], f.sibling)
		}
		if seen && !listsMerchant(t, r, tg.merchant) {
			t.Errorf("the worklist misses the target shop %d: %s", tg.merchant, r.Body)
		}
	}
}

// wantShops checks a list of appeals or notices: some items, each of one of shops.
func wantShops(t *testing.T, r resp, shops ...int64) {
	t.Helper()
	items := itemsOf(t, r)
	if len(items) == 0 {
		t.Errorf("empty list: %s", r.Body)
	}
	for _, it := range items {
		if id := int64(jnum(it["merchant_id"])); !slices.Contains(shops, id) {
			t.Errorf("item %v is of shop %d, want only shops %v", it["id"], id, shops)
		}
	}
}

// wantAccount checks a changed account: of role, in the target's county, disabled.
func wantAccount(role string) func(*testing.T, authzTarget, resp, string) {
	return func(t *testing.T, tg authzTarget, r resp, caller string) {
		t.Helper()
		wantField("county_id", countyOf)(t, tg, r, caller)
		if r.JSON["role"] != role || r.JSON["disabled"] != true {
			t.Errorf("account = %s, want a disabled %s", r.Body, role)
		}
	}
}

// wantDecision checks a decided appeal: of the target shop, with status.
func wantDecision(status string) func(*testing.T, authzTarget, resp, string) {
	return func(t *testing.T, tg authzTarget, r resp, role string) {
		t.Helper()
		wantField("merchant_id", merchantOf)(t, tg, r, role)
		if r.JSON["status"] != status {
			t.Errorf("decided appeal = %s, want %s", r.Body, status)
		}
	}
}

// wantPlaque checks a plaque print sheet: HTML showing the target shop's code.
func (f *authzFixture) wantPlaque(t *testing.T, tg authzTarget, r resp, _ string) {
	t.Helper()
	code := f.codes[tg.merchant]
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") || code == "" ||
		!bytes.Contains(r.Body, []byte(`<span class="code">`+code+`</span>`)) {
		t.Errorf("no plaque of shop %d (%s) on the sheet: %s %.300s", tg.merchant, code, r.Header.Get("Content-Type"), r.Body)
	}
}

func authzRows(f *authzFixture) []authzRow {
	w := &f.w
	all4 := func(s int) map[string][]int {
		return map[string][]int{"city_admin": {s}, "county_admin": {s}, "officer": {s}, "merchant": {s}}
	}
	return append([]authzRow{
		{method: "GET", route: "/api/v1/me", scopes: scopesNone, path: fixedPath("/api/v1/me"), want: all4(200),
			check: func(t *testing.T, _ authzTarget, r resp, role string) {
				if r.JSON["role"] != role {
					t.Errorf("me.role = %v, want %s", r.JSON["role"], role)
				}
				if role == "merchant" && int64(jnum(r.JSON["merchant_id"])) != w.Merchant[0] {
					t.Errorf("me.merchant_id = %v, want %d", r.JSON["merchant_id"], w.Merchant[0])
				}
			}},
		{method: "GET", route: "/api/v1/rules", scopes: scopesNone, path: fixedPath("/api/v1/rules"), want: all4(200),
			check: func(t *testing.T, _ authzTarget, r resp, _ string) {
				if items := itemsOf(t, r); len(items) != 21 || items[0]["code"] != "HJWS-01" {
					t.Errorf("rules: %d items; want the 21 default items from HJWS-01", len(items))
				}
			}},
		{method: "POST", route: "/api/v1/users", name: "officer", scopes: scopes2, path: fixedPath("/api/v1/users"),
			body: func(f *authzFixture, tg authzTarget) any {
				return map[string]any{"username": fmt.Sprintf("authz_user%d", f.next()), "password": "password-authz",
					"role": "officer", "county_id": tg.county}
			},
			want:  map[string][]int{"city_admin": {201, 201}, "county_admin": {201, 403}, "officer": {403, 403}, "merchant": {403, 403}},
			check: wantField("county_id", countyOf)},
		{method: "POST", route: "/api/v1/users", name: "county_admin", scopes: []authzScope{scopeOwn}, path: fixedPath("/api/v1/users"),
			body: func(f *authzFixture, tg authzTarget) any {
				return map[string]any{"username": fmt.Sprintf("authz_user%d", f.next()), "password": "password-authz",
					"role": "county_admin", "county_id": tg.county}
			},
			want:  map[string][]int{"city_admin": {201}, "county_admin": {403}, "officer": {403}, "merchant": {403}},
			check: wantField("county_id", countyOf)},
		{method: "POST", route: "/api/v1/counties", scopes: scopesNone, path: fixedPath("/api/v1/counties"),
			body: func(f *authzFixture, _ authzTarget) any {
				return map[string]any{"code": fmt.Sprintf("3704%02d", f.next()%100), "name": "测试区"}
			},
			want: map[string][]int{"city_admin": {201}, "county_admin": {403}, "officer": {403}, "merchant": {403}},
			check: func(t *testing.T, _ authzTarget, r resp, _ string) {
				if r.id() <= 0 || r.JSON["name"] != "测试区" {
					t.Errorf("county = %s", r.Body)
				}
			}},
		{method: "GET", route: "/api/v1/counties", scopes: scopesNone, path: fixedPath("/api/v1/counties"), want: all4(200),
			check: wantScoped("id", w)},
		{method: "GET", route: "/api/v1/counties/:id", scopes: scopes2, path: idPath("/api/v1/counties/", countyOf, ""),
			want:  map[string][]int{"city_admin": {200, 200}, "county_admin": {200, 404}, "officer": {200, 404}, "merchant": {200, 404}},
			check: wantID(countyOf)},
		{method: "PATCH", route: "/api/v1/counties/:id", scopes: scopes2, path: idPath("/api/v1/counties/", countyOf, ""),
			body:  func(*authzFixture, authzTarget) any { return map[string]any{"demo_road_target": 10} },
			want:  map[string][]int{"city_admin": {200, 200}, "county_admin": {403, 403}, "officer": {403, 403}, "merchant": {403, 403}},
			check: wantID(countyOf)},
		{method: "POST", route: "/api/v1/roads", scopes: scopes2, path: fixedPath("/api/v1/roads"),
			body: func(f *authzFixture, tg authzTarget) any {
				return map[string]any{"county_id": tg.county, "name": fmt.Sprintf("测试路%d", f.next())}
			},
			want:  map[string][]int{"city_admin": {201, 201}, "county_admin": {201, 403}, "officer": {403, 403}, "merchant": {403, 403}},
			check: wantField("county_id", countyOf)},
		{method: "GET", route: "/api/v1/roads", name: "unfiltered", scopes: scopesNone, path: fixedPath("/api/v1/roads"),
			want:  map[string][]int{"city_admin": {200}, "county_admin": {200}, "officer": {200}, "merchant": {403}},
			check: wantScoped("county_id", w)},
		{method: "GET", route: "/api/v1/roads", name: "county_id", scopes: scopes2, path: idPath("/api/v1/roads?county_id=", countyOf, ""),
			want:  map[string][]int{"city_admin": {200, 200}, "county_admin": {200, 403}, "officer": {200, 403}, "merchant": {403, 403}},
			check: wantItems("county_id", countyOf, 1)},
		{method: "GET", route: "/api/v1/roads/:id", scopes: scopes2, path: idPath("/api/v1/roads/", roadOf, ""),
			want:  map[string][]int{"city_admin": {200, 200}, "county_admin": {200, 404}, "officer": {200, 404}, "merchant": {403, 403}},
			check: wantID(roadOf)},
		{method: "PATCH", route: "/api/v1/roads/:id", scopes: scopes2, path: idPath("/api/v1/roads/", roadOf, ""),
			body:  func(*authzFixture, authzTarget) any { return map[string]any{"town": "车站街道"} },
			want:  map[string][]int{"city_admin": {200, 200}, "county_admin": {200, 404}, "officer": {403, 403}, "merchant": {403, 403}},
			check: wantID(roadOf)},
		// Another county's road in the body is answered exactly like a road
		// that does not exist (400 on road_id, see "no existence oracle").
		{method: "POST", route: "/api/v1/merchants", scopes: scopes2, path: fixedPath("/api/v1/merchants"),
			body: func(f *authzFixture, tg authzTarget) any {
				return map[string]any{"road_id": tg.road, "name": fmt.Sprintf("测试商户%d", f.next())}
			},
			want:  map[string][]int{"city_admin": {201, 201}, "county_admin": {201, 400}, "officer": {403, 403}, "merchant": {403, 403}},
			check: wantField("county_id", countyOf)},
		{method: "GET", route: "/api/v1/merchants", name: "unfiltered", scopes: scopesNone, path: fixedPath("/api/v1/merchants"),
			want:  map[string][]int{"city_admin": {200}, "county_admin": {200}, "officer": {200}, "merchant": {403}},
			check: wantScoped("county_id", w)},
		{method: "GET", route: "/api/v1/merchants", name: "county_id", scopes: scopes2, path: idPath("/api/v1/merchants?county_id=", countyOf, ""),
			want:  map[string][]int{"city_admin": {200, 200}, "county_admin": {200, 403}, "officer": {200, 403}, "merchant": {403, 403}},
			check: wantItems("county_id", countyOf, 1)},
		{method: "GET", route: "/api/v1/merchants", name: "road_id", scopes: scopes2, path: idPath("/api/v1/merchants?road_id=", roadOf, ""),
			want: map[string][]int{"city_admin": {200, 200}, "county_admin": {200, 200}, "officer": {200, 200}, "merchant": {403, 403}},
			check: func(t *testing.T, tg authzTarget, r resp, role string) {
				least := 1
				if role != "city_admin" && tg.county != w.County[0] {
					least = 0 // another county's road within the caller's own shops: none
					if n := len(itemsOf(t, r)); n != 0 || jnum(r.JSON["total"]) != 0 {
						t.Errorf("%s sees %d shops of another county's road: %s", role, n, r.Body)
					}
				}
				wantItems("road_id", roadOf, least)(t, tg, r, role)
			}},
		{method: "GET", route: "/api/v1/merchants/:id", scopes: scopes3, path: idPath("/api/v1/merchants/", merchantOf, ""),
			want:  map[string][]int{"city_admin": {200, 200, 200}, "county_admin": {200, 404, 200}, "officer": {200, 404, 200}, "merchant": {200, 404, 404}},
			check: wantID(merchantOf)},
		{method: "PATCH", route: "/api/v1/merchants/:id", scopes: scopes3, path: idPath("/api/v1/merchants/", merchantOf, ""),
			body:  func(*authzFixture, authzTarget) any { return map[string]any{"category": "餐饮"} },
			want:  map[string][]int{"city_admin": {200, 200, 200}, "county_admin": {200, 404, 200}, "officer": {403, 403, 403}, "merchant": {403, 403, 403}},
			check: wantID(merchantOf)},
		{method: "GET", route: "/api/v1/merchants/:id/inspections", scopes: scopes3, path: idPath("/api/v1/merchants/", merchantOf, "/inspections"),
			want: map[string][]int{"city_admin": {200, 200, 200}, "county_admin": {200, 404, 200}, "officer": {200, 404, 200}, "merchant": {200, 404, 404}},
			check: func(t *testing.T, tg authzTarget, r resp, role string) {
				wantItems("merchant_id", merchantOf, 1)(t, tg, r, role)
				wantEvidence(t, tg, r, role)
			}},
		{method: "GET", route: "/api/v1/merchants/:id/ledger", scopes: scopes3, path: idPath("/api/v1/merchants/", merchantOf, "/ledger"),
			want:  map[string][]int{"city_admin": {200, 200, 200}, "county_admin": {200, 404, 200}, "officer": {200, 404, 200}, "merchant": {200, 404, 404}},
			check: wantEvidence},
		{method: "GET", route: "/api/v1/merchants/:id/qrcode.png", scopes: scopes3, path: idPath("/api/v1/merchants/", merchantOf, "/qrcode.png"),
			want: map[string][]int{"city_admin": {200, 200, 200}, "county_admin": {200, 404, 200}, "officer": {200, 404, 200}, "merchant": {403, 403, 403}},
			check: func(t *testing.T, _ authzTarget, r resp, _ string) {
				if r.Header.Get("Content-Type") != "image/png" || !bytes.HasPrefix(r.Body, pngMagic) {
					t.Errorf("not a PNG: %s %q", r.Header.Get("Content-Type"), r.Body[:min(len(r.Body), 16)])
				}
			}},
		{method: "POST", route: "/api/v1/merchants/:id/qrcode/reissue", scopes: scopes3, path: idPath("/api/v1/merchants/", merchantOf, "/qrcode/reissue"),
			want:  map[string][]int{"city_admin": {200, 200, 200}, "county_admin": {200, 404, 200}, "officer": {403, 403, 403}, "merchant": {403, 403, 403}},
			check: wantField("merchant_id", merchantOf)},
		{method: "POST", route: "/api/v1/merchants/:id/ledger/:entry/reversal", scopes: scopes3,
			path: func(f *authzFixture, e *env, tg authzTarget) string {
				return "/api/v1/merchants/" + itoa(tg.merchant) + "/ledger/" + itoa(f.freshEntry(e, tg)) + "/reversal"
			},
			body: func(*authzFixture, authzTarget) any { return map[string]any{"reason": "复核有误"} },
			want: map[string][]int{"city_admin": {201, 201, 201}, "county_admin": {201, 404, 201}, "officer": {403, 403, 403}, "merchant": {403, 403, 403}},
			check: func(t *testing.T, _ authzTarget, r resp, _ string) {
				entry, _ := r.JSON["entry"].(map[string]any)
				if entry["kind"] != "reversal" || jnum(entry["points"]) != -2 {
					t.Errorf("reversal entry = %v", entry)
				}
			}},
		// The design names officers; county admins may upload too (their
		// county), and merchants the photos of their appeals and fix reports
		// (their shop's county; who sees them: the "merchant's upload" row).
		{method: "POST", route: "/api/v1/photos", scopes: scopesNone, upload: true, path: fixedPath("/api/v1/photos"),
			want: map[string][]int{"city_admin": {403}, "county_admin": {201}, "officer": {201}, "merchant": {201}},
			check: func(t *testing.T, _ authzTarget, r resp, _ string) {
				if r.id() <= 0 || r.JSON["content_type"] != "image/png" {
					t.Errorf("photo = %s", r.Body)
				}
			}},
		{method: "GET", route: "/api/v1/photos/:id", scopes: scopes3, path: idPath("/api/v1/photos/", photoOf, ""),
			want: map[string][]int{"city_admin": {200, 200, 200}, "county_admin": {200, 404, 200}, "officer": {200, 404, 200}, "merchant": {200, 404, 404}},
			check: func(t *testing.T, _ authzTarget, r resp, _ string) {
				if !bytes.HasPrefix(r.Body, pngMagic) {
					t.Errorf("photo body is not the PNG: %q", r.Body[:min(len(r.Body), 16)])
				}
			}},
		// A merchant's own upload, of the target shop's merchant account: seen
		// by itself, its county and the city admin, not by another merchant of
		// the county nor by another county.
		{method: "GET", route: "/api/v1/photos/:id", name: "merchant's upload", scopes: scopes3,
			path: func(f *authzFixture, e *env, tg authzTarget) string {
				r := e.uploadPhoto(tg.shop, tinyPNG(1000+f.next()))
				if r.Status != 201 {
					e.t.Fatalf("the target shop's merchant uploads: %d %s", r.Status, r.Body)
				}
				return "/api/v1/photos/" + itoa(r.id())
			},
			want: map[string][]int{"city_admin": {200, 200, 200}, "county_admin": {200, 404, 200}, "officer": {200, 404, 200}, "merchant": {200, 404, 404}},
			check: func(t *testing.T, _ authzTarget, r resp, _ string) {
				if !bytes.HasPrefix(r.Body, pngMagic) {
					t.Errorf("photo body is not the PNG: %q", r.Body[:min(len(r.Body), 16)])
				}
			}},
		// The design names officers; the service also lets admins record
		// (a county admin in its county, the city admin anywhere).
		{method: "POST", route: "/api/v1/inspections", scopes: scopes3, path: fixedPath("/api/v1/inspections"),
			body: func(_ *authzFixture, tg authzTarget) any {
				return map[string]any{"merchant_id": tg.merchant, "items": []map[string]any{{"rule_code": "BONUS-02"}}}
			},
			headers: func(f *authzFixture) []string { return []string{"Idempotency-Key", fmt.Sprintf("authz-%d", f.next())} },
			want:    map[string][]int{"city_admin": {201, 201, 201}, "county_admin": {201, 404, 201}, "officer": {201, 404, 201}, "merchant": {403, 403, 403}},
			check:   wantField("merchant_id", merchantOf)},
		// Rankings: a county's users (merchants too) see their county's and
		// roads' boards; another county's is refused, its road unknown.
		{method: "GET", route: "/api/v1/leaderboards/merchants", name: "county", scopes: scopes2,
			path: idPath("/api/v1/leaderboards/merchants?scope=county&id=", countyOf, ""),
			want: map[string][]int{"city_admin": {200, 200}, "county_admin": {200, 403}, "officer": {200, 403}, "merchant": {200, 403}},
			check: func(t *testing.T, tg authzTarget, r resp, _ string) {
				if !listsMerchant(t, r, tg.merchant) {
					t.Errorf("county board without shop %d: %s", tg.merchant, r.Body)
				}
			}},
		{method: "GET", route: "/api/v1/leaderboards/merchants", name: "road", scopes: scopes2,
			path: idPath("/api/v1/leaderboards/merchants?scope=road&id=", roadOf, ""),
			want: map[string][]int{"city_admin": {200, 200}, "county_admin": {200, 404}, "officer": {200, 404}, "merchant": {200, 404}},
			check: func(t *testing.T, tg authzTarget, r resp, _ string) {
				if !listsMerchant(t, r, tg.merchant) {
					t.Errorf("road board without shop %d: %s", tg.merchant, r.Body)
				}
			}},
		{method: "GET", route: "/api/v1/leaderboards/merchants", name: "city", scopes: scopesNone,
			path: fixedPath("/api/v1/leaderboards/merchants?scope=city"),
			want: map[string][]int{"city_admin": {200}, "county_admin": {403}, "officer": {403}, "merchant": {403}},
			check: func(t *testing.T, _ authzTarget, r resp, _ string) {
				if !listsMerchant(t, r, w.Merchant[0]) || !listsMerchant(t, r, w.Merchant[1]) {
					t.Errorf("city board without both counties' shops: %s", r.Body)
				}
			}},
		{method: "GET", route: "/api/v1/merchants/:id/rank", scopes: scopes3, path: idPath("/api/v1/merchants/", merchantOf, "/rank"),
			want: map[string][]int{"city_admin": {200, 200, 200}, "county_admin": {200, 404, 200}, "officer": {200, 404, 200}, "merchant": {200, 404, 404}},
			check: func(t *testing.T, _ authzTarget, r resp, _ string) {
				if road, _ := r.JSON["road"].(map[string]any); jnum(road["rank"]) < 1 {
					t.Errorf("rank = %s", r.Body)
				}
			}},
		{method: "GET", route: "/api/v1/leaderboards/roads", scopes: scopes2, path: idPath("/api/v1/leaderboards/roads?county_id=", countyOf, ""),
			want: map[string][]int{"city_admin": {200, 200}, "county_admin": {200, 403}, "officer": {200, 403}, "merchant": {403, 403}},
			check: func(t *testing.T, tg authzTarget, r resp, _ string) {
				found := false
				for _, it := range itemsOf(t, r) {
					found = found || int64(jnum(it["road_id"])) == tg.road
				}
				if !found {
					t.Errorf("road board without road %d: %s", tg.road, r.Body)
				}
			}},
		{method: "GET", route: "/api/v1/leaderboards/counties", scopes: scopesNone, path: fixedPath("/api/v1/leaderboards/counties"),
			want:  map[string][]int{"city_admin": {200}, "county_admin": {403}, "officer": {403}, "merchant": {403}},
			check: wantScoped("county_id", w)},
		{method: "GET", route: "/api/v1/counties/:id/demonstration", scopes: scopes2, path: idPath("/api/v1/counties/", countyOf, "/demonstration"),
			want: map[string][]int{"city_admin": {200, 200}, "county_admin": {200, 404}, "officer": {200, 404}, "merchant": {403, 403}},
			check: func(t *testing.T, _ authzTarget, r resp, _ string) {
				if _, ok := r.JSON["roads"].([]any); !ok {
					t.Errorf("demonstration view = %s", r.Body)
				}
			}},
		{method: "GET", route: "/api/v1/counties/:id/bulletins/:cycle", scopes: scopes2, path: idPath("/api/v1/counties/", countyOf, "/bulletins/2026-11"),
			want:  map[string][]int{"city_admin": {200, 200}, "county_admin": {200, 404}, "officer": {200, 404}, "merchant": {403, 403}},
			check: wantField("county_id", countyOf)},
		// Rectification notices: issued and confirmed by the county's officers
		// and admins, read by them and the merchant itself.
		{method: "POST", route: "/api/v1/merchants/:id/notices", scopes: scopes3, path: idPath("/api/v1/merchants/", merchantOf, "/notices"),
			body:  func(*authzFixture, authzTarget) any { return map[string]any{"note": "门前纸箱三日内清理"} },
			want:  map[string][]int{"city_admin": {201, 201, 201}, "county_admin": {201, 404, 201}, "officer": {201, 404, 201}, "merchant": {403, 403, 403}},
			check: wantField("merchant_id", merchantOf)},
		{method: "GET", route: "/api/v1/merchants/:id/notices", scopes: scopes3, path: idPath("/api/v1/merchants/", merchantOf, "/notices"),
			want:  map[string][]int{"city_admin": {200, 200, 200}, "county_admin": {200, 404, 200}, "officer": {200, 404, 200}, "merchant": {200, 404, 404}},
			check: wantItems("merchant_id", merchantOf, 1)},
		{method: "POST", route: "/api/v1/notices/:id/rectified", scopes: scopes3,
			path: func(f *authzFixture, e *env, tg authzTarget) string {
				n := e.must(201, "POST", "/api/v1/merchants/"+itoa(tg.merchant)+"/notices", tg.officer, map[string]any{"note": "店招破损"})
				return "/api/v1/notices/" + itoa(n.id()) + "/rectified"
			},
			body:  func(*authzFixture, authzTarget) any { return map[string]any{"note": "复查已整改"} },
			want:  map[string][]int{"city_admin": {200, 200, 200}, "county_admin": {200, 404, 200}, "officer": {200, 404, 200}, "merchant": {403, 403, 403}},
			check: wantField("merchant_id", merchantOf)},
		// The re-inspection worklist: a county's notices for its users (every
		// county's for the city admin), a merchant's own whatever it names;
		// another county by id is refused, another county's road not found.
		// Each cell first has the target shop given a notice.
		{method: "GET", route: "/api/v1/notices", name: "unfiltered", scopes: scopes2,
			path:  noticeList(""),
			want:  map[string][]int{"city_admin": {200, 200}, "county_admin": {200, 200}, "officer": {200, 200}, "merchant": {200, 200}},
			check: wantNoticesOf(f, "")},
		{method: "GET", route: "/api/v1/notices", name: "county_id", scopes: scopes2,
			path:  noticeList("county_id"),
			want:  map[string][]int{"city_admin": {200, 200}, "county_admin": {200, 403}, "officer": {200, 403}, "merchant": {200, 200}},
			check: wantNoticesOf(f, "county_id")},
		{method: "GET", route: "/api/v1/notices", name: "road_id", scopes: scopes2,
			path:  noticeList("road_id"),
			want:  map[string][]int{"city_admin": {200, 200}, "county_admin": {200, 404}, "officer": {200, 404}, "merchant": {200, 404}},
			check: wantNoticesOf(f, "road_id")},
		// Accounts: the city admin manages everyone; a county admin lists its
		// county's accounts and manages its officers and merchant accounts
		// (another county's, or a county admin, is not found).
		// Credit certificates (信用证明): only the merchant itself issues one,
		// of its own shop; its county's users and the city admin list them.
		// A refused issue stores no certificate of the shop by anyone but
		// the shop's own account.
		{method: "POST", route: "/api/v1/merchants/:id/certificates", scopes: scopes3, path: idPath("/api/v1/merchants/", merchantOf, "/certificates"),
			want: map[string][]int{"city_admin": {403, 403, 403}, "county_admin": {403, 403, 403}, "officer": {403, 403, 403}, "merchant": {201, 404, 404}},
			check: func(t *testing.T, tg authzTarget, r resp, role string) {
				wantField("merchant_id", merchantOf)(t, tg, r, role)
				if r.JSON["revoked"] != false || !strings.Contains(fmt.Sprint(r.JSON["url"]), "/v/") {
					t.Errorf("new certificate = %s", r.Body)
				}
			},
			unchanged: storesNothing("credit_certificates",
				"merchant_id = ? AND issued_by NOT IN (SELECT id FROM users WHERE users.merchant_id = credit_certificates.merchant_id)", "/merchants/")},
		{method: "GET", route: "/api/v1/merchants/:id/certificates", scopes: scopes3, path: idPath("/api/v1/merchants/", merchantOf, "/certificates"),
			want:  map[string][]int{"city_admin": {200, 200, 200}, "county_admin": {200, 404, 200}, "officer": {200, 404, 200}, "merchant": {200, 404, 404}},
			check: wantItems("merchant_id", merchantOf, 0)},
		// Open311 api keys: the city admin's alone.
		{method: "POST", route: "/api/v1/open311/keys", name: "issue", scopes: scopesNone, path: fixedPath("/api/v1/open311/keys"),
			body: func(f *authzFixture, tg authzTarget) any {
				return map[string]any{"name": fmt.Sprintf("authz-key-%d", f.next())}
			},
			want: map[string][]int{"city_admin": {201}, "county_admin": {403}, "officer": {403}, "merchant": {403}}},
		{method: "GET", route: "/api/v1/open311/keys", name: "list", scopes: scopesNone, path: fixedPath("/api/v1/open311/keys"),
			want: map[string][]int{"city_admin": {200}, "county_admin": {403}, "officer": {403}, "merchant": {403}}},
		{method: "POST", route: "/api/v1/open311/keys/:id/revoke", name: "revoke", scopes: scopesNone,
			path: func(f *authzFixture, e *env, tg authzTarget) string {
				city, err := e.svc.Authenticate(e.admin)
				if err != nil {
					e.t.Fatal(err)
				}
				_, k, err := e.svc.IssueOpen311Key(context.Background(), city, fmt.Sprintf("authz-key-%d", f.next()))
				if err != nil {
					e.t.Fatal(err)
				}
				return "/api/v1/open311/keys/" + itoa(k.ID) + "/revoke"
			},
			want: map[string][]int{"city_admin": {204}, "county_admin": {403}, "officer": {403}, "merchant": {403}}},
		{method: "GET", route: "/api/v1/users", name: "unfiltered", scopes: scopesNone, path: fixedPath("/api/v1/users"),
			want:  map[string][]int{"city_admin": {200}, "county_admin": {200}, "officer": {403}, "merchant": {403}},
			check: wantScoped("county_id", w)},
		{method: "GET", route: "/api/v1/users", name: "county_id", scopes: scopes2, path: idPath("/api/v1/users?county_id=", countyOf, ""),
			want:  map[string][]int{"city_admin": {200, 200}, "county_admin": {200, 403}, "officer": {403, 403}, "merchant": {403, 403}},
			check: wantItems("county_id", countyOf, 1)},
		{method: "PATCH", route: "/api/v1/users/:id", name: "officer", scopes: scopes2,
			path: func(f *authzFixture, e *env, tg authzTarget) string {
				return "/api/v1/users/" + itoa(f.freshUser(e, service.RoleOfficer, tg.county))
			},
			body:      func(*authzFixture, authzTarget) any { return map[string]any{"disabled": true} },
			want:      map[string][]int{"city_admin": {200, 200}, "county_admin": {200, 404}, "officer": {403, 403}, "merchant": {403, 403}},
			check:     wantAccount(service.RoleOfficer),
			unchanged: storesNothing("users", "id = ? AND disabled <> 0", "/users/")},
		{method: "PATCH", route: "/api/v1/users/:id", name: "county_admin", scopes: []authzScope{scopeOwn},
			path: func(f *authzFixture, e *env, tg authzTarget) string {
				return "/api/v1/users/" + itoa(f.freshUser(e, service.RoleCountyAdmin, tg.county))
			},
			body:      func(*authzFixture, authzTarget) any { return map[string]any{"disabled": true} },
			want:      map[string][]int{"city_admin": {200}, "county_admin": {404}, "officer": {403}, "merchant": {403}},
			check:     wantAccount(service.RoleCountyAdmin),
			unchanged: storesNothing("users", "id = ? AND disabled <> 0", "/users/")},
		// Demonstration roads are designated by the county admin (each cell
		// moves a fresh road of the target county from none to candidate).
		{method: "PUT", route: "/api/v1/roads/:id/demonstration", scopes: scopes2,
			path: func(f *authzFixture, e *env, tg authzTarget) string {
				rd := e.must(201, "POST", "/api/v1/roads", f.admin, map[string]any{"county_id": tg.county, "name": fmt.Sprintf("示范路%d", f.next())})
				return "/api/v1/roads/" + itoa(rd.id()) + "/demonstration"
			},
			body: func(*authzFixture, authzTarget) any { return map[string]any{"status": "candidate"} },
			want: map[string][]int{"city_admin": {200, 200}, "county_admin": {200, 404}, "officer": {403, 403}, "merchant": {403, 403}},
			check: func(t *testing.T, tg authzTarget, r resp, role string) {
				wantField("county_id", countyOf)(t, tg, r, role)
				if r.JSON["demonstration"] != "candidate" {
					t.Errorf("demonstration = %v, want candidate: %s", r.JSON["demonstration"], r.Body)
				}
			},
			unchanged: storesNothing("roads", "id = ? AND demo_status <> 'none'", "/roads/")},
		// Bulk import is the county admin's (each cell a dry run of one
		// valid row: nothing is stored); another county is not found.
		{method: "POST", route: "/api/v1/merchants/import", scopes: scopes2,
			path: idPath("/api/v1/merchants/import?commit=false&county_id=", countyOf, ""),
			file: func(f *authzFixture, _ authzTarget) (string, []byte) {
				return "register.csv", csvBytes([][]string{service.ImportHeader(),
					{fmt.Sprintf("导入测试商户%d", f.next()), "柳泉路", "", "餐饮", "", "", "", "", ""}})
			},
			want: map[string][]int{"city_admin": {200, 200}, "county_admin": {200, 404}, "officer": {403, 403}, "merchant": {403, 403}},
			check: func(t *testing.T, _ authzTarget, r resp, _ string) {
				if r.JSON["commit"] != false || jnum(r.JSON["rows"]) != 1 || jnum(r.JSON["valid"]) != 1 || jnum(r.JSON["created"]) != 0 {
					t.Errorf("dry run report = %s", r.Body)
				}
			}},
		// The register template goes with the import: county and city admins.
		{method: "GET", route: "/api/v1/merchants/import/template", scopes: scopesNone, path: fixedPath("/api/v1/merchants/import/template"),
			want: map[string][]int{"city_admin": {200}, "county_admin": {200}, "officer": {403}, "merchant": {403}},
			check: func(t *testing.T, _ authzTarget, r resp, _ string) {
				if !strings.HasPrefix(r.Header.Get("Content-Disposition"), "attachment") || !bytes.HasPrefix(r.Body, []byte("PK\x03\x04")) {
					t.Errorf("not an XLSX download: %q %q", r.Header.Get("Content-Disposition"), r.Body[:min(len(r.Body), 16)])
				}
			}},
		// Plaque sheets: county admins and officers of the county print them.
		{method: "GET", route: "/api/v1/roads/:id/plaques", scopes: scopes2, path: idPath("/api/v1/roads/", roadOf, "/plaques"),
			want:  map[string][]int{"city_admin": {200, 200}, "county_admin": {200, 404}, "officer": {200, 404}, "merchant": {403, 403}},
			check: f.wantPlaque},
		{method: "GET", route: "/api/v1/counties/:id/plaques", scopes: scopes2, path: idPath("/api/v1/counties/", countyOf, "/plaques"),
			want:  map[string][]int{"city_admin": {200, 200}, "county_admin": {200, 404}, "officer": {200, 404}, "merchant": {403, 403}},
			check: f.wantPlaque},
		// Appeals (申诉): only the merchant itself appeals, a fresh deduction
		// of its own shop; the county's admins and officers and the city
		// admin may not appeal for it.
		{method: "POST", route: "/api/v1/merchants/:id/ledger/:entry/appeal", scopes: scopes3,
			path: func(f *authzFixture, e *env, tg authzTarget) string {
				return "/api/v1/merchants/" + itoa(tg.merchant) + "/ledger/" + itoa(f.freshDeduction(e, tg)) + "/appeal"
			},
			body: func(*authzFixture, authzTarget) any { return map[string]any{"reason": "当时门前是路人乱丢"} },
			want: map[string][]int{"city_admin": {403, 403, 403}, "county_admin": {403, 403, 403}, "officer": {403, 403, 403}, "merchant": {201, 404, 404}},
			check: func(t *testing.T, tg authzTarget, r resp, role string) {
				wantField("merchant_id", merchantOf)(t, tg, r, role)
				if r.JSON["status"] != "pending" {
					t.Errorf("new appeal = %s", r.Body)
				}
			},
			unchanged: storesNothing("appeals", "entry_id = ?", "/ledger/")},
		// Its own shop in the path, another shop's deduction as the entry.
		{method: "POST", route: "/api/v1/merchants/:id/ledger/:entry/appeal", name: "foreign entry", scopes: []authzScope{scopeOther, scopeSibling},
			path: func(f *authzFixture, e *env, tg authzTarget) string {
				return "/api/v1/merchants/" + itoa(f.w.Merchant[0]) + "/ledger/" + itoa(f.freshDeduction(e, tg)) + "/appeal"
			},
			body:      func(*authzFixture, authzTarget) any { return map[string]any{"reason": "当时门前是路人乱丢"} },
			want:      map[string][]int{"city_admin": {403, 403}, "county_admin": {403, 403}, "officer": {403, 403}, "merchant": {404, 404}},
			unchanged: storesNothing("appeals", "entry_id = ?", "/ledger/")},
		// Appeal lists: a county's for its users (all for the city admin), a
		// merchant's own for the merchant, whatever county it names.
		{method: "GET", route: "/api/v1/appeals", name: "unfiltered", scopes: scopesNone, path: fixedPath("/api/v1/appeals?limit=100"),
			want: all4(200),
			check: func(t *testing.T, _ authzTarget, r resp, role string) {
				switch role {
				case "city_admin":
					wantShops(t, r, w.Merchant[0], w.Merchant[1], f.sibling)
					if !slices.ContainsFunc(itemsOf(t, r), func(it map[string]any) bool { return int64(jnum(it["merchant_id"])) == w.Merchant[1] }) {
						t.Errorf("the city admin does not see the second county's appeals: %s", r.Body)
					}
				case "merchant":
					wantShops(t, r, w.Merchant[0])
				default:
					wantShops(t, r, w.Merchant[0], f.sibling)
				}
			}},
		{method: "GET", route: "/api/v1/appeals", name: "county_id", scopes: scopes2, path: idPath("/api/v1/appeals?limit=100&county_id=", countyOf, ""),
			want: map[string][]int{"city_admin": {200, 200}, "county_admin": {200, 403}, "officer": {200, 403}, "merchant": {200, 200}},
			check: func(t *testing.T, tg authzTarget, r resp, role string) {
				switch {
				case role == "merchant":
					wantShops(t, r, w.Merchant[0])
				case tg.county == w.County[0]:
					wantShops(t, r, w.Merchant[0], f.sibling)
				default:
					wantShops(t, r, w.Merchant[1])
				}
			}},
		// Decisions: the county admin of the shop's county, or the city
		// admin; each cell decides a fresh pending appeal. Both outcomes: an
		// acceptance also passes the reversal's own check, a rejection only
		// the decision's.
		{method: "POST", route: "/api/v1/appeals/:id/decision", name: "accept", scopes: scopes3,
			path: func(f *authzFixture, e *env, tg authzTarget) string {
				return "/api/v1/appeals/" + itoa(f.freshAppeal(e, tg)) + "/decision"
			},
			body: func(*authzFixture, authzTarget) any {
				return map[string]any{"accept": true, "note": "监控证实非商户责任"}
			},
			want:      map[string][]int{"city_admin": {200, 200, 200}, "county_admin": {200, 404, 200}, "officer": {403, 403, 403}, "merchant": {403, 403, 403}},
			check:     wantDecision("accepted"),
			unchanged: storesNothing("appeals", "id = ? AND status <> 'pending'", "/appeals/")},
		{method: "POST", route: "/api/v1/appeals/:id/decision", name: "reject", scopes: scopes3,
			path: func(f *authzFixture, e *env, tg authzTarget) string {
				return "/api/v1/appeals/" + itoa(f.freshAppeal(e, tg)) + "/decision"
			},
			body: func(*authzFixture, authzTarget) any {
				return map[string]any{"accept": false, "note": "现场照片清楚"}
			},
			want:      map[string][]int{"city_admin": {200, 200, 200}, "county_admin": {200, 404, 200}, "officer": {403, 403, 403}, "merchant": {403, 403, 403}},
			check:     wantDecision("rejected"),
			unchanged: storesNothing("appeals", "id = ? AND status <> 'pending'", "/appeals/")},
	}, slices.Concat(spotCheckAuthzRows(f), repairRows(f), fairnessAuthzRows())...)
}

// newAuthzFixture seeds two counties and, in the first, a second shop with
// its merchant account, records a deduction with photo evidence on each shop
// and has each shop appeal one more, so every history, photo and appeal
// endpoint has something to show, or to withhold.
func newAuthzFixture(t *testing.T, e *env) *authzFixture {
	t.Helper()
	f := &authzFixture{admin: e.admin, w: seedFast(e)}
	w := f.w
	f.sibling = e.must(201, "POST", "/api/v1/merchants", w.Admin[0], map[string]any{"road_id": w.Road[0], "name": "李记面馆", "phone": "13953312345"}).id()
	f.photo = e.uploadPhoto(w.Officer[0], tinyPNG(7)).id()
	hash, err := seedHash()
	if err != nil {
		t.Fatal(err)
	}
	county, sibling := w.County[0], f.sibling
	shop := models.User{Username: "shop_sibling", PasswordHash: hash, Role: service.RoleMerchant, CountyID: &county, MerchantID: &sibling}
	if err := e.db.CreateUser(context.Background(), &shop); err != nil {
		t.Fatal(err)
	}
	if f.siblingShop, _, err = e.svc.IssueToken(shop); err != nil {
		t.Fatal(err)
	}
	for i, rec := range []struct {
		officer         string
		merchant, photo int64
	}{{w.Officer[0], w.Merchant[0], w.Photo[0]}, {w.Officer[1], w.Merchant[1], w.Photo[1]}, {w.Officer[0], f.sibling, f.photo}} {
		e.must(201, "POST", "/api/v1/inspections", rec.officer, map[string]any{"merchant_id": rec.merchant,
			"items": []map[string]any{{"rule_code": "HJWS-01"}}, "photos": []int64{rec.photo}}, "Idempotency-Key", fmt.Sprintf("authz-seed-%d", i))
	}
	// One pending appeal on each shop, so every appeal list has something
	// to show, or to withhold.
	for _, sc := range scopes3 {
		f.freshAppeal(e, f.target(sc))
	}
	f.spot = newSpotCheckFixture(e, w)
	f.codes = map[int64]string{}
	for _, id := range []int64{w.Merchant[0], w.Merchant[1], f.sibling} {
		f.codes[id] = e.must(200, "GET", "/api/v1/merchants/"+itoa(id), e.admin, nil).JSON["code"].(string)
	}
	other := e.must(200, "GET", "/api/v1/merchants/"+itoa(w.Merchant[1]), e.admin, nil)
	f.markers = []string{seedCounties[1][0], seedCounties[1][1], other.JSON["name"].(string), other.JSON["code"].(string), other.JSON["uscc"].(string)}
	return f
}

// TestAuthzMatrix sends every endpoint that takes a token as each role of the
// first county, without a token and with a forged one, against the caller's
// own county (for a merchant account: its own shop), the other county, and a
// sibling shop of the same county. Every status is checked; successes carry
// the object asked for; failures carry only the error envelope; and nobody
// but the city admin ever receives a byte of the other county's data.
func TestAuthzMatrix(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			f := newAuthzFixture(t, e)
			cells := 0
			for _, row := range authzRows(f) {
				name := row.method + " " + row.route
				if row.name != "" {
					name += " " + row.name
				}
				for _, role := range authzRoles {
					for si, sc := range row.scopes {
						want := http.StatusUnauthorized
						if ws, ok := row.want[role]; ok {
							want = ws[si]
						}
						cells++
						t.Run(fmt.Sprintf("%s/%s/%s", name, role, sc), func(t *testing.T) {
							ce := *e
							ce.t = t
							tg := f.target(sc)
							path, r := f.send(&ce, row, role, tg)
							f.checkCell(t, row, role, want, tg, r)
							if want >= 300 && row.unchanged != nil {
								row.unchanged(t, &ce, path)
							}
						})
					}
				}
			}
			t.Logf("%d cells", cells)
			t.Run("no existence oracle", func(t *testing.T) {
				ce := *e
				ce.t = t
				testNoExistenceOracle(t, &ce, f.w)
			})
		})
	}
}

// send makes one cell's request and returns its path and answer.
func (f *authzFixture) send(e *env, row authzRow, role string, tg authzTarget) (string, resp) {
	e.t.Helper()
	token := f.tokenOf(role)
	path := row.path(f, e, tg)
	if row.upload {
		return path, e.uploadPhoto(token, tinyPNG(100+f.next()))
	}
	if row.file != nil {
		name, data := row.file(f, tg)
		return path, e.postMultipart(path, token, "file", name, "application/octet-stream", data)
	}
	var body any
	if row.body != nil {
		body = row.body(f, tg)
	}
	var headers []string
	if row.headers != nil {
		headers = row.headers(f)
	}
	return path, e.do(row.method, path, token, body, headers...)
}

func (f *authzFixture) checkCell(t *testing.T, row authzRow, role string, want int, tg authzTarget, r resp) {
	t.Helper()
	if r.Status != want {
		t.Fatalf("status %d, want %d: %s", r.Status, want, r.Body)
	}
	if role != "city_admin" {
		for _, m := range f.markers {
			if bytes.Contains(r.Body, []byte(m)) {
				t.Errorf("%s receives %q of the other county: %s", role, m, r.Body)
			}
		}
	}
	if want >= 300 {
		checkErrorEnvelope(t, r, want, map[int]string{400: "invalid_input", 401: "unauthorized", 403: "forbidden", 404: "not_found"}[want])
		return
	}
	if row.check != nil {
		row.check(t, tg, r, role)
	}
}

// checkErrorEnvelope checks the design's error format: the status, the code,
// a message, the request id equal to the X-Request-ID header, nothing else.
func checkErrorEnvelope(t testing.TB, r resp, status int, code string) {
	t.Helper()
	if r.Status != status {
		t.Errorf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	e, ok := r.JSON["error"].(map[string]any)
	if !ok || len(r.JSON) != 1 {
		t.Errorf(`want exactly {"error":{...}}, got %s`, r.Body)
		return
	}
	if e["code"] != code {
		t.Errorf("error.code = %v, want %s: %s", e["code"], code, r.Body)
	}
	if msg, _ := e["message"].(string); msg == "" {
		t.Errorf("error.message is empty: %s", r.Body)
	}
	if id, _ := e["request_id"].(string); id == "" || id != r.Header.Get("X-Request-ID") {
		t.Errorf("error.request_id = %q, X-Request-ID = %q", id, r.Header.Get("X-Request-ID"))
	}
}

// testNoExistenceOracle: naming another county's road, shop, officer, county
// or photo is answered exactly as naming one that does not exist, so a county
// admin cannot even learn what exists elsewhere; and nothing is stored.
func testNoExistenceOracle(t *testing.T, e *env, w world) {
	for _, p := range []struct {
		method, path string
		body         func(id int64) any
		other        int64
	}{
		{"POST", "/api/v1/merchants", func(id int64) any { return map[string]any{"road_id": id, "name": "探测"} }, w.Road[1]},
		{"POST", "/api/v1/users", func(id int64) any {
			return map[string]any{"username": "probe_shop", "password": "password-probe", "role": "merchant", "merchant_id": id}
		}, w.Merchant[1]},
		{"PATCH", "/api/v1/merchants/" + itoa(w.Merchant[0]), func(id int64) any { return map[string]any{"road_id": id} }, w.Road[1]},
		{"PATCH", "/api/v1/roads/" + itoa(w.Road[0]), func(id int64) any { return map[string]any{"officer_ids": []int64{id}} }, w.OfficerID[1]},
		{"POST", "/api/v1/roads", func(id int64) any {
			return map[string]any{"name": "探测路", "officer_ids": []int64{id}, "county_id": w.County[0]}
		}, w.OfficerID[1]},
		{"POST", "/api/v1/inspections", func(id int64) any {
			return map[string]any{"merchant_id": id, "items": []map[string]any{{"rule_code": "BONUS-01"}}}
		}, w.Merchant[1]},
		{"GET", "/api/v1/merchants/%d", nil, w.Merchant[1]},
		{"GET", "/api/v1/roads/%d", nil, w.Road[1]},
		{"GET", "/api/v1/counties/%d", nil, w.County[1]},
		{"GET", "/api/v1/merchants/%d/ledger", nil, w.Merchant[1]},
		{"GET", "/api/v1/photos/%d", nil, w.Photo[1]},
	} {
		t.Run(p.method+" "+p.path, func(t *testing.T) {
			e := *e
			e.t = t
			send := func(id int64) resp {
				path, body := p.path, any(nil)
				if strings.Contains(path, "%d") {
					path = fmt.Sprintf(path, id)
				}
				if p.body != nil {
					body = p.body(id)
				}
				return e.do(p.method, path, w.Admin[0], body, "Idempotency-Key", "probe-"+itoa(id))
			}
			before := e.snapshot()
			a, b := send(p.other), send(999999)
			if a.Status < 400 || a.Status != b.Status || a.code() != b.code() ||
				fmt.Sprint(errPart(a, "fields")) != fmt.Sprint(errPart(b, "fields")) || errPart(a, "message") != errPart(b, "message") {
				t.Errorf("another county's object: %d %s\nan unknown one:        %d %s", a.Status, a.Body, b.Status, b.Body)
			}
			if after := e.snapshot(); !countsEqual(before, after) {
				t.Errorf("tables changed: %v → %v", before, after)
			}
		})
	}
}

func errPart(r resp, k string) any {
	e, _ := r.JSON["error"].(map[string]any)
	return e[k]
}

func countsEqual(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestAuthzCoversEveryRoute fails when a route that takes a token is not in
// the matrix, so a new endpoint cannot slip in without its authorization
// cells.
func TestAuthzCoversEveryRoute(t *testing.T) {
	t.Parallel()
	h := httpapi.New(httpapi.Options{Registry: prometheus.NewRegistry()})
	engine, ok := h.(*gin.Engine)
	if !ok {
		t.Fatalf("handler is %T, not a gin engine", h)
	}
	covered := map[string]bool{"POST /api/v1/auth/login": true, // public
		"GET /api/v1/certificates/:token": true, // public: certificate_test.go
		"GET /api/v1/openapi.json":        true} // public: openapi_test.go
	for _, row := range authzRows(&authzFixture{}) {
		covered[row.method+" "+row.route] = true
	}
	routed := map[string]bool{}
	var missing []string
	for _, r := range engine.Routes() {
		key := r.Method + " " + r.Path
		routed[key] = true
		if strings.HasPrefix(r.Path, "/api/") && !covered[key] {
			missing = append(missing, key)
		}
	}
	for key := range covered {
		if !routed[key] {
			missing = append(missing, key+" (in the matrix but not routed)")
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("routes without authorization cells in authz_test.go:\n  %s", strings.Join(missing, "\n  "))
	}
}
