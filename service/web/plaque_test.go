package web_test

import (
	"context"
	"encoding/json"
	"html/template"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/service"
	"github.com/menqian/menqian/service/policy"
)

// scanMerchant reads a merchant straight from the database.
func (e *env) scanMerchant(id int64) models.Merchant {
	e.t.Helper()
	m, err := e.db.MerchantByID(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return m
}

// scanToken is the token of the merchant's current plaque.
func (e *env) scanToken(id int64) string { return e.svc.PlaqueToken(e.scanMerchant(id)) }

// scanGet opens a path as b (nil: a browser without a session), with extra
// headers as name, value pairs.
func (e *env) scanGet(b *browser, path string, headers ...string) page {
	e.t.Helper()
	if b == nil {
		b = e.browser()
	}
	req, err := http.NewRequest("GET", e.srv.URL+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return b.do(req)
}

// scanJSON opens a plaque as a program does (Accept: application/json) and
// decodes the answer.
func (e *env) scanJSON(token string) (page, map[string]any) {
	e.t.Helper()
	p := e.scanGet(nil, "/q/"+token, "Accept", "application/json")
	if !strings.HasPrefix(p.Header.Get("Content-Type"), "application/json") {
		e.t.Fatalf("/q/%s with Accept: application/json answered %q: %.300s", token, p.Header.Get("Content-Type"), p.Body)
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(p.Body), &out); err != nil {
		e.t.Fatalf("/q/%s: bad JSON: %v: %.300s", token, err, p.Body)
	}
	return p, out
}

// scanErrorCode is error.code of a JSON error answer.
func scanErrorCode(j map[string]any) string {
	e, _ := j["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

// TestPlaquePagePublicOnly: the page a plaque opens shows anyone the shop's
// star, score, duties and every rule, and nothing private (owner, full
// phone, USCC, address); its JSON answer is the contract's public profile
// and no more. Only an officer or county admin of the shop's county, signed
// in, is offered to start an inspection. The star follows deductions, and a
// closed shop's plaque no longer resolves.
func TestPlaquePagePublicOnly(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			w := e.seed()
			ctx := context.Background()
			id := w.Merchant[0]
			if _, err := e.svc.UpdateMerchant(ctx, e.admin, id, service.MerchantInput{Address: ptr("张店区柳泉路 88 号 3 单元 501")}); err != nil {
				t.Fatal(err)
			}
			m := e.scanMerchant(id)
			tok := e.scanToken(id)
			private := []string{m.Phone, *m.USCC, m.OwnerName, "柳泉路 88 号", "3 单元 501"}

			r, prof := e.scanJSON(tok)
			if r.Status != http.StatusOK {
				t.Fatalf("JSON profile: %d %s", r.Status, r.Body)
			}
			want := map[string]any{"code": m.Code, "name": m.Name, "road": "柳泉路", "county": "张店区", "category": "餐饮",
				"star": 5.0, "rated_star": 5.0, "score": 100.0, "cycle": policy.Default().CycleOf(e.clock.Now()).String(),
				"history_months": 3.0}
			if h, ok := prof["history"].([]any); !ok || len(h) != 0 {
				t.Errorf("profile history = %v, want an empty list", prof["history"])
			}
			delete(prof, "history") // a list: see plaque_history_test.go
			for k, v := range want {
				if prof[k] != v {
					t.Errorf("profile %s = %v, want %v", k, prof[k], v)
				}
			}
			for k := range prof {
				if _, ok := want[k]; !ok {
					t.Errorf("profile has unexpected field %q = %v", k, prof[k])
				}
			}
			for _, p := range append(private, "138****2345") {
				if strings.Contains(r.Body, p) {
					t.Errorf("public JSON contains private %q: %s", p, r.Body)
				}
			}
			if strings.Contains(r.Body, `"id"`) || strings.Contains(r.Body, "photo") {
				t.Errorf("public JSON carries ids or photos: %s", r.Body)
			}
			if !strings.Contains(r.Header.Get("Vary"), "Accept") {
				t.Errorf("JSON Vary %q lacks Accept", r.Header.Get("Vary"))
			}

			page := e.scanGet(nil, "/q/"+tok)
			if page.Status != http.StatusOK || !strings.HasPrefix(page.Header.Get("Content-Type"), "text/html") {
				t.Fatalf("page: %d %q", page.Status, page.Header.Get("Content-Type"))
			}
			for _, p := range private {
				if strings.Contains(page.Body, p) {
					t.Errorf("public page contains private %q", p)
				}
			}
			pol := e.svc.Policy()
			shows := []string{`lang="zh-CN"`, "width=device-width", m.Name, "柳泉路", "张店区", "★★★★★", `id="score">100<`, "138****2345"}
			shows = append(shows, e.svc.Duties()...)
			for _, it := range pol.Items { // every rule, bonuses too: nothing is hidden
				shows = append(shows, it.Name)
			}
			for _, s := range shows {
				if !strings.Contains(page.Body, s) {
					t.Errorf("public page lacks %q", s)
				}
			}
			if strings.Contains(page.Body, "/inspect?t=") || strings.Contains(page.Body, "开始巡查") {
				t.Error("an anonymous visitor is offered to start an inspection")
			}
			if v := page.Header.Get("Vary"); !strings.Contains(v, "Accept") || !strings.Contains(v, "Cookie") {
				t.Errorf("page Vary %q, want Accept and Cookie", v)
			}
			if cc := page.Header.Get("Cache-Control"); cc != "no-cache" {
				t.Errorf("anonymous page Cache-Control %q, want no-cache", cc)
			}

			// Only a signed-in officer (or county admin) of the shop's county
			// gets the inspection button; a session that no longer signs in
			// counts as none.
			cityAdmin := e.browser()
			if p := cityAdmin.login("admin", adminPassword); p.Status != http.StatusSeeOther {
				t.Fatalf("city admin's login: %d", p.Status)
			}
			ended, err := e.svc.StartSession(ctx, w.OfficerName[0], password)
			if err != nil {
				t.Fatal(err)
			}
			if err := e.svc.EndSession(ctx, ended.ID); err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				name string
				b    *browser
				want bool
			}{
				{"officer of the county", e.signedIn(w.OfficerName[0]), true},
				{"county admin of the county", e.signedIn(w.AdminName[0]), true},
				{"officer of the other county", e.signedIn(w.OfficerName[1]), false},
				{"county admin of the other county", e.signedIn(w.AdminName[1]), false},
				{"the shop's merchant account", e.signedIn(w.ShopName[0]), false},
				{"city admin", cityAdmin, false},
				{"an ended session", scanWithCookie(e, ended.ID), false},
				{"a made-up session", scanWithCookie(e, "not-a-session"), false},
			} {
				p := e.scanGet(c.b, "/q/"+tok)
				if p.Status != http.StatusOK {
					t.Errorf("%s: status %d", c.name, p.Status)
					continue
				}
				link := `href="/inspect?t=` + tok + `"`
				if got := strings.Contains(p.Body, link) && strings.Contains(p.Body, "开始巡查"); got != c.want {
					t.Errorf("%s: inspection button %v, want %v", c.name, got, c.want)
				}
				if cc := p.Header.Get("Cache-Control"); cc != "private, no-store" {
					t.Errorf("%s: Cache-Control %q; a page opened with a session cookie is personal", c.name, cc)
				}
				for _, s := range private {
					if strings.Contains(p.Body, s) {
						t.Errorf("%s: page contains private %q", c.name, s)
					}
				}
			}

			// A deduction lowers the star; the page draws it. The public
			// profile may lag by its cache's few seconds, so read it after a
			// reissue, which forgets the cached profile.
			e.record(w.Officer[0], id, "ZXLH-01", 8)
			if _, err := e.svc.ReissuePlaque(ctx, w.Admin[0], id); err != nil {
				t.Fatal(err)
			}
			fresh := e.scanToken(id)
			if _, j := e.scanJSON(fresh); j["score"] != 92.0 || j["star"] != 4.0 || j["rated_star"] != 4.0 {
				t.Errorf("after −8: profile %v, want score 92, 4★", j)
			}
			if p := e.scanGet(nil, "/q/"+fresh); !strings.Contains(p.Body, `aria-label="4 星（满 5 星）"`) || !strings.Contains(p.Body, `id="score">92<`) ||
				strings.Count(p.Body[strings.Index(p.Body, `class="stars"`):], "★") < 4 {
				t.Errorf("page does not draw 4 of 5 stars and the score 92:\n%s", p.Body)
			}

			// A closed shop's plaque no longer resolves, and its page does not
			// name it.
			other := e.scanMerchant(w.Merchant[1])
			closedTok := e.scanToken(w.Merchant[1])
			if r, _ := e.scanJSON(closedTok); r.Status != http.StatusOK {
				t.Fatalf("open shop of the other county: %d", r.Status)
			}
			if _, err := e.svc.UpdateMerchant(ctx, e.admin, w.Merchant[1], service.MerchantInput{Status: ptr("closed")}); err != nil {
				t.Fatal(err)
			}
			if r, j := e.scanJSON(closedTok); r.Status != http.StatusNotFound || scanErrorCode(j) != "not_found" || strings.Contains(r.Body, other.Name) {
				t.Errorf("closed shop JSON: %d %s", r.Status, r.Body)
			}
			if p := e.scanGet(nil, "/q/"+closedTok); p.Status != http.StatusNotFound || strings.Contains(p.Body, other.Name) {
				t.Errorf("closed shop page: %d, names the shop: %v", p.Status, strings.Contains(p.Body, other.Name))
			}
		})
	}
}

