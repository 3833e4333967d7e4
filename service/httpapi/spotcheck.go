package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/service"
)

// Random audits (抽查): draws, their samples, the auditor's visits and the
// officers' agreement with the auditors.

// spotCheckRequest is a county admin's draw.
type spotCheckRequest struct {
	CountyID  int64          `json:"county_id"` // 0: the caller's county
	Cycle     string         `json:"cycle"`
	Seed      *int64         `json:"seed"`
	Size      int            `json:"size"`
	RoadSizes map[string]int `json:"road_sizes"` // road id → size, instead of size
	AuditorID int64          `json:"auditor_id"`
	Note      string         `json:"note"`
}

// spotCheckLine is an audit in a list.
type spotCheckLine struct {
	ID        int64     `json:"id"`
	CountyID  int64     `json:"county_id"`
	Cycle     string    `json:"cycle"`
	Seed      int64     `json:"seed"`
	Algorithm string    `json:"algorithm"`
	AuditorID int64     `json:"auditor_id"`
	Note      string    `json:"note"`
	CreatedAt time.Time `json:"created_at"`
	Shops     int       `json:"shops"`
	Visited   int       `json:"visited"`
}

func toSpotCheckLine(l models.SpotCheckLine) spotCheckLine {
	return spotCheckLine{ID: l.ID, CountyID: l.CountyID, Cycle: l.Cycle, Seed: l.Seed, Algorithm: l.Algorithm, AuditorID: l.AuditorID,
		Note: l.Note, CreatedAt: l.CreatedAt, Shops: l.Shops, Visited: l.Visited}
}

// spotCheckRecord is one item the auditor found.
type spotCheckRecord struct {
	RuleCode string `json:"rule_code"`
	Points   int    `json:"points"`
	Note     string `json:"note,omitempty"`
}

// spotCheckShop is a sampled shop: how to find it and the auditor's visit;
// never its score, star or inspections.
type spotCheckShop struct {
	MerchantID int64             `json:"merchant_id"`
	Code       string            `json:"code"`
	Name       string            `json:"name"`
	Address    string            `json:"address"`
	Status     string            `json:"status"`
	RoadID     int64             `json:"road_id"`
	DrawOrder  int               `json:"draw_order"`
	VisitedAt  *time.Time        `json:"visited_at"`
	Note       string            `json:"note,omitempty"`
	Records    []spotCheckRecord `json:"records"`
}

func toSpotCheckShop(sh service.SpotCheckShopView) spotCheckShop {
	out := spotCheckShop{MerchantID: sh.MerchantID, Code: sh.Code, Name: sh.Name, Address: sh.Address, Status: sh.Status,
		RoadID: sh.RoadID, DrawOrder: sh.DrawOrder, VisitedAt: sh.VisitedAt, Note: sh.SpotCheckShopLine.Note,
		Records: make([]spotCheckRecord, len(sh.Records))}
	for i, r := range sh.Records {
		out.Records[i] = spotCheckRecord{RuleCode: r.RuleCode, Points: r.Points, Note: r.Note}
	}
	return out
}

// spotCheckRoad is one road of a draw.
type spotCheckRoad struct {
	RoadID     int64           `json:"road_id"`
	Name       string          `json:"name"`
	Size       int             `json:"size"`
	Population int             `json:"population"`
	Shops      []spotCheckShop `json:"shops"`
}

// spotCheckResponse is an audit with its sample by road.
type spotCheckResponse struct {
	spotCheckLine
	Auditor string          `json:"auditor"`
	Open    bool            `json:"open"`
	Roads   []spotCheckRoad `json:"roads"`
}

func toSpotCheck(sc service.SpotCheckView) spotCheckResponse {
	out := spotCheckResponse{spotCheckLine: toSpotCheckLine(models.SpotCheckLine{SpotCheck: sc.SpotCheck, Shops: sc.Shops, Visited: sc.Visited}),
		Auditor: sc.Auditor, Open: sc.Open, Roads: make([]spotCheckRoad, len(sc.Roads))}
	for i, r := range sc.Roads {
		road := spotCheckRoad{RoadID: r.RoadID, Name: r.RoadName, Size: r.Size, Population: r.Population, Shops: make([]spotCheckShop, len(r.Shops))}
		for j, sh := range r.Shops {
			road.Shops[j] = toSpotCheckShop(sh)
		}
		out.Roads[i] = road
	}
	return out
}

