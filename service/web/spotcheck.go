package web

import (
	"cmp"
	"net/http"
	"strconv"
	"strings"

	"github.com/menqian/menqian/service"
)

// Random audits (抽查): the county's list, draw form and audit page in the
// console; the auditor's worklist and visit form on the phone. The
// auditor's pages show where the sampled shops are, never their scores,
// stars or the officers' records.

// spotCheckPage is the number of audits on a page of the list.
const spotCheckPage = 20

// spotChecks lists the county's audits, newest first, with the officers'
// agreement with the auditors over a range of months.
func (p *Pages) spotChecks(w http.ResponseWriter, r *http.Request) {
	ctx, a, q := r.Context(), actorOf(r), r.URL.Query()
	countyID := a.CountyID
	if a.IsCity() {
		countyID = queryID(q, "county_id")
	}
	page := pageOf(q)
	list, total, err := p.svc.SpotChecks(ctx, a, service.SpotCheckFilter{CountyID: countyID,
		Paging: service.Paging{Limit: spotCheckPage, Offset: (page - 1) * spotCheckPage}})
	if err != nil {
		p.fail(w, r, err)
		return
	}
	v := view{"Console": true, "Tab": "spotchecks", "Audits": list, "Total": total, "City": a.IsCity(), "CountyID": countyID,
		"Pager": newPager(r, page, spotCheckPage, int(total))}
	if countyID != 0 {
		cur := p.svc.CurrentCycle()
		from, to := q.Get("from"), q.Get("to")
		if from == "" {
			from = cur
		}
		if to == "" {
			to = cur
		}
		rows, err := p.svc.AuditAgreement(ctx, a, countyID, from, to)
		if service.ErrorCode(err) == service.CodeInvalid {
			v["AgreementProblem"] = problemOf(err)
		} else if err != nil {
			p.fail(w, r, err)
			return
		}
		lines := make([]agreementLine, len(rows))
		for i, row := range rows {
			lines[i] = agreementLine{OfficerAgreement: row, Percent: 100 * row.Agreement}
		}
		v["Agreement"], v["From"], v["To"] = lines, from, to
	}
	p.render(w, r, http.StatusOK, "console_spotchecks.html", v)
}

// agreementLine is an officer's agreement with its share in percent.
type agreementLine struct {
	service.OfficerAgreement
	Percent float64
}

// spotCheckForm is the draw form as sent.
type spotCheckForm struct {
	Cycle, Seed, Size, Auditor, Note string
	RoadSizes                        map[int64]string
}

// newSpotCheck is the draw form: the month, the size for every road and for
// single roads, the seed (blank: random) and the auditor.
func (p *Pages) newSpotCheck(w http.ResponseWriter, r *http.Request) {
	p.showSpotCheckForm(w, r, http.StatusOK, spotCheckForm{Size: "5"}, nil)
}

func (p *Pages) showSpotCheckForm(w http.ResponseWriter, r *http.Request, status int, f spotCheckForm, problem error) {
	ctx, a := r.Context(), actorOf(r)
	roads, _, err := p.svc.Roads(ctx, a, a.CountyID, service.Paging{Limit: service.MaxPage})
	if err != nil {
		p.fail(w, r, err)
		return
	}
	var auditors []accountLine
	for _, role := range []string{service.RoleAuditor, service.RoleCountyAdmin} {
		us, _, err := p.svc.Users(ctx, a, service.UserQuery{CountyID: a.CountyID, Role: role, Paging: service.Paging{Limit: service.MaxPage}})
		if err != nil {
			p.fail(w, r, err)
			return
		}
		for _, u := range us {
			if !u.Disabled {
				auditors = append(auditors, accountLine{User: u, RoleName: roleNames[u.Role]})
			}
		}
	}
	if f.Auditor == "" && len(auditors) > 0 {
		f.Auditor = strconv.FormatInt(auditors[0].ID, 10)
	}
	v := view{"Console": true, "Tab": "spotchecks", "Form": f, "Roads": roads, "Auditors": auditors,
		"Cycle": p.svc.CurrentCycle(), "Max": service.MaxSpotCheckSize}
	if problem != nil {
		v["Problem"] = problemOf(problem)
	}
	p.render(w, r, status, "console_spotcheck_new.html", v)
}

