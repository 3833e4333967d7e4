package web_test

import (
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/menqian/menqian/models/dbtest"
)

// secPage is a GET route of routes.go with a path that opens it.
type secPage struct {
	route string   // the pattern in routes.go
	path  string   // of the first county's shop, road, entry or photo
	roles []string // who may open it (asNobody: without a session)
	guard bool     // a page of some roles only: every other role is 403
	want  int      // the status for roles
}

// pages are the GET routes of the pages, each with a path of the first county.
func (f *secFixture) pages() []secPage {
	id := func(n int64) string { return strconv.FormatInt(n, 10) }
	m0, everyone := id(f.w.Merchant[0]), append([]string{asNobody}, signedInRoles...)
	c0 := id(f.w.County[0])
	merchant, officer, console := []string{asMerchant}, []string{asOfficer, asCounty}, []string{asCounty, asCity}
	return []secPage{
		{"GET /static/", "/static/app.css", []string{asNobody}, false, http.StatusOK},
		{"GET /{$}", "/", everyone, false, http.StatusSeeOther},
		{"GET /login", "/login", []string{asNobody}, false, http.StatusOK},
		{"GET /q/{token}", "/q/" + f.token[0], everyone, false, http.StatusOK},
		{"GET /v/{token}", "/v/" + f.certificates().shown.Token, everyone, false, http.StatusOK},
		{"GET /merchant/certificates", "/merchant/certificates", merchant, true, http.StatusOK},
		{"GET /merchant/certificates/{id}", "/merchant/certificates/" + id(f.certificates().shown.ID), merchant, true, http.StatusOK},
		{"GET /photos/{id}", "/photos/" + id(f.photo[0]), signedInRoles, false, http.StatusOK},
		{"GET /merchant", "/merchant", merchant, true, http.StatusOK},
		{"GET /merchant/ledger", "/merchant/ledger", merchant, true, http.StatusOK},
		{"GET /merchant/ledger/{entry}/appeal", "/merchant/ledger/" + id(f.entry[0]) + "/appeal", merchant, true, http.StatusOK},
		{"GET /merchant/appeals", "/merchant/appeals", merchant, true, http.StatusOK},
		{"GET /merchant/notices", "/merchant/notices", merchant, true, http.StatusOK},
		{"GET /officer", "/officer", officer, true, http.StatusOK},
		{"GET /officer/roads/{id}", "/officer/roads/" + id(f.w.Road[0]), officer, true, http.StatusOK},
		{"GET /officer/shops/{id}", "/officer/shops/" + m0, officer, true, http.StatusOK},
		{"GET /officer/shops/{id}/notice", "/officer/shops/" + m0 + "/notice", officer, true, http.StatusOK},
		{"GET /inspect", "/inspect", officer, true, http.StatusOK},
		{"GET /inspect", "/inspect?m=" + m0, officer, true, http.StatusOK},
		{"GET /console/roads", "/console/roads?county_id=" + c0, console, true, http.StatusOK},
		{"GET /console/roads/{id}", "/console/roads/" + id(f.w.Road[0]), console, true, http.StatusOK},
		{"GET /console/shops", "/console/shops?county_id=" + c0, console, true, http.StatusOK},
		{"GET /console/shops/new", "/console/shops/new?county_id=" + c0, console, true, http.StatusOK},
		{"GET /console/shops/{id}", "/console/shops/" + m0, console, true, http.StatusOK},
		{"GET /console/shops/{id}/edit", "/console/shops/" + m0 + "/edit", console, true, http.StatusOK},
		{"GET /console/demonstration", "/console/demonstration?county_id=" + c0, console, true, http.StatusOK},
		{"GET /console", "/console", console, true, http.StatusOK},
		{"GET /console/import", "/console/import", []string{asCounty}, true, http.StatusOK},
		{"GET /console/rankings", "/console/rankings", console, true, http.StatusOK},
		{"GET /console/rankings", "/console/rankings?cycle=2026-10&road=" + id(f.w.Road[0]), console, true, http.StatusOK},
		{"GET /console/bulletins", "/console/bulletins", console, true, http.StatusOK},
		{"GET /console/bulletins/{cycle}", "/console/bulletins/2026-11?county_id=" + id(f.w.County[0]), console, true, http.StatusOK},
		{"GET /console/fairness", "/console/fairness?county_id=" + c0, console, true, http.StatusOK},
		{"GET /console/appeals", "/console/appeals", []string{asCounty}, true, http.StatusOK},
		{"GET /merchant/repair", "/merchant/repair", merchant, true, http.StatusOK},
		{"GET /console/repairs", "/console/repairs", []string{asCounty}, true, http.StatusOK},
		{"GET /console/notices", "/console/notices", []string{asCounty}, true, http.StatusOK},
		{"GET /console/accounts", "/console/accounts", []string{asCounty}, true, http.StatusOK},
		{"GET /console/counties", "/console/counties", []string{asCity}, true, http.StatusOK},
		{"GET /console/counties/{id}", "/console/counties/" + id(f.w.County[0]), []string{asCity}, true, http.StatusOK},
		{"GET /console/policy", "/console/policy", []string{asCity}, true, http.StatusOK},
		{"GET /console/audit", "/console/audit", console, true, http.StatusOK},
		{"GET /q/{token}/report", "/q/" + f.token[0] + "/report", everyone, false, http.StatusOK},
		{"GET /r/{receipt}", "/r/" + f.closedReceipt, everyone, false, http.StatusOK},
		{"GET /console/cases", "/console/cases?county_id=" + c0, console, true, http.StatusOK},
		{"GET /console/cases/{id}", "/console/cases/" + id(f.received), console, true, http.StatusOK},
		{"GET /officer/cases/{id}", "/officer/cases/" + id(f.dispatched), officer, true, http.StatusOK},
		{"GET /console/spotchecks", "/console/spotchecks", console, true, http.StatusOK},
		{"GET /console/spotchecks/new", "/console/spotchecks/new", []string{asCounty}, true, http.StatusOK},
		{"GET /console/spotchecks/{id}", "/console/spotchecks/" + id(f.spot.audit), console, true, http.StatusOK},
		{"GET /spotcheck", "/spotcheck", []string{asCounty}, true, http.StatusOK},
		{"GET /spotcheck/{id}/shops/{merchant}", f.spot.visit, []string{asCounty}, true, http.StatusOK},
	}
}

