package httpapi_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/qrcodes"
	"github.com/menqian/menqian/service/httpapi"
)

// TestRegistry creates, reads, lists and updates counties, roads, merchants
// and accounts through HTTP on every dialect, with the filters, paging
// bounds and merchant codes of the contract, and the operational endpoints.
func TestRegistry(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			w := seedFast(e)
			sub := func(name string, fn func(t *testing.T, e *env, w world)) {
				t.Run(name, func(t *testing.T) {
					ce := *e
					ce.t = t
					fn(t, &ce, w)
				})
			}
			sub("counties", testCounties)
			sub("roads", testRoads)
			sub("merchants", testMerchants)
			sub("accounts", testAccounts)
			sub("list filters", testMerchantFilters)
			sub("paging and codes", testPagingAndCodes)
			sub("operations", testOperations)
		})
	}
}

// wantJSON compares fields of a JSON object with want (numbers as float64).
func wantJSON(t *testing.T, what string, got map[string]any, want map[string]any) {
	t.Helper()
	for k, v := range want {
		if fmt.Sprint(got[k]) != fmt.Sprint(v) {
			t.Errorf("%s.%s = %v, want %v", what, k, got[k], v)
		}
	}
}

func testCounties(t *testing.T, e *env, w world) {
	c := e.must(201, "POST", "/api/v1/counties", e.admin, map[string]any{"code": "370304", "name": "博山区"})
	wantJSON(t, "created", c.JSON, map[string]any{"code": "370304", "name": "博山区", "demo_road_target": 10})
	id := c.id()
	if id <= 0 {
		t.Fatalf("id = %d", id)
	}
	c7 := e.must(201, "POST", "/api/v1/counties", e.admin, map[string]any{"code": "370305", "name": "临淄区", "demo_road_target": 7})
	wantJSON(t, "created", c7.JSON, map[string]any{"demo_road_target": 7})

	got := e.must(200, "GET", "/api/v1/counties/"+itoa(id), e.admin, nil)
	wantJSON(t, "read", got.JSON, map[string]any{"id": id, "code": "370304", "name": "博山区", "demo_road_target": 10})

	list := e.must(200, "GET", "/api/v1/counties", e.admin, nil)
	var codes []string
	for _, it := range itemsOf(t, list) {
		codes = append(codes, it["code"].(string))
	}
	if want := []string{"370302", "370303", "370304", "370305"}; fmt.Sprint(codes) != fmt.Sprint(want) {
		t.Errorf("counties by code = %v, want %v", codes, want)
	}
	if int(jnum(list.JSON["total"])) != len(codes) {
		t.Errorf("total = %v, want %d", list.JSON["total"], len(codes))
	}

	up := e.must(200, "PATCH", "/api/v1/counties/"+itoa(id), e.admin, map[string]any{"name": "博山区（新）", "demo_road_target": 12})
	wantJSON(t, "updated", up.JSON, map[string]any{"code": "370304", "name": "博山区（新）", "demo_road_target": 12})
	again := e.must(200, "GET", "/api/v1/counties/"+itoa(id), e.admin, nil)
	wantJSON(t, "reread", again.JSON, map[string]any{"name": "博山区（新）", "demo_road_target": 12})
	// A partial update leaves the other fields alone.
	e.must(200, "PATCH", "/api/v1/counties/"+itoa(id), e.admin, map[string]any{"demo_road_target": 9})
	wantJSON(t, "partial", e.must(200, "GET", "/api/v1/counties/"+itoa(id), e.admin, nil).JSON, map[string]any{"name": "博山区（新）", "demo_road_target": 9})
}

// ids reads a JSON array of numbers.
func ids(v any) []int64 {
	raw, _ := v.([]any)
	out := []int64{}
	for _, x := range raw {
		out = append(out, int64(jnum(x)))
	}
	return out
}

