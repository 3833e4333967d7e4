package service

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/models/dbtest"
)

// TestSampleShopsIsReproducible: the draw is a function of its seed, road
// and population only; another seed draws another sample; and every shop is
// about as likely to be drawn as any other.
func TestSampleShopsIsReproducible(t *testing.T) {
	ids := make([]int64, 30)
	for i := range ids {
		ids[i] = int64(101 + i)
	}
	got := SampleShops(20261101, 7, ids, 5)
	// The algorithm's output, kept so that a change of it (which would make
	// recorded audits irreproducible) fails here.
	if golden := []int64{101, 113, 111, 127, 123}; !slices.Equal(got, golden) {
		t.Errorf("SampleShops(20261101, road 7, 101..130, 5) = %v, want %v (the documented algorithm)", got, golden)
	}
	if again := SampleShops(20261101, 7, ids, 5); !slices.Equal(again, got) {
		t.Errorf("same seed: %v, then %v", got, again)
	}
	if other := SampleShops(20261102, 7, ids, 5); slices.Equal(other, got) {
		t.Errorf("another seed drew the same sample %v", other)
	}
	if road := SampleShops(20261101, 8, ids, 5); slices.Equal(road, got) {
		t.Errorf("another road drew the same sample %v", road)
	}
	if all := SampleShops(1, 1, ids[:4], 9); len(all) != 4 || !sameSet(all, ids[:4]) {
		t.Errorf("size above the population: %v, want all of %v", all, ids[:4])
	}
	if !slices.Equal(ids[:3], []int64{101, 102, 103}) {
		t.Errorf("the population was shuffled in place: %v", ids[:3])
	}
	// Uniform: each of 10 shops is drawn in about 3 of 10 draws.
	counts := map[int64]int{}
	const draws = 6000
	for seed := int64(1); seed <= draws; seed++ {
		for _, id := range SampleShops(seed, 3, ids[:10], 3) {
			counts[id]++
		}
	}
	for _, id := range ids[:10] {
		if c := counts[id]; c < 1650 || c > 1950 {
			t.Errorf("shop %d drawn %d times in %d draws of 3 of 10, want about 1800", id, c, draws)
		}
	}
}

func sameSet(a, b []int64) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// spotWorld is a county with two roads, its admin, two officers and an
// auditor, and another county with its admin and auditor, on a fixed clock.
type spotWorld struct {
	*caseWorld
	auditor, otherAuditor Actor
	road1, road2          int64
	shops1, shops2        []models.Merchant // active shops of road 1 (12) and road 2 (3)
	closed                models.Merchant   // a closed shop of road 1
	photos                map[int64]int64   // the officer's evidence photo of each shop
}

func newSpotWorld(t *testing.T, d models.Dialect) *spotWorld {
	t.Helper()
	w := &spotWorld{caseWorld: newCaseWorld(t, d)}
	user := func(in UserInput) Actor {
		in.Password = in.Username + "-password-1"
		u, err := w.s.CreateUser(w.ctx, w.city, in)
		w.must(err)
		return actorOf(u)
	}
	w.auditor = user(UserInput{Username: "auditor", Role: RoleAuditor, CountyID: &w.home})
	otherCounty := w.other.CountyID
	w.otherAuditor = user(UserInput{Username: "auditor2", Role: RoleAuditor, CountyID: &otherCounty})
	w.road1, w.road2 = w.shop.RoadID, w.queueShop.RoadID
	w.shops1, w.shops2 = []models.Merchant{w.shop}, []models.Merchant{w.queueShop}
	add := func(road int64, name string) models.Merchant {
		m, err := w.s.CreateMerchant(w.ctx, w.city, MerchantInput{RoadID: &road, Name: &name})
		w.must(err)
		return m
	}
	for i := range 11 {
		w.shops1 = append(w.shops1, add(w.road1, fmt.Sprintf("柳泉路商户%02d", i)))
	}
	w.closed = add(w.road1, "已注销商户")
	status := "closed"
	_, err := w.s.UpdateMerchant(w.ctx, w.county, w.closed.ID, MerchantInput{Status: &status})
	w.must(err)
	for i := range 2 {
		w.shops2 = append(w.shops2, add(w.road2, fmt.Sprintf("华光路商户%02d", i)))
	}
	w.photos = map[int64]int64{}
	return w
}

