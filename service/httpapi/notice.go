package httpapi

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/menqian/menqian/service"
)

type noticeResponse struct {
	ID             int64      `json:"id"`
	MerchantID     int64      `json:"merchant_id"`
	RuleCode       string     `json:"rule_code,omitempty"`
	Note           string     `json:"note"`
	Photos         []int64    `json:"photos"`
	Status         string     `json:"status"`
	Overdue        bool       `json:"overdue"`
	IssuedBy       int64      `json:"issued_by"`
	IssuedAt       time.Time  `json:"issued_at"`
	DueAt          time.Time  `json:"due_at"`
	ResolvedAt     *time.Time `json:"resolved_at,omitempty"`
	ResolutionNote string     `json:"resolution_note,omitempty"`
}

func toNotice(n service.NoticeView) noticeResponse {
	return noticeResponse{ID: n.ID, MerchantID: n.MerchantID, RuleCode: n.RuleCode, Note: n.Note, Photos: n.Photos,
		Status: n.Status, Overdue: n.Overdue, IssuedBy: n.IssuedBy, IssuedAt: n.IssuedAt, DueAt: n.DueAt,
		ResolvedAt: n.ResolvedAt, ResolutionNote: n.ResolutionNote}
}

func (a *API) issueNotice(c *gin.Context) {
	id, ok := a.idParam(c, "id")
	var req service.NoticeInput
	if !ok || !a.bind(c, &req) {
		return
	}
	n, err := a.svc.IssueNotice(c.Request.Context(), actor(c), id, req)
	respond(a, c, http.StatusCreated, toNotice(n), err)
}

func (a *API) listNotices(c *gin.Context) {
	id, ok := a.idParam(c, "id")
	f := map[string]string{}
	p := paging(c, f)
	if !ok || !a.checkQuery(c, f) {
		return
	}
	ns, total, err := a.svc.Notices(c.Request.Context(), actor(c), id, p)
	out := make([]noticeResponse, len(ns))
	for i, n := range ns {
		out[i] = toNotice(n)
	}
	respond(a, c, http.StatusOK, list[noticeResponse]{Items: out, Total: total, Limit: max(p.Limit, 20), Offset: p.Offset}, err)
}

type rectifyRequest struct {
	Note string `json:"note"`
}

func (a *API) rectifyNotice(c *gin.Context) {
	id, ok := a.idParam(c, "id")
	var req rectifyRequest
	if !ok || !a.bind(c, &req) {
		return
	}
	n, err := a.svc.RectifyNotice(c.Request.Context(), actor(c), id, req.Note)
	respond(a, c, http.StatusOK, toNotice(n), err)
}

// noticeLineResponse is a notice of the worklist, with its shop.
type noticeLineResponse struct {
	noticeResponse
	MerchantCode string `json:"merchant_code"`
	MerchantName string `json:"merchant_name"`
	RoadID       int64  `json:"road_id"`
	RoadName     string `json:"road_name"`
}

// noticeWorklist is GET /api/v1/notices?county_id=&road_id=&status=open|overdue|rectified|all:
// the re-inspection worklist (复查), open notices by deadline.
func (a *API) noticeWorklist(c *gin.Context) {
	f := map[string]string{}
	filter := service.NoticeFilter{CountyID: queryInt(c, "county_id", f), RoadID: queryInt(c, "road_id", f), Status: c.Query("status"),
		Paging: paging(c, f)}
	if !a.checkQuery(c, f) {
		return
	}
	ns, total, err := a.svc.NoticeList(c.Request.Context(), actor(c), filter)
	out := make([]noticeLineResponse, len(ns))
	for i, n := range ns {
		out[i] = noticeLineResponse{noticeResponse: toNotice(n.NoticeView), MerchantCode: n.MerchantCode, MerchantName: n.MerchantName,
			RoadID: n.RoadID, RoadName: n.RoadName}
	}
	respond(a, c, http.StatusOK, list[noticeLineResponse]{Items: out, Total: total, Limit: max(filter.Limit, 20), Offset: filter.Offset}, err)
}