func testRoads(t *testing.T, e *env, w world) {
	r := e.must(201, "POST", "/api/v1/roads", w.Admin[0], map[string]any{"county_id": w.County[0], "name": "人民西路", "town": "公园街道",
		"length_m": 1200, "officer_ids": []int64{w.OfficerID[0], w.OfficerID[0]}})
	wantJSON(t, "created", r.JSON, map[string]any{"county_id": w.County[0], "name": "人民西路", "town": "公园街道", "length_m": 1200, "demonstration": "none"})
	id := r.id()
	path := "/api/v1/roads/" + itoa(id)
	if got := ids(r.JSON["officer_ids"]); fmt.Sprint(got) != fmt.Sprint([]int64{w.OfficerID[0]}) {
		t.Errorf("officer_ids = %v, want [%d] (duplicates folded)", got, w.OfficerID[0])
	}
	got := e.must(200, "GET", path, w.Officer[0], nil)
	wantJSON(t, "read", got.JSON, map[string]any{"id": id, "name": "人民西路", "town": "公园街道", "length_m": 1200})
	if fmt.Sprint(ids(got.JSON["officer_ids"])) != fmt.Sprint([]int64{w.OfficerID[0]}) {
		t.Errorf("read officer_ids = %v", got.JSON["officer_ids"])
	}

	list := e.must(200, "GET", "/api/v1/roads?county_id="+itoa(w.County[0]), w.Officer[0], nil)
	found := false
	for _, it := range itemsOf(t, list) {
		if int64(jnum(it["county_id"])) != w.County[0] {
			t.Errorf("road of county %v in county %d's list", it["county_id"], w.County[0])
		}
		found = found || int64(jnum(it["id"])) == id
	}
	if !found || int(jnum(list.JSON["total"])) != len(itemsOf(t, list)) {
		t.Errorf("list misses the road or miscounts: %s", list.Body)
	}

	up := e.must(200, "PATCH", path, w.Admin[0], map[string]any{"name": "人民东路", "town": "和平街道", "length_m": 900, "officer_ids": []int64{}})
	wantJSON(t, "updated", up.JSON, map[string]any{"name": "人民东路", "town": "和平街道", "length_m": 900})
	if got := ids(up.JSON["officer_ids"]); len(got) != 0 {
		t.Errorf("officer_ids after clearing = %v", got)
	}

	// Officers must be officers of the road's county; the rejected change
	// leaves the road as it was (one transaction).
	admin0, err := e.db.UserByUsername(context.Background(), "admin"+seedCounties[0][0])
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []int64{w.OfficerID[1], admin0.ID, 999999} {
		r := e.do("PATCH", path, w.Admin[0], map[string]any{"name": "不该改名", "officer_ids": []int64{bad}})
		checkErrorEnvelope(t, r, 400, "invalid_input")
		if errPart(r, "fields").(map[string]any)["officer_ids"] == nil {
			t.Errorf("fields = %v", errPart(r, "fields"))
		}
	}
	after := e.must(200, "GET", path, w.Admin[0], nil)
	wantJSON(t, "after rejected PATCH", after.JSON, map[string]any{"name": "人民东路"})
	if got := ids(after.JSON["officer_ids"]); len(got) != 0 {
		t.Errorf("officer_ids after rejected PATCH = %v", got)
	}
	before := e.snapshot()
	r2 := e.do("POST", "/api/v1/roads", e.admin, map[string]any{"county_id": w.County[1], "name": "不该存在路", "officer_ids": []int64{w.OfficerID[0]}})
	checkErrorEnvelope(t, r2, 400, "invalid_input")
	if !countsEqual(before, e.snapshot()) {
		t.Errorf("a road with another county's officer was stored")
	}
	e.must(200, "PATCH", path, w.Admin[0], map[string]any{"officer_ids": []int64{w.OfficerID[0]}})
	if got := ids(e.must(200, "GET", path, w.Admin[0], nil).JSON["officer_ids"]); fmt.Sprint(got) != fmt.Sprint([]int64{w.OfficerID[0]}) {
		t.Errorf("officer_ids = %v", got)
	}
}