// dump is the content of every table a draw, a visit or a score could
// change, by table.
// evidence returns the officer's evidence photo of shop (uploaded when first
// needed: a photo is evidence of one shop only).
func (w *spotWorld) evidence(shop int64) int64 {
	if p, ok := w.photos[shop]; ok {
		return p
	}
	p, err := w.s.UploadPhoto(w.ctx, w.officer, auditPNG(9))
	w.must(err)
	w.photos[shop] = p.ID
	return p.ID
}

func (w *spotWorld) dump() map[string]string {
	w.t.Helper()
	out := map[string]string{}
	for _, tbl := range []string{"audits", "audit_shops", "audit_records", "audit_events", "ledger_entries", "scores",
		"inspections", "notices", "appeals", "cycle_merchant_results"} {
		rows, err := w.db.SQL().QueryContext(w.ctx, "SELECT * FROM "+tbl+" ORDER BY 1, 2")
		w.must(err)
		cols, err := rows.Columns()
		w.must(err)
		var b strings.Builder
		for rows.Next() {
			v := make([]any, len(cols))
			p := make([]any, len(cols))
			for i := range v {
				p[i] = &v[i]
			}
			w.must(rows.Scan(p...))
			fmt.Fprintln(&b, v...)
		}
		w.must(rows.Err())
		rows.Close()
		out[tbl] = b.String()
	}
	return out
}

func (w *spotWorld) draw(in SpotCheckInput) SpotCheckView {
	w.t.Helper()
	sc, err := w.s.DrawSpotCheck(w.ctx, w.county, in)
	w.must(err)
	return sc
}

// sampleOf is each road's sampled shop ids, in draw order.
func sampleOf(sc SpotCheckView) map[int64][]int64 {
	out := map[int64][]int64{}
	for _, r := range sc.Roads {
		for _, sh := range r.Shops {
			out[r.RoadID] = append(out[r.RoadID], sh.MerchantID)
		}
	}
	return out
}

