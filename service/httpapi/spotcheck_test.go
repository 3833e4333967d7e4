package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/service"
)

// spotCheckFixture is the random audits of the authorization matrix: one
// audit of each county, drawn by its admin with the admin as auditor, an
// auditor account of the first county and an audit assigned to it.
type spotCheckFixture struct {
	admin        [2]service.Actor
	audit        [2]int64
	auditor      service.Actor
	auditorToken string
	mine         int64 // the first county's audit of the auditor
}

func newSpotCheckFixture(e *env, w world) spotCheckFixture {
	e.t.Helper()
	ctx := context.Background()
	var f spotCheckFixture
	for i, c := range seedCounties {
		u, err := e.db.UserByUsername(ctx, "admin"+c[0])
		if err != nil {
			e.t.Fatal(err)
		}
		f.admin[i] = service.Actor{UserID: u.ID, Username: u.Username, Role: service.RoleCountyAdmin, CountyID: w.County[i]}
		f.audit[i] = f.draw(e, i, u.ID)
	}
	hash, err := seedHash()
	if err != nil {
		e.t.Fatal(err)
	}
	county := w.County[0]
	u := models.User{Username: "auditor370303", PasswordHash: hash, Role: service.RoleAuditor, CountyID: &county}
	if err := e.db.CreateUser(ctx, &u); err != nil {
		e.t.Fatal(err)
	}
	f.auditor = service.Actor{UserID: u.ID, Username: u.Username, Role: service.RoleAuditor, CountyID: county}
	if f.auditorToken, _, err = e.svc.IssueToken(u); err != nil {
		e.t.Fatal(err)
	}
	f.mine = f.draw(e, 0, u.ID)
	return f
}

// draw has county i's admin draw every shop of the county for auditor.
func (f *spotCheckFixture) draw(e *env, i int, auditor int64) int64 {
	e.t.Helper()
	sc, err := e.svc.DrawSpotCheck(context.Background(), f.admin[i], service.SpotCheckInput{CountyID: f.admin[i].CountyID,
		Size: service.MaxSpotCheckSize, AuditorID: auditor})
	if err != nil {
		e.t.Fatal(err)
	}
	return sc.ID
}

// of is the audit of the target's county.
func (f *spotCheckFixture) of(tg authzTarget) int64 {
	if tg.county == f.admin[1].CountyID {
		return f.audit[1]
	}
	return f.audit[0]
}

// spotCheckAuthzRows are the matrix's cells of the random audits.
func spotCheckAuthzRows(f *authzFixture) []authzRow {
	onlyOwnAdmin := func(own, other int) map[string][]int {
		return map[string][]int{"city_admin": {own, own}, "county_admin": {own, other}, "officer": {403, 403}, "merchant": {403, 403}}
	}
	return []authzRow{
		{method: "POST", route: "/api/v1/spotchecks", scopes: scopes2, path: fixedPath("/api/v1/spotchecks"),
			body: func(f *authzFixture, tg authzTarget) any {
				return map[string]any{"county_id": tg.county, "size": 1, "auditor_id": f.spot.admin[0].UserID, "note": "authz"}
			},
			want:  map[string][]int{"city_admin": {403, 403}, "county_admin": {201, 403}, "officer": {403, 403}, "merchant": {403, 403}},
			check: wantField("county_id", countyOf),
			unchanged: func(t *testing.T, e *env, _ string) {
				if n := e.count("audits", "note = 'authz' AND county_id <> ?", f.w.County[0]); n != 0 {
					t.Errorf("refused, yet %d audit(s) of another county", n)
				}
				if n := e.count("audits", "note = 'authz' AND created_by <> ?", f.spot.admin[0].UserID); n != 0 {
					t.Errorf("refused, yet %d audit(s) drawn by someone else", n)
				}
			}},
		{method: "GET", route: "/api/v1/spotchecks", scopes: scopes2, path: idPath("/api/v1/spotchecks?county_id=", countyOf, ""),
			want: onlyOwnAdmin(200, 403), check: wantItems("county_id", countyOf, 1)},
		{method: "GET", route: "/api/v1/spotchecks/:id", scopes: scopes2,
			path: func(f *authzFixture, _ *env, tg authzTarget) string {
				return "/api/v1/spotchecks/" + itoa(f.spot.of(tg))
			},
			want: onlyOwnAdmin(200, 404),
			check: func(t *testing.T, tg authzTarget, r resp, _ string) {
				if r.id() != f.spot.of(tg) || len(r.JSON["roads"].([]any)) == 0 {
					t.Errorf("audit = %s, want %d with its roads", r.Body, f.spot.of(tg))
				}
			}},
		// Each cell has a fresh audit of the target county, its admin the auditor.
		{method: "POST", route: "/api/v1/spotchecks/:id/shops/:merchant", scopes: scopes2,
			path: func(f *authzFixture, e *env, tg authzTarget) string {
				i := slices.Index(f.w.County[:], tg.county)
				return "/api/v1/spotchecks/" + itoa(f.spot.draw(e, i, f.spot.admin[i].UserID)) + "/shops/" + itoa(tg.merchant)
			},
			body: func(*authzFixture, authzTarget) any {
				return map[string]any{"items": []map[string]any{{"rule_code": "HJWS-02"}}, "note": "抽查"}
			},
			want:  map[string][]int{"city_admin": {403, 403}, "county_admin": {201, 404}, "officer": {403, 403}, "merchant": {403, 403}},
			check: wantField("merchant_id", merchantOf),
			unchanged: func(t *testing.T, e *env, path string) {
				storesNothing("audit_shops", "audit_id = ? AND visited_at IS NOT NULL", "/spotchecks/")(t, e, path)
				storesNothing("audit_records", "audit_id = ?", "/spotchecks/")(t, e, path)
			}},
		{method: "GET", route: "/api/v1/counties/:id/spotcheck-agreement", scopes: scopes2,
			path: idPath("/api/v1/counties/", countyOf, "/spotcheck-agreement"), want: onlyOwnAdmin(200, 403),
			check: func(t *testing.T, _ authzTarget, r resp, _ string) { itemsOf(t, r) }},
	}
}