func testMerchants(t *testing.T, e *env, w world) {
	uscc := validUSCC("91370303MA3C4XY0K")
	lat, lng := 36.81, 118.05
	c := e.must(201, "POST", "/api/v1/merchants", w.Admin[0], map[string]any{"road_id": w.Road[0], "name": "鑫源便利店",
		"uscc": strings.ToLower(uscc), "category": "零售", "owner_name": "李四", "phone": "0533-2345678",
		"address": "柳泉路 88 号", "lat": lat, "lng": lng})
	id := c.id()
	path := "/api/v1/merchants/" + itoa(id)
	want := map[string]any{"id": id, "county_id": w.County[0], "road_id": w.Road[0], "name": "鑫源便利店", "uscc": uscc,
		"category": "零售", "owner_name": "李四", "phone": "0533-2345678", "address": "柳泉路 88 号", "lat": lat, "lng": lng, "status": "active"}
	wantJSON(t, "created", c.JSON, want)
	if code, _ := c.JSON["code"].(string); !qrcodes.ValidCode(code) {
		t.Errorf("code = %q, want 8 characters of %s", code, qrcodes.CodeAlphabet)
	}
	score, _ := c.JSON["score"].(map[string]any)
	wantJSON(t, "score", score, map[string]any{"cycle": "2026-11", "score": 100, "star": 5, "rated_star": 5, "deductions": 0, "bonuses": 0})
	got := e.must(200, "GET", path, w.Officer[0], nil)
	wantJSON(t, "read", got.JSON, want)
	if got.JSON["code"] != c.JSON["code"] {
		t.Errorf("code changed from %v to %v", c.JSON["code"], got.JSON["code"])
	}

	up := e.must(200, "PATCH", path, w.Admin[0], map[string]any{"name": "鑫源超市", "phone": "13953312346", "status": "closed"})
	want["name"], want["phone"], want["status"] = "鑫源超市", "13953312346", "closed"
	wantJSON(t, "updated", up.JSON, want)
	wantJSON(t, "reread", e.must(200, "GET", path, w.Admin[0], nil).JSON, want)
	closed := e.must(200, "GET", "/api/v1/merchants?status=closed", w.Admin[0], nil)
	if items := itemsOf(t, closed); len(items) != 1 || int64(jnum(items[0]["id"])) != id {
		t.Errorf("closed merchants = %s", closed.Body)
	}

	// A partial update names its columns: lat alone leaves lng.
	e.must(200, "PATCH", path, w.Admin[0], map[string]any{"lat": 36.5})
	want["lat"] = 36.5
	wantJSON(t, "lat only", e.must(200, "GET", path, w.Admin[0], nil).JSON, want)

	// Moving within the county.
	road2 := e.must(201, "POST", "/api/v1/roads", w.Admin[0], map[string]any{"county_id": w.County[0], "name": "华光路"}).id()
	moved := e.must(200, "PATCH", path, w.Admin[0], map[string]any{"road_id": road2})
	want["road_id"] = road2
	wantJSON(t, "moved", moved.JSON, want)

	// Refused changes leave the merchant as it was.
	r := e.do("PATCH", path, e.admin, map[string]any{"road_id": w.Road[1], "name": "不该改名"})
	checkErrorEnvelope(t, r, 400, "invalid_input")
	r = e.do("PATCH", path, w.Admin[0], map[string]any{"uscc": seedUSCC(0), "name": "不该改名"})
	checkErrorEnvelope(t, r, 409, "duplicate")
	wantJSON(t, "after refused changes", e.must(200, "GET", path, w.Admin[0], nil).JSON, want)

	// An empty USCC clears it (USCCs are optional), and then another shop may not take it twice.
	cleared := e.must(200, "PATCH", path, w.Admin[0], map[string]any{"uscc": ""})
	if cleared.JSON["uscc"] != nil {
		t.Errorf("uscc after clearing = %v", cleared.JSON["uscc"])
	}
	e.must(201, "POST", "/api/v1/merchants", w.Admin[0], map[string]any{"road_id": w.Road[0], "name": "同码店一", "uscc": uscc})
	checkErrorEnvelope(t, e.do("POST", "/api/v1/merchants", w.Admin[0], map[string]any{"road_id": w.Road[0], "name": "同码店二", "uscc": uscc}), 409, "duplicate")

	// Names of exactly 128 characters are fine.
	long := strings.Repeat("店", 128)
	if got := e.must(201, "POST", "/api/v1/merchants", w.Admin[0], map[string]any{"road_id": w.Road[0], "name": long}); got.JSON["name"] != long {
		t.Errorf("128-rune name came back as %v", got.JSON["name"])
	}
}