func ids(ms []models.Merchant) []int64 {
	out := make([]int64, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

// TestSpotCheckDraw: a draw is recorded with its seed and is what the
// documented algorithm gives on the roads' active shops; the same seed
// draws the same shops again, another seed others; the draw is in the audit
// log; refused draws store nothing.
func TestSpotCheckDraw(t *testing.T) {
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			w := newSpotWorld(t, d)
			seed := int64(424242)
			sc := w.draw(SpotCheckInput{CountyID: w.home, Seed: &seed, Size: 4, RoadSizes: map[int64]int{w.road2: 10},
				AuditorID: w.auditor.UserID, Note: "季度抽查"})
			if sc.Seed != seed || sc.Algorithm != SpotCheckAlgorithm || sc.Cycle != "2026-03" || sc.Shops != 4+3 {
				t.Fatalf("draw = seed %d %s cycle %s, %d shops", sc.Seed, sc.Algorithm, sc.Cycle, sc.Shops)
			}
			got := sampleOf(sc)
			if want := SampleShops(seed, w.road1, ids(w.shops1), 4); !slices.Equal(got[w.road1], want) {
				t.Errorf("road 1 sample = %v, want %v", got[w.road1], want)
			}
			if !sameSet(got[w.road2], ids(w.shops2)) || slices.Contains(got[w.road1], w.closed.ID) {
				t.Errorf("road 2 sample = %v (want all of %v); the closed shop drawn: %v", got[w.road2], ids(w.shops2), got[w.road1])
			}
			if r := sc.Roads[0]; r.Size != 4 || r.Population != 12 || sc.Roads[1].Size != 10 || sc.Roads[1].Population != 3 {
				t.Errorf("roads = %+v", sc.Roads)
			}
			again := w.draw(SpotCheckInput{CountyID: w.home, Seed: &seed, Size: 4, RoadSizes: map[int64]int{w.road2: 10},
				AuditorID: w.auditor.UserID})
			if !slices.Equal(sampleOf(again)[w.road1], got[w.road1]) {
				t.Errorf("same seed: %v, then %v", got[w.road1], sampleOf(again)[w.road1])
			}
			other := seed + 1
			if s := sampleOf(w.draw(SpotCheckInput{CountyID: w.home, Seed: &other, Size: 4, AuditorID: w.county.UserID})); sameSet(s[w.road1], got[w.road1]) {
				t.Errorf("another seed drew the same shops %v", s[w.road1])
			}
			random := w.draw(SpotCheckInput{CountyID: w.home, Size: 1, AuditorID: w.auditor.UserID})
			if random.Seed < 1 || random.Seed > MaxSpotCheckSeed {
				t.Errorf("generated seed %d", random.Seed)
			}
			events, _, err := w.s.AuditEvents(w.ctx, w.county, AuditFilter{Kind: AuditSpotCheckDraw})
			w.must(err)
			if len(events) != 4 || events[3].ObjectID != sc.ID || events[3].Summary != "抽查 2026-03：2 条道路 7 家商户，种子 424242" {
				t.Errorf("audit log: %d events, last %+v", len(events), events)
			}

			before := w.dump()
			bad, big, closedCycle := int64(0), MaxSpotCheckSize+1, "2026-01"
			for name, c := range map[string]struct {
				a    Actor
				in   SpotCheckInput
				code string
			}{
				"officer":               {w.officer, SpotCheckInput{CountyID: w.home, Size: 2, AuditorID: w.auditor.UserID}, CodeForbidden},
				"auditor":               {w.auditor, SpotCheckInput{CountyID: w.home, Size: 2, AuditorID: w.auditor.UserID}, CodeForbidden},
				"city admin":            {w.city, SpotCheckInput{CountyID: w.home, Size: 2, AuditorID: w.auditor.UserID}, CodeForbidden},
				"another county":        {w.other, SpotCheckInput{CountyID: w.home, Size: 2, AuditorID: w.auditor.UserID}, CodeForbidden},
				"seed 0":                {w.county, SpotCheckInput{CountyID: w.home, Seed: &bad, Size: 2, AuditorID: w.auditor.UserID}, CodeInvalid},
				"size above the bound":  {w.county, SpotCheckInput{CountyID: w.home, Size: big, AuditorID: w.auditor.UserID}, CodeInvalid},
				"nothing to draw":       {w.county, SpotCheckInput{CountyID: w.home, AuditorID: w.auditor.UserID}, CodeInvalid},
				"a road elsewhere":      {w.county, SpotCheckInput{CountyID: w.home, Size: 2, RoadSizes: map[int64]int{999999: 2}, AuditorID: w.auditor.UserID}, CodeInvalid},
				"an officer as auditor": {w.county, SpotCheckInput{CountyID: w.home, Size: 2, AuditorID: w.officer.UserID}, CodeInvalid},
				"another's auditor":     {w.county, SpotCheckInput{CountyID: w.home, Size: 2, AuditorID: w.otherAuditor.UserID}, CodeInvalid},
				"a future month":        {w.county, SpotCheckInput{CountyID: w.home, Cycle: "2026-04", Size: 2, AuditorID: w.auditor.UserID}, CodeInvalid},
				"a closed month":        {w.county, SpotCheckInput{CountyID: w.home, Cycle: closedCycle, Size: 2, AuditorID: w.auditor.UserID}, CodeCycleClosed},
			} {
				if _, err := w.s.DrawSpotCheck(w.ctx, c.a, c.in); ErrorCode(err) != c.code {
					t.Errorf("%s: %v, want %s", name, err, c.code)
				}
			}
			if after := w.dump(); !maps.Equal(before, after) {
				t.Errorf("refused draws stored something")
			}
		})
	}
}

