package web

import (
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"

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
