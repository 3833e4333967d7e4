package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/service"
)

// caseState is what proves a refused request stored nothing: every row of
// the cases and the number of their events and reports.
func (e *env) caseState() string {
	e.t.Helper()
	var events, reports int64
	if err := e.db.SQL().QueryRow("SELECT COUNT(*) FROM case_events").Scan(&events); err != nil {
		e.t.Fatal(err)
	}
	if err := e.db.SQL().QueryRow("SELECT COUNT(*) FROM case_reports").Scan(&reports); err != nil {
		e.t.Fatal(err)
	}
	return fmt.Sprintf("cases %d, events %d, reports %d", e.tableHash("cases"), events, reports)
}

// TestCasePages drives a citizen's report through the county console
// (accept, dispatch) and the officer's pages (nothing found), then verify
// and close on the console; each page shows the status and the numbers the
// service has; posts from the wrong role, county or state store nothing.
func TestCasePages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			w := e.seed()
			token := e.scanToken(w.Merchant[0])
			first, err := e.svc.ReportCase(ctx, service.CaseReportInput{Token: token, RuleCode: "HJWS-02", Note: "门前堆满垃圾",
				Phone: "13912345678", Client: "198.51.100.1", Device: "device-1"})
			if err != nil {
				t.Fatal(err)
			}
			second, err := e.svc.ReportCase(ctx, service.CaseReportInput{Token: token, RuleCode: "HJWS-02", Note: "还没清理",
				Client: "198.51.100.2", Device: "device-2"})
			if err != nil || !second.Joined || second.Receipt != first.Receipt {
				t.Fatalf("second report: %+v %v", second, err)
			}
			listed, total, err := e.svc.CountyCases(ctx, w.Admin[0], service.CaseFilter{Paging: service.Paging{Limit: 10}})
			if err != nil || total != 1 || len(listed) != 1 {
				t.Fatalf("county cases: %d %v", total, err)
			}
			c := listed[0]
			id := strconv.FormatInt(c.ID, 10)
			casePath := "/console/cases/" + id
			status := func() models.Case {
				t.Helper()
				got, err := e.svc.Case(ctx, w.Admin[0], c.ID)
				if err != nil {
					t.Fatal(err)
				}
				return got.Case
			}

			admin := e.signedIn(w.AdminName[0])
			q := admin.get("/console/cases")
			if q.Status != http.StatusOK {
				t.Fatalf("queue: %d %s", q.Status, q.Body)
			}
			for _, want := range []string{`id="case-` + id + `"`, first.Receipt, "张记烧烤", "柳泉路", `<td class="num reports">` + strconv.Itoa(c.Reports) + `</td>`,
				`href="/console/cases?tab=received&amp;county_id=` + strconv.FormatInt(w.County[0], 10) + `" aria-current="page"`, `href="/console/cases"`} {
				if !strings.Contains(q.Body, want) {
					t.Errorf("queue lacks %q", want)
				}
			}
			if c.Reports != 2 {
				t.Errorf("reports: got %d, want 2", c.Reports)
			}
			if q := admin.get("/console/cases?tab=dispatched"); strings.Contains(q.Body, `id="case-`+id+`"`) {
				t.Error("the 办理中 tab lists a received case")
			}
			pg := admin.get(casePath)
			if pg.Status != http.StatusOK || !strings.Contains(pg.Body, "13912345678") || !strings.Contains(pg.Body, "已受理") ||
				!strings.Contains(pg.Body, `action="/console/cases/`+id+`/accept"`) {
				t.Fatalf("case page: %d %s", pg.Status, pg.Body)
			}

			// Refused: another county's admin, an officer, the city admin, a wrong state.
			before := e.caseState()
			other := e.signedIn(w.AdminName[1])
			other.get("/console")
			if p := other.post(casePath+"/accept", nil); p.Status != http.StatusNotFound {
				t.Errorf("other county's accept: %d", p.Status)
			}
			if p := other.get(casePath); p.Status != http.StatusNotFound || strings.Contains(p.Body, "13912345678") {
				t.Errorf("other county's case page: %d", p.Status)
			}
			officer := e.signedIn(w.OfficerName[0])
			officer.get("/officer")
			if p := officer.post(casePath+"/accept", nil); p.Status != http.StatusForbidden {
				t.Errorf("officer's accept: %d", p.Status)
			}
			city := e.browser()
			if p := city.login("admin", adminPassword); p.Status != http.StatusSeeOther {
				t.Fatalf("city login: %d", p.Status)
			}
			if p := city.get("/console/cases?county_id=" + strconv.FormatInt(w.County[0], 10)); p.Status != http.StatusOK || !strings.Contains(p.Body, first.Receipt) {
				t.Errorf("city's queue: %d", p.Status)
			}
			if p := city.get(casePath); p.Status != http.StatusOK || strings.Contains(p.Body, "/accept") {
				t.Errorf("city's case page: %d, actions shown: %v", p.Status, strings.Contains(p.Body, "/accept"))
			}
			if p := city.post(casePath+"/accept", nil); p.Status != http.StatusForbidden {
				t.Errorf("city's accept: %d", p.Status)
			}
			if p := admin.post(casePath+"/verify", nil); p.Status != http.StatusConflict || !strings.Contains(p.Body, "不能核查") {
				t.Errorf("verify of a received case: %d", p.Status)
			}
			if p := admin.post(casePath+"/dismiss", url.Values{"reason": {""}}); p.Status != http.StatusBadRequest || !strings.Contains(p.Body, "理由") {
				t.Errorf("dismiss without a reason: %d", p.Status)
			}
			if got := e.caseState(); got != before {
				t.Fatalf("refused posts stored something: %s, was %s", got, before)
			}

			// Accept and dispatch on the console.
			if p := admin.post(casePath+"/accept", nil); p.Status != http.StatusSeeOther || p.Header.Get("Location") != casePath+"?done=accept" {
				t.Fatalf("accept: %d %s", p.Status, p.Body)
			}
			if got := status().Status; got != models.CaseAccepted {
				t.Fatalf("after accept: %s", got)
			}
			pg = admin.get(casePath)
			if !strings.Contains(pg.Body, "已立案") || !strings.Contains(pg.Body, `name="officer_id"`) || !strings.Contains(pg.Body, "王巡查张店区") ||
				strings.Contains(pg.Body, "王巡查淄川区") {
				t.Fatalf("accepted case page: %s", pg.Body)
			}
			if p := admin.post(casePath+"/dispatch", url.Values{"officer_id": {strconv.FormatInt(w.Officer[1].UserID, 10)}}); p.Status != http.StatusBadRequest {
				t.Errorf("dispatch to another county's officer: %d", p.Status)
			}
			if p := admin.post(casePath+"/dispatch", url.Values{"officer_id": {strconv.FormatInt(w.Officer[0].UserID, 10)}}); p.Status != http.StatusSeeOther {
				t.Fatalf("dispatch: %d %s", p.Status, p.Body)
			}
			dispatched := status()
			if dispatched.Status != models.CaseDispatched || dispatched.OfficerID == nil || *dispatched.OfficerID != w.Officer[0].UserID || dispatched.DueAt == nil {
				t.Fatalf("after dispatch: %+v", dispatched)
			}
			if p := admin.get("/console/cases?tab=dispatched"); !strings.Contains(p.Body, `id="case-`+id+`"`) {
				t.Errorf("the 办理中 tab lacks the dispatched case")
			}

			// The officer's worklist and case page.
			home := officer.get("/officer")
			if home.Status != http.StatusOK || !strings.Contains(home.Body, `id="cases"`) || !strings.Contains(home.Body, `href="/officer/cases/`+id+`"`) {
				t.Fatalf("worklist: %d %s", home.Status, home.Body)
			}
			if oc, n, err := e.svc.OfficerCases(ctx, w.Officer[0], service.Paging{Limit: 10}); err != nil || n != 1 || len(oc) != 1 ||
				!strings.Contains(home.Body, "待处置共 1") {
				t.Errorf("officer cases: %d %v", n, err)
			}
			op := officer.get("/officer/cases/" + id)
			if op.Status != http.StatusOK || !strings.Contains(op.Body, `action="/officer/cases/`+id+`/handle"`) || strings.Contains(op.Body, "13912345678") {
				t.Fatalf("officer's case page: %d %s", op.Status, op.Body)
			}
			before = e.caseState()
			stranger := e.signedIn(w.OfficerName[1])
			stranger.get("/officer")
			if p := stranger.post("/officer/cases/"+id+"/handle", url.Values{"outcome": {"nothing"}, "note": {"看过了"}}); p.Status != http.StatusNotFound {
				t.Errorf("another county's officer handles: %d", p.Status)
			}
			if p := officer.post("/officer/cases/"+id+"/handle", url.Values{"outcome": {"nothing"}}); p.Status != http.StatusBadRequest || !strings.Contains(p.Body, "说明") {
				t.Errorf("nothing found without a note: %d", p.Status)
			}
			if got := e.caseState(); got != before {
				t.Fatalf("refused handling stored something: %s, was %s", got, before)
			}
			if p := officer.post("/officer/cases/"+id+"/handle", url.Values{"outcome": {"nothing"}, "note": {"到场查看，门前已清理"}}); p.Status != http.StatusSeeOther {
				t.Fatalf("handle: %d %s", p.Status, p.Body)
			}
			if got := status(); got.Status != models.CaseHandled || got.Outcome != models.OutcomeNothing {
				t.Fatalf("after handle: %+v", got)
			}
			if p := officer.get("/officer"); strings.Contains(p.Body, `href="/officer/cases/`+id+`"`) {
				t.Error("the worklist still lists a handled case")
			}

			// Verify and close on the console.
			pg = admin.get(casePath)
			if !strings.Contains(pg.Body, "已处置") || !strings.Contains(pg.Body, "未发现问题") || !strings.Contains(pg.Body, "到场查看，门前已清理") ||
				!strings.Contains(pg.Body, "王巡查张店区") {
				t.Fatalf("handled case page: %s", pg.Body)
			}
			if p := admin.post(casePath+"/verify", nil); p.Status != http.StatusSeeOther {
				t.Fatalf("verify: %d %s", p.Status, p.Body)
			}
			if p := admin.post(casePath+"/close", nil); p.Status != http.StatusSeeOther {
				t.Fatalf("close: %d %s", p.Status, p.Body)
			}
			closed := status()
			if closed.Status != models.CaseClosed || closed.OnTime == nil || !*closed.OnTime {
				t.Fatalf("after close: %+v", closed)
			}
			pg = admin.get(casePath + "?done=close")
			if !strings.Contains(pg.Body, "已结案") || !strings.Contains(pg.Body, "按期结案") || strings.Contains(pg.Body, `action="/console/cases/`+id+`/`) {
				t.Errorf("closed case page: %s", pg.Body)
			}
			detail, err := e.svc.Case(ctx, w.Admin[0], c.ID)
			if err != nil || len(detail.Events) < 6 || len(detail.Reports) != 2 {
				t.Fatalf("detail: %d events, %d reports, %v", len(detail.Events), len(detail.Reports), err)
			}
			if n := strings.Count(pg.Body, `class="event"`); n != len(detail.Events) {
				t.Errorf("events shown: got %d, want %d", n, len(detail.Events))
			}
			if p := admin.get("/console/cases?tab=closed"); !strings.Contains(p.Body, `id="case-`+id+`"`) || !strings.Contains(p.Body, "共 <strong>1</strong> 件") {
				t.Errorf("the 已结案 tab lacks the closed case")
			}
		})
	}
}

