package httpapi_test

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/service"
)

// TestOpen311ReadSide checks the GeoReport v2 resources against the spec's
// examples (JSON and XML), the filters, the errors in the spec's format, and
// that nothing of the reporter is published.
func TestOpen311ReadSide(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			w := e.seed()
			ctx := context.Background()
			get := func(path string) (int, string, string) {
				t.Helper()
				res, err := http.Get(e.srv.URL + path)
				if err != nil {
					t.Fatal(err)
				}
				defer res.Body.Close()
				body, _ := io.ReadAll(res.Body)
				checkAnswer(t, res.Request, res.StatusCode, res.Header, body)
				return res.StatusCode, res.Header.Get("Content-Type"), string(body)
			}
			report := func(m int64, item, phone, note string) string {
				t.Helper()
				shop, err := e.db.MerchantByID(ctx, m)
				if err != nil {
					t.Fatal(err)
				}
				r, err := e.svc.ReportCase(ctx, service.CaseReportInput{Token: e.svc.PlaqueToken(shop), RuleCode: item, Note: note,
					Phone: phone, Client: "198.51.100.7", Device: "device-1"})
				if err != nil {
					t.Fatal(err)
				}
				return r.Receipt
			}

			// Services: every deduction item and 其他, no bonus item.
			status, ctype, body := get("/open311/v2/services.json")
			var services []map[string]any
			if status != 200 || !strings.HasPrefix(ctype, "application/json") || json.Unmarshal([]byte(body), &services) != nil {
				t.Fatalf("services.json: %d %s %s", status, ctype, body)
			}
			codes := map[string]bool{}
			for _, s := range services {
				for _, k := range []string{"service_code", "service_name", "description", "metadata", "type", "keywords", "group"} {
					if _, ok := s[k]; !ok {
						t.Fatalf("service %v lacks %s", s, k)
					}
				}
				codes[s["service_code"].(string)] = true
			}
			deductions := 0
			for _, it := range e.svc.Policy().Items {
				if it.Kind == "deduction" {
					deductions++
				}
				if codes[it.Code] != (it.Kind == "deduction") {
					t.Errorf("service %s (%s) listed: %v", it.Code, it.Kind, codes[it.Code])
				}
			}
			if !codes["OTHER"] || len(services) != deductions+1 {
				t.Errorf("%d services, want the %d deduction items and OTHER", len(services), deductions)
			}
			status, ctype, body = get("/open311/v2/services.xml")
			var sx struct {
				XMLName  xml.Name `xml:"services"`
				Services []struct {
					Code     string `xml:"service_code"`
					Metadata bool   `xml:"metadata"`
					Type     string `xml:"type"`
				} `xml:"service"`
			}
			if status != 200 || !strings.HasPrefix(ctype, "application/xml") || xml.Unmarshal([]byte(body), &sx) != nil ||
				len(sx.Services) != len(services) || sx.Services[0].Type != "realtime" || !strings.HasPrefix(body, "<?xml") {
				t.Fatalf("services.xml: %d %s %+v\n%s", status, ctype, sx, body)
			}

			// A service's definition names the shop attribute; an unknown code is the spec's 404.
			status, _, body = get("/open311/v2/services/HJWS-01.json")
			var def struct {
				Code       string `json:"service_code"`
				Attributes []struct {
					Code     string `json:"code"`
					Datatype string `json:"datatype"`
				} `json:"attributes"`
			}
			if status != 200 || json.Unmarshal([]byte(body), &def) != nil || def.Code != "HJWS-01" || len(def.Attributes) != 1 ||
				def.Attributes[0].Code != "merchant_code" {
				t.Fatalf("definition: %d %s", status, body)
			}
			status, _, body = get("/open311/v2/services/HJWS-01.xml")
			if status != 200 || !strings.Contains(body, "<service_definition><service_code>HJWS-01</service_code><attributes><attribute>") {
				t.Fatalf("definition XML: %d %s", status, body)
			}
			for _, path := range []string{"/open311/v2/services/NOPE.json", "/open311/v2/requests/XXXXXXXXXX.json"} {
				status, _, body = get(path)
				var errs []struct {
					Code        int    `json:"code"`
					Description string `json:"description"`
				}
				if status != 404 || json.Unmarshal([]byte(body), &errs) != nil || len(errs) != 1 || errs[0].Code != 404 || errs[0].Description == "" {
					t.Errorf("%s: %d %s, want the spec's 404", path, status, body)
				}
			}
			status, _, body = get("/open311/v2/services/NOPE.xml")
			if status != 404 || !strings.Contains(body, "<errors><error><code>404</code><description>") {
				t.Errorf("unknown service in XML: %d %s", status, body)
			}

			// Requests: the cases, without the reporter.
			first := report(w.Merchant[0], "HJWS-01", "13853312399", "门口堆了纸箱，我是楼上住户")
			other := report(w.Merchant[1], "OTHER", "", "占道摆放桌椅")
			status, _, body = get("/open311/v2/requests.json")
			var reqs []map[string]any
			if status != 200 || json.Unmarshal([]byte(body), &reqs) != nil || len(reqs) != 2 {
				t.Fatalf("requests.json: %d %s", status, body)
			}
			for _, secret := range []string{"13853312399", "楼上住户", "纸箱", "占道", "198.51.100.7", "device-1"} {
				if strings.Contains(body, secret) {
					t.Errorf("requests.json publishes %q: %s", secret, body)
				}
			}
			byID := map[string]map[string]any{}
			for _, r := range reqs {
				byID[r["service_request_id"].(string)] = r
			}
			if r := byID[first]; r == nil || r["status"] != "open" || r["service_code"] != "HJWS-01" || r["agency_responsible"] != "张店区" ||
				!strings.HasSuffix(r["requested_datetime"].(string), "+08:00") || r["description"] != nil {
				t.Errorf("first request: %v", r)
			}
			// Filters.
			for _, tc := range []struct {
				query string
				want  []string
			}{
				{"?service_code=OTHER", []string{other}},
				{"?status=open", []string{first, other}},
				{"?status=closed", nil},
				{"?service_request_id=" + first, []string{first}},
				{"?end_date=2026-11-01T00:00:00%2B08:00", nil},
			} {
				_, _, body := get("/open311/v2/requests.json" + tc.query)
				var got []map[string]any
				if err := json.Unmarshal([]byte(body), &got); err != nil {
					t.Fatalf("%s: %s", tc.query, body)
				}
				if len(got) != len(tc.want) {
					t.Errorf("%s: %d requests, want %v: %s", tc.query, len(got), tc.want, body)
				}
				for i := range got {
					if i < len(tc.want) && !strings.Contains(strings.Join(tc.want, ","), got[i]["service_request_id"].(string)) {
						t.Errorf("%s: got %v", tc.query, got[i]["service_request_id"])
					}
				}
			}
			for _, q := range []string{"?start_date=yesterday", "?status=pending", "?service_code=NOPE",
				"?start_date=2026-11-20T00:00:00%2B08:00&end_date=2026-11-10T00:00:00%2B08:00"} {
				status, _, body := get("/open311/v2/requests.xml" + q)
				if status != 400 || !strings.Contains(body, "<errors><error><code>400</code><description>") {
					t.Errorf("requests.xml%s: %d %s, want the spec's 400", q, status, body)
				}
			}

			// One request, its token, and a closed case.
			status, _, body = get("/open311/v2/requests/" + first + ".xml")
			if status != 200 || !strings.Contains(body, "<service_requests><request><service_request_id>"+first+"</service_request_id><status>open</status>") {
				t.Fatalf("request XML: %d %s", status, body)
			}
			status, _, body = get("/open311/v2/tokens/" + first + ".json")
			if status != 200 || !strings.Contains(body, `"service_request_id":"`+first+`"`) || !strings.Contains(body, `"token":"`+first+`"`) {
				t.Fatalf("token: %d %s", status, body)
			}
			admin := e.svc
			c, err := e.db.CaseByReceipt(ctx, other)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := admin.DismissCase(ctx, adminActor(t, e, "admin370302", "password-370302"), c.ID, "非门前责任区问题"); err != nil {
				t.Fatal(err)
			}
			status, _, body = get("/open311/v2/requests/" + other + ".json")
			if status != 200 || !strings.Contains(body, `"status":"closed"`) || !strings.Contains(body, `"status_notes":"`+service.CaseStatusName("dismissed")+`"`) ||
				strings.Contains(body, "非门前责任区") {
				t.Errorf("dismissed request: %d %s", status, body)
			}
		})
	}
}

