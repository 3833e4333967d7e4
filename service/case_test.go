package service

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/models/dbtest"
)

// caseWorld is a service on a fresh database, on a fixed clock, with two
// counties: in the home one a county admin, the officer responsible for the
// first road, a second officer, and a shop on each road (the second road has
// no responsible officer).
type caseWorld struct {
	t                   *testing.T
	ctx                 context.Context
	s                   *Service
	db                  *models.DB
	clock               *dbtest.Clock
	city, county, other Actor // the city admin, the home county's admin, the other county's admin
	officer, officer2   Actor
	merchant            Actor // the account of shop
	shop, queueShop     models.Merchant
	home                int64
}

var caseStart = time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)

func newCaseWorld(t *testing.T, d models.Dialect) *caseWorld {
	t.Helper()
	db := dbtest.Open(t, d)
	clock := dbtest.NewClock(caseStart)
	w := &caseWorld{t: t, ctx: context.Background(), s: viewService(db, clock, t.TempDir(), nil), db: db, clock: clock,
		city: Actor{UserID: 1, Username: "admin", Role: RoleCityAdmin}}
	_, _, err := w.s.Bootstrap(w.ctx, "admin-password-1")
	w.must(err)
	county := func(code, name string) int64 {
		c, err := w.s.CreateCounty(w.ctx, w.city, CountyInput{Code: &code, Name: &name})
		w.must(err)
		return c.ID
	}
	w.home = county("370303", "张店区")
	other := county("370302", "淄川区")
	user := func(in UserInput) Actor {
		in.Password = in.Username + "-password-1"
		u, err := w.s.CreateUser(w.ctx, w.city, in)
		w.must(err)
		return actorOf(u)
	}
	w.county = user(UserInput{Username: "county", Role: RoleCountyAdmin, CountyID: &w.home})
	w.other = user(UserInput{Username: "other", Role: RoleCountyAdmin, CountyID: &other})
	w.officer = user(UserInput{Username: "officer", Role: RoleOfficer, CountyID: &w.home})
	w.officer2 = user(UserInput{Username: "officer2", Role: RoleOfficer, CountyID: &w.home})
	road := func(name string, officers []int64) int64 {
		r, err := w.s.CreateRoad(w.ctx, w.city, RoadInput{CountyID: &w.home, Name: &name, OfficerIDs: &officers})
		w.must(err)
		return r.ID
	}
	r1, r2 := road("柳泉路", []int64{w.officer.UserID}), road("华光路", nil)
	shop := func(road int64, name string) models.Merchant {
		m, err := w.s.CreateMerchant(w.ctx, w.city, MerchantInput{RoadID: &road, Name: &name})
		w.must(err)
		return m
	}
	w.shop, w.queueShop = shop(r1, "老王烧烤"), shop(r2, "小李面馆")
	w.merchant = user(UserInput{Username: "shop", Role: RoleMerchant, CountyID: &w.home, MerchantID: &w.shop.ID})
	return w
}

func (w *caseWorld) must(err error) {
	w.t.Helper()
	if err != nil {
		w.t.Fatal(err)
	}
}

// report files a citizen's report of item on m.
func (w *caseWorld) report(m models.Merchant, item, phone string) CaseReceipt {
	w.t.Helper()
	r, err := w.s.ReportCase(w.ctx, CaseReportInput{Token: w.s.PlaqueToken(m), RuleCode: item, Note: "门口一堆垃圾",
		Phone: phone, Client: "203.0.113.7", Device: "dev-1"})
	w.must(err)
	return r
}

func (w *caseWorld) byReceipt(receipt string) models.Case {
	w.t.Helper()
	c, err := w.db.CaseByReceipt(w.ctx, receipt)
	w.must(err)
	return c
}