// TestSpotCheckRecordsMoveNoScore: the auditor's records stay apart from the
// score — no ledger entry, no score row, no inspection — and only the
// audit's own auditor records, once, while the cycle is open.
func TestSpotCheckRecordsMoveNoScore(t *testing.T) {
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			w := newSpotWorld(t, d)
			seed := int64(7)
			sc := w.draw(SpotCheckInput{CountyID: w.home, Seed: &seed, Size: 2, AuditorID: w.auditor.UserID})
			shop := sc.Roads[0].Shops[0].MerchantID
			notSampled := slices.IndexFunc(w.shops1, func(m models.Merchant) bool { return !slices.Contains(sampleOf(sc)[w.road1], m.ID) })
			before := w.dump()
			three := 3
			visit := SpotCheckVisit{Items: []InspectionItem{{RuleCode: "HJWS-01", Points: &three, Note: "门前有烟头"}, {RuleCode: "ZXLH-05"}}, Note: "抽查"}
			sh, err := w.s.RecordSpotCheck(w.ctx, w.auditor, sc.ID, shop, visit)
			w.must(err)
			if sh.VisitedAt == nil || len(sh.Records) != 2 || sh.Records[0].Points != 3 || sh.Records[1].Points != 10 {
				t.Fatalf("visit = %+v", sh)
			}
			after := w.dump()
			for _, tbl := range []string{"ledger_entries", "scores", "inspections", "cycle_merchant_results", "notices", "appeals"} {
				if before[tbl] != after[tbl] {
					t.Errorf("an audit record changed %s", tbl)
				}
			}
			if before["audit_records"] == after["audit_records"] {
				t.Error("the audit's records were not stored")
			}
			m, err := w.s.Merchant(w.ctx, w.city, shop)
			w.must(err)
			if res, err := w.s.CurrentScores(w.ctx, []models.Merchant{m}); err != nil || res[shop].Score != 100 || res[shop].RatedStar != 5 {
				t.Errorf("score after the audit: %+v, %v; want 100 and 5★ (a serious item found by an audit caps nothing)", res[shop], err)
			}

			before = w.dump()
			bonus, high := InspectionItem{RuleCode: "BONUS-01"}, 9
			for name, c := range map[string]struct {
				a        Actor
				merchant int64
				visit    SpotCheckVisit
				code     string
			}{
				"twice":                {w.auditor, shop, visit, CodeConflict},
				"an officer":           {w.officer, sc.Roads[0].Shops[1].MerchantID, visit, CodeForbidden},
				"the merchant":         {w.merchant, sc.Roads[0].Shops[1].MerchantID, visit, CodeForbidden},
				"not its auditor":      {w.county, sc.Roads[0].Shops[1].MerchantID, visit, CodeForbidden},
				"another auditor":      {w.otherAuditor, sc.Roads[0].Shops[1].MerchantID, visit, CodeNotFound},
				"another county admin": {w.other, sc.Roads[0].Shops[1].MerchantID, visit, CodeNotFound},
				"a shop not sampled":   {w.auditor, w.shops1[notSampled].ID, visit, CodeNotFound},
				"a bonus item":         {w.auditor, sc.Roads[0].Shops[1].MerchantID, SpotCheckVisit{Items: []InspectionItem{bonus}}, CodeInvalid},
				"points out of range":  {w.auditor, sc.Roads[0].Shops[1].MerchantID, SpotCheckVisit{Items: []InspectionItem{{RuleCode: "HJWS-01", Points: &high}}}, CodeInvalid},
				"an unknown item":      {w.auditor, sc.Roads[0].Shops[1].MerchantID, SpotCheckVisit{Items: []InspectionItem{{RuleCode: "NOPE"}}}, CodeInvalid},
			} {
				if _, err := w.s.RecordSpotCheck(w.ctx, c.a, sc.ID, c.merchant, c.visit); ErrorCode(err) != c.code {
					t.Errorf("%s: %v, want %s", name, err, c.code)
				}
			}
			w.clock.Set(time.Date(2026, 4, 10, 0, 0, 0, 0, time.UTC)) // March's grace period is over
			if _, err := w.s.RecordSpotCheck(w.ctx, w.auditor, sc.ID, sc.Roads[0].Shops[1].MerchantID, SpotCheckVisit{}); ErrorCode(err) != CodeCycleClosed {
				t.Errorf("after the grace period: %v, want cycle_closed", err)
			}
			if after := w.dump(); !maps.Equal(before, after) {
				t.Errorf("refused visits stored something")
			}
		})
	}
}