// drawSpotCheck is POST /api/v1/spotchecks (county admin).
func (a *API) drawSpotCheck(c *gin.Context) {
	var req spotCheckRequest
	if !a.bind(c, &req) {
		return
	}
	in := service.SpotCheckInput{CountyID: req.CountyID, Cycle: req.Cycle, Seed: req.Seed, Size: req.Size,
		AuditorID: req.AuditorID, Note: req.Note, RoadSizes: map[int64]int{}}
	if in.CountyID == 0 {
		in.CountyID = actor(c).CountyID
	}
	for k, n := range req.RoadSizes {
		id, err := strconv.ParseInt(k, 10, 64)
		if err != nil || id <= 0 {
			a.fail(c, service.Invalid(map[string]string{"road_sizes": "键应为道路 id"}))
			return
		}
		in.RoadSizes[id] = n
	}
	sc, err := a.svc.DrawSpotCheck(c.Request.Context(), actor(c), in)
	respond(a, c, http.StatusCreated, toSpotCheck(sc), err)
}

// listSpotChecks is GET /api/v1/spotchecks?county_id=: an auditor's own
// audits, a county's for its admins, any for the city admin.
func (a *API) listSpotChecks(c *gin.Context) {
	f := map[string]string{}
	filter := service.SpotCheckFilter{CountyID: queryInt(c, "county_id", f), Paging: paging(c, f)}
	if !a.checkQuery(c, f) {
		return
	}
	ls, total, err := a.svc.SpotChecks(c.Request.Context(), actor(c), filter)
	out := make([]spotCheckLine, len(ls))
	for i, l := range ls {
		out[i] = toSpotCheckLine(l)
	}
	respond(a, c, http.StatusOK, list[spotCheckLine]{Items: out, Total: total, Limit: max(filter.Limit, 20), Offset: filter.Offset}, err)
}

// getSpotCheck is GET /api/v1/spotchecks/{id}.
func (a *API) getSpotCheck(c *gin.Context) {
	id, ok := a.idParam(c, "id")
	if !ok {
		return
	}
	sc, err := a.svc.SpotCheck(c.Request.Context(), actor(c), id)
	respond(a, c, http.StatusOK, toSpotCheck(sc), err)
}

// spotCheckVisitRequest is the auditor's visit of a sampled shop.
type spotCheckVisitRequest struct {
	Items []service.InspectionItem `json:"items"`
	Note  string                   `json:"note"`
}

// recordSpotCheck is POST /api/v1/spotchecks/{id}/shops/{merchant} (the
// audit's auditor, once per shop).
func (a *API) recordSpotCheck(c *gin.Context) {
	id, ok := a.idParam(c, "id")
	if !ok {
		return
	}
	merchant, ok := a.idParam(c, "merchant")
	var req spotCheckVisitRequest
	if !ok || !a.bind(c, &req) {
		return
	}
	sh, err := a.svc.RecordSpotCheck(c.Request.Context(), actor(c), id, merchant, service.SpotCheckVisit{Items: req.Items, Note: req.Note})
	respond(a, c, http.StatusCreated, toSpotCheckShop(sh), err)
}

// officerAgreement is one officer's agreement with the auditors.
type officerAgreement struct {
	OfficerID     int64    `json:"officer_id"`
	Officer       string   `json:"officer"`
	Shops         int      `json:"shops"`
	ItemPairs     int      `json:"item_pairs"`
	Agreed        int      `json:"agreed"`
	OfficerOnly   int      `json:"officer_only"`
	AuditorOnly   int      `json:"auditor_only"`
	Agreement     float64  `json:"agreement"`
	Kappa         *float64 `json:"kappa"`
	OfficerPoints int      `json:"officer_points"`
	AuditorPoints int      `json:"auditor_points"`
	PointsDiff    float64  `json:"points_diff"`
}

// spotCheckAgreement is GET /api/v1/counties/{id}/spotcheck-agreement?from=&to=
// (county and city admins): each officer against the auditors.
func (a *API) spotCheckAgreement(c *gin.Context) {
	id, ok := a.idParam(c, "id")
	if !ok {
		return
	}
	cur := a.svc.CurrentCycle()
	from, to := c.DefaultQuery("from", cur), c.DefaultQuery("to", cur)
	rows, err := a.svc.AuditAgreement(c.Request.Context(), actor(c), id, from, to)
	out := make([]officerAgreement, len(rows))
	for i, r := range rows {
		out[i] = officerAgreement{OfficerID: r.OfficerID, Officer: r.Officer, Shops: r.Shops, ItemPairs: r.ItemPairs, Agreed: r.Agreed,
			OfficerOnly: r.OfficerOnly, AuditorOnly: r.AuditorOnly, Agreement: r.Agreement, Kappa: r.Kappa,
			OfficerPoints: r.OfficerPoints, AuditorPoints: r.AuditorPoints, PointsDiff: r.PointsDiff}
	}
	respond(a, c, http.StatusOK, list[officerAgreement]{Items: out, Total: int64(len(out))}, err)
}