// scanWithCookie is a browser holding a session cookie of the given value.
func scanWithCookie(e *env, value string) *browser {
	b := e.browser()
	u, _ := http.NewRequest("GET", e.srv.URL, nil)
	b.c.Jar.SetCookies(u.URL, []*http.Cookie{{Name: "menqian_session", Value: value, Path: "/"}})
	return b
}

// TestPlaqueReplacedAndForged: after a reissue the old plaque is 404 at once
// (even right after being scanned, so cached), in JSON and on the page, which
// says the plaque was replaced without naming the shop; the new plaque
// resolves; forged, altered and made-up tokens are 404 and say nothing of a
// replacement.
func TestPlaqueReplacedAndForged(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			w := e.seed()
			ctx := context.Background()
			id := w.Merchant[0]
			shop := e.scanMerchant(id).Name
			old := e.scanToken(id)
			// Scan it first, so a cached profile must not outlive the reissue.
			if r, _ := e.scanJSON(old); r.Status != http.StatusOK {
				t.Fatalf("before the reissue: %d %s", r.Status, r.Body)
			}
			if p := e.scanGet(nil, "/q/"+old); p.Status != http.StatusOK || !strings.Contains(p.Body, shop) {
				t.Fatalf("before the reissue, page: %d", p.Status)
			}

			if _, err := e.svc.ReissuePlaque(ctx, w.Admin[0], id); err != nil {
				t.Fatal(err)
			}
			fresh := e.scanToken(id)
			if fresh == old {
				t.Fatal("the reissue kept the token")
			}

			if r, j := e.scanJSON(old); r.Status != http.StatusNotFound || scanErrorCode(j) != "not_found" || strings.Contains(r.Body, shop) {
				t.Errorf("old token JSON: %d %s", r.Status, r.Body)
			}
			p := e.scanGet(nil, "/q/"+old)
			if p.Status != http.StatusNotFound || !strings.Contains(p.Body, "已更换") || strings.Contains(p.Body, shop) {
				t.Errorf("old token page: status %d, want 404 saying 已更换 without %q:\n%s", p.Status, shop, p.Body)
			}
			if !strings.HasPrefix(p.Header.Get("Content-Type"), "text/html") {
				t.Errorf("old token page Content-Type %q", p.Header.Get("Content-Type"))
			}
			if _, j := e.scanJSON(fresh); j["name"] != shop {
				t.Errorf("new token profile %v", j)
			}
			if p := e.scanGet(nil, "/q/"+fresh); p.Status != http.StatusOK || !strings.Contains(p.Body, shop) {
				t.Errorf("new token page: %d, names the shop: %v", p.Status, strings.Contains(p.Body, shop))
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
			for _, bad := range []string{flip(fresh, len(fresh)-1), flip(fresh, 0), fresh[:len(fresh)-1], fresh + "0",
				"AAAAAAAAAAAAAAAAAAAAAAA", "%00", e.scanMerchant(id).Code, strings.Repeat("A", 300)} {
				if r, j := e.scanJSON(bad); r.Status != http.StatusNotFound || scanErrorCode(j) != "not_found" || strings.Contains(r.Body, shop) {
					t.Errorf("forged %.40q JSON: %d %s", bad, r.Status, r.Body)
				}
				if p := e.scanGet(nil, "/q/"+bad); p.Status != http.StatusNotFound || strings.Contains(p.Body, shop) || strings.Contains(p.Body, "已更换") {
					t.Errorf("forged %.40q page: status %d\n%s", bad, p.Status, p.Body)
				}
			}
			// The other county's plaque is untouched by the reissue.
			if _, j := e.scanJSON(e.scanToken(w.Merchant[1])); j["name"] != e.scanMerchant(w.Merchant[1]).Name {
				t.Errorf("other shop's profile %v", j)
			}
		})
	}
}

