package web_test

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"maps"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/service"
	"github.com/menqian/menqian/service/web"
)

// The accounts the security tests sign in as, all of the first county.
const (
	asMerchant = "merchant"     // the first shop
	asOfficer  = "officer"      // the first county's officer
	asCounty   = "county_admin" // the first county's admin
	asCity     = "city_admin"   // the bootstrap city admin
	asNobody   = "nobody"       // no session
)

var signedInRoles = []string{asMerchant, asOfficer, asCounty, asCity}

// secFixture is the seeded world with evidence in it: in each county a
// deduction and an open notice (with an officer's photo) of the shop with an
// account, and the same of the first county's other shop.
type secFixture struct {
	*env
	w                                   world
	entry, notice, photo                [2]int64 // of w.Merchant[i]
	otherEntry, otherNotice, otherPhoto int64    // of w.Other[0], the first shop's neighbour
	token                               [2]string
	shopNames                           []string // every seeded shop's name
	browsers                            map[string]*browser
	seq                                 int         // for photos nobody has uploaded yet
	consoleSec                          *consoleSec // the console's requests' data, made on first use (consoleData)
	repairApp                           int64       // a pending repair application of the first county (repairCase)
	// Citizens' cases of the first county: one received, one dispatched to
	// its officer, one closed (its receipt).
	received, dispatched int64
	closedReceipt        string
	spot                 spotCheckSec // the random audits' (spotcheck_test.go)
}

func newSecFixture(t *testing.T, d models.Dialect) *secFixture {
	t.Helper()
	e := newEnv(t, d)
	f := &secFixture{env: e, w: e.seed(), browsers: map[string]*browser{}, seq: 40000}
	ctx := context.Background()
	for i := range 2 {
		f.entry[i] = e.record(f.w.Officer[i], f.w.Merchant[i], "HJWS-01", 2)
		f.notice[i], f.photo[i] = f.issueNotice(f.w.Officer[i], f.w.Merchant[i], "SRZJ-01")
		m, err := e.svc.Merchant(ctx, e.admin, f.w.Merchant[i])
		if err != nil {
			t.Fatal(err)
		}
		f.token[i] = e.svc.PlaqueToken(m)
	}
	f.cases()
	f.spot = newSpotCheckSec(f)
	f.otherEntry = e.record(f.w.Officer[0], f.w.Other[0], "HJWS-02", 3)
	f.otherNotice, f.otherPhoto = f.issueNotice(f.w.Officer[0], f.w.Other[0], "SRZJ-02")
	for _, c := range seedCounties {
		f.shopNames = append(f.shopNames, "张记烧烤"+c[1], "李家面馆"+c[1])
	}
	return f
}

// cases files the fixture's citizens' cases through the service.
func (f *secFixture) cases() {
	f.t.Helper()
	ctx := context.Background()
	admin, officer := f.w.Admin[0], f.w.Officer[0]
	file := func(m int64, item string) int64 {
		f.t.Helper()
		r, err := f.svc.ReportCase(ctx, service.CaseReportInput{Token: f.token[0], RuleCode: item, Note: "门前堆放杂物",
			Client: "192.0.2.1", Device: "sec-device"})
		if err != nil {
			f.t.Fatal(err)
		}
		c, err := f.db.CaseByReceipt(ctx, r.Receipt)
		if err != nil {
			f.t.Fatal(err)
		}
		return c.ID
	}
	must := func(_ any, err error) {
		f.t.Helper()
		if err != nil {
			f.t.Fatal(err)
		}
	}
	f.received = file(f.w.Merchant[0], "HJWS-01")
	f.dispatched = file(f.w.Merchant[0], "HJWS-02")
	must(f.svc.AcceptCase(ctx, admin, f.dispatched))
	must(f.svc.DispatchCase(ctx, admin, f.dispatched, officer.UserID))
	closed := file(f.w.Merchant[0], "OTHER")
	must(f.svc.AcceptCase(ctx, admin, closed))
	must(f.svc.DispatchCase(ctx, admin, closed, officer.UserID))
	must(f.svc.HandleCase(ctx, officer, closed, service.CaseHandling{Outcome: "nothing", Note: "现场已清理"}))
	must(f.svc.VerifyCase(ctx, admin, closed))
	c, err := f.svc.CloseCase(ctx, admin, closed)
	must(c, err)
	f.closedReceipt = c.Receipt
}

// png is a photo nobody has uploaded yet (the store keeps one row per content).
func (f *secFixture) png() []byte {
	f.seq++
	return tinyPNG(f.seq)
}