// snapshot is every stored column of every case, every event and report, and
// the audit log's length: what a refused action must leave as it was.
func (w *caseWorld) snapshot() string {
	w.t.Helper()
	var b strings.Builder
	for _, q := range []string{
		`SELECT id, status, reports, COALESCE(officer_id, 0), COALESCE(due_at, ''), extended, updated_at, COALESCE(closed_at, ''),
			COALESCE(on_time, 2), reopened, COALESCE(inspection_id, 0), COALESCE(notice_id, 0), outcome, COALESCE(open_key, '') FROM cases ORDER BY id`,
		`SELECT COUNT(*), COALESCE(MAX(id), 0), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 FROM case_events`,
		`SELECT COUNT(*), COALESCE(MAX(id), 0), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 FROM case_reports`,
		`SELECT COUNT(*), COALESCE(MAX(id), 0), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 FROM audit_events`,
	} {
		rows, err := w.db.SQL().QueryContext(w.ctx, q)
		w.must(err)
		for rows.Next() {
			v := make([]any, 14)
			p := make([]any, 14)
			for i := range v {
				p[i] = &v[i]
			}
			w.must(rows.Scan(p...))
			fmt.Fprintf(&b, "%s\n", fmt.Sprint(v...))
		}
		w.must(rows.Err())
		rows.Close()
	}
	return b.String()
}

// actions are the office's transitions of case id, each as a closure.
func (w *caseWorld) actions(id int64) map[string]func(a Actor) error {
	later := caseStart.Add(30 * 24 * time.Hour)
	return map[string]func(a Actor) error{
		"accept":   func(a Actor) error { _, err := w.s.AcceptCase(w.ctx, a, id); return err },
		"dismiss":  func(a Actor) error { _, err := w.s.DismissCase(w.ctx, a, id, "重复举报"); return err },
		"dispatch": func(a Actor) error { _, err := w.s.DispatchCase(w.ctx, a, id, 0); return err },
		"handle": func(a Actor) error {
			_, err := w.s.HandleCase(w.ctx, a, id, CaseHandling{Outcome: models.OutcomeNothing, Note: "现场未发现问题"})
			return err
		},
		"return": func(a Actor) error { _, err := w.s.ReturnCase(w.ctx, a, id, "不属本路段"); return err },
		"extend": func(a Actor) error {
			_, err := w.s.ExtendCase(w.ctx, a, id, later, "需协调供电部门")
			return err
		},
		"verify": func(a Actor) error { _, err := w.s.VerifyCase(w.ctx, a, id); return err },
		"close":  func(a Actor) error { _, err := w.s.CloseCase(w.ctx, a, id); return err },
	}
}

// caseIn reports item on the shop and moves the case to status, by the
// workflow's own methods.
func (w *caseWorld) caseIn(item, status string) models.Case {
	w.t.Helper()
	c := w.byReceipt(w.report(w.shop, item, "").Receipt)
	act := w.actions(c.ID)
	path := map[string][]string{
		models.CaseReceived:   nil,
		models.CaseAccepted:   {"accept"},
		models.CaseDismissed:  {"dismiss"},
		models.CaseDispatched: {"accept", "dispatch"},
		models.CaseReturned:   {"accept", "dispatch", "return"},
		models.CaseHandled:    {"accept", "dispatch", "handle"},
		models.CaseVerified:   {"accept", "dispatch", "handle", "verify"},
		models.CaseClosed:     {"accept", "dispatch", "handle", "verify", "close"},
	}[status]
	for _, step := range path {
		w.must(act[step](w.county))
	}
	c, err := w.db.CaseByID(w.ctx, c.ID)
	w.must(err)
	if c.Status != status {
		w.t.Fatalf("case in %s, want %s", c.Status, status)
	}
	return c
}