// TestAuditorSeesOnlyItsAudits: the auditor lists and opens its own audits
// only, and nothing else of its county: no shop, ledger, inspection,
// ranking, notice, appeal or county.
func TestAuditorSeesOnlyItsAudits(t *testing.T) {
	w := newSpotWorld(t, models.SQLite)
	mine := w.draw(SpotCheckInput{CountyID: w.home, Size: 1, AuditorID: w.auditor.UserID})
	theirs := w.draw(SpotCheckInput{CountyID: w.home, Size: 1, AuditorID: w.county.UserID})
	list, total, err := w.s.SpotChecks(w.ctx, w.auditor, SpotCheckFilter{})
	w.must(err)
	if total != 1 || len(list) != 1 || list[0].ID != mine.ID || list[0].Shops != 2 {
		t.Errorf("the auditor's list: %d %+v, want only audit %d", total, list, mine.ID)
	}
	if _, err := w.s.SpotCheck(w.ctx, w.auditor, theirs.ID); ErrorCode(err) != CodeNotFound {
		t.Errorf("another auditor's audit: %v", err)
	}
	if all, _, err := w.s.SpotChecks(w.ctx, w.county, SpotCheckFilter{}); err != nil || len(all) != 2 {
		t.Errorf("the county admin's list: %d, %v", len(all), err)
	}
	for _, role := range []Actor{w.officer, w.merchant} {
		if _, _, err := w.s.SpotChecks(w.ctx, role, SpotCheckFilter{}); ErrorCode(err) != CodeForbidden {
			t.Errorf("%s lists audits: %v", role.Role, err)
		}
	}
	a, shop := w.auditor, w.shop.ID
	for name, err := range map[string]error{
		"merchant":    second(w.s.Merchant(w.ctx, a, shop)),
		"merchants":   third(w.s.Merchants(w.ctx, a, MerchantFilter{CountyID: w.home})),
		"ledger":      third(w.s.Ledger(w.ctx, a, shop, "")),
		"inspections": third(w.s.Inspections(w.ctx, a, shop, Paging{})),
		"notices":     third(w.s.NoticeList(w.ctx, a, NoticeFilter{})),
		"appeals":     third(w.s.Appeals(w.ctx, a, AppealFilter{})),
		"county":      second(w.s.County(w.ctx, a, w.home)),
		"counties":    second(w.s.Counties(w.ctx, a)),
		"roads":       third(w.s.Roads(w.ctx, a, w.home, Paging{})),
		"dashboard":   second(w.s.CountyDashboard(w.ctx, a, w.home)),
		"agreement":   second(w.s.AuditAgreement(w.ctx, a, w.home, "2026-03", "2026-03")),
	} {
		if c := ErrorCode(err); c != CodeForbidden && c != CodeNotFound {
			t.Errorf("the auditor reads %s: %v", name, err)
		}
	}
}

func second[T any](_ T, err error) error        { return err }
func third[T, U any](_ T, _ U, err error) error { return err }

