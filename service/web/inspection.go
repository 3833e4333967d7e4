package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/menqian/menqian/service"
	"github.com/menqian/menqian/service/policy"
)

// ruleGroup is one 包 of the catalogue, for the forms.
type ruleGroup struct {
	Category string
	Items    []ruleChoice
}

type ruleChoice struct {
	policy.Item
	Choices []int // the points the officer may pick, within the rule's range
}

// catalogueGroups groups the catalogue by 包 in its own order; bonuses last
// when withBonus, left out otherwise (a notice is for deductions).
func catalogueGroups(pol *policy.Policy, withBonus bool) []ruleGroup {
	var out []ruleGroup
	idx := map[string]int{}
	for _, it := range pol.Items {
		if it.Kind == policy.Bonus && !withBonus {
			continue
		}
		cat := it.Category
		if it.Kind == policy.Bonus {
			cat = "加分"
		}
		i, ok := idx[cat]
		if !ok {
			i = len(out)
			idx[cat] = i
			out = append(out, ruleGroup{Category: cat})
		}
		c := ruleChoice{Item: it}
		for n := it.MinPoints; n <= it.MaxPoints; n++ {
			c.Choices = append(c.Choices, n)
		}
		out[i].Items = append(out[i].Items, c)
	}
	return out
}

// pathMerchantFile is the file of the merchant named by the path's {id}, as
// the request's actor may see it.
func (p *Pages) pathMerchantFile(r *http.Request) (service.MerchantFile, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return service.MerchantFile{}, err
	}
	return p.svc.MerchantFileOf(r.Context(), actorOf(r), id)
}

// shopFile is what an officer sees of a shop: its file, score, this month's
// entries (with their appeals), and its open notices.
func (p *Pages) shopFile(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), actorOf(r)
	f, err := p.pathMerchantFile(r)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	id := f.ID
	entries, res, err := p.svc.Ledger(ctx, a, id, "")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	ns, _, err := p.svc.Notices(ctx, a, id, service.Paging{Limit: service.MaxPage})
	if err != nil {
		p.fail(w, r, err)
		return
	}
	var open []service.NoticeView
	for _, n := range ns {
		if n.Status == "open" {
			open = append(open, n)
		}
	}
	p.render(w, r, http.StatusOK, "officer_shop.html", view{"Tab": "work", "F": f, "R": res, "Entries": p.entryLines(entries),
		"Notices": open, "Token": p.svc.PlaqueToken(f.Merchant), "Issued": r.URL.Query().Get("notice") != "",
		"Rectified": r.URL.Query().Get("rectified") != ""})
}

// inspectForm is the inspection form: opened from a plaque's scan (?t=), a
// shop of the worklist (?m=), or empty for typing a plaque code.
func (p *Pages) inspectForm(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), actorOf(r)
	v := view{"Tab": "inspect", "Groups": catalogueGroups(p.svc.Policy(), true)}
	q := r.URL.Query()
	switch {
	case q.Get("m") != "":
		id, err := strconv.ParseInt(q.Get("m"), 10, 64)
		if err != nil {
			p.fail(w, r, service.Errorf(service.CodeNotFound, "商户不存在"))
			return
		}
		f, err := p.svc.MerchantFileOf(ctx, a, id)
		if err != nil {
			p.fail(w, r, err)
			return
		}
		v["Token"], v["Shop"], v["ShopID"] = p.svc.PlaqueToken(f.Merchant), f.Name+"（"+f.RoadName+"）", f.ID
	case q.Get("t") != "":
		v["Token"] = q.Get("t")
		if prof, err := p.svc.ProfileByToken(ctx, q.Get("t")); err == nil {
			v["Shop"] = prof.Name + "（" + prof.Road + "）"
		} else {
			v["ShopProblem"] = problemOf(err).Message
		}
	}
	p.render(w, r, http.StatusOK, "inspect.html", v)
}

// uploadPhoto stores one photo of the inspection form's queue: {"id"}.
func (p *Pages) uploadPhoto(w http.ResponseWriter, r *http.Request) {
	if formValue(r, "x"); r.MultipartForm == nil || len(r.MultipartForm.File["file"]) != 1 {
		p.fail(w, r, service.Invalid(map[string]string{"file": "请上传一张照片（JPEG 或 PNG）"}))
		return
	}
	fh := r.MultipartForm.File["file"][0]
	if fh.Size > service.MaxPhotoBytes {
		p.fail(w, r, service.Errorf(service.CodeTooLarge, "照片不能超过 5 MB"))
		return
	}
	f, err := fh.Open()
	if err != nil {
		p.fail(w, r, err)
		return
	}
	defer f.Close()
	ph, err := p.svc.UploadPhoto(r.Context(), actorOf(r), f)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, struct {
		ID int64 `json:"id"`
	}{ph.ID})
}

// recordRequest is a queued inspection as the form sends it.
type recordRequest struct {
	QRToken     string    `json:"qr_token"`
	InspectedAt time.Time `json:"inspected_at"`
	Items       []struct {
		RuleCode string `json:"rule_code"`
		Points   *int   `json:"points"`
		Note     string `json:"note"`
	} `json:"items"`
	Photos []int64  `json:"photos"`
	Note   string   `json:"note"`
	Lat    *float64 `json:"lat"`
	Lng    *float64 `json:"lng"`
}

type recordResponse struct {
	ID         int64  `json:"id"`
	MerchantID int64  `json:"merchant_id"`
	Delta      int    `json:"delta"`
	Score      int    `json:"score"`
	RatedStar  int    `json:"rated_star"`
	Replayed   bool   `json:"replayed"`
	Shop       string `json:"shop"`
}

// maxRecordBytes bounds one queued inspection's JSON.
const maxRecordBytes = 64 << 10

// recordInspection records one queued inspection under its Idempotency-Key:
// a resend after a dropped answer gets the first answer and counts nothing twice.
func (p *Pages) recordInspection(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRecordBytes+1))
	if err != nil || len(body) > maxRecordBytes {
		p.fail(w, r, service.Errorf(service.CodeTooLarge, "提交内容过大"))
		return
	}
	var req recordRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil || dec.More() || bytes.TrimSpace(body)[0] != '{' {
		p.fail(w, r, service.Invalid(map[string]string{"body": "提交内容格式有误"}))
		return
	}
	in := service.InspectionInput{QRToken: strings.TrimSpace(req.QRToken), Photos: req.Photos, Note: req.Note, Lat: req.Lat, Lng: req.Lng}
	if !req.InspectedAt.IsZero() {
		in.InspectedAt = &req.InspectedAt
	}
	for _, it := range req.Items {
		in.Items = append(in.Items, service.InspectionItem{RuleCode: it.RuleCode, Points: it.Points, Note: it.Note})
	}
	ctx, a := r.Context(), actorOf(r)
	res, replayed, err := p.svc.RecordInspection(ctx, a, r.Header.Get("Idempotency-Key"), in)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	out := recordResponse{ID: res.ID, MerchantID: res.MerchantID, Delta: res.Delta, Score: res.Score.Score,
		RatedStar: res.Score.RatedStar, Replayed: replayed}
	if f, err := p.svc.MerchantFileOf(ctx, a, res.MerchantID); err == nil {
		out.Shop = f.Name
	} else if !errors.Is(err, service.ErrPlaqueReplaced) {
		p.log.WarnContext(ctx, "shop name of a recorded inspection", "merchant_id", res.MerchantID, "err", err)
	}
	writeJSON(w, http.StatusCreated, out)
}
