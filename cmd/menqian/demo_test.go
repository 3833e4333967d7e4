package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/service"
	"github.com/menqian/menqian/service/photostore"
	"github.com/menqian/menqian/service/policy"
)

const (
	demoTestSecret   = "demo-test-secret-0123456789"
	demoTestPassword = "demo-test-password"
)

// demoTarget is a fresh migrated database of a dialect, with the environment
// that points the command at it.
type demoTarget struct {
	db       *models.DB
	env      func(string) string
	photoDir string
}

func openDemoTarget(t *testing.T, d models.Dialect) demoTarget {
	t.Helper()
	dir := t.TempDir()
	kv := []string{"MENQIAN_PHOTO_DIR", filepath.Join(dir, "photos"), "MENQIAN_SECRET", demoTestSecret}
	var cfg models.Config
	switch d {
	case models.SQLite:
		cfg.SQLitePath = filepath.Join(dir, "menqian.db")
		kv = append(kv, "MENQIAN_SQLITE_PATH", cfg.SQLitePath)
	case models.MySQL:
		cfg.MySQLDSN = dbtest.MySQLDSN(t)
		kv = append(kv, "MENQIAN_MYSQL_DSN", cfg.MySQLDSN)
	}
	db, err := models.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return demoTarget{db: db, env: envOf(kv...), photoDir: filepath.Join(dir, "photos")}
}

// service is the target's service at now.
func (dt demoTarget) service(now time.Time) *service.Service {
	return service.New(service.Options{DB: dt.db, Policy: policy.Default(), Secret: []byte(demoTestSecret), Photos: photostore.NewLocal(dt.photoDir),
		PublicURL: "http://mq.test", Clock: func() time.Time { return now }, PasswordCost: bcrypt.MinCost})
}

// load does what `menqian demo` does after its checks, with passwords at the
// lowest bcrypt cost (a default-cost hash takes most of a second under -race).
func (dt demoTarget) load(t *testing.T, now time.Time, seed uint64, perCounty int) demoResult {
	t.Helper()
	ctx := context.Background()
	if _, _, err := dt.service(now).Bootstrap(ctx, demoTestPassword); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res, err := loadDemo(ctx, demoOptions{DB: dt.db, Policy: policy.Default(), Secret: []byte(demoTestSecret), Photos: photostore.NewLocal(dt.photoDir),
		PublicURL: "http://mq.test", Now: now, Seed: seed, PerCounty: perCounty, Password: demoTestPassword, PasswordCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: demo of %d shops loaded in %s (%d inspections, %d photos)", dt.db.Dialect(), res.Merchants,
		time.Since(start).Round(time.Millisecond), res.Inspections, res.Photos)
	return res
}

// TestDemo: the demo loads into an empty database, its scores agree with
// its ledger, three months are closed and the current one has entries,
// every kind of thing the console shows is there in plausible numbers, the
// same seed and present give the same data, and the command then refuses to
// load again.
//
// The full demo runs on MariaDB when it is configured (its work happens in
// the server, where -race does not slow it; the pure-Go SQLite is several
// times slower under -race), else on SQLite. A small demo at a fixed present
// runs on each dialect (twice on SQLite alone), and all are equal.
func TestDemo(t *testing.T) {
	t.Parallel()
	dialects := dbtest.Dialects(t)
	full := dialects[len(dialects)-1]
	t.Run("full/"+string(full), func(t *testing.T) {
		t.Parallel()
		dt := openDemoTarget(t, full)
		now := time.Now()
		res := dt.load(t, now, 2026, 150)
		checkDemo(t, dt, res, now, true)
		checkDemoSummary(t, res)
		checkDemoRefusal(t, dt)
	})
	t.Run("small", func(t *testing.T) {
		t.Parallel()
		small := dialects
		if len(small) == 1 {
			small = append(small, small[0])
		}
		digests := make([]string, len(small))
		t.Run("loads", func(t *testing.T) { // returns when all are done
			for i, d := range small {
				t.Run(fmt.Sprintf("%s-%d", d, i), func(t *testing.T) {
					t.Parallel()
					dt := openDemoTarget(t, d)
					res := dt.load(t, demoTestPresent, 7, demoTestSmall)
					digests[i] = demoDigest(t, dt.db)
					// The 2nd of a month is in the previous month's grace
					// period: that month stays open and an older one is
					// loaded, so three are closed all the same.
					wantClosed := []string{"2026-08", "2026-09", "2026-10"}
					if !slices.Equal(res.Closed, wantClosed) || !slices.Equal(res.Cycles, append(wantClosed, "2026-11", "2026-12")) {
						t.Errorf("cycles %v, closed %v; want %v closed and 2026-11 open in its grace period", res.Cycles, res.Closed, wantClosed)
					}
					checkDemo(t, dt, res, demoTestPresent, false)
					checkDemoRefusal(t, dt)
				})
			}
		})
		for i := 1; i < len(digests); i++ {
			if digests[i] != digests[0] {
				t.Errorf("the same seed and present loaded different data on %s and %s", small[0], small[i])
			}
		}
	})
}

// The small demo of the tests: 32 shops a county (every road keeps its
// part, though none has the ten shops a demonstration road needs), loaded
// at a present in the previous month's grace period.
const demoTestSmall = 32

var demoTestPresent = time.Date(2026, 12, 2, 15, 4, 0, 0, policy.Default().Location())

// checkDemoSummary: what the command prints names the password, the
// accounts and what is worth opening.
func checkDemoSummary(t *testing.T, res demoResult) {
	t.Helper()
	var out bytes.Buffer
	res.print(&out, time.Second)
	for _, want := range []string{"password " + demoTestPassword, "admin370303 ", "officer3703032 ", "shop3703031 ",
		"shop3703028 ", "重点监管", "Worth opening: shop3703031", "qualified now: 张店区 柳泉路", "auditor370303 ", "shop3703039 ",
		"Fair to merchants: credit repairs granted 1, random audits 1 (3 shops visited), credit certificates 1 (verify one at http://mq.test/v/",
		"auditor370303    auditor · 张店区 · random audits", "officer3703031   officer · 张店区 · 柳泉路"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the summary does not mention %q:\n%s", want, out.String())
		}
	}
}

