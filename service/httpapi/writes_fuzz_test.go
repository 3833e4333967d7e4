package httpapi_test

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/service"
)

// fuzzWrite is one write endpoint the fuzzer sends bodies to, as a caller
// the endpoint lets write there.
type fuzzWrite struct {
	method, path, token string
	open311             bool // a form answered in the GeoReport v2 error format, not JSON
	idempotent          bool // an inspection: sent with an Idempotency-Key, and sent twice
}

// fuzzStatuses are the answers a write may give to any body; never 500.
var fuzzStatuses = []int{200, 201, 204, 400, 401, 403, 404, 409, 413, 415, 422, 429}

// FuzzWriteBodies sends any body to the main write endpoints of the API
// (inspections, merchants, roads and their demonstration status, users,
// counties, appeals and their decisions, rectification notices, login, and
// the Open311 form in JSON and XML) on SQLite, in process, as a caller
// allowed to write there. Every answer is one of fuzzStatuses; a refusal is
// in the design's error format (Open311's in the spec's) and changes no row
// of any table; an answer of 2xx is a JSON object, and whatever it stored
// holds no character a reader cannot see; an inspection sent again with its
// Idempotency-Key gets the same answer and stores nothing more.
// In bodies, $MERCHANT, $ROAD, $COUNTY, $PHOTO, $OFFICER (a user id) and
// $CODE (the shop's public code) stand for the seeded world's.
func FuzzWriteBodies(f *testing.F) {
	e := newEnv(f, models.SQLite)
	fx := &authzFixture{admin: e.admin, w: seedFast(e)}
	w := fx.w
	own := fx.target(scopeOwn)
	entry := fx.freshDeduction(e, own)
	appeal := fx.freshAppeal(e, own)
	notice := e.must(201, "POST", "/api/v1/merchants/"+itoa(w.Merchant[0])+"/notices", w.Officer[0], map[string]any{"note": "店招破损"}).id()
	editable := e.must(201, "POST", "/api/v1/merchants", w.Admin[0], map[string]any{"road_id": w.Road[0], "name": "李记面馆"}).id()
	account := fx.freshUser(e, service.RoleOfficer, w.County[0])
	apiKey, _ := e.must(201, "POST", "/api/v1/open311/keys", e.admin, map[string]any{"name": "城市运行平台"}).JSON["key"].(string)
	code, _ := e.must(200, "GET", "/api/v1/merchants/"+itoa(w.Merchant[0]), e.admin, nil).JSON["code"].(string)
	ids := strings.NewReplacer("$MERCHANT", itoa(w.Merchant[0]), "$ROAD", itoa(w.Road[0]), "$COUNTY", itoa(w.County[0]),
		"$PHOTO", itoa(w.Photo[0]), "$OFFICER", itoa(w.OfficerID[0]), "$CODE", code)

	targets := []fuzzWrite{
		{method: "POST", path: "/api/v1/inspections", token: w.Officer[0], idempotent: true},
		{method: "POST", path: "/api/v1/merchants", token: w.Admin[0]},
		{method: "PATCH", path: "/api/v1/merchants/" + itoa(editable), token: w.Admin[0]},
		{method: "POST", path: "/api/v1/roads", token: w.Admin[0]},
		{method: "PATCH", path: "/api/v1/roads/" + itoa(w.Road[0]), token: w.Admin[0]},
		{method: "PUT", path: "/api/v1/roads/" + itoa(w.Road[0]) + "/demonstration", token: w.Admin[0]},
		{method: "POST", path: "/api/v1/users", token: w.Admin[0]},
		{method: "PATCH", path: "/api/v1/users/" + itoa(account), token: w.Admin[0]},
		{method: "POST", path: "/api/v1/counties", token: e.admin},
		{method: "POST", path: "/api/v1/merchants/" + itoa(w.Merchant[0]) + "/ledger/" + itoa(entry) + "/appeal", token: w.Shop[0]},
		{method: "POST", path: "/api/v1/appeals/" + itoa(appeal) + "/decision", token: w.Admin[0]},
		{method: "POST", path: "/api/v1/merchants/" + itoa(w.Merchant[0]) + "/notices", token: w.Officer[0]},
		{method: "POST", path: "/api/v1/notices/" + itoa(notice) + "/rectified", token: w.Officer[0]},
		{method: "POST", path: "/api/v1/auth/login"},
		{method: "POST", path: "/open311/v2/requests.json", open311: true},
		{method: "POST", path: "/open311/v2/requests.xml", open311: true},
	}
	for i, bodies := range [][]string{
		{`{"merchant_id":$MERCHANT,"items":[{"rule_code":"HJWS-01","points":2,"note":"门前纸屑"}],"photos":[$PHOTO],"note":"复查"}`,
			`{"qr_token":"0123ABCD00XXXXXXXXXXXXX","items":[{"rule_code":"BONUS-01"}],"lat":36.8,"lng":118.05}`,
			`{"merchant_id":$MERCHANT,"inspected_at":"2026-11-15T09:00:00+08:00","items":[{"rule_code":"bonus-02","points":3}]}`,
			`{"merchant_id":$MERCHANT,"items":[{"rule_code":"ZXLH-05","points":99}],"photos":[$PHOTO,$PHOTO]}`,
			`{"merchant_id":$MERCHANT,"items":[]}`},
		{`{"road_id":$ROAD,"name":"王记水果","uscc":"91330100716105852F","category":"零售","owner_name":"王五","phone":"0533-2345678","address":"柳泉路 9 号","lat":36.81,"lng":118.05}`,
			`{"road_id":$ROAD,"name":"  赵记\u202e修车  ","phone":"1385331234"}`,
			`{"road_id":$ROAD,"name":"钱记","lat":1e999}`},
		{`{"name":"李记面馆（总店）","status":"closed"}`, `{"uscc":"","phone":"","lat":null}`, `{"road_id":999999}`, `{"status":"active","address":"柳泉路\n10 号"}`},
		{`{"county_id":$COUNTY,"name":"共青团路","town":"车站街道","length_m":1200,"officer_ids":[$OFFICER]}`, `{"county_id":$COUNTY,"name":"","length_m":-1}`},
		{`{"name":"柳泉路","town":"公园街道","officer_ids":[]}`, `{"length_m":9223372036854775807}`},
		{`{"status":"candidate","note":"申报示范路"}`, `{"status":"accepted"}`, `{"status":"revoked","note":""}`},
		{`{"username":"officer_fuzz","password":"a-long-password-1","role":"officer","county_id":$COUNTY,"display_name":"巡查员甲"}`,
			`{"username":"shop_fuzz","password":"a-long-password-2","role":"merchant","merchant_id":$MERCHANT}`,
			`{"username":"x","password":"1","role":"city_admin"}`},
		{`{"disabled":true}`, `{"password":"another-password-3","display_name":"巡查员乙"}`, `{"disabled":false}`},
		{`{"code":"370304","name":"博山区","demo_road_target":10}`, `{"code":"999999","name":"\u0000"}`},
		{`{"reason":"门前垃圾系路人丢弃","photos":[]}`, `{"reason":""}`},
		{`{"accept":true,"note":"证据不足"}`, `{"accept":false,"note":"维持"}`, `{"note":"x"}`},
		{`{"rule_code":"ZXLH-02","note":"三日内清理门前纸箱","due_days":3,"photos":[$PHOTO]}`, `{"due_days":-1}`},
		{`{"note":"复查已整改"}`, `{}`},
		{`{"username":"admin","password":"` + adminPassword + `"}`, `{"username":"admin","password":"wrong"}`},
		{`service_code=HJWS-01&attribute%5Bmerchant_code%5D=$CODE&description=%E9%97%A8%E5%89%8D%E5%A0%86%E6%94%BE%E7%BA%B8%E7%AE%B1&phone=13853312399`,
			`service_code=NOPE&lat=36.8&long=nan`},
		{`service_code=SRZJ-01&attribute%5Bmerchant_code%5D=$CODE&description=%E5%B0%8F%E5%B9%BF%E5%91%8A`, `description=%ZZ`},
	} {
		for j, b := range bodies {
			f.Add(uint8(i), []byte(b), uint16(i<<8|j+1))
		}
	}

	f.Fuzz(func(t *testing.T, which uint8, body []byte, key uint16) {
		ce := *e
		ce.t = t
		tg := targets[int(which)%len(targets)]
		data := []byte(ids.Replace(string(body)))
		send := func() resp {
			if tg.open311 {
				req, err := http.NewRequest(tg.method, e.srv.URL+tg.path, strings.NewReader("api_key="+apiKey+"&"+string(data)))
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				res, err := e.srv.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer res.Body.Close()
				out := resp{Status: res.StatusCode, Header: res.Header}
				out.Body, err = io.ReadAll(res.Body)
				if err != nil {
					t.Fatal(err)
				}
				return out // a list, in the spec's format: see checkOpen311Answer
			}
			var headers []string
			if tg.idempotent && key != 0 {
				headers = []string{"Idempotency-Key", fmt.Sprintf("fuzz-%d", key)}
			}
			return ce.do(tg.method, tg.path, tg.token, data, headers...)
		}
		before := dbtest.Dump(t, e.db)
		r := send()
		after := dbtest.Dump(t, e.db)
		checkFuzzAnswer(t, tg, r)
		if tg.path == "/api/v1/auth/login" && r.Status == http.StatusUnauthorized {
			// A failed login is kept, as typed, for the per-username lock.
			delete(before, "login_failures")
			delete(after, "login_failures")
		}
		if changed := dbtest.DumpDiff(before, after); r.Status >= 300 && len(changed) > 0 {
			t.Fatalf("%s %s %q: %d, but tables changed: %v", tg.method, tg.path, data, r.Status, changed)
		}
		if table, v, bad := hiddenStored(before, after); bad {
			t.Fatalf("%s %s %q: %d stored %q in %s, with a character a reader cannot see", tg.method, tg.path, data, r.Status, v, table)
		}
		if !tg.idempotent || key == 0 {
			return
		}
		again := send()
		if changed := dbtest.DumpDiff(after, dbtest.Dump(t, e.db)); len(changed) > 0 {
			t.Fatalf("inspection %q sent again with its key: tables changed: %v", data, changed)
		}
		if again.Status != r.Status || again.code() != r.code() || (r.Status == 201 && again.id() != r.id()) {
			t.Fatalf("inspection %q: %d %s, sent again with its key %d %s", data, r.Status, r.Body, again.Status, again.Body)
		}
	})
}