// issueNotice gives merchant an open notice with one photo through the service.
func (f *secFixture) issueNotice(officer service.Actor, merchant int64, rule string) (notice, photo int64) {
	f.t.Helper()
	ctx := context.Background()
	ph, err := f.svc.UploadPhoto(ctx, officer, bytes.NewReader(f.png()))
	if err != nil {
		f.t.Fatal(err)
	}
	n, err := f.svc.IssueNotice(ctx, officer, merchant, service.NoticeInput{RuleCode: rule, Photos: []int64{ph.ID}})
	if err != nil {
		f.t.Fatal(err)
	}
	return n.ID, ph.ID
}

// credentials of each role's account.
func (f *secFixture) credentials(role string) (username, pw string) {
	switch role {
	case asMerchant:
		return f.w.ShopName[0], password
	case asOfficer:
		return f.w.OfficerName[0], password
	case asCounty:
		return f.w.AdminName[0], password
	case asCity:
		return "admin", adminPassword
	}
	f.t.Fatalf("no account for %q", role)
	return "", ""
}

// signIn is a fresh browser signed in as role (asNobody: not signed in).
func (f *secFixture) signIn(role string) *browser {
	f.t.Helper()
	b := f.browser()
	if role == asNobody {
		return b
	}
	user, pw := f.credentials(role)
	if p := b.login(user, pw); p.Status != http.StatusSeeOther {
		f.t.Fatalf("login as %s: %d", role, p.Status)
	}
	return b
}

// as is one browser per role, signed in once.
func (f *secFixture) as(role string) *browser {
	f.t.Helper()
	if b, ok := f.browsers[role]; ok {
		return b
	}
	b := f.signIn(role)
	f.browsers[role] = b
	return b
}

// home is each role's start page.
func home(role string) string {
	return map[string]string{asMerchant: "/merchant", asOfficer: "/officer", asCounty: "/console", asCity: "/console", asNobody: "/login"}[role]
}

// sessionID is the browser's session cookie, "" when it has none.
func (b *browser) sessionID() string {
	u, _ := url.Parse(b.e.srv.URL)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == "menqian_session" {
			return c.Value
		}
	}
	return ""
}

// browserWith is a fresh browser carrying a session cookie copied from another.
func (f *secFixture) browserWith(session string) *browser {
	b := f.browser()
	u, _ := url.Parse(f.srv.URL)
	b.c.Jar.SetCookies(u, []*http.Cookie{{Name: "menqian_session", Value: session, Path: "/"}})
	return b
}

// setCookies are the cookies an answer sets.
func setCookies(p page) map[string]*http.Cookie {
	out := map[string]*http.Cookie{}
	for _, c := range (&http.Response{Header: p.Header}).Cookies() {
		out[c.Name] = c
	}
	return out
}

// secRequest is one state-changing request as a page's form (or the
// inspection form's offline queue) sends it.
type secRequest struct {
	path  string
	form  url.Values        // the fields: urlencoded, or multipart when there are files
	files map[string][]byte // field → one file
	json  string            // the inspection queue's JSON body; its token goes in X-CSRF-Token
	key   string            // the queue's Idempotency-Key
}

