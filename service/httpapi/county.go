package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/service"
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
