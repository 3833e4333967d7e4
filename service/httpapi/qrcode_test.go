package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"net/http"
	"strings"
	"testing"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/qrcodes/qrtest"
	"github.com/menqian/menqian/service/policy"
)

// decodeQR decodes a PNG with ZXing (a decoder no one here wrote).
func decodeQR(t testing.TB, data []byte) string {
	t.Helper()
	text, _, err := qrtest.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	return text
}

// merchant reads a merchant straight from the database.
func (e *env) merchant(id int64) models.Merchant {
	e.t.Helper()
	m, err := e.db.MerchantByID(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return m
}

// plaqueURL is what the merchant's current plaque must encode.
func (e *env) plaqueURL(id int64) string {
	return "http://mq.test/q/" + e.svc.PlaqueToken(e.merchant(id))
}

func (e *env) token(id int64) string { return e.svc.PlaqueToken(e.merchant(id)) }

func TestQRCodePNG(t *testing.T) {
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			e := newEnv(t, d)
			w := e.seed()
			path := fmt.Sprintf("/api/v1/merchants/%d/qrcode.png", w.Merchant[0])
			want := e.plaqueURL(w.Merchant[0])

			for _, size := range []int{128, 512, 2048} {
				r := e.must(200, "GET", fmt.Sprintf("%s?size=%d", path, size), w.Officer[0], nil)
				if ct := r.Header.Get("Content-Type"); ct != "image/png" {
					t.Errorf("size %d: Content-Type %q", size, ct)
				}
				if got := decodeQR(t, r.Body); got != want {
					t.Errorf("size %d: decoded %q, want %q", size, got, want)
				}
				cfg, err := png.DecodeConfig(bytes.NewReader(r.Body))
				if err != nil || cfg.Width > size || cfg.Width < size*3/4 {
					t.Errorf("size %d: image %dx%d (%v)", size, cfg.Width, cfg.Height, err)
				}
			}
			// Default size, county admin and city admin too.
			for _, tok := range []string{w.Admin[0], e.admin} {
				if got := decodeQR(t, e.must(200, "GET", path, tok, nil).Body); got != want {
					t.Errorf("default size: decoded %q, want %q", got, want)
				}
			}

			// ETag: the same plaque and size is 304; another size is another tag.
			r := e.must(200, "GET", path+"?size=512", w.Officer[0], nil)
			etag := r.Header.Get("ETag")
			if etag == "" {
				t.Fatal("no ETag")
			}
			if nm := e.do("GET", path+"?size=512", w.Officer[0], nil, "If-None-Match", etag); nm.Status != http.StatusNotModified || len(nm.Body) != 0 {
				t.Errorf("If-None-Match: status %d, %d bytes; want 304 and no body", nm.Status, len(nm.Body))
			}
			if other := e.must(200, "GET", path+"?size=1024", w.Officer[0], nil); other.Header.Get("ETag") == etag {
				t.Error("size 1024 has the ETag of size 512")
			}
			// A reissued plaque changes the image, so the old tag must not match.
			e.must(200, "POST", fmt.Sprintf("/api/v1/merchants/%d/qrcode/reissue", w.Merchant[0]), w.Admin[0], nil)
			if again := e.do("GET", path+"?size=512", w.Officer[0], nil, "If-None-Match", etag); again.Status != 200 {
				t.Errorf("after reissue, old ETag: status %d, want 200", again.Status)
			} else if got := decodeQR(t, again.Body); got != e.plaqueURL(w.Merchant[0]) || got == want {
				t.Errorf("after reissue decoded %q, want the new URL %q", got, e.plaqueURL(w.Merchant[0]))
			}

			for _, c := range []struct {
				name, path, token string
				status            int
				code              string
			}{
				{"size too small", path + "?size=127", w.Officer[0], 400, "invalid_input"},
				{"size too large", path + "?size=2049", w.Officer[0], 400, "invalid_input"},
				{"size not a number", path + "?size=big", w.Officer[0], 400, "invalid_input"},
				{"officer of the other county", path, w.Officer[1], 404, "not_found"},
				{"admin of the other county", path, w.Admin[1], 404, "not_found"},
				{"the merchant itself", path, w.Shop[0], 403, "forbidden"},
				{"no login", path, "", 401, "unauthorized"},
				{"unknown merchant", "/api/v1/merchants/999999/qrcode.png", w.Officer[0], 404, "not_found"},
			} {
				if r := e.do("GET", c.path, c.token, nil); r.Status != c.status || r.code() != c.code {
					t.Errorf("%s: status %d code %q, want %d %q", c.name, r.Status, r.code(), c.status, c.code)
				}
			}
		})
	}
}