// secSend posts rq from b with token as its CSRF token ("" sends none) and
// origin as its Origin header ("" sends none).
func secSend(b *browser, rq secRequest, token, origin string) page {
	b.e.t.Helper()
	var body bytes.Buffer
	var ctype string
	switch {
	case rq.json != "":
		body.WriteString(rq.json)
		ctype = "application/json"
	case len(rq.files) > 0:
		mw := multipart.NewWriter(&body)
		for k, vs := range rq.form {
			for _, v := range vs {
				mw.WriteField(k, v)
			}
		}
		if token != "" {
			mw.WriteField("csrf", token)
		}
		for k, data := range rq.files {
			fw, _ := mw.CreateFormFile(k, "photo.png")
			fw.Write(data)
		}
		mw.Close()
		ctype = mw.FormDataContentType()
	default:
		form := url.Values{}
		maps.Copy(form, rq.form)
		if token != "" {
			form.Set("csrf", token)
		}
		body.WriteString(form.Encode())
		ctype = "application/x-www-form-urlencoded"
	}
	req, _ := http.NewRequest("POST", b.e.srv.URL+rq.path, &body)
	req.Header.Set("Content-Type", ctype)
	if rq.json != "" && token != "" {
		req.Header.Set("X-CSRF-Token", token)
	}
	if rq.key != "" {
		req.Header.Set("Idempotency-Key", rq.key)
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	return b.do(req)
}

// secPost is a state-changing route with a request that succeeds for the
// first of roles, given the token of page.
type secPost struct {
	route string   // the pattern in routes.go
	roles []string // who may send it
	page  string   // the page whose form carries the token
	rq    secRequest
	want  int // the status of a request that succeeds
}

// posts are the state-changing routes of the pages, each with a request the
// first county's accounts may send.
func (f *secFixture) posts() []secPost {
	id := func(n int64) string { return strconv.FormatInt(n, 10) }
	m0 := id(f.w.Merchant[0])
	c0, r0, o0, console := id(f.w.County[0]), id(f.w.Road[0]), id(f.w.Other[0]), []string{asCounty, asCity}
	everyone := append([]string{asNobody}, signedInRoles...)
	return []secPost{
		{"POST /login", []string{asNobody}, "/login",
			secRequest{path: "/login", form: url.Values{"username": {f.w.ShopName[0]}, "password": {password}}}, http.StatusSeeOther},
		{"POST /logout", signedInRoles, "/merchant", secRequest{path: "/logout"}, http.StatusSeeOther},
		{"POST /merchant/ledger/{entry}/appeal", []string{asMerchant}, "/merchant/ledger/" + id(f.entry[0]) + "/appeal",
			secRequest{path: "/merchant/ledger/" + id(f.entry[0]) + "/appeal", form: url.Values{"reason": {"当时已经清扫干净"}},
				files: map[string][]byte{"photo": f.png()}}, http.StatusSeeOther},
		{"POST /merchant/notices/{id}/fixed", []string{asMerchant}, "/merchant/notices",
			secRequest{path: "/merchant/notices/" + id(f.notice[0]) + "/fixed", form: url.Values{"note": {"已清理"}},
				files: map[string][]byte{"photo": f.png()}}, http.StatusSeeOther},
		{"POST /officer/shops/{id}/notice", []string{asOfficer, asCounty}, "/officer/shops/" + m0 + "/notice",
			secRequest{path: "/officer/shops/" + m0 + "/notice", form: url.Values{"rule_code": {"ZXLH-02"}, "due_days": {"3"}},
				files: map[string][]byte{"photo": f.png()}}, http.StatusSeeOther},
		{"POST /officer/notices/{id}/rectified", []string{asOfficer, asCounty}, "/officer/shops/" + id(f.w.Other[0]),
			secRequest{path: "/officer/notices/" + id(f.otherNotice) + "/rectified", form: url.Values{"note": {"复查已整改"}}}, http.StatusSeeOther},
		// The console's roads and shops; the first shop's neighbour is edited,
		// given a new plaque and closed last.
		{"POST /console/roads", console, "/console/roads?county_id=" + c0,
			secRequest{path: "/console/roads?county_id=" + c0, form: url.Values{"name": {"华光路"}, "town": {"马尚街道"}}}, http.StatusSeeOther},
		{"POST /console/roads/{id}", console, "/console/roads/" + r0,
			secRequest{path: "/console/roads/" + r0, form: url.Values{"name": {"柳泉路"}, "town": {"车站街道"}, "length_m": {"800"}}}, http.StatusSeeOther},
		{"POST /console/roads/{id}/officers", console, "/console/roads/" + r0,
			secRequest{path: "/console/roads/" + r0 + "/officers", form: url.Values{"officer_id": {id(f.w.Officer[0].UserID)}}}, http.StatusSeeOther},
		{"POST /console/roads/{id}/demonstration", console, "/console/demonstration?county_id=" + c0,
			secRequest{path: "/console/roads/" + r0 + "/demonstration", form: url.Values{"status": {"candidate"}, "confirm": {"1"}}}, http.StatusSeeOther},
		{"POST /console/shops", console, "/console/shops/new?county_id=" + c0,
			secRequest{path: "/console/shops?county_id=" + c0, form: url.Values{"road_id": {r0}, "name": {"王记包子铺"}}}, http.StatusSeeOther},
		{"POST /console/shops/{id}", console, "/console/shops/" + o0 + "/edit",
			secRequest{path: "/console/shops/" + o0, form: url.Values{"road_id": {r0}, "name": {"李家面馆" + seedCounties[0][1]},
				"phone": {"13853300001"}}}, http.StatusSeeOther},
		{"POST /console/shops/{id}/reissue", console, "/console/shops/" + o0,
			secRequest{path: "/console/shops/" + o0 + "/reissue", form: url.Values{"confirm": {"1"}, "ack": {"yes"}}}, http.StatusSeeOther},
		{"POST /console/shops/{id}/status", console, "/console/shops/" + o0,
			secRequest{path: "/console/shops/" + o0 + "/status", form: url.Values{"status": {"closed"}, "confirm": {"1"}}}, http.StatusSeeOther},
		{"POST /inspect/photos", []string{asOfficer, asCounty}, "/inspect",
			secRequest{path: "/inspect/photos", files: map[string][]byte{"file": f.png()}}, http.StatusCreated},
		{"POST /inspect/records", []string{asOfficer, asCounty}, "/inspect?m=" + m0,
			secRequest{path: "/inspect/records", key: "sec-" + m0,
				json: `{"qr_token":"` + f.token[0] + `","items":[{"rule_code":"BONUS-01","points":1}]}`}, http.StatusCreated},
		{"POST /console/import", []string{asCounty}, "/console/import",
			secRequest{path: "/console/import", files: map[string][]byte{"file": f.consoleData().register}}, http.StatusOK},
		{"POST /console/import/commit", []string{asCounty}, "/console/import",
			secRequest{path: "/console/import/commit", form: f.consoleData().commit}, http.StatusOK},
		{"POST /console/appeals/{id}/decision", []string{asCounty}, "/console/appeals",
			secRequest{path: "/console/appeals/" + id(f.consoleData().appeal) + "/decision",
				form: url.Values{"decision": {"reject"}, "note": {"现场照片清楚，扣分无误"}}}, http.StatusSeeOther},
		// Credit repair: the first shop applies (repairCase makes it
		// eligible), the county refuses its neighbour's application.
		{"POST /merchant/repair", []string{asMerchant}, "/merchant/repair",
			secRequest{path: "/merchant/repair", form: url.Values{"reason": {"已整改"}, "pledge": {"1"}, "pledge_name": {"张三"}},
				files: map[string][]byte{"photo": f.png()}}, http.StatusSeeOther},
		{"POST /console/repairs/{id}/decision", []string{asCounty}, "/console/repairs",
			secRequest{path: "/console/repairs/" + id(f.repairCase()) + "/decision",
				form: url.Values{"decision": {"refuse"}, "note": {"照片不清楚"}}}, http.StatusSeeOther},
		{"POST /console/accounts", []string{asCounty}, "/console/accounts",
			secRequest{path: "/console/accounts", form: url.Values{"role": {"officer"}, "username": {"new-officer"}}}, http.StatusOK},
		{"POST /console/accounts/{id}/status", []string{asCounty}, "/console/accounts",
			secRequest{path: "/console/accounts/" + id(f.consoleData().spare) + "/status", form: url.Values{"disabled": {"1"}}}, http.StatusSeeOther},
		{"POST /console/accounts/{id}/password", []string{asCounty}, "/console/accounts",
			secRequest{path: "/console/accounts/" + id(f.consoleData().spare) + "/password"}, http.StatusOK},
		// The citizens' cases: a report and a reopen (no session), the
		// console's and the officer's actions.
		{"POST /q/{token}/report", everyone, "/q/" + f.token[0] + "/report",
			secRequest{path: "/q/" + f.token[0] + "/report", form: url.Values{"rule_code": {"ZXLH-01"}, "note": {"占道经营"}}}, http.StatusSeeOther},
		{"POST /r/{receipt}/reopen", everyone, "/r/" + f.closedReceipt,
			secRequest{path: "/r/" + f.closedReceipt + "/reopen"}, http.StatusSeeOther},
		{"POST /console/cases/{id}/{action}", []string{asCounty}, "/console/cases/" + id(f.received),
			secRequest{path: "/console/cases/" + id(f.received) + "/accept"}, http.StatusSeeOther},
		{"POST /officer/cases/{id}/{action}", []string{asOfficer, asCounty}, "/officer/cases/" + id(f.dispatched),
			secRequest{path: "/officer/cases/" + id(f.dispatched) + "/return", form: url.Values{"reason": {"不属于本路段"}}}, http.StatusSeeOther},
		{"POST /console/spotchecks", []string{asCounty}, "/console/spotchecks/new",
			secRequest{path: "/console/spotchecks", form: url.Values{"size": {"1"}, "auditor_id": {id(f.spot.admin)}}}, http.StatusSeeOther},
		{"POST /spotcheck/{id}/shops/{merchant}", []string{asCounty}, f.spot.visit,
			secRequest{path: f.spot.visit, form: url.Values{"item": {"HJWS-02"}, "points_HJWS-02": {"3"}}}, http.StatusSeeOther},
		{"POST /merchant/certificates", []string{asMerchant}, "/merchant/certificates",
			secRequest{path: "/merchant/certificates"}, http.StatusSeeOther},
		{"POST /console/certificates/{id}/revoke", console, "/console/shops/" + m0,
			secRequest{path: "/console/certificates/" + id(f.certificates().revocable.ID) + "/revoke",
				form: url.Values{"confirm": {"1"}, "note": {"商户冒用证明"}}}, http.StatusSeeOther},
		{"POST /console/counties", []string{asCity}, "/console/counties",
			secRequest{path: "/console/counties", form: url.Values{"code": {"370304"}, "name": {"博山区"}}}, http.StatusSeeOther},
		{"POST /console/counties/{id}", []string{asCity}, "/console/counties/" + id(f.w.County[0]),
			secRequest{path: "/console/counties/" + id(f.w.County[0]), form: url.Values{"code": {seedCounties[0][0]}, "name": {seedCounties[0][1]},
				"demo_road_target": {"12"}}}, http.StatusSeeOther},
	}
}

// post is the case of one route of posts.
func (f *secFixture) post(route string) secPost {
	f.t.Helper()
	for _, c := range f.posts() {
		if c.route == route {
			return c
		}
	}
	f.t.Fatalf("no case for %s", route)
	return secPost{}
}

// routePatterns lists the route patterns of one method ("GET /merchant")
// that the package's files register (routes.go, and the route functions it
// calls, such as citizenRoutes and caseRoutes).
func routePatterns(t *testing.T, method string) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(`mux\.Handle(?:Func)?\("(`+method+` [^"]+)"`).FindAllStringSubmatch(string(src), -1) {
			out = append(out, m[1])
		}
	}
	if len(out) == 0 {
		t.Fatalf("no %s routes found", method)
	}
	return out
}

