package web

import (
	"cmp"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/service"
)

// caseRoutes adds the citizen reports' case pages (随手拍): the county
// office's triage queue and case page, and the officer's case page.
func (p *Pages) caseRoutes(mux *http.ServeMux, office, county, officer func(http.HandlerFunc) http.HandlerFunc) {
	mux.HandleFunc("GET /console/cases", office(p.keep(p.consoleCases)))
	mux.HandleFunc("GET /console/cases/{id}", office(p.keep(p.consoleCase)))
	mux.HandleFunc("POST /console/cases/{id}/{action}", county(p.moveConsoleCase))
	mux.HandleFunc("GET /officer/cases/{id}", officer(p.keep(p.officerCase)))
	mux.HandleFunc("POST /officer/cases/{id}/{action}", officer(p.moveOfficerCase))
}

// casesPerPage is the number of cases on a page of the triage queue.
const casesPerPage = 20

// caseTab is a tab of the triage queue: the statuses it lists.
type caseTab struct {
	Key, Label string
	Statuses   []string
}

// caseTabs are the queue's tabs, the work of the office in its order.
var caseTabs = []caseTab{
	{"received", "待受理", []string{models.CaseReceived}},
	{"dispatch", "待派遣", []string{models.CaseAccepted, models.CaseReturned}},
	{"dispatched", "办理中", []string{models.CaseDispatched}},
	{"handled", "待核查", []string{models.CaseHandled, models.CaseVerified}},
	{"closed", "已结案", []string{models.CaseClosed, models.CaseDismissed}},
}

func caseTabOf(key string) caseTab {
	for _, t := range caseTabs {
		if t.Key == key {
			return t
		}
	}
	return caseTabs[0]
}

// caseActionNames name the events of a case's workflow.
var caseActionNames = map[string]string{"report": "举报受理", "accept": "立案", "dismiss": "不予立案", "dispatch": "派遣",
	"handle": "处置", "return": "回退", "extend": "延期", "verify": "核查", "close": "结案", "reopen": "群众反映未解决，重新办理"}

// caseDone are the flashes after a transition (?done=).
var caseDone = map[string]string{"accept": "已立案。", "dismiss": "已不予立案。", "dispatch": "已派遣。", "extend": "已延期。",
	"verify": "已核查。", "close": "已结案。", "return": "已回退，等待重新派遣。", "handle": "已处置，等待区县核查。"}

// caseOutcomeNames name how a case was handled.
var caseOutcomeNames = map[string]string{models.OutcomeInspection: "检查记录", models.OutcomeNotice: "整改通知", models.OutcomeNothing: "未发现问题"}

// caseLine is a case as a list or a page shows it.
type caseLine struct {
	service.CaseView
	StatusName  string
	OutcomeName string
	OnTimeName  string // of a closed case: 按期 or 超期
	Open        bool
}

func caseLineOf(c service.CaseView) caseLine {
	l := caseLine{CaseView: c, StatusName: service.CaseStatusName(c.Status), OutcomeName: caseOutcomeNames[c.Outcome],
		Open: c.Status != models.CaseClosed && c.Status != models.CaseDismissed}
	if c.OnTime != nil {
		l.OnTimeName = "超期结案"
		if *c.OnTime {
			l.OnTimeName = "按期结案"
		}
	}
	return l
}

func caseLines(cs []service.CaseView) []caseLine {
	out := make([]caseLine, len(cs))
	for i, c := range cs {
		out[i] = caseLineOf(c)
	}
	return out
}

// caseEventLine is one step of a case with who took it.
type caseEventLine struct {
	models.CaseEvent
	ActionName, StatusName, Who string
}

// consoleCases is the triage queue: one tab of statuses, the most urgent first.
func (p *Pages) consoleCases(w http.ResponseWriter, r *http.Request) {
	county, ok := p.consoleCounty(w, r)
	if !ok {
		return
	}
	ctx, a, q := r.Context(), actorOf(r), r.URL.Query()
	tab, page := caseTabOf(q.Get("tab")), pageOf(q)
	cases, total, err := p.svc.CountyCases(ctx, a, service.CaseFilter{CountyID: county.ID, Statuses: tab.Statuses,
		Paging: service.Paging{Limit: casesPerPage, Offset: (page - 1) * casesPerPage}})
	if err != nil {
		p.fail(w, r, err)
		return
	}
	p.render(w, r, http.StatusOK, "console_cases.html", view{"Console": true, "Tab": "cases", "County": county,
		"Tabs": caseTabs, "Filter": tab.Key, "Cases": caseLines(cases), "Total": total,
		"Pager": newPager(r, page, casesPerPage, int(total))})
}

// consoleCase is one case for the county office: its reports (with the
// reporters' phones), its steps, and the county admin's actions of its status.
func (p *Pages) consoleCase(w http.ResponseWriter, r *http.Request) {
	p.showConsoleCase(w, r, http.StatusOK, "", nil)
}