// checkFuzzAnswer checks an answer's status and, for a refusal, its format.
func checkFuzzAnswer(t *testing.T, tg fuzzWrite, r resp) {
	t.Helper()
	if !slices.Contains(fuzzStatuses, r.Status) {
		t.Fatalf("%s %s: status %d: %s", tg.method, tg.path, r.Status, r.Body)
	}
	switch {
	case tg.open311:
		checkOpen311Answer(t, tg, r)
	case r.Status == http.StatusNoContent:
	case r.Status < 300:
		if r.JSON == nil {
			t.Fatalf("%s %s: %d without a JSON object: %s", tg.method, tg.path, r.Status, r.Body)
		}
	default:
		checkErrorEnvelope(t, r, service.HTTPStatus(r.code()), r.code())
		body, _ := r.JSON["error"].(map[string]any)
		if fields, _ := body["fields"].(map[string]any); r.Status == 400 && len(fields) == 0 {
			t.Errorf("%s %s: 400 without fields: %s", tg.method, tg.path, r.Body)
		}
	}
}

// checkOpen311Answer checks an Open311 answer: a list of one filed request,
// or of one error whose code is the status, in JSON or XML.
func checkOpen311Answer(t *testing.T, tg fuzzWrite, r resp) {
	t.Helper()
	type item struct {
		Code        int    `json:"code" xml:"code"`
		Description string `json:"description" xml:"description"`
		ID          string `json:"service_request_id" xml:"service_request_id"`
	}
	var items []item
	var err error
	if strings.HasSuffix(tg.path, ".xml") {
		var doc struct {
			Items []item `xml:",any"`
		}
		err = xml.Unmarshal(r.Body, &doc)
		items = doc.Items
	} else {
		err = json.Unmarshal(r.Body, &items)
	}
	switch {
	case err != nil || len(items) != 1:
		t.Fatalf("%s: %d: want a list of one item: %v: %s", tg.path, r.Status, err, r.Body)
	case r.Status < 300 && items[0].ID == "":
		t.Fatalf("%s: %d without a service_request_id: %s", tg.path, r.Status, r.Body)
	case r.Status >= 300 && (items[0].Code != r.Status || items[0].Description == ""):
		t.Fatalf("%s: %d: want an error of code %d with a description: %s", tg.path, r.Status, r.Status, r.Body)
	}
}