// hidden checks a refused answer names none of shops.
func hidden(t *testing.T, what string, p page, shops ...string) {
	t.Helper()
	for _, s := range shops {
		if strings.Contains(p.Body, s) {
			t.Errorf("%s: the answer names %s", what, s)
		}
	}
}

func TestEachRolesPagesRefuseOtherRoles(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			f := newSecFixture(t, d)
			var routes []string
			for _, pg := range f.pages() {
				routes = append(routes, pg.route)
				for _, role := range signedInRoles {
					p := f.as(role).get(pg.path)
					switch {
					case slices.Contains(pg.roles, role):
						if p.Status != pg.want {
							t.Errorf("%s as %s: %d, want %d", pg.path, role, p.Status, pg.want)
						}
					case pg.guard:
						if p.Status != http.StatusForbidden {
							t.Errorf("%s as %s: %d, want 403", pg.path, role, p.Status)
						}
						hidden(t, pg.path+" as "+role, p, f.shopNames...)
					}
				}
			}
			coversRoutes(t, "GET", routes)

			// The forms of a role refuse the others, and store nothing.
			for _, c := range f.posts() {
				if c.route == "POST /login" || c.route == "POST /logout" {
					continue
				}
				for _, role := range signedInRoles {
					if slices.Contains(c.roles, role) {
						continue
					}
					b := f.as(role)
					b.get(home(role)) // its own token
					before := f.snapshot()
					p := secSend(b, c.rq, b.csrf, "")
					if p.Status != http.StatusForbidden {
						t.Errorf("%s as %s: %d, want 403", c.route, role, p.Status)
					}
					if after := f.snapshot(); !maps.Equal(before, after) {
						t.Errorf("%s as %s stored something: %v → %v", c.route, role, before, after)
					}
					hidden(t, c.route+" as "+role, p, f.shopNames...)
				}
			}
		})
	}
}

// notFound checks a request for another county's or shop's thing is 404
// (403 will do), names none of shops and stores nothing.
func (f *secFixture) notFound(t *testing.T, what string, send func() page, shops ...string) {
	t.Helper()
	before := f.snapshot()
	p := send()
	if p.Status != http.StatusNotFound && p.Status != http.StatusForbidden {
		t.Errorf("%s: %d, want 404", what, p.Status)
	}
	if after := f.snapshot(); !maps.Equal(before, after) {
		t.Errorf("%s stored something: %v → %v", what, before, after)
	}
	hidden(t, what, p, shops...)
}

