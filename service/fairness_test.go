package service

import (
	"fmt"
	"testing"
	"time"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/models/dbtest"
)

// fairLine finds the report line of id.
func fairLine(t *testing.T, g FairnessGroup, id int64) FairnessLine {
	t.Helper()
	for _, l := range g.Lines {
		if l.ID == id {
			return l
		}
	}
	t.Fatalf("no line %d in %+v", id, g.Lines)
	return FairnessLine{}
}

// fairCounts are a line's counts, in the order FairnessLine lists them.
func fairCounts(l FairnessLine) [9]int {
	return [9]int{l.Inspections, l.Deductions, l.Points, l.Serious, l.Bonuses, l.Appealed, l.Reversed, l.Notices, l.NoticesDeducted}
}

// TestFairnessCounts records through the service (inspections, an accepted
// appeal, notices that did and did not become deductions) and checks every
// count of the report's officers and roads, the cycle range, and who may
// read it.
func TestFairnessCounts(t *testing.T) {
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			w := newCaseWorld(t, d)
			photo, err := w.s.UploadPhoto(w.ctx, w.officer, auditPNG(7))
			w.must(err)
			photo2, err := w.s.UploadPhoto(w.ctx, w.officer2, auditPNG(8))
			w.must(err)
			n := 0
			record := func(a Actor, m models.Merchant, ph int64, at *time.Time, rules ...string) int64 {
				t.Helper()
				in := InspectionInput{MerchantID: m.ID, InspectedAt: at, Photos: []int64{ph}}
				for _, r := range rules {
					in.Items = append(in.Items, InspectionItem{RuleCode: r})
				}
				n++
				res, _, err := w.s.RecordInspection(w.ctx, a, fmt.Sprintf("fair-%d", n), in)
				if err != nil {
					t.Fatalf("%v %+v: %v %v", rules, at, err, err.(*Error).Fields)
				}
				return res.ID
			}
			a := record(w.officer, w.shop, photo.ID, nil, "HJWS-01", "BONUS-01")
			record(w.officer, w.shop, photo.ID, nil, "ZXLH-05")
			entries, err := w.db.LedgerOfInspections(w.ctx, []int64{a})
			w.must(err)
			ap, err := w.s.FileAppeal(w.ctx, w.merchant, w.shop.ID, entries[0].ID, "垃圾是路人丢的")
			w.must(err)
			_, err = w.s.DecideAppeal(w.ctx, w.county, ap.ID, true, "核实属实")
			w.must(err)
			record(w.officer2, w.queueShop, photo2.ID, nil, "BONUS-02")

			// The officer's notice on 小广告 becomes a deduction by officer2;
			// officer2's notice is confirmed fixed before its item is deducted again.
			_, err = w.s.IssueNotice(w.ctx, w.officer, w.shop.ID, NoticeInput{RuleCode: "SRZJ-01", Photos: []int64{photo.ID}})
			w.must(err)
			fixed, err := w.s.IssueNotice(w.ctx, w.officer2, w.queueShop.ID, NoticeInput{RuleCode: "LHMG-01", Photos: []int64{photo2.ID}})
			w.must(err)
			w.clock.Set(w.clock.Now().Add(time.Hour))
			record(w.officer2, w.shop, photo.ID, nil, "SRZJ-01") // the shop's evidence, not queueShop's
			_, err = w.s.RectifyNotice(w.ctx, w.officer2, fixed.ID, "已清理")
			w.must(err)
			w.clock.Set(w.clock.Now().Add(time.Hour))
			record(w.officer2, w.queueShop, photo2.ID, nil, "LHMG-01")

			// A random audit of March visits the first shop and finds only
			// the litter: the officer agrees on one of its two items, officer2
			// on neither (its poster against the auditor's litter).
			audit, err := w.s.DrawSpotCheck(w.ctx, w.county, SpotCheckInput{CountyID: w.home, Size: 1, AuditorID: w.county.UserID})
			w.must(err)
			_, err = w.s.RecordSpotCheck(w.ctx, w.county, audit.ID, w.shop.ID, SpotCheckVisit{Items: []InspectionItem{{RuleCode: "HJWS-01"}}})
			w.must(err)

			r, err := w.s.FairnessReport(w.ctx, w.county, w.home, "2026-03", "2026-03")
			w.must(err)
			for id, want := range map[int64][3]int{w.officer.UserID: {1, 2, 1}, w.officer2.UserID: {1, 2, 0}} {
				ag := fairLine(t, r.Officers, id).Agreement
				if ag == nil || [3]int{ag.Shops, ag.ItemPairs, ag.Agreed} != want {
					t.Errorf("officer %d: agreement %+v, want shops, item pairs and agreed %v", id, ag, want)
				}
			}
			if r.From != "2026-03" || r.To != "2026-03" || r.County.ID != w.home {
				t.Errorf("report of %d %s..%s", r.County.ID, r.From, r.To)
			}
			// inspections, deductions, points, serious, bonuses, appealed, reversed, notices, deducted
			for _, c := range []struct {
				what string
				g    FairnessGroup
				id   int64
				want [9]int
			}{
				{"officer", r.Officers, w.officer.UserID, [9]int{2, 2, 12, 1, 1, 1, 1, 1, 1}},
				{"officer2", r.Officers, w.officer2.UserID, [9]int{3, 2, 6, 0, 1, 0, 0, 1, 0}},
				{"柳泉路", r.Roads, w.shop.RoadID, [9]int{3, 3, 15, 1, 1, 1, 1, 1, 1}},
				{"华光路", r.Roads, w.queueShop.RoadID, [9]int{2, 1, 3, 0, 1, 0, 0, 1, 0}},
			} {
				l := fairLine(t, c.g, c.id)
				if got := fairCounts(l); got != c.want {
					t.Errorf("%s: counts %v, want %v", c.what, got, c.want)
				}
				if len(l.Rates) != len(FairnessMetrics) {
					t.Errorf("%s: %d rates", c.what, len(l.Rates))
				}
			}
			if l := fairLine(t, r.Officers, w.officer.UserID); l.Name != "officer" {
				t.Errorf("officer named %q", l.Name)
			}
			if len(r.Officers.Lines) != 2 || len(r.Roads.Lines) != 2 {
				t.Errorf("%d officers and %d roads, want 2 and 2", len(r.Officers.Lines), len(r.Roads.Lines))
			}
			// An April bonus: only a range that takes April in counts it.
			w.clock.Set(time.Date(2026, 4, 2, 2, 0, 0, 0, time.UTC))
			record(w.officer, w.shop, photo.ID, nil, "BONUS-03")
			for _, c := range []struct {
				from, to           string
				inspections, bonus int
			}{{"2026-03", "2026-03", 2, 1}, {"2026-03", "2026-04", 3, 2}, {"2026-04", "2026-04", 1, 1}, {"", "", 3, 2}} {
				r, err := w.s.FairnessReport(w.ctx, w.city, w.home, c.from, c.to)
				w.must(err)
				if l := fairLine(t, r.Officers, w.officer.UserID); l.Inspections != c.inspections || l.Bonuses != c.bonus {
					t.Errorf("%s..%s: %d inspections and %d bonuses, want %d and %d", c.from, c.to, l.Inspections, l.Bonuses, c.inspections, c.bonus)
				}
				if c.from == "" && (r.From != "2025-11" || r.To != "2026-04") {
					t.Errorf("default range %s..%s, want 2025-11..2026-04", r.From, r.To)
				}
			}

			for _, c := range []struct {
				who      Actor
				county   int64
				from, to string
				code     string
				field    string
			}{
				{w.officer, w.home, "", "", CodeForbidden, ""},
				{w.merchant, w.home, "", "", CodeForbidden, ""},
				{w.other, w.home, "", "", CodeNotFound, ""},
				{w.county, w.home, "2026-13", "", CodeInvalid, "from"},
				{w.county, w.home, "", "2026-05", CodeInvalid, "to"},
				{w.county, w.home, "2026-03", "2026-02", CodeInvalid, "from"},
				{w.county, w.home, "2024-04", "2026-04", CodeInvalid, "from"},
			} {
				_, err := w.s.FairnessReport(w.ctx, c.who, c.county, c.from, c.to)
				if ErrorCode(err) != c.code {
					t.Errorf("%s %s..%s: %v, want %s", c.who.Username, c.from, c.to, err, c.code)
				}
				if e, ok := err.(*Error); c.field != "" && (!ok || e.Fields[c.field] == "") {
					t.Errorf("%s..%s: %v, want a problem with %s", c.from, c.to, err, c.field)
				}
			}
			if _, err := w.s.FairnessReport(w.ctx, w.county, w.home, "2024-05", "2026-04"); err != nil {
				t.Errorf("24 cycles: %v", err)
			}
		})
	}
}