func testAccounts(t *testing.T, e *env, w world) {
	r := e.must(201, "POST", "/api/v1/users", w.Admin[0], map[string]any{"username": "officer_new", "password": "a-long-password",
		"role": "officer", "county_id": w.County[0], "display_name": "王五"})
	wantJSON(t, "user", r.JSON, map[string]any{"username": "officer_new", "role": "officer", "county_id": w.County[0], "merchant_id": nil, "display_name": "王五"})
	if strings.Contains(string(r.Body), "password") || strings.Contains(string(r.Body), "$2") {
		t.Errorf("the user response shows the password or its hash: %s", r.Body)
	}
	u, err := e.db.UserByUsername(context.Background(), "officer_new")
	if err != nil {
		t.Fatal(err)
	}
	if u.PasswordHash == "a-long-password" || !strings.HasPrefix(u.PasswordHash, "$2") {
		t.Errorf("stored password hash = %q, want bcrypt", u.PasswordHash)
	}
	login := e.must(200, "POST", "/api/v1/auth/login", "", map[string]any{"username": "officer_new", "password": "a-long-password"})
	user, _ := login.JSON["user"].(map[string]any)
	wantJSON(t, "login.user", user, map[string]any{"id": r.id(), "username": "officer_new", "role": "officer", "county_id": w.County[0], "merchant_id": nil})
	if tok, _ := login.JSON["token"].(string); strings.Count(tok, ".") != 2 || login.JSON["expires_at"] == nil {
		t.Errorf("login = %s", login.Body)
	}
	me := e.must(200, "GET", "/api/v1/me", login.JSON["token"].(string), nil)
	wantJSON(t, "me", me.JSON, map[string]any{"id": r.id(), "username": "officer_new", "role": "officer"})
	shop := e.must(200, "GET", "/api/v1/me", w.Shop[0], nil)
	wantJSON(t, "merchant me", shop.JSON, map[string]any{"role": "merchant", "merchant_id": w.Merchant[0], "county_id": w.County[0]})
	city := e.must(200, "GET", "/api/v1/me", e.admin, nil)
	wantJSON(t, "city me", city.JSON, map[string]any{"username": "admin", "role": "city_admin", "county_id": nil, "merchant_id": nil})
}

// names lists the names of the merchants a query returns (one page of 100).
func names(t *testing.T, e *env, token, query string) []string {
	t.Helper()
	r := e.must(200, "GET", "/api/v1/merchants?limit=100&"+query, token, nil)
	var out []string
	for _, it := range itemsOf(t, r) {
		out = append(out, it["name"].(string))
	}
	if int(jnum(r.JSON["total"])) != len(out) {
		t.Errorf("%s: total %v but %d items", query, r.JSON["total"], len(out))
	}
	sort.Strings(out)
	return out
}