func TestReissuePlaque(t *testing.T) {
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			e := newEnv(t, d)
			w := e.seed()
			id := w.Merchant[0]
			shop := e.merchant(id).Name
			old := e.token(id)
			// Scan it first, so a cached profile must not outlive the reissue.
			e.must(200, "GET", "/q/"+old, "", nil, "Accept", "application/json")
			e.must(200, "GET", "/q/"+old, "", nil)

			reissue := fmt.Sprintf("/api/v1/merchants/%d/qrcode/reissue", id)
			for _, c := range []struct {
				name, token string
				status      int
			}{
				{"officer", w.Officer[0], 403},
				{"merchant", w.Shop[0], 403},
				{"admin of the other county", w.Admin[1], 404},
			} {
				if r := e.do("POST", reissue, c.token, nil); r.Status != c.status {
					t.Errorf("reissue by %s: status %d, want %d", c.name, r.Status, c.status)
				}
			}
			if got := e.token(id); got != old {
				t.Fatal("a refused reissue changed the token")
			}

			r := e.must(200, "POST", reissue, w.Admin[0], nil)
			fresh, _ := r.JSON["token"].(string)
			if fresh == "" || fresh == old || fresh != e.token(id) {
				t.Fatalf("reissue token %q (old %q, stored %q)", fresh, old, e.token(id))
			}
			if u, _ := r.JSON["url"].(string); u != "http://mq.test/q/"+fresh {
				t.Errorf("reissue url %q", u)
			}

			// The old plaque: 404 in JSON and HTML; the page says it was
			// replaced and does not name the shop.
			if r := e.do("GET", "/q/"+old, "", nil, "Accept", "application/json"); r.Status != 404 || r.code() != "not_found" {
				t.Errorf("old token JSON: %d %s", r.Status, r.Body)
			} else if strings.Contains(string(r.Body), shop) {
				t.Errorf("old token JSON names the shop: %s", r.Body)
			}
			page := e.do("GET", "/q/"+old, "", nil)
			if page.Status != 404 || !strings.Contains(string(page.Body), "已更换") || strings.Contains(string(page.Body), shop) {
				t.Errorf("old token HTML: status %d, want 404 saying 已更换 without %q:\n%s", page.Status, shop, page.Body)
			}
			// The new plaque resolves.
			if r := e.must(200, "GET", "/q/"+fresh, "", nil, "Accept", "application/json"); r.JSON["name"] != shop {
				t.Errorf("new token profile %v", r.JSON)
			}
			if r := e.must(200, "GET", "/q/"+fresh, "", nil); !strings.Contains(string(r.Body), shop) {
				t.Error("new token page does not name the shop")
			}

			// Forged and altered tokens.
			flip := func(s string, i int) string {
				b := []byte(s)
				if b[i] == 'A' {
					b[i] = 'B'
				} else {
					b[i] = 'A'
				}
				return string(b)
			}
			for _, bad := range []string{flip(fresh, len(fresh)-1), flip(fresh, 0), fresh[:len(fresh)-1], fresh + "0", "AAAAAAAAAAAAAAAAAAAAAAA", "%00", e.merchant(id).Code} {
				if r := e.do("GET", "/q/"+bad, "", nil, "Accept", "application/json"); r.Status != 404 {
					t.Errorf("forged %q JSON: status %d", bad, r.Status)
				}
				if r := e.do("GET", "/q/"+bad, "", nil); r.Status != 404 || strings.Contains(string(r.Body), shop) || strings.Contains(string(r.Body), "已更换") {
					t.Errorf("forged %q HTML: status %d\n%s", bad, r.Status, r.Body)
				}
			}

			// Inspecting by scan: old and forged plaques record nothing.
			inspect := func(token, key string) resp {
				return e.do("POST", "/api/v1/inspections", w.Officer[0], map[string]any{"qr_token": token,
					"items": []map[string]any{{"rule_code": "BONUS-01"}}}, "Idempotency-Key", key)
			}
			before := e.snapshot()
			for i, bad := range []string{old, flip(fresh, len(fresh)-2)} {
				if r := inspect(bad, fmt.Sprint("bad-", i)); r.Status != 404 || r.code() != "not_found" {
					t.Errorf("inspection with token %q: %d %s", bad, r.Status, r.Body)
				}
			}
			if after := e.snapshot(); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Errorf("refused inspections stored something:\nbefore %v\nafter  %v", before, after)
			}
			r = inspect(fresh, "good-1")
			if r.Status != 201 {
				t.Fatalf("inspection with the new token: %d %s", r.Status, r.Body)
			}
			if mid, _ := r.JSON["merchant_id"].(float64); int64(mid) != id {
				t.Errorf("inspection recorded for merchant %v, want %d", r.JSON["merchant_id"], id)
			}
			// An officer of the other county cannot inspect by scanning either.
			if r := e.do("POST", "/api/v1/inspections", w.Officer[1], map[string]any{"qr_token": fresh,
				"items": []map[string]any{{"rule_code": "BONUS-01"}}}, "Idempotency-Key", "other-1"); r.Status != 404 {
				t.Errorf("other county's officer inspecting by token: %d %s", r.Status, r.Body)
			}
			e.checkClean()
		})
	}
}