// coversRoutes fails when a route of routes.go has no case.
func coversRoutes(t *testing.T, method string, cases []string) {
	t.Helper()
	for _, r := range routePatterns(t, method) {
		if !slices.Contains(cases, r) {
			t.Errorf("route %q has no case in this test: add one", r)
		}
	}
}

func TestCSRFRefusesForgedRequests(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			f := newSecFixture(t, d)
			var routes []string
			for _, c := range f.posts() {
				routes = append(routes, c.route)
				who := c.roles[0]
				if c.route == "POST /logout" {
					who = asMerchant
				}
				// Two sessions of the same account: the token must be the session's.
				b, other := f.signIn(who), f.signIn(who)
				if p := b.get(c.page); p.Status != http.StatusOK || b.csrf == "" {
					t.Fatalf("%s: page %s is %d, token %q", c.route, c.page, p.Status, b.csrf)
				}
				other.get(c.page)
				token, othersToken := b.csrf, other.csrf
				if othersToken == token || othersToken == "" {
					t.Fatalf("%s: two sessions share the token %q", c.route, token)
				}
				for _, bad := range []struct{ name, token, origin string }{
					{"no token", "", ""},
					{"a wrong token", strings.Repeat("A", len(token)), ""},
					{"another session's token", othersToken, ""},
					{"a cross-origin Origin", token, "http://evil.example"},
				} {
					before := f.snapshot()
					p := secSend(b, c.rq, bad.token, bad.origin)
					if p.Status != http.StatusForbidden {
						t.Errorf("%s with %s: %d, want 403", c.route, bad.name, p.Status)
					}
					if after := f.snapshot(); !maps.Equal(before, after) {
						t.Errorf("%s with %s stored something: %v → %v", c.route, bad.name, before, after)
					}
					if _, ok := setCookies(p)["menqian_session"]; ok {
						t.Errorf("%s with %s set a session cookie", c.route, bad.name)
					}
					if who != asNobody {
						if p := b.get(home(who)); p.Status != http.StatusOK {
							t.Errorf("%s with %s: the session stopped working (%s is %d)", c.route, bad.name, home(who), p.Status)
						}
					}
				}
				// The same request with the right token (and our own Origin) succeeds.
				before := f.snapshot()
				p := secSend(b, c.rq, token, f.srv.URL)
				if p.Status != c.want {
					t.Errorf("%s with the right token: %d, want %d: %s", c.route, p.Status, c.want, p.Body)
					continue
				}
				if after := f.snapshot(); maps.Equal(before, after) && c.route != "POST /console/import" { // a dry run stores nothing
					t.Errorf("%s with the right token changed nothing stored", c.route)
				}
				switch c.route {
				case "POST /logout":
					if p := b.get("/merchant"); p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Header.Get("Location"), "/login") {
						t.Errorf("after logout /merchant is %d to %q, want a redirect to the login", p.Status, p.Header.Get("Location"))
					}
				case "POST /login":
					if p := b.get("/merchant"); p.Status != http.StatusOK {
						t.Errorf("after login /merchant is %d", p.Status)
					}
				}
			}
			coversRoutes(t, "POST", routes)
		})
	}
}