func testMerchantFilters(t *testing.T, e *env, w world) {
	road := e.must(201, "POST", "/api/v1/roads", e.admin, map[string]any{"county_id": w.County[0], "name": "过滤路"}).id()
	shops := map[string]int64{}
	for _, n := range []string{"100%纯净水", "a_b小吃", "axb小吃", "惊喜!店", "普通店"} {
		shops[n] = e.must(201, "POST", "/api/v1/merchants", e.admin, map[string]any{"road_id": road, "name": n, "address": "过滤路 1 号"}).id()
	}
	q := func(s string) string { return "q=" + url.QueryEscape(s) }
	for _, c := range []struct{ query, want string }{
		{q("%"), "[100%纯净水]"},
		{q("_"), "[a_b小吃]"},
		{q("a_b"), "[a_b小吃]"},
		{q("x"), "[axb小吃]"},
		{q("!"), "[惊喜!店]"},
		{q("%纯"), "[100%纯净水]"},
		{q("小吃"), "[a_b小吃 axb小吃]"},
		{q("过滤路 1"), "[100%纯净水 a_b小吃 axb小吃 惊喜!店 普通店]"}, // the address matches too
		{q("没有这家"), "[]"},
		{"road_id=" + itoa(road), "[100%纯净水 a_b小吃 axb小吃 惊喜!店 普通店]"},
		{"road_id=" + itoa(road) + "&" + q("店"), "[惊喜!店 普通店]"},
		{"county_id=" + itoa(w.County[1]) + "&road_id=" + itoa(road), "[]"},
		{"county_id=" + itoa(w.County[1]), "[张记烧烤淄川区]"},
	} {
		if got := fmt.Sprint(names(t, e, e.admin, c.query)); got != c.want {
			t.Errorf("GET /merchants?%s = %s, want %s", c.query, got, c.want)
		}
	}
	// Exact code and USCC.
	m := e.must(200, "GET", "/api/v1/merchants/"+itoa(shops["普通店"]), e.admin, nil)
	if got := fmt.Sprint(names(t, e, e.admin, q(m.JSON["code"].(string)))); got != "[普通店]" {
		t.Errorf("by code: %s", got)
	}
	if got := fmt.Sprint(names(t, e, e.admin, q(seedUSCC(1)))); got != "[张记烧烤淄川区]" {
		t.Errorf("by USCC: %s", got)
	}
	// A county user's query never leaves its county.
	if got := fmt.Sprint(names(t, e, w.Officer[1], q("小吃"))); got != "[]" {
		t.Errorf("county 1 officer finds %s in county 0", got)
	}
}

func testPagingAndCodes(t *testing.T, e *env, w world) {
	road := e.must(201, "POST", "/api/v1/roads", w.Admin[0], map[string]any{"county_id": w.County[0], "name": "分页路"}).id()
	var created []int64
	codeOf := map[int64]string{}
	for i := range 25 {
		r := e.must(201, "POST", "/api/v1/merchants", w.Admin[0], map[string]any{"road_id": road, "name": fmt.Sprintf("分页商户%02d", i)})
		created = append(created, r.id())
		codeOf[r.id()] = r.JSON["code"].(string)
	}
	page := func(query string) (items []map[string]any, r resp) {
		r = e.must(200, "GET", "/api/v1/merchants?road_id="+itoa(road)+query, w.Officer[0], nil)
		return itemsOf(t, r), r
	}
	var seen []int64
	for i, off := range []int{0, 10, 20} {
		items, r := page(fmt.Sprintf("&limit=10&offset=%d", off))
		if want := []int{10, 10, 5}[i]; len(items) != want {
			t.Errorf("page at %d: %d items, want %d", off, len(items), want)
		}
		wantJSON(t, "page", r.JSON, map[string]any{"total": 25, "limit": 10, "offset": off})
		for _, it := range items {
			seen = append(seen, int64(jnum(it["id"])))
		}
	}
	if fmt.Sprint(seen) != fmt.Sprint(created) {
		t.Errorf("pages in order = %v, want every merchant once by id: %v", seen, created)
	}
	if items, r := page("&limit=10&offset=30"); len(items) != 0 || jnum(r.JSON["total"]) != 25 {
		t.Errorf("past the end: %d items, total %v", len(items), r.JSON["total"])
	}
	if items, r := page(""); len(items) != 20 || jnum(r.JSON["limit"]) != 20 {
		t.Errorf("default page: %d items, limit %v; want 20", len(items), r.JSON["limit"])
	}
	if items, _ := page("&limit=100"); len(items) != 25 {
		t.Errorf("limit=100: %d items", len(items))
	}
	roads := e.must(200, "GET", "/api/v1/roads?limit=1&county_id="+itoa(w.County[0]), w.Admin[0], nil)
	if len(itemsOf(t, roads)) != 1 || jnum(roads.JSON["total"]) < 2 {
		t.Errorf("roads limit=1: %s", roads.Body)
	}

	// Codes: 8 Crockford characters, unique, and unrelated to the ids.
	codes := make([]string, len(created))
	uniq := map[string]bool{}
	for i, id := range created {
		c := codeOf[id]
		codes[i] = c
		if !qrcodes.ValidCode(c) {
			t.Errorf("code %q is not 8 characters of %s", c, qrcodes.CodeAlphabet)
		}
		if uniq[c] {
			t.Errorf("code %q given twice", c)
		}
		uniq[c] = true
	}
	if sort.StringsAreSorted(codes) {
		t.Errorf("codes rise with the ids: %v", codes)
	}
	for i := 1; i < len(codes); i++ {
		if codes[i][:5] == codes[i-1][:5] {
			t.Errorf("consecutive merchants got codes %s and %s", codes[i-1], codes[i])
		}
	}
}