// TestCasePagesExtendAndReturn: the dispatch form picks the road's officer
// by default; the console extends the deadline (an earlier one is refused
// with nothing stored); the officer sends the case back with a reason and it
// is the county's to dispatch again.
func TestCasePagesExtendAndReturn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			w := e.seed()
			officers := []int64{w.Officer[0].UserID}
			if _, err := e.svc.UpdateRoad(ctx, w.Admin[0], w.Road[0], service.RoadInput{OfficerIDs: &officers}); err != nil {
				t.Fatal(err)
			}
			if _, err := e.svc.ReportCase(ctx, service.CaseReportInput{Token: e.scanToken(w.Merchant[0]), RuleCode: "HJWS-02",
				Client: "198.51.100.1", Device: "device-1"}); err != nil {
				t.Fatal(err)
			}
			listed, _, err := e.svc.CountyCases(ctx, w.Admin[0], service.CaseFilter{Paging: service.Paging{Limit: 10}})
			if err != nil || len(listed) != 1 {
				t.Fatalf("county cases: %v", err)
			}
			c := listed[0]
			id := strconv.FormatInt(c.ID, 10)
			casePath := "/console/cases/" + id
			admin := e.signedIn(w.AdminName[0])
			admin.get(casePath)
			if p := admin.post(casePath+"/accept", nil); p.Status != http.StatusSeeOther {
				t.Fatalf("accept: %d", p.Status)
			}
			pg := admin.get(casePath)
			if want := `<option value="` + strconv.FormatInt(w.Officer[0].UserID, 10) + `" selected>`; !strings.Contains(pg.Body, want) {
				t.Errorf("the dispatch form does not preselect the road's officer (%s)", want)
			}
			if p := admin.post(casePath+"/dispatch", url.Values{"officer_id": {"0"}}); p.Status != http.StatusSeeOther {
				t.Fatalf("dispatch: %d %s", p.Status, p.Body)
			}
			got, err := e.svc.Case(ctx, w.Admin[0], c.ID)
			if err != nil || got.OfficerID == nil || *got.OfficerID != w.Officer[0].UserID || got.DueAt == nil {
				t.Fatalf("dispatched to the road's officer: %+v %v", got.Case, err)
			}
			loc := e.svc.Policy().Location()
			due := got.DueAt.In(loc)

			before := e.caseState()
			earlier := due.Add(-time.Hour).Format("2006-01-02T15:04")
			if p := admin.post(casePath+"/extend", url.Values{"due_at": {earlier}, "reason": {"商户外出"}}); p.Status != http.StatusBadRequest ||
				!strings.Contains(p.Body, "新的期限应晚于原期限") || !strings.Contains(p.Body, `value="`+earlier+`"`) {
				t.Errorf("extend to an earlier deadline: %d", p.Status)
			}
			if got := e.caseState(); got != before {
				t.Fatalf("a refused extension stored something: %s, was %s", got, before)
			}
			later := due.Add(24 * time.Hour).Truncate(time.Minute)
			if p := admin.post(casePath+"/extend", url.Values{"due_at": {later.Format("2006-01-02T15:04")}, "reason": {"商户外出"}}); p.Status != http.StatusSeeOther {
				t.Fatalf("extend: %d %s", p.Status, p.Body)
			}
			got, err = e.svc.Case(ctx, w.Admin[0], c.ID)
			if err != nil || got.DueAt == nil || !got.DueAt.Equal(later) || !got.Extended || got.Status != models.CaseDispatched {
				t.Fatalf("extended: %+v %v (want due %v)", got.Case, err, later)
			}
			if pg := admin.get(casePath); !strings.Contains(pg.Body, later.Format("2006年1月2日 15:04")) || !strings.Contains(pg.Body, "已延期") {
				t.Errorf("the case page does not show the new deadline %s", later.Format("2006年1月2日 15:04"))
			}

			officer := e.signedIn(w.OfficerName[0])
			officer.get("/officer/cases/" + id)
			if p := officer.post("/officer/cases/"+id+"/return", url.Values{"reason": {"不在我的路段"}}); p.Status != http.StatusSeeOther {
				t.Fatalf("return: %d %s", p.Status, p.Body)
			}
			got, err = e.svc.Case(ctx, w.Admin[0], c.ID)
			if err != nil || got.Status != models.CaseReturned || got.OfficerID != nil {
				t.Fatalf("returned: %+v %v", got.Case, err)
			}
			if p := admin.get("/console/cases?tab=dispatch"); !strings.Contains(p.Body, `id="case-`+id+`"`) || !strings.Contains(p.Body, "已回退") {
				t.Errorf("the 待派遣 tab lacks the returned case")
			}
			if p := admin.get(casePath); !strings.Contains(p.Body, "不在我的路段") || !strings.Contains(p.Body, `action="/console/cases/`+id+`/dispatch"`) {
				t.Errorf("the returned case's page lacks the reason or the dispatch form")
			}
		})
	}
}