// cspNonce checks the headers every answer carries and returns the nonce of
// its Content-Security-Policy.
func cspNonce(t *testing.T, what string, p page) string {
	t.Helper()
	csp := p.Header.Get("Content-Security-Policy")
	var nonce string
	for _, dir := range strings.Split(csp, ";") {
		fields := strings.Fields(dir)
		if len(fields) == 0 || fields[0] != "script-src" {
			continue
		}
		for _, src := range fields[1:] {
			if n, ok := strings.CutPrefix(src, "'nonce-"); ok && strings.HasSuffix(n, "'") && len(n) > 16 {
				nonce = strings.TrimSuffix(n, "'")
			}
		}
	}
	if nonce == "" {
		t.Errorf("%s: Content-Security-Policy %q has no script-src nonce", what, csp)
	}
	if !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("%s: Content-Security-Policy %q lacks frame-ancestors 'none'", what, csp)
	}
	if strings.Contains(csp, "unsafe-inline") {
		t.Errorf("%s: Content-Security-Policy %q allows 'unsafe-inline'", what, csp)
	}
	if got := p.Header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("%s: X-Content-Type-Options %q, want nosniff", what, got)
	}
	if got := p.Header.Get("Referrer-Policy"); got != "same-origin" {
		t.Errorf("%s: Referrer-Policy %q, want same-origin", what, got)
	}
	if strings.HasPrefix(p.Header.Get("Content-Type"), "text/html") {
		for _, tag := range scriptTagRE.FindAllString(p.Body, -1) {
			// The attribute as the browser reads it (html/template writes + as &#43;).
			m := nonceAttrRE.FindStringSubmatch(tag)
			if nonce == "" || m == nil || html.UnescapeString(m[1]) != nonce {
				t.Errorf("%s: %s does not carry the nonce %q", what, tag, nonce)
			}
		}
	}
	return nonce
}