func TestOtherCountiesAndShopsAreHidden(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			f := newSecFixture(t, d)
			id := func(n int64) string { return strconv.FormatInt(n, 10) }
			w := f.w
			county1 := []string{"张记烧烤" + seedCounties[1][1], "李家面馆" + seedCounties[1][1]}

			// The first county's officer and admin, in the second county.
			m1 := id(w.Merchant[1])
			for _, role := range []string{asOfficer, asCounty} {
				b := f.as(role)
				for _, path := range []string{"/officer/shops/" + m1, "/officer/shops/" + id(w.Other[1]), "/officer/shops/" + m1 + "/notice",
					"/officer/roads/" + id(w.Road[1]), "/inspect?m=" + m1, "/photos/" + id(f.photo[1])} {
					f.notFound(t, path+" as "+role, func() page { return b.get(path) }, county1...)
				}
				b.get("/inspect")
				token := b.csrf
				for _, rq := range []secRequest{
					{path: "/officer/shops/" + m1 + "/notice", form: url.Values{"rule_code": {"ZXLH-02"}, "due_days": {"3"}},
						files: map[string][]byte{"photo": f.png()}},
					{path: "/officer/shops/" + m1 + "/notice", form: url.Values{"rule_code": {"ZXLH-02"}, "due_days": {"3"}}},
					{path: "/officer/notices/" + id(f.notice[1]) + "/rectified", form: url.Values{"note": {"复查已整改"}}},
					{path: "/inspect/records", key: "other-county-" + role,
						json: `{"qr_token":"` + f.token[1] + `","items":[{"rule_code":"BONUS-01","points":1}]}`},
				} {
					f.notFound(t, "POST "+rq.path+" as "+role, func() page { return secSend(b, rq, token, "") }, county1...)
				}
			}

			// The first shop, at its neighbour's and the second county's shop's things.
			b := f.as(asMerchant)
			others := []string{"李家面馆" + seedCounties[0][1], county1[0], county1[1]}
			for _, c := range []struct {
				name                 string
				entry, notice, photo int64
			}{
				{"its neighbour's", f.otherEntry, f.otherNotice, f.otherPhoto},
				{"the other county's shop's", f.entry[1], f.notice[1], f.photo[1]},
			} {
				appeal := "/merchant/ledger/" + id(c.entry) + "/appeal"
				f.notFound(t, "GET "+c.name+" appeal form", func() page { return b.get(appeal) }, others...)
				f.notFound(t, "GET "+c.name+" photo", func() page { return b.get("/photos/" + id(c.photo)) }, others...)
				b.get("/merchant/notices")
				token := b.csrf
				for _, rq := range []secRequest{
					{path: appeal, form: url.Values{"reason": {"当时已经清扫干净"}}, files: map[string][]byte{"photo": f.png()}},
					{path: appeal, form: url.Values{"reason": {"当时已经清扫干净"}}},
					{path: "/merchant/notices/" + id(c.notice) + "/fixed", form: url.Values{"note": {"已清理"}}, files: map[string][]byte{"photo": f.png()}},
				} {
					f.notFound(t, "POST "+c.name+" "+rq.path, func() page { return secSend(b, rq, token, "") }, others...)
				}
			}
		})
	}
}

func TestPagesWithoutSession(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			f := newSecFixture(t, d)
			// A fresh browser each time: the server makes browsers forget a forged cookie.
			for name, fresh := range map[string]func() *browser{
				"no cookie":       f.browser,
				"a forged cookie": func() *browser { return f.browserWith("forged-session-id") },
			} {
				for _, pg := range f.pages() {
					if slices.Contains(pg.roles, asNobody) {
						continue
					}
					p := fresh().get(pg.path)
					if want := "/login?next=" + url.QueryEscape(pg.path); p.Status != http.StatusSeeOther || p.Header.Get("Location") != want {
						t.Errorf("%s with %s: %d to %q, want 303 to %q", pg.path, name, p.Status, p.Header.Get("Location"), want)
					}
					hidden(t, pg.path+" with "+name, p, f.shopNames...)
				}
				for _, c := range f.posts() {
					if c.route == "POST /login" {
						continue
					}
					// A form anyone may send (a citizen's report) is refused
					// for its missing token instead.
					want := http.StatusUnauthorized
					if slices.Contains(c.roles, asNobody) {
						want = http.StatusForbidden
					}
					before := f.snapshot()
					if p := secSend(fresh(), c.rq, "", ""); p.Status != want {
						t.Errorf("%s with %s: %d, want %d", c.route, name, p.Status, want)
					}
					if after := f.snapshot(); !maps.Equal(before, after) {
						t.Errorf("%s with %s stored something: %v → %v", c.route, name, before, after)
					}
				}
			}
		})
	}
}
