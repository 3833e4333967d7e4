package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/qrcodes"
	"github.com/menqian/menqian/service"
)

// TestCertificateAPI: the merchant issues a credit certificate of its star
// and score now (201, with the token and the verification URL); anyone
// verifies it without a token (200 valid, what it said and the star now);
// a forged, tampered or altered certificate is 404 not_found, a revoked one
// 410 revoked, each in the error format and with a zh-CN message.
func TestCertificateAPI(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			w := e.seed()
			shop := itoa(w.Merchant[0])
			e.must(201, "POST", "/api/v1/inspections", w.Officer[0], map[string]any{"merchant_id": w.Merchant[0],
				"items": []map[string]any{{"rule_code": "HJWS-02", "points": 4}}, "photos": []int64{w.Photo[0]}}, "Idempotency-Key", "cert-1")
			m := e.must(200, "GET", "/api/v1/merchants/"+shop, w.Shop[0], nil)
			score := m.JSON["score"].(map[string]any)

			c := e.must(201, "POST", "/api/v1/merchants/"+shop+"/certificates", w.Shop[0], nil)
			if c.JSON["star"] != score["rated_star"] || c.JSON["score"] != score["score"] || c.JSON["cycle"] != score["cycle"] ||
				c.JSON["code"] != m.JSON["code"] || c.JSON["name"] != m.JSON["name"] {
				t.Errorf("certificate %s does not say what the merchant view %s does", c.Body, m.Body)
			}
			token := c.JSON["token"].(string)
			if c.JSON["url"] != "http://mq.test/v/"+token {
				t.Errorf("url = %v, want the verification page of %s", c.JSON["url"], token)
			}
			list := e.must(200, "GET", "/api/v1/merchants/"+shop+"/certificates", w.Admin[0], nil)
			if items := itemsOf(t, list); len(items) != 1 || items[0]["token"] != token {
				t.Errorf("the county admin's list = %s", list.Body)
			}

			// Authentic: without a token; the star now moves with the shop.
			v := e.must(200, "GET", "/api/v1/certificates/"+strings.ToLower(token), "", nil)
			cert, now := v.JSON["certificate"].(map[string]any), v.JSON["now"].(map[string]any)
			if v.JSON["valid"] != true || cert["star"] != c.JSON["star"] || cert["score"] != c.JSON["score"] || cert["name"] != c.JSON["name"] ||
				now["active"] != true || now["rated_star"] != score["rated_star"] {
				t.Errorf("verification = %s", v.Body)
			}
			if strings.Contains(string(v.Body), `"id"`) || strings.Contains(string(v.Body), "merchant_id") {
				t.Errorf("the public verification carries ids: %s", v.Body)
			}
			e.must(201, "POST", "/api/v1/inspections", w.Officer[0], map[string]any{"merchant_id": w.Merchant[0],
				"items": []map[string]any{{"rule_code": "ZXLH-05"}}, "photos": []int64{w.Photo[0]}}, "Idempotency-Key", "cert-2")
			v = e.must(200, "GET", "/api/v1/certificates/"+token, "", nil)
			if cert, now := v.JSON["certificate"].(map[string]any), v.JSON["now"].(map[string]any); cert["star"] != c.JSON["star"] || now["rated_star"] != 2.0 {
				t.Errorf("after a serious item: verification %s, want the certificate's star kept and 2 stars now", v.Body)
			}

			// Refused: made up, tampered, altered in the database.
			flip := func(i int) string {
				b := []byte(token)
				b[i] = qrcodes.CodeAlphabet[(strings.IndexByte(qrcodes.CodeAlphabet, b[i])+1)%32]
				return string(b)
			}
			serial, _ := qrcodes.NewSerial()
			for name, tok := range map[string]string{
				"made up":          serial + "0123456789ABC",
				"a changed MAC":    flip(len(token) - 1),
				"a changed serial": flip(0),
				"malformed":        "not-a-token",
			} {
				r := e.do("GET", "/api/v1/certificates/"+tok, "", nil)
				checkErrorEnvelope(t, r, http.StatusNotFound, "not_found")
				if !strings.Contains(errPart(r, "message").(string), "无法核实") {
					t.Errorf("%s: message %v", name, errPart(r, "message"))
				}
			}
			if _, err := e.db.SQL().Exec("UPDATE credit_certificates SET score = score + 10"); err != nil {
				t.Fatal(err)
			}
			checkErrorEnvelope(t, e.do("GET", "/api/v1/certificates/"+token, "", nil), http.StatusNotFound, "not_found")
			if _, err := e.db.SQL().Exec("UPDATE credit_certificates SET score = score - 10"); err != nil {
				t.Fatal(err)
			}
			e.must(200, "GET", "/api/v1/certificates/"+token, "", nil)

			// Revoked: 410.
			admin, err := e.svc.Authenticate(w.Admin[0])
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.svc.RevokeCertificate(context.Background(), admin, int64(jnum(c.JSON["id"])), "商户冒用"); err != nil {
				t.Fatal(err)
			}
			r := e.do("GET", "/api/v1/certificates/"+token, "", nil)
			checkErrorEnvelope(t, r, http.StatusGone, service.CodeRevoked)
			if msg, _ := errPart(r, "message").(string); !strings.Contains(msg, "撤销") || !strings.Contains(msg, "2026年11月15日") {
				t.Errorf("revoked: message %q, want it to say when it was revoked", msg)
			}
			list = e.must(200, "GET", "/api/v1/merchants/"+shop+"/certificates", w.Shop[0], nil)
			if items := itemsOf(t, list); len(items) != 1 || items[0]["revoked"] != true || items[0]["revoked_at"] == nil {
				t.Errorf("the merchant's list after revoking = %s", list.Body)
			}

			// A closed shop issues none.
			e.must(200, "PATCH", "/api/v1/merchants/"+shop, w.Admin[0], map[string]any{"status": "closed"})
			before := e.count("credit_certificates", "merchant_id = ?", w.Merchant[0])
			checkErrorEnvelope(t, e.do("POST", "/api/v1/merchants/"+shop+"/certificates", w.Shop[0], nil), http.StatusConflict, "conflict")
			if after := e.count("credit_certificates", "merchant_id = ?", w.Merchant[0]); after != before {
				t.Errorf("a closed shop's refused certificate was stored (%d → %d)", before, after)
			}
		})
	}
}