// TestPlaquePageReused: the page a plaque opens for a visitor without a
// session is rendered once and reused (service/web/plaque_cache.go), so every
// scan must still carry the nonce of its own Content-Security-Policy, written
// as html/template writes it (a base64 nonce may hold '+'), and otherwise be
// the page as the template rendered it; a deduction shows on the next scan,
// as in the JSON answer.
func TestPlaquePageReused(t *testing.T) {
	t.Parallel()
	cspNonce := regexp.MustCompile(`'nonce-([^']+)'`)
	nonceAttr := regexp.MustCompile(`nonce="([^"]*)"`)
	attr := template.Must(template.New("").Parse(`<script nonce="{{.}}"></script>`))
	// written is the nonce as html/template writes it in the page.
	written := func(nonce string) string {
		var b strings.Builder
		if err := attr.Execute(&b, nonce); err != nil {
			t.Fatal(err)
		}
		return nonceAttr.FindStringSubmatch(b.String())[1]
	}
	// scan opens the page without a session and returns it with its nonces
	// blanked, after checking each is the response's own.
	scan := func(e *env, tok string) (body, nonce string) {
		t.Helper()
		p := e.scanGet(nil, "/q/"+tok)
		if p.Status != http.StatusOK || p.Header.Get("Content-Type") != "text/html; charset=utf-8" {
			t.Fatalf("page: %d %q", p.Status, p.Header.Get("Content-Type"))
		}
		m := cspNonce.FindStringSubmatch(p.Header.Get("Content-Security-Policy"))
		if m == nil {
			t.Fatalf("no nonce in the CSP %q", p.Header.Get("Content-Security-Policy"))
		}
		attrs := nonceAttr.FindAllStringSubmatch(p.Body, -1)
		if len(attrs) == 0 {
			t.Fatalf("page without a script nonce:\n%s", p.Body)
		}
		for _, a := range attrs {
			if a[1] != written(m[1]) {
				t.Fatalf("page nonce %q, want %q (the CSP's %q)", a[1], written(m[1]), m[1])
			}
		}
		return nonceAttr.ReplaceAllString(p.Body, `nonce=""`), m[1]
	}
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			w := e.seed()
			id := w.Merchant[0]
			tok := e.scanToken(id)
			first, _ := scan(e, tok)
			// Scan until a nonce with a '+' (escaped in the page) has been
			// seen: about one scan in three has one.
			plus := false
			for i := 0; i < 200 && (i < 3 || !plus); i++ {
				body, nonce := scan(e, tok)
				plus = plus || strings.Contains(nonce, "+")
				if body != first {
					t.Fatalf("scan %d differs from the first beyond its nonce:\n%s\n---\n%s", i+2, body, first)
				}
			}
			if !plus {
				t.Fatal("200 nonces without a '+'")
			}

			for range 2 { // the JSON is kept too: the second is the kept answer
				if _, j := e.scanJSON(tok); j["score"] != 100.0 {
					t.Fatalf("before the deduction: profile %v, want score 100", j)
				}
			}
			e.record(w.Officer[0], id, "ZXLH-01", 8)
			if _, j := e.scanJSON(tok); j["score"] != 92.0 || j["rated_star"] != 4.0 {
				t.Fatalf("after −8: profile %v, want score 92, 4★", j)
			}
			body, _ := scan(e, tok)
			if !strings.Contains(body, `id="score">92<`) || !strings.Contains(body, `aria-label="4 星（满 5 星）"`) {
				t.Errorf("after −8 the page still shows the old score:\n%s", body)
			}
			if again, _ := scan(e, tok); again != body {
				t.Errorf("the page after −8 differs between scans beyond its nonce:\n%s\n---\n%s", again, body)
			}
		})
	}
}