// fairCounty is a synthetic county stored directly (the report reads only
// the tables): officers with the given inspections and deductions each
// (one HJWS-01 item of 2 points per deducting inspection), spread evenly
// over two roads and three cycles.
func fairCounty(t *testing.T, w *caseWorld, plan [][2]int) []int64 {
	t.Helper()
	r2, err := w.s.CreateRoad(w.ctx, w.city, RoadInput{CountyID: &w.home, Name: ptr("共青团路")})
	w.must(err)
	shops := []int64{w.shop.ID, w.queueShop.ID}
	for i := range 2 {
		m, err := w.s.CreateMerchant(w.ctx, w.city, MerchantInput{RoadID: &r2.ID, Name: ptr(fmt.Sprintf("店铺%d", i))})
		w.must(err)
		shops = append(shops, m.ID)
	}
	var ids []int64
	for o, p := range plan {
		u, err := w.s.CreateUser(w.ctx, w.city, UserInput{Username: fmt.Sprintf("patrol%d", o), Password: "patrol-password-1",
			Role: RoleOfficer, CountyID: &w.home, DisplayName: fmt.Sprintf("巡查员%d", o)})
		w.must(err)
		ids = append(ids, u.ID)
		dbtest.Inspections(t, w.db, u.ID, shops, []string{"2026-01", "2026-02", "2026-03"}, p[0], p[1], "HJWS-01", 2)
	}
	return ids
}