// TestAuditAgreementWorkedExample checks the agreement figures on a small
// example worked by hand. Road 1's first five shops A–E are all drawn
// (size 12 of 12); in March:
//
//	officer 1: A HJWS-01 2 + ZXLH-02 3 (the HJWS-01 later reversed: still
//	           what the officer found); B a bonus only (nothing wrong);
//	           C SRZJ-01 3; E HJWS-01 2 (E never visited: not compared)
//	officer 2: D HJWS-02 3; a road 2 shop ZXLH-01 5 (not sampled)
//	auditor:   A HJWS-01 2 + SRZJ-02 2; B nothing; C SRZJ-01 2; D HJWS-02 3
//
// Officer 1, shops A, B, C: item pairs A {HJWS-01 both, ZXLH-02 officer
// only, SRZJ-02 auditor only}, B {}, C {SRZJ-01 both}: 4 pairs, 2 agreed,
// agreement 2/4 = 0.5. Points 5+0+3 = 8 against 2+2+0+2 = 6: (8−6)/3 =
// 0.667 per shop. Kappa over 3 shops × 17 deduction items = 51 pairs:
// observed (2 + 47)/51, both sides "present" 3/51, chance (3/51)² +
// (48/51)² = 2313/2601, kappa = (2499−2313)/(2601−2313) = 186/288 = 0.6458.
// Officer 2, shop D: 1 pair, agreed, agreement 1, points 3 − 3 = 0, kappa 1.
func TestAuditAgreementWorkedExample(t *testing.T) {
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			w := newSpotWorld(t, d)
			A, B, C, D, E := w.shops1[0].ID, w.shops1[1].ID, w.shops1[2].ID, w.shops1[3].ID, w.shops1[4].ID
			seq := 0
			inspect := func(officer Actor, shop int64, items ...InspectionItem) int64 {
				t.Helper()
				seq++
				in := InspectionInput{MerchantID: shop, Items: items}
				if items[0].RuleCode != "BONUS-01" {
					in.Photos = []int64{w.evidence(shop)}
				}
				r, _, err := w.s.RecordInspection(w.ctx, officer, fmt.Sprintf("agree-%d", seq), in)
				w.must(err)
				return r.ID
			}
			pts := func(n int) *int { return &n }
			insA := inspect(w.officer, A, InspectionItem{RuleCode: "HJWS-01", Points: pts(2)}, InspectionItem{RuleCode: "ZXLH-02", Points: pts(3)})
			inspect(w.officer, B, InspectionItem{RuleCode: "BONUS-01"})
			inspect(w.officer, C, InspectionItem{RuleCode: "SRZJ-01", Points: pts(3)})
			inspect(w.officer, E, InspectionItem{RuleCode: "HJWS-01", Points: pts(2)})
			inspect(w.officer2, D, InspectionItem{RuleCode: "HJWS-02", Points: pts(3)})
			inspect(w.officer2, w.shops2[0].ID, InspectionItem{RuleCode: "ZXLH-01", Points: pts(5)})
			var entry int64
			w.must(w.db.SQL().QueryRow("SELECT id FROM ledger_entries WHERE inspection_id = ? AND rule_code = 'HJWS-01'", insA).Scan(&entry))
			_, _, err := w.s.ReverseEntry(w.ctx, w.county, A, entry, "复核后撤销")
			w.must(err)

			seed := int64(99)
			sc := w.draw(SpotCheckInput{CountyID: w.home, Seed: &seed, Size: 12, RoadSizes: map[int64]int{w.road2: 0}, AuditorID: w.auditor.UserID})
			record := func(shop int64, items ...InspectionItem) {
				t.Helper()
				_, err := w.s.RecordSpotCheck(w.ctx, w.auditor, sc.ID, shop, SpotCheckVisit{Items: items})
				w.must(err)
			}
			record(A, InspectionItem{RuleCode: "HJWS-01", Points: pts(2)}, InspectionItem{RuleCode: "SRZJ-02", Points: pts(2)})
			record(B)
			record(C, InspectionItem{RuleCode: "SRZJ-01", Points: pts(2)})
			record(D, InspectionItem{RuleCode: "HJWS-02", Points: pts(3)})

			got, err := w.s.AuditAgreement(w.ctx, w.county, w.home, "2026-01", "2026-03")
			w.must(err)
			k1 := 186.0 / 288
			want := []OfficerAgreement{
				{OfficerID: w.officer.UserID, Officer: "officer", Shops: 3, ItemPairs: 4, Agreed: 2, OfficerOnly: 1, AuditorOnly: 1,
					Agreement: 0.5, Kappa: &k1, OfficerPoints: 8, AuditorPoints: 6, PointsDiff: 2.0 / 3},
				{OfficerID: w.officer2.UserID, Officer: "officer2", Shops: 1, ItemPairs: 1, Agreed: 1,
					Agreement: 1, Kappa: pointer(1.0), OfficerPoints: 3, AuditorPoints: 3, PointsDiff: 0},
			}
			if len(got) != len(want) {
				t.Fatalf("agreement = %+v, want %d officers", got, len(want))
			}
			for i := range want {
				g, w := got[i], want[i]
				if g.Kappa == nil || math.Abs(*g.Kappa-*w.Kappa) > 1e-9 || math.Abs(g.Agreement-w.Agreement) > 1e-9 ||
					math.Abs(g.PointsDiff-w.PointsDiff) > 1e-9 {
					t.Errorf("officer %d: agreement %.4f kappa %v diff %.4f, want %.4f %.4f %.4f", w.OfficerID, g.Agreement, g.Kappa,
						g.PointsDiff, w.Agreement, *w.Kappa, w.PointsDiff)
				}
				g.Kappa, w.Kappa, g.Agreement, w.Agreement, g.PointsDiff, w.PointsDiff = nil, nil, 0, 0, 0, 0
				if g != w {
					t.Errorf("officer %d:\n got %+v\nwant %+v", w.OfficerID, g, w)
				}
			}
			if none, err := w.s.AuditAgreement(w.ctx, w.city, w.home, "2026-01", "2026-02"); err != nil || len(none) != 0 {
				t.Errorf("months without audits: %+v, %v", none, err)
			}
			for name, c := range map[string]struct {
				a        Actor
				from, to string
				code     string
			}{
				"officer":        {w.officer, "2026-03", "2026-03", CodeForbidden},
				"another county": {w.other, "2026-03", "2026-03", CodeForbidden},
				"bad month":      {w.county, "2026-3", "2026-03", CodeInvalid},
				"reversed range": {w.county, "2026-03", "2026-02", CodeInvalid},
				"too long":       {w.county, "2023-01", "2026-03", CodeInvalid},
			} {
				if _, err := w.s.AuditAgreement(w.ctx, c.a, w.home, c.from, c.to); ErrorCode(err) != c.code {
					t.Errorf("%s: %v, want %s", name, err, c.code)
				}
			}
		})
	}
}

func pointer[T any](v T) *T { return &v }
