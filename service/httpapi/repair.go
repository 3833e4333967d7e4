package httpapi

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/service"
)

// Credit repair (信用修复): the merchant applies, the county office decides.

type repairResponse struct {
	ID           int64      `json:"id"`
	MerchantID   int64      `json:"merchant_id"`
	CountyID     int64      `json:"county_id"`
	ThroughCycle string     `json:"through_cycle"` // the serious items of this cycle and earlier
	Reason       string     `json:"reason"`
	Photos       []int64    `json:"photos"`
	PledgeName   string     `json:"pledge_name"` // who signed the credit commitment (信用承诺)
	Status       string     `json:"status"`
	AppliedAt    time.Time  `json:"applied_at"`
	DueAt        time.Time  `json:"due_at"` // the decision deadline (working days, Monday to Friday)
	Overdue      bool       `json:"overdue"`
	DecidedAt    *time.Time `json:"decided_at,omitempty"`
	DecisionNote string     `json:"decision_note,omitempty"`
}

func (a *API) toRepair(app models.RepairApplication) repairResponse {
	return repairResponse{ID: app.ID, MerchantID: app.MerchantID, CountyID: app.CountyID, ThroughCycle: app.ThroughCycle,
		Reason: app.Reason, Photos: service.ParseIDs(app.PhotoIDs), PledgeName: app.PledgeName, Status: app.Status,
		AppliedAt: app.AppliedAt, DueAt: app.DueAt, Overdue: app.Status == models.RepairPending && a.svc.Now().After(app.DueAt),
		DecidedAt: app.DecidedAt, DecisionNote: app.DecisionNote}
}

type repairItemResponse struct {
	EntryID   int64  `json:"entry_id"`
	Cycle     string `json:"cycle"`
	RuleCode  string `json:"rule_code"`
	RuleName  string `json:"rule_name"`
	Points    int    `json:"points"`
	Rectified bool   `json:"rectified"`
}

type repairStatusResponse struct {
	Capped       bool                 `json:"capped"`
	CapStar      int                  `json:"cap_star"`
	Items        []repairItemResponse `json:"items"`
	ThroughCycle string               `json:"through_cycle,omitempty"`
	OpensAt      *time.Time           `json:"opens_at,omitempty"`
	Rectified    bool                 `json:"rectified"`
	Eligible     bool                 `json:"eligible"`
	Why          string               `json:"why,omitempty"`
	DecisionDays int                  `json:"decision_days"` // working days, Monday to Friday
	Free         bool                 `json:"free"`          // repair costs nothing, always
	Open         *repairResponse      `json:"open,omitempty"`
}

func (a *API) repairStatus(c *gin.Context) {
	id, ok := a.idParam(c, "id")
	if !ok {
		return
	}
	st, err := a.svc.RepairStatusOf(c.Request.Context(), actor(c), id)
	out := repairStatusResponse{Capped: st.Capped, CapStar: st.CapStar, Items: []repairItemResponse{}, Rectified: st.Rectified,
		Eligible: st.Eligible, Why: st.Why, DecisionDays: st.DecisionDays, Free: true}
	for _, it := range st.Items {
		out.Items = append(out.Items, repairItemResponse{EntryID: it.Entry.ID, Cycle: it.Entry.Cycle, RuleCode: it.Entry.RuleCode,
			RuleName: it.RuleName, Points: it.Entry.Points, Rectified: it.Rectified})
	}
	if len(st.Items) > 0 {
		out.ThroughCycle, out.OpensAt = st.Through.String(), &st.OpensAt
	}
	if st.Open != nil {
		r := a.toRepair(*st.Open)
		out.Open = &r
	}
	respond(a, c, http.StatusOK, out, err)
}

type repairRequest struct {
	Reason     string  `json:"reason"`
	Photos     []int64 `json:"photos"` // the merchant's own uploads (POST /api/v1/photos), at least one
	Pledge     bool    `json:"pledge"` // the credit commitment (信用承诺) is accepted
	PledgeName string  `json:"pledge_name"`
}

func (a *API) applyRepair(c *gin.Context) {
	id, ok := a.idParam(c, "id")
	var req repairRequest
	if !ok || !a.bind(c, &req) {
		return
	}
	app, err := a.svc.ApplyRepair(c.Request.Context(), actor(c), id, service.RepairInput{Reason: req.Reason, Photos: req.Photos,
		Pledge: req.Pledge, PledgeName: req.PledgeName})
	respond(a, c, http.StatusCreated, a.toRepair(app), err)
}

func (a *API) listRepairs(c *gin.Context) {
	f := map[string]string{}
	filter := service.RepairFilter{CountyID: queryInt(c, "county_id", f), Status: c.Query("status"), Paging: paging(c, f)}
	if !a.checkQuery(c, f) {
		return
	}
	apps, total, err := a.svc.RepairApplications(c.Request.Context(), actor(c), filter)
	out := make([]repairResponse, len(apps))
	for i, app := range apps {
		out[i] = a.toRepair(app)
	}
	respond(a, c, http.StatusOK, list[repairResponse]{Items: out, Total: total, Limit: max(filter.Limit, 20), Offset: filter.Offset}, err)
}

type repairDecisionRequest struct {
	Grant *bool  `json:"grant"`
	Note  string `json:"note"`
}

func (a *API) decideRepair(c *gin.Context) {
	id, ok := a.idParam(c, "id")
	var req repairDecisionRequest
	if !ok || !a.bind(c, &req) {
		return
	}
	if req.Grant == nil {
		a.fail(c, service.Invalid(map[string]string{"grant": "必填（true 或 false）"}))
		return
	}
	app, err := a.svc.DecideRepair(c.Request.Context(), actor(c), id, *req.Grant, req.Note)
	respond(a, c, http.StatusOK, a.toRepair(app), err)
}