var (
	scriptTagRE = regexp.MustCompile(`(?i)<script\b[^>]*>`)
	nonceAttrRE = regexp.MustCompile(`\snonce="([^"]*)"`)
)

// personal checks an answer to a browser with a session is kept by no cache.
func personal(t *testing.T, what string, p page) {
	t.Helper()
	cc := p.Header.Get("Cache-Control")
	if !strings.Contains(cc, "no-store") || !strings.Contains(cc, "private") {
		t.Errorf("%s: Cache-Control %q, want private, no-store", what, cc)
	}
	varyCookie(t, what, p)
}

func varyCookie(t *testing.T, what string, p page) {
	t.Helper()
	if vary := strings.Join(p.Header.Values("Vary"), ","); !strings.Contains(vary, "Cookie") {
		t.Errorf("%s: Vary %q lacks Cookie", what, vary)
	}
}

func TestEveryPageSendsSecurityHeaders(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			f := newSecFixture(t, d)
			var routes []string
			for _, pg := range f.pages() {
				routes = append(routes, pg.route)
				for _, role := range pg.roles {
					what := pg.path + " as " + role
					p := f.as(role).get(pg.path)
					if p.Status != pg.want {
						t.Errorf("%s: %d, want %d", what, p.Status, pg.want)
					}
					cspNonce(t, what, p)
					switch {
					case role == asNobody:
					case pg.route == "GET /photos/{id}":
						// An evidence photo's bytes never change: the browser
						// may keep it, but only for itself.
						if cc := p.Header.Get("Cache-Control"); !strings.Contains(cc, "private") || strings.Contains(cc, "public") {
							t.Errorf("%s: Cache-Control %q, want private", what, cc)
						}
						varyCookie(t, what, p)
					default:
						personal(t, what, p)
					}
				}
			}
			coversRoutes(t, "GET", routes)

			// A page that does not exist, with and without a session.
			for _, role := range []string{asNobody, asMerchant} {
				p := f.as(role).get("/no-such-page")
				if p.Status != http.StatusNotFound {
					t.Errorf("/no-such-page as %s: %d, want 404", role, p.Status)
				}
				cspNonce(t, "/no-such-page as "+role, p)
				if role != asNobody {
					personal(t, "/no-such-page as "+role, p)
				}
			}

			// Each answer has its own nonce.
			for _, c := range []struct{ role, path string }{{asNobody, "/login"}, {asMerchant, "/merchant"}, {asOfficer, "/inspect"}} {
				b := f.as(c.role)
				n1, n2 := cspNonce(t, c.path, b.get(c.path)), cspNonce(t, c.path, b.get(c.path))
				if n1 == n2 {
					t.Errorf("%s: two answers share the nonce %q", c.path, n1)
				}
			}
		})
	}
}

func TestSessionCookieAttributes(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			w := e.seed()
			p := e.browser().login(w.ShopName[0], password)
			checkSessionCookie(t, "http", setCookies(p), false)

			// Under https the same cookies are Secure.
			srv := httptest.NewServer(web.New(web.Options{Service: e.svc, Secure: true, Registry: prometheus.NewRegistry()}))
			defer srv.Close()
			c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			res, err := c.Get(srv.URL + "/login")
			if err != nil {
				t.Fatal(err)
			}
			var body bytes.Buffer
			body.ReadFrom(res.Body)
			res.Body.Close()
			loginCookies := res.Cookies()
			m := csrfRE.FindStringSubmatch(body.String())
			if len(loginCookies) == 0 || m == nil {
				t.Fatalf("secure login form: cookies %v, token found %v", loginCookies, m != nil)
			}
			for _, ck := range loginCookies {
				if !ck.Secure || !ck.HttpOnly {
					t.Errorf("secure server: login cookie %s is Secure=%v HttpOnly=%v", ck.Name, ck.Secure, ck.HttpOnly)
				}
			}
			form := url.Values{"csrf": {m[1] + m[2]}, "username": {w.ShopName[0]}, "password": {password}}
			req, _ := http.NewRequest("POST", srv.URL+"/login", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for _, ck := range loginCookies {
				req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
			}
			res, err = c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("secure server: login %d", res.StatusCode)
			}
			checkSessionCookie(t, "https", setCookies(page{Header: res.Header}), true)
		})
	}
}

