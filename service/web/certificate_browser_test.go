package web_test

import (
	"net/url"
	"strconv"
	"testing"

	"github.com/menqian/menqian/models"
)

// TestCertificateBrowser: in Chromium a merchant opens 信用证明 from its home,
// issues one, and its print page shows the star and score the API gives
// (GET /api/v1/merchants/{id} with the session); the page's QR URL opens the
// public verification page, which says 真实有效 and the star now, as the API.
func TestCertificateBrowser(t *testing.T) {
	t.Parallel()
	e := newEnv(t, models.SQLite)
	w := e.seed()
	e.record(w.Officer[0], w.Merchant[0], "HJWS-02", 4)
	e.record(w.Officer[0], w.Merchant[0], "BONUS-01", 1)
	b := e.chrome(t, through(e.pagesWithAPI()))
	b.login(w.ShopName[0], password)
	b.at("/merchant")
	b.click("开具和查看信用证明")
	b.at("/merchant/certificates")
	b.click("开具今天的信用证明")
	b.until("the certificate's print page", `/^\/merchant\/certificates\/\d+$/.test(location.pathname)`)

	api := `fetch('/api/v1/merchants/` + strconv.FormatInt(w.Merchant[0], 10) + `', {credentials: 'same-origin'}).then(r => r.json())`
	star := eval[int](b, `(async () => (await `+api+`).score.rated_star)()`)
	score := eval[int](b, `(async () => (await `+api+`).score.score)()`)
	if star < 1 || score != 97 {
		t.Fatalf("the API says %d★ %d points; want the 97 points the records give", star, score)
	}
	if got := b.within("#star"); got != strconv.Itoa(star) {
		t.Errorf("the certificate shows %s stars, the API %d", got, star)
	}
	if got := b.within("#score"); got != strconv.Itoa(score) {
		t.Errorf("the certificate shows %s points, the API %d", got, score)
	}
	if !eval[bool](b, `(i => i.complete && i.naturalWidth > 0)(document.querySelector('.verify img'))`) {
		t.Errorf("the QR code did not load")
	}
	b.noScriptErrors()

	// The QR code's URL (the public URL is another host in tests: its path).
	u, err := url.Parse(b.within(".url"))
	if err != nil || len(u.Path) < 4 || u.Path[:3] != "/v/" {
		t.Fatalf("the certificate's URL %q: %v", b.within(".url"), err)
	}
	b.open(u.Path)
	if got := b.within("#verdict"); got != "真实有效" {
		t.Errorf("the verification page says %q, want 真实有效", got)
	}
	if got := b.within("#star-now"); got != strconv.Itoa(star) {
		t.Errorf("the verification page's star now %s, the API %d", got, star)
	}
	if got := b.within("#shop"); got != "张记烧烤张店区" {
		t.Errorf("the verification page names %q", got)
	}
}
