package service

import (
	"bytes"
	"image"
	"image/png"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/service/policy"
)

// repairPhoto uploads a small PNG, different for each shade, as a.
func (w *caseWorld) repairPhoto(a Actor, shade uint8) int64 {
	w.t.Helper()
	img := image.NewGray(image.Rect(0, 0, 4, 4))
	img.Pix[0] = shade
	var buf bytes.Buffer
	w.must(png.Encode(&buf, img))
	p, err := w.s.UploadPhoto(w.ctx, a, &buf)
	w.must(err)
	return p.ID
}

// repairCounts is what a refused repair request must leave as it was.
func (w *caseWorld) repairCounts() [3]int64 {
	w.t.Helper()
	var out [3]int64
	for i, q := range []string{"SELECT COUNT(*) FROM repair_applications", "SELECT COUNT(*) FROM repairs",
		"SELECT COUNT(*) FROM repair_applications WHERE status <> 'pending'"} {
		w.must(w.db.SQL().QueryRow(q).Scan(&out[i]))
	}
	return out
}

// rated is the shop's rated star and cap now, as the live standing, the
// merchant's outlook, the county's leaderboard and the console's star
// filter each compute it; they must agree.
func (w *caseWorld) rated() (int, bool) {
	w.t.Helper()
	st, err := w.s.CurrentScores(w.ctx, []models.Merchant{w.shop})
	w.must(err)
	r := st[w.shop.ID]
	o, _, err := w.s.MerchantOutlook(w.ctx, w.merchant, w.shop.ID)
	w.must(err)
	if o.RatedStar != r.RatedStar || o.Capped != r.Capped {
		w.t.Errorf("outlook %d★ capped %v, standing %d★ capped %v", o.RatedStar, o.Capped, r.RatedStar, r.Capped)
	}
	page, err := w.s.MerchantBoard(w.ctx, w.county, BoardQuery{Scope: "county", ID: w.home})
	w.must(err)
	found := false
	for _, it := range page.Items {
		if it.MerchantID == w.shop.ID {
			found = true
			if it.RatedStar != r.RatedStar {
				w.t.Errorf("leaderboard %d★, standing %d★", it.RatedStar, r.RatedStar)
			}
		}
	}
	if !found {
		w.t.Errorf("the shop is not on the county's leaderboard")
	}
	star := r.RatedStar
	ms, _, err := w.s.Merchants(w.ctx, w.county, MerchantFilter{CountyID: w.home, RatedStar: &star})
	w.must(err)
	if len(ms) != 1 || ms[0].ID != w.shop.ID {
		w.t.Errorf("the console's %d★ filter lists %d shops, want the shop alone", star, len(ms))
	}
	return r.RatedStar, r.Capped
}

