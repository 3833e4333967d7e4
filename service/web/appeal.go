package web

import (
	"cmp"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/service"
)

// pathID reads a numeric path parameter; anything else is 404.
func pathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, service.Errorf(service.CodeNotFound, "页面不存在")
	}
	return id, nil
}

// appealForm asks for the reason (and a photo) of an appeal of one deduction.
func (p *Pages) appealForm(w http.ResponseWriter, r *http.Request) {
	p.showAppealForm(w, r, http.StatusOK, "", nil)
}

func (p *Pages) showAppealForm(w http.ResponseWriter, r *http.Request, status int, reason string, problem error) {
	ctx, a := r.Context(), actorOf(r)
	id, err := pathID(r, "entry")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	e, err := p.svc.LedgerEntryOf(ctx, a, a.MerchantID, id)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	lines := p.entryLines([]service.LedgerView{e})
	v := view{"Tab": "ledger", "E": lines[0], "Reason": reason}
	if problem != nil {
		v["Problem"] = problemOf(problem)
	}
	p.render(w, r, status, "merchant_appeal.html", v)
}

// problem is a service error as a form shows it: the message and each field's problem.
type problem struct {
	Message string
	Fields  map[string]string
}

func problemOf(err error) problem {
	if e, ok := err.(*service.Error); ok {
		return problem{Message: e.Message, Fields: fieldNames(e.Fields)}
	}
	return problem{Message: "服务器内部错误，请稍后重试"}
}

// fileAppeal files the appeal with its photos; a refused appeal shows the
// form again with the reason kept and the problem beside it.
func (p *Pages) fileAppeal(w http.ResponseWriter, r *http.Request) {
	a := actorOf(r)
	id, err := pathID(r, "entry")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	reason := formValue(r, "reason")
	err = p.withPhotos(r, "photo", func(ctx context.Context, photos []int64) error {
		_, err := p.svc.FileAppeal(ctx, a, a.MerchantID, id, reason, photos...)
		return err
	})
	if err != nil {
		if _, ok := err.(*service.Error); !ok || service.ErrorCode(err) == service.CodeNotFound {
			p.fail(w, r, err)
			return
		}
		p.showAppealForm(w, r, service.HTTPStatus(service.ErrorCode(err)), reason, err)
		return
	}
	http.Redirect(w, r, "/merchant/appeals?filed="+strconv.FormatInt(id, 10), http.StatusSeeOther)
}

// appealLine is an appeal with the deduction it contests.
type appealLine struct {
	models.Appeal
	Entry  service.LedgerView
	Photos []int64
}

// merchantAppeals lists the merchant's appeals with their state and decision.
func (p *Pages) merchantAppeals(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), actorOf(r)
	aps, _, err := p.svc.Appeals(ctx, a, service.AppealFilter{Paging: service.Paging{Limit: service.MaxPage}})
	if err != nil {
		p.fail(w, r, err)
		return
	}
	lines := make([]appealLine, len(aps))
	for i, ap := range aps {
		e, err := p.svc.LedgerEntryOf(ctx, a, ap.MerchantID, ap.EntryID)
		if err != nil {
			p.fail(w, r, err)
			return
		}
		lines[i] = appealLine{Appeal: ap, Entry: e, Photos: service.ParseIDs(ap.PhotoIDs)}
	}
	p.render(w, r, http.StatusOK, "merchant_appeals.html", view{"Tab": "appeals", "Appeals": lines,
		"Filed": r.URL.Query().Get("filed") != ""})
}

// formPhotos opens the photos of a form's file field (empty parts, which
// browsers send for an empty picker, are skipped); close them with closeAll.
func formPhotos(r *http.Request, field string) ([]io.Reader, func(), error) {
	if r.MultipartForm == nil {
		if formValue(r, csrfField); r.MultipartForm == nil {
			return nil, func() {}, nil
		}
	}
	var files []multipart.File
	closeAll := func() {
		for _, f := range files {
			f.Close()
		}
	}
	var out []io.Reader
	for _, fh := range r.MultipartForm.File[field] {
		if fh.Size == 0 {
			continue
		}
		if len(out) == service.MaxMerchantPhotos {
			closeAll()
			return nil, func() {}, service.Invalid(map[string]string{"photos": "最多 3 张照片"})
		}
		if fh.Size > service.MaxPhotoBytes {
			closeAll()
			return nil, func() {}, service.Errorf(service.CodeTooLarge, "每张照片不能超过 5 MB")
		}
		f, err := fh.Open()
		if err != nil {
			closeAll()
			return nil, func() {}, err
		}
		files = append(files, f)
		out = append(out, f)
	}
	return out, closeAll, nil
}

// withPhotos stores a form's photos and runs fn with their ids in one
// transaction: a refused request keeps none of them.
func (p *Pages) withPhotos(r *http.Request, field string, fn func(ctx context.Context, ids []int64) error) error {
	photos, done, err := formPhotos(r, field)
	if err != nil {
		return err
	}
	defer done()
	return p.svc.WithUploads(r.Context(), actorOf(r), photos, fn)
}

// The county office's appeals queue (申诉审核).

// appealsPage is the number of decided appeals on a page.
const appealsPage = 20

// appealCase is an appeal as the office reviews it: the shop, the contested
// entry with the officer's evidence, the merchant's reason and photos, and
// the decision deadline.
type appealCase struct {
	models.Appeal
	Shop    models.Merchant
	Road    string
	Entry   service.LedgerView
	Photos  []int64 // the merchant's
	Due     time.Time
	Overdue bool
}

