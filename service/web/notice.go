package web

import (
	"context"
	"net/http"
	"strconv"

	"github.com/menqian/menqian/service"
)

// merchantNotices lists the merchant's rectification notices with their
// deadlines, and lets it report an open one fixed.
func (p *Pages) merchantNotices(w http.ResponseWriter, r *http.Request) {
	p.showMerchantNotices(w, r, http.StatusOK, 0, nil)
}

func (p *Pages) showMerchantNotices(w http.ResponseWriter, r *http.Request, status int, failedID int64, problem error) {
	ctx, a := r.Context(), actorOf(r)
	ns, _, err := p.svc.Notices(ctx, a, a.MerchantID, service.Paging{Limit: service.MaxPage})
	if err != nil {
		p.fail(w, r, err)
		return
	}
	v := view{"Tab": "notices", "Notices": ns, "Reported": r.URL.Query().Get("reported") != "", "FailedID": failedID}
	if problem != nil {
		v["Problem"], v["Note"] = problemOf(problem), formValue(r, "note")
	}
	p.render(w, r, status, "merchant_notices.html", v)
}

// reportFixed is the merchant's "已整改" with a photo of the shop front.
func (p *Pages) reportFixed(w http.ResponseWriter, r *http.Request) {
	a := actorOf(r)
	id, err := pathID(r, "id")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	note := formValue(r, "note")
	err = p.withPhotos(r, "photo", func(ctx context.Context, photos []int64) error {
		_, err := p.svc.ReportNoticeFixed(ctx, a, id, note, photos)
		return err
	})
	if err != nil {
		if _, ok := err.(*service.Error); !ok || service.ErrorCode(err) == service.CodeNotFound {
			p.fail(w, r, err)
			return
		}
		p.showMerchantNotices(w, r, service.HTTPStatus(service.ErrorCode(err)), id, err)
		return
	}
	http.Redirect(w, r, "/merchant/notices?reported=1#notice-"+strconv.FormatInt(id, 10), http.StatusSeeOther)
}

// noticeForm is the officer's rectification notice for a shop (instead of a deduction).
func (p *Pages) noticeForm(w http.ResponseWriter, r *http.Request) {
	p.showNoticeForm(w, r, http.StatusOK, nil)
}

func (p *Pages) showNoticeForm(w http.ResponseWriter, r *http.Request, status int, problem error) {
	f, err := p.pathMerchantFile(r)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	v := view{"Tab": "work", "F": f, "Groups": catalogueGroups(p.svc.Policy(), false), "Default": service.NoticeDefaultDays,
		"MaxDays": service.NoticeMaxDays, "Rule": formValue(r, "rule_code"), "Note": formValue(r, "note")}
	if problem != nil {
		v["Problem"] = problemOf(problem)
	}
	p.render(w, r, status, "officer_notice.html", v)
}

// issueNotice issues the notice, with optional photos.
func (p *Pages) issueNotice(w http.ResponseWriter, r *http.Request) {
	a := actorOf(r)
	id, err := pathID(r, "id")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	in := service.NoticeInput{RuleCode: formValue(r, "rule_code"), Note: formValue(r, "note")}
	if d := formValue(r, "due_days"); d != "" {
		n, err := strconv.Atoi(d)
		if err != nil {
			p.showNoticeForm(w, r, http.StatusBadRequest, service.Invalid(map[string]string{"due_days": "请填写 1 到 30 之间的天数"}))
			return
		}
		in.DueDays = &n
	}
	err = p.withPhotos(r, "photo", func(ctx context.Context, photos []int64) error {
		in.Photos = photos
		_, err := p.svc.IssueNotice(ctx, a, id, in)
		return err
	})
	if err != nil {
		if _, ok := err.(*service.Error); !ok || service.ErrorCode(err) == service.CodeNotFound {
			p.fail(w, r, err)
			return
		}
		p.showNoticeForm(w, r, service.HTTPStatus(service.ErrorCode(err)), err)
		return
	}
	http.Redirect(w, r, "/officer/shops/"+strconv.FormatInt(id, 10)+"?notice=1", http.StatusSeeOther)
}

// confirmNotice confirms at re-inspection (复查) that a notice's problem is fixed.
func (p *Pages) confirmNotice(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), actorOf(r)
	id, err := pathID(r, "id")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	n, err := p.svc.RectifyNotice(ctx, a, id, formValue(r, "note"))
	if err != nil {
		p.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/officer/shops/"+strconv.FormatInt(n.MerchantID, 10)+"?rectified=1", http.StatusSeeOther)
}

// The county office's notices worklist (整改通知).

// noticesPage is the number of notices on a page of the worklist.
const noticesPage = 30

// noticeFilters are the worklist's states.
var noticeFilters = []struct{ Key, Label string }{
	{service.NoticesOpen, "未整改"}, {service.NoticesOverdue, "已逾期"}, {service.NoticesRectified, "已整改"}, {service.NoticesAll, "全部"},
}

// consoleNotices lists the county's notices by deadline (the open ones, the
// overdue ones, the rectified ones or all), optionally of one road, with the
// merchants' reports that they fixed the problem.
func (p *Pages) consoleNotices(w http.ResponseWriter, r *http.Request) {
	ctx, a, q := r.Context(), actorOf(r), r.URL.Query()
	status := q.Get("status")
	known := false
	for _, f := range noticeFilters {
		known = known || f.Key == status
	}
	if !known {
		status = service.NoticesOpen
	}
	roadID, page := queryID(q, "road"), pageOf(q)
	ns, total, err := p.svc.NoticeList(ctx, a, service.NoticeFilter{CountyID: a.CountyID, RoadID: roadID, Status: status,
		Paging: service.Paging{Limit: noticesPage, Offset: (page - 1) * noticesPage}})
	if err != nil {
		p.fail(w, r, err)
		return
	}
	roads, err := p.countyRoads(r.Context(), a, a.CountyID)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	p.render(w, r, http.StatusOK, "console_notices.html", view{"Console": true, "Tab": "notices", "Notices": ns, "Total": total,
		"Status": status, "Filters": noticeFilters, "Roads": roads, "RoadID": roadID, "Pager": newPager(r, page, noticesPage, int(total))})
}