func TestCaseWorkflow(t *testing.T) {
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			w := newCaseWorld(t, d)
			first := w.report(w.shop, "hjws-01", "13812345678")
			if first.Joined || !ValidReceipt(first.Receipt) {
				t.Fatalf("first report: %+v", first)
			}
			w.clock.Set(caseStart.Add(time.Hour))
			second := w.report(w.shop, "HJWS-01", "13900001111")
			if !second.Joined || second.Receipt != first.Receipt {
				t.Errorf("second report of the same shop and item: %+v, want it to join %s", second, first.Receipt)
			}
			if other := w.report(w.shop, "SRZJ-01", ""); other.Joined || other.Receipt == first.Receipt {
				t.Errorf("a report of another item joined: %+v", other)
			}
			c := w.byReceipt(first.Receipt)
			if c.Reports != 2 || !c.ReceivedAt.Equal(caseStart) || c.Status != models.CaseReceived || c.RuleCode != "HJWS-01" {
				t.Errorf("case after two reports: %+v", c)
			}

			// The office's way: accept, dispatch to the road's officer with
			// the item's 48 hours, handle, verify, close on time.
			w.clock.Set(caseStart.Add(2 * time.Hour))
			_, err := w.s.AcceptCase(w.ctx, w.county, c.ID)
			w.must(err)
			w.clock.Set(caseStart.Add(3 * time.Hour))
			c, err = w.s.DispatchCase(w.ctx, w.county, c.ID, 0)
			w.must(err)
			if c.OfficerID == nil || *c.OfficerID != w.officer.UserID || c.DueAt == nil || !c.DueAt.Equal(caseStart.Add(51*time.Hour)) {
				t.Errorf("dispatched: officer %v due %v, want %d and %v", optional(c.OfficerID), optional(c.DueAt), w.officer.UserID, caseStart.Add(51*time.Hour))
			}
			mine, total, err := w.s.OfficerCases(w.ctx, w.officer, Paging{})
			w.must(err)
			if total != 1 || len(mine) != 1 || mine[0].ID != c.ID || mine[0].MerchantName != "老王烧烤" || mine[0].RoadName != "柳泉路" {
				t.Errorf("officer's cases: %d %+v", total, mine)
			}
			if _, total, _ := w.s.OfficerCases(w.ctx, w.officer2, Paging{}); total != 0 {
				t.Errorf("the other officer sees %d cases", total)
			}
			w.clock.Set(caseStart.Add(20 * time.Hour))
			_, err = w.s.HandleCase(w.ctx, w.officer, c.ID, CaseHandling{Outcome: models.OutcomeNothing, Note: "已清扫"})
			w.must(err)
			_, err = w.s.VerifyCase(w.ctx, w.county, c.ID)
			w.must(err)
			w.clock.Set(caseStart.Add(51 * time.Hour)) // the deadline itself is on time
			c, err = w.s.CloseCase(w.ctx, w.county, c.ID)
			w.must(err)
			if c.OnTime == nil || !*c.OnTime || c.ClosedAt == nil || c.OpenKey != nil {
				t.Errorf("closed at the deadline: on time %v closed %v key %v", optional(c.OnTime), optional(c.ClosedAt), optional(c.OpenKey))
			}

			pub, err := w.s.PublicCase(w.ctx, strings.ToLower(first.Receipt))
			w.must(err)
			if pub.Status != models.CaseClosed || pub.ItemName != "门前垃圾、烟头、纸屑未及时清扫" || pub.ShopName != "老王烧烤" ||
				pub.RoadName != "柳泉路" || pub.AcceptedAt == nil || !pub.DispatchedAt.Equal(caseStart.Add(3*time.Hour)) ||
				!pub.HandledAt.Equal(caseStart.Add(20*time.Hour)) || !pub.CanReopen || len(pub.Steps) != 6 {
				t.Errorf("public view: %+v", pub)
			}
			// Nothing of the reporter, the officer or the office's notes.
			for _, secret := range []string{"13812345678", "13900001111", "officer", "已清扫", "203.0.113.7"} {
				if s := fmt.Sprintf("%+v", pub); strings.Contains(s, secret) {
					t.Errorf("public view shows %q: %s", secret, s)
				}
			}
			// The county office sees the phones; a merchant sees no case.
			det, err := w.s.Case(w.ctx, w.county, c.ID)
			w.must(err)
			if len(det.Reports) != 2 || det.Reports[0].Phone != "13812345678" || len(det.Events) != 6 {
				t.Errorf("county's view: %+v", det)
			}
			if _, err := w.s.Case(w.ctx, w.merchant, c.ID); ErrorCode(err) != CodeNotFound {
				t.Errorf("merchant reads the case: %v", err)
			}
			if _, _, err := w.s.CountyCases(w.ctx, w.merchant, CaseFilter{}); ErrorCode(err) != CodeForbidden {
				t.Errorf("merchant lists cases: %v", err)
			}
			if _, err := w.s.Case(w.ctx, w.other, c.ID); ErrorCode(err) != CodeNotFound {
				t.Errorf("another county's admin reads the case: %v", err)
			}

			// A report after closing opens a new case.
			again := w.report(w.shop, "HJWS-01", "")
			if again.Joined || again.Receipt == first.Receipt {
				t.Errorf("a report after closing: %+v, want a new case", again)
			}

			// The second case (SRZJ-01) closes late: 48 hours after its dispatch.
			late := w.byReceipt(w.report(w.shop, "SRZJ-01", "").Receipt)
			for _, step := range []string{"accept", "dispatch", "handle", "verify"} {
				w.must(w.actions(late.ID)[step](w.county))
			}
			w.clock.Set(caseStart.Add(51*time.Hour + 48*time.Hour + time.Millisecond))
			late, err = w.s.CloseCase(w.ctx, w.county, late.ID)
			w.must(err)
			if late.OnTime == nil || *late.OnTime {
				t.Errorf("closed past the deadline: on time %v", optional(late.OnTime))
			}
			stats, err := w.s.CaseStats(w.ctx, w.county, 0, caseStart, caseStart.Add(7*24*time.Hour))
			w.must(err)
			if len(stats.Counties) != 1 {
				t.Fatalf("stats: %+v", stats)
			}
			got := stats.Counties[0]
			if got.Received != 3 || got.Closed != 2 || got.ClosedOnTime != 1 || got.Open != 1 || got.OnTimeRate == nil || *got.OnTimeRate != 0.5 {
				t.Errorf("county stats: %+v (rate %v), want 3 received, 1 open, 2 closed, 1 on time, rate 0.5", got, optional(got.OnTimeRate))
			}
			var byOfficer int
			for _, l := range stats.Officers {
				if l.OfficerID == w.officer.UserID {
					byOfficer = l.Closed
				}
			}
			if byOfficer != 2 {
				t.Errorf("officer's closed cases: %d, want 2 (%+v)", byOfficer, stats.Officers)
			}
			if _, err := w.s.CaseStats(w.ctx, w.other, w.home, caseStart, caseStart.Add(time.Hour)); ErrorCode(err) != CodeForbidden {
				t.Errorf("another county's stats: %v", err)
			}

			// Reopen: once, within 7 days of closing. The first case closed at
			// +51 h; the HJWS-01 report since opened a newer case, which keeps
			// the shop's open slot.
			w.clock.Set(caseStart.Add(51*time.Hour + 7*24*time.Hour))
			pub, err = w.s.ReopenCase(w.ctx, first.Receipt)
			w.must(err)
			if pub.Status != models.CaseAccepted || !pub.Reopened || pub.CanReopen {
				t.Errorf("reopened: %+v", pub)
			}
			c = w.byReceipt(first.Receipt)
			if c.OpenKey != nil || c.OfficerID != nil || c.DueAt != nil || c.ClosedAt != nil || c.OnTime != nil {
				t.Errorf("reopened case keeps its last round: %+v", c)
			}
			before := w.snapshot()
			if _, err := w.s.ReopenCase(w.ctx, first.Receipt); ErrorCode(err) != CodeConflict {
				t.Errorf("reopen of an open case: %v", err)
			}
			// It is dispatched anew and closed again: no second reopening.
			for _, step := range []string{"dispatch", "handle", "verify", "close"} {
				w.must(w.actions(c.ID)[step](w.county))
			}
			before = w.snapshot()
			if _, err := w.s.ReopenCase(w.ctx, first.Receipt); ErrorCode(err) != CodeConflict {
				t.Errorf("second reopening: %v", err)
			}
			if w.snapshot() != before {
				t.Error("a refused reopening changed the cases")
			}
			// The late case closed at +99 h: 7 days later it may be reopened, a millisecond more not.
			w.clock.Set(caseStart.Add(99*time.Hour + time.Millisecond + 7*24*time.Hour + time.Millisecond))
			if _, err := w.s.ReopenCase(w.ctx, late.Receipt); ErrorCode(err) != CodeConflict {
				t.Errorf("reopening after 7 days: %v", err)
			}
			if w.snapshot() != before {
				t.Error("a refused reopening changed the cases")
			}
			if _, err := w.s.PublicCase(w.ctx, "2222222222"); ErrorCode(err) != CodeNotFound {
				t.Errorf("unknown receipt: %v", err)
			}
		})
	}
}