// TestCreditRepair walks a repair on a fixed clock: refused before the
// minimum period, without rectification, twice at once (one stored), by
// another county; refused (the cap stays); granted, lifting the cap exactly
// from its time in the live standing, the leaderboard and the star filter,
// and for the cycles that end after it when they close; `check` agrees and
// finds a corrupted repair or frozen star.
func TestCreditRepair(t *testing.T) {
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			w := newCaseWorld(t, d)
			s, ctx := w.s, w.ctx
			w.clock.Set(localTime(2026, time.December, 5, 10))
			evidence := w.repairPhoto(w.officer, 1)
			_, _, err := s.RecordInspection(ctx, w.officer, "repair-serious", InspectionInput{MerchantID: w.shop.ID,
				Items: []InspectionItem{{RuleCode: "ZXLH-05"}}, Photos: []int64{evidence}})
			w.must(err)
			if star, capped := w.rated(); star != 2 || !capped {
				t.Fatalf("after the serious item: %d★ capped %v, want 2★ capped", star, capped)
			}
			// The deduction carries how to repair it.
			entries, _, err := s.Ledger(ctx, w.merchant, w.shop.ID, "")
			w.must(err)
			if n := s.RepairNotice(entries[0].LedgerEntry); !strings.Contains(n, "2027年1月4日") || !strings.Contains(n, "10个工作日") ||
				!strings.Contains(n, "不收取任何费用") {
				t.Errorf("repair notice of the serious item: %q", n)
			}

			apply := func(shade uint8) (models.RepairApplication, error) {
				return s.ApplyRepair(ctx, w.merchant, w.shop.ID, RepairInput{Reason: "已清理门前并签订承诺", Pledge: true,
					PledgeName: "王老板", Photos: []int64{w.repairPhoto(w.merchant, shade)}})
			}
			refused := func(what string, err error, code string) {
				t.Helper()
				if ErrorCode(err) != code {
					t.Errorf("%s: %v, want %s", what, err, code)
				}
			}
			before := w.repairCounts()
			_, err = apply(10)
			refused("before the minimum period", err, CodeConflict)
			w.clock.Set(localTime(2027, time.January, 5, 9))
			_, err = apply(11)
			refused("without rectification", err, CodeConflict)
			_, err = s.ApplyRepair(ctx, w.merchant, w.shop.ID, RepairInput{Reason: "已整改", PledgeName: "王老板",
				Photos: []int64{w.repairPhoto(w.merchant, 12)}})
			refused("without the commitment ticked", err, CodeInvalid)
			_, err = s.ApplyRepair(ctx, w.county, w.shop.ID, RepairInput{Reason: "代为申请", Pledge: true, PledgeName: "王老板"})
			refused("by the county admin", err, CodeForbidden)
			if after := w.repairCounts(); after != before {
				t.Fatalf("refused applications stored something: %v → %v", before, after)
			}

			n, err := s.IssueNotice(ctx, w.officer, w.shop.ID, NoticeInput{RuleCode: "ZXLH-05", Note: "限期配合整改"})
			w.must(err)
			_, err = s.RectifyNotice(ctx, w.officer, n.ID, "复查已整改")
			w.must(err)
			st, err := s.RepairStatusOf(ctx, w.merchant, w.shop.ID)
			w.must(err)
			if !st.Eligible || st.Through.String() != "2026-12" || len(st.Items) != 1 || !st.Items[0].Rectified {
				t.Fatalf("status after the rectification: %+v", st)
			}

			// Twice at once: exactly one stored.
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i := range errs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, errs[i] = apply(uint8(20 + i))
				}()
			}
			wg.Wait()
			var first models.RepairApplication
			aps, total, err := s.RepairApplications(ctx, w.county, RepairFilter{})
			w.must(err)
			if total != 1 || (errs[0] == nil) == (errs[1] == nil) {
				t.Fatalf("two applications at once: %d stored, errors %v", total, errs)
			}
			first = aps[0]
			for _, e := range errs {
				if e != nil {
					refused("the second of two at once", e, CodeConflict)
				}
			}
			if want := localTime(2027, time.January, 20, 0); !first.DueAt.Equal(want) {
				t.Errorf("due %s, want the end of the 10th working day (%s)", first.DueAt, want)
			}

			before = w.repairCounts()
			_, err = s.DecideRepair(ctx, w.other, first.ID, true, "同意")
			refused("another county's admin", err, CodeNotFound)
			_, err = s.DecideRepair(ctx, w.officer, first.ID, true, "同意")
			refused("an officer", err, CodeForbidden)
			_, err = s.DecideRepair(ctx, w.county, first.ID, true, "")
			refused("without a note", err, CodeInvalid)
			if after := w.repairCounts(); after != before {
				t.Fatalf("refused decisions stored something: %v → %v", before, after)
			}

			// Refused: the cap stays.
			_, err = s.DecideRepair(ctx, w.county, first.ID, false, "照片不清楚，请重新拍摄")
			w.must(err)
			if star, capped := w.rated(); star != 2 || !capped {
				t.Errorf("after the refusal: %d★ capped %v, want 2★ capped", star, capped)
			}
			_, err = s.DecideRepair(ctx, w.county, first.ID, true, "同意")
			refused("a decided application", err, CodeConflict)

			// Granted at T: a read just before is capped, from T on not.
			second, err := apply(30)
			w.must(err)
			grant := localTime(2027, time.January, 10, 10)
			w.clock.Set(grant.Add(-time.Millisecond))
			if star, capped := w.rated(); star != 2 || !capped {
				t.Errorf("just before the grant: %d★ capped %v, want 2★ capped", star, capped)
			}
			w.clock.Set(grant)
			_, err = s.DecideRepair(ctx, w.county, second.ID, true, "整改到位，同意修复")
			w.must(err)
			w.clock.Set(grant.Add(time.Millisecond))
			// December's final 90 (4★) still bounds January: the repair lifts the cap alone.
			if star, capped := w.rated(); star != 4 || capped {
				t.Errorf("just after the grant: %d★ capped %v, want 4★ uncapped", star, capped)
			}
			var audited int64
			w.must(w.db.SQL().QueryRow("SELECT COUNT(*) FROM audit_events WHERE kind = ?", AuditRepairDecision).Scan(&audited))
			if audited != 2 {
				t.Errorf("%d audit events of repair decisions, want 2", audited)
			}
			if st, err := s.RepairStatusOf(ctx, w.merchant, w.shop.ID); err != nil || st.Eligible || st.Capped {
				t.Errorf("status after the grant: %+v %v", st, err)
			}
			if _, err := s.db.SQL().Exec("UPDATE repairs SET through_cycle = '2027-01'"); err == nil {
				t.Errorf("a repair was updated: repairs must be append-only")
			}

			// Closing: December ended before the grant and stays capped;
			// January ends after it and is not.
			frozenStar := func(cycle string) int {
				t.Helper()
				var star int
				w.must(w.db.SQL().QueryRow("SELECT rated_star FROM cycle_merchant_results WHERE cycle = ? AND merchant_id = ?",
					cycle, w.shop.ID).Scan(&star))
				return star
			}
			_, err = s.CloseCycle(ctx, policy.Cycle{Year: 2026, Month: time.December}, "test")
			w.must(err)
			w.clock.Set(localTime(2027, time.February, 5, 9))
			_, err = s.CloseCycle(ctx, policy.Cycle{Year: 2027, Month: time.January}, "test")
			w.must(err)
			if dec, jan := frozenStar("2026-12"), frozenStar("2027-01"); dec != 2 || jan != 4 {
				t.Errorf("frozen rated stars: December %d★, January %d★; want 2★ and 4★", dec, jan)
			}
			check := func() []string {
				t.Helper()
				problems, err := s.CheckRepairs(ctx)
				w.must(err)
				bad, _, err := s.Check(ctx)
				w.must(err)
				if len(bad) > 0 {
					t.Errorf("scores differ from the ledger: %+v", bad)
				}
				return problems
			}
			if p := check(); len(p) > 0 {
				t.Fatalf("check: %v", p)
			}
			for _, c := range []struct{ name, corrupt, heal, want string }{
				{"the application's cycles", "UPDATE repair_applications SET through_cycle = '2026-11' WHERE id = " + strconv.FormatInt(second.ID, 10),
					"UPDATE repair_applications SET through_cycle = '2026-12' WHERE id = " + strconv.FormatInt(second.ID, 10), "is not the grant of application"},
				{"a frozen star", "UPDATE cycle_merchant_results SET rated_star = 4 WHERE cycle = '2026-12' AND merchant_id = " + strconv.FormatInt(w.shop.ID, 10),
					"UPDATE cycle_merchant_results SET rated_star = 2 WHERE cycle = '2026-12' AND merchant_id = " + strconv.FormatInt(w.shop.ID, 10),
					"frozen score 90, star 4, rated 4; its rows and repairs give 90, 4, 2"},
			} {
				_, err := w.db.SQL().Exec(c.corrupt)
				w.must(err)
				if p := check(); len(p) != 1 || !strings.Contains(p[0], c.want) {
					t.Errorf("%s corrupted: check says %q, want one problem naming %q", c.name, p, c.want)
				}
				_, err = w.db.SQL().Exec(c.heal)
				w.must(err)
			}
			if p := check(); len(p) > 0 {
				t.Errorf("check after healing: %v", p)
			}
		})
	}
}
