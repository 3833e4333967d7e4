package httpapi

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/service"
	"github.com/menqian/menqian/service/policy"
)

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