func checkSessionCookie(t *testing.T, what string, cookies map[string]*http.Cookie, secure bool) {
	t.Helper()
	ck, ok := cookies["menqian_session"]
	if !ok {
		t.Fatalf("%s: login set no session cookie (%v)", what, cookies)
	}
	if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.Secure != secure {
		t.Errorf("%s: session cookie HttpOnly=%v SameSite=%v Path=%q Secure=%v, want HttpOnly, Lax, /, Secure=%v",
			what, ck.HttpOnly, ck.SameSite, ck.Path, ck.Secure, secure)
	}
	if want := int(service.TokenTTL / time.Second); ck.MaxAge != want || want != 43200 {
		t.Errorf("%s: session cookie Max-Age %d, want 43200 (12 h)", what, ck.MaxAge)
	}
}

// refused checks a page request of an ended session goes to the login form.
func refused(t *testing.T, what string, p page) {
	t.Helper()
	if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Header.Get("Location"), "/login") {
		t.Errorf("%s: %d to %q, want a redirect to /login", what, p.Status, p.Header.Get("Location"))
	}
}

func TestSessionsEnd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			f := newSecFixture(t, d)
			shop := f.w.Shop[0].UserID
			appeal := f.post("POST /merchant/ledger/{entry}/appeal").rq
			works := func(what string, b *browser) {
				t.Helper()
				if p := b.get("/merchant"); p.Status != http.StatusOK {
					t.Errorf("%s: /merchant is %d", what, p.Status)
				}
			}

			// Logout: the old cookie, replayed, opens nothing and changes nothing.
			b := f.signIn(asMerchant)
			works("signed in", b)
			sid, token := b.sessionID(), b.csrf
			if p := b.post("/logout", nil); p.Status != http.StatusSeeOther {
				t.Fatalf("logout: %d", p.Status)
			}
			refused(t, "the replayed cookie after logout", f.browserWith(sid).get("/merchant"))
			before := f.snapshot()
			if p := secSend(f.browserWith(sid), appeal, token, ""); p.Status != http.StatusUnauthorized {
				t.Errorf("an appeal with the replayed cookie after logout: %d, want 401", p.Status)
			}
			if after := f.snapshot(); !maps.Equal(before, after) {
				t.Errorf("an appeal after logout stored something: %v → %v", before, after)
			}
			works("signed in again after logout", f.signIn(asMerchant))

			// Disabling the account ends its sessions at the next request.
			b = f.signIn(asMerchant)
			works("signed in", b) // and its token
			sid, token = b.sessionID(), b.csrf
			if _, err := f.svc.UpdateUser(ctx, f.w.Admin[0], shop, service.UserChange{Disabled: ptr(true)}); err != nil {
				t.Fatal(err)
			}
			before = f.snapshot()
			if p := secSend(f.browserWith(sid), appeal, token, ""); p.Status != http.StatusUnauthorized {
				t.Errorf("an appeal after the account was disabled: %d, want 401", p.Status)
			}
			if after := f.snapshot(); !maps.Equal(before, after) {
				t.Errorf("an appeal after the account was disabled stored something: %v → %v", before, after)
			}
			refused(t, "a page after the account was disabled", b.get("/merchant"))
			if p := f.browser().login(f.w.ShopName[0], password); p.Status == http.StatusSeeOther {
				t.Errorf("a disabled account signed in")
			}
			if _, err := f.svc.UpdateUser(ctx, f.w.Admin[0], shop, service.UserChange{Disabled: ptr(false)}); err != nil {
				t.Fatal(err)
			}
			refused(t, "a session from before the disable, after re-enabling", b.get("/merchant"))
			works("signed in again after re-enabling", f.signIn(asMerchant))

			// A password reset ends the sessions begun with the old password.
			b = f.signIn(asMerchant)
			const newPassword = "new-password-5678"
			if _, err := f.svc.UpdateUser(ctx, f.w.Admin[0], shop, service.UserChange{Password: ptr(newPassword)}); err != nil {
				t.Fatal(err)
			}
			refused(t, "a page after a password reset", b.get("/merchant"))
			if p := f.browser().login(f.w.ShopName[0], password); p.Status == http.StatusSeeOther {
				t.Errorf("the old password still signs in after a reset")
			}
			b = f.browser()
			if p := b.login(f.w.ShopName[0], newPassword); p.Status != http.StatusSeeOther {
				t.Fatalf("login with the new password: %d", p.Status)
			}
			works("signed in with the new password", b)

			// A session lasts 12 hours.
			start := f.clock.Now()
			f.clock.Set(start.Add(service.TokenTTL - time.Minute))
			works("a session of 11 h 59 min", b)
			f.clock.Set(start.Add(service.TokenTTL))
			refused(t, "a session of 12 h", b.get("/merchant"))
			b = f.browser()
			if p := b.login(f.w.ShopName[0], newPassword); p.Status != http.StatusSeeOther {
				t.Fatalf("login after the session expired: %d", p.Status)
			}
			works("signed in again after expiry", b)
		})
	}
}

