package httpapi

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/service"
	"github.com/menqian/menqian/service/policy"
)

type countyRequest struct {
	Code           *string `json:"code"`
	Name           *string `json:"name"`
	DemoRoadTarget *int    `json:"demo_road_target"`
}

type countyResponse struct {
	ID             int64  `json:"id"`
	Code           string `json:"code"`
	Name           string `json:"name"`
	DemoRoadTarget int    `json:"demo_road_target"`
}

func toCounty(c models.County) countyResponse {
	return countyResponse{ID: c.ID, Code: c.Code, Name: c.Name, DemoRoadTarget: c.DemoRoadTarget}
}

func (r countyRequest) input() service.CountyInput {
	return service.CountyInput{Code: r.Code, Name: r.Name, DemoRoadTarget: r.DemoRoadTarget}
}

func (a *API) createCounty(c *gin.Context) {
	var req countyRequest
	if !a.bind(c, &req) {
		return
	}
	county, err := a.svc.CreateCounty(c.Request.Context(), actor(c), req.input())
	respond(a, c, http.StatusCreated, toCounty(county), err)
}

func (a *API) updateCounty(c *gin.Context) {
	id, ok := a.idParam(c, "id")
	var req countyRequest
	if !ok || !a.bind(c, &req) {
		return
	}
	county, err := a.svc.UpdateCounty(c.Request.Context(), actor(c), id, req.input())
	respond(a, c, http.StatusOK, toCounty(county), err)
}

func (a *API) getCounty(c *gin.Context) {
	id, ok := a.idParam(c, "id")
	if !ok {
		return
	}
	county, err := a.svc.County(c.Request.Context(), actor(c), id)
	respond(a, c, http.StatusOK, toCounty(county), err)
}

func (a *API) listCounties(c *gin.Context) {
	cs, err := a.svc.Counties(c.Request.Context(), actor(c))
	out := make([]countyResponse, len(cs))
	for i, x := range cs {
		out[i] = toCounty(x)
	}
	respond(a, c, http.StatusOK, list[countyResponse]{Items: out, Total: int64(len(out))}, err)
}

// respond writes v with status, or the error.
func respond[T any](a *API, c *gin.Context, status int, v T, err error) {
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(status, v)
}

type roadRequest struct {
	CountyID   *int64   `json:"county_id"`
	Name       *string  `json:"name"`
	Town       *string  `json:"town"`
	LengthM    *int     `json:"length_m"`
	OfficerIDs *[]int64 `json:"officer_ids"`
}

func (r roadRequest) input() service.RoadInput {
	return service.RoadInput{CountyID: r.CountyID, Name: r.Name, Town: r.Town, LengthM: r.LengthM, OfficerIDs: r.OfficerIDs}
}

type roadResponse struct {
	ID            int64      `json:"id"`
	CountyID      int64      `json:"county_id"`
	Name          string     `json:"name"`
	Town          string     `json:"town"`
	LengthM       *int       `json:"length_m"`
	Demonstration string     `json:"demonstration"`
	DemoChangedAt *time.Time `json:"demonstration_changed_at,omitempty"`
	OfficerIDs    []int64    `json:"officer_ids"`
}

func toRoad(r service.RoadView) roadResponse {
	off := r.OfficerIDs
	if off == nil {
		off = []int64{}
	}
	return roadResponse{ID: r.ID, CountyID: r.CountyID, Name: r.Name, Town: r.Town, LengthM: r.LengthM,
		Demonstration: r.DemoStatus, DemoChangedAt: r.DemoChangedAt, OfficerIDs: off}
}

func (a *API) createRoad(c *gin.Context) {
	var req roadRequest
	if !a.bind(c, &req) {
		return
	}
	r, err := a.svc.CreateRoad(c.Request.Context(), actor(c), req.input())
	respond(a, c, http.StatusCreated, toRoad(r), err)
}

func (a *API) updateRoad(c *gin.Context) {
	id, ok := a.idParam(c, "id")
	var req roadRequest
	if !ok || !a.bind(c, &req) {
		return
	}
	r, err := a.svc.UpdateRoad(c.Request.Context(), actor(c), id, req.input())
	respond(a, c, http.StatusOK, toRoad(r), err)
}

func (a *API) getRoad(c *gin.Context) {
	id, ok := a.idParam(c, "id")
	if !ok {
		return
	}
	r, err := a.svc.Road(c.Request.Context(), actor(c), id)
	respond(a, c, http.StatusOK, toRoad(r), err)
}

func (a *API) listRoads(c *gin.Context) {
	f := map[string]string{}
	county := queryInt(c, "county_id", f)
	p := paging(c, f)
	if !a.checkQuery(c, f) {
		return
	}
	roads, total, err := a.svc.Roads(c.Request.Context(), actor(c), county, p)
	out := make([]roadResponse, len(roads))
	for i, r := range roads {
		out[i] = toRoad(r)
	}
	respond(a, c, http.StatusOK, list[roadResponse]{Items: out, Total: total, Limit: p.Limit, Offset: p.Offset}, err)
}

