package httpapi_test

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/service"
)

// badCase is one request that must be refused with a documented status and
// code, naming the offending field when it is a 400, and storing nothing.
type badCase struct {
	name         string
	county       bool // send as the first county's admin instead of the city admin
	method, path string
	body         any // nil: no body; string: sent raw; else JSON
	headers      []string
	status       int
	code         string
	field        string // the key error.fields must name (400 only)
}

// validUSCC completes 17 characters with their GB 32100-2015 check character.
func validUSCC(first17 string) string { return first17 + string(service.USCCCheckChar(first17)) }

// seedUSCC is the USCC env.seed gives the shop of county i.
func seedUSCC(i int) string {
	return validUSCC(fmt.Sprintf("91%s00000000%d", seedCounties[i][0], i)[:17])
}

func badCases(w world) []badCase {
	const (
		counties  = "/api/v1/counties"
		roads     = "/api/v1/roads"
		merchants = "/api/v1/merchants"
		users     = "/api/v1/users"
		login     = "/api/v1/auth/login"
	)
	shop := merchants + "/" + itoa(w.Merchant[1])
	road := roads + "/" + itoa(w.Road[1])
	county := counties + "/" + itoa(w.County[1])
	m := func(kv ...any) map[string]any { // a merchant body on the first road with kv added
		out := map[string]any{"road_id": w.Road[0], "name": "坏输入商户"}
		for i := 0; i+1 < len(kv); i += 2 {
			out[kv[i].(string)] = kv[i+1]
		}
		return out
	}
	user := func(kv ...any) map[string]any {
		out := map[string]any{"username": "bad_input_user", "password": "password-bad", "role": "officer", "county_id": w.County[0]}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(out, kv[i].(string))
			} else {
				out[kv[i].(string)] = kv[i+1]
			}
		}
		return out
	}
	wrongCheck := seedUSCC(0)[:17] + "0"
	if wrongCheck == seedUSCC(0) {
		wrongCheck = seedUSCC(0)[:17] + "1"
	}
	long := func(r string, n int) string { return strings.Repeat(r, n) }
	cases := []badCase{
		// The body itself.
		{name: "malformed JSON", method: "POST", path: counties, body: `{"code":"370311","name":`, status: 400, field: "body"},
		{name: "form encoding", method: "POST", path: counties, body: `code=370311&name=x`, status: 400, field: "body"},
		{name: "empty body", method: "POST", path: counties, body: ``, status: 400, field: "body"},
		{name: "no body", method: "POST", path: roads, status: 400, field: "body"},
		{name: "array body", method: "POST", path: counties, body: `[{"code":"370311","name":"x"}]`, status: 400, field: "body"},
		{name: "null body", method: "POST", path: counties, body: `null`, status: 400, field: "body"},
		{name: "trailing object", method: "POST", path: counties, body: `{"code":"370311","name":"测试区"} {"code":"370312"}`, status: 400, field: "body"},
		{name: "trailing brace", method: "POST", path: counties, body: `{"code":"370311","name":"测试区"}}`, status: 400, field: "body"},
		{name: "trailing garbage", method: "POST", path: merchants, body: `{"road_id":` + itoa(w.Road[0]) + `,"name":"x"}garbage`, status: 400, field: "body"},
		{name: "unknown field", method: "POST", path: counties, body: map[string]any{"code": "370311", "name": "测试区", "id": 5}, status: 400, field: "id"},
		{name: "merchant code is not assignable", method: "POST", path: merchants, body: m("code", "AAAAAAAA"), status: 400, field: "code"},
		{name: "merchant county is not assignable", method: "POST", path: merchants, body: m("county_id", w.County[1]), status: 400, field: "county_id"},
		{name: "plaque generation is not assignable", method: "PATCH", path: shop, body: map[string]any{"qr_generation": 9}, status: 400, field: "qr_generation"},
		{name: "road status is not assignable by PATCH", method: "PATCH", path: road, body: map[string]any{"demo_status": "accepted"}, status: 400, field: "demo_status"},
		{name: "login unknown field", method: "POST", path: login, body: map[string]any{"username": "admin", "password": "x", "remember": true}, status: 400, field: "remember"},

		// Wrong types.
		{name: "county_id as string", method: "POST", path: roads, body: map[string]any{"county_id": "1", "name": "x路"}, status: 400, field: "county_id"},
		{name: "name as number", method: "POST", path: counties, body: map[string]any{"code": "370311", "name": 123}, status: 400, field: "name"},
		{name: "code as number", method: "POST", path: counties, body: map[string]any{"code": 370311, "name": "测试区"}, status: 400, field: "code"},
		{name: "target as fraction", method: "POST", path: counties, body: map[string]any{"code": "370311", "name": "测试区", "demo_road_target": 1.5}, status: 400, field: "demo_road_target"},
		{name: "lat as string", method: "POST", path: merchants, body: m("lat", "36.8"), status: 400, field: "lat"},
		{name: "officer_ids as string", method: "PATCH", path: road, body: map[string]any{"officer_ids": "1"}, status: 400, field: "officer_ids"},
		{name: "road_id as bool", method: "PATCH", path: shop, body: map[string]any{"road_id": true}, status: 400, field: "road_id"},
		{name: "password as number", method: "POST", path: login, body: map[string]any{"username": "admin", "password": 12345678}, status: 400, field: "password"},

		// Missing or blank required fields.
		{name: "county without code", method: "POST", path: counties, body: map[string]any{"name": "测试区"}, status: 400, field: "code"},
		{name: "county without name", method: "POST", path: counties, body: map[string]any{"code": "370311"}, status: 400, field: "name"},
		{name: "county blank name", method: "POST", path: counties, body: map[string]any{"code": "370311", "name": "   "}, status: 400, field: "name"},
		{name: "road without county", method: "POST", path: roads, body: map[string]any{"name": "x路"}, status: 400, field: "county_id"},
		{name: "road without name", method: "POST", path: roads, body: map[string]any{"county_id": w.County[0]}, status: 400, field: "name"},
		{name: "merchant without road", method: "POST", path: merchants, body: map[string]any{"name": "x"}, status: 400, field: "road_id"},
		{name: "merchant without name", method: "POST", path: merchants, body: map[string]any{"road_id": w.Road[0]}, status: 400, field: "name"},
		{name: "merchant blank name", method: "PATCH", path: shop, body: map[string]any{"name": " "}, status: 400, field: "name"},
		{name: "login without password", method: "POST", path: login, body: map[string]any{"username": "admin"}, status: 400, field: "password"},
		{name: "login without username", method: "POST", path: login, body: map[string]any{"password": "x"}, status: 400, field: "username"},
		{name: "login empty body", method: "POST", path: login, body: ``, status: 400, field: "body"},
		{name: "reversal without reason", method: "POST", path: shop + "/ledger/1/reversal", body: map[string]any{}, status: 400, field: "reason"},

		// Over-long and unprintable text.
		{name: "merchant name 129 runes", method: "POST", path: merchants, body: m("name", long("店", 129)), status: 400, field: "name"},
		{name: "merchant name 129 runes by PATCH", method: "PATCH", path: shop, body: map[string]any{"name": long("店", 129)}, status: 400, field: "name"},
		{name: "county name 65 runes", method: "POST", path: counties, body: map[string]any{"code": "370311", "name": long("区", 65)}, status: 400, field: "name"},
		{name: "road name 65 runes", method: "POST", path: roads, body: map[string]any{"county_id": w.County[0], "name": long("路", 65)}, status: 400, field: "name"},
		{name: "town 65 runes", method: "PATCH", path: road, body: map[string]any{"town": long("街", 65)}, status: 400, field: "town"},
		{name: "address 256 runes", method: "POST", path: merchants, body: m("address", long("号", 256)), status: 400, field: "address"},
		{name: "owner 65 runes", method: "POST", path: merchants, body: m("owner_name", long("张", 65)), status: 400, field: "owner_name"},
		{name: "category 65 runes", method: "POST", path: merchants, body: m("category", long("类", 65)), status: 400, field: "category"},
		{name: "newline in name", method: "POST", path: merchants, body: m("name", "张记\n烧烤"), status: 400, field: "name"},
		{name: "NUL in name", method: "PATCH", path: shop, body: map[string]any{"name": "张记\x00烧烤"}, status: 400, field: "name"},
		{name: "60 KiB name is long, not too large", method: "POST", path: merchants, body: m("name", long("a", 60<<10)), status: 400, field: "name"},

		// USCC (GB 32100-2015).
		{name: "USCC wrong check character", method: "POST", path: merchants, body: m("uscc", wrongCheck), status: 400, field: "uscc"},
		{name: "USCC 17 characters", method: "POST", path: merchants, body: m("uscc", seedUSCC(0)[:17]), status: 400, field: "uscc"},
		{name: "USCC 19 characters", method: "POST", path: merchants, body: m("uscc", seedUSCC(0)+"0"), status: 400, field: "uscc"},
		{name: "USCC lowercase junk", method: "POST", path: merchants, body: m("uscc", "abcdefghijklmnopqr"), status: 400, field: "uscc"},
		{name: "USCC letters outside the alphabet", method: "POST", path: merchants, body: m("uscc", "91370303MA3COOOOOX"), status: 400, field: "uscc"},
		{name: "USCC with a space inside", method: "PATCH", path: shop, body: map[string]any{"uscc": seedUSCC(1)[:9] + " " + seedUSCC(1)[10:]}, status: 400, field: "uscc"},

		// Phone numbers.
		{name: "phone too short", method: "POST", path: merchants, body: m("phone", "12345"), status: 400, field: "phone"},
		{name: "mobile 10 digits", method: "POST", path: merchants, body: m("phone", "1385331234"), status: 400, field: "phone"},
		{name: "mobile 12 digits", method: "POST", path: merchants, body: m("phone", "138533123456"), status: 400, field: "phone"},
		{name: "mobile bad prefix", method: "POST", path: merchants, body: m("phone", "12853312345"), status: 400, field: "phone"},
		{name: "landline local part starts with 0", method: "PATCH", path: shop, body: map[string]any{"phone": "0533-0345678"}, status: 400, field: "phone"},
		{name: "phone with letters", method: "PATCH", path: shop, body: map[string]any{"phone": "138abcd5678"}, status: 400, field: "phone"},

		// County codes (GB/T 2260).
		{name: "county code 5 digits", method: "POST", path: counties, body: map[string]any{"code": "37030", "name": "测试区"}, status: 400, field: "code"},
		{name: "county code 7 digits", method: "POST", path: counties, body: map[string]any{"code": "3703031", "name": "测试区"}, status: 400, field: "code"},
		{name: "county code starting 9", method: "POST", path: counties, body: map[string]any{"code": "970303", "name": "测试区"}, status: 400, field: "code"},
		{name: "county code starting 0", method: "POST", path: counties, body: map[string]any{"code": "037030", "name": "测试区"}, status: 400, field: "code"},
		{name: "county code letters", method: "POST", path: counties, body: map[string]any{"code": "abcdef", "name": "测试区"}, status: 400, field: "code"},
		{name: "county code empty", method: "POST", path: counties, body: map[string]any{"code": "", "name": "测试区"}, status: 400, field: "code"},
		{name: "county code is not changeable", method: "PATCH", path: county, body: map[string]any{"code": "370399"}, status: 400, field: "code"},
		{name: "demo road target negative", method: "PATCH", path: county, body: map[string]any{"demo_road_target": -1}, status: 400, field: "demo_road_target"},
		{name: "demo road target 1001", method: "POST", path: counties, body: map[string]any{"code": "370311", "name": "测试区", "demo_road_target": 1001}, status: 400, field: "demo_road_target"},

		// Numbers out of range.
		{name: "lat 91", method: "POST", path: merchants, body: m("lat", 91), status: 400, field: "lat"},
		{name: "lat -90.0001", method: "PATCH", path: shop, body: map[string]any{"lat": -90.0001}, status: 400, field: "lat"},
		{name: "lng 180.5", method: "POST", path: merchants, body: m("lng", 180.5), status: 400, field: "lng"},
		{name: "lng -181", method: "PATCH", path: shop, body: map[string]any{"lng": -181}, status: 400, field: "lng"},
		{name: "length negative", method: "POST", path: roads, body: map[string]any{"county_id": w.County[0], "name": "x路", "length_m": -1}, status: 400, field: "length_m"},
		{name: "length 100001", method: "PATCH", path: road, body: map[string]any{"length_m": 100001}, status: 400, field: "length_m"},
		{name: "status open", method: "PATCH", path: shop, body: map[string]any{"status": "open"}, status: 400, field: "status"},
		{name: "road moved to another county", method: "PATCH", path: road, body: map[string]any{"county_id": w.County[0]}, status: 400, field: "county_id"},

		// Unknown ids.
		{name: "road_id 999999", method: "POST", path: merchants, body: m("road_id", 999999), status: 400, field: "road_id"},
		{name: "road_id 0", method: "POST", path: merchants, body: m("road_id", 0), status: 400, field: "road_id"},
		{name: "road_id negative", method: "POST", path: merchants, body: m("road_id", -1), status: 400, field: "road_id"},
		{name: "move to road 999999", method: "PATCH", path: shop, body: map[string]any{"road_id": 999999}, status: 400, field: "road_id"},
		{name: "move to another county's road", method: "PATCH", path: shop, body: map[string]any{"road_id": w.Road[0]}, status: 400, field: "road_id"},
		{name: "county_id 999999", method: "POST", path: roads, body: map[string]any{"county_id": 999999, "name": "x路"}, status: 400, field: "county_id"},
		{name: "officer 999999", method: "PATCH", path: road, body: map[string]any{"officer_ids": []int64{999999}}, status: 400, field: "officer_ids"},
		{name: "officer of another county", method: "PATCH", path: road, body: map[string]any{"officer_ids": []int64{w.OfficerID[0]}}, status: 400, field: "officer_ids"},
		{name: "new road with another county's officer", method: "POST", path: roads, body: map[string]any{"county_id": w.County[1], "name": "新路", "officer_ids": []int64{w.OfficerID[0]}}, status: 400, field: "officer_ids"},
		{name: "GET merchant 999999", method: "GET", path: merchants + "/999999", status: 404, code: "not_found"},
		{name: "GET merchant 0", method: "GET", path: merchants + "/0", status: 404, code: "not_found"},
		{name: "GET merchant -1", method: "GET", path: merchants + "/-1", status: 404, code: "not_found"},
		{name: "GET merchant abc", method: "GET", path: merchants + "/abc", status: 404, code: "not_found"},
		{name: "GET merchant id overflow", method: "GET", path: merchants + "/99999999999999999999", status: 404, code: "not_found"},
		{name: "PATCH merchant 999999", method: "PATCH", path: merchants + "/999999", body: map[string]any{"name": "x"}, status: 404, code: "not_found"},
		{name: "GET road 999999", method: "GET", path: roads + "/999999", status: 404, code: "not_found"},
		{name: "PATCH road 999999", method: "PATCH", path: roads + "/999999", body: map[string]any{"name": "x"}, status: 404, code: "not_found"},
		{name: "GET county 999999", method: "GET", path: counties + "/999999", status: 404, code: "not_found"},
		{name: "PATCH county 999999", method: "PATCH", path: counties + "/999999", body: map[string]any{"name": "x"}, status: 404, code: "not_found"},
		{name: "ledger of merchant 999999", method: "GET", path: merchants + "/999999/ledger", status: 404, code: "not_found"},
		{name: "reversal of entry 999999", method: "POST", path: shop + "/ledger/999999/reversal", body: map[string]any{"reason": "复核"}, status: 404, code: "not_found"},
		{name: "photo 999999", method: "GET", path: "/api/v1/photos/999999", status: 404, code: "not_found"},
		{name: "unknown route", method: "GET", path: "/api/v1/nothing-here", status: 404, code: "not_found"},
		{name: "method not allowed", method: "DELETE", path: shop, status: 405, code: "method_not_allowed"},

		// Duplicates.
		{name: "duplicate county code", method: "POST", path: counties, body: map[string]any{"code": seedCounties[0][0], "name": "又一个"}, status: 409, code: "duplicate"},
		{name: "duplicate USCC", method: "POST", path: merchants, body: m("uscc", seedUSCC(0)), status: 409, code: "duplicate"},
		{name: "duplicate USCC in lower case", method: "POST", path: merchants, body: m("uscc", strings.ToLower(seedUSCC(0))), status: 409, code: "duplicate"},
		{name: "duplicate USCC by PATCH", method: "PATCH", path: shop, body: map[string]any{"uscc": seedUSCC(0)}, status: 409, code: "duplicate"},
		{name: "duplicate username", method: "POST", path: users, body: user("username", "officer"+seedCounties[0][0]), status: 409, code: "duplicate"},
		{name: "duplicate road name", method: "POST", path: roads, body: map[string]any{"county_id": w.County[0], "name": "柳泉路"}, status: 409, code: "duplicate"},
		{name: "road renamed onto a taken name", method: "PATCH", path: road, body: map[string]any{"name": "般阳路"}, status: 409, code: "duplicate"},

		// Oversized bodies.
		{name: "body over 64 KiB", method: "POST", path: merchants, body: `{"name":"` + long("a", 70<<10) + `"}`, status: 413, code: "payload_too_large"},
		{name: "login body over 64 KiB", method: "POST", path: login, body: `{"username":"admin","password":"` + long("a", 65<<10) + `"}`, status: 413, code: "payload_too_large"},
		{name: "PATCH body over 64 KiB", method: "PATCH", path: shop, body: `{"address":"` + long("号", 30<<10) + `"}`, status: 413, code: "payload_too_large"},

		// Paging and query parameters.
		{name: "limit 101", method: "GET", path: merchants + "?limit=101", status: 400, field: "limit"},
		{name: "limit 0", method: "GET", path: merchants + "?limit=0", status: 400, field: "limit"},
		{name: "limit -1", method: "GET", path: merchants + "?limit=-1", status: 400, field: "limit"},
		{name: "limit abc", method: "GET", path: merchants + "?limit=abc", status: 400, field: "limit"},
		{name: "limit 1.5", method: "GET", path: merchants + "?limit=1.5", status: 400, field: "limit"},
		{name: "offset -1", method: "GET", path: merchants + "?offset=-1", status: 400, field: "offset"},
		{name: "offset abc", method: "GET", path: merchants + "?offset=abc", status: 400, field: "offset"},
		{name: "offset over a million", method: "GET", path: merchants + "?offset=1000001", status: 400, field: "offset"},
		{name: "county_id abc", method: "GET", path: merchants + "?county_id=abc", status: 400, field: "county_id"},
		{name: "road_id negative filter", method: "GET", path: merchants + "?road_id=-3", status: 400, field: "road_id"},
		{name: "status filter", method: "GET", path: merchants + "?status=open", status: 400, field: "status"},
		{name: "q 65 runes", method: "GET", path: merchants + "?q=" + url.QueryEscape(long("店", 65)), status: 400, field: "q"},
		{name: "roads limit 101", method: "GET", path: roads + "?limit=101", status: 400, field: "limit"},
		{name: "roads limit 0", method: "GET", path: roads + "?limit=0", status: 400, field: "limit"},
		{name: "roads county_id x", method: "GET", path: roads + "?county_id=x", status: 400, field: "county_id"},
		{name: "inspections limit 101", method: "GET", path: shop + "/inspections?limit=101", status: 400, field: "limit"},
		{name: "inspections offset -1", method: "GET", path: shop + "/inspections?offset=-1", status: 400, field: "offset"},
		{name: "ledger cycle 2026-13", method: "GET", path: shop + "/ledger?cycle=2026-13", status: 400, field: "cycle"},
		{name: "ledger cycle abc", method: "GET", path: shop + "/ledger?cycle=abc", status: 400, field: "cycle"},
		{name: "qrcode size 10", method: "GET", path: shop + "/qrcode.png?size=10", status: 400, field: "size"},
		{name: "qrcode size abc", method: "GET", path: shop + "/qrcode.png?size=abc", status: 400, field: "size"},

		// Accounts.
		{name: "password 7 characters", method: "POST", path: users, body: user("password", "short7!"), status: 400, field: "password"},
		{name: "password 73 characters", method: "POST", path: users, body: user("password", long("p", 73)), status: 400, field: "password"},
		{name: "bad role", method: "POST", path: users, body: user("role", "superuser"), status: 400, field: "role"},
		{name: "no role", method: "POST", path: users, body: user("role", nil), status: 400, field: "role"},
		{name: "username 2 characters", method: "POST", path: users, body: user("username", "ab"), status: 400, field: "username"},
		{name: "username with a space", method: "POST", path: users, body: user("username", "has space"), status: 400, field: "username"},
		{name: "username 65 characters", method: "POST", path: users, body: user("username", long("u", 65)), status: 400, field: "username"},
		{name: "username in Chinese", method: "POST", path: users, body: user("username", "巡查员"), status: 400, field: "username"},
		{name: "officer without county", method: "POST", path: users, body: user("county_id", nil), status: 400, field: "county_id"},
		{name: "officer of county 999999", method: "POST", path: users, body: user("county_id", 999999), status: 400, field: "county_id"},
		{name: "officer with a merchant", method: "POST", path: users, body: user("merchant_id", w.Merchant[0]), status: 400, field: "merchant_id"},
		{name: "merchant account without merchant", method: "POST", path: users, body: user("role", "merchant", "county_id", nil), status: 400, field: "merchant_id"},
		{name: "merchant account of merchant 999999", method: "POST", path: users, body: user("role", "merchant", "merchant_id", 999999, "county_id", nil), status: 400, field: "merchant_id"},
		{name: "merchant account in the wrong county", method: "POST", path: users, body: user("role", "merchant", "merchant_id", w.Merchant[0], "county_id", w.County[1]), status: 400, field: "county_id"},
		{name: "city admin with a county", method: "POST", path: users, body: user("role", "city_admin"), status: 400, field: "county_id"},
		{name: "county admin makes a county admin", county: true, method: "POST", path: users, body: user("role", "county_admin"), status: 403, code: "forbidden"},
		{name: "county admin makes a city admin", county: true, method: "POST", path: users, body: user("role", "city_admin", "county_id", nil), status: 403, code: "forbidden"},

		// Logins.
		{name: "wrong password", method: "POST", path: login, body: map[string]any{"username": "shop" + seedCounties[0][0], "password": "wrong-password"}, status: 401, code: "unauthorized"},
		{name: "unknown user", method: "POST", path: login, body: map[string]any{"username": "nobody_here", "password": "whatever-password"}, status: 401, code: "unauthorized"},
		{name: "username 65 characters at login", method: "POST", path: login, body: map[string]any{"username": long("u", 65), "password": "x"}, status: 400, field: "username"},
		{name: "request id is echoed", method: "POST", path: counties, body: `{`, headers: []string{"X-Request-ID", "client-req-000123"}, status: 400, field: "body"},
		{name: "bad request id is replaced", method: "POST", path: counties, body: `{`, headers: []string{"X-Request-ID", "x y"}, status: 400, field: "body"},
	}
	return cases
}