func TestScanLandingPublicOnly(t *testing.T) {
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			e := newEnv(t, d)
			w := e.seed()
			id := w.Merchant[0]
			m := e.merchant(id)
			e.must(200, "PATCH", fmt.Sprintf("/api/v1/merchants/%d", id), w.Admin[0], map[string]any{"address": "张店区柳泉路 88 号 3 单元 501"})
			tok := e.token(id)
			private := []string{m.Phone, *m.USCC, m.OwnerName, "柳泉路 88 号", "3 单元 501"}

			r := e.must(200, "GET", "/q/"+tok, "", nil, "Accept", "application/json")
			var prof map[string]any
			if err := json.Unmarshal(r.Body, &prof); err != nil {
				t.Fatal(err)
			}
			want := map[string]any{"code": m.Code, "name": m.Name, "road": "柳泉路", "star": 5.0, "rated_star": 5.0, "score": 100.0,
				"cycle": policy.Default().CycleOf(e.clock.Now()).String()}
			for k, v := range want {
				if prof[k] != v {
					t.Errorf("profile %s = %v, want %v", k, prof[k], v)
				}
			}
			allowed := map[string]bool{"county": true, "category": true}
			for k := range prof {
				if _, ok := want[k]; !ok && !allowed[k] {
					t.Errorf("profile has unexpected field %q = %v", k, prof[k])
				}
			}
			for _, p := range private {
				if strings.Contains(string(r.Body), p) {
					t.Errorf("public JSON contains private %q: %s", p, r.Body)
				}
			}
			if strings.Contains(string(r.Body), fmt.Sprint(`"id":`)) || strings.Contains(string(r.Body), "photo") {
				t.Errorf("public JSON carries ids or photos: %s", r.Body)
			}

			page := e.must(200, "GET", "/q/"+tok, "", nil)
			body := string(page.Body)
			if !strings.HasPrefix(page.Header.Get("Content-Type"), "text/html") {
				t.Errorf("Content-Type %q", page.Header.Get("Content-Type"))
			}
			for _, p := range private {
				if strings.Contains(body, p) {
					t.Errorf("public page contains private %q", p)
				}
			}
			for _, s := range []string{`lang="zh-CN"`, "width=device-width", m.Name, "柳泉路", "★★★★★", "100", "138****2345",
				"包环境卫生", "包绿化美观", "HJWS-01", "ZXLH-05", "BONUS-04"} {
				if !strings.Contains(body, s) {
					t.Errorf("public page lacks %q", s)
				}
			}
			if strings.Contains(body, "/inspect?t=") {
				t.Error("anonymous visitor is offered to start an inspection")
			}
			if !strings.Contains(page.Header.Get("Vary"), "Accept") {
				t.Errorf("Vary %q lacks Accept", page.Header.Get("Vary"))
			}

			// Only a logged-in officer (or admin) of the shop's county gets the
			// inspection link, by bearer token or by the page's cookie.
			for _, c := range []struct {
				name    string
				headers []string
				want    bool
			}{
				{"officer by bearer", []string{"Authorization", "Bearer " + w.Officer[0]}, true},
				{"officer by cookie", []string{"Cookie", "menqian_token=" + w.Officer[0]}, true},
				{"county admin", []string{"Authorization", "Bearer " + w.Admin[0]}, true},
				{"officer of the other county", []string{"Authorization", "Bearer " + w.Officer[1]}, false},
				{"the merchant", []string{"Cookie", "menqian_token=" + w.Shop[0]}, false},
				{"a bad cookie", []string{"Cookie", "menqian_token=not-a-token"}, false},
			} {
				r := e.must(200, "GET", "/q/"+tok, "", nil, c.headers...)
				if got := strings.Contains(string(r.Body), "/inspect?t="+tok); got != c.want {
					t.Errorf("%s: inspection link %v, want %v", c.name, got, c.want)
				}
			}

			// A deduction lowers the star; the page draws it. The public page
			// may lag by the cache's few seconds, so read the API first (fresh)
			// and the page after the cache has been bypassed by a reissue.
			e.must(201, "POST", "/api/v1/inspections", w.Officer[0], map[string]any{"merchant_id": id, "photos": []int64{w.Photo[0]},
				"items": []map[string]any{{"rule_code": "ZXLH-01", "points": 8}}}, "Idempotency-Key", "ded-1")
			fresh := e.must(200, "POST", fmt.Sprintf("/api/v1/merchants/%d/qrcode/reissue", id), w.Admin[0], nil).JSON["token"].(string)
			r = e.must(200, "GET", "/q/"+fresh, "", nil, "Accept", "application/json")
			if r.JSON["score"] != 92.0 || r.JSON["star"] != 4.0 || r.JSON["rated_star"] != 4.0 {
				t.Errorf("after −8: profile %v, want score 92, 4★", r.JSON)
			}
			if body := string(e.must(200, "GET", "/q/"+fresh, "", nil).Body); !strings.Contains(body, "★★★★☆") || !strings.Contains(body, "92") {
				t.Error("page does not draw 4 of 5 stars and the score 92")
			}

			// A closed shop's plaque no longer resolves.
			e.must(200, "PATCH", fmt.Sprintf("/api/v1/merchants/%d", w.Merchant[1]), e.admin, map[string]any{"status": "closed"})
			if r := e.do("GET", "/q/"+e.token(w.Merchant[1]), "", nil, "Accept", "application/json"); r.Status != 404 {
				t.Errorf("closed shop: status %d", r.Status)
			}
		})
	}
}