func TestLoginFormRateLimit(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			w := e.seed()
			b := e.browser()
			for i := range 5 {
				if p := b.login(w.ShopName[0], fmt.Sprintf("wrong-password-%d", i)); p.Status != http.StatusUnauthorized {
					t.Fatalf("wrong password %d: %d, want 401", i+1, p.Status)
				}
			}
			p := b.login(w.ShopName[0], password)
			if p.Status != http.StatusTooManyRequests || !strings.Contains(p.Body, "登录失败次数过多") {
				t.Errorf("6th attempt (right password): %d, shows 登录失败次数过多: %v; want 429 with it",
					p.Status, strings.Contains(p.Body, "登录失败次数过多"))
			}
			if s, err := strconv.Atoi(p.Header.Get("Retry-After")); err != nil || s < 1 {
				t.Errorf("6th attempt: Retry-After %q, want seconds", p.Header.Get("Retry-After"))
			}
			if _, ok := setCookies(p)["menqian_session"]; ok || b.sessionID() != "" {
				t.Errorf("6th attempt set a session cookie")
			}
			refused(t, "/merchant after the refused login", b.get("/merchant"))
			// Only that username waits.
			if p := e.browser().login(w.OfficerName[0], password); p.Status != http.StatusSeeOther {
				t.Errorf("another account's login: %d, want 303", p.Status)
			}
		})
	}
}

func TestLoginNextStaysOnSite(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			w := e.seed()
			base, _ := url.Parse(e.srv.URL)
			for _, c := range []struct{ user, next, want string }{
				{w.ShopName[0], "//evil.example", "/merchant"},
				{w.ShopName[0], "//evil.example/merchant", "/merchant"},
				{w.ShopName[0], "https://evil.example", "/merchant"},
				{w.ShopName[0], "https://evil.example/merchant", "/merchant"},
				{w.ShopName[0], `/\evil.example`, "/merchant"},
				{w.ShopName[0], "/\t/evil.example", "/merchant"},
				{w.ShopName[0], "/merchant/../\t/evil.example", "/merchant"},
				{w.ShopName[0], "/q/../\t/evil.example", "/merchant"},
				{w.ShopName[0], "/merchant/ledger", "/merchant/ledger"},
				{w.ShopName[0], "/officer", "/merchant"},
				{w.ShopName[0], "/console", "/merchant"},
				{w.OfficerName[0], "/inspect?t=abc", "/inspect?t=abc"},
				{w.OfficerName[0], "/merchant", "/officer"},
				{w.OfficerName[0], "//evil.example", "/officer"},
			} {
				b := e.browser()
				b.get("/login")
				p := b.post("/login", url.Values{"username": {c.user}, "password": {password}, "next": {c.next}})
				loc := p.Header.Get("Location")
				if p.Status != http.StatusSeeOther || loc != c.want {
					t.Errorf("%s with next=%q: %d to %q, want 303 to %q", c.user, c.next, p.Status, loc, c.want)
				}
				// As a browser reads it: tabs and newlines dropped, \ as /.
				read := strings.NewReplacer("\t", "", "\r", "", "\n", "", `\`, "/").Replace(loc)
				if u, err := base.Parse(read); err != nil || u.Host != base.Host {
					t.Errorf("%s with next=%q: Location %q leaves the site", c.user, c.next, loc)
				}
			}
		})
	}
}

// TestOversizedFormIsTooLarge: a form over the body limit is answered 413
// with a message about its size (not as a forged request), and stores nothing.
func TestOversizedFormIsTooLarge(t *testing.T) {
	t.Parallel()
	e := newEnv(t, models.SQLite)
	w := e.seed()
	entry := e.record(w.Officer[0], w.Merchant[0], "HJWS-02", 3)
	b := e.signedIn(w.ShopName[0])
	b.get(fmt.Sprintf("/merchant/ledger/%d/appeal", entry))
	before := e.snapshot()
	p := b.postMultipart(fmt.Sprintf("/merchant/ledger/%d/appeal", entry), map[string]string{"reason": "路人乱丢"},
		map[string][]byte{"photo": bytes.Repeat([]byte{0xff}, 17<<20)})
	if p.Status != http.StatusRequestEntityTooLarge || !strings.Contains(p.Body, "提交的内容过大") {
		t.Errorf("17 MiB form: %d, want 413 with the size message", p.Status)
	}
	if after := e.snapshot(); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("an oversized form changed tables:\n%v\n%v", before, after)
	}
}
