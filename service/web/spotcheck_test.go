package web_test

import (
	"context"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/service"
)

// spotCheckSec is the random audits of the security tests: an audit of the
// first county with its admin as auditor (the page and the form of a visit
// of the first shop), and an auditor account with an audit of its own.
type spotCheckSec struct {
	admin       int64  // the first county's admin, the audit's auditor
	audit, mine int64  // the admin's audit; the auditor's
	visit       string // the admin's visit form of the first shop
	auditorName string
}

func newSpotCheckSec(f *secFixture) spotCheckSec {
	f.t.Helper()
	ctx := context.Background()
	admin := f.w.Admin[0]
	draw := func(auditor int64) int64 {
		f.t.Helper()
		sc, err := f.svc.DrawSpotCheck(ctx, admin, service.SpotCheckInput{CountyID: admin.CountyID, Size: service.MaxSpotCheckSize,
			AuditorID: auditor})
		if err != nil {
			f.t.Fatal(err)
		}
		return sc.ID
	}
	s := spotCheckSec{admin: admin.UserID, audit: draw(admin.UserID), auditorName: "auditor" + seedCounties[0][0]}
	s.visit = "/spotcheck/" + strconv.FormatInt(s.audit, 10) + "/shops/" + strconv.FormatInt(f.w.Merchant[0], 10)
	u, err := f.svc.CreateUser(ctx, admin, service.UserInput{Username: s.auditorName, Password: password, Role: service.RoleAuditor,
		CountyID: &admin.CountyID, DisplayName: "抽查员甲"})
	if err != nil {
		f.t.Fatal(err)
	}
	s.mine = draw(u.ID)
	return s
}

// TestAuditorPages: the auditor signs in to its worklist, sees its sampled
// shops and records a visit, blind to the shops' scores, stars and the
// officers' records; every other page and form refuses it (nothing
// stored); the visit moves no score and shows on the console's audit page.
func TestAuditorPages(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			f := newSecFixture(t, d)
			b := f.browser()
			if p := b.login(f.spot.auditorName, password); p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/spotcheck" {
				t.Fatalf("login: %d to %q, want 303 to /spotcheck", p.Status, p.Header.Get("Location"))
			}
			mine := strconv.FormatInt(f.spot.mine, 10)
			m0 := strconv.FormatInt(f.w.Merchant[0], 10)
			work := b.get("/spotcheck")
			// The first shop has the officer's HJWS-01 deduction and an
			// open notice this month: the auditor sees neither, nor any star
			// or score, nor the officer.
			blind := func(what string, p page) {
				t.Helper()
				for _, hidden := range []string{"星", "分）", "/photos/", f.w.OfficerName[0], "巡查记录", "整改通知", "积分明细"} {
					if strings.Contains(p.Body, hidden) {
						t.Errorf("%s shows %q", what, hidden)
					}
				}
			}
			if work.Status != http.StatusOK || !strings.Contains(work.Body, "张记烧烤"+seedCounties[0][1]) ||
				!strings.Contains(work.Body, "/spotcheck/"+mine+"/shops/"+m0) || strings.Contains(work.Body, "/spotcheck/"+strconv.FormatInt(f.spot.audit, 10)+"/") {
				t.Errorf("worklist: %d %s", work.Status, work.Body)
			}
			blind("the worklist", work)
			form := b.get("/spotcheck/" + mine + "/shops/" + m0)
			if form.Status != http.StatusOK || !strings.Contains(form.Body, `name="item" value="HJWS-01"`) || strings.Contains(form.Body, `value="BONUS-01"`) {
				t.Errorf("visit form: %d %.400s", form.Status, form.Body)
			}
			for _, hidden := range []string{"/photos/", f.w.OfficerName[0], "星级", "积分明细"} {
				if strings.Contains(form.Body, hidden) {
					t.Errorf("the visit form shows %q", hidden)
				}
			}
			if p := b.get(f.spot.visit); p.Status != http.StatusNotFound {
				t.Errorf("the admin's audit's form: %d, want 404", p.Status)
			}

			// Every page and form of the other roles refuses it.
			for _, pg := range f.pages() {
				if pg.route == "GET /spotcheck" || pg.route == "GET /spotcheck/{id}/shops/{merchant}" || slices.Contains(pg.roles, asNobody) {
					continue
				}
				p := b.get(pg.path)
				if p.Status != http.StatusForbidden && p.Status != http.StatusNotFound {
					t.Errorf("%s as the auditor: %d, want 403", pg.path, p.Status)
				}
				hidden(t, pg.path+" as the auditor", p, f.shopNames...)
			}
			if p := b.get("/"); p.Header.Get("Location") != "/spotcheck" {
				t.Errorf("/ sends the auditor to %q", p.Header.Get("Location"))
			}
			for _, c := range f.posts() {
				if c.route == "POST /login" || c.route == "POST /logout" || slices.Contains(c.roles, asNobody) {
					continue
				}
				before := f.snapshot()
				if p := secSend(b, c.rq, form.csrf(), ""); p.Status != http.StatusForbidden && p.Status != http.StatusNotFound {
					t.Errorf("%s as the auditor: %d, want 403", c.route, p.Status)
				}
				if after := f.snapshot(); !maps.Equal(before, after) {
					t.Errorf("%s as the auditor stored something: %v → %v", c.route, before, after)
				}
			}

			// A visit: stored apart from the score.
			ctx := context.Background()
			m, err := f.svc.Merchant(ctx, f.w.Admin[0], f.w.Merchant[0])
			if err != nil {
				t.Fatal(err)
			}
			scoreBefore, err := f.svc.CurrentScores(ctx, []models.Merchant{m})
			if err != nil {
				t.Fatal(err)
			}
			entries := f.count("ledger_entries")
			p := b.post("/spotcheck/"+mine+"/shops/"+m0, url.Values{"csrf": {form.csrf()}, "item": {"ZXLH-02", "SRZJ-01"},
				"points_ZXLH-02": {"4"}, "points_SRZJ-01": {"2"}, "note": {"门前堆放纸箱"}})
			if p.Status != http.StatusSeeOther {
				t.Fatalf("visit: %d %.300s", p.Status, p.Body)
			}
			scoreAfter, err := f.svc.CurrentScores(ctx, []models.Merchant{m})
			if err != nil {
				t.Fatal(err)
			}
			if scoreAfter[m.ID] != scoreBefore[m.ID] || f.count("ledger_entries") != entries {
				t.Errorf("the visit moved the score: %+v → %+v", scoreBefore[m.ID], scoreAfter[m.ID])
			}
			if again := b.post("/spotcheck/"+mine+"/shops/"+m0, url.Values{"csrf": {form.csrf()}}); again.Status != http.StatusConflict {
				t.Errorf("a second visit: %d, want 409", again.Status)
			}
			page := f.as(asCounty).get("/console/spotchecks/" + mine)
			if page.Status != http.StatusOK || !strings.Contains(page.Body, "门前乱堆乱放 4 分") || !strings.Contains(page.Body, "门前堆放纸箱") {
				t.Errorf("the console's audit page: %d %.600s", page.Status, page.Body)
			}
		})
	}
}

// csrf is the form token of a page.
func (p page) csrf() string {
	_, rest, ok := strings.Cut(p.Body, `name="csrf" value="`)
	if !ok {
		return ""
	}
	tok, _, _ := strings.Cut(rest, `"`)
	return tok
}

// count counts a table's rows.
func (f *secFixture) count(table string) int {
	f.t.Helper()
	var n int
	if err := f.db.SQL().QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
		f.t.Fatal(err)
	}
	return n
}