// TestOfficerCaseInspectionOutcome: the officer's case page offers the
// shop's inspections made since the case was received (not older ones), and
// handling with one stores it as the outcome.
func TestOfficerCaseInspectionOutcome(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			w := e.seed()
			e.record(w.Officer[0], w.Merchant[0], "HJWS-01", 2) // before the report
			e.clock.Set(e.svc.Now().Add(time.Hour))
			if _, err := e.svc.ReportCase(ctx, service.CaseReportInput{Token: e.scanToken(w.Merchant[0]), RuleCode: "HJWS-02",
				Client: "198.51.100.1", Device: "device-1"}); err != nil {
				t.Fatal(err)
			}
			listed, _, err := e.svc.CountyCases(ctx, w.Admin[0], service.CaseFilter{Paging: service.Paging{Limit: 10}})
			if err != nil || len(listed) != 1 {
				t.Fatalf("county cases: %v", err)
			}
			id := listed[0].ID
			if _, err := e.svc.AcceptCase(ctx, w.Admin[0], id); err != nil {
				t.Fatal(err)
			}
			if _, err := e.svc.DispatchCase(ctx, w.Admin[0], id, w.Officer[0].UserID); err != nil {
				t.Fatal(err)
			}
			e.clock.Set(e.svc.Now().Add(time.Hour))
			e.record(w.Officer[0], w.Merchant[0], "HJWS-02", 4) // the visit
			ins, _, err := e.svc.Inspections(ctx, w.Officer[0], w.Merchant[0], service.Paging{Limit: 10})
			if err != nil || len(ins) != 2 {
				t.Fatalf("inspections: %d %v", len(ins), err)
			}
			visit, old := ins[0], ins[1] // newest first
			path := "/officer/cases/" + strconv.FormatInt(id, 10)
			officer := e.signedIn(w.OfficerName[0])
			pg := officer.get(path)
			if !strings.Contains(pg.Body, `<option value="`+strconv.FormatInt(visit.ID, 10)+`">`) ||
				strings.Contains(pg.Body, `<option value="`+strconv.FormatInt(old.ID, 10)+`">`) {
				t.Fatalf("the inspections offered: want %d only: %s", visit.ID, pg.Body)
			}
			if p := officer.post(path+"/handle", url.Values{"outcome": {"inspection"}, "inspection_id": {strconv.FormatInt(old.ID, 10)}}); p.Status != http.StatusBadRequest {
				t.Errorf("an inspection older than the case: %d", p.Status)
			}
			if p := officer.post(path+"/handle", url.Values{"outcome": {"inspection"}, "inspection_id": {strconv.FormatInt(visit.ID, 10)}}); p.Status != http.StatusSeeOther {
				t.Fatalf("handle: %d %s", p.Status, p.Body)
			}
			got, err := e.svc.Case(ctx, w.Admin[0], id)
			if err != nil || got.Status != models.CaseHandled || got.InspectionID == nil || *got.InspectionID != visit.ID {
				t.Fatalf("handled: %+v %v", got.Case, err)
			}
			if p := officer.get(path + "?done=handle"); !strings.Contains(p.Body, "已处置") || strings.Contains(p.Body, `/handle"`) {
				t.Errorf("the handled case's page still offers the form")
			}
		})
	}
}