// TestCaseTransitionsRefused: every transition from every status it does not
// start from, and by every role that may not make it, is refused and
// changes nothing (no case column, event, report or audit row).
func TestCaseTransitionsRefused(t *testing.T) {
	from := map[string][]string{
		"accept": {models.CaseReceived}, "dismiss": {models.CaseReceived},
		"dispatch": {models.CaseAccepted, models.CaseReturned},
		"handle":   {models.CaseDispatched}, "return": {models.CaseDispatched}, "extend": {models.CaseDispatched},
		"verify": {models.CaseHandled}, "close": {models.CaseVerified},
	}
	statuses := []string{models.CaseReceived, models.CaseAccepted, models.CaseDismissed, models.CaseDispatched,
		models.CaseReturned, models.CaseHandled, models.CaseVerified, models.CaseClosed}
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			w := newCaseWorld(t, d)
			var items []string
			for _, it := range w.s.policy.Items {
				if it.Kind == "deduction" {
					items = append(items, it.Code)
				}
			}
			cases := map[string]models.Case{}
			for i, st := range statuses {
				cases[st] = w.caseIn(items[i], st)
			}
			for action, allowed := range from {
				for _, st := range statuses {
					c := cases[st]
					before := w.snapshot()
					okFrom := false
					for _, a := range allowed {
						okFrom = okFrom || a == st
					}
					if okFrom {
						// Right status: every other role is refused.
						for _, who := range []struct {
							name string
							a    Actor
							code string
						}{
							{"city admin", w.city, CodeForbidden},
							{"other county", w.other, CodeNotFound},
							{"merchant", w.merchant, CodeNotFound},
							{"other officer", w.officer2, CodeForbidden},
						} {
							if err := w.actions(c.ID)[action](who.a); ErrorCode(err) != who.code {
								t.Errorf("%s of a %s case by %s: %v, want %s", action, st, who.name, err, who.code)
							}
						}
						if action != "handle" && action != "return" {
							if err := w.actions(c.ID)[action](w.officer); ErrorCode(err) != CodeForbidden {
								t.Errorf("%s of a %s case by its officer: %v, want forbidden", action, st, err)
							}
						}
						if w.snapshot() != before {
							t.Errorf("refused %s of a %s case changed the cases", action, st)
						}
						continue
					}
					if err := w.actions(c.ID)[action](w.county); ErrorCode(err) != CodeConflict {
						t.Errorf("%s of a %s case: %v, want conflict", action, st, err)
					}
					if w.snapshot() != before {
						t.Errorf("refused %s of a %s case changed the cases", action, st)
					}
				}
			}
			// Reasons are required; a handling must name this shop's inspection
			// or notice, made since the case was received.
			c := cases[models.CaseDispatched]
			before := w.snapshot()
			if _, err := w.s.ReturnCase(w.ctx, w.officer, c.ID, " "); ErrorCode(err) != CodeInvalid {
				t.Errorf("return without a reason: %v", err)
			}
			if _, err := w.s.DismissCase(w.ctx, w.county, cases[models.CaseReceived].ID, ""); ErrorCode(err) != CodeInvalid {
				t.Errorf("dismissal without a reason: %v", err)
			}
			if _, err := w.s.ExtendCase(w.ctx, w.county, c.ID, *c.DueAt, "x"); ErrorCode(err) != CodeInvalid {
				t.Errorf("extension to the same deadline: %v", err)
			}
			old := models.Inspection{MerchantID: w.shop.ID, OfficerID: w.officer.UserID, Cycle: "2026-03",
				InspectedAt: caseStart.Add(-time.Hour), CreatedAt: caseStart, IdempotencyKey: "k1"}
			w.must(w.db.CreateInspection(w.ctx, &old))
			elsewhere := models.Inspection{MerchantID: w.queueShop.ID, OfficerID: w.officer.UserID, Cycle: "2026-03",
				InspectedAt: caseStart.Add(time.Hour), CreatedAt: caseStart, IdempotencyKey: "k2"}
			w.must(w.db.CreateInspection(w.ctx, &elsewhere))
			before = w.snapshot()
			for _, h := range []CaseHandling{
				{Outcome: models.OutcomeInspection, InspectionID: old.ID},
				{Outcome: models.OutcomeInspection, InspectionID: elsewhere.ID},
				{Outcome: models.OutcomeInspection, InspectionID: 9999},
				{Outcome: models.OutcomeNotice, NoticeID: 9999},
				{Outcome: models.OutcomeNothing},
				{Outcome: "fixed"},
			} {
				if _, err := w.s.HandleCase(w.ctx, w.officer, c.ID, h); ErrorCode(err) != CodeInvalid {
					t.Errorf("handling %+v: %v, want invalid", h, err)
				}
			}
			if w.snapshot() != before {
				t.Error("refused handlings changed the cases")
			}
			good := models.Inspection{MerchantID: w.shop.ID, OfficerID: w.officer.UserID, Cycle: "2026-03",
				InspectedAt: caseStart.Add(time.Hour), CreatedAt: caseStart, IdempotencyKey: "k3"}
			w.must(w.db.CreateInspection(w.ctx, &good))
			got, err := w.s.HandleCase(w.ctx, w.officer, c.ID, CaseHandling{Outcome: models.OutcomeInspection, InspectionID: good.ID})
			w.must(err)
			if got.Outcome != models.OutcomeInspection || got.InspectionID == nil || *got.InspectionID != good.ID {
				t.Errorf("handled by inspection: %+v", got)
			}
			// The officer's handling is no audit event; the county admin's transitions are.
			events, _, err := w.db.ListAuditEvents(w.ctx, models.AuditFilter{Limit: 1000})
			w.must(err)
			var transitions int
			for _, e := range events {
				if e.Kind == AuditCaseTransition {
					transitions++
					if e.ActorID != w.county.UserID {
						t.Errorf("audit event by %d: %+v", e.ActorID, e)
					}
				}
			}
			// caseIn's steps, all by the county admin: accepted 1, dismissed 1,
			// dispatched 2, returned 3, handled 3, verified 4, closed 5.
			if transitions != 19 {
				t.Errorf("%d case transitions audited, want 19", transitions)
			}
		})
	}
}