func (p *Pages) showConsoleCase(w http.ResponseWriter, r *http.Request, status int, failed string, problem error) {
	ctx, a := r.Context(), actorOf(r)
	id, err := pathID(r, "id")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	d, err := p.svc.Case(ctx, a, id)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	// The county's accounts name the steps' actors and are the officers to dispatch to.
	names := map[int64]string{a.UserID: "我"}
	var officers []models.User
	for _, role := range []string{service.RoleCountyAdmin, service.RoleOfficer} {
		us, _, err := p.svc.Users(ctx, a, service.UserQuery{CountyID: d.CountyID, Role: role, Paging: service.Paging{Limit: service.MaxPage}})
		if err != nil {
			p.fail(w, r, err)
			return
		}
		for _, u := range us {
			if _, ok := names[u.ID]; !ok {
				names[u.ID] = cmp.Or(u.DisplayName, u.Username)
			}
			if role == service.RoleOfficer && !u.Disabled {
				officers = append(officers, u)
			}
		}
	}
	var roadOfficer int64
	if d.RoadID != nil {
		rd, err := p.svc.Road(ctx, a, *d.RoadID)
		if err != nil {
			p.fail(w, r, err)
			return
		}
		for _, oid := range rd.OfficerIDs {
			for _, u := range officers {
				if u.ID == oid && roadOfficer == 0 {
					roadOfficer = oid
				}
			}
		}
	}
	v := view{"Console": true, "Tab": "cases", "C": caseLineOf(d.CaseView), "Reports": d.Reports,
		"Events": caseEvents(d.Events, names), "Officers": officers, "RoadOfficer": roadOfficer,
		"Office": a.Role == service.RoleCountyAdmin, "Failed": failed, "Form": formOf(r), "PhotoEvidence": d.PhotoEvidence}
	if d.OfficerID != nil {
		v["OfficerName"] = cmp.Or(names[*d.OfficerID], "巡查员 #"+strconv.FormatInt(*d.OfficerID, 10))
	}
	if msg := caseDone[r.URL.Query().Get("done")]; msg != "" {
		v["Done"] = msg
	}
	if problem != nil {
		v["Problem"] = caseProblem(problem)
	}
	p.render(w, r, status, "console_case.html", v)
}

// formOf is a refused form's values, to show them again.
func formOf(r *http.Request) map[string]string {
	if r.Method != http.MethodPost {
		return nil
	}
	out := map[string]string{}
	for _, k := range []string{"reason", "note", "due_at", "officer_id", "outcome", "inspection_id", "notice_id", "attach_photo"} {
		out[k] = formValue(r, k)
	}
	return out
}

// caseFieldLabels name the case forms' fields in the problems beside them.
var caseFieldLabels = map[string]string{"reason": "理由", "note": "说明", "due_at": "新的期限", "officer_id": "巡查员",
	"outcome": "处置结果", "inspection_id": "检查记录", "notice_id": "整改通知", "attach_photo": "市民举报照片"}

// caseProblem is a refused transition as its form shows it: the message and
// each field's problem, named as the form names it.
func caseProblem(err error) problem {
	out := problemOf(err)
	var e *service.Error
	if errors.As(err, &e) && len(e.Fields) > 0 {
		out.Fields = map[string]string{}
		for k, v := range e.Fields {
			out.Fields[cmp.Or(caseFieldLabels[k], "提交内容")] = v
		}
	}
	return out
}

func caseEvents(es []models.CaseEvent, names map[int64]string) []caseEventLine {
	out := make([]caseEventLine, len(es))
	for i, e := range es {
		who := "举报人"
		if e.ActorID != nil {
			who = cmp.Or(names[*e.ActorID], "用户 #"+strconv.FormatInt(*e.ActorID, 10))
		}
		out[i] = caseEventLine{CaseEvent: e, ActionName: cmp.Or(caseActionNames[e.Action], e.Action),
			StatusName: service.CaseStatusName(e.ToStatus), Who: who}
	}
	return out
}