// TestFairnessFlagsOnlyTheOutlier: in a county where five officers deduct
// at 18 of 60 inspections, one deducts at 36 of 60 (twice as often) and one
// made three inspections, all with a deduction, only the second is flagged:
// its 95 % interval lies above its peers' mean, while the newcomer's
// estimate is held near the county mean by the prior. No road is flagged:
// every officer's work is spread evenly over them.
func TestFairnessFlagsOnlyTheOutlier(t *testing.T) {
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			w := newCaseWorld(t, d)
			ids := fairCounty(t, w, [][2]int{{60, 18}, {60, 18}, {60, 36}, {60, 18}, {60, 18}, {60, 18}, {3, 3}})
			r, err := w.s.FairnessReport(w.ctx, w.county, w.home, "2026-01", "2026-03")
			w.must(err)
			outlier, newcomer := ids[2], ids[6]
			for _, l := range r.Officers.Lines {
				rate := l.Rates[FairnessMetricIndex("deductions_per_inspection")]
				switch {
				case l.ID == outlier:
					if !l.Flagged || rate.Flag != 1 || rate.Lo <= rate.Peer {
						t.Errorf("the outlier is not flagged high: %+v", rate)
					}
					if want := 93.0 / 303; rate.Peer != want || rate.Raw != 0.6 {
						t.Errorf("outlier: raw %g peer %g, want 0.6 and %g", rate.Raw, rate.Peer, want)
					}
				case l.Flagged:
					t.Errorf("%s (%d inspections) flagged: %+v", l.Name, l.Inspections, l.Rates)
				}
				if l.ID == newcomer && (rate.Raw != 1 || rate.Mean >= 0.75 || rate.Lo > rate.Peer) {
					t.Errorf("the newcomer is not held towards the county: %+v", rate)
				}
			}
			if len(r.Officers.Lines) != 9 { // the seven and the world's two officers, without inspections
				t.Errorf("%d officer lines, want 9", len(r.Officers.Lines))
			}
			if r.Officers.Lines[0].Inspections != 60 || r.Officers.Lines[len(r.Officers.Lines)-1].Inspections != 0 {
				t.Errorf("lines not by inspections: %+v", r.Officers.Lines)
			}
			for _, l := range r.Roads.Lines {
				if l.Flagged {
					t.Errorf("road %s flagged: %+v", l.Name, l.Rates)
				}
			}
			if pr := r.Officers.Priors[FairnessMetricIndex("serious_share")]; !pr.Degenerate {
				t.Errorf("no serious items, yet the prior is %+v", pr)
			}
		})
	}
}