// TestBadInput sends each malformed, invalid, unknown, duplicate or
// oversized request and checks the documented status and code, the request
// id, the field named, and that no table or stored object changed.
func TestBadInput(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			w := seedFast(e)
			// A second road in county 1, so renaming onto its name is a duplicate.
			e.must(201, "POST", "/api/v1/roads", e.admin, map[string]any{"county_id": w.County[1], "name": "般阳路"})
			cases := badCases(w)
			// Nothing a case sends may change any table, so every case is
			// compared with the counts from before the first.
			counts := e.snapshot()
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					ce := *e
					ce.t = t
					checkBadCase(t, &ce, w, c, counts)
				})
			}
			t.Logf("%d cases", len(cases))
			t.Run("login rate limit", func(t *testing.T) {
				ce := *e
				ce.t = t
				testLoginRateLimit(t, &ce)
			})
		})
	}
}

func checkBadCase(t *testing.T, e *env, w world, c badCase, counts map[string]int64) {
	t.Helper()
	token := e.admin
	if c.county {
		token = w.Admin[0]
	}
	if strings.HasPrefix(c.path, "/api/v1/auth/") {
		token = ""
	}
	var before resp
	if c.method == "PATCH" {
		before = e.do("GET", c.path, e.admin, nil)
	}
	r := e.do(c.method, c.path, token, c.body, c.headers...)
	code := c.code
	if code == "" && c.status == 400 {
		code = "invalid_input"
	}
	checkErrorEnvelope(t, r, c.status, code)
	fields, _ := errPart(r, "fields").(map[string]any)
	switch {
	case c.status == 400 && c.field != "":
		if p, _ := fields[c.field].(string); p == "" {
			t.Errorf("error.fields does not name %q: %s", c.field, r.Body)
		}
	case c.status != 400 && len(fields) > 0:
		t.Errorf("fields on a %d: %s", c.status, r.Body)
	}
	for i := 0; i+1 < len(c.headers); i += 2 {
		if c.headers[i] != "X-Request-ID" {
			continue
		}
		got := r.Header.Get("X-Request-ID")
		if sane := !strings.Contains(c.headers[i+1], " "); sane && got != c.headers[i+1] {
			t.Errorf("X-Request-ID = %q, want the client's %q", got, c.headers[i+1])
		} else if !sane && (got == c.headers[i+1] || len(got) < 8) {
			t.Errorf("X-Request-ID = %q, want a fresh id instead of %q", got, c.headers[i+1])
		}
	}
	if after := e.snapshot(); !countsEqual(counts, after) {
		t.Errorf("tables changed: %v → %v", counts, after)
	}
	if c.method == "PATCH" && before.Status == 200 {
		if after := e.do("GET", c.path, e.admin, nil); string(after.Body) != string(before.Body) {
			t.Errorf("object changed:\n%s\n→\n%s", before.Body, after.Body)
		}
	}
}