// TestAuditorIsBlind: the auditor of the first county is refused every
// endpoint of the matrix but its own audits (403 or 404, the error envelope
// alone, nothing stored), and its audit shows the sampled shops without
// their scores, stars or the officers' inspections of the cycle.
func TestAuditorIsBlind(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			f := newAuthzFixture(t, e)
			token := f.spot.auditorToken
			allowed := map[string]bool{"GET /api/v1/me": true, "GET /api/v1/rules": true, "GET /api/v1/spotchecks": true}
			for _, row := range authzRows(f) {
				key := row.method + " " + row.route
				if allowed[key] {
					continue
				}
				t.Run(key+" "+row.name, func(t *testing.T) {
					ce := *e
					ce.t = t
					tg := f.target(row.scopes[0])
					if row.scopes[0] == scopeNone {
						tg = f.target(scopeOwn)
					}
					path := row.path(f, &ce, tg)
					var body any
					if row.body != nil {
						body = row.body(f, tg)
					}
					var headers []string
					if row.headers != nil {
						headers = row.headers(f)
					}
					before := ce.snapshot()
					var r resp
					switch {
					case row.upload:
						r = ce.uploadPhoto(token, tinyPNG(200+f.next()))
					case row.file != nil:
						name, data := row.file(f, tg)
						r = ce.postMultipart(path, token, "file", name, "application/octet-stream", data)
					default:
						r = ce.do(row.method, path, token, body, headers...)
					}
					if r.Status != http.StatusForbidden && r.Status != http.StatusNotFound {
						t.Fatalf("the auditor gets %d: %.300s", r.Status, r.Body)
					}
					checkErrorEnvelope(t, r, r.Status, map[int]string{403: "forbidden", 404: "not_found"}[r.Status])
					if row.unchanged != nil {
						row.unchanged(t, &ce, path)
					}
					if after := ce.snapshot(); !countsEqual(before, after) {
						t.Errorf("tables changed: %v → %v", before, after)
					}
				})
			}

			// Its own audits: listed, opened, recorded; nobody else's.
			list := e.must(200, "GET", "/api/v1/spotchecks", token, nil)
			if items := itemsOf(t, list); len(items) != 1 || int64(jnum(items[0]["id"])) != f.spot.mine {
				t.Errorf("the auditor's list: %s, want only audit %d", list.Body, f.spot.mine)
			}
			e.must(404, "GET", "/api/v1/spotchecks/"+itoa(f.spot.audit[0]), token, nil)
			e.must(403, "GET", "/api/v1/spotchecks?county_id="+itoa(f.w.County[1]), token, nil)
			page := e.must(200, "GET", "/api/v1/spotchecks/"+itoa(f.spot.mine), token, nil)
			// The first shop has the officer's HJWS-01 deduction of this
			// month, with its photo and an appeal: none of it shows.
			for _, hidden := range []string{`"score"`, `"star"`, `"rated_star"`, `"deductions"`, `"bonuses"`, "HJWS-01", "officer370303",
				`"inspections"`, `"ledger"`, `"photos"`, `"appeal`} {
				if strings.Contains(string(page.Body), hidden) {
					t.Errorf("the auditor's audit shows %s: %s", hidden, page.Body)
				}
			}
			if !strings.Contains(string(page.Body), fmt.Sprintf(`"merchant_id":%d`, f.w.Merchant[0])) {
				t.Errorf("the audit does not list the first shop: %s", page.Body)
			}
			r := e.must(201, "POST", "/api/v1/spotchecks/"+itoa(f.spot.mine)+"/shops/"+itoa(f.w.Merchant[0]), token,
				map[string]any{"items": []map[string]any{{"rule_code": "ZXLH-02", "points": 2}}})
			if r.JSON["visited_at"] == nil || !strings.Contains(string(r.Body), `"rule_code":"ZXLH-02"`) || strings.Contains(string(r.Body), "score") {
				t.Errorf("visit = %s", r.Body)
			}
			e.must(409, "POST", "/api/v1/spotchecks/"+itoa(f.spot.mine)+"/shops/"+itoa(f.w.Merchant[0]), token,
				map[string]any{"items": []map[string]any{}})
		})
	}
}