// checkDemoRefusal: `menqian demo` on the loaded database refuses and adds nothing.
func checkDemoRefusal(t *testing.T, dt demoTarget) {
	t.Helper()
	counts := func() string {
		t.Helper()
		var out []string
		for _, table := range []string{"counties", "roads", "users", "merchants", "photos", "inspections", "ledger_entries", "scores",
			"appeals", "notices", "road_demo_events", "closed_cycles", "audit_events", "repair_applications", "repairs", "audits",
			"audit_records", "credit_certificates"} {
			var n int
			if err := dt.db.SQL().QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprintf("%s %d", table, n))
		}
		return strings.Join(out, ", ")
	}
	before := counts()
	var out, errs bytes.Buffer
	err := run(context.Background(), []string{"demo"}, dt.env, &out, &errs)
	if err == nil || !strings.Contains(err.Error(), "already has counties") {
		t.Errorf("demo on a loaded database: err = %v, want a refusal", err)
	}
	if after := counts(); after != before {
		t.Errorf("the refused demo changed the data: %s, was %s", after, before)
	}
}

// checkDemo asserts what the console pages rely on.
// Full demos (with at least demoMinShops a county) are checked for
// qualified roads and the spread of scores too.
func checkDemo(t *testing.T, dt demoTarget, res demoResult, now time.Time, full bool) {
	t.Helper()
	ctx := context.Background()
	svc := dt.service(now)
	city := service.Actor{Role: service.RoleCityAdmin}
	pol := policy.Default()
	cur := pol.CycleOf(now)

	mismatches, n, err := svc.Check(ctx)
	if err != nil || len(mismatches) > 0 || n == 0 {
		t.Fatalf("check: %d score rows, mismatches %+v, err %v", n, mismatches, err)
	}

	// Three closed months before the current one, with frozen results.
	closed, err := dt.db.ClosedCyclesAmong(ctx, res.Cycles)
	if err != nil {
		t.Fatal(err)
	}
	if len(closed) < 3 || len(res.Closed) != len(closed) || closed[cur.String()] {
		t.Errorf("closed cycles %v (loaded %v, closed %v), want three before %s", closed, res.Cycles, res.Closed, cur)
	}
	for _, c := range []policy.Cycle{cur.Add(-3), cur.Add(-2)} {
		if !closed[c.String()] {
			t.Errorf("%s is not closed", c)
		}
	}
	counties, err := svc.Counties(ctx, city)
	if err != nil || len(counties) != 2 {
		t.Fatalf("counties %v, %v", counties, err)
	}
	for _, c := range counties {
		for cyc := range closed {
			b, err := svc.CountyBulletin(ctx, city, c.ID, cyc)
			if err != nil || b.Provisional || len(b.Red) == 0 || len(b.Black) == 0 || len(b.Roads) == 0 {
				t.Errorf("%s bulletin of %s: provisional %v, %d red, %d black, %d roads, %v", c.Name, cyc, b.Provisional, len(b.Red), len(b.Black), len(b.Roads), err)
			}
		}
	}

	// Counts by kind, straight from the tables.
	count := func(q string, args ...any) int {
		t.Helper()
		var n int
		if err := dt.db.SQL().QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	kinds := map[string]int{}
	for _, k := range []string{models.KindDeduction, models.KindBonus, models.KindReversal} {
		kinds[k] = count("SELECT COUNT(*) FROM ledger_entries WHERE kind = ?", k)
	}
	curEntries := count("SELECT COUNT(*) FROM ledger_entries WHERE cycle = ?", cur.String())
	serious := count("SELECT COUNT(*) FROM ledger_entries WHERE serious = ? AND kind = ?", true, models.KindDeduction)
	honours := count("SELECT COUNT(*) FROM ledger_entries WHERE rule_code = 'BONUS-04'")
	inspections := count("SELECT COUNT(*) FROM inspections")
	photos := count("SELECT COUNT(*) FROM photos")
	distinctPhotos := count("SELECT COUNT(DISTINCT sha256) FROM photos")
	withPhotos := count("SELECT COUNT(*) FROM inspections WHERE photo_ids <> ''")
	merchants := count("SELECT COUNT(*) FROM merchants")
	closedShops := count("SELECT COUNT(*) FROM merchants WHERE status = 'closed'")
	assigned := count("SELECT COUNT(DISTINCT road_id) FROM road_officers")
	appeals := map[string]int{}
	for _, s := range []string{models.AppealPending, models.AppealAccepted, models.AppealRejected} {
		appeals[s] = count("SELECT COUNT(*) FROM appeals WHERE status = ?", s)
	}
	decidedNotes := count("SELECT COUNT(*) FROM appeals WHERE status = ? AND decision_note <> ''", models.AppealRejected)
	appealPhotos := count("SELECT COUNT(*) FROM appeals WHERE photo_ids <> ''")
	rectified := count("SELECT COUNT(*) FROM notices WHERE status = ?", models.NoticeRectified)
	reported := count("SELECT COUNT(*) FROM notices WHERE status = ? AND reported_at IS NOT NULL AND report_photo_ids <> ''", models.NoticeOpen)
	overdue := count("SELECT COUNT(*) FROM notices WHERE status = ? AND due_at < ?", models.NoticeOpen, now.UTC())
	notDue := count("SELECT COUNT(*) FROM notices WHERE status = ? AND due_at > ?", models.NoticeOpen, now.UTC())
	t.Logf("entries %v (%d this cycle, %d serious, %d honours); %d inspections, %d photos; appeals %v; notices: %d rectified, %d reported fixed, %d overdue, %d not due",
		kinds, curEntries, serious, honours, inspections, photos, appeals, rectified, reported, overdue, notDue)
	shops := res.Merchants // thresholds scale with the size of the demo
	for _, c := range []struct {
		what   string
		got, n int
	}{
		{"shops", merchants, shops}, {"closed shops", closedShops, 1}, {"roads with responsible officers", assigned, 12},
		{"inspections", inspections, 4 * shops}, {"deductions", kinds[models.KindDeduction], 7 * shops},
		{"bonuses", kinds[models.KindBonus], 2 * shops}, {"entries this cycle", curEntries, 2 * shops},
		{"serious items", serious, 6}, {"honour bonuses", honours, 2},
		{"reversals besides accepted appeals", kinds[models.KindReversal] - appeals[models.AppealAccepted], 8},
		{"inspections with photos", withPhotos, inspections * 6 / 10}, {"distinct photos", distinctPhotos, photos},
		{"pending appeals", appeals[models.AppealPending], 5}, {"accepted appeals", appeals[models.AppealAccepted], 5},
		{"rejected appeals", appeals[models.AppealRejected], 4}, {"rejected appeals with a note", decidedNotes, 4},
		{"appeals with the merchant's photo", appealPhotos, 5},
		{"rectified notices", rectified, shops / 10}, {"notices reported fixed", reported, 2}, {"overdue notices", overdue, 3},
		{"notices not yet due", notDue, 4},
	} {
		if c.got < c.n {
			t.Errorf("%s: %d, want at least %d", c.what, c.got, c.n)
		}
	}
	if merchants != shops {
		t.Errorf("%d shops in the database, the summary says %d", merchants, shops)
	}
	if photos != res.Photos || inspections != res.Inspections {
		t.Errorf("summary says %d inspections and %d photos, tables hold %d and %d", res.Inspections, res.Photos, inspections, photos)
	}

	checkDemoRoads(t, ctx, svc, counties, full)
	checkDemoFairness(t, ctx, dt, svc, res, cur)
	if !full {
		return
	}

	// Now: shops under 重点监管 and capped ones, and the spread of scores.
	var all []models.Merchant
	for _, c := range counties {
		for off := 0; ; off += service.MaxPage {
			ms, total, err := svc.Merchants(ctx, city, service.MerchantFilter{CountyID: c.ID, Status: "active", Paging: service.Paging{Limit: service.MaxPage, Offset: off}})
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, ms...)
			if off+len(ms) >= int(total) {
				break
			}
		}
	}
	scores, err := svc.CurrentScores(ctx, all)
	if err != nil {
		t.Fatal(err)
	}
	watch, capped, high, eighties := 0, 0, 0, 0
	for _, m := range all {
		r := scores[m.ID]
		switch {
		case r.UnderWatch:
			watch++
		case r.Score >= 90:
			high++
		case r.Score >= 80:
			eighties++
		}
		if r.Capped {
			capped++
		}
	}
	t.Logf("now: %d active shops, %d at 90 or more, %d in the 80s, %d under 重点监管, %d capped", len(all), high, eighties, watch, capped)
	if watch < 3 || watch > 10 || capped < 4 || high < len(all)*6/10 || eighties < len(all)/30 {
		t.Errorf("now: %d under watch (want 3–10), %d capped (want ≥ 4), %d of %d at 90 or more (want most), %d in the 80s (want some)",
			watch, capped, high, len(all), eighties)
	}
	if watch != res.UnderWatch || capped != res.Capped {
		t.Errorf("summary says %d under watch and %d capped, want %d and %d", res.UnderWatch, res.Capped, watch, capped)
	}

	// The accounts the summary points at show what it says.
	actor := func(username string) service.Actor {
		t.Helper()
		u, err := dt.db.UserByUsername(ctx, username)
		if err != nil {
			t.Fatalf("%s: %v", username, err)
		}
		a := service.Actor{UserID: u.ID, Username: u.Username, Role: u.Role}
		if u.CountyID != nil {
			a.CountyID = *u.CountyID
		}
		if u.MerchantID != nil {
			a.MerchantID = *u.MerchantID
		}
		return a
	}
	standing := func(username string) policy.Result {
		t.Helper()
		a := actor(username)
		m, err := svc.Merchant(ctx, a, a.MerchantID)
		if err != nil {
			t.Fatal(err)
		}
		st, err := svc.CurrentScores(ctx, []models.Merchant{m})
		if err != nil {
			t.Fatal(err)
		}
		return st[m.ID]
	}
	if r := standing("shop3703031"); !r.UnderWatch || !r.Capped {
		t.Errorf("shop3703031: %+v, want under 重点监管 and capped", r)
	}
	if r := standing("shop3703032"); !r.Capped || r.RatedStar > 2 {
		t.Errorf("shop3703032: %+v, want capped at 2★", r)
	}
	if r := standing("shop3703022"); !r.Capped || r.Score < 90 || r.RatedStar > 2 {
		t.Errorf("shop3703022: %+v, want a high score capped at 2★", r)
	}
	if r := standing("shop3703033"); r.RatedStar != 5 {
		t.Errorf("shop3703033: %+v, want 5★", r)
	}
	w, err := svc.OfficerWorklist(ctx, actor("officer3703032"))
	if err != nil {
		t.Fatal(err)
	}
	uninspected := 0
	for _, r := range w.Roads {
		if r.Assigned {
			uninspected += r.Uninspected
		}
	}
	if uninspected == 0 || w.Overdue == 0 || w.Open <= w.Overdue {
		t.Errorf("officer3703032's worklist: %d shops to inspect on its roads, %d open notices, %d overdue; want some of each", uninspected, w.Open, w.Overdue)
	}
	for _, u := range []string{"shop3703032", "shop3703025", "shop3703024"} {
		a := actor(u)
		aps, _, err := svc.Appeals(ctx, a, service.AppealFilter{Status: models.AppealPending})
		if err != nil || len(aps) == 0 {
			t.Errorf("%s has no pending appeal (%v)", u, err)
		}
	}
}