// appealStatusNames name an appeal's status in words (the queue's tabs, the audit log).
var appealStatusNames = map[string]string{models.AppealPending: "待处理", models.AppealAccepted: "申诉成立", models.AppealRejected: "申诉未通过"}

// appealFilters are the queue's tabs: pending (the work), and the decided ones.
var appealFilters = []struct{ Key, Label string }{
	{models.AppealPending, appealStatusNames[models.AppealPending]},
	{models.AppealAccepted, appealStatusNames[models.AppealAccepted]},
	{models.AppealRejected, appealStatusNames[models.AppealRejected]},
}

// consoleAppeals is the queue: pending appeals, overdue first, then by their
// deadline; or the decided ones, newest first.
func (p *Pages) consoleAppeals(w http.ResponseWriter, r *http.Request) {
	p.showConsoleAppeals(w, r, http.StatusOK, 0, nil)
}

func (p *Pages) showConsoleAppeals(w http.ResponseWriter, r *http.Request, status int, failedID int64, problem error) {
	ctx, a, q := r.Context(), actorOf(r), r.URL.Query()
	filter := q.Get("status")
	if filter != models.AppealAccepted && filter != models.AppealRejected {
		filter = models.AppealPending
	}
	page := pageOf(q)
	var aps []models.Appeal
	var total int64
	if filter == models.AppealPending {
		// Every pending appeal: the queue is short (appeals come within a week
		// of a deduction and are due within 20 days), and it is sorted here.
		for {
			more, n, err := p.svc.Appeals(ctx, a, service.AppealFilter{CountyID: a.CountyID, Status: filter,
				Paging: service.Paging{Limit: service.MaxPage, Offset: len(aps)}})
			if err != nil {
				p.fail(w, r, err)
				return
			}
			aps, total = append(aps, more...), n
			if len(more) == 0 || int64(len(aps)) >= n {
				break
			}
		}
	} else {
		var err error
		aps, total, err = p.svc.Appeals(ctx, a, service.AppealFilter{CountyID: a.CountyID, Status: filter,
			Paging: service.Paging{Limit: appealsPage, Offset: (page - 1) * appealsPage}})
		if err != nil {
			p.fail(w, r, err)
			return
		}
	}
	now := p.svc.Now()
	cases := make([]appealCase, len(aps))
	roads := map[int64]string{}
	for i, ap := range aps {
		m, err := p.svc.Merchant(ctx, a, ap.MerchantID)
		if err != nil {
			p.fail(w, r, err)
			return
		}
		if _, ok := roads[m.RoadID]; !ok {
			rd, err := p.svc.Road(ctx, a, m.RoadID)
			if err != nil {
				p.fail(w, r, err)
				return
			}
			roads[m.RoadID] = rd.Name
		}
		e, err := p.svc.LedgerEntryOf(ctx, a, ap.MerchantID, ap.EntryID)
		if err != nil {
			p.fail(w, r, err)
			return
		}
		due := service.AppealDecisionDue(ap)
		cases[i] = appealCase{Appeal: ap, Shop: m, Road: roads[m.RoadID], Entry: e, Photos: service.ParseIDs(ap.PhotoIDs),
			Due: due, Overdue: ap.Status == models.AppealPending && now.After(due)}
	}
	if filter == models.AppealPending {
		slices.SortStableFunc(cases, func(x, y appealCase) int {
			if x.Overdue != y.Overdue {
				if x.Overdue {
					return -1
				}
				return 1
			}
			return cmp.Or(x.Due.Compare(y.Due), cmp.Compare(x.ID, y.ID))
		})
	}
	overdue := 0
	for _, c := range cases {
		if c.Overdue {
			overdue++
		}
	}
	v := view{"Console": true, "Tab": "appeals", "Cases": cases, "Filter": filter, "Filters": appealFilters, "Total": total,
		"Overdue": overdue, "FailedID": failedID, "Note": formValue(r, "note"), "Decision": formValue(r, "decision")}
	if filter != models.AppealPending {
		v["Pager"] = newPager(r, page, appealsPage, int(total))
	}
	if d := q.Get("decided"); d != "" {
		v["Decided"], v["Result"] = d, q.Get("result")
	}
	if problem != nil {
		v["Problem"] = problemOf(problem)
	}
	p.render(w, r, status, "console_appeals.html", v)
}

// decideAppeal accepts (the deduction is reversed) or rejects (a note for the
// merchant is required) an appeal; a refused decision shows the queue again
// with the problem beside the appeal's form.
func (p *Pages) decideAppeal(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), actorOf(r)
	id, err := pathID(r, "id")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	var accept bool
	switch formValue(r, "decision") {
	case "accept":
		accept = true
	case "reject":
	default:
		p.showConsoleAppeals(w, r, http.StatusBadRequest, id, service.Invalid(map[string]string{"decision": "请选择申诉成立或不成立"}))
		return
	}
	ap, err := p.svc.DecideAppeal(ctx, a, id, accept, formValue(r, "note"))
	if err != nil {
		if _, ok := err.(*service.Error); !ok || service.ErrorCode(err) == service.CodeNotFound || service.ErrorCode(err) == service.CodeForbidden {
			p.fail(w, r, err)
			return
		}
		p.showConsoleAppeals(w, r, service.HTTPStatus(service.ErrorCode(err)), id, err)
		return
	}
	http.Redirect(w, r, "/console/appeals?decided="+strconv.FormatInt(ap.ID, 10)+"&result="+ap.Status, http.StatusSeeOther)
}