// testLoginRateLimit: five failed logins for one username block it for the
// window (429 with a Retry-After of at most 15 minutes, counting down), the
// right password included; other usernames are unaffected; once the window
// has passed the right password works again. Nothing is stored meanwhile.
func testLoginRateLimit(t *testing.T, e *env) {
	start := e.clock.Now()
	t.Cleanup(func() { e.clock.Set(start) })
	user, pw := "officer"+seedCounties[1][0], seedPassword
	login := func(password string) resp {
		return e.do("POST", "/api/v1/auth/login", "", map[string]any{"username": user, "password": password})
	}
	counts := e.snapshot()
	for i := 1; i <= 5; i++ {
		checkErrorEnvelope(t, login(fmt.Sprintf("wrong-%d", i)), 401, "unauthorized")
	}
	retryAfter := func(r resp) int {
		t.Helper()
		checkErrorEnvelope(t, r, 429, "rate_limited")
		n, err := strconv.Atoi(r.Header.Get("Retry-After"))
		if err != nil || n < 1 || n > 900 {
			t.Errorf("Retry-After = %q, want whole seconds in 1..900", r.Header.Get("Retry-After"))
		}
		return n
	}
	first := retryAfter(login("wrong-6"))
	retryAfter(login(pw)) // the right password is refused too while blocked
	if r := e.do("POST", "/api/v1/auth/login", "", map[string]any{"username": "admin", "password": adminPassword}); r.Status != 200 {
		t.Errorf("another username is blocked too: %d %s", r.Status, r.Body)
	}
	e.clock.Set(start.Add(10 * time.Minute))
	if later := retryAfter(login(pw)); later != first-600 {
		t.Errorf("Retry-After %d ten minutes after %d, want %d", later, first, first-600)
	}
	if after := e.snapshot(); !countsEqual(counts, after) {
		t.Errorf("tables changed: %v → %v", counts, after)
	}
	e.clock.Set(start.Add(15*time.Minute + time.Second))
	if r := login(pw); r.Status != 200 || r.JSON["token"] == nil {
		t.Errorf("after the window: %d %s, want 200 with a token", r.Status, r.Body)
	}
}
