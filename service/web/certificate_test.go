package web_test

import (
	"context"
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/qrcodes"
	"github.com/menqian/menqian/service"
)

// secCertificates are the security fixture's credit certificates of the
// first shop: one the pages show, one the console revokes.
type secCertificates struct{ shown, revocable service.CertificateView }

var secCerts sync.Map // *secFixture → secCertificates

// certificates issues the fixture's certificates on first use.
func (f *secFixture) certificates() secCertificates {
	f.t.Helper()
	if c, ok := secCerts.Load(f); ok {
		return c.(secCertificates)
	}
	var c secCertificates
	var err error
	for _, v := range []*service.CertificateView{&c.shown, &c.revocable} {
		if *v, err = f.svc.IssueCertificate(context.Background(), f.w.Shop[0], f.w.Merchant[0]); err != nil {
			f.t.Fatal(err)
		}
	}
	secCerts.Store(f, c)
	f.t.Cleanup(func() { secCerts.Delete(f) })
	return c
}

// TestCertificatePages: the merchant issues a certificate from its pages and
// gets the print page with its star, score and QR code; the public page of
// its QR code says 真实有效, what it said and the star now; forged, tampered
// and revoked certificates are refused in words (404, 404, 410); another
// county's admin cannot revoke one, its own county admin can (after a
// confirmation with the reason, in the audit log); a merchant opens no other
// shop's certificate.
func TestCertificatePages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			w := e.seed()
			e.record(w.Officer[0], w.Merchant[0], "HJWS-02", 4)
			_, now, err := e.svc.MerchantOutlook(ctx, w.Shop[0], w.Merchant[0])
			if err != nil {
				t.Fatal(err)
			}

			shop := e.signedIn(w.ShopName[0])
			if p := shop.get("/merchant"); !strings.Contains(p.Body, `href="/merchant/certificates"`) {
				t.Errorf("the merchant's home does not link to its certificates")
			}
			if p := shop.get("/merchant/certificates"); p.Status != http.StatusOK || !strings.Contains(p.Body, "开具今天的信用证明") {
				t.Fatalf("certificates page: %d", p.Status)
			}
			p := shop.post("/merchant/certificates", nil)
			loc := p.Header.Get("Location")
			if p.Status != http.StatusSeeOther || !strings.HasPrefix(loc, "/merchant/certificates/") {
				t.Fatalf("issue: %d to %q", p.Status, loc)
			}
			id, _ := strconv.ParseInt(strings.TrimPrefix(loc, "/merchant/certificates/"), 10, 64)
			cert, err := e.svc.Certificate(ctx, w.Shop[0], id)
			if err != nil {
				t.Fatal(err)
			}
			if cert.Star != now.RatedStar || cert.Score != now.Score || cert.MerchantID != w.Merchant[0] {
				t.Errorf("certificate says %d★ %d, the shop has %d★ %d", cert.Star, cert.Score, now.RatedStar, now.Score)
			}
			pr := shop.get(loc)
			for _, want := range []string{`id="star">` + strconv.Itoa(now.RatedStar) + "<", `id="score">` + strconv.Itoa(now.Score) + "<",
				"张记烧烤张店区", `src="data:image/png;base64,`, cert.URL, "/static/certificate.css"} {
				if !strings.Contains(pr.Body, want) {
					t.Errorf("print page lacks %q", want)
				}
			}
			if got := shop.get("/merchant/certificates"); !strings.Contains(got.Body, cert.Serial) || !strings.Contains(got.Body, "有效") {
				t.Errorf("the merchant's list does not show the new certificate %s", cert.Serial)
			}

			// Authentic.
			token := cert.Token
			v := e.browser().get("/v/" + token)
			if v.Status != http.StatusOK || !strings.Contains(v.Body, "真实有效") || !strings.Contains(v.Body, "张记烧烤张店区") ||
				!strings.Contains(v.Body, `id="star">`+strconv.Itoa(cert.Star)+" 星") || !strings.Contains(v.Body, `id="star-now">`+strconv.Itoa(now.RatedStar)+"<") {
				t.Errorf("verification of an authentic certificate: %d %s", v.Status, between(v.Body, `id="result"`, "</main>"))
			}

			// Refused: made up, tampered, and a row edited in the database.
			serial, _ := qrcodes.NewSerial()
			b := []byte(token)
			b[len(b)-1] = qrcodes.CodeAlphabet[(strings.IndexByte(qrcodes.CodeAlphabet, b[len(b)-1])+1)%32]
			for name, tok := range map[string]string{"forged": serial + token[qrcodes.CodeLen:], "tampered": string(b), "malformed": "abc"} {
				if v := e.browser().get("/v/" + tok); v.Status != http.StatusNotFound || !strings.Contains(v.Body, "无法核实") ||
					strings.Contains(v.Body, "真实有效") || strings.Contains(v.Body, "张记烧烤") {
					t.Errorf("%s certificate: %d, want 404 saying 无法核实 and naming no shop", name, v.Status)
				}
			}
			if _, err := e.db.SQL().Exec("UPDATE credit_certificates SET star = star - 1 WHERE id = ?", id); err != nil {
				t.Fatal(err)
			}
			if v := e.browser().get("/v/" + token); v.Status != http.StatusNotFound || !strings.Contains(v.Body, "无法核实") {
				t.Errorf("a certificate edited in the database: %d, want 404", v.Status)
			}
			if _, err := e.db.SQL().Exec("UPDATE credit_certificates SET star = star + 1 WHERE id = ?", id); err != nil {
				t.Fatal(err)
			}

			// Another county's admin cannot revoke it; nothing changes.
			revoke := "/console/certificates/" + strconv.FormatInt(id, 10) + "/revoke"
			other := e.signedIn(w.AdminName[1])
			other.get("/console")
			before := e.snapshot()
			if p := other.post(revoke, url.Values{"confirm": {"1"}, "note": {"冒用"}}); p.Status != http.StatusNotFound || strings.Contains(p.Body, "张记烧烤") {
				t.Errorf("another county's admin revoking: %d, want 404 naming no shop", p.Status)
			}
			if after := e.snapshot(); !maps.Equal(before, after) {
				t.Errorf("another county's admin's revoke stored something: %v → %v", before, after)
			}

			// Its county admin: a confirmation, the reason required, then revoked.
			admin := e.signedIn(w.AdminName[0])
			admin.get("/console/shops/" + strconv.FormatInt(w.Merchant[0], 10))
			if p := admin.post(revoke, nil); p.Status != http.StatusOK || !strings.Contains(p.Body, "撤销理由") {
				t.Errorf("revoke without confirmation: %d, want the confirmation step", p.Status)
			}
			before = e.snapshot()
			if p := admin.post(revoke, url.Values{"confirm": {"1"}}); p.Status != http.StatusBadRequest || !strings.Contains(p.Body, "请填写撤销理由") {
				t.Errorf("revoke without a reason: %d, want 400 asking for it", p.Status)
			}
			if after := e.snapshot(); !maps.Equal(before, after) {
				t.Errorf("a revoke without a reason stored something")
			}
			if p := admin.post(revoke, url.Values{"confirm": {"1"}, "note": {"商户将证明改动后使用"}}); p.Status != http.StatusSeeOther {
				t.Fatalf("revoke: %d %s", p.Status, p.Body)
			}
			if p := admin.get("/console/shops/" + strconv.FormatInt(w.Merchant[0], 10)); !strings.Contains(between(p.Body, `id="certificates"`, "</section>"), "已撤销") {
				t.Errorf("the shop page does not show the certificate revoked")
			}
			if p := admin.get("/console/audit?kind=" + service.AuditCertificateRevoke); !strings.Contains(p.Body, cert.Serial) ||
				!strings.Contains(p.Body, "商户将证明改动后使用") || !strings.Contains(p.Body, "撤销信用证明") {
				t.Errorf("the audit log lacks the revocation with its reason")
			}
			if p := admin.post(revoke, url.Values{"confirm": {"1"}, "note": {"再次撤销"}}); p.Status != http.StatusConflict {
				t.Errorf("revoking twice: %d, want 409", p.Status)
			}
			v = e.browser().get("/v/" + token)
			if v.Status != http.StatusGone || !strings.Contains(v.Body, "已于") || !strings.Contains(v.Body, "被发证部门撤销，不再有效") ||
				strings.Contains(v.Body, "真实有效") || strings.Contains(v.Body, "商户将证明改动后使用") {
				t.Errorf("a revoked certificate: %d %s, want 410 saying it was revoked (not why)", v.Status, between(v.Body, `id="result"`, "</section>"))
			}
			if p := shop.get(loc); !strings.Contains(p.Body, `id="revoked"`) {
				t.Errorf("the merchant's print page of a revoked certificate does not say so")
			}

			// Another shop's merchant opens none of it.
			if p := e.signedIn(w.ShopName[1]).get(loc); p.Status != http.StatusNotFound || strings.Contains(p.Body, "张记烧烤张店区") {
				t.Errorf("another shop's certificate: %d, want 404 naming no shop", p.Status)
			}
		})
	}
}