func testOperations(t *testing.T, e *env, w world) {
	h := e.must(200, "GET", "/healthz", "", nil)
	wantJSON(t, "healthz", h.JSON, map[string]any{"status": "ok"})
	r := e.must(200, "GET", "/readyz", "", nil)
	wantJSON(t, "readyz", r.JSON, map[string]any{"status": "ready"})

	// Readiness follows the database: a failing check is 503 unavailable.
	down := httptest.NewServer(httpapi.New(httpapi.Options{Service: e.svc, Registry: prometheus.NewRegistry(),
		Ready: func() error { return errors.New("database down") }}))
	defer down.Close()
	de := *e
	de.srv = down
	checkErrorEnvelope(t, de.do("GET", "/readyz", "", nil), 503, "unavailable")
	if h := de.do("GET", "/healthz", "", nil); h.Status != 200 {
		t.Errorf("healthz with the database down = %d, want 200 (liveness)", h.Status)
	}

	countRe := regexp.MustCompile(`menqian_http_request_duration_seconds_count\{method="GET",route="/api/v1/merchants/:id",status="200"\} ([0-9]+)`)
	count := func(body string) int {
		n := 0
		if m := countRe.FindStringSubmatch(body); m != nil {
			fmt.Sscan(m[1], &n)
		}
		return n
	}
	before := count(string(e.must(200, "GET", "/metrics", "", nil).Body))
	e.must(200, "GET", "/api/v1/merchants/"+itoa(w.Merchant[0]), w.Officer[0], nil)
	e.must(200, "GET", "/api/v1/merchants/"+itoa(w.Merchant[1]), w.Officer[1], nil)
	e.do("GET", "/api/v1/merchants/"+itoa(w.Merchant[1])+"/nothing", w.Officer[1], nil)
	// A plaque's path is the pages' (package web), not the API's: here it is
	// unmatched, and its token must not become a label.
	e.do("GET", "/q/"+e.svc.PlaqueToken(merchantRow(t, e, w.Merchant[0])), "", nil)
	body := string(e.must(200, "GET", "/metrics", "", nil).Body)
	if !strings.Contains(body, "# TYPE menqian_http_request_duration_seconds histogram") {
		t.Fatalf("no menqian_http_request_duration_seconds histogram in /metrics")
	}
	if after := count(body); after != before+2 {
		t.Errorf(`GET /api/v1/merchants/:id 200 count went %d → %d, want +2 (both ids under one route="/api/v1/merchants/:id")`, before, after)
	}
	routes := regexp.MustCompile(`route="([^"]*)"`).FindAllStringSubmatch(body, -1)
	if len(routes) == 0 {
		t.Fatal("no route labels")
	}
	rawID := regexp.MustCompile(`/[0-9]+(/|$)`)
	for _, r := range routes {
		if rawID.MatchString(r[1]) || strings.Contains(r[1], "/q/") {
			t.Errorf("route label %q is a raw path, not a template", r[1])
		}
	}
	if !strings.Contains(body, `route="unmatched"`) {
		t.Errorf("want unmatched paths as \"unmatched\"")
	}
}

// merchantRow reads a merchant straight from the database.
func merchantRow(t *testing.T, e *env, id int64) models.Merchant {
	t.Helper()
	m, err := e.db.MerchantByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