// checkDemoFairness: issue 15's parts are there for a new user to open: the
// auditor with its audit of this month (drawn, three shops visited, the rest
// to do), shop3703039's granted credit repair lifting the cap of its serious
// item of two months ago (and menqian check proving the stars with it), and
// shop3703033's credit certificate, which verifies.
func checkDemoFairness(t *testing.T, ctx context.Context, dt demoTarget, svc *service.Service, res demoResult, cur policy.Cycle) {
	t.Helper()
	actor := func(username string) service.Actor {
		t.Helper()
		u, err := dt.db.UserByUsername(ctx, username)
		if err != nil {
			t.Fatalf("%s: %v", username, err)
		}
		a := service.Actor{UserID: u.ID, Username: u.Username, Role: u.Role, MerchantID: deref(u.MerchantID)}
		a.CountyID = deref(u.CountyID)
		return a
	}

	// The random audit, as the auditor's worklist shows it.
	auditor := actor("auditor370303")
	if auditor.Role != service.RoleAuditor {
		t.Fatalf("auditor370303 is a %s", auditor.Role)
	}
	audits, _, err := svc.SpotChecks(ctx, auditor, service.SpotCheckFilter{})
	if err != nil || len(audits) != 1 {
		t.Fatalf("auditor370303's audits: %+v %v", audits, err)
	}
	sc, err := svc.SpotCheck(ctx, auditor, audits[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	var findings int
	for _, r := range sc.Roads {
		for _, sh := range r.Shops {
			findings += len(sh.Records)
		}
	}
	if sc.Cycle != cur.String() || !sc.Open || sc.Visited != 3 || sc.Shops < 2*len(sc.Roads) || len(sc.Roads) < 7 || findings == 0 || res.Visits != 3 {
		t.Errorf("the audit: cycle %s, open %v, %d of %d shops on %d roads visited, %d findings; want this month's, open, 3 visited of two a road, something found",
			sc.Cycle, sc.Open, sc.Visited, sc.Shops, len(sc.Roads), findings)
	}
	// Its visits moved nothing: every ledger entry is an officer's or an admin's.
	var byAuditor int
	if err := dt.db.SQL().QueryRowContext(ctx, "SELECT COUNT(*) FROM ledger_entries WHERE author_id = ?", auditor.UserID).Scan(&byAuditor); err != nil || byAuditor != 0 {
		t.Errorf("%d ledger entries by the auditor (%v)", byAuditor, err)
	}

	// The granted repair: the serious item of two months ago would cap the
	// shop's star now, but the repair lifts it.
	shop := actor("shop3703039")
	m, err := svc.Merchant(ctx, shop, shop.MerchantID)
	if err != nil {
		t.Fatal(err)
	}
	apps, _, err := svc.RepairApplications(ctx, shop, service.RepairFilter{})
	if err != nil || len(apps) != 1 || apps[0].Status != models.RepairGranted || apps[0].ThroughCycle != cur.Add(-2).String() || res.Repairs != 1 {
		t.Fatalf("shop3703039's repair applications: %+v %v", apps, err)
	}
	var serious int
	if err := dt.db.SQL().QueryRowContext(ctx, "SELECT COUNT(*) FROM ledger_entries WHERE merchant_id = ? AND cycle = ? AND serious = ? AND kind = ?",
		m.ID, cur.Add(-2).String(), true, models.KindDeduction).Scan(&serious); err != nil || serious != 1 {
		t.Errorf("shop3703039 has %d serious items two months ago (%v), want the one repaired", serious, err)
	}
	st, err := svc.CurrentScores(ctx, []models.Merchant{m})
	if err != nil {
		t.Fatal(err)
	}
	if r := st[m.ID]; r.Capped || r.RatedStar <= 2 {
		t.Errorf("shop3703039 now: %+v, want its cap lifted by the repair", r)
	}
	if problems, err := svc.CheckRepairs(ctx); err != nil || len(problems) > 0 {
		t.Errorf("check of the repairs: %v %v", problems, err)
	}

	// The certificate verifies, and says what the shop had when it was issued.
	owner := actor("shop3703033")
	certs, err := svc.Certificates(ctx, owner, owner.MerchantID)
	if err != nil || len(certs) != 1 || res.Certificates != 1 || certs[0].URL != res.CertificateURL {
		t.Fatalf("shop3703033's certificates: %+v %v; the summary's URL %q", certs, err, res.CertificateURL)
	}
	v, err := svc.VerifyCertificate(ctx, certs[0].Token)
	if err != nil || v.Certificate.Star != certs[0].Star || v.Certificate.Star < 4 || v.Certificate.Cycle != cur.String() {
		t.Errorf("the certificate verifies as %+v (%v); issued %d★ in %s", v.Certificate, err, certs[0].Star, certs[0].Cycle)
	}
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// checkDemoRoads: each county has demonstration roads in every status, some
// qualified now (in a full demo), others failing for different reasons.
func checkDemoRoads(t *testing.T, ctx context.Context, svc *service.Service, counties []models.County, full bool) {
	t.Helper()
	city := service.Actor{Role: service.RoleCityAdmin}
	reasons := map[string]bool{}
	for _, c := range counties {
		d, err := svc.Demonstration(ctx, city, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		statuses := map[string]int{}
		qualified, failing := 0, 0
		for _, r := range d.Roads {
			statuses[r.DemoStatus]++
			if r.Qualified {
				qualified++
				if r.DemoStatus == service.DemoRevoked {
					t.Errorf("%s %s: revoked yet qualified", c.Name, r.Name)
				}
				continue
			}
			if r.DemoStatus != service.DemoRevoked {
				failing++
			}
			for _, f := range r.Failing {
				reasons[f] = true
			}
			t.Logf("%s %s (%s) fails %v", c.Name, r.Name, r.DemoStatus, r.Failing)
		}
		for _, s := range []string{service.DemoCandidate, service.DemoBuilding, service.DemoAccepted, service.DemoRevoked} {
			if statuses[s] == 0 {
				t.Errorf("%s has no %s demonstration road: %v", c.Name, s, statuses)
			}
		}
		if full && qualified < 1 || failing < 1 || d.Qualified != qualified {
			t.Errorf("%s: %d roads qualified (view says %d), %d designated ones failing; want at least one of each", c.Name, qualified, d.Qualified, failing)
		}
	}
	want := []string{service.FailMerchants, service.FailInspected, service.FailAverage, service.FailRated, service.FailSerious, service.FailOverdue}
	if !full {
		want = []string{service.FailMerchants, service.FailSerious, service.FailOverdue}
	}
	for _, f := range want {
		if !reasons[f] {
			t.Errorf("no road fails %s (reasons seen: %v)", f, reasons)
		}
	}

}

// demoDigest hashes what the demo decides: ledger, scores, inspections,
// photos, appeals, notices, demonstration events, frozen results, accounts,
// shops, random audits, credit repairs and certificates; not the random
// merchant codes, certificate serials and password hashes, nor the ids
// of inspections and ledger entries (a wave of inspections is recorded
// concurrently, and the group commit numbers it in arrival order): those
// rows are named by their shop and time, and references to them by what
// they reference.
func demoDigest(t *testing.T, db *models.DB) string {
	t.Helper()
	h := sha256.New()
	for _, q := range []string{
		`SELECT m.uscc, l.cycle, l.kind, l.counts_as, l.points, l.serious, l.rule_code, i.inspected_at, r.occurred_at, r.rule_code,
			u.username, l.note, l.reason, l.occurred_at, l.created_at
		FROM ledger_entries l JOIN merchants m ON m.id = l.merchant_id JOIN users u ON u.id = l.author_id
		LEFT JOIN inspections i ON i.id = l.inspection_id LEFT JOIN ledger_entries r ON r.id = l.reverses_id
		ORDER BY m.uscc, l.occurred_at, l.kind, l.rule_code, l.points`,
		"SELECT m.uscc, s.cycle, s.deductions, s.bonuses, s.serious, s.score, s.entries FROM scores s JOIN merchants m ON m.id = s.merchant_id ORDER BY m.uscc, s.cycle",
		`SELECT m.uscc, u.username, i.cycle, i.inspected_at, i.note, i.photo_ids, i.delta, i.response, i.created_at
		FROM inspections i JOIN merchants m ON m.id = i.merchant_id JOIN users u ON u.id = i.officer_id ORDER BY m.uscc, i.inspected_at`,
		"SELECT id, sha256, size_bytes, county_id, uploaded_by FROM photos ORDER BY id",
		`SELECT a.id, a.merchant_id, e.occurred_at, e.rule_code, a.status, a.reason, a.photo_ids, a.filed_at, a.decided_at, a.decision_note
		FROM appeals a JOIN ledger_entries e ON e.id = a.entry_id ORDER BY a.id`,
		"SELECT id, merchant_id, rule_code, note, photo_ids, status, issued_at, due_at, resolved_at, reported_at, report_photo_ids FROM notices ORDER BY id",
		"SELECT road_id, from_status, to_status, note, changed_at FROM road_demo_events ORDER BY id",
		"SELECT cycle, merchant_id, score, star, rated_star, inspected FROM cycle_merchant_results ORDER BY cycle, merchant_id",
		"SELECT cycle, road_id, score_cents, qualified, failing, metrics FROM cycle_road_results ORDER BY cycle, road_id",
		"SELECT id, username, role, county_id, merchant_id, display_name FROM users ORDER BY id",
		"SELECT id, name, road_id, uscc, category, owner_name, phone, address, lat, lng, status, created_at FROM merchants ORDER BY id",
		"SELECT id, county_id, cycle, seed, algorithm, draw, auditor_id, note, created_by, created_at FROM audits ORDER BY id",
		"SELECT audit_id, merchant_id, road_id, draw_order, visited_at, visited_by, note FROM audit_shops ORDER BY audit_id, merchant_id",
		"SELECT audit_id, merchant_id, rule_code, points, note, recorded_by, recorded_at FROM audit_records ORDER BY audit_id, merchant_id, rule_code",
		`SELECT id, merchant_id, through_cycle, reason, photo_ids, pledge_name, applied_at, due_at, status, decided_by, decided_at, decision_note
		FROM repair_applications ORDER BY id`,
		"SELECT application_id, merchant_id, through_cycle, granted_by, granted_at FROM repairs ORDER BY id",
		"SELECT merchant_id, merchant_name, star, score, cycle, issued_by, issued_at FROM credit_certificates ORDER BY id",
	} {
		rows, err := db.SQL().Query(q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		n := 0
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for _, v := range vals {
				fmt.Fprintf(h, "%s\x1f", demoDigestValue(v))
			}
			h.Write([]byte{'\n'})
			n++
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		fmt.Fprintf(h, "-- %d rows\n", n)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// demoDigestValue writes a column value the same way whatever the driver
// returned: MySQL's text protocol gives numbers as bytes, SQLite as numbers.
func demoDigestValue(v any) string {
	switch x := v.(type) {
	case []byte:
		return demoDigestValue(string(x))
	case string:
		if f, err := strconv.ParseFloat(x, 64); err == nil && strings.Contains(x, ".") {
			return strconv.FormatFloat(f, 'f', 6, 64)
		}
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', 6, 64)
	case bool:
		if x {
			return "1"
		}
		return "0"
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case nil:
		return "NULL"
	}
	return fmt.Sprint(v)
}