// adminActor signs a county admin in through the service.
func adminActor(t *testing.T, e *env, username, password string) service.Actor {
	t.Helper()
	res, err := e.svc.Login(context.Background(), username, password)
	if err != nil {
		t.Fatal(err)
	}
	a, err := e.svc.Authenticate(res.Token)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestOpen311FilesRequests files service requests with an api key the city
// admin issued: on a shop by its code or by location, or in the county's
// queue; a bad, missing or revoked key, an unknown service code and a missing
// location are answered in the spec's error format with nothing stored.
func TestOpen311FilesRequests(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			w := e.seed()
			ctx := context.Background()
			issued := e.must(201, "POST", "/api/v1/open311/keys", e.admin, map[string]any{"name": "城市运行平台"})
			key, _ := issued.JSON["key"].(string)
			if !strings.HasPrefix(key, service.Open311KeyPrefix) {
				t.Fatalf("issued key: %v", issued.JSON)
			}
			if list := e.must(200, "GET", "/api/v1/open311/keys", e.admin, nil); strings.Contains(string(list.Body), key) {
				t.Fatalf("the key list shows the key: %s", list.Body)
			}
			post := func(ext string, form url.Values) (int, string) {
				t.Helper()
				res, err := http.PostForm(e.srv.URL+"/open311/v2/requests."+ext, form)
				if err != nil {
					t.Fatal(err)
				}
				defer res.Body.Close()
				body, _ := io.ReadAll(res.Body)
				checkAnswer(t, res.Request, res.StatusCode, res.Header, body)
				return res.StatusCode, string(body)
			}
			cases := func() int {
				t.Helper()
				var n int
				if err := e.db.SQL().QueryRow("SELECT COUNT(*) FROM cases").Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}
			shop, err := e.db.MerchantByID(ctx, w.Merchant[0])
			if err != nil {
				t.Fatal(err)
			}
			// The shop stands at 36.8131° N, 118.0548° E.
			if _, err := e.db.SQL().Exec("UPDATE merchants SET lat = 36.8131, lng = 118.0548 WHERE id = ?", shop.ID); err != nil {
				t.Fatal(err)
			}
			good := func() url.Values {
				return url.Values{"api_key": {key}, "service_code": {"HJWS-01"}, "attribute[merchant_code]": {shop.Code},
					"description": {"门前堆放纸箱"}, "phone": {"13853312399"}}
			}

			// Refusals, in the spec's format, storing nothing.
			for _, tc := range []struct {
				name   string
				ext    string
				change func(url.Values)
				status int
			}{
				{"bad api_key", "json", func(f url.Values) { f.Set("api_key", "mq311_nope") }, 403},
				{"no api_key", "xml", func(f url.Values) { f.Del("api_key") }, 403},
				{"unknown service code", "json", func(f url.Values) { f.Set("service_code", "NOPE") }, 400},
				{"missing location", "xml", func(f url.Values) { f.Del("attribute[merchant_code]") }, 400},
				{"unknown shop", "json", func(f url.Values) { f.Set("attribute[merchant_code]", "ZZZZZZZZ") }, 400},
				{"lat without long", "json", func(f url.Values) { f.Del("attribute[merchant_code]"); f.Set("lat", "36.8") }, 400},
				{"far from any shop, no jurisdiction", "json", func(f url.Values) {
					f.Del("attribute[merchant_code]")
					f.Set("lat", "36.8150")
					f.Set("long", "118.0548")
				}, 400},
			} {
				before := cases()
				f := good()
				tc.change(f)
				status, body := post(tc.ext, f)
				wantBody := fmt.Sprintf(`[{"code":%d,"description":"`, tc.status)
				if tc.ext == "xml" {
					wantBody = fmt.Sprintf("<errors><error><code>%d</code><description>", tc.status)
				}
				if status != tc.status || !strings.Contains(body, wantBody) {
					t.Errorf("%s: %d %s, want %d in the spec's format", tc.name, status, body, tc.status)
				}
				if cases() != before {
					t.Errorf("%s: a case was stored", tc.name)
				}
			}

			// By the shop's code; the same problem again joins it.
			status, body := post("json", good())
			var filed []map[string]any
			if status != 201 || json.Unmarshal([]byte(body), &filed) != nil || len(filed) != 1 || filed[0]["account_id"] != nil {
				t.Fatalf("filed: %d %s", status, body)
			}
			id := filed[0]["service_request_id"].(string)
			c, err := e.db.CaseByReceipt(ctx, id)
			if err != nil || c.MerchantID == nil || *c.MerchantID != shop.ID || c.Source != "open311" || c.Status != "received" {
				t.Fatalf("case of %s: %+v %v", id, c, err)
			}
			status, body = post("xml", good())
			if status != 201 || !strings.Contains(body, "<service_request_id>"+id+"</service_request_id>") {
				t.Fatalf("second report: %d %s, want it joined to %s", status, body, id)
			}
			// By location: 20 m north of the shop finds it; its open case is joined.
			f := good()
			f.Del("attribute[merchant_code]")
			f.Set("lat", "36.81328")
			f.Set("long", "118.0548")
			if status, body := post("json", f); status != 201 || !strings.Contains(body, id) {
				t.Fatalf("20 m away: %d %s, want the shop's case %s", status, body, id)
			}
			// 200 m away with the county's code: the county's queue.
			f.Set("lat", "36.8149")
			f.Set("jurisdiction_id", "370303")
			status, body = post("json", f)
			if status != 201 || json.Unmarshal([]byte(body), &filed) != nil {
				t.Fatalf("county queue: %d %s", status, body)
			}
			q, err := e.db.CaseByReceipt(ctx, filed[0]["service_request_id"].(string))
			if err != nil || q.MerchantID != nil || q.CountyID != w.County[0] {
				t.Fatalf("queued case: %+v %v", q, err)
			}
			// Revoked, the key files nothing more.
			list := e.must(200, "GET", "/api/v1/open311/keys", e.admin, nil)
			keyID := int64(list.JSON["keys"].([]any)[0].(map[string]any)["id"].(float64))
			e.must(204, "POST", fmt.Sprintf("/api/v1/open311/keys/%d/revoke", keyID), e.admin, nil)
			before := cases()
			if status, body := post("json", good()); status != 403 || !strings.Contains(body, `"code":403`) || cases() != before {
				t.Errorf("revoked key: %d %s", status, body)
			}
			if n := cases(); n != 2 {
				t.Errorf("%d cases stored, want 2 (one joined three times, one queued)", n)
			}
			// Issuing and revoking are in the audit log, without the key.
			for _, kind := range []string{service.AuditOpen311Key, service.AuditOpen311Revoke} {
				var n int
				if err := e.db.SQL().QueryRow("SELECT COUNT(*) FROM audit_events WHERE kind = ? AND after_json NOT LIKE ?", kind, "%"+key+"%").Scan(&n); err != nil || n != 1 {
					t.Errorf("audit events %s without the key: %d (%v), want 1", kind, n, err)
				}
			}
		})
	}
}
