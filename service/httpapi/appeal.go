package httpapi

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/service"
)

type appealResponse struct {
	ID           int64      `json:"id"`
	MerchantID   int64      `json:"merchant_id"`
	EntryID      int64      `json:"entry_id"`
	Cycle        string     `json:"cycle"`
	Reason       string     `json:"reason"`
	Status       string     `json:"status"`
	FiledAt      time.Time  `json:"filed_at"`
	DecidedAt    *time.Time `json:"decided_at,omitempty"`
	DecisionNote string     `json:"decision_note,omitempty"`
	Photos       []int64    `json:"photos"`
}

func toAppeal(ap models.Appeal) appealResponse {
	return appealResponse{ID: ap.ID, MerchantID: ap.MerchantID, EntryID: ap.EntryID, Cycle: ap.Cycle, Reason: ap.Reason,
		Status: ap.Status, FiledAt: ap.FiledAt, DecidedAt: ap.DecidedAt, DecisionNote: ap.DecisionNote, Photos: service.ParseIDs(ap.PhotoIDs)}
}

type appealRequest struct {
	Reason string  `json:"reason"`
	Photos []int64 `json:"photos"` // the merchant's own uploads (POST /api/v1/photos)
}

func (a *API) fileAppeal(c *gin.Context) {
	id, ok := a.idParam(c, "id")
	if !ok {
		return
	}
	entry, ok := a.idParam(c, "entry")
	var req appealRequest
	if !ok || !a.bind(c, &req) {
		return
	}
	ap, err := a.svc.FileAppeal(c.Request.Context(), actor(c), id, entry, req.Reason, req.Photos...)
	respond(a, c, http.StatusCreated, toAppeal(ap), err)
}

func (a *API) listAppeals(c *gin.Context) {
	f := map[string]string{}
	filter := service.AppealFilter{CountyID: queryInt(c, "county_id", f), Status: c.Query("status"), Paging: paging(c, f)}
	if !a.checkQuery(c, f) {
		return
	}
	aps, total, err := a.svc.Appeals(c.Request.Context(), actor(c), filter)
	out := make([]appealResponse, len(aps))
	for i, ap := range aps {
		out[i] = toAppeal(ap)
	}
	respond(a, c, http.StatusOK, list[appealResponse]{Items: out, Total: total, Limit: max(filter.Limit, 20), Offset: filter.Offset}, err)
}

type decisionRequest struct {
	Accept *bool  `json:"accept"`
	Note   string `json:"note"`
}

func (a *API) decideAppeal(c *gin.Context) {
	id, ok := a.idParam(c, "id")
	var req decisionRequest
	if !ok || !a.bind(c, &req) {
		return
	}
	if req.Accept == nil {
		a.fail(c, service.Invalid(map[string]string{"accept": "必填（true 或 false）"}))
		return
	}
	ap, err := a.svc.DecideAppeal(c.Request.Context(), actor(c), id, *req.Accept, req.Note)
	respond(a, c, http.StatusOK, toAppeal(ap), err)
}