type merchantRequest struct {
	RoadID    *int64   `json:"road_id"`
	Name      *string  `json:"name"`
	USCC      *string  `json:"uscc"`
	Category  *string  `json:"category"`
	OwnerName *string  `json:"owner_name"`
	Phone     *string  `json:"phone"`
	Address   *string  `json:"address"`
	Lat       *float64 `json:"lat"`
	Lng       *float64 `json:"lng"`
	Status    *string  `json:"status"`
}

func (r merchantRequest) input() service.MerchantInput {
	return service.MerchantInput{RoadID: r.RoadID, Name: r.Name, USCC: r.USCC, Category: r.Category, OwnerName: r.OwnerName,
		Phone: r.Phone, Address: r.Address, Lat: r.Lat, Lng: r.Lng, Status: r.Status}
}

type scoreResponse struct {
	Cycle      string `json:"cycle"`
	Score      int    `json:"score"`
	Star       int    `json:"star"`
	RatedStar  int    `json:"rated_star"`
	Deductions int    `json:"deductions"`
	Bonuses    int    `json:"bonuses"`
	Capped     bool   `json:"capped"`
	UnderWatch bool   `json:"under_watch"`
}

func toScore(r policy.Result) scoreResponse {
	return scoreResponse(r)
}

type merchantResponse struct {
	ID        int64         `json:"id"`
	Code      string        `json:"code"`
	CountyID  int64         `json:"county_id"`
	RoadID    int64         `json:"road_id"`
	Name      string        `json:"name"`
	USCC      *string       `json:"uscc"`
	Category  string        `json:"category"`
	OwnerName string        `json:"owner_name"`
	Phone     string        `json:"phone"`
	Address   string        `json:"address"`
	Lat       *float64      `json:"lat"`
	Lng       *float64      `json:"lng"`
	Status    string        `json:"status"`
	CreatedAt time.Time     `json:"created_at"`
	Score     scoreResponse `json:"score"`
}

func toMerchant(m models.Merchant, r policy.Result) merchantResponse {
	return merchantResponse{ID: m.ID, Code: m.Code, CountyID: m.CountyID, RoadID: m.RoadID, Name: m.Name, USCC: m.USCC,
		Category: m.Category, OwnerName: m.OwnerName, Phone: m.Phone, Address: m.Address, Lat: m.Lat, Lng: m.Lng,
		Status: m.Status, CreatedAt: m.CreatedAt, Score: toScore(r)}
}

// merchantOut adds the live score to a merchant.
func (a *API) merchantOut(c *gin.Context, status int, m models.Merchant, err error) {
	if err != nil {
		a.fail(c, err)
		return
	}
	scores, err := a.svc.CurrentScores(c.Request.Context(), []models.Merchant{m})
	respond(a, c, status, toMerchant(m, scores[m.ID]), err)
}

func (a *API) createMerchant(c *gin.Context) {
	var req merchantRequest
	if !a.bind(c, &req) {
		return
	}
	m, err := a.svc.CreateMerchant(c.Request.Context(), actor(c), req.input())
	a.merchantOut(c, http.StatusCreated, m, err)
}

func (a *API) updateMerchant(c *gin.Context) {
	id, ok := a.idParam(c, "id")
	var req merchantRequest
	if !ok || !a.bind(c, &req) {
		return
	}
	m, err := a.svc.UpdateMerchant(c.Request.Context(), actor(c), id, req.input())
	a.merchantOut(c, http.StatusOK, m, err)
}

func (a *API) getMerchant(c *gin.Context) {
	id, ok := a.idParam(c, "id")
	if !ok {
		return
	}
	m, err := a.svc.Merchant(c.Request.Context(), actor(c), id)
	a.merchantOut(c, http.StatusOK, m, err)
}

func (a *API) listMerchants(c *gin.Context) {
	f := map[string]string{}
	filter := service.MerchantFilter{CountyID: queryInt(c, "county_id", f), RoadID: queryInt(c, "road_id", f),
		Status: c.Query("status"), Query: c.Query("q"), Paging: paging(c, f)}
	if !a.checkQuery(c, f) {
		return
	}
	ms, total, err := a.svc.Merchants(c.Request.Context(), actor(c), filter)
	if err != nil {
		a.fail(c, err)
		return
	}
	scores, err := a.svc.CurrentScores(c.Request.Context(), ms)
	out := make([]merchantResponse, len(ms))
	for i, m := range ms {
		out[i] = toMerchant(m, scores[m.ID])
	}
	limit := filter.Limit
	if limit == 0 {
		limit = 20
	}
	respond(a, c, http.StatusOK, list[merchantResponse]{Items: out, Total: total, Limit: limit, Offset: filter.Offset}, err)
}