// drawSpotCheck draws the audit and shows it.
func (p *Pages) drawSpotCheck(w http.ResponseWriter, r *http.Request) {
	a := actorOf(r)
	f := spotCheckForm{Cycle: strings.TrimSpace(formValue(r, "cycle")), Seed: strings.TrimSpace(formValue(r, "seed")),
		Size: strings.TrimSpace(formValue(r, "size")), Auditor: formValue(r, "auditor_id"), Note: formValue(r, "note"),
		RoadSizes: map[int64]string{}}
	in := service.SpotCheckInput{CountyID: a.CountyID, Cycle: f.Cycle, Note: f.Note, RoadSizes: map[int64]int{}}
	bad := map[string]string{}
	number := func(field, text string) int64 {
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			bad[field] = "请填写整数"
		}
		return n
	}
	if f.Seed != "" {
		seed := number("seed", f.Seed)
		in.Seed = &seed
	}
	in.Size = int(number("size", cmp.Or(f.Size, "0")))
	in.AuditorID = number("auditor_id", f.Auditor)
	if err := parseForm(r); err == nil {
		for key, vals := range r.Form {
			id, ok := strings.CutPrefix(key, "road_")
			road, err := strconv.ParseInt(id, 10, 64)
			if !ok || err != nil || len(vals) == 0 || strings.TrimSpace(vals[0]) == "" {
				continue
			}
			f.RoadSizes[road] = strings.TrimSpace(vals[0])
			in.RoadSizes[road] = int(number("road_sizes."+id, f.RoadSizes[road]))
		}
	}
	if len(bad) > 0 {
		p.showSpotCheckForm(w, r, http.StatusBadRequest, f, service.Invalid(bad))
		return
	}
	sc, err := p.svc.DrawSpotCheck(r.Context(), a, in)
	if err != nil {
		if code := service.ErrorCode(err); code == service.CodeInvalid || code == service.CodeCycleClosed {
			p.showSpotCheckForm(w, r, service.HTTPStatus(code), f, err)
			return
		}
		p.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/console/spotchecks/"+strconv.FormatInt(sc.ID, 10), http.StatusSeeOther)
}

// spotCheck is an audit's page: the seed and algorithm, and each road's
// sample with the auditor's findings.
func (p *Pages) spotCheck(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	sc, err := p.svc.SpotCheck(r.Context(), actorOf(r), id)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	p.render(w, r, http.StatusOK, "console_spotcheck.html", view{"Console": true, "Tab": "spotchecks", "S": sc,
		"Algorithm": service.SpotCheckAlgorithm})
}

// auditorWork is the auditor's worklist: its audits, each with the sampled
// shops still to visit first.
func (p *Pages) auditorWork(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), actorOf(r)
	list, _, err := p.svc.SpotChecks(ctx, a, service.SpotCheckFilter{CountyID: a.CountyID, Paging: service.Paging{Limit: 10}})
	if err != nil {
		p.fail(w, r, err)
		return
	}
	var audits []service.SpotCheckView
	for _, l := range list {
		if l.AuditorID != a.UserID {
			continue // a county admin's worklist holds the audits it visits itself
		}
		sc, err := p.svc.SpotCheck(ctx, a, l.ID)
		if err != nil {
			p.fail(w, r, err)
			return
		}
		audits = append(audits, sc)
	}
	p.render(w, r, http.StatusOK, "auditor_home.html", view{"Tab": "spotcheck", "Audits": audits})
}

// visitIDs are the audit and the shop a visit's path names.
func visitIDs(r *http.Request) (auditID, merchant int64, err error) {
	if auditID, err = pathID(r, "id"); err == nil {
		merchant, err = pathID(r, "merchant")
	}
	return auditID, merchant, err
}

// spotCheckVisitForm is the visit form of a sampled shop.
func (p *Pages) spotCheckVisitForm(w http.ResponseWriter, r *http.Request) {
	p.showSpotCheckVisit(w, r, http.StatusOK, nil)
}

func (p *Pages) showSpotCheckVisit(w http.ResponseWriter, r *http.Request, status int, problem error) {
	auditID, merchant, err := visitIDs(r)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	sc, sh, err := p.svc.SpotCheckShopOf(r.Context(), actorOf(r), auditID, merchant)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	v := view{"Tab": "spotcheck", "S": sc, "Shop": sh, "Groups": catalogueGroups(p.svc.Policy(), false)}
	if problem != nil {
		v["Problem"] = problemOf(problem)
	}
	p.render(w, r, status, "auditor_visit.html", v)
}

// recordSpotCheckVisit records what the auditor found: the ticked items,
// each with its points, and a note.
func (p *Pages) recordSpotCheckVisit(w http.ResponseWriter, r *http.Request) {
	auditID, merchant, err := visitIDs(r)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	in := service.SpotCheckVisit{Note: formValue(r, "note")}
	if err := parseForm(r); err == nil {
		for _, code := range r.Form["item"] {
			it := service.InspectionItem{RuleCode: code}
			if n, err := strconv.Atoi(formValue(r, "points_"+code)); err == nil {
				it.Points = &n
			}
			in.Items = append(in.Items, it)
		}
	}
	_, err = p.svc.RecordSpotCheck(r.Context(), actorOf(r), auditID, merchant, in)
	if err != nil {
		if code := service.ErrorCode(err); code == service.CodeInvalid || code == service.CodeConflict || code == service.CodeCycleClosed {
			p.showSpotCheckVisit(w, r, service.HTTPStatus(code), err)
			return
		}
		p.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/spotcheck?done="+strconv.FormatInt(merchant, 10), http.StatusSeeOther)
}