// hiddenStored looks through the rows a request added or changed (in
// dbtest.Dump's col="value" form) for a character a reader cannot see: a
// control character other than a line break, a format character (the
// bidirectional controls, zero-width spaces, the BOM; the zero-width joiner
// of emoji aside), a line or paragraph separator.
func hiddenStored(before, after map[string]string) (table, value string, found bool) {
	for _, tbl := range dbtest.DumpDiff(before, after) {
		old := map[string]bool{}
		for _, line := range strings.Split(before[tbl], "\n") {
			old[line] = true
		}
		for _, line := range strings.Split(after[tbl], "\n") {
			if old[line] {
				continue
			}
			for rest := line; rest != ""; {
				eq := strings.IndexByte(rest, '=')
				if eq < 0 {
					break
				}
				quoted, err := strconv.QuotedPrefix(rest[eq+1:])
				if err != nil {
					break
				}
				rest = strings.TrimPrefix(rest[eq+1+len(quoted):], " ")
				v, _ := strconv.Unquote(quoted)
				for _, r := range v {
					if (unicode.IsControl(r) && r != '\n') || (unicode.Is(unicode.Cf, r) && r != '\u200d') || r == '\u2028' || r == '\u2029' {
						return tbl, v, true
					}
				}
			}
		}
	}
	return "", "", false
}