// moveConsoleCase is a county admin's transition of a case; a refused one
// shows the case page again with the service's problem beside the form.
func (p *Pages) moveConsoleCase(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), actorOf(r)
	id, err := pathID(r, "id")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	action := r.PathValue("action")
	switch action {
	case "accept":
		_, err = p.svc.AcceptCase(ctx, a, id)
	case "dismiss":
		_, err = p.svc.DismissCase(ctx, a, id, formValue(r, "reason"))
	case "dispatch":
		officer, perr := strconv.ParseInt(strings.TrimSpace(cmp.Or(formValue(r, "officer_id"), "0")), 10, 64)
		if perr != nil || officer < 0 {
			err = service.Invalid(map[string]string{"officer_id": "应为本区县在岗的执法人员"})
			break
		}
		_, err = p.svc.DispatchCase(ctx, a, id, officer)
	case "extend":
		due, perr := time.ParseInLocation("2006-01-02T15:04", formValue(r, "due_at"), p.svc.Policy().Location())
		if perr != nil {
			err = service.Invalid(map[string]string{"due_at": "请填写新的期限"})
			break
		}
		_, err = p.svc.ExtendCase(ctx, a, id, due, formValue(r, "reason"))
	case "return":
		_, err = p.svc.ReturnCase(ctx, a, id, formValue(r, "reason"))
	case "verify":
		_, err = p.svc.VerifyCase(ctx, a, id)
	case "close":
		_, err = p.svc.CloseCase(ctx, a, id)
	default:
		p.fail(w, r, service.Errorf(service.CodeNotFound, "页面不存在"))
		return
	}
	if err != nil {
		if !formProblem(err) {
			p.fail(w, r, err)
			return
		}
		p.showConsoleCase(w, r, service.HTTPStatus(service.ErrorCode(err)), action, err)
		return
	}
	http.Redirect(w, r, "/console/cases/"+strconv.FormatInt(id, 10)+"?done="+action, http.StatusSeeOther)
}

// formProblem: a service error a form shows beside itself (not a missing
// case or a missing right, nor an internal error).
func formProblem(err error) bool {
	var e *service.Error
	if !errors.As(err, &e) {
		return false
	}
	return e.Code != service.CodeNotFound && e.Code != service.CodeForbidden && e.Code != service.CodeInternal
}

// officerCase is a dispatched case as its officer works it on the phone:
// what was reported, where, by when, and how to record the outcome.
func (p *Pages) officerCase(w http.ResponseWriter, r *http.Request) {
	p.showOfficerCase(w, r, http.StatusOK, "", nil)
}

func (p *Pages) showOfficerCase(w http.ResponseWriter, r *http.Request, status int, failed string, problem error) {
	ctx, a := r.Context(), actorOf(r)
	id, err := pathID(r, "id")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	d, err := p.svc.Case(ctx, a, id)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	mine := d.Status == models.CaseDispatched && (a.Role == service.RoleCountyAdmin || (d.OfficerID != nil && *d.OfficerID == a.UserID))
	// The shop's inspections and notices since the case was received: what may settle it.
	var inspections []service.InspectionView
	var notices []service.NoticeView
	if mine && d.MerchantID != nil {
		ins, _, err := p.svc.Inspections(ctx, a, *d.MerchantID, service.Paging{Limit: service.MaxPage})
		if err != nil {
			p.fail(w, r, err)
			return
		}
		for _, in := range ins {
			if !in.InspectedAt.Before(d.ReceivedAt) {
				inspections = append(inspections, in)
			}
		}
		ns, _, err := p.svc.Notices(ctx, a, *d.MerchantID, service.Paging{Limit: service.MaxPage})
		if err != nil {
			p.fail(w, r, err)
			return
		}
		for _, n := range ns {
			if !n.IssuedAt.Before(d.ReceivedAt) {
				notices = append(notices, n)
			}
		}
	}
	v := view{"Tab": "work", "C": caseLineOf(d.CaseView), "Mine": mine, "Inspections": inspections, "Notices": notices,
		"Failed": failed, "Form": formOf(r), "PhotoEvidence": d.PhotoEvidence}
	if msg := caseDone[r.URL.Query().Get("done")]; msg != "" {
		v["Done"] = msg
	}
	if problem != nil {
		v["Problem"] = caseProblem(problem)
	}
	p.render(w, r, status, "officer_case.html", v)
}

// moveOfficerCase records the officer's outcome (处置) or sends the case
// back (回退).
func (p *Pages) moveOfficerCase(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), actorOf(r)
	id, err := pathID(r, "id")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	action := r.PathValue("action")
	switch action {
	case "handle":
		in := service.CaseHandling{Outcome: formValue(r, "outcome"), Note: formValue(r, "note"), AttachPhoto: formValue(r, "attach_photo") == "1"}
		in.InspectionID, _ = strconv.ParseInt(formValue(r, "inspection_id"), 10, 64)
		in.NoticeID, _ = strconv.ParseInt(formValue(r, "notice_id"), 10, 64)
		_, err = p.svc.HandleCase(ctx, a, id, in)
	case "return":
		_, err = p.svc.ReturnCase(ctx, a, id, formValue(r, "reason"))
	default:
		p.fail(w, r, service.Errorf(service.CodeNotFound, "页面不存在"))
		return
	}
	if err != nil {
		if !formProblem(err) {
			p.fail(w, r, err)
			return
		}
		p.showOfficerCase(w, r, service.HTTPStatus(service.ErrorCode(err)), action, err)
		return
	}
	http.Redirect(w, r, "/officer/cases/"+strconv.FormatInt(id, 10)+"?done="+action, http.StatusSeeOther)
}