// TestCaseQueueAndExtension: a road with no responsible officer leaves the
// dispatched case in the county's queue, which the county admin works; an
// extension moves the deadline and the case stays dispatched.
func TestCaseQueueAndExtension(t *testing.T) {
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			w := newCaseWorld(t, d)
			c := w.byReceipt(w.report(w.queueShop, "ZXLH-02", "").Receipt)
			_, err := w.s.AcceptCase(w.ctx, w.county, c.ID)
			w.must(err)
			c, err = w.s.DispatchCase(w.ctx, w.county, c.ID, 0)
			w.must(err)
			if c.OfficerID != nil {
				t.Errorf("dispatched to %d, want the county's queue", *c.OfficerID)
			}
			if _, err := w.s.HandleCase(w.ctx, w.officer, c.ID, CaseHandling{Outcome: models.OutcomeNothing, Note: "x"}); ErrorCode(err) != CodeForbidden {
				t.Errorf("an officer handles a queue case: %v", err)
			}
			due := c.DueAt.Add(24 * time.Hour)
			c, err = w.s.ExtendCase(w.ctx, w.county, c.ID, due, "需协调")
			w.must(err)
			if c.Status != models.CaseDispatched || !c.Extended || !c.DueAt.Equal(due) {
				t.Errorf("extended: %+v", c)
			}
			list, total, err := w.s.CountyCases(w.ctx, w.county, CaseFilter{Statuses: []string{models.CaseDispatched}})
			w.must(err)
			if total != 1 || list[0].ID != c.ID || list[0].Overdue {
				t.Errorf("triage queue: %d %+v", total, list)
			}
			w.clock.Set(due.Add(time.Second))
			list, _, err = w.s.CountyCases(w.ctx, w.city, CaseFilter{CountyID: w.home})
			w.must(err)
			if len(list) != 1 || !list[0].Overdue {
				t.Errorf("past the extended deadline: %+v", list)
			}
			stats, err := w.s.CaseStats(w.ctx, w.county, 0, caseStart, due.Add(time.Hour))
			w.must(err)
			if len(stats.Counties) != 1 || stats.Counties[0].Overdue != 1 || stats.Counties[0].OnTimeRate != nil {
				t.Errorf("stats: %+v", stats)
			}
			// A report on a plaque of another county's shop, a closed shop's,
			// or a bonus item is refused.
			if _, err := w.s.ReportCase(w.ctx, CaseReportInput{Token: "forged", RuleCode: "HJWS-01"}); ErrorCode(err) != CodeNotFound {
				t.Errorf("forged plaque: %v", err)
			}
			for _, in := range []CaseReportInput{
				{RuleCode: "BONUS-01"}, {RuleCode: "OTHER"}, {RuleCode: "HJWS-01", Phone: "12345"},
				{RuleCode: "HJWS-01", Note: strings.Repeat("长", MaxCaseNote+1)},
			} {
				in.Token = w.s.PlaqueToken(w.shop)
				if _, err := w.s.ReportCase(w.ctx, in); ErrorCode(err) != CodeInvalid {
					t.Errorf("report %+v: %v, want invalid", in.RuleCode, err)
				}
			}
		})
	}
}
